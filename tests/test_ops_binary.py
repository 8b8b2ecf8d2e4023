"""Binary elementwise ops: every dtype pair and operand kind, layouts,
broadcasting, special values and integer edge cases. Values against NumPy
at float64; dtypes, errors and edge semantics against torch."""

from __future__ import annotations

import math
import operator

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
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


def _fn(fname: str):
    return lambda lib, a, b: getattr(lib, fname)(a, b)


def _op(f):
    return lambda lib, a, b: f(a, b)


# name: (f(lib, a, b), NumPy reference)
BINARY = {
    "add": (_op(operator.add), np.add),
    "sub": (_op(operator.sub), np.subtract),
    "mul": (_op(operator.mul), np.multiply),
    "div": (_op(operator.truediv), np.true_divide),
    "floor_divide": (_op(operator.floordiv), np.floor_divide),
    "remainder": (_op(operator.mod), np.remainder),
    "pow": (_op(operator.pow), np.power),
    "maximum": (_fn("maximum"), np.maximum),
    "minimum": (_fn("minimum"), np.minimum),
    "eq": (_op(operator.eq), np.equal),
    "ne": (_op(operator.ne), np.not_equal),
    "lt": (_op(operator.lt), np.less),
    "le": (_op(operator.le), np.less_equal),
    "gt": (_op(operator.gt), np.greater),
    "ge": (_op(operator.ge), np.greater_equal),
    "and": (_op(operator.and_), np.bitwise_and),
    "or": (_op(operator.or_), np.bitwise_or),
    "xor": (_op(operator.xor), np.bitwise_xor),
}
DIVISIONS = {"div", "floor_divide", "remainder"}
# Comparisons and extrema draw multiples of 0.5, so ties happen.
TIES = {"maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge"}
# torch.maximum and torch.minimum take tensors only.
TENSOR_ONLY = {"maximum", "minimum"}


def operand(op: str, shape, dtype: str, side: str, layout="contiguous", key=0):
    """Sample values suited to ``op``: no zero divisors, small exponents."""
    kw = {"nonzero": op in DIVISIONS, "discrete": op in TIES}
    if op == "pow":
        kw["low"], kw["high"] = (0, 3) if side == "rhs" else (-3, 3)
    return sample(shape, dtype, layout, key=(side, key), **kw)


def scalar(op: str, kind: str, side: str):
    if op == "pow" and side == "rhs":
        return {"int": 2, "float": 0.5, "bool": True}[kind]
    if op in DIVISIONS:
        return {"int": -3, "float": 2.5, "bool": True}[kind]
    return {"int": 3, "float": -1.5, "bool": True}[kind]


def binary_ref(op: str, a, b, compute: torch.dtype, out: str) -> np.ndarray:
    """NumPy's result on the inputs converted to the promoted dtype, then
    widened to float64 (float results) or int64 (integer results)."""
    if op == "div" and isinstance(a, (bool, int, float)):
        # number / tensor is reciprocal(tensor) * number in torch: the number
        # is not converted to an integer tensor's dtype first.
        return float(a) * (1.0 / np.asarray(b).astype(np.float64))
    ct = name(compute)
    a, b = np.asarray(a).astype(ct), np.asarray(b).astype(ct)
    if out in FLOATS:
        a, b = a.astype(np.float64), b.astype(np.float64)
    elif out != "bool":
        a, b = a.astype(np.int64), b.astype(np.int64)
    with np.errstate(all="ignore"):
        return BINARY[op][1](a, b)


def check_binary(op: str, lhs: tuple, rhs: tuple, f=None) -> None:
    """lhs, rhs: (gdlite operand, torch operand, ndarray or scalar)."""
    f = f or BINARY[op][0]
    out = run(f, (lhs[0], rhs[0]), (lhs[1], rhs[1]))
    if out is None:
        return
    got, want = out
    compute = torch.result_type(lhs[1], rhs[1])
    check(got, want, binary_ref(op, lhs[2], rhs[2], compute, name(want.dtype)))


@pytest.mark.parametrize("d2", DTYPES)
@pytest.mark.parametrize("d1", DTYPES)
@pytest.mark.parametrize("op", BINARY)
def test_tensor_tensor(op, d1, d2):
    check_binary(op, operand(op, (3, 4), d1, "lhs"), operand(op, (4,), d2, "rhs"))


@pytest.mark.parametrize("side", ["rhs", "lhs"])
@pytest.mark.parametrize("kind", ["int", "float", "bool"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", sorted(set(BINARY) - TENSOR_ONLY))
def test_tensor_python_scalar(op, dtype, kind, side):
    s = scalar(op, kind, side)
    t = operand(op, (2, 3), dtype, "rhs" if side == "lhs" else "lhs")
    args = (t, (s, s, s)) if side == "rhs" else ((s, s, s), t)
    check_binary(op, *args)


@pytest.mark.parametrize("side", ["rhs", "lhs"])
@pytest.mark.parametrize("d0", DTYPES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", BINARY)
def test_tensor_zero_dim_tensor(op, dtype, d0, side):
    zero_d = operand(op, (), d0, side)
    t = operand(op, (2, 3), dtype, "rhs" if side == "lhs" else "lhs")
    check_binary(op, *((t, zero_d) if side == "rhs" else (zero_d, t)))


@pytest.mark.parametrize(
    "nd", ["float64", "float32", "int64", "int32", "uint8", "bool"]
)
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
@pytest.mark.parametrize("op", BINARY)
def test_tensor_ndarray(op, dtype, nd):
    # An ndarray operand acts as a tensor of its dtype. torch itself hands
    # ndarrays to NumPy (float32 tensor + int64 array gives float64, `<`
    # raises TypeError, `!=` gives a Python bool), so its oracle here is the
    # same op with the array passed through torch.from_numpy.
    g, t, a = operand(op, (2, 3), dtype, "lhs")
    arr = operand(op, (3,), nd, "rhs")[2]
    check_binary(op, (g, t, a), (arr, torch.from_numpy(arr), arr))
    # ndarray on the left: NumPy defers to the tensor's reflected operator
    g, t, a = operand(op, (2, 3), dtype, "rhs")
    arr = operand(op, (3,), nd, "lhs")[2]
    check_binary(op, (arr, torch.from_numpy(arr), arr), (g, t, a))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", ["float32", "int64"])
@pytest.mark.parametrize("op", BINARY)
def test_layouts(op, dtype, layout):
    b_dtype = "bool" if op in ("and", "or", "xor") and dtype == "float32" else dtype
    check_binary(
        op,
        operand(op, (3, 4), dtype, "lhs", layout),
        operand(op, (3, 4), b_dtype, "rhs", layout, key=1),
    )
    check_binary(
        op, operand(op, (3, 4), dtype, "lhs", layout), operand(op, (4,), dtype, "rhs")
    )


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "int32"])
@pytest.mark.parametrize("op", BINARY)
def test_shapes(op, dtype, shape):
    lhs = operand(op, shape, dtype, "lhs")
    check_binary(op, lhs, operand(op, shape, dtype, "rhs"))
    check_binary(op, lhs, operand(op, (1,) * len(shape), "float32", "rhs"))
    check_binary(op, operand(op, (), dtype, "lhs"), operand(op, shape, dtype, "rhs"))


# ---- broadcasting --------------------------------------------------------------

BROADCAST_OPS = ["add", "mul", "div", "lt", "eq", "maximum", "floor_divide", "and"]


@pytest.mark.parametrize("op", BROADCAST_OPS)
@settings(max_examples=40, deadline=None)
@given(
    shapes=hnp.mutually_broadcastable_shapes(
        num_shapes=2, min_dims=0, max_dims=4, min_side=0, max_side=3
    ),
    layout=st.sampled_from(["contiguous", "transposed", "sliced", "expanded"]),
)
def test_broadcast_compatible(op, shapes, layout):
    sa, sb = shapes.input_shapes
    lhs = operand(op, sa, "float32" if op != "and" else "int64", "lhs", layout)
    rhs = operand(op, sb, "int64", "rhs")
    check_binary(op, lhs, rhs)
    assert tuple(BINARY[op][0](G, lhs[0], rhs[0]).shape) == shapes.result_shape


@st.composite
def incompatible_shapes(draw):
    shape = list(draw(hnp.array_shapes(min_dims=1, max_dims=4, max_side=4)))
    d = draw(st.integers(0, len(shape) - 1))
    x = draw(st.sampled_from([0, 2, 3, 4]))
    y = draw(st.sampled_from([n for n in (0, 2, 3, 5) if n != x]))
    a, b = list(shape), list(shape)
    a[d], b[d] = x, y
    # other dimensions of b may still broadcast, and b may lose leading ones
    b = [1 if i != d and draw(st.booleans()) else n for i, n in enumerate(b)]
    b = b[draw(st.integers(0, d)) :]
    return (a, b) if draw(st.booleans()) else (b, a)


@pytest.mark.parametrize("op", BROADCAST_OPS)
@settings(max_examples=30, deadline=None)
@given(shapes=incompatible_shapes())
def test_broadcast_incompatible_raises_like_torch(shapes, op):
    dtype = "int64" if op == "and" else "float32"
    (ga, ta, _), (gb, tb, _) = (sample(s, dtype, key=i) for i, s in enumerate(shapes))
    raises_like_torch(BINARY[op][0], (ga, gb), (ta, tb))
    gc, tc, _ = sample(shapes[0], "bool")
    raises_like_torch(lambda lib, c, x: lib.where(c, x, 0.0), (gc, gb), (tc, tb))


# ---- special values ----------------------------------------------------------

SPECIAL = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, -1.0, 2.5, -3.0, 0.5]


@pytest.mark.parametrize("kind", ["tensor", "scalar"])
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op", sorted(set(BINARY) - {"and", "or", "xor"}))
def test_special_values(op, dtype, kind):
    a = np.array(SPECIAL, dtype)[:, None].repeat(len(SPECIAL), 1)
    b = a.T.copy()
    ga, ta = G.tensor(a), torch.tensor(a)
    if kind == "scalar":
        if op in TENSOR_ONLY:
            return
        for s in SPECIAL:
            out = run(BINARY[op][0], (ga, s), (ta, s))
            check(*out, ulp=2 if op == "pow" else None, zero_sign=True)
            # torch computes scalar / t as t.reciprocal() * scalar: one more
            # rounding than a correctly rounded quotient
            out = run(BINARY[op][0], (s, ga), (s, ta))
            check(*out, ulp=2 if op in ("pow", "div") else None, zero_sign=True)
        return
    out = run(BINARY[op][0], (ga, G.tensor(b)), (ta, torch.tensor(b)))
    # exact, with the sign of zero; pow's last bit may differ between libms
    check(*out, ulp=2 if op == "pow" else None, zero_sign=True)


# ---- integer edge semantics ------------------------------------------------------

INT_A = np.arange(-7, 8)
INT_B = np.array([-3, -2, -1, 1, 2, 3])


@pytest.mark.parametrize("kind", ["tensor", "scalar_rhs", "scalar_lhs", "zero_dim"])
@pytest.mark.parametrize("dtype", ["int64", "int32"])
@pytest.mark.parametrize("op", ["floor_divide", "remainder", "div"])
def test_int_division_signs(op, dtype, kind):
    a = INT_A[:, None].astype(dtype)
    b = INT_B[None, :].astype(dtype)
    if kind == "tensor":
        args = ((G.tensor(a), torch.tensor(a), a), (G.tensor(b), torch.tensor(b), b))
    elif kind == "zero_dim":
        z = np.array(-3, dtype)
        args = ((G.tensor(a), torch.tensor(a), a), (G.tensor(z), torch.tensor(z), z))
    else:
        for s in (-3, -2, -1, 1, 2, 3):
            pair = [(G.tensor(b), torch.tensor(b), b), (s, s, s)]
            check_binary(op, *(pair if kind == "scalar_rhs" else pair[::-1]))
        return
    check_binary(op, *args)
    # Python's own // and % agree with torch for ints
    py = np.frompyfunc(
        operator.floordiv if op == "floor_divide" else operator.mod, 2, 1
    )
    if op != "div":
        ga, gb = args[0][0], args[1][0]
        np.testing.assert_array_equal(
            BINARY[op][0](G, ga, gb).numpy(), py(a, args[1][2])
        )


ROUNDING = {
    "floor": lambda lib, a, b: lib.div(a, b, rounding_mode="floor"),
    "trunc": lambda lib, a, b: lib.div(a, b, rounding_mode="trunc"),
    "method_trunc": lambda lib, a, b: a.div(b, rounding_mode="trunc"),
    "divide_floor": lambda lib, a, b: lib.divide(a, b, rounding_mode="floor"),
}


@pytest.mark.parametrize("rounding", ROUNDING)
@pytest.mark.parametrize("dtype", ["int64", "int32", "float32", "float64"])
def test_div_rounding_modes(rounding, dtype):
    a = np.array([-7, -6, -5, -1, 0, 1, 5, 6, 7, 123456789, -987654321], dtype)
    for b in (np.array(3, dtype), np.array([-2], dtype), 7, -3.5):
        gb, tb = (b, b) if np.isscalar(b) else (G.tensor(b), torch.tensor(b))
        out = run(ROUNDING[rounding], (G.tensor(a), gb), (torch.tensor(a), tb))
        if out is None:
            continue
        check(*out, zero_sign=True)


def test_div_rounding_mode_invalid_raises_like_torch():
    raises_like_torch(
        lambda lib: lib.div(lib.ones(2), 2, rounding_mode="round"), (), ()
    )


ZERO_DIVISION = {
    "//": lambda lib, a, z: a // z,
    "%": lambda lib, a, z: a % z,
    "floor_divide": lambda lib, a, z: lib.floor_divide(a, z),
    "remainder": lambda lib, a, z: lib.remainder(a, z),
    "div_floor": lambda lib, a, z: lib.div(a, z, rounding_mode="floor"),
    "div_trunc": lambda lib, a, z: lib.div(a, z, rounding_mode="trunc"),
    "//=": lambda lib, a, z: operator.ifloordiv(a, z),
    "%=": lambda lib, a, z: operator.imod(a, z),
    "scalar //": lambda lib, a, z: 7 // (a * 0),
}


@pytest.mark.parametrize("zero", ["int", "tensor", "zero_dim"])
@pytest.mark.parametrize("dtype", ["int64", "int32"])
@pytest.mark.parametrize("op", ZERO_DIVISION)
def test_int_division_by_zero_raises_like_torch(op, dtype, zero):
    a = np.array([5, -3, 0, 1], dtype)
    z = {"int": 0, "tensor": np.array([1, 0, 2, 3], dtype), "zero_dim": np.array(0)}
    z = z[zero]
    gz, tz = (z, z) if zero == "int" else (G.tensor(z), torch.tensor(z))
    raises_like_torch(ZERO_DIVISION[op], (G.tensor(a), gz), (torch.tensor(a), tz))


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_int_true_division_by_zero_gives_inf_and_nan(dtype):
    a = np.array([5, -3, 0, 1], dtype)
    z = np.zeros(4, dtype)
    check(G.tensor(a) / G.tensor(z), torch.tensor(a) / torch.tensor(z), zero_sign=True)
    check(G.tensor(a) / 0, torch.tensor(a) / 0, zero_sign=True)


NEGATIVE_POWERS = {
    "**": lambda lib, a, e: a**e,
    "pow": lambda lib, a, e: lib.pow(a, e),
    "method": lambda lib, a, e: a.pow(e),
    "pow_": lambda lib, a, e: a.pow_(e),
    "**=": lambda lib, a, e: operator.ipow(a, e),
}


@pytest.mark.parametrize("shape", [(3,), ()], ids=str)
@pytest.mark.parametrize("exponent", [-1, -2])
@pytest.mark.parametrize("dtype", ["int64", "int32"])
@pytest.mark.parametrize("spelling", NEGATIVE_POWERS)
def test_int_pow_negative_scalar_raises_like_torch(spelling, dtype, exponent, shape):
    a = np.full(shape, 2, dtype)
    f = NEGATIVE_POWERS[spelling]
    raises_like_torch(f, (G.tensor(a), exponent), (torch.tensor(a), exponent))


@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_int_pow_negative_tensor_exponents(dtype):
    # torch's integer pow: 1 and -1 survive negative exponents, the rest is 0
    base = np.array([-3, -2, -1, 0, 1, 2, 3], dtype)[:, None]
    exp = np.array([-3, -2, -1, 0, 1, 2], dtype)[None, :]
    nonzero = base != 0
    b = base.repeat(6, 1)[nonzero.repeat(6, 1)].reshape(-1, 6)
    check(G.tensor(b) ** G.tensor(exp), torch.tensor(b) ** torch.tensor(exp))
    for s in (2, -1, 1):
        check(s ** G.tensor(exp), s ** torch.tensor(exp))


def test_int_pow_large_results_wrap_like_torch():
    a = np.array([3, -3, 7], "int64")
    check(G.tensor(a) ** 40, torch.tensor(a) ** 40)
    a32 = a.astype("int32")
    check(G.tensor(a32) ** 21, torch.tensor(a32) ** 21)


# ---- named functions and methods ------------------------------------------------

SPELLINGS = {
    "add": lambda lib, a, b: lib.add(a, b),
    "add_alpha": lambda lib, a, b: lib.add(a, b, alpha=2),
    "sub_alpha": lambda lib, a, b: lib.sub(a, b, alpha=3),
    "subtract": lambda lib, a, b: lib.subtract(a, b),
    "mul": lambda lib, a, b: lib.mul(a, b),
    "multiply": lambda lib, a, b: a.multiply(b),
    "div": lambda lib, a, b: lib.div(a, b),
    "divide": lambda lib, a, b: lib.divide(a, b),
    "true_divide": lambda lib, a, b: a.true_divide(b),
    "floor_divide": lambda lib, a, b: lib.floor_divide(a, b),
    "remainder": lambda lib, a, b: a.remainder(b),
    "pow": lambda lib, a, b: lib.pow(a, abs(b) if b.dtype != lib.bool else b),
    "eq": lambda lib, a, b: lib.eq(a, b),
    "ge": lambda lib, a, b: a.ge(b),
    "greater": lambda lib, a, b: a.greater(b),
    "less": lambda lib, a, b: a.less(b),
    "logical_and": lambda lib, a, b: lib.logical_and(a, b),
    "logical_or": lambda lib, a, b: a.logical_or(b),
    "logical_xor": lambda lib, a, b: lib.logical_xor(a, b),
    "max_binary": lambda lib, a, b: lib.max(a, b),
    "min_binary": lambda lib, a, b: a.min(b),
}
PAIRS = [
    ("float32", "float32"),
    ("int64", "int64"),
    ("int32", "float64"),
    ("bool", "bool"),
    ("int64", "bool"),
    ("float32", "int32"),
]


@pytest.mark.parametrize("pair", PAIRS, ids="-".join)
@pytest.mark.parametrize("spelling", SPELLINGS)
def test_named_spellings(spelling, pair):
    ga, ta, _ = sample((2, 3), pair[0], "transposed", nonzero=True, discrete=True)
    gb, tb, _ = sample((3,), pair[1], key=1, nonzero=True, discrete=True)
    out = run(SPELLINGS[spelling], (ga, gb), (ta, tb))
    if out is not None:
        check(*out, ulp=1)
