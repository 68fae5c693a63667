"""glnn.torch.load: a glnn model file → a torch.nn.Module computing it (docs/PYTORCH.md).

The listing is read by the library's own parser (glnn.nnets.DeserializedModel: the same rules and
messages as `glnn run`); each op becomes the glnn.torch layer of the same name and parameters, with the
file's weights converted to PyTorch's layouts (HWIO → OIHW for Conv2D; Dense's matrix is already
nn.Linear's).  export(load(path)) writes the same listing and the same weight bytes.
"""
import os

import numpy as np
import torch
from torch import nn

import glnn

from .layers import Conv2D, Dense, ImageSampler, Pooling2D, Softmax, Upsampling2D, channel_shuffle


def _word(enum_value):
    return enum_value.name.lower()


def _parse_connections(text):
    """The connections chapter of a listing as glnn prints it (SPEC §8.4): (from, to, from_output,
    to_input, shuffle) in file order."""
    out, block, chapter = [], None, None
    for line in text.split("\n"):
        if not line:
            continue
        if not line.startswith(" "):
            chapter = line[:-1]
            continue
        if chapter != "connections":
            continue
        key, value = line.strip().lstrip("- ").split(":", 1)
        if line.startswith(" - "):
            block = {}
            out.append(block)
        block[key] = value.strip()
    return [(b["from"], b["to"], int(b.get("from_output", 0)), int(b.get("to_input", 0)), int(b.get("shuffle", 0)))
            for b in out]


def _chunk_floats(data, key, what, count=None):
    if not data.chunk_exists(key):
        raise glnn.ArgumentError("%s: chunk '%s' not found" % (what, key))
    size = data.chunk_size(key)
    if size % 4 or (count is not None and size != 4 * count):
        raise glnn.ArgumentError("%s: size mismatch of chunk '%s': expected %s bytes, got %d" % (
            what, key, 4 * count if count is not None else "a multiple of 4", size))
    a = np.frombuffer(data[key], dtype="<f4").astype(np.float32)
    bad = np.flatnonzero(~np.isfinite(a))
    if bad.size:
        raise glnn.ArgumentError("%s: non-finite value at index %d of chunk '%s'" % (what, bad[0], key))
    return torch.from_numpy(a.copy())


def _layer(op, data):
    nn_ = glnn.nnets
    name = op.name
    if isinstance(op, nn_.Conv2D):
        m = Conv2D(op.kernel_size, op.num_input_channels, op.num_output_channels, stride=op.stride,
                   padding=_word(op.padding), use_bias=op.use_bias, num_groups=op.num_groups,
                   activation=_word(op.activation), name=name)
        k, cout = m.kernel_size, m.num_output_channels
        cg = m.weight.shape[1]
        what = "Conv2D '%s'" % name
        w = _chunk_floats(data, name + "/w", what, k * k * cg * cout)
        with torch.no_grad():
            m.weight.copy_(w.reshape(k, k, cg, cout).permute(3, 2, 0, 1))
            if m.use_bias:
                m.bias.copy_(_chunk_floats(data, name + "/b", what, cout))
        return m
    if isinstance(op, nn_.Pooling2D):
        return Pooling2D(_word(op.operator), op.size, stride=op.stride, padding=_word(op.padding), name=name)
    if isinstance(op, nn_.Dense):
        what = "Dense '%s'" % name
        n_out = op.num_output_dims
        w = _chunk_floats(data, name + "/w", what)
        if w.numel() % n_out or w.numel() == 0:
            raise glnn.ArgumentError("%s: matrix chunk '%s/w' holds %d floats, not a multiple of %d outputs" % (
                what, name, w.numel(), n_out))
        m = Dense(n_out, use_bias=op.use_bias, num_input_dims=w.numel() // n_out, name=name)
        with torch.no_grad():
            m.weight.copy_(w.reshape(n_out, -1))
            if m.use_bias:
                m.bias.copy_(_chunk_floats(data, name + "/b", what, n_out))
        return m
    if isinstance(op, nn_.Softmax):
        return Softmax(name=name)
    if isinstance(op, nn_.ImageSampler):
        return ImageSampler(tuple(op.size), center_crop=op.center_crop, linear_interp=op.linear_interp, name=name)
    ups = getattr(nn_, "Upsampling2D", None)
    if ups is not None and isinstance(op, ups):
        interp = op.interpolation
        return Upsampling2D(op.factor, interp if isinstance(interp, str) else _word(interp), name=name)
    raise glnn.ArgumentError("glnn.torch.load: op '%s' is a %s, which glnn.torch does not know" % (
        name, type(op).__name__))


class Model(nn.Module):
    """A glnn model as a torch.nn.Module: the ops (glnn.torch layers, in execution order, in `ops`) and the
    connections of the file.  forward(x) binds x to input #0 of the first op, runs every op in order
    and returns the last op's output (the probabilities of a classifier); forward_all(x) returns every
    op's output by name.  `labels` holds the file's class names (or None).  Built by glnn.torch.load."""

    def __init__(self, layers, connections, labels=None):
        super().__init__()
        self.ops = nn.ModuleList(layers)
        names = [m.name for m in layers]
        index = {n: i for i, n in enumerate(names)}
        self._sources = [[None, None] for _ in layers]
        for src, dst, out, inp, shuffle in connections:
            self._sources[index[dst]][inp] = (index[src], shuffle)
        for i, m in enumerate(layers):
            if i > 0 and self._sources[i][0] is None:
                raise glnn.ArgumentError("glnn.torch.load: op '%s' has no connection on input #0; glnn.torch runs "
                                         "models with one input, bound to the first op ('%s')" % (m.name, names[0]))
        self._glnn_connections = list(connections)
        self.labels = labels

    def _value(self, outs, source):
        i, shuffle = source
        return channel_shuffle(outs[i], shuffle) if shuffle > 1 else outs[i]

    def _outputs(self, x):
        """Every op's output, in the model's order."""
        outs = []
        for i, layer in enumerate(self.ops):
            main, residual = self._sources[i]
            inp = x if main is None else self._value(outs, main)
            if residual is not None:
                outs.append(layer(inp, residual=self._value(outs, residual)))
            else:
                outs.append(layer(inp))
        return outs

    def forward_all(self, x):
        """Every op's output, by op name (a Softmax's: its probabilities)."""
        return {m.name: v for m, v in zip(self.ops, self._outputs(x))}

    def forward(self, x):
        return self._outputs(x)[-1]


def load(path):
    """A Model (torch.nn.Module) computing the glnn model file at `path` (or a glnn chunk collection):
    the Beatmup dog classifier, a file written by glnn.torch.export, any listing glnn runs with one
    input.  The listing is validated by the library; weights are checked as glnn does (present, of the
    right size, finite).  Ready to evaluate (model.eval()) or fine-tune."""
    if isinstance(path, (str, bytes, os.PathLike)):
        with glnn.ChunkFile(path) as data:
            return load(data)
    data = path
    listing = glnn.nnets.DeserializedModel(data)
    text = listing.serialize()
    layers = [_layer(op, data) for op in listing.operations]
    labels = None
    if data.chunk_exists("labels"):
        raw = data["labels"].decode("utf-8")
        labels = [s[:-1] if s.endswith("\r") else s for s in raw.split("\n")]
        if raw.endswith("\n"):
            labels.pop()
    model = Model(layers, _parse_connections(text), labels)
    model.eval()
    return model
