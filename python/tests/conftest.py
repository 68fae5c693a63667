"""Shared fixtures of the glnn Python tests.

The tests run from the repository root (ctest sets WORKING_DIRECTORY), so the shared models and images
are found at ../shared; PYTHONPATH points at the build directory holding the module.  Model-level tests
run on the CPU reference (fast); a few small cases run on the GPU when one (or Mesa's llvmpipe) is
available, and are skipped otherwise.
"""
import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

try:
    import glnn  # noqa: F401
except ImportError:  # run by hand without PYTHONPATH: look for a build tree of this checkout
    for build in ("build-py", "build"):
        candidate = ROOT / build / "python"
        if list(candidate.glob("glnn/_glnn*.so")):
            sys.path.insert(0, str(candidate))
            break
    import glnn  # noqa: F401

os.environ.setdefault("MESA_GLES_VERSION_OVERRIDE", "3.1")


def _shared_dir():
    for candidate in (pathlib.Path("../shared"), ROOT.parent / "shared"):
        if (candidate / "models").is_dir():
            return candidate
    return None


SHARED = _shared_dir()


@pytest.fixture(scope="session")
def shared():
    if SHARED is None:
        pytest.skip("skipped: needs ../shared (Beatmup's dog classifier and test pictures), which is not there")
    return SHARED


@pytest.fixture(scope="session")
def dog_model(shared):
    path = shared / "models" / "dog_classifier.chunks"
    if not path.is_file():
        pytest.skip("dog_classifier.chunks not found")
    return path


_gpu_state = {}


@pytest.fixture
def gpu():
    """The GPU device name ('gpu': the first hardware GPU, else Mesa's software renderer), or skip when no GLES 3.1
    device can be opened."""
    if "ok" not in _gpu_state:
        try:
            glnn.device_info("gpu")
            _gpu_state["ok"] = True
        except glnn.Error as e:
            _gpu_state["ok"] = False
            _gpu_state["why"] = str(e)
    if not _gpu_state["ok"]:
        pytest.skip("no GPU device: " + _gpu_state["why"])
    return "gpu"


# ---- glnn.torch and the Fashion-MNIST model (tests/test_torch*.py) ----

def _reference_device():
    """glnn's CPU reference device, named in one place: 'reference' where the library knows that name
    (after the back-end restructuring, where 'cpu' is the fast SIMD back end), else 'cpu'."""
    try:
        glnn.device_info("reference")
        return "reference"
    except glnn.Error:
        return "cpu"


REFERENCE_DEVICE = _reference_device()


@pytest.fixture(scope="session")
def reference_device():
    return REFERENCE_DEVICE


@pytest.fixture
def gpu_exact(gpu):
    """(device, exact): the GPU device and whether it is Mesa's llvmpipe, where glnn's kernels match the
    CPU reference bit for bit (elsewhere the budget of SPEC §2.5 applies)."""
    return gpu, "llvmpipe" in glnn.device_info(gpu).lower()


FASHION_MNIST_DIR = pathlib.Path(os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))


@pytest.fixture(scope="session")
def fashion_mnist_test():
    """(images uint8 (10000, 28, 28), labels) of the Fashion-MNIST test set, or skip when Debian's
    dataset-fashion-mnist is not installed."""
    sys.path.insert(0, str(ROOT / "examples" / "fashion_mnist"))
    try:
        import fmnist
    finally:
        sys.path.pop(0)
    try:
        return fmnist.load("test", FASHION_MNIST_DIR)
    except fmnist.DatasetMissing as e:
        pytest.skip("skipped: the Fashion-MNIST dataset is not installed (%s)" % e)
