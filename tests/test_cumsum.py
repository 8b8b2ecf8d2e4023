"""cumsum: values against NumPy (float32 partial sums accumulated in double,
as ATen's CPU kernel does, so results are bit-identical to torch), result
dtypes and errors against torch. Gradients are in test_autograd_ops."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gdlite as G

SHAPES = [(7,), (3, 5), (2, 3, 4), (), (0, 3), (4, 1)]


def reference(x: np.ndarray, dim: int, reverse: bool = False) -> np.ndarray:
    """Partial sums in float64 (int64 for integers), cast to the result dtype."""
    floating = np.issubdtype(x.dtype, np.floating)
    acc = x.astype(np.float64 if floating else np.int64)
    if x.ndim == 0:
        return acc.astype(x.dtype if floating else np.int64)
    return np.cumsum(acc, axis=dim).astype(x.dtype if floating else np.int64)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    "dtype", ["float32", "float64", "int32", "int64", "uint8", "bool"]
)
def test_cumsum_matches_numpy_and_torch(shape, dtype):
    rng = np.random.default_rng(len(shape))
    x = np.asarray(rng.standard_normal(shape) * 1000).astype(dtype)
    for dim in range(-max(len(shape), 1), max(len(shape), 1)):
        got = G.from_numpy(x).cumsum(dim).numpy()
        want = reference(x, dim)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(got, torch.from_numpy(x).cumsum(dim).numpy())


def test_float32_cumsum_is_bit_identical_to_torch_on_long_rows():
    x = (np.random.default_rng(3).standard_normal(100_000) * 1e3).astype(np.float32)
    got = G.from_numpy(x).cumsum(0).numpy()
    assert np.array_equal(got, torch.from_numpy(x).cumsum(0).numpy())


def test_cumsum_of_a_strided_view():
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    got = G.from_numpy(base).t()[:, ::2].cumsum(0).numpy()
    np.testing.assert_array_equal(got, np.cumsum(base.T[:, ::2], axis=0))


def test_cumsum_dtype_argument_and_function_form():
    x = np.arange(6, dtype=np.int32).reshape(2, 3)
    for lib in (G, torch):
        t = lib.from_numpy(x)
        assert str(lib.cumsum(t, 1, dtype=lib.float64).dtype).endswith("float64")
    np.testing.assert_array_equal(
        G.cumsum(G.from_numpy(x), dim=1, dtype=G.float64).numpy(),
        np.cumsum(x, axis=1).astype(np.float64),
    )


@pytest.mark.parametrize("shape, dim", [((), 1), ((3,), 1), ((2, 3), -3)])
def test_cumsum_bad_dim_raises_like_torch(shape, dim):
    with pytest.raises(IndexError) as theirs:
        torch.zeros(shape).cumsum(dim)
    with pytest.raises(IndexError) as ours:
        G.zeros(shape).cumsum(dim)
    assert str(ours.value) == str(theirs.value)
