"""unbind, split and chunk against PyTorch: the pieces (shapes, values,
strides), the errors, the node names, gradients through the pieces, and
PyTorch's refusal to change one of a multi-output function's views in place
(directly, through a view of it, or by writing its base)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from autograd_helpers import assert_same_error, error_of, node_name

import gdlite as G

FORMS = [
    "x.split(3)",
    "x.split([2, 5])",
    "x.split((3, 4))",
    "x.split(7)",
    "x.split(10)",
    "x.split(1)",
    "x.chunk(3)",
    "x.chunk(10)",
    "x.chunk(1)",
    "x.unbind()",
    "m.split(2, 1)",
    "m.split(2, dim=1)",
    "m.split(split_size=2)",
    "m.split([1, 2])",
    "m.split([0, 3, 0])",
    "m.chunk(2, -1)",
    "m.chunk(chunks=2)",
    "m.unbind(1)",
    "m.unbind(-1)",
    "L.split(m, 2)",
    "L.split(m, split_size_or_sections=[1, 2], dim=0)",
    "L.chunk(m, 2, 1)",
    "L.chunk(m, 2, dim=1)",
    "L.unbind(m, dim=1)",
    "L.empty(0).split(0)",
    "L.empty(0).split(2)",
    "L.empty(0).chunk(3)",
    "L.empty(0, 3).unbind()",
    "L.empty(3, 0).unbind()",
    "x.split(L.tensor(3))",
    "m.t().split(2, 1)",
    "m[:, 1:].chunk(2, 1)",
    "tuple(m)",
]


def setup(lib):
    return {
        "L": lib,
        "x": lib.arange(7.0),
        "m": lib.arange(12.0).view(3, 4),
    }


@pytest.mark.parametrize("form", FORMS)
def test_pieces_match_torch(form):
    got = eval(form, setup(G))
    want = eval(form, setup(torch))
    assert isinstance(got, tuple) and len(got) == len(want)
    for g, t in zip(got, want, strict=True):
        assert tuple(g.shape) == tuple(t.shape)
        assert g.stride() == t.stride()
        np.testing.assert_array_equal(g.numpy(), t.numpy())


@pytest.mark.parametrize("form", ["x.split(3)", "m.chunk(2, 1)", "m.unbind(1)"])
def test_pieces_are_views_of_the_tensor(form):
    env = setup(G)
    whole = env[form[0]]
    root = whole if whole._base is None else whole._base  # m is a view itself
    for piece in eval(form, env):
        assert piece._base is root
        piece.fill_(-1.0)
    assert (whole == -1).all()


ERRORS = [
    "x.split(0)",
    "x.split(-1)",
    "x.split([2, 2])",
    "x.split([8, -1])",
    "x.split(2.0)",
    "x.split(2, 1)",
    "x.chunk(0)",
    "x.chunk(-2)",
    "x.chunk(2, 3)",
    "m.unbind(2)",
    "L.tensor(3.0).split(1)",
    "L.tensor(3.0).chunk(1)",
    "L.tensor(3.0).unbind()",
    "m.split(split_size_or_sections=2)",
]


@pytest.mark.parametrize("form", ERRORS)
def test_errors_match_torch(form):
    assert_same_error(lambda lib: eval(form, setup(lib)))


NODES = [
    ("x.split(3)", "SplitBackward0"),
    ("x.chunk(3)", "SplitBackward0"),
    ("x.split([2, 5])", "SplitWithSizesBackward0"),
    ("x.view(7, 1).unbind()", "UnbindBackward0"),
]


@pytest.mark.parametrize("form", [f for f, _ in NODES])
def test_node_names_and_gradients_match_torch(form):
    def run(lib):
        w = lib.linspace(-1.0, 2.0, 7, requires_grad=True)
        x = w * 2
        pieces = eval(form, {"x": x})
        names = [node_name(p.grad_fn) for p in pieces]
        loss = sum((p.sum() * (k + 1)) ** 2 for k, p in enumerate(pieces))
        loss.backward()
        return names, w.grad.numpy()

    (g_names, g_grad), (t_names, t_grad) = run(G), run(torch)
    assert g_names == t_names == [dict(NODES)[form]] * len(t_names)
    np.testing.assert_array_equal(g_grad, t_grad)


# In place on a piece, or on a view of one, or on the base before a piece is
# used again: each is refused while the piece needs a gradient.
INPLACE = [
    "a, b, c = y.unbind(); b.mul_(2)",
    "a, b, c = x.unbind(); c.zero_()",
    "a, b = y.split(2); b.mul_(2)",
    "a, b = y.chunk(2); a.add_(1)",
    "a, = y.split(3); a.exp_()",
    "a, b = y.split([1, 2]); b.add_(1)",
    "rows = list(y); rows[1].mul_(2)",
    "a, b, c = y.unbind(); b[0].mul_(2)",
    "a, b, c = y.unbind(); b.view(2).mul_(2)",
    "a, b, c = y.unbind(); a[0] = 5",
    "a, b, c = y.unbind(); y.mul_(2); a.grad_fn",
    "a, b, c = y.unbind(); y[0, 0] = 1; (a * 2).sum()",
    "a, b, c = y.unbind(); y.exp_(); a.is_leaf",
    "with L.no_grad():\n    a, b, c = y.unbind()\nb.mul_(2)",
    # views of refused views inherit the refusal (PyTorch's CreationMeta)
    "with L.no_grad():\n    v = y[1:3]\nw = v[0:1]\nw.mul_(2)",
    "with L.no_grad():\n    v = y[1:3]\nw = v[0:1]\ny.mul_(2)\nw.grad_fn",
    "a, b, c = y.unbind()\nwith L.no_grad():\n    v = b[0:1]\nv.mul_(2)",
    "a, b, c = y.unbind()\nwith L.no_grad():\n    b.mul_(2)\nb.grad_fn",
    "a, b, c = y.unbind()\nwith L.no_grad():\n    y.mul_(2)\n    a.grad_fn",
]


def program(code):
    def run(lib):
        x = lib.ones(3, 2, requires_grad=True)
        exec(code, {"L": lib, "x": x, "y": x * 2})

    return run


@pytest.mark.parametrize("code", INPLACE)
def test_in_place_on_a_multi_output_view_is_refused_as_in_torch(code):
    assert_same_error(program(code))


ALLOWED = [
    "a, b, c = y.detach().unbind(); b.mul_(2); out = y.sum()",
    "a, b, c = y.unbind(); b.detach().mul_(2); out = y.sum()",
    "a, b, c = y.unbind(); b.data.mul_(2); out = y.sum()",
    "a, b, c = y.unbind(); y.mul_(2); out = y.sum()",
    "with L.no_grad():\n    a, b, c = y.unbind()\n    b.mul_(2)\nout = y.sum()",
    "a, b, c = y.unbind()\nwith L.no_grad():\n    b.mul_(2)\nout = y.sum()",
    "a, b, c = y.unbind(); out = b.clone().mul_(2).sum()",
]


@pytest.mark.parametrize("code", ALLOWED)
def test_what_torch_allows_is_allowed(code):
    def run(lib):
        x = lib.ones(3, 2, requires_grad=True)
        env = {"L": lib, "x": x, "y": x * 2}
        exec(code, env)
        env["out"].backward()
        return env["out"].item(), x.grad.numpy()

    (g_out, g_grad), (t_out, t_grad) = run(G), run(torch)
    assert g_out == t_out
    np.testing.assert_array_equal(g_grad, t_grad)


def test_repr_of_a_piece_whose_base_changed_says_invalid():
    def run(lib):
        y = lib.ones(3, 2, requires_grad=True) * 2
        a, b, c = y.unbind()
        y.mul_(2)
        return repr(a)

    assert run(G) == run(torch)
    assert "grad_fn=<Invalid>" in run(G)


def test_indirect_refusal_stays():
    # The piece stays unusable in a graph: every later read refuses again.
    x = G.ones(3, 2, requires_grad=True)
    y = x * 2
    a, _, _ = y.unbind()
    y.mul_(2)
    for _ in range(2):
        assert "Output 0 of Unbind" in str(error_of(lambda: a.grad_fn))
