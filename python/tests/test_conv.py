"""glnn.conv2d and Conv2D inside models, compared with the independent numpy implementation of npref.py:
bit-exact on the CPU reference, within 1 LSB on the GPU (SPEC §2.5)."""
import numpy as np
import pytest

import glnn
from glnn import nnets as nn

import npref

# (H, W, Cin, k, stride, padding, groups, Cout, activation, bias, residual)
CASES = [
    (5, 7, 4, 3, 1, "valid", 1, 4, "default", True, False),
    (9, 6, 8, 3, 2, "same", 1, 8, "sigmoid_like", True, False),   # SPEC §3: 9 wide, 6 high -> 5x3
    (8, 8, 4, 3, 2, "same", 1, 4, "brelu6", False, False),
    (7, 7, 4, 3, 2, "same", 1, 12, "default", True, True),        # odd padding 1/1, residual
    (5, 5, 4, 4, 1, "same", 1, 4, "default", True, True),         # even kernel: 1 before, 2 after
    (10, 10, 4, 1, 4, "same", 1, 8, "default", True, False),      # 1x1, stride 4, unused positions
    (1, 1, 4, 5, 1, "same", 1, 4, "sigmoid_like", True, False),   # 1x1 input, 5x5 kernel
    (6, 5, 16, 3, 1, "same", 16, 16, "sigmoid_like", True, True),  # depthwise
    (6, 6, 32, 3, 1, "same", 8, 32, "sigmoid_like", True, True),   # grouped, 4 channels per group
    (6, 6, 16, 1, 1, "valid", 2, 8, "brelu6", True, False),       # grouped pointwise
    (11, 9, 3, 5, 2, "valid", 1, 8, "sigmoid_like", True, False),  # image input
    (4, 6, 3, 3, 1, "valid", 1, 4, "default", False, False),      # image input, no bias
]


def make_case(case, seed):
    H, W, C, k, s, pad, G, cout, act, use_bias, use_res = case
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (H, W, C), dtype=np.uint8)
    w = rng.normal(0, 1.5 / np.sqrt(k * k * C / G), (k, k, C // G, cout)).astype(np.float32)
    b = rng.normal(0.2, 0.3, cout).astype(np.float32) if use_bias else None
    Ho, _ = npref.axis(H, k, s, pad)
    Wo, _ = npref.axis(W, k, s, pad)
    r = rng.integers(0, 256, (Ho, Wo, cout), dtype=np.uint8) if use_res else None
    return x, w, b, r, dict(stride=s, padding=pad, groups=G, activation=act)


@pytest.mark.parametrize("case", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_cpu_matches_numpy_exactly(case):
    x, w, b, r, kw = make_case(case, 1)
    expected = npref.conv2d(x, w, b, r, **kw)
    got = glnn.conv2d(x, w, b, r, device="cpu", **kw)
    assert got.dtype == np.uint8 and got.shape == expected.shape
    assert np.array_equal(got, expected), np.argwhere(got != expected)[:5]
    # The values are spread over the byte range, not saturated.
    assert len(np.unique(got)) > min(10, got.size // 2)


@pytest.mark.parametrize("case", [CASES[1], CASES[7], CASES[8], CASES[10]], ids=["same-s2", "depthwise", "grouped",
                                                                              "image"])
def test_gpu_within_one_lsb(gpu, case):
    x, w, b, r, kw = make_case(case, 2)
    expected = npref.conv2d(x, w, b, r, **kw)
    got = glnn.conv2d(x, w, b, r, device=gpu, **kw)
    diff = np.abs(got.astype(int) - expected)
    assert diff.max() <= 1, diff.max()
    assert (diff == 0).mean() > 0.9


def test_spec_examples():
    # SPEC §4.6 checks: SIGMOID_LIKE at z = 0, 1, -3, 7 gives 128, 166, 45, 255; BRELU6 at 3, 5.9, 6 gives
    # 128, 251, 255.  A 1x1 convolution with weight 1 on a zero input and the value as bias produces z.
    x = np.zeros((1, 1, 4), np.uint8)
    w = np.zeros((1, 1, 4, 4), np.float32)
    for act, zs, expect in (("sigmoid_like", [0, 1, -3, 7], [128, 166, 45, 255]),
                            ("brelu6", [3, 5.9, 6, -1], [128, 251, 255, 0])):
        got = glnn.conv2d(x, w, np.array(zs, np.float32), activation=act, device="cpu")
        assert got.reshape(-1).tolist() == expect
        assert npref.conv2d(x, w, np.array(zs, np.float32), activation=act).reshape(-1).tolist() == expect


def test_float_input_is_quantized():
    x, w, b, r, kw = make_case(CASES[1], 3)
    xf = x.astype(np.float64) / 255
    assert np.array_equal(glnn.conv2d(xf, w, b, device="cpu", **kw), glnn.conv2d(x, w, b, device="cpu", **kw))
    # Values are rounded with Q, within half a step of [0, 1]; further out is an error (SPEC §2.2).
    noisy = np.clip(xf + np.where(xf > 0.5, 1, -1) / 600 * (np.random.default_rng(0).random(xf.shape) < 0.5), -1 / 600,
                    1 + 1 / 600)
    assert np.array_equal(glnn.conv2d(noisy, w, b, device="cpu", **kw),
                          glnn.conv2d(npref.quantize(noisy), w, b, device="cpu", **kw))
    with pytest.raises(glnn.ArgumentError, match=r"values must be in \[0, 1\]"):
        glnn.conv2d(xf * 255, w, b, device="cpu", **kw)
    img = np.random.default_rng(1).random((6, 6, 3)).astype(np.float32)
    wi = np.ones((3, 3, 3, 4), np.float32) / 27
    assert np.array_equal(glnn.conv2d(img, wi, device="cpu"), glnn.conv2d(npref.quantize(img), wi, device="cpu"))


def test_non_contiguous_and_other_dtypes():
    x, w, b, r, kw = make_case(CASES[3], 4)
    ref = glnn.conv2d(x, w, b, r, device="cpu", **kw)
    big = np.zeros((x.shape[0] * 2, x.shape[1], x.shape[2] * 2), np.uint8)
    big[::2, :, ::2] = x
    strided = big[::2, :, ::2]
    assert not strided.flags.c_contiguous
    fortran = np.asfortranarray(x)
    wt = np.ascontiguousarray(w.transpose(3, 2, 1, 0)).transpose(3, 2, 1, 0)
    assert not wt.flags.c_contiguous
    for xi, wi, bi, ri in ((strided, w, b, r), (fortran, wt, b.astype(np.float64), r.astype(np.int64)),
                           (x.astype(np.int32), w.astype(">f4"), b.astype(">f8"), np.asfortranarray(r)),
                           (x.tolist(), w.astype(np.float64), b.tolist(), r.astype(np.float32) / 255)):
        assert np.array_equal(glnn.conv2d(xi, wi, bi, ri, device="cpu", **kw), ref)


def test_keras_depthwise_kernel():
    rng = np.random.default_rng(5)
    x = rng.integers(0, 256, (5, 5, 8), dtype=np.uint8)
    keras = rng.normal(0, 0.5, (3, 3, 8, 1)).astype(np.float32)
    a = glnn.conv2d(x, keras, groups=8, padding="same", device="cpu")
    b = glnn.conv2d(x, keras.reshape(3, 3, 1, 8), groups=8, padding="same", device="cpu")
    assert np.array_equal(a, b)
    assert np.array_equal(a, npref.conv2d(x, keras.reshape(3, 3, 1, 8), groups=8, padding="same"))


def test_enum_arguments():
    x, w, b, r, kw = make_case(CASES[1], 6)
    a = glnn.conv2d(x, w, b, stride=2, padding="SAME", activation="Sigmoid_Like", device="cpu")
    c = glnn.conv2d(x, w, b, stride=2, padding=nn.Padding.SAME, activation=nn.ActivationFunction.SIGMOID_LIKE,
                    device="cpu")
    assert np.array_equal(a, c)


def test_conv2d_in_a_model_matches_numpy():
    """The same convolutions through Model / InferenceTask: get_output_data returns q/255 as float32."""
    for i, case in enumerate(CASES):
        x, w, b, r, kw = make_case(case, 7)
        H, W, C, k, s, pad, G, cout, act, use_bias, use_res = case
        op = nn.Conv2D("conv", k, C, cout, s, pad, use_bias, G, act)
        m = nn.Model()
        m.append(op)
        m.add_output(op)
        data = glnn.WritableChunkCollection()
        data["conv" + nn.Conv2D.filters_chunk_suffix] = w
        if use_bias:
            data["conv" + nn.Conv2D.bias_chunk_suffix] = b
        t = glnn.InferenceTask(m, data, device="cpu")
        t.connect(x, op)
        if use_res:
            t.connect(r, "conv", 1)
        t.run()
        out = m.get_output_data(op)
        expected = npref.conv2d(x, w, b, r, **kw)
        assert out.dtype == np.float32 and out.shape == expected.shape
        assert np.array_equal(out, expected.astype(np.float32) / np.float32(255)), i
        assert np.array_equal(np.rint(out * 255).astype(np.uint8), expected)
        mult = op.num_output_channels * k * k * (3 if C == 3 else 1 if G == C and cout == C and G > 1 else C // G)
        assert op.count_multiply_adds() == expected.shape[0] * expected.shape[1] * mult
