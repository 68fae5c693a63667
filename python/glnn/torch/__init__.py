"""glnn.torch: train in PyTorch with glnn's exact arithmetic, export to glnn model files, load them back.

Layers (torch.nn.Modules with the parameters of their glnn.nnets namesakes): Conv2D (with an optional
residual: conv(x, residual=r)), Pooling2D, Dense, Softmax, ImageSampler, Upsampling2D, and the
connection shuffle channel_shuffle(x, n) / ChannelShuffle(n).  In evaluation mode they compute what
glnn's CPU reference computes, bit for bit; in training mode every 8-bit output lies on glnn's grid
with a straight-through gradient.

    export(module, path, example_input, labels=None)   one .chunks file (listing + weights [+ labels])
    load(path)                                          a Model (nn.Module) computing the file's model

Needs PyTorch (Debian: apt-get install python3-torch); `import glnn` alone never imports it.
Guide: docs/PYTORCH.md; the arithmetic: docs/NUMERICS.md; the file formats: docs/FORMATS.md.
"""
try:
    import torch as _torch  # noqa: F401
    import torch.fx as _fx  # noqa: F401
except ImportError as _e:  # pragma: no cover - depends on the machine
    raise ImportError(
        "glnn.torch needs PyTorch, which is not installed for this Python (%s); on Debian install the package "
        "python3-torch (apt-get install python3-torch) and use /usr/bin/python3" % _e) from _e

from ._device import reference_device  # noqa: E402
from .exporter import ExportError, export  # noqa: E402
from .layers import (ChannelShuffle, Conv2D, Dense, ImageSampler, Pooling2D, Softmax, Upsampling2D,  # noqa: E402
                     channel_shuffle)
from .loader import Model, load  # noqa: E402

__all__ = ["Conv2D", "Pooling2D", "Dense", "Softmax", "ImageSampler", "Upsampling2D", "ChannelShuffle",
           "channel_shuffle", "export", "ExportError", "load", "Model", "reference_device"]
