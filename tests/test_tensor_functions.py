"""The module-level forms of Tensor methods (torch.reshape(x, s) and the
like) against PyTorch: values, shapes, strides, shared memory, node names,
gradients, keyword names, and the TypeError for an input that is not a
tensor."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from autograd_helpers import assert_same_error, node_name

import gdlite as G

CALLS = [
    "L.reshape(x, (3, 4))",
    "L.reshape(x, shape=(-1,))",
    "L.reshape(x.t(), (12,))",
    "L.transpose(x, 0, 1)",
    "L.transpose(x, dim0=-1, dim1=0)",
    "L.t(x)",
    "L.t(v)",
    "L.squeeze(x.view(1, 4, 1, 3))",
    "L.squeeze(x.view(1, 4, 1, 3), 2)",
    "L.squeeze(x.view(1, 4, 1, 3), (0, 2))",
    "L.squeeze(x.view(1, 4, 1, 3), dim=0)",
    "L.unsqueeze(x, 1)",
    "L.unsqueeze(x, dim=-1)",
    "L.flatten(x.view(2, 2, 3))",
    "L.flatten(x.view(2, 2, 3), 1)",
    "L.flatten(x.view(2, 2, 3), start_dim=0, end_dim=1)",
    "L.permute(x.view(2, 2, 3), (2, 0, 1))",
    "L.permute(x, dims=[1, 0])",
    "L.narrow(x, 1, 1, 2)",
    "L.narrow(x, dim=0, start=-2, length=1)",
    "L.select(x, 1, 2)",
    "L.select(x, dim=0, index=-1)",
    "L.clone(x)",
    "L.detach(x)",
]


def env(lib):
    w = lib.arange(12.0, requires_grad=True)
    return {"L": lib, "w": w, "x": (w * 2).view(4, 3), "v": w[:5] * 1}


@pytest.mark.parametrize("call", CALLS)
def test_functions_match_torch(call):
    def run(lib):
        e = env(lib)
        out = eval(call, e)
        starts_at_x = out.data_ptr() == e["x"].data_ptr()  # a view from x's start
        name = node_name(out.grad_fn)
        if out.requires_grad:
            (out * lib.arange(float(out.numel())).view(out.shape)).sum().backward()
        grad = None if e["w"].grad is None else e["w"].grad.numpy()
        return (
            tuple(out.shape),
            out.stride(),
            out.detach().numpy(),
            name,
            grad,
            starts_at_x,
        )

    got, want = run(G), run(torch)
    assert got[:2] == want[:2]
    np.testing.assert_array_equal(got[2], want[2])
    assert got[3] == want[3]
    assert got[5] == want[5]
    if want[4] is None:
        assert got[4] is None
    else:
        np.testing.assert_array_equal(got[4], want[4])


def test_views_share_memory_and_copies_do_not():
    x = G.zeros(2, 3)
    for view in (G.reshape(x, (6,)), G.t(x), G.unsqueeze(x, 0), G.select(x, 0, 1)):
        view.fill_(1.0)
        assert (x == 1).any()
        x.zero_()
    G.clone(x).fill_(1.0)
    assert (x == 0).all()


@pytest.mark.parametrize(
    "name", ["greater", "less", "greater_equal", "less_equal", "not_equal"]
)
def test_comparison_aliases_match_torch(name):
    def run(lib):
        a = lib.tensor([1.0, 2.0, 3.0])
        return getattr(lib, name)(a, 2).numpy(), getattr(a, name)(2.0).numpy()

    (g1, g2), (t1, t2) = run(G), run(torch)
    np.testing.assert_array_equal(g1, t1)
    np.testing.assert_array_equal(g2, t2)


@pytest.mark.parametrize(
    "call",
    [
        "L.reshape([1, 2], (2,))",
        "L.t(3)",
        "L.transpose(None, 0, 1)",
        "L.squeeze((1,))",
        "L.clone(1.5)",
        "L.is_floating_point([1.0])",
        "L.reshape(L.ones(4), (3,))",
        "L.narrow(L.ones(4), 0, 3, 2)",
        "L.t(L.ones(2, 2, 2))",
        "L.unsqueeze(L.ones(2), 3)",
    ],
)
def test_errors_match_torch(call):
    assert_same_error(lambda lib: eval(call, {"L": lib}))


def test_is_floating_point():
    for lib in (G, torch):
        assert lib.is_floating_point(lib.ones(2)) is True
        assert lib.is_floating_point(lib.ones(2, dtype=lib.int64)) is False
