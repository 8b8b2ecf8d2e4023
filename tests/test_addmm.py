"""addmm against torch: values, gradients of all three inputs (broadcast
bias included), beta/alpha, dtypes, errors, and the graph nn.Linear records
through it (AddmmBackward0, with ViewBackward0 around it for 1-D and N-D
input)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_oracle import same_error

import gdlite as G

RNG = np.random.default_rng(0)
SCALARS = [(1, 1), (0.5, 2), (0, 1), (2, -0.25), (1, 0)]


def data(shape, dtype="float64"):
    return RNG.standard_normal(shape).astype(dtype)


def run(lib, bias, a, b, grad=(), **kw):
    """lib.addmm on copies of the arrays; `grad` names inputs to differentiate."""
    ts = [lib.tensor(x, requires_grad=i in grad) for i, x in enumerate((bias, a, b))]
    out = lib.addmm(*ts, **kw)
    return out, ts


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mkn", [(5, 3, 2), (4, 1, 3), (1, 1, 1), (64, 128, 32)])
@pytest.mark.parametrize("bias_shape", ["row", "1xn", "scalar", "full", "mx1"])
@pytest.mark.parametrize(("beta", "alpha"), SCALARS)
def test_forward_close_to_torch(dtype, mkn, bias_shape, beta, alpha):
    m, k, n = mkn
    shape = {"row": (n,), "1xn": (1, n), "scalar": (), "full": (m, n), "mx1": (m, 1)}
    c, a, b = data(shape[bias_shape], dtype), data((m, k), dtype), data((k, n), dtype)
    want = torch.addmm(*map(torch.tensor, (c, a, b)), beta=beta, alpha=alpha)
    got = G.addmm(*map(G.tensor, (c, a, b)), beta=beta, alpha=alpha)
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert got.dtype.__repr__().replace("gdlite", "torch") == repr(want.dtype)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mkn", [(5, 3, 2), (4, 2, 3), (8, 64, 8)])
def test_product_alone_is_torch_bit_for_bit(dtype, mkn):
    """beta=0 on small matrices: the same products summed in the same order.
    (With a bias, MKL adds into the initialised result in its own order: a
    few ulp apart, checked by test_forward_close_to_torch.)"""
    m, k, n = mkn
    if not G.backends.mkl.is_available():
        pytest.skip("PyTorch's products are MKL's gemm, which fuses multiply-adds")
    c, a, b = data((n,), dtype), data((m, k), dtype), data((k, n), dtype)
    want = torch.addmm(*map(torch.tensor, (c, a, b)), beta=0)
    got = G.addmm(*map(G.tensor, (c, a, b)), beta=0)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_beta_zero_ignores_nan_and_inf_in_input():
    c = np.array([np.nan, np.inf, -np.inf])
    a, b = data((4, 2)), data((2, 3))
    want = torch.addmm(*map(torch.tensor, (c, a, b)), beta=0)
    got = G.addmm(*map(G.tensor, (c, a, b)), beta=0)
    assert np.isfinite(got.numpy()).all()
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


@pytest.mark.parametrize("bias_shape", [(3,), (1, 3), (), (4, 3), (4, 1)])
@pytest.mark.parametrize(("beta", "alpha"), SCALARS)
@pytest.mark.parametrize("layout", ["plain", "transposed"])
def test_gradients_match_torch(bias_shape, beta, alpha, layout):
    c, a = data(bias_shape), data((4, 2))
    b = data((3, 2)).T if layout == "transposed" else data((2, 3))
    outs, grad = {}, data((4, 3))
    for lib in (torch, G):
        out, ts = run(
            lib, c, a, np.ascontiguousarray(b), (0, 1, 2), beta=beta, alpha=alpha
        )
        if layout == "transposed":  # mat2 as weight.t(): a column-major matrix
            w = lib.tensor(b.T.copy(), requires_grad=True)
            out = lib.addmm(ts[0], ts[1], w.t(), beta=beta, alpha=alpha)
            ts[2] = w
        out.backward(lib.tensor(grad))
        outs[lib] = [t.grad for t in ts]
    for got, want in zip(outs[G], outs[torch], strict=True):
        assert tuple(got.shape) == tuple(want.shape)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("bias_shape", [(3,), (1, 3), ()])
@pytest.mark.parametrize(("beta", "alpha"), [(1, 1), (0.5, 2), (0, -1)])
def test_gradcheck(bias_shape, beta, alpha):
    ts = [G.tensor(data(s), requires_grad=True) for s in (bias_shape, (4, 2), (2, 3))]
    assert G.autograd.gradcheck(
        lambda c, a, b: G.addmm(c, a, b, beta=beta, alpha=alpha), tuple(ts)
    )


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8"])
def test_method_and_int_dtypes(dtype):
    """Integer scalars are truncated, as PyTorch converts them."""
    args = [
        np.arange(n).reshape(s).astype(dtype)
        for n, s in ((2, (2,)), (6, (2, 3)), (6, (3, 2)))
    ]
    want = torch.tensor(args[0]).addmm(
        *map(torch.tensor, args[1:]), beta=0.5, alpha=2.7
    )
    got = G.tensor(args[0]).addmm(*map(G.tensor, args[1:]), beta=0.5, alpha=2.7)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


ERRORS = [
    lambda L: L.addmm(L.ones(3), L.ones(4, 2), L.ones(3, 3)),
    lambda L: L.addmm(L.ones(3, dtype=L.float64), L.ones(4, 2), L.ones(2, 3)),
    lambda L: L.addmm(L.ones(3), L.ones(4, 2, dtype=L.float64), L.ones(2, 3)),
    lambda L: L.addmm(L.ones(3), L.ones(4, 2), L.ones(2, 3, dtype=L.float64)),
    lambda L: L.addmm(L.ones(5), L.ones(4, 2), L.ones(2, 3)),
    lambda L: L.addmm(L.ones(4, 1, 3), L.ones(4, 2), L.ones(2, 3)),
    lambda L: L.addmm(L.ones(3), L.ones(2), L.ones(2, 3)),
    lambda L: L.addmm(L.ones(3), L.ones(4, 2), L.ones(2)),
    lambda L: L.addmm(L.ones(3), L.ones(1, 4, 2), L.ones(2, 3)),
    lambda L: L.addmm(*(L.ones(s, dtype=L.bool) for s in ((3,), (4, 2), (2, 3)))),
    lambda L: L.addmm(L.ones(3, dtype=L.int64), L.ones(4, 2), L.ones(2, 3)),
    lambda L: L.nn.functional.linear(L.ones(5, 4, 2), L.ones(3, 2), L.ones(1, 1, 3)),
    lambda L: L.nn.functional.linear(L.ones(4, 2), L.ones(3, 2), L.ones(4)),
    lambda L: L.nn.functional.linear(L.ones(4, 2), L.ones(2), L.ones(3)),
    lambda L: L.nn.functional.linear(L.ones(4, 2), L.ones(3, 3), L.ones(3)),
    lambda L: L.nn.functional.linear(
        L.ones(4, 2, dtype=L.float64), L.ones(3, 2), L.ones(3, dtype=L.float64)
    ),
]


@pytest.mark.parametrize("fn", ERRORS)
def test_errors_match_torch(fn):
    same_error(fn)


# ---- nn.Linear's graph -------------------------------------------------------


def graph(fn):
    """A node's name and its next_functions, recursively (None kept)."""
    if fn is None:
        return None
    name = type(fn).__name__ if not hasattr(fn, "name") else fn.name()
    name = name.replace("torch::autograd::", "")
    return (name, tuple(graph(f) for f, _ in fn.next_functions))


@pytest.mark.parametrize(
    "in_shape", [(2,), (4, 2), (5, 4, 2), (2, 5, 4, 2), (0, 4, 2), (1, 2)]
)
@pytest.mark.parametrize("input_grad", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_graph_matches_torch(in_shape, input_grad, bias):
    graphs = []
    for lib in (torch, G):
        lib.manual_seed(0)
        m = lib.nn.Linear(2, 3, bias=bias)
        x = lib.ones(*in_shape, requires_grad=input_grad)
        graphs.append(graph(m(x).grad_fn))
    if not bias and len(in_shape) != 2:
        # gdlite's matmul records one node for a batched or vector product
        # where PyTorch records a view over MmBackward0
        assert graphs[1][0] == graphs[0][0]
        return
    assert graphs[1] == graphs[0]


@pytest.mark.parametrize("bias_shape", [(3,), (1, 3), (4, 3), ()])
def test_linear_nd_bias_paths(bias_shape):
    """A bias that broadcasts as one row takes the fused path; others add."""
    names = []
    for lib in (torch, G):
        w = lib.ones(3, 2, requires_grad=True)
        out = lib.nn.functional.linear(lib.ones(5, 4, 2), w, lib.ones(bias_shape))
        names.append(out.grad_fn.name())
    assert names[1] == names[0]


def test_linear_weight_grad_is_contiguous_like_torch():
    strides = []
    for lib in (torch, G):
        lib.manual_seed(0)
        m = lib.nn.Linear(2, 3)
        m(lib.ones(4, 2)).sum().backward()
        strides.append((tuple(m.weight.grad.stride()), m.bias.grad.tolist()))
    assert strides[1] == strides[0]


@pytest.mark.parametrize("weight_grad", [False, True])
def test_saved_input_version_check_like_torch(weight_grad):
    """PyTorch saves the input only for the weight's gradient."""
    results = []
    for lib in (torch, G):
        m = lib.nn.Linear(2, 3)
        m.weight.requires_grad_(weight_grad)
        x = lib.ones(4, 2)
        y = m(x)
        x.add_(1)
        try:
            y.sum().backward()
            results.append(None)
        except RuntimeError as e:
            results.append(str(e).split(":")[0])
    assert results[1] == results[0]
