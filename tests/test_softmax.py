"""softmax and log_softmax against PyTorch: values to the bit (float32) or
within an ulp (float64 log), gradients, node names, finite differences,
extreme inputs and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from nn_oracle import Arg, check, finite_difference_check, probe, same_error, ulps

import gdlite
import gdlite.nn._functional_loss as GF

RNG = np.random.default_rng(7)
SHAPES_DIMS = [
    ((5, 3), 1),
    ((6, 16), -1),
    ((4, 17), 1),
    ((3, 100), 1),
    ((2, 257), 1),
    ((60,), 0),
    ((5, 40, 3), 1),
    ((5, 3, 40), 1),
    ((4, 37, 20), 0),
    ((3, 5, 1), 1),
    ((2, 3, 4, 21), 2),
    ((), 0),
    ((0, 4), 1),
]


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,dim", SHAPES_DIMS)
def test_matches_torch(name: str, dtype: type, shape: tuple, dim: int) -> None:
    x = (RNG.standard_normal(shape) * 3).astype(dtype)
    check(name, Arg(x, grad=True), dim, max_ulp=1)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_float32_forward_is_bit_exact_on_rows(name: str) -> None:
    x = (RNG.standard_normal((64, 33)) * 4).astype(np.float32)
    want = getattr(torch, name)(torch.from_numpy(x), 1).numpy()
    got = getattr(gdlite, name)(gdlite.from_numpy(x), 1).numpy()
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("scale", [1e4, -1e4])
def test_extreme_logits_stay_finite(name: str, scale: float) -> None:
    x = np.array([[scale, 0.0, -scale], [scale, scale, 1.0]], dtype=np.float32)
    check(name, Arg(x, grad=True), 1, max_ulp=0)
    assert np.isfinite(getattr(GF, name)(gdlite.from_numpy(x), 1).numpy()).all()


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_nan_and_inf_propagate_as_in_torch(name: str) -> None:
    x = np.array([[np.nan, 0.0, 1.0], [np.inf, 0.0, 1.0], [-np.inf] * 3], np.float32)
    check(name, Arg(x), 1, max_ulp=0)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, 2])
def test_finite_differences_float64(name: str, dim: int) -> None:
    x = RNG.standard_normal((3, 4, 2))
    finite_difference_check(
        lambda t: getattr(GF, name)(t, dim) * gdlite.arange(24.0).view(3, 4, 2), x
    )


def test_non_contiguous_input_and_dtype_argument() -> None:
    x = RNG.standard_normal((4, 6)).astype(np.float32)
    want = torch.softmax(torch.from_numpy(x).t(), 1, dtype=torch.float64)
    got = gdlite.softmax(gdlite.from_numpy(x).t(), 1, dtype=gdlite.float64)
    assert got.dtype == gdlite.float64
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_namespace_and_methods() -> None:
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    t, g = torch.from_numpy(x), gdlite.from_numpy(x)
    np.testing.assert_array_equal(g.softmax(0).numpy(), t.softmax(0).numpy())
    np.testing.assert_array_equal(g.log_softmax(-1).numpy(), t.log_softmax(-1).numpy())
    np.testing.assert_array_equal(
        gdlite.log_softmax(g, 1).numpy(), torch.log_softmax(t, 1).numpy()
    )


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 3, 4), (2, 3, 4, 5)])
def test_implicit_dim_warns_and_picks_torchs_dim(name: str, shape: tuple) -> None:
    x = RNG.standard_normal(shape).astype(np.float32)
    with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name}"):
        got = getattr(GF, name)(gdlite.from_numpy(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = getattr(torch.nn.functional, name)(torch.from_numpy(x))
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_errors(name: str) -> None:
    x = np.zeros((2, 3), np.float32)
    same_error(name, Arg(x), 2)
    same_error(name, Arg(x), -3)
    same_error(name, Arg(np.zeros((2, 3), np.int64)), 1)


def test_saved_result_modified_in_place_is_detected() -> None:
    x = gdlite.randn(2, 3, requires_grad=True)
    y = GF.softmax(x, 1)
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_hostile_calls_do_not_crash() -> None:
    code = """
import gdlite, gdlite.nn._functional_loss as F
x = gdlite.randn(3, 4)
for args in [(x, 99), (x, -99), (x, 2**62), (gdlite.ones(0, 0), 1), (x.long(), 0)]:
    try:
        F.softmax(*args); F.log_softmax(*args)
    except (IndexError, RuntimeError, NotImplementedError, OverflowError):
        pass
y = F.log_softmax(gdlite.randn(5, 7, 3, requires_grad=True), 1)
y.backward(gdlite.ones(1).expand(5, 7, 3))
print("ok")
"""
    r = probe(code)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
    assert ulps(np.float32([1.0]), np.float32([1.0])) == 0
