"""Python that catches mistakes (issue #16): float data outside [0, 1], devices checked when a task is made, missing
files, enumerations given as numbers, inputs nobody provides, labels, signatures of the extension's functions and
types, the op table of a model and the profile of a run."""
import inspect
import io

import numpy as np
import pytest

import glnn
from glnn import nnets as nn

REF = "reference"  # the plain-C reference
AE = glnn.ArgumentError


def one_conv(name="c", cin=4, cout=4):
    """A model holding one 1x1 Conv2D with weights 0.5 on the diagonal and bias 0.25, and its data."""
    m = nn.Model()
    m.append(nn.Conv2D(name, 1, cin, cout))
    m.add_output(name)
    data = glnn.WritableChunkCollection()
    data[name + "/w"] = (np.eye(cin, cout) * 0.5).astype(np.float32)
    data[name + "/b"] = np.full(cout, 0.25, np.float32)
    return m, data


# ---- SPEC §2.2: float user data must lie in [0, 1] ----

def test_float_image_in_0_255_is_an_error(shared):
    img = glnn.load_image(shared / "images" / "bg.bmp")
    m = nn.Model()
    m.append(nn.ImageSampler("in", (8, 8)))
    m.add_output("in")
    t = glnn.InferenceTask(m, None, device=REF)
    with pytest.raises(AE) as e:
        t.connect(img.astype(np.float32), "in")
    msg = str(e.value)
    assert "values must be in [0, 1]" in msg and "max 255" in msg and "divide 8-bit data by 255" in msg, msg
    assert "uint8" in msg and "flat index" in msg
    # Divided by 255, the same picture gives the bytes' result.
    t.connect(img.astype(np.float32) / 255, "in")
    t.run()
    a = t.get_output_data("in")
    t.connect(img, "in")
    t.run()
    assert np.array_equal(a, t.get_output_data("in"))


def test_float_image_of_the_classifier_refused(dog_model, shared):
    data = glnn.ChunkFile(dog_model)
    model = nn.DeserializedModel(data)
    task = glnn.InferenceTask(model, data, device=REF)
    img = glnn.load_image(shared / "images" / "bg.bmp")
    with pytest.raises(AE, match=r"values must be in \[0, 1\]: got \d+ at flat index \d+ \(max 255"):
        task.connect(img.astype(np.float32), "input")


def test_float_tensors_checked_by_the_library():
    m, data = one_conv()
    t = glnn.InferenceTask(m, data, device=REF)
    x = np.linspace(0, 1, 16, dtype=np.float32).reshape(2, 2, 4)
    t.connect(x, "c")
    bad = x.copy()
    bad[1, 0, 2] = 3.0
    with pytest.raises(AE, match=r"bind tensor: values must be in \[0, 1\]: got 3 at flat index 10"):
        t.connect(bad, "c")
    bad[1, 0, 2] = np.nan
    with pytest.raises(AE, match="NaN at flat index 10"):
        t.connect(bad, "c")
    bad[1, 0, 2] = -np.inf
    with pytest.raises(AE, match="-infinity at flat index 10"):
        t.connect(bad, "c")
    # Half a step of slack on either side of [0, 1] is Q's rounding, not a mistake.
    edge = x.copy()
    edge[0, 0, 0], edge[1, 1, 3] = -1 / 600, 1 + 1 / 600
    t.connect(edge, "c")
    t.run()
    q = np.floor(np.clip(edge, 0, 1) * 255 + 0.5)
    assert np.array_equal(t.get_output_data("c") * 255, np.floor(q / 2 + 64.25))
    # conv2d: tensors through glnn_tensor_upload_f32, images through glnn_quantize_f32.
    w = np.zeros((1, 1, 4, 4), np.float32)
    with pytest.raises(AE, match=r"upload tensor: values must be in \[0, 1\]"):
        glnn.conv2d(x * 255, w, device=REF)
    with pytest.raises(AE, match=r"conv2d: input: values must be in \[0, 1\]: got 9"):
        glnn.conv2d(np.full((3, 3, 3), 9, np.float32), np.zeros((3, 3, 3, 4), np.float32), device=REF)


# ---- devices, files, enumerations, inputs ----

def test_devices_checked_when_the_task_is_made(monkeypatch):
    m, data = one_conv()
    with pytest.raises(AE, match="unknown device 'tpu'"):
        glnn.InferenceTask(m, data, device="tpu")
    monkeypatch.setenv("GLNN_DEVICE", "gpu0")
    with pytest.raises(AE, match=r"unknown device 'gpu0'.*GLNN_DEVICE"):
        glnn.InferenceTask(m, data)
    assert glnn.InferenceTask(m, data, device=REF).device == "cpu reference"


def test_missing_files_raise_file_not_found(tmp_path):
    path = tmp_path / "nowhere.chunks"
    with pytest.raises(FileNotFoundError) as e:
        glnn.ChunkFile(path)
    assert e.value.errno == 2 and e.value.filename == str(path) and "nowhere.chunks" in str(e.value)
    with pytest.raises(FileNotFoundError) as e:
        glnn.load_image(tmp_path / "nowhere.png")
    assert e.value.filename == tmp_path / "nowhere.png"
    # A file that exists but is no chunk file says so.
    text = tmp_path / "listing.txt"
    text.write_text("connections:\n - from: a\n")
    with pytest.raises(AE, match="not a chunk file"):
        glnn.ChunkFile(text)


@pytest.mark.parametrize("value", [0, 1, True, 1.0])
def test_padding_is_not_a_number(value):
    x, w = np.zeros((4, 4, 4), np.uint8), np.zeros((3, 3, 4, 4), np.float32)
    with pytest.raises(AE, match=r"conv2d: invalid padding .* \(expected 'valid' or 'same', or glnn.nnets.Padding\)"):
        glnn.conv2d(x, w, padding=value, device=REF)
    with pytest.raises(AE, match="invalid padding"):
        nn.Conv2D("c", 3, 4, 4, padding=value)
    with pytest.raises(AE, match="invalid activation function"):
        glnn.conv2d(x, w, activation=value, device=REF)
    for ok in ("same", "SAME", nn.Padding.SAME):
        assert glnn.conv2d(x, w, padding=ok, device=REF).shape == (4, 4, 4)
    assert glnn.conv2d(x, w, padding="valid", device=REF).shape == (2, 2, 4)


def test_input_not_provided_says_how_to_connect_it():
    m = nn.Model()
    m.append(nn.Conv2D("c1", 1, 4, 4))
    m.append(nn.Conv2D("c2", 1, 4, 4))  # connect=True forgotten
    data = glnn.WritableChunkCollection()
    for name in ("c1", "c2"):
        data[name + "/w"] = np.zeros((1, 1, 4, 4), np.float32)
        data[name + "/b"] = np.zeros(4, np.float32)
    t = glnn.InferenceTask(m, data, device=REF)
    t.connect(np.zeros((2, 2, 4), np.uint8), "c1")
    with pytest.raises(glnn.Error) as e:
        t.run()
    msg = str(e.value)
    assert "input #0 of 'c2' is not provided" in msg and "add_connection('c1', 'c2')" in msg, msg
    assert "append(op, connect=True)" in msg
    m.add_connection("c1", "c2")
    t.run()


def test_labels():
    data = glnn.WritableChunkCollection()
    assert data.labels == []
    data["labels"] = "Chihuahua\r\nJapanese spaniel\n\nbasenji\n"
    assert data.labels == ["Chihuahua", "Japanese spaniel", "", "basenji"]
    data["labels"] = "a\nb"
    assert data.labels == ["a", "b"]


def test_labels_of_the_classifier(dog_model):
    data = glnn.ChunkFile(dog_model)
    labels = data.labels
    assert len(labels) == 120 and labels[0] == "Chihuahua" and "" not in labels
    assert labels == data["labels"].decode().split("\n")[:-1]


# ---- signatures and stubs ----

def test_signatures_of_the_extension():
    sig = lambda f: str(inspect.signature(f))  # noqa: E731
    assert sig(glnn.InferenceTask) == "(model, data=None, device=None, max_sampled_channels=-1)"
    assert sig(glnn.ChunkFile) == "(path, open_now=True)"
    assert sig(glnn.WritableChunkCollection) == "(chunks=None)"
    assert sig(nn.Model) == "()"
    assert sig(nn.DeserializedModel) == "(listing)"
    assert sig(glnn.load_image) == "(path, /)"
    assert sig(glnn.device_info) == "(device=None, max_sampled_channels=-1)"
    assert sig(glnn.InferenceTask.profile) == "(self)"
    assert sig(nn.Model.summary) == "(self, /, file=None)"
    assert sig(nn.Conv2D).startswith("(name, kernel_size, num_input_channels, num_output_channels, stride=1,")
    # Every public function, method and instantiable type of the extension has one.
    for owner in (glnn, nn):
        for name in dir(owner):
            obj = getattr(owner, name)
            if name.startswith("_") or not callable(obj) or isinstance(obj, type) and issubclass(obj, BaseException):
                continue
            if obj in (glnn.ChunkCollection, nn.Operation, nn.AbstractOperation) or isinstance(obj, type(nn.Padding)):
                continue  # not instantiable; enumerations are Python's
            inspect.signature(obj)
            for attr in dir(obj) if isinstance(obj, type) else ():
                member = getattr(obj, attr)
                if not attr.startswith("_") and callable(member) and not isinstance(member, type):
                    inspect.signature(member)


# ---- the op table and the profile ----

def test_model_summary_and_repr():
    m, data = one_conv()
    m.append(nn.Conv2D("d", 1, 4, 4), connect=True)
    data["d/w"] = np.zeros((1, 1, 4, 4), np.float32)
    data["d/b"] = np.zeros(4, np.float32)
    text = repr(m)
    assert text.splitlines()[0].split() == ["#", "name", "type", "parameters", "inputs", "output", "multiply-adds",
                                            "weights"]
    assert "not prepared" in text and str(m) == text
    t = glnn.InferenceTask(m, data, device=REF)
    t.connect(np.zeros((2, 3, 4), np.uint8), "c")
    t.run()
    text = repr(m)
    rows = [line.split() for line in text.splitlines()]
    assert rows[1][:3] == ["0", "c", "conv2d"] and rows[1][-3:] == ["2x3x4", "96", "20"]
    assert rows[2][:3] == ["1", "d", "conv2d"] and "c" in rows[2]
    assert "2 operations, 1 connection (0 into a second input, 0 shuffled)" in text
    assert "192 multiply-adds" in text and "40 weights" in text
    out = io.StringIO()
    assert m.summary(file=out) is None
    assert out.getvalue() == text + "\n"


def test_model_summary_of_the_classifier(dog_model, shared):
    data = glnn.ChunkFile(dog_model)
    model = nn.DeserializedModel(data)
    task = glnn.InferenceTask(model, data, device=REF)
    task.connect(glnn.load_image(shared / "images" / "bg.bmp"), "input")
    task.prepare()
    text = repr(model)
    assert "45 operations, 61 connections (17 into a second input, 15 shuffled)" in text
    assert "398405856 multiply-adds" in text and "211672 weights" in text
    assert "b1-scale (shuffle 8)" in text


def test_profile():
    m, data = one_conv()
    m.append(nn.Pooling2D("p", "max", 2), connect=True)
    t = glnn.InferenceTask(m, data, device=REF)
    t.connect(np.zeros((4, 4, 4), np.uint8), "c")
    with pytest.raises(glnn.Error, match=r"call run\(\) first"):
        t.profile()
    t.run()
    prof = t.profile()
    assert [p["op"] for p in prof] == ["c", "p"] and [p["type"] for p in prof] == ["conv2d", "pooling2d"]
    assert [p["index"] for p in prof] == [0, 1]
    for p, op in zip(prof, m):
        assert p["multiply_adds"] == op.count_multiply_adds() and p["texel_fetches"] == op.count_texel_fetches()
        assert p["timer"] == "wall" and p["ms"] == p["wall_ms"] and p["ms"] >= 0
        assert p["gmacs"] == pytest.approx(p["multiply_adds"] / p["ms"] / 1e6 if p["ms"] > 0 else 0)
    assert prof[0]["weights"] == 20 and prof[1]["weights"] == 0
    assert sum(p["share"] for p in prof) == pytest.approx(1)


def test_profile_on_the_gpu(gpu):
    m, data = one_conv()
    t = glnn.InferenceTask(m, data, device=gpu)
    t.connect(np.zeros((8, 8, 4), np.uint8), "c")
    t.run()
    (p,) = t.profile()
    assert p["timer"] in ("gpu", "wall") and p["ms"] >= 0 and p["wall_ms"] >= 0 and p["share"] == pytest.approx(1)
