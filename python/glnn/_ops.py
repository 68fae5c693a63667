"""The operation classes of glnn.nnets, built from the library's own op descriptions (glnn_op_info_at).

Each operation is described once, in C (src/ops/<type>.c): its class name, parameters with their keyword, type,
default and documentation.  This module turns every description into a Python class with that signature,
read-only attributes and a repr that evaluates back to the op, and registers it so that ops the library returns
(a model's) get it.  Construction is the library's: arguments are converted here (types, enumerations given as
members, names or values), then glnn_op_create validates them with the rules and messages of SPEC §4.3 and §5.
What a few ops add beyond their parameters is in EXTRAS below.
"""
import inspect
import operator as _operator

from . import _glnn

nnets = _glnn.nnets
Operation = _glnn.nnets.Operation
_INT32 = (-(2 ** 31), 2 ** 31 - 1)


def _enum(param):
    return _glnn._enums[param["enum"]] if param["enum"] else None


def _label(member):
    return "%s.%s" % (type(member).__qualname__, member.name)


class _Param:
    """A parameter as Python sees it: one of the description's, or a group of them given as a tuple."""

    def __init__(self, name, members, kind, default, doc):
        self.name, self.members, self.kind, self.default, self.doc = name, members, kind, default, doc


def _python_params(info):
    """The Python parameters of a description: grouped ones (ImageSampler's size) become one tuple."""
    out, params = [], info["params"]
    i = 0
    while i < len(params):
        p = params[i]
        if p["group"]:
            j = i
            while j < len(params) and params[j]["group"] == p["group"]:
                j += 1
            names = [q["name"] for q in params[i:j]]
            prefix = len(_common_prefix(names))
            out.append(_Param(p["group"], list(range(i, j)), "group", inspect.Parameter.empty,
                              "(%s) (read-only)" % ", ".join(n[prefix:] for n in names)))
            i = j
            continue
        if p["required"]:
            default = inspect.Parameter.empty
        elif p["type"] == "bool":
            default = bool(p["default"])
        elif p["type"] == "enum":
            default = _enum(p)(p["default"])
        else:
            default = p["default"]
        out.append(_Param(p["name"], [i], p["type"], default, p["doc"]))
        i += 1
    return out


def _common_prefix(names):
    prefix = names[0]
    for n in names[1:]:
        while not n.startswith(prefix):
            prefix = prefix[:-1]
    return prefix[:prefix.rfind("_") + 1] if "_" in prefix else ""


def _signature_text(pparams):
    """name, kernel_size, ..., padding=Padding.VALID, ...: the signature as the docs show it."""
    parts = ["name"]
    for p in pparams:
        if p.default is inspect.Parameter.empty:
            parts.append(p.name)
        else:
            parts.append("%s=%s" % (p.name, _label(p.default) if p.kind == "enum" else repr(p.default)))
    return ", ".join(parts)


def _int(value):
    v = _operator.index(value)  # TypeError for str, float, None
    if not _INT32[0] <= v <= _INT32[1]:
        raise OverflowError("signed integer is greater than maximum" if v > 0 else "signed integer is less than minimum")
    return v


def _pair(value, n):
    """The n integers of a tuple parameter, or None when value is not such a sequence."""
    if isinstance(value, (str, bytes)):
        return None
    try:
        items = list(value)
    except TypeError:
        return None
    if len(items) != n:
        return None
    out = []
    for item in items:
        if isinstance(item, bool):
            return None
        try:
            v = _operator.index(item)
        except TypeError:
            return None
        if not -2147483647 <= v <= 2147483647:
            return None
        out.append(v)
    return out


def _make_class(info, extras):
    class_name, type_name = info["class_name"], info["type_name"]
    params = info["params"]
    pparams = _python_params(info)
    signature = inspect.Signature(
        [inspect.Parameter("name", inspect.Parameter.POSITIONAL_OR_KEYWORD)] +
        [inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=p.default) for p in pparams])

    # Per Python parameter: its name, kind, the description's indices and, for enumerations, the class and the
    # message words.
    plan = []
    for p in pparams:
        e = _enum(params[p.members[0]]) if p.kind == "enum" else None
        if e is not None:
            labels = [_label(m) for m in e]
            expected = " or ".join([", ".join(labels[:-1]), labels[-1]]) if len(labels) > 1 else labels[0]
            extra = (params[p.members[0]]["enum_what"], expected)
        elif p.kind == "group":
            extra = p.doc.split(" (read")[0]
        else:
            extra = None
        plan.append((p.name, p.kind, p.members, e, extra))
    n_values = len(params)

    def __new__(cls, *args, **kwargs):
        bound = signature.bind(*args, **kwargs)  # TypeError for a missing, extra or unknown argument
        bound.apply_defaults()
        a = bound.arguments
        name = a["name"]
        if not isinstance(name, str):
            raise TypeError("%s: the name must be a str, not %s" % (class_name, type(name).__name__))
        values = [0] * n_values
        bad = None  # the first argument that is no value of its type: reported after the name check (rule V1)
        for pname, kind, members, e, extra in plan:
            v = a[pname]
            if kind == "int":
                values[members[0]] = _int(v)
            elif kind == "bool":
                values[members[0]] = 1 if v else 0
            elif kind == "enum":
                got = _glnn._enum_value(e, v)
                if got is None:
                    bad = bad or "invalid %s %r (expected %s)" % (extra[0], v, extra[1])
                else:
                    values[members[0]] = got
            else:
                got = _pair(v, len(members))
                if got is None:
                    bad = bad or "%s must be a %s pair of integers, got %r" % (pname, extra, v)
                else:
                    for i, x in zip(members, got):
                        values[i] = x
        if bad:
            _glnn._check_name(class_name, name)
            raise _glnn.ArgumentError("%s '%s': %s" % (class_name, name, bad))
        return cls._create(type_name, name, tuple(values))

    def getter(p):
        if p.kind == "group":
            return lambda self: tuple(self._param(i) for i in p.members)
        if p.kind == "enum":
            e = _enum(params[p.members[0]])
            return lambda self: e(self._param(p.members[0]))
        if p.kind == "bool":
            return lambda self: bool(self._param(p.members[0]))
        return lambda self: self._param(p.members[0])

    def __repr__(self):
        parts = [repr(self.name)]
        positional = info["repr_positional"]
        for p in pparams:
            v = getattr(self, p.name)
            text = _label(v) if p.kind == "enum" else repr(v)
            parts.append(text if p.members[-1] < positional else "%s=%s" % (p.name, text))
        return "%s(%s)" % (class_name, ", ".join(parts))

    namespace = {
        "__new__": __new__,
        "__repr__": __repr__,
        "_base_repr": __repr__,
        "__signature__": signature,
        "__module__": "glnn.nnets",
        "__slots__": (),
        "__doc__": "%s(%s)\n\n%s" % (class_name, _signature_text(pparams), info["doc"]),
    }
    for p in pparams:
        doc = p.doc if p.kind == "group" else p.doc[:1].upper() + p.doc[1:] + " (read-only)."
        namespace[p.name] = property(getter(p), doc=doc)
    namespace.update(extras.get(class_name, {}))
    cls = type(class_name, (Operation,), namespace)
    cls.__qualname__ = class_name
    return cls


def _image_sampler_repr(self):
    base = self._base_repr()
    return base[:-1] + "; rotation=%d)" % self.rotation if self.rotation else base


def _sampled_channels(self):
    """Input channels read per output value (SPEC §4.10): 3k² for an image input, 4k² depthwise, k²·Cin/groups
    otherwise."""
    return self._sampled_channels()


# What some operations add to their parameters.
EXTRAS = {
    "Conv2D": {"filters_chunk_suffix": "/w", "bias_chunk_suffix": "/b", "sampled_channels": _sampled_channels},
    "Dense": {"matrix_chunk_suffix": "/w", "bias_chunk_suffix": "/b"},
    "ImageSampler": {
        "rotation": property(lambda self: self._rotation(), lambda self, r: self._set_rotation(r),
                             doc="Quarter turns clockwise applied to the input before cropping, 0..3 (default 0; "
                                 "not stored in listings)."),
        "__repr__": _image_sampler_repr,
    },
}


def _build():
    classes = {}
    for info in _glnn._op_types():
        cls = _make_class(info, EXTRAS)
        # Enumerations named after their class ("Pooling2D.Operator") live on it.
        for p in info["params"]:
            if p["enum"] and p["enum"].startswith(cls.__name__ + "."):
                setattr(cls, p["enum"].split(".", 1)[1], _glnn._enums[p["enum"]])
        _glnn._register_op_class(info["type_name"], cls)
        setattr(nnets, cls.__name__, cls)
        classes[cls.__name__] = cls
    return classes


CLASSES = _build()
