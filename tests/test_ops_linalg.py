"""matmul, mm, mv, dot, bmm: every shape combination against NumPy's float64
matmul, the naive kernel against the BLAS path around the small-size cutoff,
and shape and dtype errors against torch's messages. Helpers: test_ops_forward."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_ops_forward import check, name, raises_like_torch, run, sample

import gdlite as G

EPS = {"float32": 2.0**-24, "float64": 2.0**-53}


def matmul_ref(a: np.ndarray, b: np.ndarray, dtype: str):
    """NumPy's product in float64 (int64 for integers), and an error bound
    for a float product: a few roundings per term of sum |a||b|."""
    wide = np.float64 if dtype in EPS else np.int64
    ref = np.matmul(a.astype(wide), b.astype(wide))
    if dtype not in EPS:
        return ref, 0.0
    k = a.shape[-1]
    bound = np.matmul(np.abs(a).astype(wide), np.abs(b).astype(wide))
    return ref, 2 * (k + 1) * EPS[dtype] * (bound.max() if bound.size else 0.0)


def check_matmul(got, want, a, b) -> None:
    ref, atol = matmul_ref(a, b, name(want.dtype))
    check(got, want, ref, rtol=0, atol=atol + 1e-300)


SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((5, 2, 3), (5, 3, 4)),
    ((2, 1, 2, 3), (5, 3, 4)),
    ((5, 1, 2, 3), (1, 4, 3, 2)),
    ((3,), (5, 3, 4)),
    ((5, 2, 3), (3,)),
    ((1, 3), (3, 1)),
    ((1, 1), (1, 1)),
    ((2, 1), (1, 5)),
    ((1,), (1,)),
    ((0, 3), (3, 4)),
    ((2, 0), (0, 4)),
    ((2, 3), (3, 0)),
    ((0,), (0,)),
    ((4, 0, 3), (3, 2)),
    ((0, 2, 3), (1, 3, 4)),
    ((0,), (2, 0, 3)),
]
LAYOUTS = ["contiguous", "transposed", "sliced", "expanded"]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_matmul(shapes, dtype, layout):
    ga, ta, a = sample(shapes[0], dtype, layout, key="a")
    gb, tb, b = sample(shapes[1], dtype, "sliced" if layout == "transposed" else layout)
    out = run(lambda lib, x, y: lib.matmul(x, y), (ga, gb), (ta, tb))
    check_matmul(*out, a, b)
    check_matmul(ga @ gb, out[1], a, b)
    check_matmul(ga.matmul(gb), out[1], a, b)


@pytest.mark.parametrize("dtype", ["int32", "bool"])
def test_matmul_other_dtypes_like_torch(dtype):
    ga, ta, a = sample((2, 3), dtype, key="a")
    gb, tb, b = sample((3, 4), dtype, key="b")
    out = run(lambda lib, x, y: x @ y, (ga, gb), (ta, tb))
    if out is not None:
        check_matmul(*out, a, b)


# (m, k, n): below, at and above 4096 multiply-adds, where BLAS takes over
SIZES = [
    (8, 8, 8),
    (15, 16, 17),
    (16, 16, 16),
    (16, 16, 17),
    (33, 65, 47),
    (1, 5000, 1),
]


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "sliced"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("mkn", SIZES, ids=str)
def test_naive_reference_agrees_with_blas(mkn, dtype, layout):
    m, k, n = mkn
    ga, ta, a = sample((m, k), dtype, layout, key="a")
    gb, tb, b = sample((k, n), dtype, layout, key="b")
    want = ta @ tb
    fast, naive = G._C.matmul(ga, gb), G._C.matmul(ga, gb, True)
    check_matmul(fast, want, a, b)
    check_matmul(naive, want, a, b)
    # batched, and with a vector on either side (the reference takes 2-D only)
    ga3, ta3, a3 = sample((3, m, k), dtype, layout, key="a3")
    check_matmul(ga3 @ gb, ta3 @ tb, a3, b)
    check_matmul(ga @ gb[:, 0], ta @ tb[:, 0], a, b[:, 0])
    check_matmul(ga[0] @ gb, ta[0] @ tb, a[0], b)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_mm_mv_dot_bmm(dtype):
    ga, ta, a = sample((2, 3), dtype, "transposed", key="a")
    gb, tb, b = sample((3, 4), dtype, "sliced", key="b")
    gv, tv, v = sample((3,), dtype, "sliced", key="v")
    gw, tw, w = sample((3,), dtype, key="w")
    check_matmul(G.mm(ga, gb), torch.mm(ta, tb), a, b)
    check_matmul(ga.mm(gb), torch.mm(ta, tb), a, b)
    check_matmul(G.mv(ga, gv), torch.mv(ta, tv), a, v)
    check_matmul(ga.mv(gv), torch.mv(ta, tv), a, v)
    check_matmul(G.dot(gv, gw), torch.dot(tv, tw), v, w)
    check_matmul(gv.dot(gw), torch.dot(tv, tw), v, w)
    gx, tx, x = sample((4, 2, 3), dtype, "transposed", key="x")
    gy, ty, y = sample((4, 3, 5), dtype, "expanded", key="y")
    check_matmul(G.bmm(gx, gy), torch.bmm(tx, ty), x, y)
    check_matmul(gx.bmm(gy), torch.bmm(tx, ty), x, y)


def test_empty_products_are_zeros():
    for sa, sb in [((2, 0), (0, 3)), ((0,), (0,)), ((3, 2, 0), (0, 4))]:
        got = G.matmul(G.ones(sa), G.ones(sb))
        check(got, torch.matmul(torch.ones(sa), torch.ones(sb)))


def _ones(lib, *shape, dtype="float32"):
    return lib.ones(*shape, dtype=getattr(lib, dtype))


ERRORS = {
    "mm_1d": lambda lib: lib.mm(_ones(lib, 3), _ones(lib, 3, 2)),
    "mm_1d_second": lambda lib: lib.mm(_ones(lib, 2, 3), _ones(lib, 3)),
    "mm_3d": lambda lib: lib.mm(_ones(lib, 2, 2, 3), _ones(lib, 3, 2)),
    "mm_shapes": lambda lib: lib.mm(_ones(lib, 2, 3), _ones(lib, 4, 5)),
    "mm_dtype": lambda lib: lib.mm(_ones(lib, 2, 3), _ones(lib, 3, 2, dtype="float64")),
    "mv_matrix_vec": lambda lib: lib.mv(_ones(lib, 2, 3), _ones(lib, 3, 1)),
    "mv_vec_first": lambda lib: lib.mv(_ones(lib, 3), _ones(lib, 3)),
    "mv_shapes": lambda lib: lib.mv(_ones(lib, 2, 3), _ones(lib, 4)),
    "mv_dtype": lambda lib: lib.mv(_ones(lib, 2, 3), _ones(lib, 3, dtype="float64")),
    "dot_2d": lambda lib: lib.dot(_ones(lib, 2, 3), _ones(lib, 3)),
    "dot_sizes": lambda lib: lib.dot(_ones(lib, 3), _ones(lib, 4)),
    "dot_dtype": lambda lib: lib.dot(_ones(lib, 3), _ones(lib, 3, dtype="int64")),
    "bmm_2d": lambda lib: lib.bmm(_ones(lib, 2, 3), _ones(lib, 2, 3, 4)),
    "bmm_2d_second": lambda lib: lib.bmm(_ones(lib, 2, 2, 3), _ones(lib, 3, 4)),
    "bmm_batch": lambda lib: lib.bmm(_ones(lib, 2, 2, 3), _ones(lib, 3, 3, 4)),
    "bmm_inner": lambda lib: lib.bmm(_ones(lib, 2, 2, 3), _ones(lib, 2, 4, 4)),
    "bmm_dtype": lambda lib: lib.bmm(
        _ones(lib, 2, 2, 3), _ones(lib, 2, 3, 4, dtype="float64")
    ),
    "matmul_0d": lambda lib: lib.matmul(lib.tensor(1.0), _ones(lib, 2)),
    "matmul_0d_second": lambda lib: lib.matmul(_ones(lib, 2), lib.tensor(1.0)),
    "inner_1d": lambda lib: _ones(lib, 3) @ _ones(lib, 4),
    "inner_2d": lambda lib: _ones(lib, 2, 3) @ _ones(lib, 4, 5),
    "inner_2d_1d": lambda lib: _ones(lib, 2, 3) @ _ones(lib, 4),
    "inner_1d_2d": lambda lib: _ones(lib, 3) @ _ones(lib, 4, 5),
    "inner_batched": lambda lib: _ones(lib, 5, 2, 3) @ _ones(lib, 5, 4, 2),
    "batch_broadcast": lambda lib: _ones(lib, 2, 2, 3) @ _ones(lib, 3, 3, 4),
    "dtype_2d": lambda lib: _ones(lib, 2, 3) @ _ones(lib, 3, 2, dtype="float64"),
    "dtype_1d": lambda lib: _ones(lib, 3) @ _ones(lib, 3, dtype="float64"),
    "dtype_2d_1d": lambda lib: _ones(lib, 2, 3) @ _ones(lib, 3, dtype="float64"),
    "dtype_batched": lambda lib: (
        _ones(lib, 2, 2, 3) @ _ones(lib, 2, 3, 2, dtype="float64")
    ),
    "dtype_int_float": lambda lib: _ones(lib, 2, 3, dtype="int64") @ _ones(lib, 3, 2),
    "bool": lambda lib: _ones(lib, 2, 3, dtype="bool") @ _ones(lib, 3, 2, dtype="bool"),
}


@pytest.mark.parametrize("case", ERRORS)
def test_errors_like_torch(case):
    raises_like_torch(lambda lib: ERRORS[case](lib), (), ())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_single_term_products_are_the_plain_products_with_their_sign_of_zero(dtype):
    # k == 1: each result is one product, as BLAS gives it (-0.0 for
    # -1 * 0, where a sum started from 0 would give +0.0); with and without
    # MKL, matmul, mm and the outer product of the mv gradient agree.
    a = np.array([[-1.0], [1.0], [0.0], [-0.0], [3.5], [np.inf]], dtype)
    b = np.array([[0.0, -0.0, 1.0, -1.0, 2.25, np.nan]], dtype)
    want = torch.tensor(a) @ torch.tensor(b)
    for got in (G.tensor(a) @ G.tensor(b), G.mm(G.tensor(a), G.tensor(b))):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        assert np.array_equal(np.signbit(got.numpy()), np.signbit(want.numpy()))
    m = np.array([[2.0, -3.0], [0.5, 1.0]], dtype)
    v = np.array([-0.0, 4.0], dtype)
    grads = []
    for lib in (torch, G):
        mt = lib.tensor(m, requires_grad=True)
        (mt @ lib.tensor(v)).backward(lib.tensor(np.array([1.0, -0.0], dtype)))
        grads.append(mt.grad.numpy())
    assert np.array_equal(np.signbit(grads[1]), np.signbit(grads[0]))
    np.testing.assert_array_equal(grads[1], grads[0])
