#!/usr/bin/python3
"""Accuracy of glnn's Fashion-MNIST model on the 10,000 test pictures, computed by the C library (through
the glnn Python package) on any device, with the time per picture.

    /usr/bin/python3 examples/fashion_mnist/evaluate.py [--device D] [--model FILE] [--show N] [--limit N]
                                                        [--torch]

--device: 'auto' (a hardware GPU, else 'cpu'), 'cpu' (the fast CPU back end), 'reference' (the plain-C
reference), 'gpu' (a hardware GPU, else Mesa's software renderer), 'software' or an EGL device index; default:
GLNN_DEVICE, else auto.  --show N prints the first N pictures' classes beside their true labels.  --torch also evaluates the file with glnn.torch (PyTorch, evaluation mode) and
compares the two.  Needs the glnn package (PYTHONPATH=build/python after `make build`), numpy and
Debian's dataset-fashion-mnist; --torch needs python3-torch.
"""
import argparse
import os
import pathlib
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402

import fmnist  # noqa: E402
import glnn  # noqa: E402

DEFAULT_MODEL = HERE.parent.parent / "models" / "fashion_mnist.chunks"


def classify(model_path, images, device):
    """Probabilities (N, classes) from the C library, and the median seconds spent on one picture
    (binding it, running the model, reading the probabilities)."""
    data = glnn.ChunkFile(str(model_path))
    model = glnn.nnets.DeserializedModel(data)
    first = model.get_first_operation().name
    task = glnn.InferenceTask(model, data, device=device)
    task.connect(images[0], first)
    task.run()  # preparation (and, on a GPU, program compilation) is not counted
    probs, times = [], []
    for img in images:
        start = time.perf_counter()
        task.connect(img, first)
        task.run()
        probs.append(task.get_probabilities())
        times.append(time.perf_counter() - start)
    return np.array(probs), float(np.median(times)), task.device


def classify_torch(model_path, images, batch=500):
    import torch

    import glnn.torch as gt
    model = gt.load(model_path).eval()
    out = []
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(images), batch):
            x = torch.from_numpy(np.array(images[i:i + batch])).unsqueeze(1).float() / 255
            out.append(model(x).numpy())
    return np.concatenate(out), (time.perf_counter() - start) / len(images)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default=os.environ.get("GLNN_DEVICE") or "auto")
    ap.add_argument("--model", default=str(DEFAULT_MODEL))
    ap.add_argument("--show", type=int, default=0, metavar="N")
    ap.add_argument("--limit", type=int, default=0, metavar="N", help="the first N test pictures only")
    ap.add_argument("--torch", action="store_true", help="also evaluate with glnn.torch and compare")
    args = ap.parse_args()
    if args.device == "reference":
        args.device = fmnist.reference_device()
    images, labels = fmnist.load("test")
    if args.limit:
        images, labels = images[:args.limit], labels[:args.limit]
    with glnn.ChunkFile(args.model) as data:
        names = data["labels"].decode().split("\n")[:-1] if data.chunk_exists("labels") else fmnist.LABELS
    probs, per_picture, device = classify(args.model, images, args.device)
    pred = probs.argmax(1)
    for i in range(min(args.show, len(images))):
        mark = "  " if pred[i] == labels[i] else "✗ "
        print("%spicture %4d: %-12s (%5.1f %%)   true: %s" % (mark, i, names[pred[i]], 100 * probs[i, pred[i]],
                                                         names[labels[i]]))
    acc = float((pred == labels).mean())
    print("%s: accuracy %.2f %% on %d test pictures (%d wrong), %.3f ms per picture (median)" % (
        device, 100 * acc, len(labels), int((pred != labels).sum()), 1000 * per_picture))
    if args.torch:
        tprobs, tper = classify_torch(args.model, images)
        tpred = tprobs.argmax(1)
        tacc = float((tpred == labels).mean())
        print("glnn.torch (PyTorch, evaluation mode): accuracy %.2f %%, %.3f ms per picture (batches of 500); "
              "%d of %d predictions "
              "differ from the C library's, largest probability difference %.2g" % (
                  100 * tacc, 1000 * tper, int((tpred != pred).sum()), len(labels), np.abs(tprobs - probs).max()))


if __name__ == "__main__":
    main()
