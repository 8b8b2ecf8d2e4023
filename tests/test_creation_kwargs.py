"""Keyword forms of creation functions and NumPy-style reduction keywords,
against PyTorch: requires_grad= wherever torch takes it, size=, arange(end=),
normal's tensor forms refusing creation keywords, axis= and keepdims=.
Random values are compared under the same manual_seed."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import gdlite as G

LIBS = {"torch": torch, "gdlite": G}
X = np.array([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]], np.float32)


def outcome(lib: str, expr: str) -> tuple:
    """What ``expr`` gives with ``L`` the library and ``x`` a tensor of X:
    class, dtype, requires_grad, leafness and values (shapes only for
    uninitialised tensors), or the exception's type and message."""
    L = LIBS[lib]
    L.manual_seed(0)
    env = {"L": L, "x": L.tensor(X), "g": L.Generator().manual_seed(3)}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = eval(expr, env)
    except Exception as e:  # noqa: BLE001 - the exception is the outcome
        return ("error", type(e).__name__, str(e).replace("torch.", "gdlite."))
    if isinstance(value, tuple):
        return tuple(_describe(v, expr) for v in value)
    return _describe(value, expr)


def _describe(value: object, expr: str) -> tuple:
    data = np.asarray(value.detach().numpy())
    shown = data.shape if "empty" in expr else data.tolist()
    return (
        str(value.dtype).split(".")[-1],
        value.requires_grad,
        value.is_leaf,
        value.grad_fn,
        shown,
    )


def same_outcome(expr: str) -> None:
    got, want = outcome("gdlite", expr), outcome("torch", expr)
    if isinstance(want[0], str) and want[0] == "error":
        assert got == want, expr
        return
    # Random values equal; float32 computed values to float32 precision.
    np.testing.assert_equal(got, want, err_msg=expr)


REQUIRES_GRAD = [
    "L.zeros(2, 3, requires_grad=True)",
    "L.ones((2,), requires_grad=True)",
    "L.full((2, 2), 3.5, requires_grad=True)",
    "L.empty(2, requires_grad=True)",
    "L.rand(3, requires_grad=True)",
    "L.randn(2, 2, requires_grad=True)",
    "L.randn(2, generator=g, requires_grad=True)",
    "L.randint(0, 5, (3,), dtype=L.float32, requires_grad=True)",
    "L.randperm(4, dtype=L.float64, requires_grad=True)",
    "L.arange(0.0, 2.0, 0.5, requires_grad=True)",
    "L.linspace(0, 1, 5, requires_grad=True)",
    "L.eye(3, requires_grad=True)",
    "L.tensor([1.0, 2.0], requires_grad=True)",
    "L.zeros_like(x, requires_grad=True)",
    "L.ones_like(x, requires_grad=True)",
    "L.full_like(x, 2.0, requires_grad=True)",
    "L.empty_like(x, requires_grad=True)",
    "L.rand_like(x, requires_grad=True)",
    "L.randn_like(x, requires_grad=True)",
    "L.normal(0, 0.01, size=(2, 1), requires_grad=True)",
    "L.normal(0.0, 1.0, (3,), requires_grad=True)",
    "x.new_zeros(2, requires_grad=True)",
    "x.new_ones((2, 3), requires_grad=True)",
    "x.new_full((2,), 1.5, requires_grad=True)",
    "x.new_empty((2,), requires_grad=True)",
    "x.new_tensor([1.0], requires_grad=True)",
    # integer results refuse it, with PyTorch's message
    "L.randint(0, 5, (3,), requires_grad=True)",
    "L.arange(3, requires_grad=True)",
    "L.zeros(2, dtype=L.int64, requires_grad=True)",
    "L.randperm(4, requires_grad=True)",
    "L.full((2,), 7, requires_grad=True)",
    "L.ones_like(x, dtype=L.int32, requires_grad=True)",
]


@pytest.mark.parametrize("expr", REQUIRES_GRAD)
def test_requires_grad_keyword(expr: str) -> None:
    same_outcome(expr)


SIZE = [
    "L.zeros(size=(2, 3))",
    "L.zeros(size=[2, 3], requires_grad=True)",
    "L.ones(size=(2,), dtype=L.float64)",
    "L.empty(size=(2, 2))",
    "L.rand(size=(3,))",
    "L.randn(size=(2, 3))",
    "L.randn(size=(2, 3), requires_grad=True)",
    "L.rand(size=(2,), generator=g)",
    "L.full(size=(2,), fill_value=3.0)",
    "L.randint(0, 5, size=(2,))",
    "L.randint(high=5, size=(2,))",
    "x.new_zeros(size=(2,))",
    "x.new_empty(size=(3,))",
    "x.new_ones(2, 3)",
    # refused
    "L.zeros(2, size=(2,))",
    "L.ones((2,), size=(2,))",
    "L.zeros(size=2)",
    "L.rand(2, size=(2,))",
    "L.randn(size=2)",
]


@pytest.mark.parametrize("expr", SIZE)
def test_size_keyword(expr: str) -> None:
    same_outcome(expr)


ARANGE = [
    "L.arange(end=3)",
    "L.arange(start=1, end=4)",
    "L.arange(1, end=4)",
    "L.arange(start=0, end=3, step=1)",
]


@pytest.mark.parametrize("expr", ARANGE)
def test_arange_keywords(expr: str) -> None:
    same_outcome(expr)


@pytest.mark.parametrize("expr", ["L.arange(end=2.5, step=0.5)", "L.arange()"])
def test_arange_refuses_step_or_end_missing(expr: str) -> None:
    for lib in LIBS:
        assert outcome(lib, expr)[:2] == ("error", "TypeError")


NORMAL = [
    "L.normal(L.zeros(2), L.ones(2))",
    "L.normal(L.zeros(2), L.ones(2), requires_grad=True)",
    "L.normal(L.zeros(2), 1.0, requires_grad=True)",
    "L.normal(0.0, L.ones(2), requires_grad=True)",
    "L.normal(L.zeros(2), 1.0, dtype=L.float64)",
    "L.normal(2.0, 0.5, size=(3,), dtype=L.float64)",
]


@pytest.mark.parametrize("expr", NORMAL)
def test_normal_forms(expr: str) -> None:
    same_outcome(expr)


NUMPY_NAMES = [
    "x.sum(axis=0)",
    "x.sum(axis=0, keepdims=True)",
    "x.sum(dim=1, keepdims=True)",
    "L.sum(x, axis=1, keepdims=True)",
    "x.mean(axis=(0, 1), keepdims=True)",
    "L.mean(x, axis=1)",
    "x.max(axis=0)",
    "x.max(axis=0, keepdims=True)",
    "L.min(x, axis=1, keepdims=True)",
    "x.amax(axis=0)",
    "x.amin(dim=0, keepdims=True)",
    "x.argmax(axis=1, keepdims=True)",
    "L.argmin(x, axis=0)",
    "x.prod(axis=1, keepdims=True)",
    "x.var(axis=0, keepdims=True)",
    "x.std(axis=1)",
    "(x > 0).any(axis=0, keepdims=True)",
    "(x > 0).all(axis=1)",
    "x.cumsum(axis=1)",
    "x.softmax(axis=0)",
    "L.log_softmax(x, axis=1)",
    "L.cat([x, x], axis=1)",
    "L.stack([x, x], axis=1)",
    "x[None].squeeze(axis=0)",
    "x.unsqueeze(axis=1)",
    "x.gather(axis=1, index=L.tensor([[0], [2]]))",
    "L.gather(x, axis=0, index=L.tensor([[1, 0, 1]]))",
    # refused as by PyTorch
    "x.sum(dim=0, axis=0)",
    "x.sum(0, keepdim=True, keepdims=True)",
    "x.cumsum(axis=0, dim=0)",
    "x.unsqueeze()",
    "x.gather(1)",
]


@pytest.mark.parametrize("expr", NUMPY_NAMES)
def test_numpy_style_keywords(expr: str) -> None:
    same_outcome(expr)


def test_norm_refuses_keepdims() -> None:
    # torch.Tensor.norm is a Python method: its own keyword names only.
    for lib in LIBS:
        got = outcome(lib, "x.norm(dim=0, keepdims=True)")
        assert got[:2] == ("error", "TypeError")
        assert "unexpected keyword argument 'keepdims'" in got[2]


def test_requires_grad_leaves_train() -> None:
    # The course's pattern: a random leaf that requires grad, then backward.
    grads = {}
    for lib, L in LIBS.items():
        L.manual_seed(0)
        w = L.normal(0, 0.01, size=(2, 1), requires_grad=True)
        b = L.zeros(1, requires_grad=True)
        y = (L.tensor(X[:, :2]) @ w + b).sum()
        y.backward()
        grads[lib] = (w.grad.numpy(), b.grad.numpy())
    np.testing.assert_array_equal(grads["gdlite"][0], grads["torch"][0])
    np.testing.assert_array_equal(grads["gdlite"][1], grads["torch"][1])
