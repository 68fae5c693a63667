"""Models: built in Python versus loaded from a listing, the reference classifier against the CLI,
re-preparation, threads and the GIL, lifetimes and reference leaks."""
import gc
import json
import os
import pathlib
import shutil
import subprocess
import sys
import threading
import time
import tracemalloc

import numpy as np
import pytest

import glnn
from glnn import nnets as nn

# SPEC §8.5, as glnn prints it.
LISTING = """connections:
 - from: in
   to: c1
 - from: c1
   to: dw
 - from: c1
   to: dw
   to_input: 1
 - from: dw
   to: gap
 - from: gap
   shuffle: 2
   to: fc
 - from: fc
   to: prob
ops:
 - _name: in
   _type: image_sampler
   center_crop: true
   linear_interp: true
   output_height: 64
   output_width: 64
 - _name: c1
   _type: conv2d
   activation: brelu6
   groups: 1
   input_channels: 3
   kernel_size: 3
   output_channels: 16
   padding: valid
   stride: 2
   use_bias: true
 - _name: dw
   _type: conv2d
   activation: sigmoid_like
   groups: 16
   input_channels: 16
   kernel_size: 3
   output_channels: 16
   padding: same
   stride: 1
   use_bias: false
 - _name: gap
   _type: pooling2d
   operator: average
   padding: valid
   size: 31
   stride: 1
 - _name: fc
   _type: dense
   output_dims: 8
   use_bias: true
 - _name: prob
   _type: softmax
"""


def build_example():
    m = nn.Model()
    m.append(nn.ImageSampler("in", (64, 64)))
    m.append(nn.Conv2D("c1", 3, 3, 16, stride=2, activation=nn.ActivationFunction.BRELU6), connect=True)
    dw = nn.Conv2D("dw", 3, 16, 16, padding=nn.Padding.SAME, use_bias=False, num_groups=16,
                   activation=nn.ActivationFunction.SIGMOID_LIKE)
    m.append(dw, connect=True)
    m.add_connection("c1", dw, input=1)
    m.append(nn.Pooling2D("gap", nn.Pooling2D.Operator.AVERAGE, 31, stride=1), connect=True)
    fc = nn.Dense("fc", 8)
    m.append(fc)
    m.add_connection("gap", fc, shuffle=2)
    m.append(nn.Softmax("prob"), connect=True)
    return m


def example_data(seed=0):
    rng = np.random.default_rng(seed)
    d = glnn.WritableChunkCollection()
    d["c1/w"] = rng.normal(0, 1, 3 * 3 * 3 * 16)
    d["c1/b"] = rng.normal(0, 0.3, 16)
    d["dw/w"] = rng.normal(0, 0.5, 3 * 3 * 16)
    d["fc/w"] = rng.normal(0, 3, 8 * 16)
    d["fc/b"] = rng.normal(0, 1, 8)
    return d


def run_model(m, data, image, outputs=("c1", "dw", "gap", "fc")):
    for o in outputs:
        m.add_output(o)
    t = glnn.InferenceTask(m, data, device="cpu")
    t.connect(image, "in")
    t.run()
    return t, {o: m.get_output_data(o) for o in outputs}


def test_python_model_equals_listing():
    built = build_example()
    assert built.serialize() == LISTING
    loaded = nn.DeserializedModel(LISTING)
    assert loaded.serialize() == LISTING
    assert nn.DeserializedModel(built.serialize()).serialize() == LISTING
    assert [repr(op) for op in built] == [repr(op) for op in loaded]
    # Hand-written form (SPEC §8.5): another indent, defaults omitted, comments.
    small = nn.DeserializedModel("ops:                  # a 1x1 convolution\n  - _name: c\n    _type: conv2d\n"
                                 "    kernel_size: 1\n    input_channels: 4\n    output_channels: 4\n")
    c = small.get_first_operation()
    assert isinstance(c, nn.Conv2D) and c.stride == 1 and c.use_bias and c.padding is nn.Padding.VALID
    # Same results, shapes and counters.
    data = example_data()
    image = np.random.default_rng(1).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    tb, ob = run_model(built, data, image)
    tl, ol = run_model(loaded, data, image)
    shapes = {"c1": (31, 31, 16), "dw": (31, 31, 16), "gap": (1, 1, 16), "fc": (8,)}
    for name, shape in shapes.items():
        assert ob[name].shape == shape
        assert np.array_equal(ob[name], ol[name]), name
    pb, pl = tb.get_probabilities(), tl.get_probabilities()
    assert pb.shape == (8,) and np.array_equal(pb, pl)
    for m in (built, loaded):
        assert m.count_multiply_adds() == 553_664
        assert m.count_texel_fetches() == 81_014
        assert m.memory_size > 0
    assert [op.count_multiply_adds() for op in built] == [0, 415_152, 138_384, 0, 128, 0]


def test_model_data_from_a_saved_file(tmp_path):
    data = example_data(4)
    data[""] = LISTING
    data["labels"] = "\n".join("abcdefgh") + "\n"
    path = tmp_path / "example.chunks"
    data.save(path)
    f = glnn.ChunkFile(path)
    m = nn.DeserializedModel(f)
    assert m.serialize() == LISTING
    image = np.random.default_rng(5).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    t1, o1 = run_model(m, f, image)
    t2, o2 = run_model(build_example(), data, image)
    assert np.array_equal(t1.get_probabilities(), t2.get_probabilities())


def test_changed_weights_prepare_again():
    m = build_example()
    data = example_data(0)
    image = np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    t, _ = run_model(m, data, image, outputs=("fc",))
    p0 = t.get_probabilities()
    data["fc/b"] = np.zeros(8)
    t.run()
    p1 = t.get_probabilities()
    assert not np.array_equal(p0, p1)
    # Another collection with the original weights gives the original result again.
    t2 = glnn.InferenceTask(m, example_data(0), device="cpu")
    t2.run()
    assert np.array_equal(t2.get_probabilities(), p0)


def test_insertion_and_lifetimes():
    m = nn.Model()
    src = nn.Pooling2D("src", "max", 2, stride=1)
    a = nn.Pooling2D("a", "max", 2)
    m.append(src)
    m.append(a, connect=True)
    m.add_output(a)
    t = glnn.InferenceTask(m, None, device="cpu")
    t.connect(np.arange(100, dtype=np.uint8).reshape(5, 5, 4), src)
    t.run()
    assert t.get_output_data("a").shape == (2, 2, 4)
    # An op inserted before another; the model prepares again.
    b = nn.Pooling2D("b", "max", 2, stride=1)
    m.add_operation(a, b)
    m.add_connection(src, b)
    m.add_output(b)
    del m, a, b, src  # the task keeps the model, the model keeps its ops
    gc.collect()
    t.run()
    assert t.get_output_data("b").shape == (3, 3, 4)
    assert t.get_output_data("a").shape == (2, 2, 4)
    ops = t.model.operations
    del t
    gc.collect()
    assert [op.name for op in ops] == ["src", "b", "a"]  # ops outlive their model
    assert ops[1].count_texel_fetches() == 3 * 3 * 4 // 4 * 4


def cli_path():
    env = os.environ.get("GLNN_CLI")
    if env and os.path.isfile(env):
        return env
    root = pathlib.Path(__file__).resolve().parents[2]
    for build in ("build-py", "build"):
        p = root / build / "glnn"
        if p.is_file() and os.access(p, os.X_OK):
            return str(p)
    return shutil.which("glnn")


def test_dog_classifier_agrees_with_cli(dog_model, shared):
    cli = cli_path()
    if not cli:
        pytest.skip("the glnn CLI was not found (set GLNN_CLI)")
    image_path = shared / "images" / "butterfly.bmp"
    env = dict(os.environ, GLNN_DEVICE="cpu")
    res = subprocess.run([cli, "run", str(dog_model), str(image_path), "--json", "--device", "cpu"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    top = json.loads(res.stdout)[0]["top"]
    assert len(top) == 5

    data = glnn.ChunkFile(dog_model)
    model = nn.DeserializedModel(data[""].decode())
    assert len(model) == 45
    task = glnn.InferenceTask(model, data, device="cpu")
    task.connect(glnn.load_image(image_path), model.get_first_operation())
    task.run()
    p = task.get_probabilities()
    assert p.dtype == np.float32 and p.shape == (120,)
    labels = data["labels"].decode().split("\n")[:-1]
    assert len(labels) == 120 and labels[0] == "Chihuahua"
    order = sorted(range(120), key=lambda i: (-p[i], i))[:5]
    assert [e["index"] for e in top] == order
    assert [e["label"] for e in top] == [labels[i] for i in order]
    for e in top:
        assert abs(e["probability"] - float(p[e["index"]])) <= 5e-7
    assert model.count_multiply_adds() == 398_405_856
    assert model.count_texel_fetches() == 27_880_551
    convs = [op for op in model if isinstance(op, nn.Conv2D)]
    assert len(convs) == 41
    assert max(c.sampled_channels() for c in convs) == 75


def test_gil_released_during_run(dog_model, shared):
    data = glnn.ChunkFile(dog_model)
    model = nn.DeserializedModel(data)
    image = glnn.load_image(shared / "images" / "bg.bmp")
    times = {}

    def work():
        task = glnn.InferenceTask(model, data, device="reference")  # this thread's own context (the slow one)
        task.connect(image, "input")
        task.run()  # prepare outside the timed run
        times["start"] = time.monotonic()
        task.run()
        times["end"] = time.monotonic()

    worker = threading.Thread(target=work)
    ticks = []
    worker.start()
    while worker.is_alive():
        ticks.append(time.monotonic())
        time.sleep(0.001)
    worker.join()
    start, end = times["start"], times["end"]
    assert end - start > 0.05
    inside = [t for t in ticks if start + 0.02 < t < end - 0.01]
    # With the GIL held the main thread could not tick while the model runs.
    assert len(inside) >= 5, (len(inside), end - start)


def test_conv2d_in_threads():
    rng = np.random.default_rng(9)
    x = rng.integers(0, 256, (16, 16, 8), dtype=np.uint8)
    w = rng.normal(0, 0.2, (3, 3, 8, 8)).astype(np.float32)
    expected = glnn.conv2d(x, w, device="cpu")
    results = []

    def work():
        for _ in range(5):
            results.append(glnn.conv2d(x, w, device="cpu"))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(results) == 20 and all(np.array_equal(r, expected) for r in results)


def growth(fn, n=500):
    """Bytes of Python memory (numpy data included) still allocated after n more calls of fn: the least of
    three measurements, since CPython's adaptive interpreter and free lists allocate now and then while
    warming up.  A leak of one object per call grows by at least 16·n bytes in every measurement."""
    for _ in range(100):
        fn()
    result = None
    for _ in range(3):
        gc.collect()
        tracemalloc.start()
        fn()
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(n):
            fn()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        result = after - before if result is None else min(result, after - before)
    return result


def test_no_reference_leaks():
    rng = np.random.default_rng(11)
    x = rng.integers(0, 256, (6, 6, 4), dtype=np.uint8)
    w = rng.normal(0, 0.3, (3, 3, 4, 4)).astype(np.float32)
    b = np.zeros(4, np.float32)
    counts = [sys.getrefcount(o) for o in (x, w, b)]

    def conv():
        glnn.conv2d(x, w, b, residual=None, padding="same", device="cpu")

    def conv_error():
        try:
            glnn.conv2d(x, w[:, :, :2], device="cpu")
        except glnn.ArgumentError:
            pass

    # A small model with every kind of op, so that runs are quick.
    m = nn.DeserializedModel(LISTING.replace("output_height: 64", "output_height: 9")
                             .replace("output_width: 64", "output_width: 9").replace("size: 31", "size: 4"))
    data = example_data()
    image = rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)
    image_count = sys.getrefcount(image)
    m.add_output("dw")
    task = glnn.InferenceTask(m, data, device="cpu")
    task.connect(image, "in")
    task.run()

    def model_calls():
        task.connect(image, "in")
        task.run()
        m.get_output_data("dw")
        task.get_probabilities()
        m.serialize()
        list(m)
        m["c1"]
        "dw" in m
        data["c1/w"]
        list(data)
        data.items()
        repr(m.get_first_operation())
        m.count_multiply_adds()

    def build_calls():
        mm = build_example()
        mm.serialize()
        nn.DeserializedModel(LISTING)
        try:
            mm.append(nn.Conv2D("c1", 1, 4, 4))
        except glnn.ArgumentError:
            pass
        try:
            nn.Conv2D("c", 3, 4, 4, padding="bad")
        except glnn.ArgumentError:
            pass

    for fn in (conv, conv_error, model_calls, build_calls):
        assert growth(fn) < 8000, fn.__name__  # one leaked object per call would exceed it
    assert [sys.getrefcount(o) for o in (x, w, b)] == counts
    assert sys.getrefcount(image) == image_count
    assert sys.getrefcount(m) == 3  # the cell, the task's reference, the argument


def test_gpu_model_matches_cpu(gpu):
    """A small model on the GPU, within the 1-LSB budget of the CPU reference per op."""
    m = nn.Model()
    m.append(nn.ImageSampler("in", (24, 24)))
    m.append(nn.Conv2D("c1", 3, 3, 8, stride=2, activation="sigmoid_like"), connect=True)
    m.append(nn.Pooling2D("p", "max", 2), connect=True)
    for o in ("in", "c1", "p"):
        m.add_output(o)
    rng = np.random.default_rng(12)
    data = glnn.WritableChunkCollection({"c1/w": rng.normal(0, 1, 3 * 3 * 3 * 8), "c1/b": rng.normal(0, 0.3, 8)})
    image = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    results = {}
    for device in ("cpu", gpu):
        t = glnn.InferenceTask(m, data, device=device)
        t.connect(image, "in")
        t.run()
        results[device] = {o: np.rint(m.get_output_data(o) * 255).astype(int) for o in ("in", "c1", "p")}
    for o in ("in", "c1", "p"):
        assert np.abs(results["cpu"][o] - results[gpu][o]).max() <= 1, o


def test_gpu_model_used_from_another_thread(gpu):
    """GPU contexts belong to threads: a model prepared on one thread runs on another (prepared again on
    that thread's context) and back, with the same results."""
    m = nn.Model()
    m.append(nn.Conv2D("c", 3, 4, 8, padding="same"))
    m.add_output("c")
    rng = np.random.default_rng(13)
    data = glnn.WritableChunkCollection({"c/w": rng.normal(0, 0.2, 3 * 3 * 4 * 8), "c/b": np.zeros(8)})
    x = rng.integers(0, 256, (8, 8, 4), dtype=np.uint8)
    t = glnn.InferenceTask(m, data, device=gpu)
    t.connect(x, "c")
    t.run()
    first = m.get_output_data("c")
    result = {}

    def work():
        try:
            t.run()
            result["out"] = m.get_output_data("c")
        except Exception as e:  # reported below
            result["error"] = e

    th = threading.Thread(target=work)
    th.start()
    th.join()
    assert "error" not in result, result.get("error")
    assert np.array_equal(result["out"], first)
    t.run()
    assert np.array_equal(m.get_output_data("c"), first)
