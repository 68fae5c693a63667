"""The project's own model, models/fashion_mnist.chunks (trained by examples/fashion_mnist/train.py), run by
the C library on the 10,000 Fashion-MNIST test pictures: at least 90 % correct on the CPU reference and
on the GPU (llvmpipe here), the GPU agreeing with the reference.  These tests need no PyTorch, only
Debian's dataset-fashion-mnist (skipped, saying so, without it); the last one compares glnn.torch's
evaluation with the C library and is skipped without PyTorch."""
import pathlib

import numpy as np
import pytest

import glnn

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "fashion_mnist.chunks"
LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def classify(images, device):
    """Probabilities (N, 10) computed by the C library on `device`, one picture at a time as `glnn run`
    does (the picture bound to the first op)."""
    data = glnn.ChunkFile(str(MODEL))
    model = glnn.nnets.DeserializedModel(data)
    first = model.get_first_operation().name
    task = glnn.InferenceTask(model, data, device=device)
    out = np.empty((len(images), 10), np.float32)
    for i, img in enumerate(images):
        task.connect(img, first)
        task.run()
        out[i] = task.get_probabilities()
    return out


@pytest.fixture(scope="module")
def reference_probabilities(fashion_mnist_test, reference_device):
    images, _ = fashion_mnist_test
    return classify(images, reference_device)


def test_the_committed_model_file():
    assert MODEL.is_file(), "models/fashion_mnist.chunks is missing: run examples/fashion_mnist/train.py"
    assert MODEL.stat().st_size < 1 << 20
    with glnn.ChunkFile(str(MODEL)) as data:
        assert data["labels"].decode() == "".join(s + "\n" for s in LABELS)
        model = glnn.nnets.DeserializedModel(data)
        assert isinstance(model.get_first_operation(), glnn.nnets.ImageSampler)
        assert isinstance(model.get_last_operation(), glnn.nnets.Softmax)


def test_accuracy_on_the_reference(fashion_mnist_test, reference_probabilities):
    _, labels = fashion_mnist_test
    assert len(labels) == 10000
    accuracy = float((reference_probabilities.argmax(1) == labels).mean())
    assert accuracy >= 0.90, "accuracy %.2f %% on the CPU reference" % (100 * accuracy)
    assert np.allclose(reference_probabilities.sum(1), 1, atol=1e-5)


def test_accuracy_on_the_gpu(fashion_mnist_test, reference_probabilities, gpu_exact):
    device, exact = gpu_exact
    images, labels = fashion_mnist_test
    probs = classify(images, device)
    accuracy = float((probs.argmax(1) == labels).mean())
    assert accuracy >= 0.90, "accuracy %.2f %% on the GPU" % (100 * accuracy)
    differ = int((probs.argmax(1) != reference_probabilities.argmax(1)).sum())
    if exact:  # llvmpipe computes the reference's bytes: the same probabilities
        assert np.abs(probs - reference_probabilities).max() <= 1e-5 and differ == 0
    else:      # SPEC §2.5's 1 LSB per op may flip a few close calls
        assert differ <= 10, "%d of 10000 predictions differ from the reference" % differ


def test_glnn_torch_evaluation_equals_the_c_library(fashion_mnist_test, reference_probabilities):
    torch = pytest.importorskip("torch", reason="skipped: PyTorch is not installed (Debian package python3-torch)")
    import glnn.torch as gt
    images, _ = fashion_mnist_test
    model = gt.load(MODEL)
    n = 1000
    with torch.no_grad():
        probs = model(torch.from_numpy(np.array(images[:n])).unsqueeze(1).float() / 255).numpy()
    assert np.abs(probs - reference_probabilities[:n]).max() <= 1e-5
    assert np.array_equal(probs.argmax(1), reference_probabilities[:n].argmax(1))
