"""numpy in and out: images, tensors, vectors, probabilities, chunk payloads."""
import numpy as np
import pytest

import glnn
from glnn import nnets as nn


def run_single(op, data=None, inputs=(), device="cpu", outputs=True):
    m = nn.Model()
    m.append(op)
    if outputs and op.output_count:
        m.add_output(op)
    t = glnn.InferenceTask(m, data, device=device)
    for i, x in enumerate(inputs):
        t.connect(x, op, i)
    t.run()
    return m, t


def test_image_sampler_round_trip():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    # Same size, corners aligned: the identity.
    m, _ = run_single(nn.ImageSampler("s", (8, 6)), inputs=[img])
    out = m.get_output_data("s")
    assert out.dtype == np.float32 and out.shape == (6, 8, 3)
    assert np.array_equal(out, img.astype(np.float32) / np.float32(255))
    # RGBA drops alpha; grey (H, W) and (H, W, 1) expand to R = G = B.
    rgba = np.concatenate([img, rng.integers(0, 256, (6, 8, 1), dtype=np.uint8)], axis=2)
    m, _ = run_single(nn.ImageSampler("s", (8, 6)), inputs=[rgba])
    assert np.array_equal(m.get_output_data("s"), out)
    grey = img[:, :, 0]
    for g in (grey, grey[:, :, None]):
        m, _ = run_single(nn.ImageSampler("s", (8, 6)), inputs=[g])
        assert np.array_equal(m.get_output_data("s"), np.repeat(grey[:, :, None], 3, axis=2) / np.float32(255))
    # Float images are quantized with Q.
    m, _ = run_single(nn.ImageSampler("s", (8, 6)), inputs=[img / 255.0])
    assert np.array_equal(m.get_output_data("s"), out)
    # Non-contiguous views are copied.
    m, _ = run_single(nn.ImageSampler("s", (6, 8)), inputs=[img.transpose(1, 0, 2)])
    assert np.array_equal(m.get_output_data("s"), out.transpose(1, 0, 2))


def test_image_sampler_rotation_and_nearest():
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 10
    op = nn.ImageSampler("s", (2, 3), center_crop=False, linear_interp=False)
    op.rotation = 1  # a quarter turn clockwise
    m, _ = run_single(op, inputs=[img])
    got = np.rint(m.get_output_data("s") * 255).astype(np.uint8)
    assert np.array_equal(got, np.rot90(img, k=-1))


def test_pooling_round_trip():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (4, 6, 8), dtype=np.uint8)
    m, _ = run_single(nn.Pooling2D("p", nn.Pooling2D.Operator.MAX, 2), inputs=[x])
    out = m.get_output_data("p")
    assert out.shape == (2, 3, 8)
    expected = x.reshape(2, 2, 3, 2, 8).max(axis=(1, 3))
    assert np.array_equal(out, expected / np.float32(255))
    m, _ = run_single(nn.Pooling2D("p", "average", 2, stride=2), inputs=[x])
    s = x.reshape(2, 2, 3, 2, 8).astype(int).sum(axis=(1, 3))
    assert np.array_equal(np.rint(m.get_output_data("p") * 255).astype(int), (2 * s + 4) // 8)
    assert m.get_operation("p").count_texel_fetches() == 2 * 3 * 8 // 4 * 4
    # Float tensors are quantized.
    m, _ = run_single(nn.Pooling2D("p", "max", 2), inputs=[x / 255.0])
    assert np.array_equal(m.get_output_data("p"), expected / np.float32(255))


def test_dense_vector_and_softmax_probabilities():
    rng = np.random.default_rng(2)
    x = rng.integers(0, 256, (1, 1, 8), dtype=np.uint8)
    a = rng.normal(0, 1, (12, 8)).astype(np.float32)
    b = rng.normal(0, 1, 12).astype(np.float32)
    data = glnn.WritableChunkCollection({"fc/w": a, "fc/b": b})
    m = nn.Model()
    m.append(nn.Dense("fc", 12))
    m.append(nn.Softmax("prob"), connect=True)
    m.add_output("fc")
    t = glnn.InferenceTask(m, data, device="cpu")
    t.connect(x, "fc")
    t.run()
    y = m.get_output_data("fc")
    assert y.dtype == np.float32 and y.shape == (12,)
    xv = x.reshape(-1).astype(np.float32) / np.float32(255)
    assert np.allclose(y, a @ xv + b, rtol=1e-5, atol=1e-5)
    p = t.get_probabilities()
    assert p.dtype == np.float32 and p.shape == (12,)
    e = np.exp(y.astype(np.float64) - y.max())
    assert np.allclose(p, e / e.sum(), atol=1e-6)
    assert np.array_equal(p, m.get_probabilities("prob"))
    assert np.array_equal(p, m.get_probabilities(m.get_last_operation()))
    assert abs(float(p.sum()) - 1) < 1e-5
    assert m.count_multiply_adds() == 8 * 12


def test_outputs_survive_and_rerun():
    x = np.full((2, 2, 4), 200, np.uint8)
    m, t = run_single(nn.Pooling2D("p", "max", 2), inputs=[x])
    first = m.get_output_data("p")
    t.connect(np.full((2, 2, 4), 10, np.uint8), "p")
    t.run()
    assert np.all(m.get_output_data("p") == np.float32(10) / np.float32(255))
    assert np.all(first == np.float32(200) / np.float32(255))  # a copy, not a view of library memory
    t.connect(np.full((4, 4, 4), 30, np.uint8), "p")  # another shape: prepared again
    t.run()
    assert m.get_output_data("p").shape == (2, 2, 4)


def test_chunk_round_trip(tmp_path):
    rng = np.random.default_rng(3)
    w = rng.normal(0, 1, (3, 3, 4, 8)).astype(np.float32)
    coll = glnn.WritableChunkCollection()
    coll["c/w"] = w
    coll["c/b"] = [0.5, -1.0, 2.0, 0.25]
    coll[""] = "ops:\n - _name: c\n"
    coll["labels"] = "a\nb\n"
    coll[b"raw\xff"] = b"\x00\x01\x02"
    coll["empty"] = b""
    coll["f64"] = np.arange(3, dtype=np.float64)          # floats are stored as float32
    coll["u8"] = np.arange(5, dtype=np.uint8)             # other arrays: raw bytes
    coll["ba"] = bytearray(b"xy")
    coll["mv"] = memoryview(b"zz")
    assert len(coll) == 10
    assert coll.keys() == sorted(coll.keys(), key=lambda k: k.encode("utf-8", "surrogateescape"))
    assert coll.keys()[0] == ""
    assert coll["c/w"] == w.astype("<f4").tobytes()
    assert np.array_equal(coll.read_floats("c/w"), w.reshape(-1))
    assert coll.read_floats("c/b").tolist() == [0.5, -1.0, 2.0, 0.25]
    assert coll["f64"] == np.arange(3, dtype="<f4").tobytes()
    assert coll["u8"] == bytes(range(5))
    assert coll[b"raw\xff"] == b"\x00\x01\x02" and b"raw\xff" in coll
    assert coll["empty"] == b"" and coll.chunk_size("empty") == 0 and coll.chunk_exists("empty")
    assert not coll.chunk_exists("nothing") and coll.get("nothing", 7) == 7
    assert dict(coll.items())["labels"] == b"a\nb\n"
    assert coll.values()[0] == coll[""]
    coll["labels"] = "x\n"  # replaces
    del coll["ba"]
    assert "ba" not in coll and len(coll) == 9
    path = tmp_path / "m.chunks"
    coll.save(path)
    f = glnn.ChunkFile(path)
    assert f.path == str(path)
    assert list(f) == coll.keys()
    for key in coll:
        assert f[key] == coll[key]
    assert dict(f) == dict(coll)
    # Records back to back, ascending ids (SPEC §9): the empty id first.
    raw = path.read_bytes()
    assert raw[:4] == b"\x00\x00\x00\x00"
    copy = glnn.WritableChunkCollection(f)
    assert dict(copy) == dict(f)
    copy.update({"extra": b"1"})
    assert len(copy) == len(f) + 1
    assert "WritableChunkCollection: 10 chunks" in repr(copy)
    assert repr(f).startswith("<glnn.ChunkFile ")


def test_load_image(shared):
    img = glnn.load_image(shared / "images" / "bg.bmp")
    assert img.dtype == np.uint8 and img.shape == (32, 32, 3)
    assert img.flags.c_contiguous
    with pytest.raises(FileNotFoundError, match="nope.bmp"):
        glnn.load_image(shared / "images" / "nope.bmp")
