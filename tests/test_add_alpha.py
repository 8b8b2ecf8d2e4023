"""add/sub with ``alpha=`` against torch: one fused multiply-add (one rounding)
for floating dtypes, wrapping integers, PyTorch's checks of alpha's type, and
the gradients (AddBackward0/SubBackward0 scale the other operand's)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_oracle import same_error

import gdlite as G

SIZES = [1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 1003]
ALPHAS = [0.1, -0.01, 3.0, 2, -1, 1e-3]


def _pair(n: int, dtype: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if dtype.startswith("float"):
        return (
            rng.standard_normal(n).astype(dtype),
            rng.standard_normal(n).astype(dtype),
        )
    info = np.iinfo(dtype)
    lo, hi = max(info.min, -(2**40)), min(info.max, 2**40)
    return (
        rng.integers(lo, hi, n, endpoint=True).astype(dtype),
        rng.integers(lo, hi, n, endpoint=True).astype(dtype),
    )


def _bits(x: np.ndarray) -> np.ndarray:
    return x.view(np.uint8)


@pytest.mark.parametrize("name", ["add", "sub"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("alpha", ALPHAS)
def test_floating_results_are_torchs_bits(name: str, dtype: str, alpha: float) -> None:
    for n in SIZES:
        a, b = _pair(n, dtype, n)
        want = getattr(torch, name)(
            torch.from_numpy(a), torch.from_numpy(b), alpha=alpha
        )
        got = getattr(G, name)(G.from_numpy(a), G.from_numpy(b), alpha=alpha)
        np.testing.assert_array_equal(_bits(got.numpy()), _bits(want.numpy()), str(n))


@pytest.mark.parametrize("name", ["add", "sub"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
@pytest.mark.parametrize("alpha", [2, -3, 7, 0])
def test_integer_results_wrap_as_torchs(name: str, dtype: str, alpha: int) -> None:
    a, b = _pair(101, dtype, 5)
    want = getattr(torch, name)(torch.from_numpy(a), torch.from_numpy(b), alpha=alpha)
    got = getattr(G, name)(G.from_numpy(a), G.from_numpy(b), alpha=alpha)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("name", ["add_", "sub_"])
@pytest.mark.parametrize("other_dtype", ["float32", "float64"])
def test_in_place_broadcast_and_mixed_dtypes(name: str, other_dtype: str) -> None:
    a, _ = _pair(6 * 5, "float32", 1)
    _, b = _pair(5, other_dtype, 2)
    want = torch.from_numpy(a.copy()).view(6, 5)
    got = G.from_numpy(a.copy()).view(6, 5)
    getattr(want, name)(torch.from_numpy(b), alpha=0.37)
    getattr(got, name)(G.from_numpy(b), alpha=0.37)
    np.testing.assert_array_equal(_bits(got.numpy()), _bits(want.numpy()))


OPERANDS = [
    "L.add(L.tensor([1.0, 2.0]), 3, alpha=0.1)",
    "L.add(L.tensor(1.5), L.tensor([1, 2]), alpha=0.5)",
    "L.add(L.tensor([1, 2]), 3, alpha=2)",
    "L.add(L.tensor([True, False]), L.tensor([True, True]), alpha=2)",
    "L.add(L.tensor([True, False]), L.tensor([False, True]), alpha=0)",
    "L.add(L.tensor([1, 2]), L.tensor([True, False]), alpha=2)",
    "L.add(L.tensor([True, False]), 1.5, alpha=2)",
    "L.tensor([1.0, 2.0]).add(L.tensor(3.0), alpha=-2)",
    "L.tensor([1.0, 2.0]).sub(L.tensor([3.0, 4.0], dtype=L.float64), alpha=0.1)",
]


@pytest.mark.parametrize("code", OPERANDS)
def test_operand_kinds_and_dtypes(code: str) -> None:
    want = eval(code, {"L": torch})
    got = eval(code, {"L": G})
    assert repr(got) == repr(want).replace("torch.", "gdlite.")


ERRORS = [
    "L.add(L.tensor([1]), L.tensor([1]), alpha=1.0)",
    "L.sub(L.tensor([1]), L.tensor([1]), alpha=0.5)",
    "L.add(L.tensor([1.0]), L.tensor([1]), alpha=True)",
    "L.sub(L.tensor([True]), L.tensor([True]), alpha=2)",
    "L.ones(3, dtype=L.int64).add_(L.ones(3), alpha=2)",
]


@pytest.mark.parametrize("code", ERRORS)
def test_errors_match_torch(code: str) -> None:
    same_error(lambda L: eval(code, {"L": L}))


@pytest.mark.parametrize("name", ["add", "sub", "add_", "sub_"])
def test_gradients_and_graph(name: str) -> None:
    def run(L):
        x = L.tensor([1.0, -2.0, 0.5], requires_grad=True)
        w = L.tensor([3.0, 4.0, -1.5], requires_grad=True)
        if name.endswith("_"):
            y = x * 1.0
            getattr(y, name)(w, alpha=-0.3)
        else:
            y = getattr(L, name)(x, w, alpha=0.7)
        (y * y).sum().backward()
        edges = [
            type(f).__name__ if f is not None else None
            for f, _ in y.grad_fn.next_functions
        ]
        return (
            x.grad.numpy(),
            w.grad.numpy(),
            y.grad_fn.name() if L is G else type(y.grad_fn).__name__,
            len(edges),
        )

    gx, gw, gname, gedges = run(G)
    tx, tw, tname, tedges = run(torch)
    np.testing.assert_array_equal(gx, tx)
    np.testing.assert_array_equal(gw, tw)
    assert (gname, gedges) == (tname, tedges)


def test_second_derivative_through_alpha() -> None:
    def run(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        w = L.tensor([0.5, -1.0], requires_grad=True)
        y = L.add(x * x, w * w, alpha=0.25).sum()
        (gw,) = L.autograd.grad(y, w, create_graph=True)
        gw.sum().backward()
        return w.grad.numpy()

    np.testing.assert_array_equal(run(G), run(torch))
