"""glnn.torch.export and glnn.torch.load: an exported file read by the C library computes the same outputs
as the PyTorch module; load(dog classifier) gives the C library's probabilities; export(load(x)) writes
x again byte for byte; what glnn cannot run is refused at export, naming the node.  Skipped, saying so,
when PyTorch (Debian: python3-torch) is not installed; the dog classifier tests need ../shared."""
import hashlib

import numpy as np
import pytest

import glnn
from glnn import nnets as nn

torch = pytest.importorskip("torch", reason="skipped: PyTorch is not installed (Debian package python3-torch)")
gt = pytest.importorskip("glnn.torch", reason="skipped: glnn.torch cannot be imported")

F = torch.nn.functional


def grid(rng, *shape):
    return torch.from_numpy(rng.integers(0, 256, shape).astype(np.float32) / np.float32(255))


def randomize(module, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, gt.Conv2D):
                fan = m.weight[0].numel()
                std = {"default": 0.7, "brelu6": 5.0, "sigmoid_like": 6.0}[m.activation] * scale / np.sqrt(fan)
                m.weight.copy_(torch.from_numpy(rng.normal(0, std, m.weight.shape).astype(np.float32)))
                if m.bias is not None:
                    m.bias.copy_(torch.from_numpy(rng.normal(0.2, 0.2, m.bias.shape).astype(np.float32)))
            elif isinstance(m, gt.Dense) and not m.has_uninitialized_params():
                m.weight.copy_(torch.from_numpy(rng.normal(0, 2, m.weight.shape).astype(np.float32)))
                if m.bias is not None:
                    m.bias.copy_(torch.from_numpy(rng.normal(0, 1, m.bias.shape).astype(np.float32)))
    return module


class EveryOp(torch.nn.Module):
    """ImageSampler, image input, regular, grouped and depthwise convolutions, residuals, shuffles, both
    poolings, Dense into Dense, Softmax."""

    def __init__(self):
        super().__init__()
        self.sampler = gt.ImageSampler((18, 18), name="in")
        self.c1 = gt.Conv2D(3, 3, 16, activation="brelu6", name="c1")
        self.pw = gt.Conv2D(1, 16, 16, activation="sigmoid_like")
        self.dw = gt.Conv2D(3, 16, 16, padding="same", num_groups=16, activation="sigmoid_like")
        self.grouped = gt.Conv2D(3, 16, 32, stride=2, padding="same", num_groups=4)
        self.pool = gt.Pooling2D("max", 2, padding="same")
        self.gap = gt.Pooling2D("average", 4, stride=1, name="gap")
        self.fc1 = gt.Dense(12, name="fc1")
        self.fc2 = gt.Dense(5, use_bias=False, num_input_dims=12)
        self.prob = gt.Softmax(name="prob")

    def forward(self, image):
        x = self.c1(self.sampler(image))
        y = self.pw(gt.channel_shuffle(x, 2))
        y = self.dw(y, residual=x)
        y = self.pool(self.grouped(y))
        return self.prob(self.fc2(self.fc1(gt.channel_shuffle(self.gap(y), 4))))


def eval_all(module, x):
    """Every glnn layer's output in evaluation mode, by op name (layer name or attribute path)."""
    outs, hooks = {}, []
    for path, m in module.named_modules():
        if isinstance(m, (gt.Conv2D, gt.Pooling2D, gt.Dense, gt.ImageSampler, gt.Softmax, gt.Upsampling2D)):
            name = m.name if m.name is not None else path
            hooks.append(m.register_forward_hook(lambda m, i, o, name=name: outs.__setitem__(name, o)))
    module.eval()
    with torch.no_grad():
        module(x)
    for h in hooks:
        h.remove()
    return outs


def c_outputs(path, x, device):
    """Runs the file on the C library, item by item: {op name: output} for every op but Softmax, and the
    probabilities."""
    data = glnn.ChunkFile(str(path))
    model = nn.DeserializedModel(data)
    names = [op.name for op in model.operations if not isinstance(op, nn.Softmax)]
    for n in names:
        model.add_output(n)
    task = glnn.InferenceTask(model, data, device=device)
    first = model.get_first_operation().name
    results = []
    for i in range(x.shape[0]):
        task.connect(x[i].permute(1, 2, 0).numpy(), first)
        task.run()
        out = {n: model.get_output_data(n) for n in names}
        if any(isinstance(op, nn.Softmax) for op in model.operations):
            out["probabilities"] = model.get_probabilities()
        results.append(out)
    return results


def assert_same(torch_outs, c_results, exact):
    for i, c in enumerate(c_results):
        for name, ref in c.items():
            if name == "probabilities":
                mine = torch_outs[[n for n, v in torch_outs.items() if v.dim() == 2][-1]][i].numpy()
                assert np.abs(mine - ref).max() <= 1e-5, name
                continue
            t = torch_outs[name][i]
            mine = t.permute(1, 2, 0).numpy() if t.dim() == 3 else t.numpy()
            if ref.dtype == np.float32 and t.dim() == 1:
                assert np.allclose(mine, ref, rtol=0 if exact else 1e-4, atol=0 if exact else 1e-5), name
            else:
                d = np.abs(np.rint(mine * 255) - np.rint(ref * 255)).max()
                assert d <= (0 if exact else 1), "%s: %d LSB" % (name, d)


def test_export_every_op_runs_identically_in_the_c_library(tmp_path, reference_device, gpu_exact):
    rng = np.random.default_rng(0)
    module = EveryOp()
    x = grid(rng, 3, 3, 24, 31)
    module(x)  # the lazy Dense size
    randomize(module, 1)
    path = tmp_path / "every.chunks"
    listing = gt.export(module, path, x)
    assert "shuffle: 2" in listing and "shuffle: 4" in listing and "to_input: 1" in listing
    ops = [op.name for op in nn.DeserializedModel(listing).operations]
    assert ops == ["in", "c1", "pw", "dw", "grouped", "pool", "gap", "fc1", "fc2", "prob"]
    outs = eval_all(module, x)
    for device, exact in ((reference_device, True), gpu_exact):
        assert_same(outs, c_outputs(path, x, device), exact)
    # the CLI reads it too
    data = glnn.ChunkFile(str(path))
    assert data["c1/w"] == module.c1.weight.detach().permute(2, 3, 1, 0).contiguous().numpy().astype("<f4").tobytes()
    assert data["fc1/w"] == module.fc1.weight.detach().numpy().astype("<f4").tobytes()
    assert not data.chunk_exists("fc2/b")


def test_export_spec_example_listing(tmp_path):
    """SPEC §8.5's model built from glnn.torch layers exports as the listing glnn prints."""
    from test_model import LISTING

    class Example(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.m = torch.nn.ModuleList([
                gt.ImageSampler((64, 64), name="in"),
                gt.Conv2D(3, 3, 16, stride=2, activation="brelu6", name="c1"),
                gt.Conv2D(3, 16, 16, padding="same", use_bias=False, num_groups=16, activation="sigmoid_like",
                          name="dw"),
                gt.Pooling2D("average", 31, stride=1, name="gap"), gt.Dense(8, name="fc"), gt.Softmax(name="prob")])

        def forward(self, x):
            i, c1, dw, gap, fc, prob = self.m
            y = c1(i(x))
            return prob(fc(gt.channel_shuffle(gap(dw(y, residual=y)), 2)))

    module = Example()
    x = grid(np.random.default_rng(1), 1, 3, 70, 90)
    module(x)
    connections = [("in", "c1", 0, 0, 0), ("c1", "dw", 0, 0, 0), ("c1", "dw", 0, 1, 0), ("dw", "gap", 0, 0, 0),
                   ("gap", "fc", 0, 0, 2), ("fc", "prob", 0, 0, 0)]
    assert gt.export(module, tmp_path / "e.chunks", x) == LISTING
    assert sorted(gt.load(tmp_path / "e.chunks")._glnn_connections) == sorted(connections)


def test_load_export_round_trip_of_an_exported_model(tmp_path):
    rng = np.random.default_rng(2)
    module = EveryOp()
    x = grid(rng, 2, 3, 24, 31)
    module(x)
    randomize(module, 3)
    gt.export(module, tmp_path / "a.chunks", x, labels=["a", "b", "c", "d", "e"])
    loaded = gt.load(tmp_path / "a.chunks")
    assert loaded.labels == ["a", "b", "c", "d", "e"]
    gt.export(loaded, tmp_path / "b.chunks", x)
    assert (tmp_path / "a.chunks").read_bytes() == (tmp_path / "b.chunks").read_bytes()
    with torch.no_grad():
        assert torch.equal(loaded(x), module.eval()(x))


def test_load_dog_classifier_equals_the_c_library(dog_model, shared, reference_device):
    model = gt.load(dog_model)
    assert len(model.ops) == 45 and model.labels[0] == "Chihuahua" and len(model.labels) == 120
    image = glnn.load_image(str(shared / "images" / "butterfly.bmp"))
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        outs = model.forward_all(x)
    data = glnn.ChunkFile(str(dog_model))
    ref = nn.DeserializedModel(data)
    checked = ["b0-conv", "b2-stage3-dw", "b5-scale", "b7-pool", "Dense"]
    for n in checked:
        ref.add_output(n)
    task = glnn.InferenceTask(ref, data, device=reference_device)
    task.connect(image, "input")
    task.run()
    for n in checked:
        t = outs[n][0]
        mine = t.permute(1, 2, 0).numpy() if t.dim() == 3 else t.numpy()
        assert np.array_equal(mine, ref.get_output_data(n)), n
    assert np.abs(outs["softmax"][0].numpy() - task.get_probabilities()).max() <= 1e-5


def test_export_load_dog_classifier_is_byte_identical(dog_model, tmp_path):
    model = gt.load(dog_model)
    x = torch.full((1, 3, 385, 385), 0.5)
    gt.export(model, tmp_path / "dog.chunks", x)
    out = (tmp_path / "dog.chunks").read_bytes()
    assert out == dog_model.read_bytes()
    assert hashlib.sha256(out).hexdigest() == "59723e406f593959a5ac3d7b930b4b8385e7dc3066e1683b0fb4005bce809fcd"


def test_fine_tuning_a_loaded_model_changes_its_weights(tmp_path):
    module = EveryOp()
    x = grid(np.random.default_rng(4), 2, 3, 24, 31)
    module(x)
    gt.export(module, tmp_path / "m.chunks", x)
    model = gt.load(tmp_path / "m.chunks").train()
    before = model.ops[1].weight.detach().clone()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = -torch.log(model(x)[:, 0]).mean()
    loss.backward()
    opt.step()
    assert not torch.equal(before, model.ops[1].weight)


# ---- refusals: each names the node and says why ----

class Seq(torch.nn.Module):
    def __init__(self, fn, **layers):
        super().__init__()
        for k, v in layers.items():
            setattr(self, k, v)
        self.fn = fn

    def forward(self, x):
        return self.fn(self, x)


IMG = torch.full((1, 3, 10, 10), 0.5)
TEN = torch.full((1, 8, 6, 6), 0.5)


def conv(*a, **k):
    return gt.Conv2D(*a, **k)


REFUSALS = [
    ("foreign layer", lambda: torch.nn.Sequential(conv(3, 3, 8), torch.nn.ReLU()), IMG,
     r"node '1' \(module torch.nn.modules.activation.ReLU\) is not a glnn layer"),
    ("torch convolution", lambda: torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3)), IMG,
     r"\(module torch.nn.modules.conv.Conv2d\) is not a glnn layer; glnn runs Conv2D"),
    ("add between layers", lambda: Seq(lambda s, x: s.a(x) + s.b(x), a=conv(3, 8, 8), b=conv(3, 8, 8)), TEN,
     r"node 'add' \(function add\) adds values between layers; .* conv\(x, residual=r\)"),
    ("arithmetic", lambda: Seq(lambda s, x: s.a(x) * 2, a=conv(3, 8, 8)), TEN,
     r"node 'mul' \(function mul\) is arithmetic between layers"),
    ("torch function", lambda: Seq(lambda s, x: F.relu(s.a(x)), a=conv(3, 8, 8)), TEN,
     r"node 'relu' \(function relu\) is not a glnn layer"),
    ("flatten of a map", lambda: Seq(lambda s, x: s.d(torch.flatten(s.a(x), 1)), a=conv(3, 8, 8), d=gt.Dense(4)),
     TEN, r"node 'flatten' \(function flatten\) flattens a value of shape \(1, 8, 4, 4\)"),
    ("layer called twice", lambda: Seq(lambda s, x: s.a(s.a(x)), a=conv(1, 8, 8)), TEN,
     r"node 'a' \(module glnn.torch.layers.Conv2D\) calls layer 'a' a second time"),
    ("duplicate names", lambda: Seq(lambda s, x: s.b(s.a(x)), a=conv(1, 8, 8, name="c"), b=conv(1, 8, 8, name="c")),
     TEN, r"node 'b' .* has the op name 'c' of an earlier layer"),
    ("shuffle twice", lambda: Seq(lambda s, x: s.b(gt.channel_shuffle(gt.channel_shuffle(s.a(x), 2), 2)),
                                  a=conv(1, 8, 16), b=conv(1, 16, 8)), TEN,
     r"node 'channel_shuffle_1' \(function channel_shuffle\) shuffles a value that is already shuffled"),
    ("Softmax output used", lambda: Seq(lambda s, x: s.d(s.s(s.p(s.a(x)))), a=conv(1, 8, 8),
                                        p=gt.Pooling2D("max", 6), s=gt.Softmax(), d=gt.Dense(3)), TEN,
     r"node 'd' .* reads the output of Softmax 's', which has no output in glnn"),
    ("two inputs", lambda: type("Two", (torch.nn.Module,), {
        "__init__": lambda self: (torch.nn.Module.__init__(self), setattr(self, "a", conv(1, 8, 8)))[0],
        "forward": lambda self, x, y: self.a(x, residual=y)})(), TEN,
     r"the module takes 2 inputs \(x, y\); a glnn model has one input"),
    ("input into a residual", lambda: Seq(lambda s, x: s.b(s.a(x), residual=x), a=conv(1, 8, 8), b=conv(1, 8, 8)),
     TEN, r"the model input must feed input #0 of the first op \('a'\) only.*'b' input #1"),
    ("tensor into an image input", lambda: Seq(lambda s, x: s.b(s.a(x)), a=conv(1, 8, 4), b=conv(3, 3, 8)), TEN,
     r"node 'b' .* takes an image on input #0, but 'a' gives a tensor"),
    ("reshape", lambda: Seq(lambda s, x: s.c(s.d(s.p(x)).reshape(1, 4, 1, 1)),
                                              p=gt.Pooling2D("max", 6), d=gt.Dense(4, num_input_dims=8),
                                              c=conv(1, 4, 4)), TEN,
     r"node 'reshape' \(method reshape\) is not a glnn layer"),
    ("control flow", lambda: Seq(lambda s, x: s.a(x) if float(x.sum()) > 0 else x, a=conv(1, 8, 8)), TEN,
     r"torch.fx cannot trace the module"),
    ("parameter outside layers", lambda: type("P", (torch.nn.Module,), {
        "__init__": lambda self: (torch.nn.Module.__init__(self), setattr(self, "a", conv(1, 8, 8)),
                                  setattr(self, "w", torch.nn.Parameter(torch.ones(1))))[0],
        "forward": lambda self, x: self.a(x, residual=self.w.expand(1, 8, 6, 6))})(), TEN,
     r"node 'w' \(get_attr\) reads the attribute 'w'"),
    ("shuffle of an image", lambda: Seq(lambda s, x: s.a(gt.channel_shuffle(s.i(x), 2)), i=gt.ImageSampler((8, 8)),
                                        a=conv(3, 3, 8)), IMG,
     r"node 'channel_shuffle' \(function channel_shuffle\) shuffles an image; glnn shuffles tensors only"),
    ("vector into a convolution", lambda: Seq(lambda s, x: s.c(s.d(s.p(x))), p=gt.Pooling2D("max", 6),
                                              d=gt.Dense(4, num_input_dims=8), c=conv(1, 4, 4)), TEN,
     r"node 'c' .* takes a tensor on input #0, but 'd' gives a vector \(a Dense output\)"),
    ("rule break on the example", lambda: Seq(lambda s, x: s.a(x), a=conv(3, 8, 8, name="big")),
     torch.zeros(1, 8, 2, 2), r"node 'a' .* fails on the example input: Conv2D 'big': output would be empty"),
]


@pytest.mark.parametrize("what, make, x, message", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_export_refuses(what, make, x, message, tmp_path):
    path = tmp_path / "x.chunks"
    with pytest.raises(gt.ExportError, match=message):
        gt.export(make(), path, x)
    assert not path.exists()


def test_export_refuses_bad_labels_and_weights(tmp_path):
    m = torch.nn.Sequential(gt.Pooling2D("max", 6), gt.Dense(3), gt.Softmax())
    with pytest.raises(gt.ExportError, match=r"export: 2 labels for the 3 outputs of '2'"):
        gt.export(m, tmp_path / "x.chunks", TEN, labels=["a", "b"])
    with pytest.raises(gt.ExportError, match=r"label 'a\\nb' holds a line break"):
        gt.export(m, tmp_path / "x.chunks", TEN, labels=["a\nb", "c", "d"])
    with torch.no_grad():
        m[1].weight[1, 2] = float("inf")
    with pytest.raises(gt.ExportError, match=r"op '1': non-finite value inf at index 10 of chunk '1/w'"):
        gt.export(m, tmp_path / "x.chunks", TEN)
    assert not (tmp_path / "x.chunks").exists()


def test_export_upsampling_runs_identically_in_the_c_library(tmp_path, reference_device, gpu_exact):
    """Upsampling2D (SPEC §5.5) between convolutions: nearest and bilinear, factors 2 and 3 (3 is not exact in
    binary: every step must be the reference's), exported and run by the C library."""
    rng = np.random.default_rng(5)
    x = grid(rng, 2, 8, 5, 6)
    for factor, interpolation in ((2, "nearest"), (3, "bilinear"), (2, "bilinear")):
        module = torch.nn.Sequential(gt.Conv2D(1, 8, 8), gt.Upsampling2D(factor, interpolation, name="up"),
                                     gt.Conv2D(3, 8, 4, padding="same"))
        randomize(module, 2)
        path = tmp_path / ("up%d%s.chunks" % (factor, interpolation))
        listing = gt.export(module, path, x)
        assert "_type: upsampling2d" in listing and "interpolation: %s" % interpolation in listing
        outs = eval_all(module, x)
        assert outs["up"].shape[-2:] == (5 * factor, 6 * factor)
        for device, exact in ((reference_device, True), gpu_exact):
            assert_same(outs, c_outputs(path, x, device), exact)


def test_export_accepts_flatten_identity_and_dropout_as_nothing(tmp_path):
    m = torch.nn.Sequential(gt.Pooling2D("average", 6), torch.nn.Flatten(), torch.nn.Dropout(0.3),
                            torch.nn.Identity(), gt.Dense(3), gt.Softmax())
    listing = gt.export(m, tmp_path / "x.chunks", TEN)
    assert [op.name for op in nn.DeserializedModel(listing).operations] == ["0", "4", "5"]
