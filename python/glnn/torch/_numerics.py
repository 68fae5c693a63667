"""glnn's arithmetic in PyTorch (docs/NUMERICS.md): the 8-bit grid, Q, the activations, and every operation
computed exactly as the CPU reference (src/cpu/*.c) computes it, on NCHW float32 batches.

Values on the grid are the float32 numbers q/255 (q = 0..255), each the correctly rounded quotient
float(q) / 255.0f that the C library uses.  The exact functions reproduce the reference's float32
expressions operation for operation: separate multiplies and adds (no fused multiply-add), sums in the
reference's order.  The training functions compute the same forward values where that is cheap, and
an order-free convolution otherwise; every 8-bit output goes through Q with a straight-through
gradient.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F

F32 = torch.float32

# q/255 as float32, correctly rounded (numpy divides in IEEE float32).
_GRID = torch.from_numpy(np.arange(256, dtype=np.float32) / np.float32(255))
_CONSTANTS = {name: torch.tensor(v, dtype=F32) for name, v in {
    "255": 255.0, "0.5": 0.5, "1": 1.0, "0.167": 0.167, "0.1": 0.1, "0.05": 0.05}.items()}
_on_device = {}


def _c(device):
    """The float32 constants of the reference's expressions (0.167f, 0.1f, ...) on a device."""
    d = _on_device.get(device)
    if d is None:
        d = _on_device[device] = {k: t.to(device) for k, t in _CONSTANTS.items()}
    return d


def _division_is_exact():
    """Whether PyTorch's float32 division q / 255 gives the correctly rounded q/255 for every byte, in
    vectorized and scalar code paths alike (otherwise a table lookup is used)."""
    q = torch.arange(256, dtype=F32).repeat(37)[torch.randperm(256 * 37, generator=torch.Generator().manual_seed(0))]
    return torch.equal(q / _CONSTANTS["255"], _GRID[q.long()])


_EXACT_DIVISION = _division_is_exact()


def grid_values(q):
    """The float32 values q/255 of a tensor of integers 0..255 (any dtype)."""
    if _EXACT_DIVISION and q.dtype == F32:
        return q / _c(q.device)["255"]
    return _GRID.to(q.device)[q.long()]


def _quantize(v):
    """(Q(v) as float32 integers 0..255, the mask of v in [0, 1]): the reference's float32 expression
    floor(255·v + 0.5) (separate multiply and add) on v clamped to [0, 1], which gives 0 for v ≤ 0 and 255
    for v ≥ 1 as glnn_quantize does; NaN gives 0."""
    v = v.detach().to(F32)
    c = _c(v.device)
    t = torch.clamp(v, 0, 1)
    inside = t == v
    t.mul_(c["255"]).add_(c["0.5"]).floor_()
    if t.numel() and torch.isnan(t.sum()):  # a sum is NaN iff a term is: the rare case costs the extra pass
        torch.nan_to_num_(t, nan=0.0)
    return t, inside


def quantize_bytes(v):
    """Q(v) of SPEC §2.2 as float32 integers 0..255."""
    return _quantize(v)[0]


def quantize_values(v):
    """Q(v)/255 as float32 grid values, without gradient."""
    return grid_values(quantize_bytes(v))


def mark_grid(t):
    """Marks a tensor just computed on the 8-bit grid, so that a glnn.torch layer reading it skips the
    checks and Q of user data (an in-place change of the tensor drops the mark: its version changes)."""
    t._glnn_grid = t._version
    return t


def is_marked(t):
    return getattr(t, "_glnn_grid", None) == t._version


class _QuantizeSTE(torch.autograd.Function):
    """Forward: Q(v)/255 exactly.  Backward: the gradient of clamp(v, 0, 1) (straight through the rounding,
    zero where Q's clamp cuts, and for NaN)."""

    @staticmethod
    def forward(ctx, v):
        q, inside = _quantize(v)
        ctx.save_for_backward(inside)
        return grid_values(q)

    @staticmethod
    def backward(ctx, g):
        (inside,) = ctx.saved_tensors
        return g * inside


def quantize(v):
    """Q(v)/255 with a straight-through gradient (docs/NUMERICS.md, "Training"), marked as on the grid."""
    if v.requires_grad and torch.is_grad_enabled():
        return mark_grid(_QuantizeSTE.apply(v))
    return mark_grid(quantize_values(v))


class _ReplaceValue(torch.autograd.Function):
    """Forward: `exact`; backward: the gradient flows to `approx` (whose forward value is dropped)."""

    @staticmethod
    def forward(ctx, approx, exact):
        return exact.clone()

    @staticmethod
    def backward(ctx, g):
        return g, None


def with_value(approx, exact):
    """A tensor whose value is `exact` and whose gradient is that of `approx`."""
    if not (approx.requires_grad and torch.is_grad_enabled()):
        return exact
    return _ReplaceValue.apply(approx, exact.detach())


def activate(z, activation):
    """act(z) of SPEC §4.6 in float32, operation for operation as glnn_activate (src/internal.h);
    differentiable (clamps pass the gradient inside their range)."""
    if activation == "default":
        return z
    c = _c(z.device)
    if activation == "brelu6":
        return c["0.167"] * z
    if activation == "sigmoid_like":
        t1 = torch.clamp(c["0.1"] * z, -0.05, 0.05)
        t2 = torch.clamp(c["0.05"] * z, -0.125, 0.125)
        return ((t1 + t2) + c["0.05"] * z) + c["0.5"]
    raise ValueError("invalid activation function %r" % (activation,))


def check_user_values(x, what):
    """SPEC §2.2 for float data entering glnn: NaN/±∞ and values outside [−1/510, 1 + 1/510] are errors
    (the usual mistake: an image in 0..255 as floats)."""
    x = x.detach()
    if x.numel() == 0:
        return
    lo, hi = torch.aminmax(x)
    if float(lo) >= -1 / 510 and float(hi) <= 1 + 1 / 510:
        return
    flat = x.reshape(-1)
    bad = ~torch.isfinite(flat)
    if bool(bad.any()):
        i = int(bad.nonzero()[0])
        raise ValueError("%s: %s at flat index %d (NCHW)" % (what, float(flat[i]), i))
    i = int(((flat < -1 / 510) | (flat > 1 + 1 / 510)).nonzero()[0])
    raise ValueError("%s: value %g at flat index %d (NCHW) is outside [0, 1]: glnn values are q/255; divide "
                     "8-bit data by 255" % (what, float(flat[i]), i))


def to_grid(x, what):
    """User data onto the 8-bit grid: checked (check_user_values) and quantized with Q, gradient straight
    through.  A tensor marked by a glnn.torch layer passes as it is."""
    if is_marked(x):
        return x
    check_user_values(x, what)
    return quantize(x.to(F32))


# ---- geometry (SPEC §3, src/core/geometry.c) ----

def axis(n_in, k, s, padding):
    """(n, before, after) along one axis; n ≤ 0 for VALID with n_in < k."""
    if padding == "valid":
        n = (n_in - k) // s + 1 if n_in >= k else 0
        return n, 0, 0
    n = (n_in + s - 1) // s
    p = max(0, (n - 1) * s + k - n_in)
    return n, p // 2, p - p // 2


def pad_for(x, k, s, padding):
    """x padded with zeros for the windows of SPEC §3 and the output size (ny, nx)."""
    H, W = x.shape[-2:]
    ny, by, ay = axis(H, k, s, padding)
    nx, bx, ax = axis(W, k, s, padding)
    if by or ay or bx or ax:
        x = F.pad(x, (bx, ax, by, ay))
    return x, ny, nx


# ---- Conv2D (SPEC §4.5, src/cpu/conv2d.c) ----

def conv2d_exact(x, weight, bias, residual, stride, padding, groups, activation):
    """The CPU reference's Conv2D on grid values: x (N, C, H, W); weight (Cout, Cg, k, k) (PyTorch's OIHW,
    Cg = C/groups); bias (Cout,) or None; residual (N, Cout, Ho, Wo) or None.  One float32 accumulator
    per output, summed over ky, kx, ci in that order with separate multiplies and adds (padding adds
    nothing), then + residual, then + bias; returns act(z) (not yet quantized)."""
    N, C = x.shape[:2]
    cout, cg, k = weight.shape[0], weight.shape[1], weight.shape[2]
    G = C // cg
    xp, ny, nx = pad_for(x, k, stride, padding)
    hp, wp = xp.shape[-2:]
    xg = xp.reshape(N, G, cg, hp, wp)
    wg = weight.reshape(G, cout // G, cg, k, k)
    acc = torch.zeros(N, G, cout // G, ny, nx, dtype=F32, device=x.device)
    grad = torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad)
    tmp = None if grad else torch.empty_like(acc)
    ye, xe = (ny - 1) * stride + 1, (nx - 1) * stride + 1
    for ky in range(k):
        for kx in range(k):
            patch = xg[:, :, :, ky:ky + ye:stride, kx:kx + xe:stride]
            for ci in range(cg):
                v = patch[:, :, ci:ci + 1]
                w = wg[:, :, ci, ky, kx].reshape(G, cout // G, 1, 1)
                if grad:
                    acc = acc + v * w
                else:
                    torch.mul(v, w, out=tmp)
                    acc.add_(tmp)
    z = acc.reshape(N, cout, ny, nx)
    if residual is not None:
        z = z + residual
    if bias is not None:
        z = z + bias.reshape(1, cout, 1, 1)
    return activate(z, activation)


def conv2d_fast(x, weight, bias, residual, stride, padding, groups, activation):
    """The same Conv2D summed in any order (PyTorch's convolution): within a rounding of the exact sum,
    for training."""
    k = weight.shape[2]
    H, W = x.shape[-2:]
    _, by, ay = axis(H, k, stride, padding)
    _, bx, ax = axis(W, k, stride, padding)
    groups = x.shape[1] // weight.shape[1]
    if by == ay and bx == ax:
        z = F.conv2d(x, weight, None, stride, (by, bx), 1, groups)
    else:
        z = F.conv2d(F.pad(x, (bx, ax, by, ay)), weight, None, stride, 0, 1, groups)
    if residual is not None:
        z = z + residual
    if bias is not None:
        z = z + bias.reshape(1, -1, 1, 1)
    return activate(z, activation)


# ---- Pooling2D (SPEC §5.1, src/cpu/pooling2d.c) ----

def pooling2d(x, operator, size, stride, padding):
    """MAX: the largest value of the window, padding counting as 0 (exact and differentiable).  AVERAGE:
    q = ⌊S/size² + 1/2⌋ for the integer window sum S, exactly; the gradient is that of the mean."""
    if operator == "max":
        # Padding reads 0 and every window holds an input value ≥ 0, so PyTorch's own padding (−∞) and its
        # ceil mode (windows cut at the end) give the same maxima as zero padding.
        H, W = x.shape[-2:]
        ny, by, ay = axis(H, size, stride, padding)
        nx, bx, ax = axis(W, size, stride, padding)
        if x.requires_grad and torch.is_grad_enabled():
            if by == ay and bx == ax and by <= size // 2 and bx <= size // 2:
                return F.max_pool2d(x, size, stride, (by, bx))
            if by == 0 and bx == 0:
                y = F.max_pool2d(x, size, stride, 0, ceil_mode=True)
                if tuple(y.shape[-2:]) == (ny, nx):
                    return y
            return F.max_pool2d(pad_for(x, size, stride, padding)[0], size, stride)
        # Without gradient: the maximum over the k² strided views of the zero-padded input, faster than
        # PyTorch's pooling for small windows.
        xp = pad_for(x, size, stride, padding)[0]
        if size * size > 16:
            return F.max_pool2d(xp, size, stride)
        ye, xe = (ny - 1) * stride + 1, (nx - 1) * stride + 1
        y = None
        for ky in range(size):
            for kx in range(size):
                tap = xp[:, :, ky:ky + ye:stride, kx:kx + xe:stride]
                y = tap.clone() if y is None else torch.maximum(y, tap, out=y)
        return y
    area = size * size
    with torch.no_grad():
        q = torch.round(x.detach().to(torch.float64) * 255.0)
        s = F.avg_pool2d(q, size, stride, divisor_override=1).round().long()  # exact integer sums
        exact = grid_values((2 * s + area) // (2 * area))
    return with_value(F.avg_pool2d(x, size, stride), exact)


# ---- Dense (SPEC §5.2, src/cpu/dense.c) ----

def dense_exact(x, weight, bias):
    """y_o = Σ_i A(o, i)·x_i in ascending i with one float32 accumulator, then + b_o."""
    n, n_in = x.shape
    grad = torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad)
    acc = torch.zeros(n, weight.shape[0], dtype=F32, device=x.device)
    tmp = None if grad else torch.empty_like(acc)
    wt = weight.t()
    for i in range(n_in):
        if grad:
            acc = acc + wt[i:i + 1] * x[:, i:i + 1]
        else:
            torch.mul(wt[i:i + 1], x[:, i:i + 1], out=tmp)
            acc.add_(tmp)
    if bias is not None:
        acc = acc + bias.reshape(1, -1)
    return acc


# ---- Softmax (SPEC §5.3, src/cpu/softmax.c) ----

def softmax_exact(x):
    """p_i = exp(x_i − m) / Σ_j exp(x_j − m) in double, rounded to float32."""
    d = x.to(torch.float64)
    m = d.max(dim=1, keepdim=True).values
    e = torch.exp(d - m)
    return (e / e.sum(dim=1, keepdim=True)).to(F32)


# ---- ImageSampler (SPEC §5.4, src/ops/image_sampler.c and src/cpu/image_sampler.c) ----

def _axis_taps(a, b, n, length, linear):
    """Steps 3-4 of SPEC §5.4 in double, as axis_taps() in src/ops/image_sampler.c: (i0, i1, f) lists."""
    i0s, i1s, fs = [], [], []
    for j in range(n):
        p = (a + b) / 2 if n == 1 else a + (float(j) * (b - a)) / float(n - 1)
        if linear:
            f0 = math.floor(p)
            f, i0, i1 = p - f0, int(f0), int(f0) + 1
        else:
            i0 = i1 = int(math.floor(p + 0.5))
            f = 0.0
        i0s.append(min(max(i0, 0), length - 1))
        i1s.append(min(max(i1, 0), length - 1))
        fs.append(f)
    return i0s, i1s, fs


def _unrotate(rotation, w, h, xr, yr):
    """Pixel (xr, yr) of the input rotated by `rotation` quarter turns clockwise → (xs, ys) in the input."""
    r = rotation & 3
    if r == 1:
        return yr, h - 1 - xr
    if r == 2:
        return w - 1 - xr, h - 1 - yr
    if r == 3:
        return w - 1 - yr, xr
    return xr, yr


def image_sampler(x, width, height, center_crop, linear_interp, rotation=0):
    """The reference ImageSampler on an image batch x (N, 3, H, W) of grid values; returns (N, 3, height,
    width) grid values.  Taps in double, the bilinear blend on byte values in float32 with the weights
    rounded to float, ⌊v + 0.5⌋."""
    N, _, H, W = x.shape
    wr, hr = (H, W) if rotation & 1 else (W, H)
    if rotation == 0 and (wr, hr) == (width, height):
        return x  # every tap is the pixel itself with weight 0 on its neighbour: the identity
    ax, bx, ay, by = 0.0, float(wr - 1), 0.0, float(hr - 1)
    if center_crop:
        if wr * height > hr * width:
            m = (float(wr) - float(hr) * float(width) / float(height)) / 2
            ax, bx = m, float(wr - 1) - m
        elif wr * height < hr * width:
            m = (float(hr) - float(wr) * float(height) / float(width)) / 2
            ay, by = m, float(hr - 1) - m
    tx = _axis_taps(ax, bx, width, wr, linear_interp)
    ty = _axis_taps(ay, by, height, hr, linear_interp)
    q = torch.round(x.detach() * 255.0).to(F32)  # byte values
    dev = x.device

    def gather(cx, cy):
        # source pixels of rotated coordinates (cx[xo], cy[yo]) for every output (yo, xo)
        cxx = torch.tensor(cx, dtype=torch.long).reshape(1, -1).expand(height, width)
        cyy = torch.tensor(cy, dtype=torch.long).reshape(-1, 1).expand(height, width)
        xs, ys = _unrotate(rotation, W, H, cxx, cyy)
        return q[:, :, ys.to(dev), xs.to(dev)]

    if not linear_interp:
        return grid_values(gather(tx[0], ty[0]))
    p00, p01 = gather(tx[0], ty[0]), gather(tx[1], ty[0])
    p10, p11 = gather(tx[0], ty[1]), gather(tx[1], ty[1])
    fx = torch.tensor(tx[2], dtype=torch.float64).to(F32).reshape(1, 1, 1, -1).to(dev)
    fy = torch.tensor(ty[2], dtype=torch.float64).to(F32).reshape(1, 1, -1, 1).to(dev)
    one, half = _c(dev)["1"], _c(dev)["0.5"]
    top = (one - fx) * p00 + fx * p01
    bottom = (one - fx) * p10 + fx * p11
    v = torch.floor(((one - fy) * top + fy * bottom) + half)
    return grid_values(torch.clamp(v, 0, 255))


# ---- Upsampling2D (SPEC §5.5) ----

def _upsample_taps(n, f):
    i0s, i1s, ws = [], [], []
    for j in range(n * f):
        p = min(max((j + 0.5) / f - 0.5, 0.0), float(n - 1))
        i0 = int(math.floor(p))
        i0s.append(i0)
        i1s.append(min(i0 + 1, n - 1))
        ws.append(p - i0)
    return i0s, i1s, ws


def upsampling2d(x, factor, interpolation):
    """Upsampling2D of SPEC §5.5.  nearest: output (y, x) = input (⌊y/f⌋, ⌊x/f⌋), exact and
    differentiable.  bilinear: half-pixel centres, x then y on byte values in float32 with float weights,
    ⌊v + 0.5⌋ (the exact reference expression is the C op's; docs/NUMERICS.md), gradient of the linear
    interpolation."""
    if interpolation == "nearest":
        return x.repeat_interleave(factor, dim=2).repeat_interleave(factor, dim=3)
    N, C, H, W = x.shape
    dev = x.device
    tx, ty = _upsample_taps(W, factor), _upsample_taps(H, factor)
    ix0, ix1 = torch.tensor(tx[0], device=dev), torch.tensor(tx[1], device=dev)
    iy0, iy1 = torch.tensor(ty[0], device=dev), torch.tensor(ty[1], device=dev)
    wx = torch.tensor(tx[2], dtype=torch.float64).to(F32).to(dev).reshape(1, 1, 1, -1)
    wy = torch.tensor(ty[2], dtype=torch.float64).to(F32).to(dev).reshape(1, 1, -1, 1)
    one, half = _c(dev)["1"], _c(dev)["0.5"]

    def blend(v):
        row = (one - wx) * v[:, :, :, ix0] + wx * v[:, :, :, ix1]
        return (one - wy) * row[:, :, iy0, :] + wy * row[:, :, iy1, :]

    with torch.no_grad():
        q = torch.round(x.detach() * 255.0).to(F32)
        exact = grid_values(torch.clamp(torch.floor(blend(q) + half), 0, 255))
    return with_value(blend(x), exact)


# ---- channel shuffle (SPEC §6, glnn_shuffle_source_quad) ----

def shuffle_source_quad(i, n, quads):
    return (n * i) % quads + (n * i) // quads


def shuffle_channels(x, n):
    """Consumer channel 4i + j = producer channel 4·π(i) + j, π(i) = (n·i mod Q) + ⌊n·i/Q⌋."""
    quads = x.shape[1] // 4
    index = [4 * shuffle_source_quad(i, n, quads) + j for i in range(quads) for j in range(4)]
    return x[:, torch.tensor(index, device=x.device)]
