"""glnn.torch.export: a torch.nn.Module built from glnn.torch layers → one glnn model file (docs/PYTORCH.md,
docs/FORMATS.md).

The module is traced with torch.fx (glnn.torch layers are leaves), run once on the example input in
evaluation mode (shapes, lazy sizes), and translated node by node: each layer call becomes an op, each
value passed between layers a connection, channel_shuffle the connection's shuffle.  Anything glnn
cannot run is refused here, with a message naming the node.  The listing is built with glnn.nnets.Model
and the file written with glnn.WritableChunkCollection, so both formats are the library's own; before
writing, the model is prepared and run once on glnn's CPU reference with the example input.
"""
import operator

import numpy as np
import torch
import torch.fx as fx
from torch import nn

import glnn

from ._device import reference_device
from .layers import LAYERS, ChannelShuffle, Conv2D, Dense, ImageSampler, Pooling2D, Softmax, Upsampling2D
from .layers import channel_shuffle as _channel_shuffle


class ExportError(glnn.ArgumentError):
    """A module that glnn cannot run (a glnn.ArgumentError: also a glnn.Error and a ValueError)."""


_PASS_MODULES = (nn.Identity, nn.Dropout, nn.Dropout2d)
_FLATTEN_FUNCTIONS = (torch.flatten,)
_LAYER_LIST = "Conv2D, Pooling2D, Dense, Softmax, ImageSampler, Upsampling2D, channel_shuffle"


class _Tracer(fx.Tracer):
    """glnn.torch layers are leaves; channel_shuffle records itself as a call_function node when it sees a
    Proxy (so it needs no autowrap, which would replace the function by a wrapper in module globals)."""

    def is_leaf_module(self, m, qualname):
        return isinstance(m, LAYERS) or super().is_leaf_module(m, qualname)


def _label(node):
    """A node as the user knows it: a module call by the module's attribute path, others by fx's name."""
    return node.target if node.op == "call_module" else node.name


def _describe(node, root):
    if node.op == "call_module":
        m = root.get_submodule(node.target)
        return "module %s.%s" % (type(m).__module__, type(m).__name__)
    if node.op in ("call_function", "call_method"):
        t = node.target
        name = t if isinstance(t, str) else getattr(t, "__name__", repr(t))
        return "%s %s" % ("method" if node.op == "call_method" else "function", name)
    return node.op


class _Run(fx.Interpreter):
    """Runs the traced module on the example, keeping every node's value; a failing node is named."""

    def run_all(self, *args):
        self.args_iter = iter(args)
        self.env = {}
        for n in self.module.graph.nodes:
            if n.op == "output":
                break
            try:
                self.env[n] = self.run_node(n)
            except Exception as e:
                raise ExportError("export: node '%s' (%s) fails on the example input: %s" % (
                    _label(n), _describe(n, self.module), e)) from e
        return self.env


class _Source:
    """What a node's value is in glnn terms: output #0 of op `op` (None: the model input) seen through a
    shuffle."""

    def __init__(self, op, shuffle=0):
        self.op, self.shuffle = op, shuffle


def _refuse(node, root, why):
    raise ExportError("export: node '%s' (%s) %s" % (_label(node), _describe(node, root), why))


def _const_int(node, root, value, what):
    if isinstance(value, bool) or not isinstance(value, int):
        _refuse(node, root, "has a %s that is not a constant int (%r); glnn stores it in the file" % (what, value))
    return value


def _floats(t):
    return np.ascontiguousarray(t.detach().cpu().to(torch.float32).numpy()).astype("<f4", copy=False)


def _is_flatten(node, root):
    if node.op == "call_function" and node.target in _FLATTEN_FUNCTIONS:
        return True
    if node.op == "call_method" and node.target in ("flatten", "squeeze"):
        return True
    return node.op == "call_module" and isinstance(root.get_submodule(node.target), nn.Flatten)


def export(module, path, example_input, labels=None):
    """Writes `module` as one glnn model file at `path` (SPEC §8–9): the listing (chunk ''), the weights
    ('<op>/w', '<op>/b') and, with labels (a list of class names, or None to take `module.labels` where
    it exists), a 'labels' chunk.  example_input: an NCHW batch the module accepts (an image with
    values q/255, or a tensor); its first item is run through glnn's CPU reference before writing.

    Op names are the layers' `name`, else their attribute paths in the module ('features.0').  The
    model's single input is bound to input #0 of its first op (as `glnn run` does).  Raises ExportError
    naming the node for anything glnn cannot run.  Returns the listing text."""
    if isinstance(module, LAYERS):
        module = nn.Sequential(module)
    if not isinstance(module, nn.Module):
        raise TypeError("export: module must be a torch.nn.Module, not %s" % type(module).__name__)
    if not isinstance(example_input, torch.Tensor) or example_input.dim() != 4 or example_input.shape[0] < 1:
        raise ExportError("export: example_input must be an NCHW batch (N, C, H, W) with N ≥ 1, got %s" % (
            tuple(example_input.shape) if isinstance(example_input, torch.Tensor) else type(example_input).__name__))
    tracer = _Tracer()
    try:
        graph = tracer.trace(module)
    except Exception as e:
        raise ExportError("export: torch.fx cannot trace the module (%s: %s); glnn models are fixed graphs of "
                          "glnn.torch layers" % (type(e).__name__, e)) from e
    gm = fx.GraphModule(tracer.root, graph)
    placeholders = [n for n in graph.nodes if n.op == "placeholder"]
    if len(placeholders) != 1:
        raise ExportError("export: the module takes %d inputs (%s); a glnn model has one input, bound to its "
                          "first op" % (len(placeholders), ", ".join(n.name for n in placeholders)))
    root = gm

    sources = {}      # node → _Source
    ops = []          # (name, layer, node) in execution order
    used_modules = set()
    inputs_of = {}    # op name → [(source, input index)]
    kind_of = {None: "input"}  # op name → 'image' / 'tensor' / 'vector' / 'probabilities'
    flattens = []     # flatten nodes: allowed on 1×1 values, checked once the example has run
    for node in graph.nodes:
        if node.op == "placeholder":
            sources[node] = _Source(None)
            continue
        if node.op == "output":
            continue
        if node.op == "call_module":
            m = root.get_submodule(node.target)
            if isinstance(m, ChannelShuffle):
                _shuffle(node, root, sources, kind_of, node.args[0], m.n)
                continue
            if isinstance(m, _PASS_MODULES):
                sources[node] = _source_of(node, root, sources, node.args[0])
                continue
            if isinstance(m, nn.Flatten):
                flattens.append(node)
                sources[node] = _source_of(node, root, sources, node.args[0])
                continue
            if not isinstance(m, LAYERS):
                _refuse(node, root, "is not a glnn layer; glnn runs %s (glnn.torch)" % _LAYER_LIST)
            if id(m) in used_modules:
                _refuse(node, root, "calls layer '%s' a second time; each glnn op runs once, use a layer per call"
                        % node.target)
            used_modules.add(id(m))
            name = m.name if m.name is not None else node.target
            if name in (o[0] for o in ops):
                _refuse(node, root, "has the op name '%s' of an earlier layer; op names must be unique" % name)
            main = node.args[0] if node.args else node.kwargs.get("x")
            residual = node.args[1] if len(node.args) > 1 else node.kwargs.get("residual")
            conns = [(_source_of(node, root, sources, main), 0)]
            if residual is not None:
                conns.append((_source_of(node, root, sources, residual), 1))
            for src, index in conns:
                _check_input(node, root, m, name, src, index, kind_of, ops)
            ops.append((name, m, node))
            inputs_of[name] = conns
            kind_of[name] = _output_kind(m)
            sources[node] = _Source(name)
            continue
        if node.op == "call_function" and node.target is _channel_shuffle:
            n = node.args[1] if len(node.args) > 1 else node.kwargs.get("n")
            _shuffle(node, root, sources, kind_of, node.args[0], n)
            continue
        if _is_flatten(node, root):
            flattens.append(node)
            sources[node] = _source_of(node, root, sources, node.args[0])
            continue
        if node.op == "call_function" and node.target in (operator.add, operator.iadd, torch.add):
            _refuse(node, root, "adds values between layers; glnn has no add op: pass the value as a Conv2D "
                    "residual, conv(x, residual=r)")
        if node.op == "call_function" and node.target in (operator.mul, operator.sub, operator.truediv,
                                                          torch.mul, torch.sub, torch.div):
            _refuse(node, root, "is arithmetic between layers, which glnn cannot run; glnn runs %s" % _LAYER_LIST)
        if node.op == "get_attr":
            _refuse(node, root, "reads the attribute '%s' into the computation; glnn models hold weights only "
                    "inside layers" % node.target)
        _refuse(node, root, "is not a glnn layer; glnn runs %s (glnn.torch)" % _LAYER_LIST)

    if not ops:
        raise ExportError("export: the module contains no glnn layer")
    first = ops[0][0]
    feeds = [(name, index) for name, conns in inputs_of.items() for src, index in conns if src.op is None]
    if feeds != [(first, 0)]:
        raise ExportError("export: the model input must feed input #0 of the first op ('%s') only, as glnn binds "
                          "it there; it feeds %s" % (first, ", ".join("'%s' input #%d" % f for f in feeds)))
    out_node = next(n for n in graph.nodes if n.op == "output")
    for n in out_node.all_input_nodes:
        if n.op == "placeholder":
            raise ExportError("export: the module returns its input unchanged; a glnn model returns op outputs")

    # The structure is glnn's: run the example (shapes, the layers' own checks, lazy sizes).
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            values = _Run(gm).run_all(example_input)
    finally:
        module.train(was_training)
    for node in flattens:
        _check_flatten(node, root, values)

    model = glnn.nnets.Model()
    data = glnn.WritableChunkCollection()
    for name, m, node in ops:
        try:
            model.append(_nnets_op(name, m))
        except glnn.Error as e:
            _refuse(node, root, "cannot be added to the model: %s" % e)
        for key, value in _weights(name, m).items():
            data[key] = value
    natural = []
    for name, m, node in ops:
        for src, index in inputs_of[name]:
            if src.op is not None:
                natural.append((src.op, name, 0, index, src.shuffle))
    preferred = getattr(module, "_glnn_connections", None)
    order = list(preferred) if preferred is not None and sorted(preferred) == sorted(natural) else natural
    for src, dst, out, inp, shuffle in order:
        model.add_connection(src, dst, output=out, input=inp, shuffle=shuffle)
    listing = model.serialize()
    data[""] = listing

    if labels is None:
        labels = getattr(module, "labels", None)
    if labels is not None:
        labels = [str(s) for s in labels]
        bad = [s for s in labels if "\n" in s or "\r" in s]
        if bad:
            raise ExportError("export: label %r holds a line break; labels are one per line" % bad[0])
        last_name, last, last_node = ops[-1]
        width = values[last_node].shape[1] if isinstance(last, (Softmax, Dense)) else None
        if width is None:
            raise ExportError("export: labels given, but the last op '%s' is a %s, not a classifier (Dense or "
                              "Softmax)" % (last_name, type(last).__name__))
        if len(labels) != width:
            raise ExportError("export: %d labels for the %d outputs of '%s'" % (len(labels), width, last_name))
        data["labels"] = "".join(s + "\n" for s in labels)

    _check_with_glnn(listing, data, example_input, first, ops)
    data.save(str(path))
    return listing


def _source_of(node, root, sources, arg):
    if not isinstance(arg, fx.Node):
        _refuse(node, root, "takes a constant (%r) where glnn connects an op output" % (arg,))
    if arg not in sources:
        _refuse(node, root, "reads node '%s', which is not the output of a glnn layer" % arg.name)
    return sources[arg]


def _shuffle(node, root, sources, kind_of, arg, n):
    src = _source_of(node, root, sources, arg)
    n = _const_int(node, root, n, "shuffle")
    if src.shuffle > 1 and n > 1:
        _refuse(node, root, "shuffles a value that is already shuffled (by %d); a glnn connection carries one "
                "shuffle" % src.shuffle)
    kind = kind_of[src.op]
    if n > 1 and kind != "tensor":
        _refuse(node, root, "shuffles %s; glnn shuffles tensors only (SPEC §6)" % {
            "input": "the model input", "image": "an image", "vector": "a vector (a Dense output)",
            "probabilities": "probabilities"}[kind])
    sources[node] = _Source(src.op, n if n > 1 else src.shuffle)


def _check_flatten(node, root, values):
    v = values.get(node.args[0])
    if not isinstance(v, torch.Tensor) or v.dim() != 4 or v.shape[2] != 1 or v.shape[3] != 1:
        _refuse(node, root, "flattens a value of shape %s; glnn's Dense and Softmax take a 1×1×C tensor as it is "
                "(flattening anything larger than 1×1 cannot run on glnn: pool or convolve down to 1×1 first)"
                % (tuple(v.shape) if isinstance(v, torch.Tensor) else type(v).__name__,))


def _output_kind(m):
    if isinstance(m, ImageSampler):
        return "image"
    if isinstance(m, Dense):
        return "vector"
    if isinstance(m, Softmax):
        return "probabilities"
    return "tensor"


def _check_input(node, root, m, name, src, index, kind_of, ops):
    kind = kind_of[src.op]
    from_what = "the model input" if src.op is None else "'%s'" % src.op
    if kind == "probabilities":
        _refuse(node, root, "reads the output of Softmax %s, which has no output in glnn (its probabilities are "
                "read with get_probabilities)" % from_what)
    if kind == "input":
        return  # the first op's input: glnn checks what is bound at preparation
    takes_image = isinstance(m, ImageSampler) or (isinstance(m, Conv2D) and m.is_image_input and index == 0)
    if takes_image and kind != "image":
        _refuse(node, root, "takes an image on input #%d, but %s gives a %s" % (index, from_what, kind))
    if not takes_image and kind == "image":
        _refuse(node, root, "takes a %s on input #%d, but %s gives an image" % (
            "vector or 1×1 tensor" if isinstance(m, (Dense, Softmax)) else "tensor", index, from_what))
    if kind == "vector" and not isinstance(m, (Dense, Softmax)):
        _refuse(node, root, "takes a tensor on input #%d, but %s gives a vector (a Dense output)" % (index, from_what))


def _nnets_op(name, m):
    nn_ = glnn.nnets
    if isinstance(m, Conv2D):
        return nn_.Conv2D(name, m.kernel_size, m.num_input_channels, m.num_output_channels, stride=m.stride,
                          padding=m.padding, use_bias=m.use_bias, num_groups=m.num_groups, activation=m.activation)
    if isinstance(m, Pooling2D):
        return nn_.Pooling2D(name, m.operator, m.size, stride=m.effective_stride, padding=m.padding)
    if isinstance(m, Dense):
        return nn_.Dense(name, m.num_output_dims, use_bias=m.use_bias)
    if isinstance(m, Softmax):
        return nn_.Softmax(name)
    if isinstance(m, ImageSampler):
        return nn_.ImageSampler(name, m.size, center_crop=m.center_crop, linear_interp=m.linear_interp)
    if isinstance(m, Upsampling2D):
        ctor = getattr(nn_, "Upsampling2D", None)
        if ctor is None:
            raise glnn.ArgumentError("this glnn library has no Upsampling2D op yet (SPEC §5.5); the layer runs in "
                                     "PyTorch but cannot be exported until the C library has it")
        return ctor(name, factor=m.factor, interpolation=m.interpolation)
    raise glnn.ArgumentError("not a glnn layer")


def _weights(name, m):
    """Chunks of one op: Conv2D filters OIHW → HWIO (SPEC §4.7), Dense matrix row-major (SPEC §5.2)."""
    out = {}
    if isinstance(m, Conv2D):
        out[name + "/w"] = _floats(m.weight.permute(2, 3, 1, 0))
        if m.use_bias:
            out[name + "/b"] = _floats(m.bias)
    elif isinstance(m, Dense):
        out[name + "/w"] = _floats(m.weight)
        if m.use_bias:
            out[name + "/b"] = _floats(m.bias)
    for key, a in out.items():
        if not np.isfinite(a).all():
            i = int(np.flatnonzero(~np.isfinite(a.reshape(-1)))[0])
            raise ExportError("export: op '%s': non-finite value %s at index %d of chunk '%s'" % (
                name, a.reshape(-1)[i], i, key))
    return out


def _check_with_glnn(listing, data, example_input, first, ops):
    """Reads the listing back with the library's parser, prepares and runs the model once on the CPU
    reference with the example's first item: a file that would fail later fails here."""
    try:
        model = glnn.nnets.DeserializedModel(listing)
        task = glnn.InferenceTask(model, data, device=reference_device())
        x = example_input[0].detach().to(torch.float32).permute(1, 2, 0).contiguous().cpu().numpy()
        task.connect(x, first)  # floats q/255, quantized with Q by the library
        task.run()
    except glnn.Error as e:
        raise ExportError("export: glnn refuses the model: %s" % e) from e
