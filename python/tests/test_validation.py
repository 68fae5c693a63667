"""Every validation error reaches Python as a clear exception: construction rules, model building,
preparation, inputs, chunk files, glnn.conv2d arguments."""
import numpy as np
import pytest

import glnn
from glnn import nnets as nn

AE = glnn.ArgumentError


def raises(exc, fragment, fn, *args, **kwargs):
    with pytest.raises(exc) as e:
        fn(*args, **kwargs)
    assert fragment in str(e.value), str(e.value)
    return e.value


# ---- Conv2D construction: rules V1-V13 in order (SPEC §4.3) ----

@pytest.mark.parametrize("name, fragment", [
    ("", "the name is empty"),
    ("x" * 254, "254 bytes long, at most 253"),
    ("a\tb", "byte 0x09 at position 1"),
    ("a\x7fb", "byte 0x7F"),
    ("a#b", "byte 0x23"),
    (" a", "starts or ends with a space"),
    ("a ", "starts or ends with a space"),
    ("a\x00b", "byte 0x00 at position 1"),
])
def test_v1_names(name, fragment):
    e = raises(AE, fragment, nn.Conv2D, name, 3, 4, 4)
    assert "invalid operation name" in str(e)
    for ctor in (lambda: nn.Pooling2D(name, "max", 2), lambda: nn.Dense(name, 4), lambda: nn.Softmax(name),
                 lambda: nn.ImageSampler(name, (2, 2))):
        with pytest.raises(AE, match="invalid operation name"):
            ctor()


def test_v1_accepts():
    assert nn.Conv2D("x" * 253, 1, 4, 4).name == "x" * 253
    assert nn.Conv2D("a b/ü", 1, 4, 4).name == "a b/ü"


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(padding="diagonal"), "invalid padding 'diagonal'"),
    (dict(padding=7), "invalid padding 7"),
    (dict(padding=-1), "invalid padding -1"),
    (dict(padding=nn.ActivationFunction.BRELU6), "invalid padding <ActivationFunction.BRELU6"),
    (dict(padding=None), "invalid padding None"),
    (dict(padding=True), "invalid padding True"),
    (dict(padding="same\x00x"), "invalid padding 'same\\x00x'"),
    (dict(padding=2 ** 80), "invalid padding 1208925819614629174706176"),
    (dict(activation="relu"), "invalid activation function 'relu'"),
    (dict(activation=3), "invalid activation function 3"),
    (dict(activation=nn.Padding.SAME), "invalid activation function <Padding.SAME"),
    (dict(kernel_size=0), "kernel size must be positive, got 0"),
    (dict(stride=0), "stride must be positive, got 0"),
    (dict(num_groups=0), "number of groups must be positive, got 0"),
    (dict(num_input_channels=6), "input channels must be 3 or a positive multiple of 4, got 6"),
    (dict(num_input_channels=0), "input channels must be 3 or a positive multiple of 4, got 0"),
    (dict(num_output_channels=6), "output channels must be a positive multiple of 4, got 6"),
    (dict(num_input_channels=3, num_groups=2), "an image input cannot be used with groups"),
    (dict(num_input_channels=3, padding="same"), "an image input supports VALID padding only"),
    (dict(num_input_channels=8, num_groups=3), "cannot split 8 input channels into 3 groups"),
    (dict(num_input_channels=24, num_output_channels=16, num_groups=3),
     "cannot split 16 output channels into 3 groups"),
    (dict(num_input_channels=16, num_output_channels=32, num_groups=16),
     "each group needs a multiple of 4 input channels, got 1 (a depthwise convolution needs"),
    (dict(num_input_channels=16, num_output_channels=16, num_groups=8),
     "each group needs a multiple of 4 input channels, got 2"),
    (dict(num_input_channels=16, num_output_channels=8, num_groups=4),
     "each group needs a multiple of 4 output channels, got 2"),
])
def test_conv2d_rules(kwargs, fragment):
    args = dict(name="c", kernel_size=3, num_input_channels=4, num_output_channels=4)
    args.update(kwargs)
    e = raises(AE, fragment, nn.Conv2D, **args)
    assert str(e).startswith("Conv2D 'c'")


def test_conv2d_rule_order():
    # The first failing rule is reported.
    raises(AE, "invalid operation name", nn.Conv2D, "", 0, 6, 6, padding="bad")
    raises(AE, "invalid padding", nn.Conv2D, "c", 0, 6, 6, padding="bad", activation="bad")
    raises(AE, "kernel size", nn.Conv2D, "c", 0, 6, 6, stride=0)
    raises(AE, "stride", nn.Conv2D, "c", 1, 6, 6, stride=0, num_groups=0)
    raises(AE, "input channels", nn.Conv2D, "c", 1, 6, 6)


def test_conv2d_kinds_accepted():
    nn.Conv2D("depthwise", 3, 16, 16, num_groups=16)
    nn.Conv2D("grouped", 3, 32, 32, num_groups=8)
    nn.Conv2D("image", 5, 3, 32, stride=2)


def test_argument_types():
    with pytest.raises(TypeError):
        nn.Conv2D("c", "3", 4, 4)
    with pytest.raises(TypeError):
        nn.Conv2D("c", 3.0, 4, 4)
    with pytest.raises(TypeError, match="the name must be a str"):
        nn.Conv2D(3, 3, 4, 4)
    with pytest.raises(OverflowError):
        nn.Conv2D("c", 2 ** 40, 4, 4)
    with pytest.raises(TypeError):
        nn.Dense("d", None)


# ---- other operations (SPEC §5) ----

def test_pooling2d_rules():
    raises(AE, "invalid pooling operator 'median'", nn.Pooling2D, "p", "median", 2)
    raises(AE, "invalid pooling operator 5", nn.Pooling2D, "p", 5, 2)
    raises(AE, "invalid pooling operator <Padding.SAME", nn.Pooling2D, "p", nn.Padding.SAME, 2)
    raises(AE, "invalid padding 'full'", nn.Pooling2D, "p", "max", 2, padding="full")
    raises(AE, "pool size must be at least 2, got 1", nn.Pooling2D, "p", "max", 1)
    raises(AE, "stride must be positive, or 0 for the pool size, got -1", nn.Pooling2D, "p", "max", 2, -1)
    raises(AE, "AVERAGE pooling supports VALID padding only", nn.Pooling2D, "p", "average", 2, padding="same")
    raises(AE, "invalid operation name", nn.Pooling2D, "", "median", 2)


def test_dense_rules():
    for n in (0, -4):
        raises(AE, f"number of output dims must be positive, got {n}", nn.Dense, "d", n)
    # Any count from 1 is valid (SPEC §5.2; Beatmup required a multiple of 4).
    for n in (1, 3, 6, 10):
        assert nn.Dense("d", n).num_output_dims == n


def test_image_sampler_rules():
    raises(AE, "output size must be positive, got 0×4", nn.ImageSampler, "s", (0, 4))
    raises(AE, "output size must be positive, got 4×-1", nn.ImageSampler, "s", (4, -1))
    for bad in (5, (1, 2, 3), "ab", (1.5, 2), None):
        raises(AE, "size must be a (width, height) pair of integers", nn.ImageSampler, "s", bad)
    raises(AE, "invalid operation name", nn.ImageSampler, "", 5)
    s = nn.ImageSampler("s", (4, 4))
    for bad in (4, -1, 2 ** 70):
        raises(AE, "rotation must be 0, 1, 2 or 3", setattr, s, "rotation", bad)
    with pytest.raises(TypeError):
        s.rotation = "1"
    with pytest.raises(AttributeError):
        del s.rotation
    assert s.rotation == 0


# ---- models (SPEC §7.1, §7.2, §7.3) ----

def small_model():
    m = nn.Model()
    m.append(nn.Conv2D("a", 1, 4, 4))
    m.append(nn.Conv2D("b", 1, 4, 4), connect=True)
    return m


def test_model_building_errors():
    m = small_model()
    before = m.serialize()
    raises(AE, "an operation named 'a' is already in the model", m.append, nn.Conv2D("a", 1, 4, 4))
    raises(AE, "'b' is already in the model", m.append, m.get_last_operation())
    raises(AE, "no operation named 'zz' to insert 'c' before", m.add_operation, "zz", nn.Conv2D("c", 1, 4, 4))
    raises(AE, "source operation 'x' not found", m.add_connection, "x", "b")
    raises(AE, "destination operation 'y' not found", m.add_connection, "a", "y")
    raises(AE, "'a' has no output #1 (it has 1)", m.add_connection, "a", "b", output=1, input=1)
    raises(AE, "'b' has no input #2 (it has 2)", m.add_connection, "a", "b", input=2)
    raises(AE, "shuffle must be 0 or more, got -1", m.add_connection, "a", "b", input=1, shuffle=-1)
    raises(AE, "input #0 of 'b' is already connected", m.add_connection, "a", "b")
    raises(AE, "operation 'q' not found", m.add_output, "q")
    raises(AE, "'a' has no output #3", m.add_output, "a", 3)
    raises(AE, "is not in the model (another operation there has its name)", m.add_output, nn.Conv2D("a", 1, 4, 4))
    assert m.serialize() == before  # failed calls change nothing
    with pytest.raises(TypeError, match="expected an operation"):
        m.append("a")
    with pytest.raises(TypeError, match="expected an operation or its name"):
        m.add_output(3)
    sm = nn.Model()
    sm.append(nn.Softmax("s"))
    raises(AE, "cannot connect 's', which has no output", sm.append, nn.Dense("d", 4), connect=True)


def test_reading_errors():
    m = small_model()
    raises(glnn.Error, "output #0 of 'b' is not registered; call add_output first", m.get_output_data, "b")
    m.add_output("b")
    e = raises(glnn.Error, "the model has not run successfully", m.get_output_data, "b")
    assert not isinstance(e, ValueError)
    raises(AE, "operation 'nope' not found", m.get_output_data, "nope")
    raises(glnn.Error, "the model is not prepared", m.count_multiply_adds)
    raises(glnn.Error, "the model is not prepared", m.count_texel_fetches)
    raises(glnn.Error, "the model is not prepared", getattr, m, "memory_size")
    raises(AE, "the model has no Softmax", m.get_probabilities)
    raises(AE, "'a' is not a Softmax", m.get_probabilities, "a")
    s = nn.Model()
    s.append(nn.Softmax("s"))
    raises(glnn.Error, "has not run successfully", s.get_probabilities)


def test_preparation_errors():
    data = glnn.WritableChunkCollection()
    cpu = dict(device="cpu")
    # Order: an op reading a later op's output.
    m = nn.Model()
    m.append(nn.Conv2D("a", 1, 4, 4))
    m.append(nn.Conv2D("b", 1, 4, 4))
    m.add_connection("b", "a")
    t = glnn.InferenceTask(m, data, **cpu)
    raises(glnn.Error, "'a' (position 0) reads output #0 of 'b' (position 1), which runs later; move 'b' before 'a'",
           t.run)
    # Input not provided; empty model.
    m = small_model()
    raises(glnn.Error, "input #0 of 'a' is not provided", glnn.InferenceTask(m, data, **cpu).run)
    raises(glnn.Error, "the model has no operations", glnn.InferenceTask(nn.Model(), data, **cpu).run)
    # Weights: missing data, missing chunk, wrong size, non-finite value.
    t = glnn.InferenceTask(m, None, **cpu)
    t.connect(np.zeros((2, 2, 4), np.uint8), "a")
    raises(glnn.Error, "no model data given to read the weights 'a/w' from", t.run)
    t = glnn.InferenceTask(m, data, **cpu)
    raises(AE, "'a/w'", t.run)
    data["a/w"] = np.zeros(15, np.float32)
    e = raises(AE, "'a/w'", t.run)
    assert "64" in str(e) and "60" in str(e)
    data["a/w"] = np.full(16, np.nan, np.float32)
    raises(AE, "non-finite", t.run)
    data["a/w"] = np.zeros(16, np.float32)
    raises(AE, "'a/b'", t.run)
    data["a/b"] = np.zeros(4, np.float32)
    data["b/w"] = np.zeros(16, np.float32)
    data["b/b"] = np.zeros(4, np.float32)
    t.run()  # now complete
    # Input depth and image/tensor kinds.
    t.connect(np.zeros((2, 2, 8), np.uint8), "a")
    raises(AE, "input depth 8 does not match num_input_channels 4", t.run)
    img = nn.Model()
    img.append(nn.Conv2D("i", 3, 3, 4))
    ti = glnn.InferenceTask(img, None, **cpu)
    ti.connect(np.zeros((2, 2, 3), np.uint8), "i")
    raises(AE, "output would be empty (input 2×2, kernel 3, stride 1, valid padding)", ti.run)
    # Shuffle not dividing the quads.
    sh = nn.Model()
    sh.append(nn.Conv2D("a", 1, 4, 12))
    sh.append(nn.Conv2D("b", 1, 12, 4))
    sh.add_connection("a", "b", shuffle=2)
    ts = glnn.InferenceTask(sh, glnn.WritableChunkCollection({"a/w": np.zeros(48), "a/b": np.zeros(12)}), **cpu)
    ts.connect(np.zeros((1, 1, 4), np.uint8), "a")
    raises(AE, "shuffle 2 does not divide the 3 quads of 'a' output #0", ts.run)
    # Kinds of data on connections (SPEC §7.2 table) and residuals of image convolutions.
    k = nn.Model()
    k.append(nn.ImageSampler("in", (4, 4)))
    k.append(nn.Conv2D("c", 1, 4, 4), connect=True)
    tk = glnn.InferenceTask(k, glnn.WritableChunkCollection({"c/w": np.zeros(16), "c/b": np.zeros(4)}), **cpu)
    tk.connect(np.zeros((4, 4, 3), np.uint8), "in")
    raises(AE, "'c' expects a tensor on input #0", tk.run)
    k = nn.Model()
    k.append(nn.Conv2D("c", 1, 4, 4))
    k.append(nn.ImageSampler("s", (2, 2)), connect=True)
    tk = glnn.InferenceTask(k, glnn.WritableChunkCollection({"c/w": np.zeros(16), "c/b": np.zeros(4)}), **cpu)
    tk.connect(np.zeros((4, 4, 4), np.uint8), "c")
    raises(AE, "'s' expects an image on input #0", tk.run)
    k = nn.Model()
    k.append(nn.Conv2D("i", 1, 3, 4))
    tk = glnn.InferenceTask(k, glnn.WritableChunkCollection({"i/w": np.zeros(12), "i/b": np.zeros(4)}), **cpu)
    tk.connect(np.zeros((2, 2, 3), np.uint8), "i")
    tk.connect(np.zeros((2, 2, 4), np.uint8), "i", 1)
    raises(AE, "no residual input with an image input", tk.run)
    k = nn.Model()
    k.append(nn.ImageSampler("in", (4, 4)))
    k.append(nn.Softmax("s"), connect=True)
    tk = glnn.InferenceTask(k, None, **cpu)
    tk.connect(np.zeros((4, 4, 3), np.uint8), "in")
    raises(AE, "'s' expects a 1×1 tensor or a vector on input #0, got an image", tk.run)
    k = nn.Model()
    k.append(nn.Softmax("s"))
    tk = glnn.InferenceTask(k, None, **cpu)
    tk.connect(np.zeros((2, 1, 4), np.uint8), "s")
    raises(AE, "Softmax expects a 1×1×C input, got 2×1×4", tk.run)
    # Dense / Softmax input shape.
    d = nn.Model()
    d.append(nn.Dense("d", 4))
    td = glnn.InferenceTask(d, None, **cpu)
    td.connect(np.zeros((2, 2, 4), np.uint8), "d")
    raises(AE, "Dense expects a 1×1×C input, got 2×2×4", td.run)


def test_sampling_limit(gpu):
    m = nn.Model()
    m.append(nn.Conv2D("c", 3, 8, 4))
    data = glnn.WritableChunkCollection({"c/w": np.zeros(3 * 3 * 8 * 4, np.float32), "c/b": np.zeros(4, np.float32)})
    t = glnn.InferenceTask(m, data, device=gpu, max_sampled_channels=64)
    t.connect(np.zeros((4, 4, 8), np.uint8), "c")
    raises(AE, "Conv2D 'c' samples 72 input channels per output value, above this device's limit of 64", t.prepare)
    raises(AE, "max_sampled_channels must be 0 or more", glnn.InferenceTask, m, data, max_sampled_channels=-2)


# ---- inputs ----

def test_connect_errors():
    m = nn.Model()
    m.append(nn.ImageSampler("in", (4, 4)))
    m.append(nn.Conv2D("c", 1, 4, 4))
    t = glnn.InferenceTask(m, None, device="cpu")
    raises(AE, "operation 'zz' not found in the model", t.connect, np.zeros((2, 2, 3), np.uint8), "zz")
    raises(AE, "must hold uint8 or floating-point values, got dtype complex128", t.connect,
           np.zeros((2, 2, 3), complex), "in")
    raises(AE, "must hold uint8 or floating-point values, got dtype bool", t.connect, np.zeros((2, 2, 3), bool), "in")
    raises(AE, "must hold uint8 or floating-point values, got dtype object", t.connect,
           np.array([[["a"] * 3] * 2] * 2, dtype=object), "in")
    raises(AE, "integer data must lie in 0..255 (uint8), got 256 at flat index 5", t.connect,
           np.array([[[0, 0, 0], [0, 0, 256]]]), "in")
    raises(AE, "integer data must lie in 0..255 (uint8), got -1", t.connect, np.full((1, 1, 3), -1, np.int8), "in")
    raises(AE, "must be a 2- to 3-dimensional array, got shape (2,)", t.connect, np.zeros(2, np.uint8), "in")
    raises(AE, "must be a 3-dimensional array, got shape (2, 2)", t.connect, np.zeros((2, 2), np.uint8), "c")
    raises(AE, "is empty (shape (0, 2, 3))", t.connect, np.zeros((0, 2, 3), np.uint8), "in")
    raises(AE, "NaN at flat index 4", t.connect, np.array([[[0, 0, 0], [0, np.nan, 0]]], np.float32), "in")
    raises(AE, "5 channels per pixel; 1, 3 or 4 are supported", t.connect, np.zeros((2, 2, 5), np.uint8), "in")
    raises(AE, "depth must be a multiple of 4, got 6", t.connect, np.zeros((2, 2, 6), np.uint8), "c")
    raises(AE, "NaN at flat index 1", t.connect, np.array([[[0, np.nan, 0, 0]]]), "c")
    raises(AE, "must be an array of numbers", t.connect, [[1, 2], [3]], "in")
    raises(AE, "'c' has no input #2", t.connect, np.zeros((2, 2, 4), np.uint8), "c", 2)
    m.add_connection("in", "c")
    raises(AE, "input #0 of 'c' is connected to another operation", t.connect, np.zeros((2, 2, 4), np.uint8), "c")


def test_task_argument_errors():
    m = nn.Model()
    with pytest.raises(TypeError, match="model must be a glnn.nnets.Model"):
        glnn.InferenceTask("model", None)
    with pytest.raises(TypeError, match="data must be a ChunkFile"):
        glnn.InferenceTask(m, {"a/w": b""})
    with pytest.raises(TypeError, match="device must be a str"):
        glnn.InferenceTask(m, None, device=0)
    raises(AE, "invalid device ':'", glnn.InferenceTask, m, None, device=":")
    # Devices are checked when the task is made, not when it first runs.
    with pytest.raises(glnn.Error, match="99"):
        glnn.InferenceTask(m, None, device="99")
    raises(AE, "unknown device 'tpu'", glnn.InferenceTask, m, None, device="tpu")


# ---- chunk files (SPEC §9) ----

def test_chunk_file_errors(tmp_path, dog_model):
    with pytest.raises(FileNotFoundError, match="No such file") as e:
        glnn.ChunkFile(tmp_path / "missing.chunks")
    assert e.value.filename == str(tmp_path / "missing.chunks") and e.value.status == "not found"
    bad = tmp_path / "bad.chunks"
    bad.write_bytes(b"\x01\x00\x00\x00a\x05\x00\x00\x00abc")
    raises(AE, "truncated chunk record at byte offset 0", glnn.ChunkFile, bad)
    bad.write_bytes(b"\x00\x01\x00\x00")
    raises(AE, "offset 0", glnn.ChunkFile, bad)
    f = glnn.ChunkFile(dog_model)
    assert not f.closed and len(f) == 86
    with pytest.raises(TypeError):
        f["x"] = b""
    with pytest.raises(TypeError):
        del f["Dense/b"]
    with pytest.raises(KeyError):
        f["missing"]
    with pytest.raises(TypeError, match="chunk ids are str or bytes"):
        f[3]
    assert 3 not in f
    f.close()
    assert f.closed and "(closed)" in repr(f)
    for fn in (len, list, lambda f: f[""], lambda f: "" in f, lambda f: f.keys(), lambda f: f.chunk_size(""),
               nn.DeserializedModel):
        raises(AE, "is closed", fn, f)
    m = nn.Model()
    m.append(nn.Softmax("s"))
    raises(AE, "is closed", glnn.InferenceTask(m, f, device="cpu").run)
    f.open()
    assert len(f) == 86
    with glnn.ChunkFile(dog_model) as g:
        assert len(g) == 86
    assert g.closed
    unopened = glnn.ChunkFile(dog_model, open_now=False)
    assert unopened.closed
    raises(AE, "ChunkFile", len, unopened)


def test_writable_errors(tmp_path):
    w = glnn.WritableChunkCollection()
    raises(AE, "longer than 255 bytes", w.__setitem__, "x" * 256, b"")
    with pytest.raises(KeyError):
        del w["nope"]
    raises(AE, "chunk payloads cannot be made of dtype", w.__setitem__, "x", np.array(["a"]))
    raises(AE, "a chunk payload is str, bytes, a numpy array or a sequence of numbers", w.__setitem__, "x", object())
    raises(glnn.Error, "", w.save, tmp_path / "no" / "such" / "dir.chunks")
    with pytest.raises(TypeError):
        glnn.WritableChunkCollection(5)


def test_listing_errors():
    raises(AE, "line 2", nn.DeserializedModel, "ops:\n- _name: a\n  _type: conv2d\n")
    raises(AE, "", nn.DeserializedModel, "ops:\n - _name: a\n   _type: teleport\n")
    raises(AE, "kernel_size", nn.DeserializedModel,
           "ops:\n - _name: a\n   _type: conv2d\n   kernel_size: x\n   input_channels: 4\n   output_channels: 4\n")
    raises(AE, "kernel size must be positive", nn.DeserializedModel,
           "ops:\n - _name: a\n   _type: conv2d\n   kernel_size: 0\n   input_channels: 4\n   output_channels: 4\n")
    raises(AE, "", nn.DeserializedModel, "connections:\n")
    with pytest.raises(TypeError):
        nn.DeserializedModel(42)
    raises(AE, "", nn.DeserializedModel, glnn.WritableChunkCollection())  # no listing chunk


# ---- glnn.conv2d arguments ----

def test_conv2d_function_errors():
    x = np.zeros((4, 4, 4), np.uint8)
    w = np.zeros((3, 3, 4, 4), np.float32)
    raises(AE, "the input has 4 channels, but weights of shape (3, 3, 8, 4) with groups=1 need 8", glnn.conv2d, x,
           np.zeros((3, 3, 8, 4), np.float32))
    raises(AE, "the kernel must be square (k, k, C/groups, Cout), got 3x2", glnn.conv2d, x, np.zeros((3, 2, 4, 4), np.float32))
    raises(AE, "weights must be a non-empty float32 array (k, k, C/groups, Cout), got shape (3, 3, 4)", glnn.conv2d,
           x, np.zeros((3, 3, 4)))
    raises(AE, "bias must have shape (4,), got (3,)", glnn.conv2d, x, w, np.zeros(3))
    raises(AE, "bias must be None or 4 numbers, got str", glnn.conv2d, x, w, "abcd")
    raises(AE, "weights must be an array of numbers", glnn.conv2d, x, [[1], [1, 2]])
    raises(AE, "input must be an array of numbers", glnn.conv2d, [[1], [1, 2]], w)
    raises(AE, "invalid padding 'wide'", glnn.conv2d, x, w, padding="wide")
    raises(AE, "invalid activation function 'tanh'", glnn.conv2d, x, w, activation="tanh")
    raises(AE, "input must be a 3-dimensional array, got shape (4, 4)", glnn.conv2d, x[:, :, 0], w)
    raises(AE, "output would be empty", glnn.conv2d, x[:2, :2], w, device="cpu")
    raises(AE, "residual shape 1×1×4 does not match output shape 2×2×4", glnn.conv2d, x, w,
           residual=np.zeros((1, 1, 4), np.uint8), device="cpu")
    raises(AE, "number of groups must be positive, got 0", glnn.conv2d, x, w, groups=0, device="cpu")
    raises(AE, "stride must be positive", glnn.conv2d, x, w, stride=0, device="cpu")
    raises(AE, "NaN at flat index 0", glnn.conv2d, np.full((4, 4, 4), np.nan, np.float32), w, device="cpu")
    raises(AE, "NaN at flat index 0", glnn.conv2d, np.full((4, 4, 3), np.nan), np.zeros((3, 3, 3, 4)), device="cpu")
    raises(AE, "non-finite", glnn.conv2d, x, np.full((3, 3, 4, 4), np.inf), device="cpu")
    with pytest.raises(glnn.Error):
        glnn.conv2d(x, w, device="no-such-device")
    with pytest.raises(TypeError):
        glnn.conv2d(x, w, device=1)
