"""Reductions: values against NumPy at float64; result dtypes, indices (ties,
NaN), empty inputs and error messages against torch. Helpers: test_ops_forward."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from test_ops_forward import (
    DTYPES,
    FLOATS,
    LAYOUTS,
    check,
    name,
    raises_like_torch,
    run,
    sample,
)

import gdlite as G

INF = math.inf
# Accumulation over up to a few dozen elements: looser than elementwise.
RTOL = {"float32": 1e-5, "float64": 1e-12}
ATOL = {"float32": 1e-5, "float64": 1e-12}


def vector_norm(x: np.ndarray, p, axis, keepdims: bool) -> np.ndarray:
    a = np.abs(x)
    if p == INF:
        return np.max(a, axis, keepdims=keepdims)
    if p == -INF:
        return np.min(a, axis, keepdims=keepdims)
    if p == 0:
        return np.sum(a != 0, axis, keepdims=keepdims).astype(np.float64)
    p = 2 if p == "fro" else p
    return np.sum(a**p, axis, keepdims=keepdims) ** (1 / p)


def reduce_ref(op: str, arr: np.ndarray, out: str, dim=None, keepdim=False, **kw):
    """NumPy's reduction in float64 (float results) or int64 (integer ones)."""
    axis = dim
    x = arr.astype(np.float64 if out in FLOATS else np.int64 if out != "bool" else bool)
    if op in ("any", "all"):
        x = arr != 0
    with np.errstate(all="ignore"):
        if op in ("std", "var"):
            ddof = kw.get("correction", 1)
            return getattr(np, op)(x, axis, ddof=ddof, keepdims=keepdim)
        if op == "norm":
            return vector_norm(x, kw.get("p", 2), axis, keepdim)
        if op in ("argmax", "argmin"):
            return getattr(np, op)(arr, axis, keepdims=keepdim)
        fn = {"amax": np.max, "amin": np.min}.get(op) or getattr(np, op)
        return fn(x, axis, keepdims=keepdim)


def check_reduce(got, want, ref) -> None:
    dt = name(want.dtype)
    check(got, want, ref, rtol=RTOL.get(dt), atol=ATOL.get(dt))


def call(op: str, dim, keepdim: bool, **kw):
    """f(lib, x) calling ``op`` as torch spells it; dim=None passes no dim."""

    def f(lib, x):
        # torch takes keepdim only next to a dim, which may be None
        args = {"dim": dim, "keepdim": True} if keepdim else {}
        if dim is not None:
            args["dim"] = dim
        return getattr(lib, op)(x, **args, **kw)

    return f


REDUCTIONS = "sum mean prod amax amin std var norm any all argmax argmin".split()
# torch reduces over a tuple of dims in these only
TUPLE_DIMS = {"sum", "mean", "amax", "amin", "std", "var", "norm", "any", "all"}
DIMS = [None, 0, 1, -1, -3, (0, 2), (-1, 0), (0, 1, 2)]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", REDUCTIONS)
def test_reduce(op, dtype, dim, keepdim):
    if isinstance(dim, tuple) and op not in TUPLE_DIMS:
        return
    if op == "norm" and dim == (0, 1, 2):
        return  # torch.norm's default p='fro' sends 3 dims to matrix_norm
    if op == "prod" and dim is None and keepdim:
        return
    g, t, arr = sample((2, 3, 4), dtype, low=-2 if op == "prod" else -4, high=2)
    out = run(call(op, dim, keepdim), (g,), (t,), message=True)
    if out is not None:
        check_reduce(*out, reduce_ref(op, arr, name(out[1].dtype), dim, keepdim))


@pytest.mark.parametrize("dim", [None, 1, 0])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("op", REDUCTIONS + ["max", "min"])
def test_reduce_layouts(op, layout, dim):
    if op in ("max", "min") and dim is None:
        dim = -1
    g, t, arr = sample((3, 4), "float32", layout)
    out = run(call(op, dim, False), (g,), (t,), message=True)
    if op in ("max", "min"):
        check_reduce(out[0].values, out[1].values, getattr(np, op)(arr, dim))
        check(out[0].indices, out[1].indices)
    else:
        check_reduce(*out, reduce_ref(op, arr, name(out[1].dtype), dim))


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1, -2])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_dim(op, dtype, dim, keepdim):
    g, t, arr = sample((3, 4), dtype, "transposed", discrete=True)
    out = run(
        lambda lib, x: getattr(lib, op)(x, dim, keepdim=keepdim), (g,), (t,), True
    )
    if out is None:
        return
    (gv, gi), (tv, ti) = out
    ref = np.max if op == "max" else np.min
    check(gv, tv, ref(arr, dim, keepdims=keepdim))
    check(gi, ti)
    assert isinstance(out[0], G.return_types.max if op == "max" else G.return_types.min)
    assert out[0].values is gv and out[0].indices is gi
    # method spelling and positional keepdim
    mv, mi = getattr(g, op)(dim, keepdim)
    check(mv, tv)
    check(mi, ti)


TIES_AND_NAN = {
    "ties": [[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [-1.0, -5.0, -5.0, -1.0]],
    "nan": [[1.0, math.nan, 3.0, math.nan], [math.nan, 2.0, 2.0, 0.0], [0, 1, 2, 3]],
    "inf": [[INF, INF, 1.0, -INF], [-INF, -INF, -INF, -INF], [0.0, -0.0, 0.0, -0.0]],
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", TIES_AND_NAN)
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("op", ["max", "min", "argmax", "argmin", "amax", "amin"])
def test_ties_and_nan_like_torch(op, dim, case, dtype):
    arr = np.array(TIES_AND_NAN[case], dtype)
    g, t = G.tensor(arr), torch.tensor(arr)
    got, want = getattr(G, op)(g, dim), getattr(torch, op)(t, dim)
    if op in ("max", "min"):
        check(got.values, want.values, zero_sign=True)
        check(got.indices, want.indices)
    else:
        check(got, want)
    # over all elements too
    check(getattr(G, op)(g), getattr(torch, op)(t), zero_sign=True)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize("op", ["max", "min", "argmax", "argmin"])
def test_integer_ties_like_torch(op, dtype):
    arr = np.array([[1, 3, 3, 0], [2, 2, 2, 2], [0, 1, 0, 1]]).astype(dtype)
    for dim in (0, 1):
        out = run(
            lambda lib, x, dim=dim: getattr(lib, op)(x, dim),
            (G.tensor(arr),),
            (torch.tensor(arr),),
        )
        if out is not None and op in ("max", "min"):
            check(out[0].values, out[1].values)
            check(out[0].indices, out[1].indices)
        elif out is not None:
            check(*out)


EMPTY_SHAPES = [(0,), (2, 0), (0, 3)]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, -1])
@pytest.mark.parametrize("shape", EMPTY_SHAPES, ids=str)
@pytest.mark.parametrize("op", REDUCTIONS + ["max", "min"])
def test_empty_inputs_like_torch(op, shape, dim, keepdim):
    if op in ("max", "min", "prod") and dim is None and keepdim:
        return
    if op in ("max", "min") and dim is None:
        out = run(
            lambda lib, x: getattr(lib, op)(x),
            (G.zeros(shape),),
            (torch.zeros(shape),),
            message=True,
        )
    else:
        out = run(
            call(op, dim, keepdim),
            (G.zeros(shape),),
            (torch.zeros(shape),),
            message=True,
        )
    if out is None:
        return
    if op in ("max", "min") and dim is not None:
        check(out[0].values, out[1].values)
        check(out[0].indices, out[1].indices)
    else:
        # sum 0, prod 1, mean/std/var NaN, any False, all True
        check(*out)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("correction", [0, 1, 2, None])
@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1)], ids=str)
@pytest.mark.parametrize("op", ["std", "var"])
def test_std_var_correction(op, dim, correction, dtype):
    g, t, arr = sample((4, 5), dtype, "sliced")
    kw = {} if correction is None else {"correction": correction}
    out = run(lambda lib, x: getattr(lib, op)(x, dim, **kw), (g,), (t,))
    ddof = 1 if correction is None else correction
    check_reduce(*out, reduce_ref(op, arr, dtype, dim, correction=ddof))


@pytest.mark.parametrize("unbiased", [True, False])
@pytest.mark.parametrize("op", ["std", "var"])
def test_std_var_unbiased_spellings(op, unbiased):
    g, t, arr = sample((3, 4), "float64")
    ddof = int(unbiased)
    forms = [
        lambda lib, x: getattr(lib, op)(x, unbiased),
        lambda lib, x: getattr(lib, op)(x, unbiased=unbiased),
        lambda lib, x: getattr(lib, op)(x, 1, unbiased),
        lambda lib, x: getattr(x, op)(dim=1, unbiased=unbiased, keepdim=True),
    ]
    for i, f in enumerate(forms):
        out = run(f, (g,), (t,))
        dim = None if i < 2 else 1
        check_reduce(*out, reduce_ref(op, arr, "float64", dim, i == 3, correction=ddof))


@pytest.mark.parametrize("op", ["std", "var"])
def test_std_var_single_element_is_nan(op):
    with pytest.warns(UserWarning):
        want = getattr(torch, op)(torch.ones(1))
    check(getattr(G, op)(G.ones(1)), want)
    check(
        getattr(G, op)(G.ones(1), correction=0),
        getattr(torch, op)(torch.ones(1), correction=0),
    )


NORM_P = [2, 1, INF, -INF, 0, 3, "fro", 0.5, 2.5]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 1, -2, (0, 1)], ids=str)
@pytest.mark.parametrize("p", NORM_P, ids=str)
@pytest.mark.parametrize("dtype", FLOATS)
def test_norm(p, dim, keepdim, dtype):
    g, t, arr = sample((3, 4), dtype, "transposed", discrete=True)
    f = (
        (lambda lib, x: lib.norm(x, p, dim, keepdim))
        if dim is not None
        else (lambda lib, x: x.norm(p))
    )
    out = run(f, (g,), (t,), message=True)
    if out is not None:
        ref = vector_norm(arr.astype(np.float64), p, dim, keepdim and dim is not None)
        check_reduce(*out, ref)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_norm_of_integers_raises_like_torch(dtype):
    g, t, _ = sample((3,), dtype)
    raises_like_torch(lambda lib, x: lib.norm(x), (g,), (t,))


@pytest.mark.parametrize("out_dtype", ["float64", "float32", "int64"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", ["sum", "mean", "prod"])
def test_dtype_argument(op, dtype, out_dtype):
    g, t, arr = sample((3, 4), dtype, low=-2, high=2)

    def f(lib, x):
        return getattr(lib, op)(x, dtype=getattr(lib, out_dtype))

    out = run(f, (g,), (t,), message=True)
    if out is not None:
        check_reduce(*out, reduce_ref(op, arr.astype(out_dtype), out_dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_long_float_sums_stay_accurate(op, dtype):
    # 0.1 a million times: plain float32 accumulation drifts by about 1%
    arr = np.full(1_000_003, 0.1, dtype)
    got = getattr(G, op)(G.tensor(arr))
    ref = getattr(np, op)(arr.astype(np.float64))
    check(
        got,
        getattr(torch, op)(torch.tensor(arr)),
        ref,
        rtol=1e-5 if dtype == "float32" else 1e-12,
    )
    cols = getattr(G, op)(G.tensor(arr[:1_000_000].reshape(1000, 1000)), 0)
    np.testing.assert_allclose(cols.numpy(), ref if op == "mean" else 100.0, rtol=1e-5)


ERRORS = {
    "sum_dim_range": lambda lib: lib.zeros(2, 3).sum(2),
    "sum_dim_range_neg": lambda lib: lib.zeros(2, 3).sum(-3),
    "sum_repeated_dim": lambda lib: lib.zeros(2, 3).sum((0, 0)),
    "sum_repeated_dim_neg": lambda lib: lib.zeros(2, 3).sum((1, -1)),
    "mean_int": lambda lib: lib.zeros(2, dtype=lib.int64).mean(),
    "mean_bool": lambda lib: lib.zeros(2, dtype=lib.bool).mean(0),
    "std_int": lambda lib: lib.zeros(2, dtype=lib.int32).std(),
    "var_int": lambda lib: lib.zeros(2, dtype=lib.int64).var(0),
    "max_dim_range": lambda lib: lib.zeros(2, 3).max(2),
    "argmax_dim_range": lambda lib: lib.zeros(2, 3).argmax(-3),
    "amax_dim_range": lambda lib: lib.zeros(2, 3).amax(5),
    "max_empty": lambda lib: lib.zeros(0).max(),
    "min_empty_dim": lambda lib: lib.zeros(2, 0).min(1),
    "argmin_empty": lambda lib: lib.zeros(0, 2).argmin(),
    "amax_empty": lambda lib: lib.zeros(0).amax(),
}


@pytest.mark.parametrize("case", ERRORS)
def test_reduce_errors_like_torch(case):
    raises_like_torch(lambda lib: ERRORS[case](lib), (), ())


def test_reductions_on_zero_dim_tensors():
    for op in REDUCTIONS:
        out = run(
            lambda lib, x, op=op: getattr(lib, op)(x),
            (G.tensor(2.5),),
            (torch.tensor(2.5),),
        )
        if out is not None:
            check(*out)
    for op in ("max", "min"):
        out = run(
            lambda lib, x, op=op: getattr(lib, op)(x, 0),
            (G.tensor(2.5),),
            (torch.tensor(2.5),),
        )
        check(out[0].values, out[1].values)
        check(out[0].indices, out[1].indices)


@pytest.mark.parametrize("name", ["sum", "mean", "argmax", "argmin", "max", "min"])
def test_axis_is_accepted_for_dim_as_in_torch(name):
    # d2l's accuracy() writes y_hat.argmax(axis=1).
    arr = np.arange(12.0).reshape(3, 4) % 5

    def values(result):
        return (result.values if name in ("max", "min") else result).numpy()

    for axis in (0, 1):
        want = values(getattr(torch, name)(torch.tensor(arr), axis=axis))
        np.testing.assert_array_equal(
            values(getattr(G, name)(G.tensor(arr), axis=axis)), want
        )
        np.testing.assert_array_equal(
            values(getattr(G.tensor(arr), name)(axis=axis)), want
        )
    with pytest.raises(TypeError) as theirs:
        getattr(torch.tensor(arr), name)(dim=1, axis=1)
    with pytest.raises(TypeError) as ours:
        getattr(G.tensor(arr), name)(dim=1, axis=1)
    assert str(ours.value) == str(theirs.value)
