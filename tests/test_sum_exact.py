"""Floating sum and mean give PyTorch's bits: same accumulation type (float32
in float32), same order (cascade, vector lanes, dim sorting and merging), same
split across threads above 32768 elements. Compared bit for bit with torch."""

import itertools

import numpy as np
import pytest
import torch

import gdlite

DTYPES = [np.float32, np.float64]
SIZES = [*range(1, 301), 1000, 4095, 4096, 4097, 32767, 32768, 32769, 65536, 100000]


def same_bits(g, t) -> bool:
    a = np.atleast_1d(np.ascontiguousarray(g.numpy()))
    b = np.atleast_1d(np.ascontiguousarray(t.numpy()))
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    return np.array_equal(a.view(np.uint8), b.view(np.uint8))


def sample(rng, shape, dtype, dist):
    if dist == "normal":
        x = rng.standard_normal(shape)
    elif dist == "positive":
        x = rng.random(shape) * 1000
    else:  # large dynamic range, both signs
        x = rng.standard_normal(shape) * np.exp(rng.uniform(-20, 20, shape))
    return x.astype(dtype)


def check(x, fn):
    g, t = fn(gdlite.from_numpy(x)), fn(torch.from_numpy(x))
    assert same_bits(g, t), (x.shape, x.dtype, g, t)


def test_course_example():
    x = np.array([571.52978515625, 254.6061248779297, 321.869384765625], np.float32)
    assert gdlite.from_numpy(x).sum().item() == torch.from_numpy(x).sum().item()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dist", ["normal", "positive", "wide"])
def test_all_elements(dtype, dist):
    rng = np.random.default_rng(0)
    for n in SIZES:
        x = sample(rng, (n,), dtype, dist)
        check(x, lambda t: t.sum())
        check(x, lambda t: t.mean())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [10**6, 10**6 + 7])
def test_all_elements_large(dtype, n):
    rng = np.random.default_rng(n)
    x = sample(rng, (n,), dtype, "wide")
    check(x, lambda t: t.sum())
    check(x, lambda t: t.mean())


def test_mse_losses():
    rng = np.random.default_rng(3)
    for n in range(1, 200):
        yhat = rng.standard_normal(n).astype(np.float32)
        y = rng.standard_normal(n).astype(np.float32)
        g = ((gdlite.from_numpy(yhat) - gdlite.from_numpy(y)) ** 2).mean()
        t = ((torch.from_numpy(yhat) - torch.from_numpy(y)) ** 2).mean()
        assert same_bits(g, t), n


SHAPES = [
    (3, 4),
    (1000, 37),
    (37, 1000),
    (64, 64),
    (1, 50),
    (50, 1),
    (5, 17, 33),
    (17, 1, 5),
    (2, 3, 40000),
    (40000, 3),
    (3, 40000),
    (70000, 2),
    (2, 70000),
    (128, 300),
    (4, 5, 6, 7),
]


def all_dim_tuples(nd):
    return [d for r in range(1, nd + 1) for d in itertools.combinations(range(nd), r)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_dims(dtype, shape):
    rng = np.random.default_rng(len(shape) * 1000 + shape[0])
    x = sample(rng, shape, dtype, "wide")
    for dims in all_dim_tuples(len(shape)):
        for keepdim in (False, True):
            check(
                x,
                lambda t, dims=dims, keepdim=keepdim: t.sum(dim=dims, keepdim=keepdim),
            )
            check(
                x,
                lambda t, dims=dims, keepdim=keepdim: t.mean(dim=dims, keepdim=keepdim),
            )
    for d in range(len(shape)):
        check(x, lambda t, d=d: t.sum(d))
        check(x, lambda t, d=d: t.mean(-1 - d, keepdim=True))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_views(dtype, shape):
    rng = np.random.default_rng(shape[-1])
    x = sample(rng, shape, dtype, "normal")
    nd = len(shape)
    views = [
        lambda t: t.transpose(0, -1),
        lambda t: t[..., ::2],
        lambda t: t[::3],
        lambda t: t.permute(*reversed(range(nd)))[..., 1:],
    ]
    for view in views:
        check(x, lambda t, view=view: view(t).sum())
        check(x, lambda t, view=view: view(t).mean())
        for d in range(nd):
            check(x, lambda t, view=view, d=d: view(t).sum(d))
            check(x, lambda t, view=view, d=d: view(t).mean(d, keepdim=True))


@pytest.mark.parametrize("dtype", DTYPES)
def test_expanded(dtype):
    rng = np.random.default_rng(5)
    for shape, new in [
        ((1, 37), (1000, 37)),
        ((37, 1), (37, 2000)),
        ((1, 1), (300, 300)),
    ]:
        x = sample(rng, shape, dtype, "normal")
        check(x, lambda t, new=new: t.expand(*new).sum())
        check(x, lambda t, new=new: t.expand(*new).sum(0))
        check(x, lambda t, new=new: t.expand(*new).mean(1))


@pytest.mark.parametrize("dtype", DTYPES)
def test_special_values(dtype):
    for vals in (
        [-0.0],
        [-0.0, -0.0],
        [np.inf, 1.0],
        [np.inf, -np.inf],
        [np.nan, 1.0],
        [],
    ):
        x = np.array(vals, dtype)
        check(x, lambda t: t.sum())
        check(x, lambda t: t.mean())
    x = np.zeros((0, 3), dtype)
    for d in (0, 1):
        check(x, lambda t, d=d: t.sum(d))
        check(x, lambda t, d=d: t.mean(d))
    check(np.array(2.5, dtype), lambda t: t.sum())
    check(np.array(2.5, dtype), lambda t: t.mean(0))


@pytest.mark.parametrize("dtype", DTYPES)
def test_small_whole_sums(dtype):
    # Up to a few vectors long, whole contiguous sums take a short path:
    # signed zeros, infinities and NaNs in every position, 1-D and 2-D.
    rng = np.random.default_rng(7)
    for n in range(1, 40):
        for fill in (-0.0, np.inf, np.nan):
            x = sample(rng, (n,), dtype, "wide")
            x[rng.random(n) < 0.3] = fill
            for shape in ((n,), (1, n), (n, 1)):
                check(x.reshape(shape), lambda t: t.sum())
                check(x.reshape(shape), lambda t: t.mean())
        check(np.full((n,), -0.0, dtype), lambda t: t.sum())
    check(sample(rng, (3, 4), dtype, "normal")[:, :3], lambda t: t.sum())


def test_integer_sums_stay_exact():
    x = np.array([2**62, 2**62, 2**62, -5], np.int64)
    check(x, lambda t: t.sum())
    y = np.arange(100000, dtype=np.int32).reshape(100, 1000)
    check(y, lambda t: t.sum(0))
    check(y, lambda t: t.sum(1))
