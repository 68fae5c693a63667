#!/usr/bin/python3
"""Trains glnn's own Fashion-MNIST classifier with glnn.torch and exports models/fashion_mnist.chunks.

Every layer computes glnn's arithmetic: in training every activation lies on glnn's 8-bit grid (a
straight-through gradient), and the evaluation at the end is bit for bit what the C library computes
from the exported file.  CPU only, one thread by default (--threads): about 7 minutes on the 2-core
development machine while others used it (docs/PYTORCH.md, README.md).

    /usr/bin/python3 examples/fashion_mnist/train.py [--epochs N] [--output models/fashion_mnist.chunks]

Needs the glnn package (PYTHONPATH=build/python after `make build`), Debian's python3-torch and
dataset-fashion-mnist.
"""
import argparse
import pathlib
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

import fmnist  # noqa: E402
import glnn.torch as gt  # noqa: E402


def build_model():
    """28×28 grey picture → 10 probabilities: 1.6 M multiply-adds, 81 k parameters."""
    return nn.Sequential(
        gt.ImageSampler((28, 28), name="input"),                           # any picture → 28×28×3
        gt.Conv2D(3, 3, 16, name="conv1"),                                 # image input: 26×26×16
        gt.Pooling2D("max", 2, name="pool1"),                              # 13×13×16
        gt.Conv2D(3, 16, 32, padding="same", name="conv2"),                # 13×13×32
        gt.Pooling2D("max", 2, padding="same", name="pool2"),              # 7×7×32
        gt.Conv2D(3, 32, 64, padding="same", num_groups=2, name="conv3"),  # 7×7×64, two groups
        gt.Pooling2D("max", 2, padding="same", name="pool3"),              # 4×4×64
        gt.Conv2D(4, 64, 64, name="conv4"),                                # 1×1×64: a dense layer on the map
        gt.Dense(10, name="dense"),                                        # 10 logits
        gt.Softmax(name="softmax"),
    )


def batches(images, labels, size, rng=None):
    order = rng.permutation(len(images)) if rng is not None else np.arange(len(images))
    for i in range(0, len(images), size):
        j = order[i:i + size]
        yield torch.from_numpy(images[j]).unsqueeze(1).float() / 255, torch.from_numpy(labels[j].astype(np.int64))


def evaluate(model, images, labels, batch=500):
    """Accuracy of model.eval() (glnn's exact arithmetic) and the predicted classes."""
    model.eval()
    preds = []
    with torch.no_grad():
        for x, _ in batches(images, labels, batch):
            preds.append(model(x).argmax(1))
    preds = torch.cat(preds).numpy()
    return float((preds == labels).mean()), preds


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--output", default=str(HERE.parent.parent / "models" / "fashion_mnist.chunks"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train_x, train_y = fmnist.load("train")
    test_x, test_y = fmnist.load("test")

    model = build_model()
    head = model[:-1]  # logits: the loss is cross-entropy on the Dense output
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps = args.epochs * ((len(train_x) + args.batch - 1) // args.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps, pct_start=0.15)
    start = time.time()
    for epoch in range(args.epochs):
        model.train()
        total, correct, loss_sum = 0, 0, 0.0
        for x, y in batches(train_x, train_y, args.batch, rng):
            flip = torch.rand(x.shape[0]) < 0.5  # mirror half the pictures: clothes are left-right symmetric
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
            logits = head(x)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += len(y)
            correct += int((logits.argmax(1) == y).sum())
            loss_sum += float(loss) * len(y)
        print("epoch %2d: loss %.4f, training accuracy %.2f %% (%.0f s)" % (
            epoch + 1, loss_sum / total, 100 * correct / total, time.time() - start), flush=True)
    train_time = time.time() - start
    acc, _ = evaluate(model, test_x, test_y)
    print("PyTorch evaluation (glnn's exact arithmetic): %.2f %% on the %d test pictures" % (100 * acc, len(test_y)))
    out = pathlib.Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    example = torch.from_numpy(test_x[:1].copy()).unsqueeze(1).float() / 255
    gt.export(model, out, example, labels=fmnist.LABELS)
    print("wrote %s (%d bytes); training took %.0f s" % (out, out.stat().st_size, train_time))
    print("check with: /usr/bin/python3 examples/fashion_mnist/evaluate.py --model %s --device cpu" % out)


if __name__ == "__main__":
    main()
