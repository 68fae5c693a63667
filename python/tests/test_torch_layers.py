"""glnn.torch layers against the C library: in evaluation mode every 8-bit output equals the CPU
reference's byte for byte (and llvmpipe's; a hardware GPU within SPEC §2.5's budget), Dense within the
reference's own float32 result, probabilities within 1e-5; in training mode outputs stay on the 8-bit
grid and gradients flow.  Skipped, saying so, when PyTorch (Debian: python3-torch) is not installed."""
import subprocess
import sys

import numpy as np
import pytest

import glnn
from glnn import nnets as nn

torch = pytest.importorskip("torch", reason="skipped: PyTorch is not installed (Debian package python3-torch)")
gt = pytest.importorskip("glnn.torch", reason="skipped: glnn.torch cannot be imported")


def to_hwc(t):
    return t.detach().permute(1, 2, 0).numpy()


def as_bytes(t):
    """Grid values → bytes, asserting they are exactly on the grid (q/255 as float32)."""
    a = np.asarray(t.detach().numpy() if isinstance(t, torch.Tensor) else t, dtype=np.float32)
    q = np.rint(a * 255)
    assert np.array_equal((q.astype(np.float32) / np.float32(255)), a), "values off the 8-bit grid"
    return q.astype(np.uint8)


def random_grid(rng, *shape):
    return torch.from_numpy(rng.integers(0, 256, shape).astype(np.float32) / np.float32(255))


def compare_bytes(mine, ref, exact, what):
    d = np.abs(mine.astype(int) - ref.astype(int))
    assert d.max() <= (0 if exact else 1), "%s: largest difference %d LSB, %.4f%% exact" % (
        what, d.max(), 100 * (d == 0).mean())


def nontrivial(q):
    """A check that a case can fail: a fair share of the outputs lies strictly inside 1..254."""
    inner = ((q > 0) & (q < 255)).mean()
    assert inner > 0.2, "only %.0f%% of the outputs are inside the range: the case tests little" % (100 * inner)


def run_model(model, data, x, device, outputs, input_op):
    """Runs a glnn.nnets model on one item x (HWC numpy) bound to input_op; {name: output data}."""
    for o in outputs:
        model.add_output(o)
    task = glnn.InferenceTask(model, data, device=device)
    task.connect(x, input_op)
    task.run()
    return {o: model.get_output_data(o) for o in outputs}


# ---- import ----

def test_import_glnn_does_not_import_torch():
    code = "import sys, glnn; glnn.nnets.Conv2D('c', 1, 4, 4); assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_torch_is_a_clear_import_error():
    code = ("import sys; sys.modules['torch'] = None\n"
            "try:\n    import glnn.torch\nexcept ImportError as e:\n    print(e)\nelse:\n    print('imported')")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert "python3-torch" in out and "glnn.torch needs PyTorch" in out, out


# ---- numerics: SPEC's own figures ----

def test_quantization_table():
    from glnn.torch import _numerics as num
    v = torch.tensor([0.25, 0.5, 0.501, 0.998, -0.3, 1.7, float("nan"), float("inf"), -float("inf")])
    assert num.quantize_bytes(v).tolist() == [64, 128, 128, 254, 0, 255, 0, 255, 0]
    k = torch.arange(256, dtype=torch.float32)
    grid = num.grid_values(k)
    assert torch.equal(num.quantize_bytes(grid), k)
    assert np.array_equal(grid.numpy(), np.arange(256, dtype=np.float32) / np.float32(255))


@pytest.mark.parametrize("activation, z, expect", [
    ("sigmoid_like", [0, 1, -3, 7], [128, 166, 45, 255]),
    ("brelu6", [3, 5.9, 6], [128, 251, 255]),
    ("default", [-1, 0.5, 2], [0, 128, 255]),
])
def test_activation_checks(activation, z, expect):
    from glnn.torch import _numerics as num
    q = num.quantize_bytes(num.activate(torch.tensor(z, dtype=torch.float32), activation))
    assert q.tolist() == expect


# ---- Conv2D: every kind, padding, stride, activation, residual ----

# (H, W, Cin, Cout, k, stride, padding, groups, activation, use_bias, residual)
CONV_CASES = [
    (9, 11, 3, 8, 3, 1, "valid", 1, "default", True, False),        # image input
    (12, 10, 3, 12, 5, 2, "valid", 1, "sigmoid_like", True, False),  # image input, stride 2
    (8, 8, 8, 12, 3, 1, "same", 1, "default", True, True),          # regular + residual
    (9, 6, 8, 8, 3, 2, "same", 1, "sigmoid_like", False, False),    # SPEC §3: 9 wide, 6 high
    (7, 7, 4, 8, 2, 1, "same", 1, "brelu6", True, False),           # even kernel: extra pad bottom/right
    (6, 6, 4, 4, 4, 2, "same", 1, "default", True, True),           # even kernel, stride 2, residual
    (10, 10, 8, 8, 1, 4, "same", 1, "default", True, False),        # 1×1, stride 4
    (1, 1, 4, 4, 5, 1, "same", 1, "sigmoid_like", True, False),     # a 1×1 input, 5×5 kernel
    (8, 9, 16, 16, 3, 1, "same", 2, "default", True, True),         # grouped (8 per group) + residual
    (7, 8, 32, 16, 3, 2, "valid", 4, "brelu6", True, False),        # grouped, stride 2
    (8, 8, 12, 12, 3, 1, "same", 12, "sigmoid_like", True, True),   # depthwise + residual
    (9, 9, 8, 8, 5, 3, "same", 8, "default", False, False),         # depthwise, stride 3
    (6, 7, 32, 32, 3, 1, "valid", 8, "default", True, True),        # grouped, 4 channels per group
]


def conv_case(case, seed):
    H, W, cin, cout, k, s, padding, g, act, use_bias, with_res = case
    rng = np.random.default_rng(seed)
    conv = gt.Conv2D(k, cin, cout, stride=s, padding=padding, use_bias=use_bias, num_groups=g, activation=act)
    cg = cin // g
    scale = {"default": 0.5, "brelu6": 4.0, "sigmoid_like": 6.0}[act] / np.sqrt(k * k * cg)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(rng.normal(0, scale, conv.weight.shape).astype(np.float32)))
        if use_bias:
            conv.bias.copy_(torch.from_numpy(rng.normal(0.3, 0.3, cout).astype(np.float32)))
    x = random_grid(rng, 2, cin, H, W)
    ho, wo = conv.output_size(H, W)
    r = random_grid(rng, 2, cout, ho, wo) if with_res else None
    return conv, x, r


def conv_reference(conv, x, r, device):
    """glnn.conv2d of the C library on each batch item: uint8 (N, Ho, Wo, Cout)."""
    w = conv.weight.detach().permute(2, 3, 1, 0).numpy()
    b = conv.bias.detach().numpy() if conv.use_bias else None
    out = []
    for i in range(x.shape[0]):
        xi = as_bytes(to_hwc(x[i]))
        ri = as_bytes(to_hwc(r[i])) if r is not None else None
        out.append(glnn.conv2d(xi, w, b, ri, stride=conv.stride, padding=conv.padding, groups=conv.num_groups,
                               activation=conv.activation, device=device))
    return np.stack(out)


def conv_eval(conv, x, r):
    conv.eval()
    with torch.no_grad():
        y = conv(x, residual=r)
    return as_bytes(y.permute(0, 2, 3, 1))


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: "%dx%dx%d-%d-k%d-s%d-%s-g%d-%s%s%s" % (
    c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], "" if c[9] else "-nobias", "-res" if c[10] else ""))
def test_conv2d_eval_equals_reference(case, reference_device):
    conv, x, r = conv_case(case, seed=hash(case) % 2 ** 32)
    mine = conv_eval(conv, x, r)
    ref = conv_reference(conv, x, r, reference_device)
    nontrivial(ref)
    compare_bytes(mine, ref, True, "Conv2D %s on %s" % (case, reference_device))


@pytest.mark.parametrize("case", CONV_CASES[::2], ids=lambda c: "%dx%dx%d-k%d-s%d-%s-g%d" % (
    c[0], c[1], c[2], c[4], c[5], c[6], c[7]))
def test_conv2d_eval_equals_gpu(case, gpu_exact):
    device, exact = gpu_exact
    conv, x, r = conv_case(case, seed=hash(case) % 2 ** 32 + 1)
    compare_bytes(conv_eval(conv, x, r), conv_reference(conv, x, r, device), exact, "Conv2D %s on the GPU" % (case,))


def test_conv2d_training_mode_is_on_the_grid_and_close():
    """Training sums in PyTorch's order: on the grid, and at most 1 LSB from the exact result here."""
    conv, x, r = conv_case(CONV_CASES[8], seed=5)
    conv.train()
    y = conv(x, residual=r)
    assert y.requires_grad
    q = as_bytes(y.permute(0, 2, 3, 1))
    exact = conv_eval(conv, x, r)
    assert np.abs(q.astype(int) - exact).max() <= 1


def test_conv2d_exact_path_keeps_gradients():
    """Evaluation mode with gradients on (fine-tuning at the exact values) gives the same bytes."""
    conv, x, r = conv_case(CONV_CASES[2], seed=6)
    conv.eval()
    y = conv(x, residual=r)
    y.sum().backward()
    assert conv.weight.grad is not None and float(conv.weight.grad.abs().sum()) > 0
    assert np.array_equal(as_bytes(y.permute(0, 2, 3, 1)), conv_eval(conv, x, r))


# ---- Pooling2D ----

@pytest.mark.parametrize("operator, size, stride, padding, H, W", [
    ("max", 2, 0, "valid", 9, 8), ("max", 3, 2, "same", 7, 9), ("max", 2, 2, "same", 13, 13),
    ("max", 3, 1, "same", 5, 6), ("max", 5, 3, "valid", 11, 12), ("max", 6, 1, "valid", 6, 6),
    ("average", 2, 0, "valid", 8, 9), ("average", 3, 2, "valid", 9, 7), ("average", 7, 1, "valid", 7, 7),
    ("average", 5, 5, "valid", 11, 10),
])
def test_pooling2d_eval_equals_reference(operator, size, stride, padding, H, W, reference_device, gpu_exact):
    rng = np.random.default_rng(size * 100 + H)
    x = random_grid(rng, 2, 8, H, W)
    pool = gt.Pooling2D(operator, size, stride=stride, padding=padding).eval()
    with torch.no_grad():
        mine = as_bytes(pool(x).permute(0, 2, 3, 1))
    for device, exact in ((reference_device, True), gpu_exact):
        for i in range(2):
            m = nn.Model()
            m.append(nn.Pooling2D("p", operator, size, stride=stride, padding=padding))
            ref = as_bytes(run_model(m, None, as_bytes(to_hwc(x[i])), device, ["p"], "p")["p"])
            compare_bytes(mine[i], ref, exact or operator == "max", "Pooling2D on %s" % device)


def test_pooling2d_average_rounds_ties_up():
    x = torch.tensor([1, 2, 3, 4, 0, 0, 0, 1], dtype=torch.float32).reshape(2, 1, 2, 2) / 255
    x = x.repeat(1, 4, 1, 1)
    y = gt.Pooling2D("average", 2).eval()(x)
    assert as_bytes(y[:, 0, 0, 0]).tolist() == [3, 0]  # (1+2+3+4)/4 = 2.5 → 3; 1/4 → 0


def test_pooling2d_training_gradient():
    x = random_grid(np.random.default_rng(1), 1, 4, 4, 4).requires_grad_()
    pool = gt.Pooling2D("average", 2).train()
    pool(x).sum().backward()
    assert torch.allclose(x.grad, torch.full_like(x, 0.25))


# ---- Dense and Softmax ----

def dense_chunks(rng, layers):
    d = glnn.WritableChunkCollection()
    for name, layer in layers:
        d[name + "/w"] = layer.weight.detach().numpy()
        if layer.use_bias:
            d[name + "/b"] = layer.bias.detach().numpy()
    return d


@pytest.mark.parametrize("n_in, hidden, n_out, use_bias", [(16, 12, 10, True), (64, 7, 3, False), (4, 1, 1, True)])
def test_dense_and_softmax_eval_equal_reference(n_in, hidden, n_out, use_bias, reference_device, gpu_exact):
    """A 1×1×C tensor into Dense, Dense into Dense (a vector), then Softmax: the reference's floats
    exactly, the GPU within SPEC §2.5, probabilities within 1e-5."""
    rng = np.random.default_rng(n_in + hidden)
    d1 = gt.Dense(hidden, use_bias=use_bias)
    d2 = gt.Dense(n_out, num_input_dims=hidden)
    sm = gt.Softmax()
    x = random_grid(rng, 3, n_in, 1, 1)
    with torch.no_grad():
        d1.train()(x)  # the lazy input size
        for d in (d1, d2):
            d.weight.copy_(torch.from_numpy(rng.normal(0, 1, d.weight.shape).astype(np.float32)))
            if d.use_bias:
                d.bias.copy_(torch.from_numpy(rng.normal(0, 1, d.bias.shape).astype(np.float32)))
        for layer in (d1, d2, sm):
            layer.eval()
        h = d1(x)
        y = d2(h)
        p = sm(y)
    assert d1.num_input_dims == n_in
    data = dense_chunks(rng, [("d1", d1), ("d2", d2)])
    for device, exact in ((reference_device, True), gpu_exact):
        for i in range(3):
            m = nn.Model()
            m.append(nn.Dense("d1", hidden, use_bias=use_bias))
            m.append(nn.Dense("d2", n_out), connect=True)
            m.append(nn.Softmax("sm"), connect=True)
            out = run_model(m, data, as_bytes(to_hwc(x[i])), device, ["d1", "d2"], "d1")
            probs = m.get_probabilities()
            for ref, mine, layer, inp in ((out["d1"], h[i], d1, x[i].reshape(-1)), (out["d2"], y[i], d2, h[i])):
                if exact:
                    assert np.array_equal(mine.numpy(), ref), "Dense on %s" % device
                else:  # SPEC §2.5 Dense budget
                    a = layer.weight.detach().numpy()
                    b = layer.bias.detach().numpy() if layer.use_bias else 0
                    bound = 1e-4 * (np.abs(b) + np.abs(a * inp.numpy()).sum(1)) + 1e-6
                    assert (np.abs(mine.numpy() - ref) <= bound).all()
            assert np.abs(p[i].numpy() - probs).max() <= 1e-5


def test_dense_checks_its_input():
    d = gt.Dense(4, name="fc")
    with pytest.raises(glnn.ArgumentError, match=r"Dense 'fc': Dense expects a 1×1×C input, got 2×2×8"):
        d(torch.zeros(1, 8, 2, 2))
    with pytest.raises(glnn.ArgumentError, match="number of output dims must be positive, got 0"):
        gt.Dense(0)


def test_softmax_of_a_tensor():
    x = random_grid(np.random.default_rng(3), 2, 8, 1, 1)
    p = gt.Softmax().eval()(x)
    ref = torch.softmax(x.reshape(2, 8).double(), 1)
    assert torch.allclose(p.double(), ref, atol=1e-7) and p.dtype == torch.float32


# ---- ImageSampler ----

@pytest.mark.parametrize("H, W, size, crop, linear, rotation", [
    (30, 40, (17, 13), True, True, 0), (30, 40, (17, 13), False, True, 0), (30, 40, (16, 16), True, False, 0),
    (25, 19, (31, 41), True, True, 1), (25, 19, (9, 7), True, True, 2), (25, 19, (9, 7), False, False, 3),
    (28, 28, (28, 28), True, True, 0), (12, 10, (1, 1), True, True, 0), (12, 10, (1, 5), False, True, 0),
])
def test_image_sampler_eval_equals_reference(H, W, size, crop, linear, rotation, reference_device, gpu_exact):
    rng = np.random.default_rng(H * W + size[0])
    x = random_grid(rng, 2, 3, H, W)
    s = gt.ImageSampler(size, center_crop=crop, linear_interp=linear).eval()
    s.rotation = rotation
    mine = as_bytes(s(x).permute(0, 2, 3, 1))
    for device, exact in ((reference_device, True), gpu_exact):
        for i in range(2):
            m = nn.Model()
            op = nn.ImageSampler("s", size, center_crop=crop, linear_interp=linear)
            op.rotation = rotation
            m.append(op)
            ref = as_bytes(run_model(m, None, as_bytes(to_hwc(x[i])), device, ["s"], "s")["s"])
            compare_bytes(mine[i], ref, exact, "ImageSampler on %s" % device)


def test_image_sampler_takes_grey_and_rgba():
    rng = np.random.default_rng(0)
    grey = random_grid(rng, 1, 1, 8, 8)
    s = gt.ImageSampler((5, 5)).eval()
    assert torch.equal(s(grey), s(grey.expand(1, 3, 8, 8)))
    rgba = random_grid(rng, 1, 4, 8, 8)
    assert torch.equal(s(rgba), s(rgba[:, :3]))


# ---- channel shuffle ----

def test_channel_shuffle_spec_example():
    x = torch.arange(16, dtype=torch.float32).reshape(1, 16, 1, 1)
    y = gt.channel_shuffle(x, 2).reshape(-1).tolist()
    assert y == [0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15]
    x32 = torch.arange(32, dtype=torch.float32).reshape(1, 32, 1, 1)
    assert torch.equal(gt.channel_shuffle(x32, 8), x32)  # n = Q: the identity
    with pytest.raises(glnn.ArgumentError, match="shuffle 3 does not divide the 4 quads of the input"):
        gt.channel_shuffle(x, 3)


def test_shuffle_and_residual_in_a_model_equal_reference(reference_device, gpu_exact):
    """conv a → shuffle 2 → conv b (residual: a through shuffle 4) → conv c on b shuffled; against the
    same model built with glnn.nnets and its shuffled connections."""
    rng = np.random.default_rng(7)
    a = gt.Conv2D(1, 16, 16, activation="sigmoid_like")
    b = gt.Conv2D(3, 16, 16, padding="same", num_groups=4, activation="sigmoid_like")
    c = gt.Conv2D(3, 16, 8, padding="same", num_groups=2)
    data = glnn.WritableChunkCollection()
    with torch.no_grad():
        for name, conv, std in (("a", a, 1.0), ("b", b, 1.0), ("c", c, 0.1)):
            conv.weight.copy_(torch.from_numpy(rng.normal(0, std, conv.weight.shape).astype(np.float32)))
            conv.bias.copy_(torch.from_numpy(rng.normal(0.2, 0.2, conv.bias.shape).astype(np.float32)))
            data[name + "/w"] = conv.weight.detach().permute(2, 3, 1, 0).numpy()
            data[name + "/b"] = conv.bias.detach().numpy()
            conv.eval()
        x = random_grid(rng, 2, 16, 6, 7)
        ya = a(x)
        yb = b(gt.channel_shuffle(ya, 2), residual=gt.channel_shuffle(ya, 4))
        yc = c(gt.channel_shuffle(yb, 2))
    for device, exact in ((reference_device, True), gpu_exact):
        for i in range(2):
            m = nn.Model()
            m.append(nn.Conv2D("a", 1, 16, 16, activation="sigmoid_like"))
            m.append(nn.Conv2D("b", 3, 16, 16, padding="same", num_groups=4, activation="sigmoid_like"))
            m.append(nn.Conv2D("c", 3, 16, 8, padding="same", num_groups=2))
            m.add_connection("a", "b", shuffle=2)
            m.add_connection("a", "b", input=1, shuffle=4)
            m.add_connection("b", "c", shuffle=2)
            out = run_model(m, data, as_bytes(to_hwc(x[i])), device, ["a", "b", "c"], "a")
            for name, t in (("a", ya), ("b", yb), ("c", yc)):
                ref = as_bytes(out[name])
                nontrivial(ref)
                compare_bytes(as_bytes(to_hwc(t[i])), ref, exact, "%s on %s" % (name, device))


# ---- Upsampling2D (SPEC §5.5) ----

def test_upsampling2d():
    rng = np.random.default_rng(2)
    x = random_grid(rng, 1, 4, 3, 5)
    near = gt.Upsampling2D(3).eval()(x)
    assert torch.equal(near, x.repeat_interleave(3, 2).repeat_interleave(3, 3))
    y = as_bytes(gt.Upsampling2D(2, "bilinear").eval()(x))
    q = np.rint(x.numpy() * 255)

    def taps(n, f):  # SPEC §5.5 in double
        p = np.clip((np.arange(n * f) + 0.5) / f - 0.5, 0, n - 1)
        i0 = np.floor(p).astype(int)
        return i0, np.minimum(i0 + 1, n - 1), p - i0

    x0, x1, fx = taps(5, 2)
    y0, y1, fy = taps(3, 2)
    rows = (1 - fx) * q[..., x0] + fx * q[..., x1]
    v = (1 - fy)[:, None] * rows[..., y0, :] + fy[:, None] * rows[..., y1, :]
    assert np.array_equal(y, np.floor(v + 0.5).astype(np.uint8))
    with pytest.raises(glnn.ArgumentError, match="factor"):
        gt.Upsampling2D(17)
    with pytest.raises(glnn.ArgumentError, match="interpolation"):
        gt.Upsampling2D(2, "cubic")


# ---- validation: the library's own rules and messages ----

@pytest.mark.parametrize("args, kwargs", [
    ((3, 6, 8), {}), ((3, 3, 8), {"padding": "same"}), ((3, 3, 8), {"num_groups": 2}),
    ((3, 8, 8), {"num_groups": 3}), ((3, 16, 16), {"num_groups": 8}), ((0, 4, 4), {}), ((3, 4, 4), {"stride": 0}),
    ((3, 4, 4), {"activation": "relu"}), ((3, 4, 6), {}),
])
def test_conv2d_validation_is_the_library_s(args, kwargs):
    with pytest.raises(glnn.ArgumentError) as lib:
        nn.Conv2D("c", *args, **kwargs)
    with pytest.raises(glnn.ArgumentError) as mine:
        gt.Conv2D(*args, name="c", **kwargs)
    assert str(mine.value) == str(lib.value)
    with pytest.raises(glnn.ArgumentError) as unnamed:
        gt.Conv2D(*args, **kwargs)
    assert str(unnamed.value) == str(lib.value).replace("Conv2D 'c'", "Conv2D")


def test_other_layers_validation_is_the_library_s():
    for ctor, lib in ((lambda: gt.Pooling2D("max", 1, name="p"), lambda: nn.Pooling2D("p", "max", 1)),
                      (lambda: gt.Pooling2D("average", 2, padding="same", name="p"),
                       lambda: nn.Pooling2D("p", "average", 2, padding="same")),
                      (lambda: gt.ImageSampler((0, 4), name="s"), lambda: nn.ImageSampler("s", (0, 4))),
                      (lambda: gt.Softmax(name="a#b"), lambda: nn.Softmax("a#b"))):
        with pytest.raises(glnn.ArgumentError) as e1:
            ctor()
        with pytest.raises(glnn.ArgumentError) as e2:
            lib()
        assert str(e1.value) == str(e2.value)


def test_runtime_checks_name_the_layer():
    conv = gt.Conv2D(3, 8, 8, name="c")
    with pytest.raises(glnn.ArgumentError, match="Conv2D 'c': input depth 4 does not match num_input_channels 8"):
        conv(torch.zeros(1, 4, 5, 5))
    with pytest.raises(glnn.ArgumentError, match=r"Conv2D 'c': output would be empty \(input 2×2, kernel 3"):
        conv(torch.zeros(1, 8, 2, 2))
    with pytest.raises(glnn.ArgumentError, match="residual shape"):
        conv(torch.zeros(1, 8, 5, 5), residual=torch.zeros(1, 8, 5, 5))
    with pytest.raises(ValueError, match="outside \\[0, 1\\].*divide 8-bit data by 255"):
        conv(torch.full((1, 8, 5, 5), 200.0))
    with pytest.raises(ValueError, match="nan at flat index 3"):
        x = torch.zeros(1, 8, 5, 5)
        x.view(-1)[3] = float("nan")
        conv(x)
    img = gt.Conv2D(3, 3, 8, name="i")
    with pytest.raises(glnn.ArgumentError, match="no residual input with an image input"):
        img(torch.zeros(1, 3, 5, 5), residual=torch.zeros(1, 8, 3, 3))


# ---- training: the 8-bit grid and gradients ----

def tiny_net():
    return torch.nn.Sequential(
        gt.Conv2D(3, 3, 8), gt.Conv2D(3, 8, 8, padding="same", num_groups=2, activation="brelu6"),
        gt.Pooling2D("max", 2), gt.Conv2D(3, 8, 8, num_groups=8, padding="same", activation="sigmoid_like"),
        gt.Pooling2D("average", 3), gt.Dense(2))


def test_training_outputs_stay_on_the_grid():
    torch.manual_seed(0)
    net = tiny_net().train()
    x = torch.rand(4, 3, 8, 8)  # off-grid floats: quantized at the input, as glnn does
    h = x
    for layer in net[:-1]:
        h = layer(h)
        as_bytes(h)  # asserts every value is q/255 exactly
        assert h.requires_grad


def test_training_reduces_the_loss():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    net = tiny_net().train()
    y = torch.from_numpy(rng.integers(0, 2, 32))
    x = random_grid(rng, 32, 3, 8, 8)
    x[:, 0] = x[:, 0] * 0.5 + 0.5 * y[:, None, None]  # class 1: a bright red channel
    opt = torch.optim.Adam(net.parameters(), lr=0.03)
    losses = []
    for _ in range(30):
        loss = torch.nn.functional.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        losses.append(float(loss))
        opt.step()
    for p in net.parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all()
    assert min(losses[-5:]) < 0.5 * losses[0], losses


def test_straight_through_gradient():
    from glnn.torch import _numerics as num
    v = torch.tensor([-0.5, 0.0, 0.3, 0.7, 1.0, 1.5], requires_grad=True)
    num.quantize(v).backward(torch.ones(6))
    assert v.grad.tolist() == [0, 1, 1, 1, 1, 0]
