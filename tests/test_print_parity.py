"""f-strings and format() of tensors, the types of grad_fn nodes, and the
warnings PyTorch gives, compared with PyTorch itself."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any

import pytest
import torch
from probe_helpers import assert_clean, run_probe

import gdlite as G

SPECS = ["", "f", ".3f", ">12.2f", "e", "d", "s", ">50", "g"]


class TorchSub(torch.Tensor):
    pass


class GdSub(G.Tensor):
    pass


def make_cases(lib: Any, sub: type) -> list[Any]:
    x = lib.tensor(2.0, requires_grad=True)
    v = lib.tensor([1.0, 2.0], requires_grad=True)
    return [
        x,
        x * 3,
        ((v * 2) ** 2).sum(),
        v,
        v * 2,
        lib.nn.Parameter(lib.tensor(1.0)),
        lib.nn.Parameter(lib.tensor([1.0, 2.0])),
        lib.tensor(0.1),
        lib.tensor(0.1, dtype=lib.float64),
        lib.tensor(3),
        lib.tensor(True),
        lib.tensor([1, 2]),
        lib.tensor(1.0).as_subclass(sub),
        lib.tensor([[1.5, 2.0]], dtype=lib.float64, requires_grad=True),
    ]


def formatted(t: Any, spec: str) -> str:
    try:
        return ("{:" + spec + "}").format(t)
    except Exception as exc:  # the refusal is part of the behaviour
        return f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize("spec", SPECS)
def test_format_matches_torch(spec: str) -> None:
    want = [formatted(t, spec) for t in make_cases(torch, TorchSub)]
    got = [formatted(t, spec) for t in make_cases(G, GdSub)]
    want = [w.replace("torch.", "gdlite.").replace("TorchSub", "Sub") for w in want]
    assert [g.replace("GdSub", "Sub") for g in got] == want


def test_fstring_and_str_format_keep_grad_suffix() -> None:
    for lib in (torch, G):
        v = lib.tensor([1.0, 2.0], requires_grad=True)
        w = v * 2
        assert f"{w}" == "{}".format(w) == format(w) == str(w)  # noqa: UP032
        assert f"{v}" == str(v)
    # d2l prints a loss with f'{l:f}': the number, not the tensor
    assert f"{(G.tensor([1.5]) * 2).sum():f}" == f"{(torch.tensor([1.5]) * 2).sum():f}"


# ---- node types ---------------------------------------------------------

GRAPHS: dict[str, Callable[[Any, Any], Any]] = {
    "mul": lambda lib, x: x * 2,
    "div": lambda lib, x: x / 3,
    "sum": lambda lib, x: x.sum(),
    "mean": lambda lib, x: x.mean(),
    "pow": lambda lib, x: x**2,
    "exp": lambda lib, x: x.exp(),
    "matmul": lambda lib, x: x.reshape(2, 2) @ x.reshape(2, 2),
    "T": lambda lib, x: x.reshape(2, 2).T,
    "view": lambda lib, x: x.view(4),
    "mse": lambda lib, x: lib.nn.functional.mse_loss(x, x.detach() + 1),
    "relu": lambda lib, x: lib.relu(x),
    "sigmoid": lambda lib, x: lib.sigmoid(x),
    "index": lambda lib, x: x[1:3],
    "linear": lambda lib, x: lib.nn.functional.linear(x.reshape(1, 4), x.reshape(1, 4)),
}


def node_names(lib: Any, build: Callable[[Any, Any], Any]) -> list[str]:
    """Every node's type name, depth first, as torchviz walks the graph."""
    x = lib.tensor([1.0, -2.0, 3.0, 4.0], requires_grad=True)
    names, stack = [], [build(lib, x).grad_fn]
    while stack:
        fn = stack.pop()
        names.append(type(fn).__name__)
        stack += [nxt for nxt, _ in fn.next_functions if nxt is not None]
    return names


@pytest.mark.parametrize("graph", sorted(GRAPHS))
def test_node_type_names_match_torch(graph: str) -> None:
    assert node_names(G, GRAPHS[graph]) == node_names(torch, GRAPHS[graph])


def test_node_types_are_shared_subtypes_of_node() -> None:
    x = G.tensor([1.0, 2.0], requires_grad=True)
    a, b = (x * 2).grad_fn, (x * 3).grad_fn
    acc = a.next_functions[0][0]
    assert type(a) is type(b) and type(a) is not type(acc)
    assert isinstance(a, G._C.Node) and isinstance(acc, G._C.Node)
    assert type(acc).__name__ == "AccumulateGrad" and acc.variable is x
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    want = (tx * 2).grad_fn
    for attr in ("__name__", "__qualname__", "__module__"):
        assert getattr(type(a), attr) == getattr(type(want), attr)
    assert repr(type(a)) == repr(type(want))


def dot_graph(lib: Any) -> tuple[list[str], list[tuple[int, int]]]:
    """The graph as torchviz's make_dot draws it: nodes keyed by id(), a
    node's label its type's name, an edge per next_functions entry."""
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2  # used twice: a diamond, reached by two paths
    out = (y.exp() + y.sin()).sum() + x.mean()
    labels: dict[int, str] = {}
    edges: list[tuple[int, int]] = []
    seen: set[Any] = set()

    def add(fn: Any) -> None:
        if fn in seen:
            return
        seen.add(fn)
        labels[id(fn)] = type(fn).__name__
        for nxt, _ in fn.next_functions:
            if nxt is not None:
                edges.append((id(nxt), id(fn)))
                add(nxt)

    add(out.grad_fn)
    number = {key: i for i, key in enumerate(labels)}
    # an edge to an id never labelled is a blank node in torchviz's drawing
    return list(labels.values()), [(number.get(a, -1), number[b]) for a, b in edges]


def test_torchviz_style_graph_matches_torch() -> None:
    assert dot_graph(G) == dot_graph(torch)


def test_a_node_is_one_object_while_it_lives() -> None:
    for lib in (torch, G):
        x = lib.tensor([1.0], requires_grad=True)
        y = x * 2
        z = y + y
        assert y.grad_fn is y.grad_fn
        assert z.grad_fn.next_functions[0][0] is y.grad_fn
        first, second = (y.grad_fn.next_functions[0][0] for _ in range(2))
        assert first is second and first.variable is x


@pytest.mark.parametrize(
    "probe", [lambda fn: type(fn)(), lambda fn: setattr(type(fn), "x", 1)]
)
def test_node_types_refuse_as_torch(probe: Callable[[Any], Any]) -> None:
    errors = []
    for lib in (torch, G):
        fn = (lib.tensor([1.0], requires_grad=True) * 2).grad_fn
        with pytest.raises(TypeError) as info:
            probe(fn)
        errors.append(str(info.value))
    assert errors[0] == errors[1]


# ---- warnings -----------------------------------------------------------

WARN_SCRIPT = r"""
import sys, warnings
import numpy as np
if sys.argv[1] == "torch":
    import torch
else:
    import gdlite as torch

def show(label, f):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            f()
        except Exception as exc:
            print(label, "raised", type(exc).__name__, exc)
    for w in caught:
        print(label, w.category.__name__, w.message, w.filename == "<string>", w.lineno)
    print(label, "done")

arr = np.arange(3.0)
arr.flags.writeable = False
x = torch.tensor([1.0, 2.0], requires_grad=True)
y = x * 2
z = torch.zeros(2, 3, 4)
show("T-1d", lambda: torch.arange(3.0).T)
show("T-3d-again", lambda: z.T)
show("T-2d", lambda: torch.zeros(2, 3).T)
show("T-0d", lambda: torch.tensor(1.0).T)
show("T-0d-again", lambda: torch.tensor(1.0).T)
show("mT-0d", lambda: torch.tensor(1.0).mT)
show("mH-0d", lambda: torch.tensor(1.0).mH)
show("H-0d", lambda: torch.tensor(1.0).H)
show("mT-1d", lambda: torch.zeros(3).mT)
show("H-3d", lambda: z.H)
show("mT-3d", lambda: print(tuple(z.mT.shape)))
show("as_tensor", lambda: torch.as_tensor(arr))
show("from_numpy-again", lambda: torch.from_numpy(arr))
show("tensor", lambda: torch.tensor(arr))
show("grad-non-leaf", lambda: y.grad)
show("grad-non-leaf-again", lambda: y.grad)
show("grad-leaf", lambda: x.grad)
y.retain_grad()
show("grad-retained", lambda: y.grad)
show("grad-detached", lambda: x.detach().grad)

total = y.sum()  # requires grad; under no_grad it still does

def float_without_grad_mode():
    with torch.no_grad():
        return float(total)

show("float-no-grad-mode", float_without_grad_mode)
show("int", lambda: int(y.sum()))
show("float", lambda: float(y.sum()))
show("float-again", lambda: float(x.sum()))
show("std-one-element", lambda: torch.ones(1).std())
show("var-dim", lambda: torch.var(torch.ones(2, 1), dim=1))
show("var-empty-rows", lambda: torch.ones(0, 3).var(dim=1))
show("std-ok", lambda: torch.ones(2).std(correction=1))
"""


def run_warnings(lib: str) -> str:
    proc = run_probe(f"import sys; sys.argv[1:] = [{lib!r}]\n" + WARN_SCRIPT)
    out = assert_clean(proc)
    # torch adds where in its C++ sources a warning came from
    return re.sub(r" \(Triggered internally at [^)]*\)", "", out)


def test_warnings_match_torch() -> None:
    want = run_warnings("torch")
    assert "UserWarning" in want  # the probe does reach torch's warnings
    assert run_warnings("gdlite") == want.replace("torch.", "gdlite.")


def test_non_writable_warning_once_even_if_first_hidden() -> None:
    code = """
        import warnings, numpy as np
        import {lib} as torch
        arr = np.arange(3.0)
        arr.flags.writeable = False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.from_numpy(arr)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.from_numpy(arr)
            torch.zeros(3).T
        print([str(w.message)[:40] for w in caught])
    """
    outs = [
        assert_clean(run_probe(code.format(lib=lib))) for lib in ("torch", "gdlite")
    ]
    assert outs[1] == outs[0]


def test_error_filter_raises_the_warning() -> None:
    for lib in (torch, G):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(UserWarning, match="not a leaf Tensor"):
                _ = (lib.tensor([1.0], requires_grad=True) * 2).grad
