"""In-place ops: augmented assignment, ``name_`` methods, writes through
views, and torch's errors for results that can't be cast back.
Helpers: test_ops_forward."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from test_ops_forward import DTYPES, check, name, raises_like_torch, run, sample, values

import gdlite as G

AUGMENTED = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
}
OUT_OF_PLACE = {
    "+=": operator.add,
    "-=": operator.sub,
    "*=": operator.mul,
    "/=": operator.truediv,
    "//=": operator.floordiv,
    "%=": operator.mod,
}


def _check_inplace(
    f: Callable[..., Any], g_self: Any, t_self: Any, g_args: Any, t_args: Any, ulp=2
) -> bool:
    """Runs an in-place ``f`` in both libraries; True when it succeeded.
    Floats within 2 ulp of torch's: torch fuses ``alpha`` into an FMA."""
    dtype = name(g_self.dtype)
    out = run(f, (g_self, *g_args), (t_self, *t_args), message=True)
    if out is None:
        return False
    # The result is self itself, in its own dtype, holding torch's values.
    assert out[0] is g_self
    assert name(g_self.dtype) == dtype
    check(g_self, t_self, ulp=ulp, zero_sign=True)
    return True


@pytest.mark.parametrize("op", AUGMENTED)
@pytest.mark.parametrize("other", DTYPES + ("py_int", "py_float", "py_bool"))
@pytest.mark.parametrize("dtype", DTYPES)
def test_augmented_assignment(op, dtype, other):
    g, t, arr = sample((3, 4), dtype, key="self")
    if other in DTYPES:
        go, to, _ = sample((4,), other, key="other", nonzero=True)
    else:
        go = to = {"py_int": 3, "py_float": 2.5, "py_bool": True}[other]
    # The out-of-place op, cast back to self's dtype, is what += must store.
    expected = run(lambda lib, a, b: OUT_OF_PLACE[op](a, b), (g, go), (t, to))
    ptr = g.data_ptr()
    done = _check_inplace(lambda lib, a, b: AUGMENTED[op](a, b), g, t, (go,), (to,))
    assert g.data_ptr() == ptr
    if done and expected is not None:
        np.testing.assert_array_equal(g.numpy(), expected[0].to(g.dtype).numpy())


METHODS = {
    "add_": lambda lib, a, b: a.add_(b),
    "add_alpha": lambda lib, a, b: a.add_(b, alpha=2),
    "sub_": lambda lib, a, b: a.sub_(b),
    "sub_alpha": lambda lib, a, b: a.sub_(b, alpha=3),
    "mul_": lambda lib, a, b: a.mul_(b),
    "div_": lambda lib, a, b: a.div_(b),
    "div_floor": lambda lib, a, b: a.div_(b, rounding_mode="floor"),
    "div_trunc": lambda lib, a, b: a.div_(b, rounding_mode="trunc"),
    "clamp_min": lambda lib, a, b: a.clamp_(min=-1),
    "clamp_max": lambda lib, a, b: a.clamp_(max=1.5),
    "clamp_both": lambda lib, a, b: a.clamp_(-1, 2),
    "clip_": lambda lib, a, b: a.clip_(0, 1),
    "zero_": lambda lib, a, b: a.zero_(),
    "fill_": lambda lib, a, b: a.fill_(2.75),
    "fill_tensor": lambda lib, a, b: a.fill_(lib.tensor(-3)),
    "copy_": lambda lib, a, b: a.copy_(b),
}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("other", ["float32", "int64", "float64", "bool"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_inplace_methods(method, dtype, other):
    g, t, _ = sample((2, 3), dtype, key="self")
    go, to, _ = sample((3,), other, key="other", nonzero=True)
    _check_inplace(METHODS[method], g, t, (go,), (to,))


UNARY_INPLACE = (
    "neg abs exp log log1p sqrt square reciprocal sin cos tan sinh cosh tanh "
    "sigmoid relu sign floor ceil logical_not bitwise_not"
).split()


@pytest.mark.parametrize("op", UNARY_INPLACE)
@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_inplace_matches_out_of_place(op, dtype):
    g, t, _ = sample((3, 4), dtype, low=0.5, high=3)

    def f(lib, a):
        return getattr(a, op + "_")()

    expect = run(lambda lib, a: getattr(a, op)(), (g,), (t,))
    if _check_inplace(f, g, t, (), ()):
        np.testing.assert_array_equal(g.numpy(), expect[0].numpy())


VIEWS = {
    "strided_rows": lambda x: x[::2],
    "strided_both": lambda x: x[1::2, ::3],
    "transposed": lambda x: x.t(),
    "row": lambda x: x[1],
    "column": lambda x: x[:, 2],
    "narrow": lambda x: x.narrow(1, 1, 3),
}
VIEW_OPS = {
    "+=": lambda lib, v: operator.iadd(v, 10),
    "*= tensor": lambda lib, v: operator.imul(v, lib.ones(v.shape[-1:]) * 3),
    "/=": lambda lib, v: operator.itruediv(v, 4),
    "//=": lambda lib, v: operator.ifloordiv(v, 2),
    "add_": lambda lib, v: v.add_(1, alpha=5),
    "clamp_": lambda lib, v: v.clamp_(0.0, 2.0),
    "zero_": lambda lib, v: v.zero_(),
    "fill_": lambda lib, v: v.fill_(-7),
    "copy_": lambda lib, v: v.copy_(lib.arange(v.shape[-1])),
    "exp_": lambda lib, v: v.exp_(),
    "neg_": lambda lib, v: v.neg_(),
}


@pytest.mark.parametrize("op", VIEW_OPS)
@pytest.mark.parametrize("view", VIEWS)
def test_inplace_on_views_writes_through(view, op):
    arr = values((4, 6), "float64")
    gb, tb = G.from_numpy(arr.copy()), torch.from_numpy(arr.copy())
    gv, tv = VIEWS[view](gb), VIEWS[view](tb)
    VIEW_OPS[op](G, gv)
    VIEW_OPS[op](torch, tv)
    check(gv, tv, ulp=2, zero_sign=True)
    # the view's elements changed in the base, the others stayed
    check(gb, tb, ulp=2, zero_sign=True)


def test_inplace_on_from_numpy_shows_in_the_array():
    arr = np.arange(6.0).reshape(2, 3)
    g = G.from_numpy(arr)
    g[:, 1:] *= 2
    g.T.add_(1)
    np.testing.assert_array_equal(arr, [[1, 3, 5], [4, 9, 11]])


def test_inplace_into_expanded_tensor_raises_like_torch():
    def f(lib):
        return lib.zeros(1, 3).expand(2, 3).add_(1)

    raises_like_torch(f, (), ())


CAST_ERRORS = {
    "long_add_float": ("int64", "float32", lambda a, b: a.add_(b)),
    "long_div_long": ("int64", "int64", lambda a, b: a.div_(b)),
    "int_mul_py_float": ("int32", "py_float", lambda a, b: a.mul_(b)),
    "bool_iadd_long": ("bool", "int64", lambda a, b: operator.iadd(a, b)),
    "long_clamp_py_float": ("int64", "py_float", lambda a, b: a.clamp_(min=b)),
    "long_sqrt_": ("int64", None, lambda a, b: a.sqrt_()),
    "bool_sigmoid_": ("bool", None, lambda a, b: a.sigmoid_()),
}


@pytest.mark.parametrize("case", CAST_ERRORS)
def test_inplace_cast_errors(case):
    dtype, other, f = CAST_ERRORS[case]
    g, t, _ = sample((2, 3), dtype)
    if other == "py_float":
        go = to = 0.5
    else:
        go, to, _ = sample((3,), other or "int64", nonzero=True)
    raises_like_torch(lambda lib, a, b: f(a, b), (g, go), (t, to))


@pytest.mark.parametrize("src_dtype", DTYPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_copy_converts_and_broadcasts(dtype, src_dtype):
    g, t, _ = sample((2, 3), dtype)
    gs, ts, _ = sample((3,), src_dtype, low=-3, high=3, key="src")
    g.copy_(gs)
    t.copy_(ts)
    check(g, t)


def test_copy_accepts_arrays_and_lists():
    g = G.zeros(2, 3)
    g.copy_(np.array([1.5, 2.5, 3.5]))
    g[0].copy_([7, 8, 9])
    np.testing.assert_array_equal(g.numpy(), [[7, 8, 9], [1.5, 2.5, 3.5]])
