"""cumprod: values bit for bit against torch (ATen's CPU scan: float32
products accumulated in double, integers in int64) and NumPy, result dtypes,
the in-place form, gradients (bit for bit with torch, and against central
differences for inputs with zeros), create_graph, node names and errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from autograd_helpers import assert_close, assert_same_error, central_difference

import gdlite as G

SHAPES = [(7,), (3, 5), (2, 3, 4), (), (0, 3), (4, 1), (1,)]
INT_DTYPES = ["int32", "int64", "uint8", "bool"]


def bits(t: Any) -> tuple[str, tuple[int, ...], bytes]:
    """dtype, shape and raw bytes of either library's tensor."""
    a = np.ascontiguousarray(t.detach().numpy())
    return str(a.dtype), a.shape, a.tobytes()


def sample(shape: tuple[int, ...], dtype: str, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype in ("float32", "float64"):
        return np.asarray(rng.standard_normal(shape) * 1.5).astype(dtype)
    return np.asarray(rng.integers(0, 4 if dtype != "bool" else 2, shape)).astype(dtype)


def dims(shape: tuple[int, ...]) -> range:
    n = max(len(shape), 1)
    return range(-n, n)


# ---- values ------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", ["float32", "float64", *INT_DTYPES])
def test_values_and_dtypes_are_torchs_bits(shape, dtype):
    x = sample(shape, dtype, len(shape))
    for dim in dims(shape):
        ours = G.from_numpy(x).cumprod(dim)
        assert bits(ours) == bits(torch.from_numpy(x).cumprod(dim))
        assert bits(G.cumprod(G.from_numpy(x), dim=dim)) == bits(ours)


def test_float32_accumulates_in_double_as_numpy_shows():
    # products of 300 factors near 1: rounding each product to float32 would
    # drift away from the double-accumulated numbers
    x = (1 + np.random.default_rng(1).standard_normal((3, 300)) * 0.05).astype(
        np.float32
    )
    want = np.cumprod(x.astype(np.float64), axis=1).astype(np.float32)
    ours = G.from_numpy(x).cumprod(1).numpy()
    assert ours.tobytes() == want.tobytes()
    assert ours.tobytes() == torch.from_numpy(x).cumprod(1).numpy().tobytes()
    assert ours.tobytes() != np.cumprod(x, axis=1, dtype=np.float32).tobytes()


def test_float32_overflow_inside_the_double_accumulator_is_torchs():
    x = np.array([1e30, 1e30, 1e-30, 1e-30, 0.0, np.inf, 2.0], dtype=np.float32)
    assert bits(G.from_numpy(x).cumprod(0)) == bits(torch.from_numpy(x).cumprod(0))
    # NaN times NaN keeps either operand's payload, as the compiler orders
    # the multiplication: only where the NaNs are is compared
    x[6] = np.nan
    ours, theirs = G.from_numpy(x).cumprod(0).numpy(), torch.from_numpy(x).cumprod(0)
    np.testing.assert_array_equal(ours, theirs.numpy())


def test_int64_products_wrap_like_torch():
    x = np.array([[3**20, 3**20, 7, -5, 2**40]], dtype=np.int64)
    assert bits(G.from_numpy(x).cumprod(1)) == bits(torch.from_numpy(x).cumprod(1))


@pytest.mark.parametrize("src", ["float32", "int32", "int64", "uint8", "bool"])
@pytest.mark.parametrize("dst", ["float32", "float64", "int32", "int64", "uint8"])
def test_dtype_argument(src, dst):
    x = sample((3, 6), src, 5)
    if src != "bool":
        x = (x * 3).astype(src)
    theirs = torch.from_numpy(x).cumprod(1, dtype=getattr(torch, dst))
    assert bits(G.from_numpy(x).cumprod(1, dtype=getattr(G, dst))) == bits(theirs)
    assert bits(G.cumprod(G.from_numpy(x), 1, dtype=getattr(G, dst))) == bits(theirs)


@pytest.mark.parametrize(
    "view",
    [
        lambda t: t.t(),
        lambda t: t[:, ::2],
        lambda t: t.t()[1:, ::3],
        lambda t: t.unsqueeze(1).expand(4, 3, 9),
    ],
)
def test_non_contiguous_inputs(view):
    x = sample((4, 9), "float32", 2)
    for dim in (0, 1, -1):
        ours, theirs = view(G.from_numpy(x)), view(torch.from_numpy(x))
        assert bits(ours.cumprod(dim)) == bits(theirs.cumprod(dim))


# ---- in place ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "uint8"])
def test_in_place_keeps_the_dtype(dtype):
    x = sample((3, 5), dtype, 4)
    ours, theirs = G.from_numpy(x.copy()), torch.from_numpy(x.copy())
    assert ours.cumprod_(1) is ours
    theirs.cumprod_(1)
    assert bits(ours) == bits(theirs)
    # a strided view writes through to its base
    ob, tb = G.from_numpy(x.copy()), torch.from_numpy(x.copy())
    ob.t()[::2].cumprod_(1)
    tb.t()[::2].cumprod_(1)
    assert bits(ob) == bits(tb)


def test_in_place_records_cumprod_backward_and_its_gradient():
    x = np.array([[0.5, 2.0, 0.0, 3.0], [1.5, -1.0, 2.0, 0.25]], dtype=np.float32)
    grads = []
    for L in (G, torch):
        a = L.tensor(x, requires_grad=True)
        b = a * 1
        b.cumprod_(1)
        assert b.grad_fn.name() == "CumprodBackward0"
        assert b.grad_fn.next_functions[0][0].name() == "MulBackward0"
        (b * L.tensor(x[::-1].copy())).sum().backward()
        grads.append(a.grad)
    assert bits(grads[0]) == bits(grads[1])


def test_in_place_errors():
    assert_same_error(lambda L: L.ones(3, dtype=L.bool).cumprod_(0))
    assert_same_error(lambda L: L.ones(3).cumprod_(0, dtype=L.float64))
    assert_same_error(lambda L: L.ones(3, dtype=L.int64).cumprod_(0, dtype=L.int32))
    assert_same_error(lambda L: L.ones(3, requires_grad=True).cumprod_(0))
    assert_same_error(lambda L: L.ones(3).cumprod_(1))


# ---- gradients ---------------------------------------------------------------

ZERO_CASES = {
    "none": [],
    "one": [3],
    "first": [0],
    "last": [7],
    "two": [2, 5],
    "adjacent": [4, 5],
    "three": [1, 3, 6],
}


def grad_of(L: Any, x: np.ndarray, w: np.ndarray, dim: int, **kw: Any) -> Any:
    a = L.tensor(x, requires_grad=True)
    y = a.cumprod(dim, **kw)
    assert y.grad_fn.name() == "CumprodBackward0"
    (y * L.tensor(w, dtype=y.dtype)).sum().backward()
    return a.grad


@pytest.mark.parametrize("zeros", sorted(ZERO_CASES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gradients_are_torchs_bits(zeros, dtype, dim):
    rng = np.random.default_rng(len(zeros))
    x = (rng.standard_normal((8, 8)) * 1.2).astype(dtype)
    # zeros in some slices along dim only; other slices have none
    idx = ZERO_CASES[zeros]
    if dim == 0:
        x[idx, 1] = 0
        x[idx[:1], 4] = 0
    else:
        x[1, idx] = 0
        x[4, idx[:1]] = 0
    w = rng.standard_normal((8, 8)).astype(dtype)
    assert bits(grad_of(G, x, w, dim)) == bits(grad_of(torch, x, w, dim))


@pytest.mark.parametrize("zeros", sorted(ZERO_CASES))
def test_gradients_with_zeros_match_central_differences(zeros):
    rng = np.random.default_rng(11)
    x = rng.uniform(0.5, 1.5, (2, 8)) * rng.choice([-1, 1], (2, 8))
    x[0, ZERO_CASES[zeros]] = 0
    w = rng.standard_normal((2, 8))
    want = central_difference(lambda a: np.cumprod(a[0], axis=1), [x], w)[0]
    assert_close(grad_of(G, x, w, 1).numpy(), want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("shape, dim", [((), 0), ((1,), 0), ((4, 1), 1), ((0, 3), 1)])
def test_gradient_of_trivial_slices_is_the_incoming_gradient(shape, dim):
    x = sample(shape, "float64", 3)
    w = sample(shape, "float64", 4)
    assert bits(grad_of(G, x, w, dim)) == bits(grad_of(torch, x, w, dim))


@pytest.mark.parametrize("zeros", [[], [1], [1, 3]])
def test_gradient_through_the_dtype_argument(zeros):
    x = np.array([[1.1, 2.3, 0.7, -1.9], [0.3, 1.7, -2.2, 0.9]], dtype=np.float32)
    x[0, zeros] = 0
    w = np.linspace(-1, 1, 8).reshape(2, 4) / 3
    ours = grad_of(G, x, w, 1, dtype=G.float64)
    assert bits(ours) == bits(grad_of(torch, x, w, 1, dtype=torch.float64))
    assert ours.dtype == G.float32


def test_non_contiguous_input_gradient():
    x = sample((6, 5), "float32", 8)
    x[2, 1] = 0
    w = sample((5, 6), "float32", 9)
    grads = []
    for L in (G, torch):
        a = L.tensor(x, requires_grad=True)
        (a.t().cumprod(1) * L.tensor(w)).sum().backward()
        grads.append(a.grad)
    assert bits(grads[0]) == bits(grads[1])


# ---- create_graph ------------------------------------------------------------


@pytest.mark.parametrize("zeros", [[], [2], [1, 4], [0]])
def test_second_derivatives_match_torch(zeros):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 6))
    x[0, zeros] = 0
    go = np.linspace(-1, 1, 18).reshape(3, 6)
    wt = np.linspace(0.5, 2, 18).reshape(3, 6)
    out = {}
    for L in (G, torch):
        a = L.tensor(x, requires_grad=True)
        gout = L.tensor(go, requires_grad=True)
        (g,) = L.autograd.grad(a.cumprod(1), a, gout, create_graph=True)
        assert g.requires_grad
        hx, hgo = L.autograd.grad((g * L.tensor(wt)).sum(), [a, gout])
        out[L] = (g.detach().numpy(), hx.numpy(), hgo.numpy())
        if not zeros:  # torch's no-zero formula ends in a division
            assert g.grad_fn.name() == "DivBackward0"
    for ours, theirs in zip(out[G], out[torch], strict=True):
        assert_close(ours, theirs, rtol=1e-12, atol=1e-12)
    # the first derivative is the same with and without create_graph
    assert_close(out[G][0], grad_of(G, x, go, 1).numpy(), rtol=1e-12, atol=1e-12)


def test_second_derivative_with_zeros_matches_central_differences():
    x = np.array([[0.7, 0.0, 1.3, -0.8, 0.0, 1.1]])
    w = np.linspace(0.5, 2, 6)[None]

    def grad_np(a: np.ndarray) -> np.ndarray:
        t = G.tensor(a, requires_grad=True)
        (g,) = G.autograd.grad(t.cumprod(1).sum(), t, create_graph=True)
        return g.detach().numpy()

    a = G.tensor(x, requires_grad=True)
    (g,) = G.autograd.grad(a.cumprod(1).sum(), a, create_graph=True)
    (h,) = G.autograd.grad((g * G.tensor(w)).sum(), a)
    want = central_difference(lambda arrs: grad_np(arrs[0]), [x], w)[0]
    assert_close(h.numpy(), want, rtol=1e-6, atol=1e-7)


# ---- errors ------------------------------------------------------------------


@pytest.mark.parametrize("shape, dim", [((), 1), ((), -2), ((3,), 1), ((2, 3), -3)])
def test_bad_dim_raises_like_torch(shape, dim):
    assert_same_error(lambda L: L.zeros(shape).cumprod(dim))
    assert_same_error(lambda L: L.cumprod(L.zeros(shape), dim))


def test_other_errors_like_torch():
    assert_same_error(lambda L: L.ones(3).cumprod())
    assert_same_error(lambda L: L.cumprod(L.ones(3)))
    assert_same_error(lambda L: L.ones(3).cumprod(0, dtype=L.bool))
    assert_same_error(lambda L: L.ones(3, requires_grad=True).cumprod(0, dtype=L.int64))
    x = np.ones(3, dtype=np.int32)
    assert_same_error(lambda L: L.from_numpy(x).cumprod(5, dtype=L.bool))
