"""Tensor attributes, conversions, printing and views, against torch.

torch is the oracle for behaviour, reprs, dtypes and error messages; NumPy
for values and memory sharing. Views are checked by writing through them in
both directions and comparing every step with the same steps in torch.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from torch_oracle import assert_same, both, expected_repr, same_error

import gdlite as G

DTYPES = ["float32", "float64", "int64", "int32", "bool"]


def torch_shares(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


def cube(L: Any) -> Any:
    return L.arange(24.0).reshape(2, 3, 4)


def exprs(table: str) -> list[str]:
    """Expressions in L (the library) separated by semicolons."""
    return [e.strip() for e in table.replace("\n", " ").split(";") if e.strip()]


def run(expr: str, L: Any) -> Any:
    return eval(expr, {"L": L, "cube": cube})


# ------------------------------------------------------------- attributes


@pytest.mark.parametrize("shape", [(), (0,), (5,), (2, 3), (2, 1, 4), (1, 0, 3)])
def test_shape_attributes(shape: tuple) -> None:
    t, tt = G.zeros(shape), torch.zeros(shape)
    assert t.shape == tt.shape == shape
    assert repr(t.shape) == expected_repr(tt.shape)
    assert repr(t.size()) == expected_repr(tt.size())
    assert t.dim() == t.ndimension() == t.ndim == tt.dim()
    assert t.numel() == t.nelement() == tt.numel()
    assert repr(t.shape[1:]) == expected_repr(tt.shape[1:])
    for d in range(-len(shape), len(shape)):
        assert t.size(d) == tt.size(d)


@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
@pytest.mark.parametrize("dim", [-3, -2, 2, 3, 0, -1])
def test_size_dim_errors(shape: tuple, dim: int) -> None:
    both(lambda L: L.zeros(shape).size(dim))


@pytest.mark.parametrize("dtype", DTYPES)
def test_item_and_tolist(dtype: str) -> None:
    data = [[1.5, 0.0], [-2.0, 3.25]]

    def make(L: Any) -> Any:
        return L.tensor(data).to(getattr(L, dtype))

    t, tt = make(G), make(torch)
    for i, j in [(0, 0), (1, 1), (0, 1)]:
        got, want = t[i, j].item(), tt[i, j].item()
        assert got == want and type(got) is type(want)
    assert t.tolist() == tt.tolist()
    assert [type(v) for v in t.tolist()[0]] == [type(v) for v in tt.tolist()[0]]
    assert t[1, 1].tolist() == tt[1, 1].tolist()
    assert t.T.tolist() == tt.T.tolist()


@pytest.mark.parametrize("data", [[1, 2], [], [[3.0]]])
def test_item_errors(data: list) -> None:
    both(lambda L: L.tensor(data).item())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "view", [lambda t: t, lambda t: t.T, lambda t: t[:, ::2], lambda t: t[1]]
)
def test_numpy_shares_memory(dtype: str, view: Callable) -> None:
    def base(L: Any) -> Any:
        return L.arange(12).reshape(3, 4).to(getattr(L, dtype))

    t = base(G)
    v, want = view(t), view(base(torch)).numpy()
    arr = v.numpy()
    assert arr.dtype == want.dtype
    assert arr.strides == want.strides
    np.testing.assert_array_equal(arr, want)
    assert np.shares_memory(arr, t.numpy())
    arr[0] = 1
    assert v[0].tolist() == arr[0].tolist()
    v[-1] = 0
    assert arr[-1].tolist() == v[-1].tolist()


def test_array_protocol() -> None:
    t = G.tensor([[1.5, 2.0], [3.0, 4.0]])
    shared = np.asarray(t)
    assert shared.dtype == np.float32
    assert np.shares_memory(shared, t.numpy())
    converted = np.array(t, dtype=np.float64)
    assert converted.dtype == np.float64
    np.testing.assert_array_equal(converted, [[1.5, 2.0], [3.0, 4.0]])
    copied = np.array(t)
    assert not np.shares_memory(copied, t.numpy())
    np.testing.assert_array_equal(np.asarray(t.T), t.numpy().T)
    np.testing.assert_array_equal(np.asarray(G.tensor([True, False])), [True, False])
    assert np.asarray(G.tensor(3)).shape == ()


@pytest.mark.parametrize("op", ["a + b", "a - b", "a * b", "a / b", "a < b", "a == b"])
@pytest.mark.parametrize("np_dtype", [np.float64, np.float32, np.int64])
def test_ndarray_op_tensor_gives_tensor(op: str, np_dtype: type) -> None:
    # torch 2.13 with NumPy 2 raises TypeError for some of these; the result
    # expected is that of the array taken as a tensor, as torch once gave.
    arr = np.array([1, 2, 4], dtype=np_dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = eval(op, {"a": arr, "b": G.tensor([2.0, 2.0, 2.0])})
    want = eval(op, {"a": torch.from_numpy(arr), "b": torch.tensor([2.0, 2.0, 2.0])})
    assert_same(got, want)


def test_len_and_iteration() -> None:
    both(lambda L: len(L.zeros(3, 2)))
    both(lambda L: len(L.tensor(1.0)))
    both(lambda L: list(L.tensor(1.0)))
    rows, trows = list(G.arange(6).reshape(3, 2)), list(torch.arange(6).reshape(3, 2))
    assert len(rows) == len(trows) == 3
    for r, tr in zip(rows, trows, strict=True):
        assert_same(r, tr)
    assert list(G.zeros(0, 2)) == []
    # Rows are views, as in torch.
    t = G.zeros(2, 2)
    for row in t:
        row += 1
    assert t.tolist() == [[1.0, 1.0], [1.0, 1.0]]


@pytest.mark.parametrize("conv", [float, int, bool])
@pytest.mark.parametrize(
    "data", [[2.5], [[-2.7]], 0.0, 3, [True], -0.0, 1e20, [[[7]]], [0]]
)
def test_python_number_conversions(conv: type, data: Any) -> None:
    both(lambda L: conv(L.tensor(data)))


@pytest.mark.parametrize("conv", [float, int, bool])
@pytest.mark.parametrize("data", [[1.0, 2.0], [[1], [2]], []])
def test_python_number_conversion_errors(conv: type, data: Any) -> None:
    same_error(lambda L: conv(L.tensor(data)))


FORMATS = [(3.14159, ".2f"), (2.5, "f"), (2.5, ""), (3, "d"), (3, "5"), (True, "")]
FORMATS += [(1e-5, ".3e"), ([1.5], ".2f"), ([1.0, 2.0], ".2f"), ([1.0, 2.0], "")]


@pytest.mark.parametrize(("data", "spec"), FORMATS)
def test_format(data: Any, spec: str) -> None:
    both(lambda L: format(L.tensor(data), spec))
    if spec == "f":
        assert f"{G.tensor(data):f}" == f"{torch.tensor(data):f}"


def test_clone_is_independent() -> None:
    for make in (lambda L: cube(L), lambda L: cube(L).permute(2, 0, 1)[1:]):
        src = make(G)
        copy = src.clone()
        expected = make(torch).clone()
        assert_same(copy, expected)
        assert not copy._shares_storage(src)
        # preserve_format: the layout of a dense source, strides included
        assert copy.stride() == expected.stride()
        assert copy.is_contiguous() == expected.is_contiguous()
        copy.fill_(-1.0)
        assert_same(src, make(torch))
        src.fill_(7.0)
        assert (copy == -1.0).all().item()


def test_contiguous() -> None:
    t = cube(G)
    assert t.is_contiguous()
    assert t.contiguous() is t
    for view in (t.transpose(0, 2), t[:, :, ::2], t.expand(3, 2, 3, 4)):
        c = view.contiguous()
        assert c.is_contiguous() and not view.is_contiguous()
        assert not c._shares_storage(t)
        np.testing.assert_array_equal(c.numpy(), view.numpy())


@pytest.mark.parametrize("src", DTYPES)
@pytest.mark.parametrize("dst", DTYPES)
def test_dtype_conversions(src: str, dst: str) -> None:
    data = [1.7, -1.7, 0.0, 2.5, -0.5, 100.0]

    def base(L: Any) -> Any:
        return L.tensor(data).to(getattr(L, src))

    both(lambda L: base(L).to(getattr(L, dst)))
    both(lambda L: base(L).to(dtype=getattr(L, dst)))
    both(lambda L: base(L).to(L.zeros(1, dtype=getattr(L, dst))))
    method = {"float32": "float", "float64": "double", "int64": "long"}.get(dst, dst)
    both(lambda L: getattr(base(L), method)())
    t = base(G)
    same = t.to(getattr(G, dst))
    assert (same is t) == (src == dst)
    if src == dst:
        copy = t.to(getattr(G, dst), copy=True)
        assert copy is not t and not copy._shares_storage(t)


# --------------------------------------------------------------- printing


REPR_CASES = {
    "add": lambda L: L.arange(6).reshape(2, 3) + 1,
    "float_scale": lambda L: L.arange(6.0) / 3,
    "int_div": lambda L: L.arange(6) / 4,
    "floordiv": lambda L: L.arange(-3, 4) // 2,
    "mod": lambda L: L.arange(-3, 4) % 3,
    "pow": lambda L: L.arange(5) ** 2,
    "neg_float64": lambda L: -L.arange(4, dtype=L.float64),
    "int32": lambda L: L.arange(4, dtype=L.int32) * 3,
    "int32_sum": lambda L: L.arange(4, dtype=L.int32).sum(),
    "bool_cmp": lambda L: L.arange(5) > 2,
    "and": lambda L: (L.arange(5) > 1) & (L.arange(5) < 4),
    "invert": lambda L: ~(L.arange(3) > 0),
    "exp": lambda L: L.tensor([0.0, 1.0, -1.0]).exp(),
    "sqrt64": lambda L: L.tensor([2.0, 9.0], dtype=L.float64).sqrt(),
    "sigmoid": lambda L: L.tensor([[0.0, 2.0], [-3.0, 10.0]]).sigmoid(),
    "relu": lambda L: L.tensor([-1.0, 0.0, 2.0]).relu(),
    "large_values": lambda L: L.tensor([1e-5, 1.0, 1e8]),
    "nan_inf": lambda L: L.tensor([1.0, math.nan, -math.inf]),
    "sum_dim": lambda L: cube(L).sum(1),
    "mean_keepdim": lambda L: cube(L).mean(-1, keepdim=True),
    "max_dim": lambda L: cube(L).max(2),
    "min_dim": lambda L: cube(L).min(dim=0),
    "argmax": lambda L: cube(L).argmax(1),
    "std": lambda L: L.tensor([1.0, 2.0, 4.0]).std(),
    "matmul": lambda L: L.arange(6.0).reshape(2, 3) @ L.arange(6.0).reshape(3, 2),
    "matmul64": lambda L: L.eye(2, dtype=L.float64) @ L.ones(2, dtype=L.float64),
    "cat": lambda L: L.cat([L.zeros(2), L.ones(3)]),
    "stack": lambda L: L.stack([L.arange(3), L.arange(3)], 1),
    "where": lambda L: L.where(L.arange(4) > 1, L.arange(4), -1),
    "clamp": lambda L: L.arange(-2.0, 3.0).clamp(-1, 1),
    "summarised_float": lambda L: L.arange(2000.0).reshape(40, 50) / 7,
    "summarised_int": lambda L: L.arange(5000),
    "summarised_int32": lambda L: L.arange(3000, dtype=L.int32).reshape(3, 1000),
    "summarised_float64": lambda L: L.arange(1500, dtype=L.float64) * 1e6,
    "summarised_bool": lambda L: L.arange(1200) % 3 == 0,
    "empty_2d": lambda L: L.zeros(0, 3, dtype=L.int32),
    "zero_d": lambda L: L.tensor(2.5) * 2,
    "zero_d_int32": lambda L: L.tensor(7, dtype=L.int32),
    "view": lambda L: cube(L).view(4, 6),
    "transposed": lambda L: cube(L).permute(2, 0, 1),
    "expanded": lambda L: L.tensor([[1], [2]]).expand(2, 3),
    "select": lambda L: cube(L).select(2, 1),
    "unbind": lambda L: cube(L).unbind(1),
    "shape": lambda L: cube(L).shape,
}


@pytest.mark.parametrize("name", list(REPR_CASES))
def test_repr_matches_torch(name: str) -> None:
    make = REPR_CASES[name]
    want = expected_repr(make(torch))
    assert repr(make(G)) == want
    if isinstance(make(G), G.Tensor):
        assert str(make(G)) == str(make(torch)).replace("torch.", "gdlite.")


# ------------------------------------------------------------------ views


VIEWS = {
    "view": lambda t: t.view(4, 6),
    "view_infer": lambda t: t.view(-1, 3),
    "view_size": lambda t: t.view(t.shape[::-1]),
    "reshape": lambda t: t.reshape(6, -1),
    "reshape_strided": lambda t: t[:, :, ::2].reshape(2, -1),
    "flatten": lambda t: t.flatten(),
    "flatten_1": lambda t: t.flatten(1),
    "flatten_01": lambda t: t.flatten(0, 1),
    "squeeze": lambda t: t[:, :1].squeeze(),
    "squeeze_dim": lambda t: t[:, :1].squeeze(1),
    "unsqueeze": lambda t: t.unsqueeze(0),
    "unsqueeze_neg": lambda t: t.unsqueeze(-2),
    "t": lambda t: t[0].t(),
    "T": lambda t: t[1].T,
    "transpose": lambda t: t.transpose(0, 2),
    "transpose_neg": lambda t: t.transpose(-1, -2),
    "permute": lambda t: t.permute(2, 0, 1),
    "permute_tuple": lambda t: t.permute((1, 2, 0)),
    "narrow": lambda t: t.narrow(2, 1, 2),
    "narrow_neg_dim": lambda t: t.narrow(-2, 1, 1),
    "select": lambda t: t.select(1, 2),
    "select_neg": lambda t: t.select(-1, -1),
    "unbind": lambda t: t.unbind(1)[1],
    "slice": lambda t: t[1:, ::2],
    "chain": lambda t: t.permute(2, 1, 0)[1:3].unsqueeze(1).transpose(0, 3),
}


@pytest.mark.parametrize("name", list(VIEWS))
def test_views_write_through(name: str) -> None:
    make = VIEWS[name]
    base, tbase = cube(G), cube(torch)
    v, tv = make(base), make(tbase)
    assert_same(v, tv)
    assert torch_shares(tv, tbase)
    assert v._shares_storage(base)
    assert v.stride() == tv.stride()
    v.mul_(-1)
    tv.mul_(-1)
    assert_same(base, tbase)
    v[...] = v + 0.5
    tv[...] = tv + 0.5
    assert_same(base, tbase)
    base.add_(100)
    tbase.add_(100)
    assert_same(v, tv)
    base[0, 1] = G.arange(4.0)
    tbase[0, 1] = torch.arange(4.0)
    assert_same(v, tv)
    assert np.shares_memory(v.numpy(), base.numpy())


def test_expand_is_a_view() -> None:
    for make in (
        lambda L: L.tensor([[1.0], [2.0]]).expand(2, 3),
        lambda L: L.tensor([[1.0], [2.0]]).expand(-1, 3),
        lambda L: L.tensor([[1.0], [2.0]]).expand(4, 2, 3),
        lambda L: L.tensor([[1.0], [2.0]]).expand((2, 3)),
        lambda L: L.tensor(5.0).expand(3),
        lambda L: L.tensor([[1.0], [2.0]]).expand(2, 0),
        lambda L: L.zeros(1, 3).expand(0, 3),
        # new leading dims of size 1 take a contiguous stride, not 0
        lambda L: L.ones(3).expand(1, 3),
        lambda L: L.ones(3).expand(2, 1, 3),
        lambda L: L.ones(5)[::2].expand(1, 1, 3),
        lambda L: L.ones(2, 1).expand(1, 2, 4),
        lambda L: L.ones(2, 3)[:, :1].expand(1, 2, 1),
        lambda L: L.tensor(5.0).expand(1, 1),
    ):
        v, tv = make(G), make(torch)
        assert_same(v, tv)
        assert v.stride() == tv.stride()
    src = G.tensor([[1.0], [2.0]])
    v = src.expand(3, 2, 4)
    assert v._shares_storage(src)
    src[1, 0] = 9.0
    assert v[2, 1].tolist() == [9.0] * 4


EXPAND_ERRORS = exprs(
    """
L.tensor([[1], [2]]).expand(3, 3); L.tensor([[1], [2]]).expand(3);
L.tensor([[1], [2]]).expand(-1, 2, 3); L.zeros(2, 3).expand(2, 4);
L.zeros(2, 3).expand(2, 3, 1)
"""
)


@pytest.mark.parametrize("expr", EXPAND_ERRORS)
def test_expand_errors(expr: str) -> None:
    same_error(lambda L: run(expr, L))


@pytest.mark.parametrize(
    ("make", "shares"),
    [
        (lambda t: t.reshape(4, 6), True),
        (lambda t: t.reshape(2, 3, 4), True),
        (lambda t: t[:, :, ::2].reshape(-1), True),
        (lambda t: t.transpose(0, 1).reshape(-1), False),
        (lambda t: t.permute(2, 0, 1).reshape(4, 6), True),
        (lambda t: t.permute(2, 0, 1).reshape(-1), False),
        (lambda t: t[:, 1:].reshape(-1), False),
        (lambda t: t.permute(2, 1, 0).flatten(), False),
        (lambda t: t.permute(2, 1, 0).flatten(0, 0), True),
        (lambda t: t[:, 1:].flatten(1), True),
    ],
)
def test_reshape_view_or_copy(make: Callable, shares: bool) -> None:
    base, tbase = cube(G), cube(torch)
    r, tr = make(base), make(tbase)
    assert_same(r, tr)
    assert torch_shares(tr, tbase) == shares
    assert r._shares_storage(base) == shares
    r.fill_(-5.0)
    tr.fill_(-5.0)
    assert_same(base, tbase)


VIEW_SHAPES = exprs(
    """
cube(L).view(-1, 4); cube(L).view(L.Size([6, 4])); cube(L).view([6, 4]);
L.tensor(1.0).view(1, 1); L.tensor([1.0]).view(()); L.zeros(0, 3).view(-1);
cube(L).transpose(1, 2).view(2, 4, 3); cube(L)[:, 1:].view(2, 2, 2, 4);
L.zeros(2, 1, 3, 1).squeeze(); L.zeros(2, 1, 3, 1).squeeze(0);
L.zeros(2, 1, 3, 1).squeeze(-1); L.zeros(2, 1, 3, 1).squeeze((1, 3));
L.tensor(1.0).squeeze(0); L.tensor(1.0).unsqueeze(0); L.tensor(1.0).unsqueeze(-1);
L.zeros(2, 3).unsqueeze(2); L.zeros(2, 3).unsqueeze(-3); L.tensor(3.0).flatten();
L.zeros(3).t(); L.tensor(1.0).t(); cube(L).transpose(-1, 0);
cube(L).permute(-1, 0, 1); cube(L).permute([2, 1, 0]); cube(L).narrow(-1, 1, 2);
cube(L).narrow(0, -1, 1); cube(L).narrow(1, 3, 0); cube(L).select(0, -2);
cube(L).unbind(-1)
"""
)


@pytest.mark.parametrize("expr", VIEW_SHAPES)
def test_view_shapes(expr: str) -> None:
    both(lambda L: run(expr, L))


VIEW_ERRORS = exprs(
    """
cube(L).view(5, -1); cube(L).view(-1, -1); cube(L).view(7); cube(L).view(2, 3, 5);
cube(L).view(0, -1); cube(L).view(-2, 12); cube(L).transpose(0, 1).view(-1);
cube(L).permute(1, 0, 2).view(-1); cube(L)[:, 1:].view(-1);
L.zeros(0, 3).view(-1, 0); cube(L).reshape(5, -1); cube(L).reshape(-1, -1);
cube(L).t(); cube(L).transpose(0, 3); cube(L).transpose(1, -4);
cube(L).permute(0, 1); cube(L).permute(0, 1, 1); cube(L).permute(0, 1, 3);
cube(L).permute(0, 1, 2, 3); cube(L).flatten(2, 1); cube(L).flatten(0, 3);
L.zeros(2, 1, 3, 1).squeeze(4); L.zeros(2, 3).unsqueeze(3);
L.zeros(2, 3).unsqueeze(-4); cube(L).narrow(0, 1, 2); cube(L).narrow(0, 3, 0);
cube(L).narrow(3, 0, 1); cube(L).select(1, 3); cube(L).select(1, -4);
cube(L).select(3, 0); cube(L).unbind(3)
"""
)


@pytest.mark.parametrize("expr", VIEW_ERRORS)
def test_view_errors(expr: str) -> None:
    same_error(lambda L: run(expr, L))


# ---------------------------------------------------- non-contiguous inputs


NONCONTIGUOUS = {
    "transposed": lambda L: L.arange(12.0).reshape(3, 4).T,
    "strided": lambda L: L.arange(24.0).reshape(4, 6)[::2, 1::2],
    "permuted": lambda L: cube(L).permute(2, 0, 1)[1:],
    "expanded": lambda L: L.tensor([[1.0], [-2.0], [3.0]]).expand(3, 4),
    "narrowed": lambda L: L.arange(20.0).reshape(4, 5).narrow(1, 1, 3),
    "selected": lambda L: cube(L).select(2, 1),
}

OPS = {
    "neg": lambda x: -x,
    "abs_sqrt": lambda x: x.abs().sqrt(),
    "exp": lambda x: (x / 10).exp(),
    "add_self": lambda x: x + x,
    "mul_contig": lambda x: x * x.contiguous(),
    "sub_scalar": lambda x: 3.5 - x,
    "compare": lambda x: x > 2,
    "sum": lambda x: x.sum(),
    "sum_dim": lambda x: x.sum(0),
    "mean_dim": lambda x: x.mean(-1, keepdim=True),
    "max_dim": lambda x: x.max(1)[0],
    "argmin": lambda x: x.argmin(0),
    "matmul": lambda x: x @ x.transpose(-1, -2),
    "clamp": lambda x: x.clamp(-1, 4),
    "where": lambda x: (
        G.where(x > 1, x, -x) if isinstance(x, G.Tensor) else torch.where(x > 1, x, -x)
    ),
    "to_int": lambda x: x.long(),
    "clone": lambda x: x.clone(),
    "reshape": lambda x: x.reshape(-1),
    "index": lambda x: x[[0, -1]],
    "mask": lambda x: x[x > 1],
    "row": lambda x: x[1],
    "cat": lambda x: G.cat([x, x]) if isinstance(x, G.Tensor) else torch.cat([x, x]),
}


@pytest.mark.parametrize("layout", list(NONCONTIGUOUS))
@pytest.mark.parametrize("op", list(OPS))
def test_noncontiguous_inputs(layout: str, op: str) -> None:
    x, tx = NONCONTIGUOUS[layout](G), NONCONTIGUOUS[layout](torch)
    assert not x.is_contiguous()
    got, copy = OPS[op](x), OPS[op](x.contiguous())
    np.testing.assert_array_equal(got.numpy(), copy.numpy())
    want = OPS[op](tx)
    assert repr(got.dtype) == expected_repr(want.dtype)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


@pytest.mark.parametrize("layout", [k for k in NONCONTIGUOUS if k != "expanded"])
def test_noncontiguous_conversions_and_inplace(layout: str) -> None:
    x, tx = NONCONTIGUOUS[layout](G), NONCONTIGUOUS[layout](torch)
    assert x.tolist() == tx.tolist()
    assert repr(x) == expected_repr(tx)
    np.testing.assert_array_equal(np.asarray(x), tx.numpy())
    x.add_(1)
    tx.add_(1)
    x *= 2
    tx *= 2
    assert x.tolist() == tx.tolist()
    x[0] = 0.25
    tx[0] = 0.25
    assert x.tolist() == tx.tolist()
