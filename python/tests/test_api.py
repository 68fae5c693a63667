"""Names, signatures, attributes, defaults, reprs and docstrings of the glnn module."""
import collections.abc
import enum

import numpy as np
import pytest

import glnn
import glnn.nnets
from glnn import nnets as nn


def test_module_layout():
    assert glnn.nnets is nn
    import sys

    assert sys.modules["glnn.nnets"] is nn
    for name in ("Conv2D", "Pooling2D", "Dense", "Softmax", "ImageSampler", "Model", "DeserializedModel",
                 "Padding", "ActivationFunction", "Operation", "AbstractOperation"):
        assert hasattr(nn, name), name
    for name in ("Error", "ArgumentError", "ChunkFile", "WritableChunkCollection", "ChunkCollection",
                 "InferenceTask", "conv2d", "devices", "device_info", "load_image", "__version__"):
        assert hasattr(glnn, name), name
    # Beatmup users find these in either place.
    assert nn.ChunkFile is glnn.ChunkFile
    assert nn.WritableChunkCollection is glnn.WritableChunkCollection
    assert nn.InferenceTask is glnn.InferenceTask
    assert nn.AbstractOperation is nn.Operation
    assert glnn.__version__ == "0.1.0"
    for t in (nn.Conv2D, nn.Pooling2D, nn.Dense, nn.Softmax, nn.ImageSampler):
        assert issubclass(t, nn.Operation)
        assert t.__module__ == "glnn.nnets"
    assert issubclass(nn.DeserializedModel, nn.Model)
    assert issubclass(glnn.ChunkFile, glnn.ChunkCollection)
    assert issubclass(glnn.WritableChunkCollection, glnn.ChunkCollection)
    assert issubclass(glnn.ChunkFile, collections.abc.Mapping)
    assert issubclass(glnn.WritableChunkCollection, collections.abc.MutableMapping)


def test_error_classes():
    assert issubclass(glnn.Error, RuntimeError)
    assert issubclass(glnn.ArgumentError, glnn.Error)
    assert issubclass(glnn.ArgumentError, ValueError)
    assert not issubclass(glnn.Error, ValueError)
    with pytest.raises(glnn.ArgumentError) as e:
        nn.Conv2D("c", 0, 4, 4)
    assert isinstance(e.value, ValueError) and isinstance(e.value, RuntimeError)
    assert e.value.status == "invalid argument"
    assert "kernel size must be positive, got 0" in str(e.value)
    # A state error is a glnn.Error, not a ValueError.
    with pytest.raises(glnn.Error) as e:
        nn.Conv2D("c", 3, 4, 4).count_multiply_adds()
    assert not isinstance(e.value, ValueError)
    assert e.value.status == "invalid state"
    assert "'c'" in str(e.value) and "prepared" in str(e.value)


def test_enums():
    assert issubclass(nn.Padding, enum.Enum)
    assert [m.name for m in nn.Padding] == ["VALID", "SAME"]
    assert [m.name for m in nn.ActivationFunction] == ["DEFAULT", "BRELU6", "SIGMOID_LIKE"]
    assert [m.name for m in nn.Pooling2D.Operator] == ["MAX", "AVERAGE"]
    assert nn.Pooling2D.Operator.__qualname__ == "Pooling2D.Operator"
    assert nn.Padding.__module__ == "glnn.nnets"
    for e in (nn.Padding, nn.ActivationFunction, nn.Pooling2D.Operator):
        assert e.__doc__ and len(e.__doc__) > 20
    # Members of different enumerations are distinct.
    assert nn.Padding.SAME != nn.ActivationFunction.BRELU6


CONV_ARGS = ("name", "kernel_size", "num_input_channels", "num_output_channels", "stride", "padding", "use_bias",
             "num_groups", "activation")


def test_conv2d_defaults_and_attributes():
    c = nn.Conv2D("c1", 3, 4, 8)
    assert c.name == "c1"
    assert c.kernel_size == 3
    assert c.num_input_channels == 4
    assert c.num_output_channels == 8
    assert c.stride == 1
    assert c.padding is nn.Padding.VALID
    assert c.use_bias is True
    assert c.num_groups == 1
    assert c.activation is nn.ActivationFunction.DEFAULT
    assert c.input_count == 2
    assert c.output_count == 1
    assert nn.Conv2D.filters_chunk_suffix == "/w"
    assert nn.Conv2D.bias_chunk_suffix == "/b"
    assert c.filters_chunk_suffix == "/w" and c.bias_chunk_suffix == "/b"
    assert c.sampled_channels() == 9 * 4


def test_conv2d_positional_and_keywords():
    a = nn.Conv2D("a", 5, 8, 16, 2, nn.Padding.SAME, False, 2, nn.ActivationFunction.SIGMOID_LIKE)
    b = nn.Conv2D(name="a", kernel_size=5, num_input_channels=8, num_output_channels=16, stride=2,
                  padding=nn.Padding.SAME, use_bias=False, num_groups=2,
                  activation=nn.ActivationFunction.SIGMOID_LIKE)
    for op in (a, b):
        assert (op.name, op.kernel_size, op.num_input_channels, op.num_output_channels, op.stride, op.padding,
                op.use_bias, op.num_groups, op.activation) == (
            "a", 5, 8, 16, 2, nn.Padding.SAME, False, 2, nn.ActivationFunction.SIGMOID_LIKE)
    # Enumerations also by name, any case; not by value (padding=1 would read as one pixel of padding).
    c = nn.Conv2D("c", 3, 4, 4, padding="same", activation="BReLU6")
    assert c.padding is nn.Padding.SAME and c.activation is nn.ActivationFunction.BRELU6
    with pytest.raises(glnn.ArgumentError, match=r"invalid padding 1 \(expected Padding.VALID or Padding.SAME\)"):
        nn.Conv2D("d", 3, 4, 4, padding=nn.Padding.SAME.value)
    with pytest.raises(glnn.ArgumentError, match="invalid activation function 2"):
        nn.Conv2D("d", 3, 4, 4, activation=nn.ActivationFunction.SIGMOID_LIKE.value)
    with pytest.raises(TypeError):
        nn.Conv2D("x", 3, 4, 4, 1, nn.Padding.VALID, True, 1, nn.ActivationFunction.DEFAULT, 99)
    with pytest.raises(TypeError):
        nn.Conv2D("x", 3, 4, 4, dilation=2)
    with pytest.raises(TypeError):
        nn.Conv2D("x", 3, 4)


def test_read_only_attributes():
    c = nn.Conv2D("c", 3, 4, 4)
    for attr in ("name", "input_count", "output_count", "use_bias", "kernel_size", "num_input_channels",
                 "num_output_channels", "stride", "padding", "num_groups", "activation"):
        with pytest.raises(AttributeError):
            setattr(c, attr, getattr(c, attr))
    p = nn.Pooling2D("p", "max", 2)
    for attr in ("name", "operator", "size", "stride", "padding"):
        with pytest.raises(AttributeError):
            setattr(p, attr, getattr(p, attr))
    d = nn.Dense("d", 8)
    for attr in ("name", "num_output_dims", "use_bias"):
        with pytest.raises(AttributeError):
            setattr(d, attr, getattr(d, attr))
    s = nn.ImageSampler("s", (4, 4))
    for attr in ("name", "size", "center_crop", "linear_interp"):
        with pytest.raises(AttributeError):
            setattr(s, attr, getattr(s, attr))


def test_reprs_round_trip():
    ns = {"Conv2D": nn.Conv2D, "Pooling2D": nn.Pooling2D, "Dense": nn.Dense, "Softmax": nn.Softmax,
          "ImageSampler": nn.ImageSampler, "Padding": nn.Padding, "ActivationFunction": nn.ActivationFunction}
    ops = [nn.Conv2D("c'1", 3, 16, 16, 2, "same", False, 4, "sigmoid_like"), nn.Conv2D("img", 5, 3, 32),
           nn.Pooling2D("p", nn.Pooling2D.Operator.AVERAGE, 3, stride=1), nn.Pooling2D("q", "max", 2),
           nn.Dense("fc", 12, use_bias=False), nn.Softmax("prob"),
           nn.ImageSampler("in", (64, 32), center_crop=False, linear_interp=False)]
    assert repr(ops[0]) == ("Conv2D(\"c'1\", kernel_size=3, num_input_channels=16, num_output_channels=16, stride=2, "
                            "padding=Padding.SAME, use_bias=False, num_groups=4, "
                            "activation=ActivationFunction.SIGMOID_LIKE)")
    assert repr(ops[2]) == "Pooling2D('p', Pooling2D.Operator.AVERAGE, 3, stride=1, padding=Padding.VALID)"
    assert repr(ops[4]) == "Dense('fc', num_output_dims=12, use_bias=False)"
    assert repr(ops[5]) == "Softmax('prob')"
    assert repr(ops[6]) == "ImageSampler('in', (64, 32), center_crop=False, linear_interp=False)"
    for op in ops:
        again = eval(repr(op), ns)
        assert type(again) is type(op) and repr(again) == repr(op)


def test_pooling2d():
    p = nn.Pooling2D("p", nn.Pooling2D.Operator.MAX, 3)
    assert p.operator is nn.Pooling2D.Operator.MAX
    assert p.size == 3 and p.stride == 0 and p.padding is nn.Padding.VALID
    assert p.input_count == 1 and p.output_count == 1
    q = nn.Pooling2D(name="q", operator="Average", size=2, stride=1, padding=nn.Padding.VALID)
    assert q.operator is nn.Pooling2D.Operator.AVERAGE and q.stride == 1
    r = nn.Pooling2D("r", nn.Pooling2D.Operator.MAX, 2, 2, nn.Padding.SAME)
    assert r.padding is nn.Padding.SAME and r.stride == 2


def test_dense_softmax_image_sampler():
    d = nn.Dense("d", 8)
    assert d.num_output_dims == 8 and d.use_bias is True
    assert nn.Dense.matrix_chunk_suffix == "/w" and nn.Dense.bias_chunk_suffix == "/b"
    assert d.input_count == 1 and d.output_count == 1
    assert nn.Dense(name="e", num_output_dims=4, use_bias=False).use_bias is False
    s = nn.Softmax("s")
    assert s.name == "s" and s.input_count == 1 and s.output_count == 0
    i = nn.ImageSampler("i", (20, 10))
    assert i.size == (20, 10) and i.center_crop is True and i.linear_interp is True and i.rotation == 0
    assert i.input_count == 1 and i.output_count == 1
    j = nn.ImageSampler(name="j", size=[7, 9], center_crop=False, linear_interp=False)
    assert j.size == (7, 9) and not j.center_crop and not j.linear_interp
    j.rotation = 3
    assert j.rotation == 3 and "rotation=3" in repr(j)
    j.rotation = 0
    assert j.rotation == 0


def test_operation_identity():
    c = nn.Conv2D("c", 1, 4, 4)
    m = nn.Model()
    m.append(c)
    got = m.get_operation("c")
    assert got is not c and got == c and hash(got) == hash(c)
    assert got != nn.Conv2D("c", 1, 4, 4)
    assert {c: 1}[got] == 1
    with pytest.raises(TypeError):
        nn.Operation()


def test_docstrings():
    for obj in (glnn, nn, glnn.conv2d, glnn.devices, glnn.device_info, glnn.load_image, glnn.Error,
                glnn.ArgumentError, glnn.ChunkFile, glnn.WritableChunkCollection, glnn.InferenceTask):
        assert obj.__doc__ and len(obj.__doc__) > 20, obj
    for t in (nn.Conv2D, nn.Pooling2D, nn.Dense, nn.Softmax, nn.ImageSampler, nn.Model, nn.DeserializedModel,
              nn.Operation):
        assert t.__doc__ and len(t.__doc__) > 20, t
        for name in dir(t):
            if name.startswith("_"):
                continue
            attr = getattr(t, name)
            if callable(attr) or isinstance(attr, property) or type(attr).__name__ == "getset_descriptor":
                if isinstance(attr, type):
                    continue
                assert attr.__doc__, (t, name)
    assert nn.Conv2D.__doc__.startswith(
        "Conv2D(name, kernel_size, num_input_channels, num_output_channels, stride=1, padding=Padding.VALID,")


def test_model_api():
    m = nn.Model()
    assert len(m) == 0 and list(m) == [] and "x" not in m
    assert repr(m).endswith("0 operations, 0 connections (0 into a second input, 0 shuffled); not prepared: shapes "
                            "and counts come with preparation")
    a, b = nn.Conv2D("a", 1, 4, 4), nn.Conv2D("b", 1, 4, 4)
    m.append(a)
    m.append(b, connect=True)
    z = nn.Conv2D("z", 1, 4, 4)
    m.add_operation("a", z)
    assert [op.name for op in m] == ["z", "a", "b"]
    assert [op.name for op in m.operations] == ["z", "a", "b"]
    assert len(m) == 3 and "a" in m and a in m and nn.Conv2D("a", 1, 4, 4) not in m
    assert m[0] == z and m[-1] == b and m["a"] == a
    assert m.get_first_operation() == z and m.get_last_operation() == b
    with pytest.raises(IndexError):
        m[3]
    with pytest.raises(KeyError):
        m["nope"]
    m.add_connection(z, "a")
    m.add_connection("a", b, output=0, input=1, shuffle=0)
    m.add_output(b)
    m.add_output("b", 0)  # repeats are ignored
    text = m.serialize()
    assert text.startswith("connections:\n - from: a\n   to: b\n")
    assert "3 operations, 3 connections (1 into a second input, 0 shuffled)" in repr(m)


def test_task_api(monkeypatch):
    m = nn.Model()
    m.append(nn.Pooling2D("p", "max", 2))
    m.add_output("p")
    t = glnn.InferenceTask(m, None, device="reference")
    assert t.model is m and t.data is None
    assert t.device == "cpu reference"
    assert "reference" in repr(t)
    monkeypatch.setenv("GLNN_DEVICE", "reference")
    assert glnn.InferenceTask(m, None).device == "cpu reference"
    # 'N: description' as listed by devices() is accepted.
    assert glnn.InferenceTask(m, None, device="reference: the plain-C reference").device == "cpu reference"
    assert glnn.InferenceTask(m, None, device="cpu").device.startswith("cpu (")


def test_devices():
    d = glnn.devices()
    assert isinstance(d, list) and d[-2:] == ["cpu", "reference"]
    for entry in d[:-2]:
        index, _, desc = entry.partition(": ")
        assert index.isdigit() and desc
    assert "cpu reference" in glnn.device_info("reference")
    assert "instruction set" in glnn.device_info("cpu")


def test_function_signatures():
    import inspect

    sig = lambda f: str(inspect.signature(f))  # noqa: E731
    assert sig(glnn.conv2d) == ("(input, weights, bias=None, residual=None, stride=1, padding='valid', groups=1, "
                                "activation='default', device=None)")
    assert sig(glnn.devices) == "()"
    assert sig(nn.Model.append) == "(self, /, op, connect=False)"
    assert sig(nn.Model.add_operation) == "(self, /, before_op_name, op)"
    assert sig(nn.Model.add_connection) == "(self, /, source, dest, output=0, input=0, shuffle=0)"
    assert sig(nn.Model.add_output) == "(self, /, op, output=0)"
    assert sig(nn.Model.get_output_data) == "(self, /, op, output=0)"
    assert sig(nn.Model.serialize) == "(self, /)"
    assert sig(glnn.InferenceTask.connect) == "(self, image, op, input_index=0)"
    assert sig(glnn.InferenceTask.run) == "(self)"
    assert sig(glnn.WritableChunkCollection.save) == "(self, path, /)"
    # Keywords work as documented.
    m = nn.Model()
    m.append(op=nn.Conv2D("a", 1, 4, 4), connect=False)
    m.add_operation(before_op_name="a", op=nn.Conv2D("b", 1, 4, 4))
    m.add_connection(source="b", dest="a", output=0, input=0, shuffle=0)
    m.add_output(op="a", output=0)
    t = glnn.InferenceTask(model=m, data=None, device="cpu")
    t.connect(image=np.zeros((1, 1, 4), np.uint8), op="b", input_index=0)
    y = glnn.conv2d(input=np.zeros((1, 1, 4), np.uint8), weights=np.zeros((1, 1, 4, 4), np.float32), bias=None,
                    residual=None, stride=1, padding="valid", groups=1, activation="default", device="cpu")
    assert y.shape == (1, 1, 4) and y.dtype == np.uint8
