"""Unary elementwise ops, clamp and where: values against NumPy at float64,
dtypes, errors and special values against torch. Helpers: test_ops_forward."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from test_ops_forward import (
    DTYPES,
    FLOATS,
    LAYOUTS,
    SHAPES,
    check,
    name,
    raises_like_torch,
    run,
    sample,
)

import gdlite as G


def _sign(x: np.ndarray) -> np.ndarray:
    return x if x.dtype == bool else np.sign(x)


def _bitwise_not(x: np.ndarray) -> np.ndarray:
    return np.logical_not(x) if x.dtype == bool else np.invert(x)


# name: (NumPy reference, range the sample values are drawn from)
UNARY = {
    "neg": (np.negative, (-4, 4)),
    "abs": (np.abs, (-4, 4)),
    "exp": (np.exp, (-10, 10)),
    "log": (np.log, (0.01, 10)),
    "log1p": (np.log1p, (-0.9, 10)),
    "sqrt": (np.sqrt, (0, 10)),
    "square": (np.square, (-4, 4)),
    "reciprocal": (lambda x: 1 / x, (-4, 4)),
    "sin": (np.sin, (-10, 10)),
    "cos": (np.cos, (-10, 10)),
    "tan": (np.tan, (-1.5, 1.5)),
    "sinh": (np.sinh, (-5, 5)),
    "cosh": (np.cosh, (-5, 5)),
    "tanh": (np.tanh, (-5, 5)),
    "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), (-10, 10)),
    "relu": (lambda x: np.maximum(x, 0), (-4, 4)),
    "sign": (_sign, (-4, 4)),
    "floor": (np.floor, (-4, 4)),
    "ceil": (np.ceil, (-4, 4)),
    "round": (np.round, (-4, 4)),
    "logical_not": (np.logical_not, (-2, 2)),
    "bitwise_not": (_bitwise_not, (-4, 4)),
}
# Rounding and comparing ops meet halves and zeros in multiples of 0.5.
DISCRETE = {"sign", "floor", "ceil", "round", "relu", "logical_not", "abs"}


def unary_sample(op: str, shape: tuple, dtype: str, layout: str = "contiguous"):
    low, high = UNARY[op][1]
    return sample(shape, dtype, layout, low=low, high=high, discrete=op in DISCRETE)


def unary_ref(op: str, arr: np.ndarray, out_dtype: str) -> np.ndarray:
    """NumPy's result in float64 for float results, int64 for integer ones."""
    if out_dtype in FLOATS:
        arr = arr.astype(np.float64)
    elif out_dtype != "bool":
        arr = arr.astype(np.int64)
    with np.errstate(all="ignore"):
        return UNARY[op][0](arr)


def check_unary(op: str, g, t, arr, f=None) -> None:
    f = f or (lambda lib, x: getattr(lib, op)(x))
    out = run(f, (g,), (t,))
    if out is not None:
        got, want = out
        check(got, want, unary_ref(op, arr, name(want.dtype)))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", UNARY)
def test_unary(op, dtype, layout):
    check_unary(op, *unary_sample(op, (3, 4), dtype, layout))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "int64"])
@pytest.mark.parametrize("op", UNARY)
def test_unary_shapes(op, dtype, shape):
    check_unary(op, *unary_sample(op, shape, dtype))


OPERATORS = {
    "neg": lambda lib, x: -x,
    "abs": lambda lib, x: abs(x),
    "bitwise_not": lambda lib, x: ~x,
}
ALIASES = {
    "abs": [lambda lib, x: lib.absolute(x), lambda lib, x: x.absolute()],
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", UNARY)
def test_unary_spellings(op, dtype):
    g, t, arr = unary_sample(op, (2, 3), dtype, "transposed")
    fs = [lambda lib, x: getattr(x, op)()] + ALIASES.get(op, [])
    fs += [OPERATORS[op]] if op in OPERATORS else []
    for f in fs:
        check_unary(op, g, t, arr, f)


SPECIAL = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1e-45, 1e-30, -1e-30, 0.25]
SPECIAL += [0.5, -0.5, 1.5, 2.5, -2.5, -1.0, 20.0, 88.8, -88.8, 89.5, -104.0]
SPECIAL += [710.0, -746.0, 1e30, -1e30, 3.4e38, 1e300, -0.7, 1.5707964]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op", UNARY)
def test_unary_special_values(op, dtype):
    arr = np.array(SPECIAL, dtype)
    g, t = G.tensor(arr), torch.tensor(arr)
    out = run(lambda lib, x: getattr(lib, op)(x), (g,), (t,))
    if out is not None:
        # NaN, infinities and the sign of zero as torch; libm's last bits may
        # differ from torch's vectorised kernels by an ulp or two.
        check(*out, ulp=2, zero_sign=True)


@pytest.mark.parametrize("op", sorted(set(UNARY) - DISCRETE - {"bitwise_not"}))
def test_unary_float32_dense(op):
    low, high = UNARY[op][1]
    arr = np.linspace(low, high, 4001, dtype=np.float32)
    g, t = G.tensor(arr), torch.tensor(arr)
    got, want = getattr(G, op)(g), getattr(torch, op)(t)
    check(got, want, unary_ref(op, arr, "float32"))
    check(got, want, ulp=2)


def test_round_half_to_even_and_decimals():
    arr = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.125, 1.005, -3.14159], "f8")
    g, t = G.tensor(arr), torch.tensor(arr)
    check(G.round(g), torch.round(t), np.round(arr), zero_sign=True)
    for d in (1, 2, -1):
        out = run(lambda lib, x, d=d: lib.round(x, decimals=d), (g,), (t,))
        check(*out, ulp=1, zero_sign=True)
        check(g.round(decimals=d), out[1], ulp=1)


# ---- clamp / clip ------------------------------------------------------------

CLAMP = {
    "min_int": {"min": -1},
    "max_int": {"max": 2},
    "both_int": {"min": -1, "max": 2},
    "min_float": {"min": -0.5},
    "max_float": {"max": 1.5},
    "both_float": {"min": -0.5, "max": 1.5},
    "min_above_max": {"min": 2, "max": -1},
    "bool_bound": {"min": False, "max": True},
    "positional": (-1, 1.5),
}


@pytest.mark.parametrize("spelling", ["clamp", "clip", "method"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bounds", CLAMP)
def test_clamp(bounds, dtype, spelling):
    g, t, arr = sample((3, 4), dtype, "sliced", discrete=True)
    kw = CLAMP[bounds]
    args, kw = (kw, {}) if isinstance(kw, tuple) else ((), kw)

    def f(lib, x):
        fn = x.clamp if spelling == "method" else getattr(lib, spelling)
        return fn(*args, **kw) if spelling == "method" else fn(x, *args, **kw)

    out = run(f, (g,), (t,))
    if out is None:
        return
    lo, hi = args if args else (kw.get("min"), kw.get("max"))
    if out[1].dtype == torch.uint8:  # bounds are taken in the uint8 result: wrap
        lo, hi = (b % 256 if type(b) is int else b for b in (lo, hi))
    ref = arr.astype(np.float64 if out[1].is_floating_point() else np.int64)
    ref = ref if lo is None else np.maximum(ref, lo)
    ref = ref if hi is None else np.minimum(ref, hi)
    check(*out, ref)


@pytest.mark.parametrize("dtype", ["float32", "int64", "float64"])
def test_clamp_tensor_bounds(dtype):
    g, t, arr = sample((3, 4), dtype, discrete=True)
    glo, tlo, lo = sample((4,), dtype, key="lo", low=-3, high=0)
    ghi, thi, hi = sample((3, 1), dtype, key="hi", low=0, high=3)
    out = run(lambda lib, x, a, b: lib.clamp(x, a, b), (g, glo, ghi), (t, tlo, thi))
    check(*out, np.minimum(np.maximum(arr, lo), hi))
    out = run(lambda lib, x, a: x.clamp(min=a), (g, glo), (t, tlo))
    check(*out, np.maximum(arr, lo))


@pytest.mark.parametrize("dtype", FLOATS)
def test_clamp_special_values(dtype):
    arr = np.array(SPECIAL, dtype)
    g, t = G.tensor(arr), torch.tensor(arr)
    for lo, hi in [(-1.0, 1.0), (0.0, None), (None, -0.0), (-math.inf, math.inf)]:
        check(G.clamp(g, lo, hi), torch.clamp(t, lo, hi), zero_sign=True)


def test_clamp_without_bounds_raises_like_torch():
    raises_like_torch(lambda lib, x: lib.clamp(x), (G.ones(2),), (torch.ones(2),))


# ---- where ---------------------------------------------------------------------


def where_ref(cond, a, b, dtype: str) -> np.ndarray:
    wide = np.float64 if dtype in FLOATS else np.int64 if dtype != "bool" else bool
    return np.where(cond, np.asarray(a).astype(wide), np.asarray(b).astype(wide))


@pytest.mark.parametrize("d2", DTYPES)
@pytest.mark.parametrize("d1", DTYPES)
def test_where_promotes(d1, d2):
    gc, tc, cond = sample((3, 4), "bool", "transposed", key="c")
    ga, ta, a = sample((3, 4), d1, "sliced", key="a")
    gb, tb, b = sample((4,), d2, key="b")
    out = run(lambda lib, c, x, y: lib.where(c, x, y), (gc, ga, gb), (tc, ta, tb))
    check(*out, where_ref(cond, a, b, name(out[1].dtype)))
    out = run(lambda lib, c, x, y: x.where(c, y), (gc, ga, gb), (tc, ta, tb))
    check(*out, where_ref(cond, a, b, name(out[1].dtype)))


SCALARS = {"int": 3, "float": 2.5, "bool": True, "neg_int": -2}


@pytest.mark.parametrize("scalar", SCALARS)
@pytest.mark.parametrize("side", ["input", "other", "both"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_where_scalars(dtype, side, scalar):
    gc, tc, cond = sample((2, 3), "bool", key="c")
    g, t, arr = sample((2, 3), dtype)
    s = SCALARS[scalar]
    ga, ta, a = (s, s, s) if side in ("input", "both") else (g, t, arr)
    gb, tb, b = (s, s, s) if side in ("other", "both") else (g, t, arr)
    out = run(lambda lib, c, x, y: lib.where(c, x, y), (gc, ga, gb), (tc, ta, tb))
    if out is not None:
        check(*out, where_ref(cond, a, b, name(out[1].dtype)))


@pytest.mark.parametrize(
    "shapes", [((3, 1), (1, 4), ()), ((), (2, 3), (3,)), ((2, 0), (1,), (2, 1))]
)
def test_where_broadcasts(shapes):
    gc, tc, cond = sample(shapes[0], "bool", key="c")
    ga, ta, a = sample(shapes[1], "float32", "expanded", key="a")
    gb, tb, b = sample(shapes[2], "int64", key="b")
    check(G.where(gc, ga, gb), torch.where(tc, ta, tb), np.where(cond, a, b))


@pytest.mark.parametrize("dtype", ["float32", "int64", "int32"])
def test_where_condition_must_be_bool(dtype):
    gc, tc, _ = sample((3,), dtype)
    raises_like_torch(
        lambda lib, c: lib.where(c, lib.ones(3), lib.zeros(3)), (gc,), (tc,)
    )


def test_where_incompatible_shapes_raise_like_torch():
    raises_like_torch(
        lambda lib: lib.where(lib.ones(2, dtype=lib.bool), lib.ones(3), 0.0), (), ()
    )


def test_predicates():
    arr = np.array(SPECIAL + [-5.0], "f4")
    g, t = G.tensor(arr), torch.tensor(arr)
    for op in ("isnan", "isinf", "isfinite"):
        check(getattr(G, op)(g), getattr(torch, op)(t), getattr(np, op)(arr))
        check(getattr(g, op)(), getattr(t, op)())
    gi, ti = G.tensor([1, -2]), torch.tensor([1, -2])
    for op in ("isnan", "isinf", "isfinite"):
        check(getattr(G, op)(gi), getattr(torch, op)(ti))
