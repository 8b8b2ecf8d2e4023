"""Elementwise math bit for bit against PyTorch's CPU results.

What PyTorch computes each function with is written at the top of
csrc/core/kernels_math.c. In short: sigmoid, tanh's and sigmoid's backward,
division, number / tensor, x ** 2 and x ** -0.5 are ATen's own arithmetic and
must match torch exactly; exp, log, tanh, sin, cos and sqrt are MKL's
routines, which gdlite calls where MKL is installed (tests/test_mkl_exact.py
checks torch's bits). Here gdlite's own kernels for them are checked: they
return the nearest representable value (NumPy in float64, rounded once).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import gdlite as G

N = 10**5
DTYPES = ["float32", "float64"]
SPECIAL = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 1e-40, 5e-324, 1.0, -1.0]


def bits(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


def assert_same_bits(got: np.ndarray, want: np.ndarray, what: str = "") -> None:
    """Equal bits, or NaN in both (PyTorch's NaN sign is MKL's choice)."""
    assert got.dtype == want.dtype and got.shape == want.shape
    same = (bits(got) == bits(want)) | (np.isnan(got) & np.isnan(want))
    bad = np.flatnonzero(~same.ravel())
    assert bad.size == 0, (
        f"{what}: {bad.size} of {same.size} differ, first at {bad[:3]}: "
        f"{got.ravel()[bad[:3]]} vs {want.ravel()[bad[:3]]}"
    )


def values(dtype: str, lo: float, hi: float, n: int = N, seed: int = 0) -> np.ndarray:
    """Uniform over [lo, hi], log-uniform magnitudes of both signs from
    denormal to hi's size, and the special values."""
    rng = np.random.default_rng(seed)
    h = n // 2
    mags = np.exp(rng.uniform(np.log(1e-42), np.log(max(abs(lo), abs(hi))), n - h))
    x = np.concatenate([rng.uniform(lo, hi, h), mags * rng.choice([-1.0, 1.0], n - h)])
    with np.errstate(over="ignore"):
        return np.concatenate([np.array(SPECIAL), x]).astype(dtype)


def both(fn, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return fn(G, G.from_numpy(x.copy())).numpy(), fn(
        torch, torch.from_numpy(x.copy())
    ).numpy()


# ---- sigmoid: ATen's loop, SLEEF's exp on whole vector steps -----------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "n", [1, 7, 15, 16, 17, 31, 32, 33, 1000, 32767, 32768, 65539, N]
)
def test_sigmoid_matches_torch(dtype, n):
    # Sizes around the vector steps (tails take the C library's exp) and
    # ATen's thread chunks (each chunk has its own tail).
    x = values(dtype, -30, 30, n, seed=n)[-n:]
    got, want = both(lambda m, t: m.sigmoid(t), x)
    assert_same_bits(got, want, f"sigmoid {dtype} n={n}")


def test_sigmoid_special_values_match_torch():
    for dtype in DTYPES:
        x = np.array(
            SPECIAL * 5 + [-88.0, -104.5, 100.5, -745.0, 710.0, -1001.0], dtype
        )
        with np.errstate(over="ignore"):
            got, want = both(lambda m, t: m.sigmoid(t), x)
        assert_same_bits(got, want, f"sigmoid specials {dtype}")


LAYOUTS = {
    "transposed": lambda t: t.transpose(0, 1),
    "column slice": lambda t: t[:, ::2],
    "row slice": lambda t: t[::2],
    "broadcast": lambda t: t[0:1].expand(5, *t.shape[1:]),
    "3-d transposed": lambda t: t.reshape(60, 50, 30).transpose(0, 2),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_sigmoid_layouts_match_torch(dtype, layout):
    x = values(dtype, -20, 20, 300 * 301, seed=3)[-300 * 301 :].reshape(300, 301)
    if layout == "3-d transposed":
        x = x.ravel()[: 60 * 50 * 30].reshape(300, 300)
    view = LAYOUTS[layout]
    got, want = both(lambda m, t: m.sigmoid(view(t)), x)
    assert_same_bits(got, np.ascontiguousarray(want), f"sigmoid {layout}")
    # In place on the view: ATen walks the view's own memory.
    g, t = G.from_numpy(x.copy()), torch.from_numpy(x.copy())
    if layout != "broadcast":
        view(g).sigmoid_()
        view(t).sigmoid_()
        assert_same_bits(g.numpy(), t.numpy(), f"sigmoid_ {layout}")


# ---- backward rules ------------------------------------------------------------


def grads(fn, x: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = []
    for m in (G, torch):
        t = m.from_numpy(x.copy()).requires_grad_()
        fn(m, t).backward(m.from_numpy(g.copy()))
        out.append(t.grad.numpy())
    return out[0], out[1]


@pytest.mark.parametrize("dtype", DTYPES)
def test_tanh_backward_matches_torch_kernel(dtype):
    # torch's own tanh_backward on gdlite's forward result is the oracle:
    # the rule must round as torch's kernel does (fused on AVX2 machines).
    rng = np.random.default_rng(1)
    x = rng.uniform(-4, 4, N).astype(dtype)
    g = rng.uniform(-2, 2, N).astype(dtype)
    t = G.from_numpy(x).requires_grad_()
    y = G.tanh(t)
    y.backward(G.from_numpy(g))
    want = torch.ops.aten.tanh_backward(
        torch.from_numpy(g), torch.from_numpy(y.detach().numpy())
    )
    assert_same_bits(t.grad.numpy(), want.numpy(), "tanh backward")


def test_tanh_backward_of_broadcast_gradient():
    # A gradient expanded from a sum's backward (stride 0) takes the same rule.
    x = np.linspace(-3, 3, 1001).astype("float32")
    out = []
    for m in (G, torch):
        t = m.from_numpy(x.copy()).requires_grad_()
        (m.tanh(t).sum() * 0.7).backward()
        out.append((t.grad.numpy(), m.tanh(t).detach().numpy()))
    same_forward = bits(out[0][1]) == bits(out[1][1])
    assert same_forward.mean() > 0.99
    assert_same_bits(
        out[0][0][same_forward], out[1][0][same_forward], "tanh sum backward"
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_backward_matches_torch(dtype):
    rng = np.random.default_rng(2)
    x = rng.uniform(-12, 12, N).astype(dtype)
    g = rng.uniform(-2, 2, N).astype(dtype)
    got, want = grads(lambda m, t: m.sigmoid(t), x, g)
    assert_same_bits(got, want, "sigmoid backward")


# ---- decompositions --------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES + ["int64", "uint8"])
@pytest.mark.parametrize("number", [3.0, -3, 0.1, True])
def test_number_over_tensor_is_reciprocal_times_number(dtype, number):
    rng = np.random.default_rng(4)
    x = rng.uniform(-50, 50, 1000) if dtype != "uint8" else rng.uniform(0, 255, 1000)
    x = x.astype(dtype)
    got, want = both(lambda m, t: number / t, x)
    assert str(got.dtype) == str(want.dtype)
    assert_same_bits(got, want, f"{number!r} / tensor")


@pytest.mark.parametrize("dtype", DTYPES)
def test_number_over_strided_tensor_and_under_no_grad(dtype):
    rng = np.random.default_rng(7)
    x = rng.uniform(-50, 50, (40, 30)).astype(dtype)
    got, want = both(lambda m, t: 0.3 / t.t()[::3], x)
    assert_same_bits(got, want, "number / strided tensor")
    for m in (G, torch):
        t = m.from_numpy(x).requires_grad_()
        with m.no_grad():
            r = 7 / t
        assert r.grad_fn is None and not r.requires_grad
    got, want = both(lambda m, t: 7 / t, x)
    assert_same_bits(got, want, "int number / tensor")


def test_number_over_tensor_node_and_gradient():
    out = []
    for m in (G, torch):
        t = m.tensor(7.0, requires_grad=True)
        r = 3.0 / t
        r.backward()
        out.append((r.item(), r.grad_fn.name(), t.grad.item()))
    assert out[0] == out[1]
    assert out[1][0] == 0.4285714626312256  # the example, as torch prints it
    rng = np.random.default_rng(5)
    for dtype in DTYPES:
        x = rng.uniform(0.1, 9, N).astype(dtype)
        g = rng.uniform(-2, 2, N).astype(dtype)
        got, want = grads(lambda m, t: 2.5 / t, x, g)
        assert_same_bits(got, want, "number / tensor backward")


def test_zero_dim_square_matches_torch():
    # x * x rounds ties to even; a general pow of x and 2 need not. (x ** 0.5
    # is torch.sqrt, MKL's: see the float32 functions below.)
    rng = np.random.default_rng(6)
    xs = list(rng.uniform(-1, 1, 300).astype("float32")) + [-0.000993967056274414]
    for x in xs:
        for e in (2, 3, -1, -2, -0.5):
            g, t = G.tensor(float(x)) ** e, torch.tensor(float(x)) ** e
            assert_same_bits(np.array(g.item()), np.array(t.item()), f"{x} ** {e}")


@pytest.mark.parametrize("e", [1.7, 0.3, -1.3, 4, 2.5, 0.1])
def test_zero_dim_power_of_a_number_matches_torch(e):
    # torch computes a lone element (and each run's tail) as the double pow
    # of the value and the unrounded number, and so does the gradient's
    # self.pow(e - 1).
    rng = np.random.default_rng(12)
    for x in rng.uniform(0.01, 3, 100).astype("float32"):
        out = []
        for m in (G, torch):
            t = m.tensor(float(x), requires_grad=True)
            y = t**e
            y.backward()
            out.append((y.item(), t.grad.item()))
        assert out[0] == out[1], (x, e, out)
    x = rng.uniform(0.01, 3, 1000).astype("float32")
    got, want = both(lambda m, t: t**e, x)
    assert_same_bits(got[-8:], want[-8:], f"tail of x ** {e}")


@pytest.mark.parametrize("e", [1.7, 0.3, -1.3, 2.5])
def test_float64_power_tails_and_zero_dim_are_the_c_librarys(e):
    # Off ATen's whole vector steps (a 0-d tensor, a run's last elements)
    # torch takes std::pow: the C library's pow, as gdlite does there.
    rng = np.random.default_rng(13)
    for x in rng.uniform(0.01, 3, 200):
        g, t = (
            G.tensor(x, dtype=G.float64) ** e,
            torch.tensor(x, dtype=torch.float64) ** e,
        )
        assert g.item() == t.item() == c_library("pow", x, e), (x, e)
    x = rng.uniform(0.01, 3, 1005)  # 5 past whole steps of 8 or 16
    got, want = both(lambda m, t: t**e, x)
    assert_same_bits(got[-5:], want[-5:], f"tail of x ** {e}")
    y = G.from_numpy(np.full(1005, e))
    tail = (G.from_numpy(x) ** y).numpy()[-5:]
    assert_same_bits(tail, np.array([c_library("pow", v, e) for v in x[-5:]]), "tail")


@pytest.mark.skipif(
    torch.backends.cpu.get_cpu_capability() == "DEFAULT",
    reason="ATen's vector steps (SLEEF's powf) need AVX2",
)
@pytest.mark.parametrize("e", [1.7, 0.3, -1.5, 2.5, 37.3])
def test_float32_power_of_a_number_is_the_nearest_float(e):
    # On ATen's vector steps torch takes SLEEF's powf(x, float(e)), within an
    # ulp; gdlite the nearest float to x ** float(e) (NumPy in float64,
    # rounded once: exact enough here), and the C library's powf where x is
    # zero, negative or not finite. 2^15 elements: whole vector steps.
    rng = np.random.default_rng(21)
    x = rng.uniform(0, 4, 2**15).astype("float32")
    x[:6] = [0.0, -1.0, np.inf, np.nan, 1e-45, -0.0]
    got = (G.from_numpy(x) ** e).numpy()
    ef = np.float64(np.float32(e))
    with np.errstate(all="ignore"):
        nearest = np.power(x.astype(np.float64), ef).astype(np.float32)
        c_lib = np.array([np.power(v, np.float32(e)) for v in x[:6]])
    assert_same_bits(got[6:], nearest[6:], f"x ** {e}")
    assert_same_bits(got[:6], c_lib, f"special x ** {e}")
    want = (torch.from_numpy(x) ** e).numpy()
    agree = np.mean((bits(got) == bits(want)) | (np.isnan(got) & np.isnan(want)))
    assert agree >= 0.97, agree


def test_float32_tensor_power_is_the_nearest_float():
    # tensor ** tensor: contiguous runs as x ** number, strided ones the C
    # library's powf; torch: SLEEF's powf on vector steps, powf on the rest.
    rng = np.random.default_rng(22)
    x = rng.uniform(0, 4, 2**15).astype("float32")
    y = rng.uniform(-6, 6, 2**15).astype("float32")
    x[:8] = [0.0, -1.0, np.inf, np.nan, 1e-45, -0.0, 2.0, 3.0]
    y[:8] = [1.5, 2.0, -1.0, 0.5, 3.0, 1.0, np.inf, np.nan]
    got = (G.from_numpy(x) ** G.from_numpy(y)).numpy()
    with np.errstate(all="ignore"):
        nearest = np.power(x.astype(np.float64), y.astype(np.float64)).astype("float32")
    assert_same_bits(got, nearest, "x ** y")
    strided = (G.from_numpy(np.repeat(x, 2))[::2] ** G.from_numpy(y)).numpy()
    powf = ctypes.CDLL(ctypes.util.find_library("m")).powf
    powf.restype, powf.argtypes = ctypes.c_float, [ctypes.c_float, ctypes.c_float]
    c_lib = np.array([powf(a, b) for a, b in zip(x, y, strict=True)], "float32")
    assert_same_bits(strided, c_lib, "strided x ** y")
    want = (torch.from_numpy(x) ** torch.from_numpy(y)).numpy()
    agree = np.mean((bits(got) == bits(want)) | (np.isnan(got) & np.isnan(want)))
    assert agree >= 0.97, agree


@pytest.mark.parametrize("exponent", [1.7, -2.5, 0.1, "tensor"])
def test_float64_power_is_nearly_always_correctly_rounded(exponent):
    # exp(y log x) with log x as a double-double: against NumPy's long double
    # power rounded once; torch's bits at least as often as the C library's.
    rng = np.random.default_rng(23)
    x = np.concatenate(
        [rng.uniform(0, 4, 50_000), np.exp(rng.uniform(-700, 700, 20_000))]
    )
    if exponent == "tensor":
        y = np.concatenate([rng.uniform(-4, 4, 50_000), rng.uniform(-3, 3, 20_000)])
        got = (G.from_numpy(x) ** G.from_numpy(y)).numpy()
        want_torch = (torch.from_numpy(x) ** torch.from_numpy(y)).numpy()
    else:
        y = np.full_like(x, exponent)
        got = (G.from_numpy(x) ** exponent).numpy()
        want_torch = (torch.from_numpy(x) ** exponent).numpy()
    with np.errstate(all="ignore"):
        want = np.power(x.astype(np.longdouble), y.astype(np.longdouble))
    want = want.astype(np.float64)
    c_lib = np.array([c_library("pow", a, b) for a, b in zip(x, y, strict=True)])
    finite = np.isfinite(want) & (want != 0)
    assert np.mean(bits(got) == bits(want)) >= 0.999
    assert np.all(np.abs(got - want)[finite] <= np.spacing(np.abs(want[finite])))
    agree = np.mean(bits(got) == bits(want_torch))
    assert agree >= np.mean(bits(c_lib) == bits(want_torch)) - 0.001, agree


@pytest.mark.parametrize("dtype", DTYPES)
def test_division_and_reciprocal_sqrt_match_torch(dtype):
    rng = np.random.default_rng(7)
    a = values(dtype, -1e3, 1e3, N, seed=8)
    b = values(dtype, -1e3, 1e3, N, seed=9)
    got = (G.from_numpy(a) / G.from_numpy(b)).numpy()
    with np.errstate(all="ignore"):
        assert_same_bits(
            got, (torch.from_numpy(a) / torch.from_numpy(b)).numpy(), "a / b"
        )
        x = np.abs(rng.uniform(0, 100, N)).astype(dtype)
        got, want = both(lambda m, t: t**-0.5, x)
    assert_same_bits(got, want, "x ** -0.5")


# ---- MKL's functions, computed by gdlite's own kernels: the nearest float ----

RANGES = {"exp": (-104, 90), "log": (0, 1e30), "tanh": (-12, 12), "sin": (-1e9, 1e9),
          "cos": (-1e9, 1e9), "sqrt": (0, 1e30)}  # fmt: skip


@pytest.mark.parametrize("name", RANGES)
def test_float32_math_is_nearest_float(name, own_kernels):
    lo, hi = RANGES[name]
    x = values("float32", lo, hi, N, seed=10)
    got = getattr(G, name)(G.from_numpy(x)).numpy()
    with np.errstate(all="ignore"):
        nearest = getattr(np, name)(x.astype(np.float64)).astype(np.float32)
    assert_same_bits(got, nearest, f"{name} float32 vs nearest")
    # Strided input takes the scalar code, which gives the same bits.
    pairs = np.stack([x, x], axis=1)
    strided = getattr(G, name)(G.from_numpy(pairs)[:, 0]).numpy()
    assert_same_bits(strided, got, f"{name} strided vs contiguous")
    # How often this agrees with torch depends on the CPU: MKL picks its
    # code path per processor (0.9994 for tanh on one, 0.998 on another).
    # With MKL loaded, tests/test_mkl_exact.py checks torch's bits.


# The functions split across threads, with the grain PyTorch splits them
# from: 2048 elements for those ATen hands to MKL, 32768 for sinh and cosh.
SPLIT = {"exp": 2048, "log": 2048, "log1p": 2048, "sin": 2048, "cos": 2048,
         "tan": 2048, "tanh": 2048, "sqrt": 2048,
         "sinh": 32768, "cosh": 32768}  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", SPLIT)
def test_large_calls_split_across_threads_give_the_same_bits(dtype, name):
    # 300,001 elements run in chunks on the worker pool; pieces below the
    # grain run on one thread: every element must come out the same, in
    # place too.
    x = values(dtype, 0.01, 3, 300_001, seed=5)
    whole = getattr(G, name)(G.from_numpy(x)).numpy()
    piece = SPLIT[name] - 1
    pieces = np.concatenate(
        [
            getattr(G, name)(G.from_numpy(x[i : i + piece])).numpy()
            for i in range(0, len(x), piece)
        ]
    )
    assert_same_bits(whole, pieces, f"{name} {dtype} whole vs pieces")
    t = G.from_numpy(x.copy())
    getattr(t, name + "_")()
    assert_same_bits(t.numpy(), whole, f"{name}_ {dtype} in place")


def c_library(name: str, *v: float) -> float:
    try:
        return getattr(math, name)(*v)
    except OverflowError:
        return math.inf
    except ValueError:  # sin and cos of an infinity, log of zero or below
        return -math.inf if v[0] == 0 else math.nan


# float64 functions gdlite computes itself (the others are the C library's),
# over ranges that reach past each one's special cases.
FLOAT64_OWN = {
    "exp": (-745.2, 709.8, [709.78, 709.7827128933841, 709.79, 710.0, -745.13,
                            -745.14, -746.0, -1e300]),
    "sin": (-2e6, 2e6, [2.0**20, -(2.0**20), 2.0**20 + 1, 1e300, np.pi, np.pi / 2,
                        1.5707963267948966, 3.141592653589793, 355.0, 1e-300]),
    "cos": (-2e6, 2e6, [2.0**20, -(2.0**20), 2.0**20 + 1, 1e300, np.pi, np.pi / 2,
                        1.5707963267948966, 3.141592653589793, 355.0, 1e-300]),
    "log": (0, 1e300, [5e-324, 2.2250738585072014e-308, 2.225073858507201e-308,
                       1.7976931348623157e308, 1.0, np.nextafter(1.0, 2), 0.5,
                       np.nextafter(1.0, 0), 1.4142135623730951, 1.4142135623730950]),
    "tanh": (-25, 25, [22.0, -22.0, 19.06, 21.99, 0.34657359027997264,
                       0.3465735902799726, 0.03125, 0.031249999999999997, 1e-300,
                       -1e-300, 1e300]),
}  # fmt: skip


@pytest.mark.parametrize("name", FLOAT64_OWN)
def test_float64_math_is_nearly_always_correctly_rounded(name, own_kernels):
    # exp by Tang's table method, sin, cos, log and tanh with their leading
    # terms in double-double arithmetic. Oracle: the function in extended
    # precision (NumPy's long double), rounded once to double. Nearly every
    # result has its bits, none is an ulp away, and torch's bits come out at
    # least as often as the C library's do.
    lo, hi, edges = FLOAT64_OWN[name]
    x = np.concatenate([values("float64", lo, hi, N, seed=12), np.array(edges)])
    got = getattr(G, name)(G.from_numpy(x)).numpy()
    with np.errstate(all="ignore"):
        want = getattr(np, name)(x.astype(np.longdouble)).astype(np.float64)
    same = (bits(got) == bits(want)) | (np.isnan(got) & np.isnan(want))
    assert np.mean(same) >= 0.999, np.mean(same)
    finite = np.isfinite(want)
    assert np.all(np.abs(got - want)[finite] <= np.spacing(np.abs(want[finite])))
    assert_same_bits(got[~finite], want[~finite], f"{name} float64 inf and NaN")
    c_lib = np.array([c_library(name, v) for v in x])
    torch_bits = bits(getattr(torch, name)(torch.from_numpy(x)).numpy())
    agree = np.mean(bits(got) == torch_bits)
    assert agree >= np.mean(bits(c_lib) == torch_bits) - 0.001, agree
    pairs = np.stack([x, x], axis=1)  # strided: the scalar code, same bits
    strided = getattr(G, name)(G.from_numpy(pairs)[:, 0]).numpy()
    assert_same_bits(strided, got, "strided")


@pytest.mark.parametrize("dtype", DTYPES)
def test_large_sigmoid_on_threads_matches_torch(dtype):
    # ATen's chunk boundaries decide which elements take the C library's exp.
    for n in (300_001, 1_000_003):
        x = values(dtype, -30, 30, n, seed=n)[-n:]
        got, want = both(lambda m, t: m.sigmoid(t), x)
        assert_same_bits(got, want, f"sigmoid {dtype} n={n}")


def test_trig_of_huge_and_tiny_arguments():
    x = [1e30, -1e30, 3.4e38, 16777216.0, 16777218.0, 1e-45, -1e-45, -0.0, 0.0]
    x = np.array(x, "float32")
    for name in ("sin", "cos"):
        got = getattr(G, name)(G.from_numpy(x)).numpy()
        nearest = getattr(np, name)(x.astype(np.float64)).astype(np.float32)
        assert_same_bits(got, nearest, name)


PORTABLE = """
import numpy as np, gdlite as G
rng = np.random.default_rng(11)
x = np.concatenate([rng.uniform(-30, 30, 70001), np.exp(rng.uniform(-90, 80, 30000)),
                    -np.exp(rng.uniform(-5, 6.7, 5000)), [0.0, -0.0, np.inf, -np.inf,
                    np.nan, 1e-45, 709.79, -745.14, -746.0, 5e-324, 1e-310]])
out = {}
for dt in ("float32", "float64"):
    v = G.from_numpy(x.astype(dt))
    with np.errstate(all="ignore"):
        for f in ("sigmoid", "exp", "log", "tanh", "sin", "cos", "sqrt"):
            out[f + dt] = getattr(G, f)(v).numpy()
    out["pow" + dt] = (v**1.7).numpy()
    out["powt" + dt] = (v ** G.from_numpy(np.sin(x).astype(dt) * 4)).numpy()
    t = v.clone().requires_grad_()
    G.tanh(t).backward(G.ones_like(v))
    out["tanh_bw" + dt] = t.grad.numpy()
    # Sums' cascades (vector registers or plain C), whole and along dims.
    finite = G.from_numpy(np.nan_to_num(x[:100000]).astype(dt)).reshape(1000, 100)
    for name, r in (("sum", finite.sum()), ("mean", finite.mean()),
                    ("sum0", finite.sum(0)), ("sum1", finite.sum(1)),
                    ("sumT", finite.t().sum(1))):
        out[name + dt] = r.numpy()
np.savez(PATH, **out)
"""


def test_portable_code_gives_the_same_bits(tmp_path):
    # GDLITE_MATH_PORTABLE caps the vector code: "avx2" runs the AVX2 code
    # on an AVX-512 CPU, "1" the scalar code. Every level gives the same bits.
    results = []
    for portable in ("0", "avx2", "1"):
        path = tmp_path / f"out{portable}.npz"
        env = dict(os.environ, GDLITE_MATH_PORTABLE=portable)
        code = PORTABLE.replace("PATH", repr(str(path)))
        run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True)
        assert run.returncode == 0, run.stderr.decode()
        results.append(np.load(path))
    for key in results[0].files:
        assert_same_bits(results[1][key], results[0][key], key)
        assert_same_bits(results[2][key], results[0][key], key)
