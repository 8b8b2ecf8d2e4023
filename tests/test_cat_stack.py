"""cat and stack: any number of tensors, PyTorch's dtype promotion, gradients
cast back to each input's dtype, and PyTorch's errors for bad lists."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import gdlite

DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]


def _values(dtype: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.integers(0, 2, n).astype(bool)
    if dtype.startswith("int"):
        return rng.integers(-50, 50, n).astype(dtype)
    return rng.standard_normal(n).astype(dtype)


@pytest.mark.parametrize("da,db", list(itertools.product(DTYPES, repeat=2)))
@pytest.mark.parametrize("join", ["cat", "stack"])
def test_promotes_like_torch(join: str, da: str, db: str) -> None:
    a, b = _values(da, 3, 1), _values(db, 3, 2)
    out = {}
    for lib in (torch, gdlite):
        ta, tb = lib.from_numpy(a.copy()), lib.from_numpy(b.copy())
        out[lib] = getattr(lib, join)([ta, tb, ta])
    assert str(out[gdlite].dtype).split(".")[1] == str(out[torch].dtype).split(".")[1]
    np.testing.assert_array_equal(out[gdlite].numpy(), out[torch].numpy())


@pytest.mark.parametrize(
    "join,dim", [("cat", 0), ("cat", 1), ("stack", 0), ("stack", 2)]
)
def test_many_tensors_with_gradients(join: str, dim: int) -> None:
    """1000 inputs (past the old limit of 256), each its own leaf."""
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((2, 3)) for _ in range(1000)]
    weight = rng.standard_normal(6000)
    grads, values = {}, {}
    for lib in (torch, gdlite):
        leaves = [lib.tensor(x, requires_grad=True) for x in arrays]
        y = getattr(lib, join)(leaves, dim)
        w = lib.tensor(weight.reshape(y.shape))
        (y * w).sum().backward()
        values[lib] = y.detach().numpy()
        grads[lib] = np.stack([t.grad.numpy() for t in leaves])
    np.testing.assert_array_equal(values[gdlite], values[torch])
    np.testing.assert_array_equal(grads[gdlite], grads[torch])


@pytest.mark.parametrize("join", ["cat", "stack"])
def test_mixed_dtype_gradients_cast_back(join: str) -> None:
    out = {}
    for lib in (torch, gdlite):
        a = lib.tensor([1.5, -2.0], requires_grad=True)
        b = lib.tensor([0.25, 3.0], dtype=lib.float64, requires_grad=True)
        c = lib.tensor([4, 5])
        y = getattr(lib, join)([a, c, b])
        (y * y).sum().backward()
        names = [
            f.name().split("::")[-1] if f else None for f, _ in y.grad_fn.next_functions
        ]
        out[lib] = (str(y.dtype).split(".")[1], y.grad_fn.name(), names, a.grad, b.grad)
    tdt, tname, tnext, ta, tb = out[torch]
    gdt, gname, gnext, ga, gb = out[gdlite]
    assert (gdt, gname, gnext) == (tdt, tname, tnext)
    for g, t in ((ga, ta), (gb, tb)):
        assert str(g.dtype).split(".")[1] == str(t.dtype).split(".")[1]
        np.testing.assert_array_equal(g.numpy(), t.numpy())


BAD = [
    "lib.cat([])",
    "lib.stack([])",
    "lib.cat([lib.ones(0), lib.tensor(1.0)])",
    "lib.cat([lib.ones(2, 2), lib.tensor(1.0)])",
    "lib.cat([lib.ones(2), lib.ones(2, 2)])",
    "lib.cat([lib.ones(2, 3), lib.ones(2, 4)])",
    "lib.cat([lib.ones(2, 2), lib.ones(3)], 5)",
    "lib.stack([lib.ones(2), lib.ones(3)])",
    "lib.stack([lib.ones(2)], 2)",
    "lib.cat([lib.ones(2), 3])",
    "lib.stack([lib.ones(2), 3])",
]


@pytest.mark.parametrize("expr", BAD)
def test_errors_match_torch(expr: str) -> None:
    outcomes = []
    for lib in (torch, gdlite):
        try:
            eval(expr, {"lib": lib})
        except Exception as e:  # noqa: BLE001 - the exception is the result
            outcomes.append((type(e), str(e).replace("torch.", "gdlite.")))
        else:
            outcomes.append(None)
    assert outcomes[0] is not None
    assert outcomes[1] == outcomes[0]


def test_skips_empty_vectors_and_keeps_their_dtype() -> None:
    """1-D empty inputs are skipped for shapes but still promote."""
    for lib in (torch, gdlite):
        y = lib.cat([lib.ones(0, dtype=lib.float64), lib.ones(2, 3), lib.ones(0)])
        assert tuple(y.shape) == (2, 3)
        assert str(y.dtype).endswith("float64")
