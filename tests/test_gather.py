"""index_select, gather, scatter_add and take_along_dim: values against NumPy
(take, take_along_axis, add.at), behaviour, messages and gradients against
torch, and gradcheck in float64."""

from __future__ import annotations

import inspect
import subprocess
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from autograd_helpers import graph_names
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_oracle import assert_same, same_error

import gdlite as G

DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]


def cases(*fns: Callable) -> list:
    """Parameters named by their source, so that failures read as code."""
    return [
        pytest.param(fn, id=inspect.getsource(fn).strip().rstrip(",")[:90])
        for fn in fns
    ]


def data(dtype: str, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.integers(-50, 50, shape)
    return (values > 0) if dtype == "bool" else values.astype(dtype)


def layouts(arr: np.ndarray) -> list[tuple[str, Any]]:
    """The array as a contiguous tensor, transposed twice, and a strided slice:
    the same values through different strides."""
    base = G.tensor(arr)
    doubled = np.repeat(arr, 2, axis=-1) if arr.ndim else arr
    strided = G.tensor(doubled)[..., ::2] if arr.ndim else base
    flipped = G.tensor(np.ascontiguousarray(arr.T)).t() if arr.ndim == 2 else base
    return [("contiguous", base), ("strided", strided), ("transposed", flipped)]


# ------------------------------------------------------------------ forward


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("index_dtype", ["int64", "int32"])
def test_index_select_matches_numpy_take(dtype: str, index_dtype: str) -> None:
    arr = data(dtype, (5, 6))
    for dim in (0, 1, -1):
        index = np.array([4, 0, 0, 2, 1])[: arr.shape[dim]].astype(index_dtype)
        for name, t in layouts(arr):
            got = G.index_select(t, dim, G.tensor(index))
            want = np.take(arr, index, axis=dim)
            assert got.dtype == getattr(G, dtype), name
            np.testing.assert_array_equal(got.numpy(), want, err_msg=name)
            np.testing.assert_array_equal(
                t.index_select(dim, G.tensor(index)).numpy(), want
            )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("index_dtype", ["int64", "int32"])
def test_gather_matches_take_along_axis(dtype: str, index_dtype: str) -> None:
    arr = data(dtype, (4, 6))
    rng = np.random.default_rng(1)
    for dim, ishape in [(0, (3, 6)), (1, (4, 2)), (1, (2, 9)), (-2, (7, 1))]:
        index = rng.integers(0, arr.shape[dim], ishape).astype(index_dtype)
        # gather takes an index smaller than the input apart from dim
        sub = tuple(
            slice(None) if d == dim % 2 else slice(0, ishape[d]) for d in range(2)
        )
        want = np.take_along_axis(arr[sub], index.astype(np.int64), axis=dim)
        for name, t in layouts(arr):
            got = G.gather(t, dim, G.tensor(index))
            np.testing.assert_array_equal(got.numpy(), want, err_msg=name)
        index_t = G.tensor(np.ascontiguousarray(index.T)).t()  # a strided index
        np.testing.assert_array_equal(G.gather(G.tensor(arr), dim, index_t), want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_scatter_add_matches_add_at(dtype: str) -> None:
    arr = data(dtype, (4, 5))
    rng = np.random.default_rng(2)
    for dim, ishape in [(0, (6, 5)), (1, (4, 3)), (1, (2, 2))]:
        index = rng.integers(0, arr.shape[dim], ishape)
        src = data(dtype, (7, 6), seed=3)
        want = arr.copy()
        idx = np.indices(ishape)
        idx[dim] = index
        part = src[: ishape[0], : ishape[1]]
        if dtype == "bool":  # adding bools is or-ing them
            np.logical_or.at(want, tuple(idx), part)
        else:
            np.add.at(want, tuple(idx), part)
        for name, t in layouts(arr):
            got = t.scatter_add(dim, G.tensor(index), G.tensor(src))
            np.testing.assert_array_equal(got.numpy(), want, err_msg=name)
            np.testing.assert_array_equal(t.numpy(), arr, err_msg=name)  # unchanged
            out = t.scatter_add_(dim, G.tensor(index), G.tensor(src))
            assert out is t
            np.testing.assert_array_equal(t.numpy(), want, err_msg=name)


@pytest.mark.parametrize("dtype", DTYPES)
def test_take_along_dim_matches_take_along_axis(dtype: str) -> None:
    arr = data(dtype, (3, 5))
    index = np.array([[4], [0], [2]])
    for name, t in layouts(arr):
        got = G.take_along_dim(t, G.tensor(index), 1)
        want = np.take_along_axis(arr, index, 1)
        np.testing.assert_array_equal(got.numpy(), want, err_msg=name)
        # broadcasting the other dims, both ways
        row = np.array([[0, 2, 1, 0, 2]])
        np.testing.assert_array_equal(
            t.take_along_dim(G.tensor(row), 0).numpy(), np.take_along_axis(arr, row, 0)
        )
        flat = np.array([14, 0, 7])
        np.testing.assert_array_equal(
            G.take_along_dim(t.contiguous(), G.tensor(flat)).numpy(),
            np.take_along_axis(arr.reshape(-1), flat, 0),
        )


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_gather_and_index_select_properties(draw: Any) -> None:
    shape = tuple(draw.draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    dim = draw.draw(st.integers(-len(shape), len(shape) - 1))
    arr = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    size = shape[dim]
    picks = draw.draw(st.lists(st.integers(0, size - 1), max_size=6))
    got = G.index_select(G.tensor(arr), dim, G.tensor(picks, dtype=G.int64))
    np.testing.assert_array_equal(got.numpy(), np.take(arr, np.array(picks, int), dim))
    ishape = list(shape)
    ishape[dim] = draw.draw(st.integers(0, 5))
    rng = np.random.default_rng(len(picks))
    index = rng.integers(0, size, ishape)
    got = G.gather(G.tensor(arr), dim, G.tensor(index))
    np.testing.assert_array_equal(got.numpy(), np.take_along_axis(arr, index, dim))


def test_zero_dim_inputs_match_torch() -> None:
    for make in [
        lambda L: L.index_select(L.tensor(5.0), 0, L.tensor([0])),
        lambda L: L.index_select(L.tensor(5.0), 0, L.tensor(0)),
        lambda L: L.index_select(L.arange(6.0).reshape(2, 3), 1, L.tensor(2)),
        lambda L: L.gather(L.tensor(3.0), 0, L.tensor(0)),
        lambda L: L.gather(L.tensor(3.0), 0, L.tensor([0])),
        lambda L: L.gather(L.tensor([3.0]), 0, L.tensor(0)),
        lambda L: L.gather(L.ones(2, 3), 1, L.zeros(0, 0, dtype=L.int64)),
        lambda L: L.gather(L.ones(2, 3), 0, L.zeros(0, 9, dtype=L.int64)),
        lambda L: L.index_select(L.ones(2, 3), -1, L.tensor([], dtype=L.int64)),
        lambda L: L.tensor(2.0).scatter_add(0, L.tensor(0), L.tensor(5.0)),
    ]:
        assert_same(make(G), make(torch))


# ------------------------------------------------------------------- errors


def x(L: Any) -> Any:
    return L.arange(12.0).reshape(3, 4)


ERRORS = cases(
    lambda L: L.index_select(x(L), 0, L.tensor([0.0])),
    lambda L: L.index_select(x(L), 0, L.tensor([True, False])),
    lambda L: L.index_select(x(L), 0, L.tensor([[0, 1]])),
    lambda L: L.index_select(x(L), 0, L.tensor([3])),
    lambda L: L.index_select(x(L), 0, L.tensor([-1])),
    lambda L: L.index_select(x(L), 2, L.tensor([0])),
    lambda L: L.index_select(L.tensor(5.0), 0, L.tensor([1])),
    lambda L: L.index_select(L.tensor(5.0), 0, L.tensor([0, 0])),
    lambda L: L.index_select(x(L), 0, [0]),
    lambda L: x(L).index_select(1, [0]),
    lambda L: L.gather(x(L), 1, L.tensor([[0, 0], [1, 0], [4, 3]])),
    lambda L: L.gather(x(L), 1, L.tensor([[0, 0], [1, 0], [-1, 3]])),
    lambda L: L.gather(x(L), 1, L.tensor([0, 0])),
    lambda L: L.gather(x(L), 0, L.tensor([[0, 0, 0, 0, 0]])),
    lambda L: L.gather(x(L), 1, L.tensor([[0, 0], [1, 0], [3, 3], [1, 1]])),
    lambda L: L.gather(x(L), 1, L.tensor([[0.0, 0]])),
    lambda L: L.gather(x(L), 3, L.tensor([[0, 0]])),
    lambda L: L.gather(x(L), 1, [0]),
    lambda L: x(L).gather(1, [0]),
    lambda L: x(L).gather(0, L.tensor([[[0]]])),
    lambda L: x(L).scatter_add(1, L.tensor([[0, 0], [1, 0], [3, 3]]), L.ones(3, 1)),
    lambda L: x(L).scatter_add(1, L.tensor([[0, 0]]), L.ones(1, 2).double()),
    lambda L: x(L).scatter_add(1, L.tensor([[0, 0], [1, 0], [4, 3]]), L.ones(3, 2)),
    lambda L: x(L).scatter_add(0, L.tensor([[0, 0, 0, 0, 0]]), L.ones(3, 5)),
    lambda L: x(L).scatter_add(1, L.tensor([[0, 0]]), L.ones(3)),
    lambda L: x(L).scatter_add(1, L.tensor([[0, 0]]), 1.0),
    lambda L: x(L).scatter_add_(0, L.tensor([0]), L.ones(1, 1)),
    lambda L: x(L).scatter_add_(1, [0], L.ones(1, 1)),
    lambda L: x(L).scatter_add_(-3, L.tensor([[0]]), L.ones(1, 1)),
    lambda L: L.scatter_add(x(L), 0, L.tensor([[0]]), 2.0),
    lambda L: L.zeros(1, 4).expand(3, 4).scatter_add_(0, L.tensor([[0]]), L.ones(1, 1)),
    lambda L: L.ones(3, requires_grad=True).scatter_add_(0, L.tensor([0]), L.ones(1)),
    lambda L: L.take_along_dim(x(L), L.tensor([[0], [1], [2]]).int(), 1),
    lambda L: L.take_along_dim(x(L), L.tensor([[0, 1]]), 0),
    lambda L: L.take_along_dim(x(L), L.tensor([0, 1]), 0),
    lambda L: L.take_along_dim(x(L), L.tensor([[0.0]]), 0),
    lambda L: L.take_along_dim(x(L), L.tensor([[0]]), 2),
    lambda L: L.take_along_dim(x(L).t(), L.tensor([0, 5])),
    lambda L: L.take_along_dim(x(L), L.tensor([15])),
    lambda L: L.take_along_dim(x(L), [0]),
    lambda L: x(L).take_along_dim([0]),
    lambda L: L.take_along_dim(L.tensor(2.0), L.tensor(0), 0),
)


@pytest.mark.parametrize("make", ERRORS)
def test_errors_match_torch(make: Callable) -> None:
    same_error(make)


def test_failed_scatter_add_leaves_the_tensor_unchanged() -> None:
    t = G.zeros(3, 4)
    with pytest.raises(RuntimeError):
        t.scatter_add_(1, G.tensor([[0, 1], [9, 0]]), G.ones(2, 2))
    assert not t.any()


def test_bad_indices_do_not_crash() -> None:
    # Huge and negative indices in every op, in a subprocess: a crash is the bug.
    code = """
import gdlite as G
x = G.arange(12.0).reshape(3, 4)
big, neg = G.tensor([2**62]), G.tensor([-2**62])
for fn in [
    lambda i: G.index_select(x, 0, i), lambda i: x[i], lambda i: x[:, i],
    lambda i: G.gather(x, 0, i.view(1, 1)),
    lambda i: x.scatter_add(0, i.view(1, 1), G.ones(1, 1)),
    lambda i: x.__setitem__(i, 1.0), lambda i: x[i, i],
]:
    for i in (big, neg, big.int(), neg.int()):
        try:
            fn(i)
        except (IndexError, RuntimeError):
            pass
print("ok")
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"


# ---------------------------------------------------------------- gradients


GRADS = cases(
    lambda L, a: L.index_select(a, 0, L.tensor([2, 0, 2])),
    lambda L, a: L.index_select(a, 1, L.tensor([3, 3]).int()),
    lambda L, a: a.t().index_select(0, L.tensor([1, 0, 1])),
    lambda L, a: L.gather(a, 1, L.tensor([[0, 0], [3, 1], [2, 2]])),
    lambda L, a: L.gather(a, 0, L.tensor([[2, 2, 0, 1]]).int()),
    lambda L, a: L.gather(a.t(), 0, L.tensor([[0, 1], [2, 2]])),
    lambda L, a: (a * 1).scatter_add(0, L.tensor([[0, 0, 2, 1]]), a[:1] * 3),
    lambda L, a: (a * 1).scatter_add_(
        1, L.tensor([[3], [3], [0]]), a[:, :1] * a[:, 1:2]
    ),
    lambda L, a: L.take_along_dim(a, L.tensor([[0], [2], [3]]), 1),
    lambda L, a: L.take_along_dim(a[:1], L.tensor([[0], [2], [3]]), 1),
    lambda L, a: L.take_along_dim(a, L.tensor([[0, 11, 11]])),
    lambda L, a: a[[2, 0, 2]],
    lambda L, a: a[L.tensor([[1, 1], [0, 2]])],
    lambda L, a: a[range(3), [0, 3, 3]],
    lambda L, a: a[:, [1, 1]],
    lambda L, a: a[a > 5],
    lambda L, a: a.t()[[0, 0, 3]],
)


@pytest.mark.parametrize("fn", GRADS)
def test_gradients_and_nodes_match_torch(fn: Callable) -> None:
    arr = np.arange(12.0).reshape(3, 4) / 7 - 0.5
    weight = np.linspace(-1, 1, 64)
    results = {}
    for L in (G, torch):
        a = L.tensor(arr, requires_grad=True)
        out = fn(L, a)
        w = L.tensor(weight[: out.numel()].reshape(tuple(out.shape)))
        (out * w).sum().backward()
        results[L] = (out, a.grad, graph_names(out.grad_fn, 3))
    np.testing.assert_allclose(
        results[G][0].detach().numpy(), results[torch][0].detach().numpy()
    )
    np.testing.assert_allclose(results[G][1].numpy(), results[torch][1].numpy())
    assert results[G][2] == results[torch][2]


def test_scatter_add_src_gradient_matches_torch() -> None:
    grads = {}
    for L in (G, torch):
        s = L.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        base = L.zeros(3, 4, dtype=L.float64).float()
        out = base.scatter_add(0, L.tensor([[0, 0, 2], [1, 0, 0]]), s * 2)
        (out * out).sum().backward()
        grads[L] = s.grad
    np.testing.assert_allclose(grads[G].numpy(), grads[torch].numpy())


GRADCHECK = cases(
    lambda a, b: G.index_select(a, 1, G.tensor([3, 0, 3])),
    lambda a, b: G.gather(a, 0, G.tensor([[2, 1, 1, 0], [0, 0, 2, 2]])),
    lambda a, b: a.scatter_add(1, G.tensor([[1, 1], [0, 3], [2, 2]]), b),
    lambda a, b: G.take_along_dim(a, G.tensor([[1], [0], [3]]), 1) * b[:, :1],
    lambda a, b: a[[0, 2, 2]] * a[G.tensor([1, 0, 0])],
    lambda a, b: a[range(3), [1, 1, 2]],
    lambda a, b: a[:, [0, 0, 3]],
)


@pytest.mark.parametrize("fn", GRADCHECK)
def test_gradcheck_float64(fn: Callable) -> None:
    rng = np.random.default_rng(4)
    a = G.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = G.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    assert G.autograd.gradcheck(fn, (a, b))


GRAD_FORMS = cases(
    lambda L, w: w[range(3), [0, 3, 3]],
    lambda L, w: w[[1.0, 0.0, 1.0]],
    lambda L, w: w[L.tensor([[True, False, True, True]] * 3)],
    lambda L, w: w[:, np.array([2, 2])],
)


@pytest.mark.parametrize("fn", GRAD_FORMS)
def test_index_gradients_match_torch(fn: Callable) -> None:
    grads, names = {}, {}
    for L in (G, torch):
        w = L.arange(12.0).reshape(3, 4).requires_grad_()
        out = fn(L, w)
        names[L] = out.grad_fn.name()
        (out * out).sum().backward()
        grads[L] = w.grad
    assert names[G] == names[torch] == "IndexBackward0"
    np.testing.assert_array_equal(grads[G].numpy(), grads[torch].numpy())


def test_assignment_gradients_match_torch() -> None:
    grads = {}
    for L in (G, torch):
        w = L.arange(12.0, requires_grad=True)
        v = L.ones(3, requires_grad=True)
        y = (w * 2).reshape(3, 4) * 1
        y[range(3), [0, 3, 3]] = v * 5
        y[y > 15] = 0.0
        (y * y).sum().backward()
        assert y.grad_fn.name() == "IndexPutBackward0"
        grads[L] = (w.grad, v.grad)
    for got, want in zip(grads[G], grads[torch], strict=True):
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_methods_and_functions_exist_as_in_torch() -> None:
    for name in ("index_select", "gather", "scatter_add", "take_along_dim"):
        assert callable(getattr(G, name)) and callable(getattr(torch, name))
    for name in (
        "index_select",
        "gather",
        "scatter_add",
        "scatter_add_",
        "take_along_dim",
    ):
        assert hasattr(G.Tensor, name) and hasattr(torch.Tensor, name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        G.gather(G.ones(2), 0, G.tensor([1]), sparse_grad=False)
