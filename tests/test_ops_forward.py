"""The op tests' shared helpers, plus joining (cat, stack, meshgrid).

Every op runs on the same inputs in gdlite and in torch, and for values also in
NumPy at float64. Torch decides result dtypes, promotion, integer edge cases
and errors; the float64 NumPy result is the reference for values. The op
tables live in test_ops_elementwise.py (unary, clamp, where), test_ops_binary.py,
test_ops_inplace.py, test_ops_reduce.py and test_ops_linalg.py, which import
the helpers from here.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import gdlite as G

DTYPES = ("float32", "float64", "int64", "int32", "uint8", "bool")
FLOATS = ("float32", "float64")
# A float32 result against a float64 reference: about ten ulp; float64 tighter.
RTOL = {"float32": 1.3e-6, "float64": 1e-14}
ATOL = {"float32": 1e-7, "float64": 1e-15}
LAYOUTS = ("contiguous", "transposed", "sliced", "expanded", "broadcast0d")
SHAPES = [(), (0,), (2, 0), (1,), (1, 1), (5,), (3, 4), (2, 3, 4)]


def name(dtype: Any) -> str:
    """'float32' for gdlite.float32, torch.float32 and np.float32 alike."""
    return str(getattr(dtype, "dtype", dtype)).split(".")[-1]


def rng(*key: Any) -> np.random.Generator:
    # Seeded by the test's own parameters: every run draws the same inputs.
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def values(
    shape: tuple[int, ...],
    dtype: str,
    key: Any = (),
    low: float = -4,
    high: float = 4,
    nonzero: bool = False,
    discrete: bool = False,
) -> np.ndarray:
    """Random values of ``dtype``; ``discrete`` floats are multiples of 0.5,
    so comparisons meet ties and rounding meets halves."""
    r = rng(shape, dtype, key, low, high, nonzero, discrete)
    return np.asarray(_draw(r, shape, dtype, low, high, nonzero, discrete))


def _draw(r, shape, dtype, low, high, nonzero, discrete):
    if dtype == "bool":
        return np.ones(shape, bool) if nonzero else r.random(shape) < 0.5
    if dtype in FLOATS and not discrete:
        out = r.uniform(low, high, shape)
        if nonzero:
            out[np.abs(out) < 0.25] = 0.5
        return out.astype(dtype)
    if dtype == "uint8":  # unsigned: the non-negative part of the range
        low, high = max(low, 0), max(high, 1)
    scale = 2 if dtype in FLOATS else 1
    out = r.integers(int(low * scale), int(high * scale) + 1, shape)
    if nonzero:
        out[out == 0] = 1
    return (out / scale).astype(dtype) if scale == 2 else out.astype(dtype)


def place(arr: np.ndarray, layout: str = "contiguous") -> tuple[Any, torch.Tensor]:
    """(gdlite, torch) tensors holding ``arr`` in the given memory layout."""
    if layout == "transposed" and arr.ndim >= 2:
        rev = tuple(range(arr.ndim))[::-1]
        base = np.ascontiguousarray(arr.transpose(rev))
        return (
            G.from_numpy(base.copy()).permute(rev),
            torch.from_numpy(base.copy()).permute(rev),
        )
    if layout == "sliced" and arr.ndim:
        # Every other element of a larger buffer, from an offset: steps > 1.
        base = np.full([2 * s + 1 for s in arr.shape], 7, arr.dtype)
        idx = tuple(slice(1, None, 2) for _ in arr.shape)
        base[idx] = arr
        return G.from_numpy(base.copy())[idx], torch.from_numpy(base.copy())[idx]
    return G.tensor(arr), torch.tensor(arr)


def sample(
    shape: tuple[int, ...], dtype: str, layout: str = "contiguous", **kw: Any
) -> tuple[Any, torch.Tensor, np.ndarray]:
    """(gdlite, torch, ndarray) with equal values; the tensors have ``layout``."""
    shape = tuple(shape)
    if layout == "expanded" and shape:
        src = values((1,) + shape[1:], dtype, **kw)
    elif layout == "broadcast0d":
        src = values((), dtype, **kw)
    else:
        arr = values(shape, dtype, **kw)
        return (*place(arr, layout), arr)
    # stride 0 along the expanded dimensions
    g = G.from_numpy(src.copy()).expand(shape)
    t = torch.from_numpy(src.copy()).expand(shape)
    return g, t, np.broadcast_to(src, shape).copy()


def base_class(exc: BaseException) -> type:
    # torch raises NotImplementedError (a RuntimeError) for unsupported dtypes.
    for cls in (IndexError, TypeError, ValueError, RuntimeError):
        if isinstance(exc, cls):
            return cls
    return type(exc)


# Some torch paths (clamp_) name the C++ type in cast errors: 'long int'.
_CXX_TYPES = {"long int": "Long", "int": "Int", "bool": "Bool", "float": "Float"}


def same_message(got: str, want: str) -> bool:
    head, sep, tail = want.partition("desired output type ")
    return got == want or bool(sep) and got == head + sep + _CXX_TYPES.get(tail, tail)


def run(
    f: Callable[..., Any], g_args: Any, t_args: Any, message: bool = False
) -> tuple[Any, Any] | None:
    """``f(lib, *args)`` in torch and in gdlite. When torch raises, gdlite must
    raise the same kind of error (and the same message if asked) and None is
    returned; otherwise (gdlite's result, torch's result)."""
    try:
        want = f(torch, *t_args)
    except Exception as t_exc:
        try:
            got = f(G, *g_args)
        except Exception as g_exc:
            assert isinstance(g_exc, base_class(t_exc)), (g_exc, t_exc)
            # Kernel-not-implemented messages name torch's internal kernels.
            if message and not isinstance(t_exc, NotImplementedError):
                assert same_message(str(g_exc), str(t_exc)), (g_exc, t_exc)
            return None
        pytest.fail(f"gdlite returned {got!r} where torch raised {t_exc!r}")
    return f(G, *g_args), want


def raises_like_torch(f: Callable[..., Any], g_args: Any, t_args: Any) -> None:
    """Torch raises for ``f``; gdlite raises the same kind with the same message."""
    with pytest.raises(Exception):  # noqa: B017 - the oracle must raise here
        f(torch, *t_args)
    assert run(f, g_args, t_args, message=True) is None


def check(
    got: Any,
    want: torch.Tensor,
    ref: Any = None,
    rtol: float | None = None,
    atol: float | None = None,
    ulp: int | None = None,
    zero_sign: bool = False,
) -> None:
    """``got`` has torch's dtype and shape, NaN where torch has NaN, and values
    equal to ``ref`` (NumPy, float64 for float results) within the dtype's
    tolerance; integers and bools exactly. Without ``ref`` the values are
    compared with torch's, exactly or within ``ulp``."""
    assert isinstance(got, G.Tensor), type(got)
    assert name(got.dtype) == name(want.dtype)
    assert tuple(got.shape) == tuple(want.shape)
    g, w = got.numpy(), want.numpy()
    if g.dtype.kind != "f":
        np.testing.assert_array_equal(g, w)
        if ref is not None:
            np.testing.assert_array_equal(g, np.asarray(ref).astype(g.dtype))
        return
    np.testing.assert_array_equal(np.isnan(g), np.isnan(w), err_msg="NaN positions")
    dt = name(g.dtype)
    if ref is not None:
        np.testing.assert_allclose(
            g.astype(np.float64),
            np.asarray(ref, np.float64),
            rtol=RTOL[dt] if rtol is None else rtol,
            atol=ATOL[dt] if atol is None else atol,
            equal_nan=True,
        )
    elif ulp:
        finite = np.isfinite(w)
        np.testing.assert_array_equal(g[~finite], w[~finite])
        np.testing.assert_array_max_ulp(g[finite], w[finite], maxulp=ulp)
    else:
        np.testing.assert_array_equal(g, w)
    if zero_sign:
        zeros = w == 0
        np.testing.assert_array_equal(
            np.signbit(g[zeros]), np.signbit(w[zeros]), err_msg="sign of zero"
        )


# ---- layouts really are what they claim ---------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layouts_match_torch_strides(layout):
    g, t, arr = sample((3, 4), "float32", layout)
    assert g.stride() == t.stride()
    np.testing.assert_array_equal(g.numpy(), arr)
    np.testing.assert_array_equal(t.numpy(), arr)
    assert g.is_contiguous() == (layout == "contiguous")


# ---- cat, stack, meshgrid -----------------------------------------------------

CAT_CASES = {
    "rows": ([(2, 3), (4, 3)], 0),
    "cols": ([(2, 3), (2, 1), (2, 0)], 1),
    "negative_dim": ([(2, 3), (2, 2)], -1),
    "three_d": ([(2, 1, 3), (2, 4, 3)], -2),
    "one_d": ([(3,), (0,), (2,)], 0),
    "legacy_empty_1d_skipped": ([(2, 3), (0,), (1, 3)], 0),
    "only_empty": ([(0,), (0,)], 0),
    "single": ([(2, 2)], 1),
}


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "sliced"])
@pytest.mark.parametrize("case", CAT_CASES)
def test_cat(case, layout):
    shapes, dim = CAT_CASES[case]
    parts = [sample(s, "float32", layout, key=i) for i, s in enumerate(shapes)]
    got = G.cat([p[0] for p in parts], dim)
    want = torch.cat([p[1] for p in parts], dim)
    ref = np.concatenate([p[2] for p in parts if p[2].shape != (0,)] or [[]], dim)
    check(got, want, ref.reshape(want.shape))
    check(G.concat(tuple(p[0] for p in parts), dim=dim), want)


@pytest.mark.parametrize("d2", DTYPES)
@pytest.mark.parametrize("d1", DTYPES)
def test_cat_and_stack_promote(d1, d2):
    g1, t1, _ = sample((2, 3), d1, key=1)
    g2, t2, _ = sample((2, 3), d2, key=2)
    check(G.cat([g1, g2], 1), torch.cat([t1, t2], 1))
    out = run(lambda lib, a, b: lib.stack([a, b], 1), (g1, g2), (t1, t2))
    if out is not None:
        check(*out)


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2, -3])
@pytest.mark.parametrize("dtype", ["float64", "int32", "bool"])
def test_stack(dim, dtype):
    parts = [sample((2, 3), dtype, "sliced", key=i) for i in range(3)]
    got = G.stack([p[0] for p in parts], dim=dim)
    want = torch.stack([p[1] for p in parts], dim=dim)
    check(got, want, np.stack([p[2] for p in parts], dim))


JOIN_ERRORS = {
    "cat_sizes": lambda lib: lib.cat([lib.zeros(2, 3), lib.zeros(3, 3)], 1),
    "cat_ndim": lambda lib: lib.cat([lib.zeros(2, 3), lib.zeros(2, 3, 1)]),
    "cat_empty_list": lambda lib: lib.cat([]),
    "cat_zero_dim": lambda lib: lib.cat([lib.tensor(1.0), lib.tensor(2.0)]),
    "cat_dim_range": lambda lib: lib.cat([lib.zeros(2, 3)], 2),
    "cat_dim_range_neg": lambda lib: lib.cat([lib.zeros(2, 3)], -3),
    "stack_sizes": lambda lib: lib.stack([lib.zeros(2, 3), lib.zeros(3, 3)]),
    "stack_empty_list": lambda lib: lib.stack([]),
    "stack_dim_range": lambda lib: lib.stack([lib.zeros(2, 3)], 3),
    "stack_dim_range_neg": lambda lib: lib.stack([lib.zeros(2, 3)], -4),
    "meshgrid_dtypes": lambda lib: lib.meshgrid(
        lib.zeros(2), lib.zeros(3, dtype=lib.int64), indexing="ij"
    ),
    "meshgrid_indexing": lambda lib: lib.meshgrid(lib.zeros(2), indexing="ji"),
}


@pytest.mark.parametrize("case", JOIN_ERRORS)
def test_join_errors(case):
    raises_like_torch(lambda lib: JOIN_ERRORS[case](lib), (), ())


def test_meshgrid_rejects_2d_input():
    # torch prints the offending tensor in its C++ format; gdlite in its repr,
    # so only the message up to the tensor is compared.
    prefix = "torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got:"
    for lib in (torch, G):
        with pytest.raises(RuntimeError) as exc:
            lib.meshgrid(lib.zeros(2, 2), indexing="ij")
        assert str(exc.value).startswith(prefix)


@pytest.mark.parametrize("indexing", ["ij", "xy"])
@pytest.mark.parametrize("sizes", [(3,), (2, 3), (2, 3, 4), (0, 3), (1, 4, 2)])
def test_meshgrid(sizes, indexing):
    ins = [sample((n,), "float32", "sliced", key=i) for i, n in enumerate(sizes)]
    got = G.meshgrid(*[p[0] for p in ins], indexing=indexing)
    want = torch.meshgrid(*[p[1] for p in ins], indexing=indexing)
    refs = np.meshgrid(*[p[2] for p in ins], indexing=indexing)
    assert len(got) == len(want)
    for g, w, r in zip(got, want, refs, strict=True):
        check(g, w, r)
    # one list argument, as torch also takes
    got = G.meshgrid([p[0] for p in ins], indexing=indexing)
    assert [tuple(g.shape) for g in got] == [tuple(w.shape) for w in want]


def test_meshgrid_zero_dim_inputs():
    out = run(
        lambda lib, a, b: lib.meshgrid(a, b, indexing="xy"),
        (G.tensor(1.0), G.tensor([1.0, 2.0])),
        (torch.tensor(1.0), torch.tensor([1.0, 2.0])),
    )
    assert out is not None
    for g, w in zip(*out, strict=True):
        check(g, w)
