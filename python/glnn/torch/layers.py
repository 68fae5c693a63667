"""glnn's operations as torch.nn.Modules (docs/PYTORCH.md).

Each layer has the parameters of its glnn.nnets namesake (plus an optional `name`, the op's name in an
exported file), is validated at construction by glnn.nnets itself (the library's own rules and
messages), and computes on NCHW float32 batches whose values are q/255:

- evaluation mode (`module.eval()`): bit for bit what glnn's CPU reference computes (docs/NUMERICS.md);
- training mode: every 8-bit output is on the grid Q of SPEC §2.2 with a straight-through gradient;
  Conv2D sums in PyTorch's own order (fast), everything else computes the exact values.

Parameters use PyTorch's layouts: Conv2D.weight is OIHW (Cout, Cin/G, k, k), Dense.weight (N_out, N_in)
as nn.Linear; glnn.torch.export converts to glnn's chunk layouts (docs/FORMATS.md).
"""
import math
import warnings

import torch
from torch import nn
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedParameter

import glnn

from . import _numerics as num

_SENTINEL = "glnn.torch-unnamed"


def _error(message):
    """An argument error of the glnn kind (glnn.ArgumentError: a glnn.Error and a ValueError)."""
    return glnn.ArgumentError(message)


def _validated(kind, name, make):
    """Builds the glnn.nnets op with make(name) so that the library validates the parameters; without a name
    the library's message is kept and the stand-in name dropped from it."""
    if name is not None and not isinstance(name, str):
        raise TypeError("%s: name must be a str or None, not %s" % (kind, type(name).__name__))
    try:
        return make(_SENTINEL if name is None else name)
    except glnn.Error as e:
        if name is not None:
            raise
        raise _error(str(e).replace("%s '%s'" % (kind, _SENTINEL), kind, 1)) from None


def _what(kind, name):
    return "%s '%s'" % (kind, name) if name is not None else kind


def _enum_word(value):
    return value.name.lower()


def _check_batch(x, what, dims=(4,)):
    if not isinstance(x, torch.Tensor):
        raise TypeError("%s: expects a torch.Tensor, not %s" % (what, type(x).__name__))
    if x.dim() not in dims:
        raise _error("%s: expects an NCHW batch (N, C, H, W), got shape %s" % (what, tuple(x.shape)))


def _image_input(x, what):
    """An image batch (N, 3, H, W); 1 channel is expanded to R = G = B and a 4th (alpha) dropped, as SPEC
    §2.3 does for images."""
    _check_batch(x, what)
    c = x.shape[1]
    if c == 1:
        x = x.expand(-1, 3, -1, -1)
    elif c == 4:
        x = x[:, :3]
    elif c != 3:
        raise _error("%s: expects an image (1, 3 or 4 channels) on input #0, got %d channels" % (what, c))
    return num.to_grid(x, what + ": input image")


def _tensor_input(x, what, index=0):
    _check_batch(x, what)
    c = x.shape[1]
    if c < 4 or c % 4:
        raise _error("%s: expects a tensor on input #%d (channels a positive multiple of 4), got %d channels"
                     % (what, index, c))
    return num.to_grid(x, "%s: input #%d" % (what, index))


class Conv2D(nn.Module):
    """glnn's Conv2D (SPEC §4; docs/PYTORCH.md): a k×k convolution, stride s, VALID or SAME padding (the
    TensorFlow rule: an odd total padding puts the extra row/column at the bottom/right), G groups, an
    optional residual added before the activation, then the activation and Q.

    Kinds (SPEC §4.2): image input (num_input_channels = 3: takes an image, groups 1, VALID), depthwise
    (Cin = Cout = G), regular (G = 1), grouped (Cin/G and Cout/G multiples of 4).  Activations:
    'default' (a ReLU bounded at 1 by Q's clamp), 'brelu6' (0.167·z), 'sigmoid_like'.

    weight: (Cout, Cin/G, k, k), PyTorch's OIHW; bias: (Cout,) when use_bias.
    forward(x, residual=None): x (N, Cin, H, W), residual (N, Cout, H', W'); returns (N, Cout, H', W').
    """

    def __init__(self, kernel_size, num_input_channels, num_output_channels, stride=1, padding="valid",
                 use_bias=True, num_groups=1, activation="default", name=None):
        super().__init__()
        op = _validated("Conv2D", name, lambda n: glnn.nnets.Conv2D(
            n, kernel_size, num_input_channels, num_output_channels, stride=stride, padding=padding,
            use_bias=use_bias, num_groups=num_groups, activation=activation))
        self.name = name
        self.kernel_size = op.kernel_size
        self.num_input_channels = op.num_input_channels
        self.num_output_channels = op.num_output_channels
        self.stride = op.stride
        self.padding = _enum_word(op.padding)
        self.use_bias = op.use_bias
        self.num_groups = op.num_groups
        self.activation = _enum_word(op.activation)
        k, cin, cout, g = self.kernel_size, self.num_input_channels, self.num_output_channels, self.num_groups
        self.weight = nn.Parameter(torch.empty(cout, cin // g, k, k))
        self.bias = nn.Parameter(torch.empty(cout)) if self.use_bias else None
        self.reset_parameters()

    @property
    def is_image_input(self):
        return self.num_input_channels == 3

    @property
    def is_depthwise(self):
        return self.num_input_channels == self.num_output_channels == self.num_groups

    def reset_parameters(self):
        """nn.Conv2d's initialization."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * self.kernel_size ** 2
            bound = 1 / math.sqrt(fan_in)
            nn.init.uniform_(self.bias, -bound, bound)

    def output_size(self, height, width):
        """(H', W') for an input of height × width (SPEC §3); raises when the output would be empty."""
        ny = num.axis(height, self.kernel_size, self.stride, self.padding)[0]
        nx = num.axis(width, self.kernel_size, self.stride, self.padding)[0]
        if ny <= 0 or nx <= 0:
            raise _error("%s: output would be empty (input %d×%d, kernel %d, stride %d, %s padding)" % (
                _what("Conv2D", self.name), width, height, self.kernel_size, self.stride, self.padding))
        return ny, nx

    def forward(self, x, residual=None):
        what = _what("Conv2D", self.name)
        if self.is_image_input:
            x = _image_input(x, what)
        else:
            _check_batch(x, what)
            if x.shape[1] != self.num_input_channels:
                raise _error("%s: input depth %d does not match num_input_channels %d" % (
                    what, x.shape[1], self.num_input_channels))
            x = _tensor_input(x, what)
        ny, nx = self.output_size(x.shape[2], x.shape[3])
        if residual is not None:
            if self.is_image_input:
                raise _error("%s: no residual input with an image input" % what)
            _check_batch(residual, what + ": residual")
            want = (x.shape[0], self.num_output_channels, ny, nx)
            if tuple(residual.shape) != want:
                raise _error("%s: residual shape %s does not match output shape %s" % (
                    what, tuple(residual.shape), want))
            residual = num.to_grid(residual, what + ": input #1")
        fn = num.conv2d_fast if self.training else num.conv2d_exact
        z = fn(x, self.weight, self.bias, residual, self.stride, self.padding, self.num_groups, self.activation)
        return num.quantize(z)

    def extra_repr(self):
        s = "%d, %d, %d, stride=%d, padding=%r, use_bias=%s, num_groups=%d, activation=%r" % (
            self.kernel_size, self.num_input_channels, self.num_output_channels, self.stride, self.padding,
            self.use_bias, self.num_groups, self.activation)
        return s + (", name=%r" % self.name if self.name is not None else "")


class Pooling2D(nn.Module):
    """glnn's Pooling2D (SPEC §5.1): operator 'max' or 'average', a size×size window (size ≥ 2), stride 0
    meaning the size, VALID or SAME padding (AVERAGE: VALID only).  MAX counts padding as 0; AVERAGE
    rounds the exact window mean to the nearest byte, ties up.  Global pooling of an H×H input: size H,
    stride 1."""

    def __init__(self, operator, size, stride=0, padding="valid", name=None):
        super().__init__()
        op = _validated("Pooling2D", name, lambda n: glnn.nnets.Pooling2D(n, operator, size, stride=stride,
                                                                            padding=padding))
        self.name = name
        self.operator = _enum_word(op.operator)
        self.size = op.size
        self.stride = op.stride  # as given: 0 means the size
        self.padding = _enum_word(op.padding)

    @property
    def effective_stride(self):
        return self.stride or self.size

    def forward(self, x):
        what = _what("Pooling2D", self.name)
        x = _tensor_input(x, what)
        s = self.effective_stride
        ny = num.axis(x.shape[2], self.size, s, self.padding)[0]
        nx = num.axis(x.shape[3], self.size, s, self.padding)[0]
        if ny <= 0 or nx <= 0:
            raise _error("%s: output would be empty (input %d×%d, pool size %d, stride %d, %s padding)" % (
                what, x.shape[3], x.shape[2], self.size, s, self.padding))
        return num.mark_grid(num.pooling2d(x, self.operator, self.size, s, self.padding))

    def extra_repr(self):
        s = "%r, %d, stride=%d, padding=%r" % (self.operator, self.size, self.stride, self.padding)
        return s + (", name=%r" % self.name if self.name is not None else "")


class Dense(LazyModuleMixin, nn.Module):
    """glnn's Dense (SPEC §5.2): y = A·x + b on a 1×1×C tensor (N, C, 1, 1) — values q/255 — or on the
    vector (N, F) of another Dense; any num_output_dims ≥ 1; no activation, no quantization.  The input
    size is taken from the first input when num_input_dims is not given (as PyTorch's lazy layers do).

    weight: (N_out, N_in), row-major as glnn's matrix chunk (the layout of nn.Linear); bias: (N_out,)."""

    cls_to_become = None

    def __init__(self, num_output_dims, use_bias=True, num_input_dims=None, name=None):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Lazy modules are a new feature ..."
            super().__init__()
        op = _validated("Dense", name, lambda n: glnn.nnets.Dense(n, num_output_dims, use_bias=use_bias))
        self.name = name
        self.num_output_dims = op.num_output_dims
        self.use_bias = op.use_bias
        if num_input_dims is not None and (not isinstance(num_input_dims, int) or num_input_dims < 1):
            raise _error("%s: number of input dims must be positive, got %r" % (_what("Dense", name),
                                                                                 num_input_dims))
        if num_input_dims is None:
            self.weight = UninitializedParameter()
            self.bias = UninitializedParameter() if self.use_bias else None
        else:
            self.weight = nn.Parameter(torch.empty(self.num_output_dims, num_input_dims))
            self.bias = nn.Parameter(torch.empty(self.num_output_dims)) if self.use_bias else None
            self.reset_parameters()

    @property
    def num_input_dims(self):
        return None if self.has_uninitialized_params() else self.weight.shape[1]

    def reset_parameters(self):
        """nn.Linear's initialization."""
        if self.has_uninitialized_params():
            return
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.weight.shape[1])
            nn.init.uniform_(self.bias, -bound, bound)

    def _vector(self, x):
        """The input as (N, N_in) floats: q/255 of a 1×1×C tensor, or a vector as is."""
        what = _what("Dense", self.name)
        if isinstance(x, torch.Tensor) and x.dim() == 2:
            return x.to(num.F32)
        _check_batch(x, what, dims=(2, 4))
        if x.shape[2] != 1 or x.shape[3] != 1:
            raise _error("%s: Dense expects a 1×1×C input, got %d×%d×%d" % (what, x.shape[2], x.shape[3],
                                                                            x.shape[1]))
        return _tensor_input(x, what).reshape(x.shape[0], x.shape[1])

    def initialize_parameters(self, x, *args, **kwargs):
        if self.has_uninitialized_params():
            n_in = self._vector(x).shape[1]
            with torch.no_grad():
                self.weight.materialize((self.num_output_dims, n_in))
                if self.bias is not None:
                    self.bias.materialize((self.num_output_dims,))
                self.reset_parameters()

    def forward(self, x):
        v = self._vector(x)
        if v.shape[1] != self.weight.shape[1]:
            raise _error("%s: input length %d does not match the matrix's %d columns" % (
                _what("Dense", self.name), v.shape[1], self.weight.shape[1]))
        if self.training:
            return nn.functional.linear(v, self.weight, self.bias)
        return num.dense_exact(v, self.weight, self.bias)

    def extra_repr(self):
        s = "%d, use_bias=%s, num_input_dims=%s" % (self.num_output_dims, self.use_bias, self.num_input_dims)
        return s + (", name=%r" % self.name if self.name is not None else "")


class Softmax(nn.Module):
    """glnn's Softmax (SPEC §5.3) on a 1×1×C tensor (N, C, 1, 1) or a vector (N, F): probabilities (N, C),
    computed in double with the maximum subtracted, as glnn does.  (To train, apply a loss to the logits
    before it, e.g. cross-entropy on the Dense output.)"""

    def __init__(self, name=None):
        super().__init__()
        _validated("Softmax", name, lambda n: glnn.nnets.Softmax(n))
        self.name = name

    def forward(self, x):
        what = _what("Softmax", self.name)
        if not (isinstance(x, torch.Tensor) and x.dim() == 2):
            _check_batch(x, what, dims=(2, 4))
            if x.shape[2] != 1 or x.shape[3] != 1:
                raise _error("%s: Softmax expects a 1×1×C input, got %d×%d×%d" % (what, x.shape[2], x.shape[3],
                                                                                  x.shape[1]))
            x = _tensor_input(x, what).reshape(x.shape[0], x.shape[1])
        return num.softmax_exact(x)

    def extra_repr(self):
        return "name=%r" % self.name if self.name is not None else ""


class ImageSampler(nn.Module):
    """glnn's ImageSampler (SPEC §5.4): resamples an image batch (N, 3, H, W) to size = (width, height),
    optionally center-cropped to the output's aspect ratio, bilinear or nearest, after `rotation` quarter
    turns clockwise (not stored in files).  Exact in both modes; no gradient to the image."""

    def __init__(self, size, center_crop=True, linear_interp=True, name=None):
        super().__init__()
        op = _validated("ImageSampler", name, lambda n: glnn.nnets.ImageSampler(
            n, size, center_crop=center_crop, linear_interp=linear_interp))
        self.name = name
        self.size = tuple(op.size)
        self.center_crop = op.center_crop
        self.linear_interp = op.linear_interp
        self._rotation = 0

    @property
    def rotation(self):
        return self._rotation

    @rotation.setter
    def rotation(self, value):
        op = _validated("ImageSampler", self.name, lambda n: glnn.nnets.ImageSampler(n, self.size))
        op.rotation = value
        self._rotation = op.rotation

    def forward(self, x):
        x = _image_input(x, _what("ImageSampler", self.name))
        w, h = self.size
        with torch.no_grad():
            return num.mark_grid(num.image_sampler(x, w, h, self.center_crop, self.linear_interp, self._rotation))

    def extra_repr(self):
        s = "%r, center_crop=%s, linear_interp=%s" % (self.size, self.center_crop, self.linear_interp)
        return s + (", name=%r" % self.name if self.name is not None else "")


def _upsampling_op(name, factor, interpolation):
    """glnn.nnets.Upsampling2D where the library has it; otherwise the rules of SPEC §5.5 checked here."""
    ctor = getattr(glnn.nnets, "Upsampling2D", None)
    if ctor is not None:
        return ctor(name, factor=factor, interpolation=interpolation)
    glnn.nnets.Softmax(name)  # rule V1 on the name, by the library
    if isinstance(interpolation, str) and interpolation.lower() in ("nearest", "bilinear"):
        interpolation = interpolation.lower()
    else:
        raise _error("Upsampling2D '%s': invalid interpolation %r (expected 'nearest' or 'bilinear')"
                     % (name, interpolation))
    if not isinstance(factor, int) or not 2 <= factor <= 16:
        raise _error("Upsampling2D '%s': factor must be between 2 and 16, got %r" % (name, factor))
    return type("Upsampling2DParams", (), {"factor": factor, "interpolation": interpolation})


class Upsampling2D(nn.Module):
    """glnn's Upsampling2D (SPEC §5.5, a glnn extension): each axis scaled by an integer factor 2..16,
    'nearest' or 'bilinear' (half-pixel centres, as PyTorch's align_corners=False).  Exported once the
    C library has the op (glnn.nnets.Upsampling2D); docs/PYTORCH.md."""

    def __init__(self, factor=2, interpolation="nearest", name=None):
        super().__init__()
        try:
            op = _validated("Upsampling2D", name, lambda n: _upsampling_op(n, factor, interpolation))
        except glnn.Error as e:  # the name check above reports as Softmax
            raise _error(str(e).replace("Softmax", "Upsampling2D", 1)) from None
        self.name = name
        self.factor = op.factor
        interp = op.interpolation
        self.interpolation = interp if isinstance(interp, str) else _enum_word(interp)

    def forward(self, x):
        x = _tensor_input(x, _what("Upsampling2D", self.name))
        return num.mark_grid(num.upsampling2d(x, self.factor, self.interpolation))

    def extra_repr(self):
        s = "factor=%d, interpolation=%r" % (self.factor, self.interpolation)
        return s + (", name=%r" % self.name if self.name is not None else "")


def channel_shuffle(x, n):
    """The connection shuffle of SPEC §6 on a tensor batch (N, C, H, W): consumer channel 4i + j reads
    producer channel 4·π(i) + j, π(i) = (n·i mod Q) + ⌊n·i/Q⌋, Q = C/4; n = 0 or 1 is the identity and n
    must divide Q.  In an exported model it becomes the `shuffle` of the connection into the next op."""
    if isinstance(x, torch.fx.Proxy):
        return x.tracer.create_proxy("call_function", channel_shuffle, (x, n), {})
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError("channel_shuffle: n must be an int, not %s" % type(n).__name__)
    if n < 0:
        raise _error("channel_shuffle: shuffle must be 0 or more, got %d" % n)
    _check_batch(x, "channel_shuffle", dims=(2, 4))
    if x.dim() == 2:
        if n > 1:
            raise _error("channel_shuffle: shuffle %d on a vector (the output of a Dense); glnn shuffles tensors "
                         "only" % n)
        return x
    c = x.shape[1]
    if c % 4:
        if n > 1:
            raise _error("channel_shuffle: shuffle %d on an image or a %d-channel input; glnn shuffles tensors "
                         "(channels a multiple of 4) only" % (n, c))
        return x
    if n <= 1:
        return x
    quads = c // 4
    if quads % n:
        raise _error("channel_shuffle: shuffle %d does not divide the %d quads of the input" % (n, quads))
    y = num.shuffle_channels(x, n)
    return num.mark_grid(y) if num.is_marked(x) else y


class ChannelShuffle(nn.Module):
    """channel_shuffle(x, n) as a module (for nn.Sequential)."""

    def __init__(self, n):
        super().__init__()
        if not isinstance(n, int) or n < 0:
            raise _error("ChannelShuffle: shuffle must be 0 or more, got %r" % (n,))
        self.n = n

    def forward(self, x):
        return channel_shuffle(x, self.n)

    def extra_repr(self):
        return str(self.n)


LAYERS = (Conv2D, Pooling2D, Dense, Softmax, ImageSampler, Upsampling2D, ChannelShuffle)
