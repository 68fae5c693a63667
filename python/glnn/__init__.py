"""glnn: 8-bit convolutional networks on GPUs through OpenGL ES, on a fast CPU back end and on a CPU reference.

The operations live in glnn.nnets (Conv2D, Pooling2D, Dense, Softmax, ImageSampler, Model,
DeserializedModel).  Model data come in ChunkFile / WritableChunkCollection objects; an InferenceTask
binds inputs and runs a model on a device.  glnn.conv2d runs one convolution.

Values: a byte q stands for q/255; images and tensors are numpy arrays (H, W, C).  Errors raise
glnn.Error (a RuntimeError); bad arguments raise glnn.ArgumentError, which is both a glnn.Error and a
ValueError.  The exception's `status` attribute names the library status.

Threads: the GIL is released while a device works, and calls into the library are serialized by one
lock.  A GPU context is bound to the thread that created it: glnn keeps one context per thread and
device; run a model from the thread that prepared it.

The C extension is glnn._glnn; this package re-exports it.  glnn.torch (PyTorch layers computing glnn's
arithmetic, export and import of model files) is imported only when asked for.  Documentation: the
repository's docs/ folder.
"""
from . import _glnn
from ._glnn import *  # noqa: F401,F403  (the public names of the extension)
from ._glnn import __version__, nnets  # noqa: F401
from . import _ops  # noqa: F401  (the operation classes of glnn.nnets, from the library's op descriptions)
from ._task import InferenceTask

nnets.InferenceTask = InferenceTask
__all__ = sorted([name for name in dir(_glnn) if not name.startswith("_")] + ["InferenceTask"])
