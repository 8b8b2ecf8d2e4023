"""gdlite's random numbers against torch's CPU generator, seed for seed.

Both libraries are seeded alike before every comparison; integers must match
exactly and floats within 2 ulp (the float32 normal kernels use approximate
log/sin/cos, and a different libm may move the last bit).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gdlite as gd

SEEDS = [0, 1, 42, 2**32 + 7, 2**64 - 1]
# Sizes around the 16-element block of the vectorised normal kernel.
SIZES = [0, 1, 2, 3, 7, 15, 16, 17, 31, 100, 1000, 10007]
FLOAT_DTYPES = ["float32", "float64"]


def seed(s: int) -> None:
    torch.manual_seed(s)
    gd.manual_seed(s)


def assert_same(got, expected: torch.Tensor) -> None:
    a = got.numpy()
    b = expected.numpy()
    assert a.dtype == b.dtype
    assert a.shape == b.shape
    if np.issubdtype(b.dtype, np.floating):
        np.testing.assert_array_max_ulp(a, b, maxulp=2)
    else:
        np.testing.assert_array_equal(a, b)


def dtypes(name: str):
    return getattr(gd, name), getattr(torch, name)


# ---- raw uniform and normal draws ----------------------------------------


@pytest.mark.parametrize("s", SEEDS)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_rand(s, n, dtype):
    gdt, tdt = dtypes(dtype)
    seed(s)
    assert_same(gd.rand(n, dtype=gdt), torch.rand(n, dtype=tdt))
    # the stream position afterwards agrees too
    assert_same(gd.rand(3, dtype=gdt), torch.rand(3, dtype=tdt))


@pytest.mark.parametrize("s", SEEDS)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_randn(s, n, dtype):
    gdt, tdt = dtypes(dtype)
    seed(s)
    assert_same(gd.randn(n, dtype=gdt), torch.randn(n, dtype=tdt))
    assert_same(gd.randn(3, dtype=gdt), torch.randn(3, dtype=tdt))


def test_default_dtype_and_shape_forms():
    seed(3)
    assert_same(gd.rand(2, 3), torch.rand(2, 3))
    assert_same(gd.rand((4, 5)), torch.rand((4, 5)))
    assert_same(gd.randn(3, 2, 4), torch.randn(3, 2, 4))
    assert_same(gd.randn([2, 9]), torch.randn([2, 9]))
    assert gd.rand(2).numpy().dtype == np.float32
    assert gd.randn(2).numpy().dtype == np.float32


@pytest.mark.parametrize("s", [0, 7, 2**40 + 1])
@pytest.mark.parametrize("n", [1, 5, 16, 33, 1000])
@pytest.mark.parametrize(
    "mean, std", [(0.0, 1.0), (0.3, 2.7), (-5.1, 0.01), (100.0, 3.3), (1.0, 0.0)]
)
def test_normal_function(s, n, mean, std):
    seed(s)
    assert_same(gd.normal(mean, std, size=(n,)), torch.normal(mean, std, size=(n,)))
    assert_same(gd.normal(mean, std, size=(2, n)), torch.normal(mean, std, size=(2, n)))


@pytest.mark.parametrize("s", [0, 11])
@pytest.mark.parametrize("n", [1, 3, 16, 100, 10007])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(
    "lo, hi",
    [(0.0, 1.0), (-1.0, 1.0), (0.1, 0.7), (-3.3, 17.9), (1e-3, 2e-3), (5.0, 5.0)],
)
def test_uniform_(s, n, dtype, lo, hi):
    gdt, tdt = dtypes(dtype)
    seed(s)
    assert_same(
        gd.zeros(n, dtype=gdt).uniform_(lo, hi),
        torch.zeros(n, dtype=tdt).uniform_(lo, hi),
    )


def test_uniform_value_rounding_onto_upper_bound_becomes_lower_bound():
    # float32 values in [1e8, 1e8 + 16) are 8 apart: draws near the top round up
    # onto `to`, and torch then returns `from`.
    seed(5)
    g = gd.zeros(5000).uniform_(1e8, 1e8 + 16)
    t = torch.zeros(5000).uniform_(1e8, 1e8 + 16)
    assert_same(g, t)
    assert not (g.numpy() == np.float32(1e8 + 16)).any()


@pytest.mark.parametrize("s", [0, 11])
@pytest.mark.parametrize("n", [1, 3, 15, 16, 17, 100, 1001])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("mean, std", [(0.0, 1.0), (0.3, 2.7), (-1.0, 0.01)])
def test_normal_(s, n, dtype, mean, std):
    gdt, tdt = dtypes(dtype)
    seed(s)
    assert_same(
        gd.zeros(n, dtype=gdt).normal_(mean, std),
        torch.zeros(n, dtype=tdt).normal_(mean, std),
    )


def test_normal__default_arguments_on_matrix():
    seed(8)
    assert_same(gd.ones(4, 5).normal_(), torch.ones(4, 5).normal_())
    assert_same(gd.ones(3, 3).uniform_(), torch.ones(3, 3).uniform_())


# ---- non-contiguous targets: per-element path, memory order ---------------


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_normal_on_transposed_view(dtype):
    gdt, tdt = dtypes(dtype)
    seed(21)
    g = gd.ones(5, 4, dtype=gdt)
    t = torch.ones(5, 4, dtype=tdt)
    g.t().normal_()
    t.t().normal_()
    assert_same(g, t)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_uniform_on_column(dtype):
    gdt, tdt = dtypes(dtype)
    seed(22)
    g = gd.ones(5, 4, dtype=gdt)
    t = torch.ones(5, 4, dtype=tdt)
    g[:, 0].uniform_(-1, 1)
    t[:, 0].uniform_(-1, 1)
    assert_same(g, t)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_normal_on_long_column_uses_scalar_path(dtype):
    # 40 elements would take the 16-block kernel if contiguous.
    gdt, tdt = dtypes(dtype)
    seed(23)
    g = gd.zeros(40, 2, dtype=gdt)
    t = torch.zeros(40, 2, dtype=tdt)
    g[:, 0].normal_(2.0, 3.0)
    t[:, 0].normal_(2.0, 3.0)
    assert_same(g, t)
    # the cached second Box-Muller sample is shared with the next draw
    assert_same(gd.randn(1, dtype=gdt), torch.randn(1, dtype=tdt))


def test_fill_of_strided_views():
    seed(24)
    g = gd.zeros(6, 8)
    t = torch.zeros(6, 8)
    g[:, ::2].normal_()
    t[:, ::2].normal_()
    g[1::2].t().uniform_(-2, 3)
    t[1::2].t().uniform_(-2, 3)
    assert_same(g, t)


def test_fill_of_permuted_view():
    seed(25)
    g = gd.zeros(2, 3, 4)
    t = torch.zeros(2, 3, 4)
    g.permute(2, 0, 1).normal_()
    t.permute(2, 0, 1).normal_()
    assert_same(g, t)
    g.permute(1, 2, 0).uniform_(0.5, 1.5)
    t.permute(1, 2, 0).uniform_(0.5, 1.5)
    assert_same(g, t)


# ---- integers ------------------------------------------------------------

RANGES = [
    (0, 1),
    (0, 2),
    (0, 10),
    (-5, 5),
    (3, 1000),
    (0, 2**28 - 1),  # last range drawn with 32 bits
    (0, 2**28),  # first range drawn with 64 bits
    (0, 2**32 + 1),
    (-(2**40), 2**40 + 7),
    (-(2**63), 2**63 - 1),
]


@pytest.mark.parametrize("s", [0, 42, 2**33])
@pytest.mark.parametrize("n", [1, 7, 100, 1000])
@pytest.mark.parametrize("lo, hi", RANGES)
def test_randint_int64(s, n, lo, hi):
    seed(s)
    assert_same(gd.randint(lo, hi, (n,)), torch.randint(lo, hi, (n,)))
    assert_same(gd.randint(0, 2**32, (2,)), torch.randint(0, 2**32, (2,)))


# torch warns that float32 cannot hold every integer beyond 2^24.
@pytest.mark.filterwarnings("ignore:.*out of bounds:UserWarning")
@pytest.mark.parametrize("dtype", ["int32", "float32", "float64"])
@pytest.mark.parametrize("lo, hi", [(0, 10), (-7, 3), (0, 2**28), (-(2**30), 2**30)])
def test_randint_dtypes(dtype, lo, hi):
    gdt, tdt = dtypes(dtype)
    seed(31)
    assert_same(
        gd.randint(lo, hi, (50,), dtype=gdt), torch.randint(lo, hi, (50,), dtype=tdt)
    )


def test_randint_shapes_and_high_only_form():
    seed(32)
    assert_same(gd.randint(0, 10, (5,)), torch.randint(0, 10, (5,)))
    assert_same(gd.randint(3, 9, (2, 3)), torch.randint(3, 9, (2, 3)))
    assert_same(gd.randint(10, (4,)), torch.randint(10, (4,)))
    assert gd.randint(0, 10, (5,)).numpy().dtype == np.int64


@pytest.mark.parametrize("lo, hi", [(5, 5), (6, 5)])
def test_randint_empty_range_error(lo, hi):
    with pytest.raises(RuntimeError) as expected:
        torch.randint(lo, hi, (3,))
    with pytest.raises(RuntimeError) as got:
        gd.randint(lo, hi, (3,))
    assert str(got.value) == str(expected.value)
    assert f"but got from={lo} >= to={hi}" in str(got.value)


def test_randint_out_of_bounds_for_int32():
    with pytest.raises(RuntimeError, match="to - 1 is out of bounds for int"):
        gd.randint(0, 2**40, (2,), dtype=gd.int32)


@pytest.mark.parametrize("s", [0, 9])
@pytest.mark.parametrize("n", [1, 2, 3, 50])
def test_random_int64(s, n):
    seed(s)
    g = gd.zeros(n, dtype=gd.int64).random_()
    t = torch.zeros(n, dtype=torch.int64).random_()
    assert_same(g, t)


@pytest.mark.parametrize("s", [0, 42])
@pytest.mark.parametrize("n", list(range(51)) + [1000, 100003])
def test_randperm(s, n):
    seed(s)
    assert_same(gd.randperm(n), torch.randperm(n))
    assert_same(gd.rand(2), torch.rand(2))


# ---- generator state shared across calls ----------------------------------


def test_normal_cache_carries_across_calls():
    seed(42)
    # three scalar-path draws leave the second half of a pair cached
    assert_same(gd.randn(3), torch.randn(3))
    assert_same(gd.randn(1), torch.randn(1))  # the cached value
    assert_same(gd.rand(2), torch.rand(2))  # uniforms do not touch the cache
    assert_same(gd.randn(1), torch.randn(1))
    assert_same(gd.randn(20), torch.randn(20))  # nor does the 16-block kernel
    assert_same(gd.randn(1), torch.randn(1))
    assert_same(gd.randn(2, dtype=gd.float64), torch.randn(2, dtype=torch.float64))
    assert_same(gd.randint(0, 5, (3,)), torch.randint(0, 5, (3,)))
    assert_same(gd.randperm(6), torch.randperm(6))
    assert_same(gd.randn(5), torch.randn(5))


def test_cache_shared_between_float32_and_float64():
    seed(4)
    assert_same(gd.randn(1), torch.randn(1))
    assert_same(gd.randn(1, dtype=gd.float64), torch.randn(1, dtype=torch.float64))


def test_manual_seed_clears_normal_cache():
    seed(6)
    assert_same(gd.randn(1), torch.randn(1))  # a sine half is now cached
    seed(6)
    assert_same(gd.randn(1), torch.randn(1))
    assert_same(gd.randn(1), torch.randn(1))


def test_reseeding_restarts_the_stream():
    seed(77)
    first = gd.rand(5).numpy()
    gd.randn(7)
    gd.manual_seed(77)
    np.testing.assert_array_equal(gd.rand(5).numpy(), first)


def test_long_mixed_sequence():
    rng = np.random.default_rng(0)
    seed(1234)
    for _ in range(200):
        op = rng.integers(6)
        n = int(rng.choice([1, 2, 3, 5, 16, 17, 33]))
        if op == 0:
            assert_same(gd.rand(n), torch.rand(n))
        elif op == 1:
            assert_same(gd.randn(n), torch.randn(n))
        elif op == 2:
            assert_same(
                gd.randn(n, dtype=gd.float64), torch.randn(n, dtype=torch.float64)
            )
        elif op == 3:
            assert_same(gd.randint(-3, 10, (n,)), torch.randint(-3, 10, (n,)))
        elif op == 4:
            assert_same(gd.randperm(n), torch.randperm(n))
        else:
            assert_same(
                gd.normal(1.0, 2.0, size=(n,)), torch.normal(1.0, 2.0, size=(n,))
            )


def test_initial_seed():
    if not hasattr(gd, "initial_seed"):
        pytest.skip("gdlite.initial_seed is not provided")
    gd.manual_seed(2**40 + 3)
    assert gd.initial_seed() == 2**40 + 3


# ---- numbers printed by the course material --------------------------------


def test_course_numbers():
    gd.manual_seed(42)
    b, w = gd.randn(1).numpy()[0], gd.randn(1).numpy()[0]
    np.testing.assert_allclose([b, w], [0.33669037, 0.12880941], rtol=0, atol=1e-7)
    # nn.Linear(1, 1) init: kaiming-uniform with bound 1 for weight and bias
    gd.manual_seed(42)
    np.testing.assert_allclose(
        gd.zeros(2).uniform_(-1, 1).numpy(), [0.7645385, 0.8300079], rtol=0, atol=1e-7
    )
    gd.manual_seed(1)
    np.testing.assert_allclose(
        gd.zeros(2).uniform_(-1, 1).numpy(), [0.5152632, -0.4413782], rtol=0, atol=1e-7
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.normal(m.arange(4.0), 2.0),
        lambda m: m.normal(m.zeros(20), m.ones(20) * 0.5),
        lambda m: m.normal(1.0, m.full((3,), 2.0)),
        lambda m: m.normal(m.zeros(2, 17, dtype=m.float64), 3.0),
    ],
)
def test_normal_with_tensor_mean_or_std(make):
    seed(3)
    got = make(gd)
    seed(3)
    want = make(torch)
    assert_same(got, want)
