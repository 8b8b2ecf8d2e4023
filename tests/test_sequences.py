"""gdlite.arange and gdlite.linspace against torch, which serves as the oracle.

Values must be equal exactly, not within a tolerance: notebooks threshold
arange outputs (e.g. ``x > 0.2`` on ``arange(-1, 1, 0.1)``), so one ulp
changes their results.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Iterator

import numpy as np
import pytest
import torch

gd = pytest.importorskip("gdlite")

INF, NAN = math.inf, math.nan


@pytest.fixture(autouse=True, scope="module")
def _torch_single_thread() -> Iterator[None]:
    # Above 32768 elements torch splits arange over its threads and restarts
    # its vector blocks at each chunk, so its last bits depend on the thread
    # count; gdlite reproduces the single-thread result.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def dtype_name(t: object) -> str:
    return str(t.dtype).replace("gdlite.", "").replace("torch.", "")


def assert_same(got: object, want: torch.Tensor) -> None:
    assert dtype_name(got) == dtype_name(want)
    assert tuple(got.shape) == tuple(want.shape)
    g, w = got.numpy(), want.numpy()
    np.testing.assert_array_equal(g, w)
    if w.dtype.kind == "f":
        # assert_array_equal takes -0.0 == 0.0; the sign must match too.
        both = ~np.isnan(w)
        np.testing.assert_array_equal(np.signbit(g[both]), np.signbit(w[both]))


def torch_dtype(name: str | None) -> torch.dtype | None:
    return None if name is None else getattr(torch, name)


def gd_dtype(name: str | None) -> object:
    return None if name is None else getattr(gd, name)


def check_arange(*args: float, dtype: str | None = None) -> None:
    if dtype is None:
        assert_same(gd.arange(*args), torch.arange(*args))
    else:
        assert_same(
            gd.arange(*args, dtype=gd_dtype(dtype)),
            torch.arange(*args, dtype=torch_dtype(dtype)),
        )


def check_linspace(
    start: float, end: float, steps: int, dtype: str | None = None
) -> None:
    if dtype is None:
        assert_same(gd.linspace(start, end, steps), torch.linspace(start, end, steps))
    else:
        assert_same(
            gd.linspace(start, end, steps, dtype=gd_dtype(dtype)),
            torch.linspace(start, end, steps, dtype=torch_dtype(dtype)),
        )


def check_raises_like_torch(
    call_gd: Callable[[], object], call_torch: Callable[[], object]
) -> None:
    with pytest.raises(Exception) as want:
        call_torch()
    with pytest.raises(want.type, match=re.escape(str(want.value))):
        call_gd()


# ---------------------------------------------------------------- arange


@pytest.mark.parametrize("end", [0, 1, 5, 17, 100, 1000])
def test_arange_end_int(end: int) -> None:
    check_arange(end)


@pytest.mark.parametrize("end", [0.0, 0.5, 1.0, 2.5, 5.0, 16.5, 100.25])
def test_arange_end_float(end: float) -> None:
    check_arange(end)


@pytest.mark.parametrize(
    "args",
    [
        # the course notebooks' calls
        (-3, 3, 0.1),
        (-1, 1, 0.1),
        (0, 1, 0.01),
        (-100, 100, 0.1),
        (-5.5, 1.0, 0.1),
        (-3, 3, 0.01),
        # integer arguments
        (1, 4),
        (0, 10, 3),
        (10, 0, -3),
        (-5, 5, 2),
        (7, 7),
        (-(2**40), 2**40, 2**37),
        # mixed and float arguments, steps that do not divide the range
        (0, 5, 1.5),
        (1, 2.5),
        (0.5, 0.5, 1),
        (0, 1, 0.3),
        (0, 1, 3),
        (1, -1, -0.07),
        (2.0, 3.0, 0.1),
        (0, 6.5, 0.5),
        (-0.0, 1, 0.25),
        (-0.0, -1, -0.25),
        # tiny and huge magnitudes
        (0, 1e-6, 1e-8),
        (-1e-300, 1e-300, 1e-302),
        (1e15, 1e15 + 1000, 7.3),
        (1e6, 1e6 + 100, 0.013),
        (0, 1e30, 1e28),
    ],
)
@pytest.mark.parametrize("dtype", [None, "float32", "float64"])
def test_arange_values(args: tuple[float, ...], dtype: str | None) -> None:
    check_arange(*args, dtype=dtype)


def test_arange_decision_boundary() -> None:
    # torch's x[12] is exactly float32(0.2), so 7 values exceed 0.2; NumPy's
    # float32 arange gives 0.20000029 there and would count 8.
    x = gd.arange(-1, 1, 0.1).numpy()
    assert x[12] == np.float32(0.2)
    assert int((x > 0.2).sum()) == 7


@pytest.mark.parametrize(
    "args",
    [
        (0, 10, 3),
        (10, 0, -3),
        (0, 5, 1.5),
        (-3.7, 3.2, 1.9),
        (0.5, 5, 1),
        (0, 5.5, 1),
        (0, 100, 7),
        (-(2**61), 2**61, 2**59),
    ],
)
@pytest.mark.parametrize("dtype", ["int64", "int32", "float64"])
def test_arange_explicit_dtype(args: tuple[float, ...], dtype: str) -> None:
    # Integer results truncate the arguments (for int64 even before the size
    # is computed): arange(0, 5, 1.5, dtype=int64) has 5 elements, int32 has 4.
    if dtype == "int32" and max(abs(a) for a in args) > 2**31:
        pytest.skip("outside int32")
    check_arange(*args, dtype=dtype)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((5,), "int64"),
        ((1, 5), "int64"),
        ((1, 5, 2), "int64"),
        ((5.0,), "float32"),
        ((1, 5.0), "float32"),
        ((1.0, 5), "float32"),
        ((1, 5, 0.5), "float32"),
        ((0, 3, 1.0), "float32"),
    ],
)
def test_arange_dtype_inference(args: tuple[float, ...], expected: str) -> None:
    assert dtype_name(torch.arange(*args)) == expected
    assert dtype_name(gd.arange(*args)) == expected


@pytest.mark.parametrize("n", [32768, 32769, 100_000, 100_001, 123_457])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_arange_long(n: int, dtype: str) -> None:
    for start, step in [(-7.25, 0.001), (3.0, -0.013), (0.1, 0.37)]:
        check_arange(start, start + step * n, step, dtype=dtype)


def test_arange_long_int() -> None:
    check_arange(100_003)
    check_arange(-50_000, 10**6, 7)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_arange_random(seed: int, dtype: str) -> None:
    rng = random.Random(seed)
    for _ in range(150):
        n = rng.choice([rng.randint(0, 40), rng.randint(0, 600)])
        start = rng.uniform(-1, 1) * 10 ** rng.uniform(-6, 9)
        step = rng.choice([1, -1]) * 10 ** rng.uniform(-7, 4)
        end = start + step * n * rng.uniform(0.97, 1.03)
        check_arange(start, end, step, dtype=dtype)


@pytest.mark.parametrize(
    "args",
    [
        (0, 1, 0),
        (0, 1, 0.0),
        (0, 1, NAN),
        (0, 1, -1),
        (1, 0, 1),
        (1, 0),
        (-1,),
        (-0.5,),
        (0, INF),
        (INF,),
        (NAN, 1),
        (0, NAN),
        (-INF, 0, 1),
        (-1e-7, -INF, -1),
        (1234567.5, INF),
        (0, 1e300, 1e-300),
        (0.1, 1e20, 1e-4),
    ],
)
@pytest.mark.parametrize("dtype", [None, "float32", "float64", "int64"])
def test_arange_errors(args: tuple[float, ...], dtype: str | None) -> None:
    if dtype is None:
        check_raises_like_torch(lambda: gd.arange(*args), lambda: torch.arange(*args))
    else:
        check_raises_like_torch(
            lambda: gd.arange(*args, dtype=gd_dtype(dtype)),
            lambda: torch.arange(*args, dtype=torch_dtype(dtype)),
        )


def test_arange_int64_step_truncated_to_zero() -> None:
    # int64 arange truncates the step first; 0.5 becomes 0, a ValueError.
    check_raises_like_torch(
        lambda: gd.arange(0, 5, 0.5, dtype=gd.int64),
        lambda: torch.arange(0, 5, 0.5, dtype=torch.int64),
    )


def test_arange_int64_size_wraps_like_torch() -> None:
    # torch sizes int64 ranges in wrapping int64 arithmetic: end - start
    # overflows, giving an error here and an empty tensor below.
    check_raises_like_torch(
        lambda: gd.arange(-(2**62), 2**62, 2**60),
        lambda: torch.arange(-(2**62), 2**62, 2**60),
    )
    check_arange(-(2**63), 2**63 - 1, 2**62)


def test_arange_step_sign_message() -> None:
    with pytest.raises(RuntimeError, match="upper bound and lower bound inconsistent"):
        gd.arange(0, 1, -1)
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        gd.arange(0, 1, 0)


# ---------------------------------------------------------------- linspace


@pytest.mark.parametrize(
    "args",
    [
        (0, 1, 0),
        (0, 1, 1),
        (0.3, 1, 1),
        (0, 1, 2),
        (0, 10, 5),
        (-1, 1, 21),
        (0, 1, 100),
        (-5, 5, 1000),
        (1, 0, 7),
        (5, 5, 9),
        (-3, 3, 10),
        (0, 2 * math.pi, 50),
        (-10, 10, 101),
        (0.1, 0.7, 13),
        (1e-8, 3e-8, 17),
        (-1e9, 1e9, 33),
        (1, -0.0, 5),
        (-0.0, 1, 4),
        (-3, 3, 100_007),
    ],
)
@pytest.mark.parametrize("dtype", [None, "float32", "float64"])
def test_linspace_values(args: tuple[float, float, int], dtype: str | None) -> None:
    check_linspace(*args, dtype=dtype)


@pytest.mark.parametrize(
    "args",
    [
        (0, 1, 0),
        (2.7, 1, 1),
        (-2.7, 1, 5),
        (0, 10, 5),
        (0, 100, 7),
        (10, -10, 13),
        (0.9, 50.9, 11),
        (-1000, 1000, 999),
        (3, 3, 4),
    ],
)
@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_linspace_integer(args: tuple[float, float, int], dtype: str) -> None:
    check_linspace(*args, dtype=dtype)


def test_linspace_default_dtype_is_float32() -> None:
    assert dtype_name(gd.linspace(0, 10, 5)) == "float32"
    assert_same(gd.linspace(0, 10, 5), torch.linspace(0, 10, 5))


def test_linspace_infinite_end() -> None:
    # torch does not special-case the ends: start + inf * 0 is NaN.
    check_linspace(0, INF, 5)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_linspace_random(seed: int, dtype: str) -> None:
    rng = random.Random(seed)
    for _ in range(150):
        steps = rng.choice([rng.randint(0, 10), rng.randint(0, 300)])
        scale = 10 ** rng.uniform(-6, 8)
        start, end = rng.uniform(-1, 1) * scale, rng.uniform(-1, 1) * scale
        check_linspace(start, end, steps, dtype=dtype)


def test_linspace_negative_steps() -> None:
    check_raises_like_torch(
        lambda: gd.linspace(0, 1, -1), lambda: torch.linspace(0, 1, -1)
    )
