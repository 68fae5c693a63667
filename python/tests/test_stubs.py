"""The .pyi stubs of the package (python/glnn/__init__.pyi, nnets.pyi) against the package itself: every public name
and member is there, and the signatures agree with inspect.signature."""
import ast
import enum
import inspect
import pathlib
import types

import pytest

import glnn
from glnn import nnets as nn

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "glnn"


def stub(name):
    tree = ast.parse((PACKAGE / name).read_text(), filename=name)
    top = {}
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            top[node.name] = node
        elif isinstance(node, ast.AnnAssign):
            top[node.target.id] = node
        elif isinstance(node, ast.Assign):
            top.update((t.id, node) for t in node.targets)
        elif isinstance(node, ast.ImportFrom):
            top.update((a.asname or a.name, node) for a in node.names)
    return top


def members(cls_node, classes):
    """Names defined in a stub class and its stub bases."""
    names = set()
    for node in cls_node.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets)
    for base in cls_node.bases:
        if isinstance(base, ast.Name) and base.id in classes:
            names |= members(classes[base.id], classes)
    return names


def params(fn_node):
    """(name, default text or None) of a stub function, self left out."""
    a = fn_node.args
    plain = a.posonlyargs + a.args
    defaults = [None] * (len(plain) - len(a.defaults)) + [ast.unparse(d) for d in a.defaults]
    out = [(p.arg, d) for p, d in zip(plain, defaults) if p.arg != "self"]
    return out + [(p.arg, ast.unparse(d) if d else None) for p, d in zip(a.kwonlyargs, a.kw_defaults)]


def runtime_params(obj):
    out = []
    for p in inspect.signature(obj).parameters.values():
        if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        d = p.default
        if d is inspect.Parameter.empty:
            out.append((p.name, None))
        elif isinstance(d, enum.Enum):
            out.append((p.name, "%s.%s" % (type(d).__qualname__, d.name)))
        else:
            out.append((p.name, repr(d)))
    return out


@pytest.mark.parametrize("module, name", [(glnn, "__init__.pyi"), (nn, "nnets.pyi")])
def test_every_public_name_is_in_the_stub(module, name):
    top = stub(name)
    # Subpackages with Python sources of their own (glnn.torch, once imported) are not the stubs' business.
    public = {n for n in dir(module) if not n.startswith("_") and not (
        isinstance(getattr(module, n), types.ModuleType) and str(getattr(getattr(module, n), "__file__", "")).endswith(".py"))}
    assert public - set(top) == set(), "missing from %s" % name


@pytest.mark.parametrize("module, name", [(glnn, "__init__.pyi"), (nn, "nnets.pyi")])
def test_classes_and_functions_agree(module, name):
    top = stub(name)
    classes = {n: node for n, node in top.items() if isinstance(node, ast.ClassDef)}
    for cname, node in classes.items():
        cls = getattr(module, cname)
        inherited = {m for b in cls.__mro__ if b.__module__ == "builtins" for m in dir(b)}
        runtime = {m for m in dir(cls) if not m.startswith("_") and m not in inherited}
        assert runtime - members(node, classes) == set(), "%s.%s members missing from the stub" % (name, cname)
        init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
        if init is not None:
            assert params(init) == runtime_params(cls), cname
        for fn in node.body:
            if isinstance(fn, ast.FunctionDef) and not fn.name.startswith("_") and not fn.decorator_list:
                assert [p for p, _ in params(fn)] == [p for p, _ in runtime_params(getattr(cls, fn.name))], (
                    cname, fn.name)
    for fname, node in top.items():
        if isinstance(node, ast.FunctionDef):
            assert params(node) == runtime_params(getattr(module, fname)), fname
