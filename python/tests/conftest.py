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
        pytest.skip("../shared (models, images) not found")
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
    """The GPU device name ('auto'), or skip when no GLES 3.1 device can be opened."""
    if "ok" not in _gpu_state:
        try:
            glnn.device_info("auto")
            _gpu_state["ok"] = True
        except glnn.Error as e:
            _gpu_state["ok"] = False
            _gpu_state["why"] = str(e)
    if not _gpu_state["ok"]:
        pytest.skip("no GPU device: " + _gpu_state["why"])
    return "auto"
