"""The memory layout of results, against torch.

torch gives an elementwise result the layout TensorIterator picks from its
inputs (a transposed input gives a transposed result), and clone, to and
the ``*_like`` functions keep their input's (preserve_format); a leaf's
``.grad`` takes the leaf's. The strides decide ``is_contiguous()``, whether
``view`` works, the order later reductions add in (so their bits), and the
order ``rand_like`` draws in. Each case builds the same inputs in both
libraries and compares strides, contiguity and the bytes of the values.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from torch_oracle import same_error

import gdlite as G

RNG = np.random.default_rng(20261130)
BASE = RNG.standard_normal((4, 6)).astype(np.float32)
CUBE = RNG.standard_normal((2, 3, 4)).astype(np.float32)
# A 4-d array with size-1 dims: permuting it gives layouts that are
# contiguous, channels-last or merely dense, with size-1 strides that differ.
NCHW = RNG.standard_normal((2, 1, 1, 3)).astype(np.float32)
RNG_BIG = RNG.standard_normal((12, 18)).astype(np.float32)

# Layouts of a 4x6 tensor: dense ones in both orders, strided, broadcast.
LAYOUTS: dict[str, Callable[[Any], Any]] = {
    "contiguous": lambda L: L.tensor(BASE),
    "transposed": lambda L: L.tensor(BASE).t(),
    "column_step": lambda L: L.tensor(BASE)[:, ::2],
    "transposed_step": lambda L: L.tensor(BASE).t()[::2],
    "row": lambda L: L.tensor(BASE)[1:2],
    "expanded": lambda L: L.tensor(BASE)[:, :1].expand(4, 5),
    "cube_permuted": lambda L: L.tensor(CUBE).permute(2, 0, 1),
    "cube_permuted_step": lambda L: L.tensor(CUBE).permute(1, 2, 0)[:, ::2],
}


def _permuted_nchw() -> dict[str, Callable[[Any], Any]]:
    out = {}
    for perm in itertools.permutations(range(4)):
        name = "nchw_" + "".join(map(str, perm))
        out[name] = lambda L, p=perm: L.tensor(NCHW).permute(*p)
    return out


ALL_LAYOUTS = {**LAYOUTS, **_permuted_nchw()}


def assert_same_layout(got: Any, want: torch.Tensor, exact: bool = True) -> None:
    """Same strides and values: the same bits, or (float32 functions torch
    takes from MKL, whose bits gdlite does not reach) within an ulp or two."""
    assert tuple(got.shape) == tuple(want.shape)
    assert got.stride() == want.stride()
    assert got.is_contiguous() == want.is_contiguous()
    assert got.dtype.is_floating_point == want.dtype.is_floating_point
    g, w = got.detach().numpy(), want.detach().numpy()
    if exact:
        assert g.tobytes() == w.tobytes()
    else:
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)


def check(fn: Callable[[Any], Any], exact: bool = True) -> None:
    assert_same_layout(fn(G), fn(torch), exact)


UNARY: dict[str, Callable[[Any], Any]] = {
    "neg": lambda t: -t,
    "exp": lambda t: t.exp(),
    "tanh": lambda t: t.tanh(),
    "sigmoid": lambda t: t.sigmoid(),
    "sqrt_abs": lambda t: t.abs().sqrt(),
    "pow_number": lambda t: t**2.5,
    "square": lambda t: t**2,
    "number_over": lambda t: 3.0 / t,
    "add_number": lambda t: t + 1,
    "mul_self": lambda t: t * t,
    "clamp": lambda t: t.clamp(-0.5, 0.5),
    "compare": lambda t: t > 0,
    "where_number": lambda t: (t > 0).float().where(t > 0, t),
    "clone": lambda t: t.clone(),
    "to_double": lambda t: t.to(t.new_zeros(()).double().dtype),
    "double": lambda t: t.double(),
    "int": lambda t: t.int(),
    "contiguous": lambda t: t.contiguous(),
    "float_plus_int": lambda t: t + t.int(),
    "pow_tensor_0d": lambda t: t ** t.new_tensor(2.0),
    "number_pow": lambda t: 2.0**t,
}
INEXACT = {"exp", "tanh", "sqrt_abs", "pow_number", "number_pow"}


@pytest.mark.parametrize("layout", sorted(ALL_LAYOUTS))
@pytest.mark.parametrize("op", sorted(UNARY))
def test_unary_result_layout(layout: str, op: str) -> None:
    make, fn = ALL_LAYOUTS[layout], UNARY[op]
    check(lambda L: fn(make(L)), exact=op not in INEXACT)


PAIRS = sorted(itertools.product(sorted(LAYOUTS), repeat=2))


@pytest.mark.parametrize(("left", "right"), PAIRS)
def test_binary_result_layout(left: str, right: str) -> None:
    a, b = LAYOUTS[left], LAYOUTS[right]

    def fn(L: Any) -> Any:
        x, y = a(L), b(L)
        if x.shape == y.shape:
            return x * y
        try:  # a row of one against a column of the other
            np.broadcast_shapes(tuple(x[:1].shape), tuple(y[..., :1].shape))
        except ValueError:  # or the first elements of the other, flattened
            return x - y.reshape(-1)[: x.shape[-1]]
        return x[:1] + y[..., :1]

    check(fn)


@pytest.mark.parametrize(("left", "right"), PAIRS[::5])
def test_where_and_tanh_backward_layout(left: str, right: str) -> None:
    a, b = LAYOUTS[left], LAYOUTS[right]

    def where(L: Any) -> Any:
        x, y = a(L), b(L)
        return L.where(x > 0, x, y) if x.shape == y.shape else L.where(x > 0, x, 0.0)

    check(where)

    def tanh_grad(L: Any) -> Any:
        x = a(L).detach().clone().requires_grad_()
        y = x.tanh()
        (g,) = L.autograd.grad(y, x, L.ones_like(y) * 0.5)
        return g

    check(tanh_grad, exact=False)


LIKES: dict[str, Callable[[Any, Any], Any]] = {
    "zeros_like": lambda L, t: L.zeros_like(t),
    "ones_like_f64": lambda L, t: L.ones_like(t, dtype=L.float64),
    "full_like": lambda L, t: L.full_like(t, 3),
    "full_like_int64": lambda L, t: L.full_like(t, 2**60, dtype=L.int64),
    "empty_like_shape": lambda L, t: L.empty_like(t).zero_(),
}


@pytest.mark.parametrize("layout", sorted(ALL_LAYOUTS))
@pytest.mark.parametrize("like", sorted(LIKES))
def test_like_keeps_layout(layout: str, like: str) -> None:
    make, fn = ALL_LAYOUTS[layout], LIKES[like]
    check(lambda L: fn(L, make(L)))


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("draw", ["rand_like", "randn_like"])
def test_random_like_draws_in_memory_order(layout: str, draw: str) -> None:
    def fn(L: Any) -> Any:
        x = LAYOUTS[layout](L)
        L.manual_seed(7)
        big = L.tensor(RNG_BIG).t()  # past the 16-element block kernel
        return getattr(L, draw)(x), getattr(L, draw)(big), getattr(L, draw)(big[::2])

    for got, want in zip(fn(G), fn(torch), strict=True):
        assert_same_layout(got, want)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_reduction_of_a_result_adds_in_torch_order(layout: str) -> None:
    """A result's layout decides the order a sum adds in, so its bits."""
    big = RNG.standard_normal((300, 257)).astype(np.float32)

    def fn(L: Any) -> Any:
        x = L.tensor(big)
        x = {"contiguous": x, "transposed": x.t()}.get(layout, x.t()[::2])
        y = x.sigmoid() * 3 - 1
        return [y.sum(), y.sum(0), y.sum(1), y.mean()]

    for got, want in zip(fn(G), fn(torch), strict=True):
        assert_same_layout(got, want)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_leaf_grad_takes_the_leaf_layout(layout: str) -> None:
    def fn(L: Any) -> Any:
        w = LAYOUTS[layout](L).detach().clone().requires_grad_()
        (w.transpose(0, -1).sigmoid() * 2).sum().backward()
        first = w.grad.clone()
        (w * w).sum().backward()
        return first, w.grad

    for got, want in zip(fn(G), fn(torch), strict=True):
        assert_same_layout(got, want)


def test_leaf_grad_layout_under_create_graph() -> None:
    def fn(L: Any) -> Any:
        w = L.tensor(BASE).t().detach().requires_grad_()
        (w**3).sum().backward(create_graph=True)
        return w.grad

    check(fn)


def test_view_of_a_transposed_result_is_refused_as_in_torch() -> None:
    same_error(lambda L: (L.tensor(BASE).t() * 2).view(-1))
    check(lambda L: (L.tensor(BASE).t() * 2).reshape(-1))
    check(lambda L: (L.tensor(BASE).t() * 2).contiguous().view(-1))


BIG_A = RNG.standard_normal((300, 257)).astype(np.float32)
BIG_B = RNG.standard_normal((300, 257)).astype(np.float32)


def _operand(L: Any, array: np.ndarray, transposed: bool) -> Any:
    if transposed:  # the same values, laid out column by column
        return L.tensor(np.ascontiguousarray(array.T)).t()
    return L.tensor(array)


@pytest.mark.parametrize("loss", ["mse_loss", "huber_loss", "smooth_l1_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("layouts", ["tt", "tc", "ct"])
def test_pointwise_loss_reduces_in_the_layout_torch_computes(
    loss: str, reduction: str, layouts: str
) -> None:
    """The elementwise loss takes its operands' layout, so its mean or sum
    adds in their memory order."""

    def fn(L: Any) -> Any:
        x = _operand(L, BIG_A, layouts[0] == "t")
        y = _operand(L, BIG_B, layouts[1] == "t")
        return getattr(L.nn.functional, loss)(x, y, reduction=reduction)

    check(fn)


@pytest.mark.parametrize("layouts", ["tt", "tc", "ct"])
def test_logit_bce_loss_takes_the_target_layout(layouts: str) -> None:
    def fn(L: Any) -> Any:
        x = _operand(L, BIG_A, layouts[0] == "t")
        y = (_operand(L, BIG_B, layouts[1] == "t") > 0).float()
        return L.nn.functional.binary_cross_entropy_with_logits(x, y, reduction="none")

    # its log1p(exp(-|x|)) is the C library's, within an ulp of torch's
    check(fn, exact=False)


FORMATS = ["preserve_format", "contiguous_format", "channels_last", "channels_last_3d"]
SHAPED: dict[str, Callable[[Any], Any]] = {
    "matrix_t": lambda L: L.tensor(BASE).t(),
    "nchw": lambda L: L.tensor(RNG_NCHW),
    "nhwc_view": lambda L: L.tensor(RNG_NCHW).permute(0, 2, 3, 1),
    "nchw_step": lambda L: L.tensor(RNG_NCHW)[:, ::2],
    "ncdhw": lambda L: L.tensor(RNG_NCDHW),
}
RNG_NCHW = RNG.standard_normal((2, 3, 4, 5)).astype(np.float32)
RNG_NCDHW = RNG.standard_normal((2, 3, 2, 4, 5)).astype(np.float32)
FORMAT_CALLS: dict[str, Callable[[Any, Any, Any], Any]] = {
    "clone": lambda L, t, f: t.clone(memory_format=f),
    "torch_clone": lambda L, t, f: L.clone(t, memory_format=f),
    "contiguous": lambda L, t, f: t.contiguous(memory_format=f),
    "to": lambda L, t, f: t.to(memory_format=f),
    "to_double": lambda L, t, f: t.to(L.float64, memory_format=f),
    "to_copy": lambda L, t, f: t.to(t.dtype, copy=True, memory_format=f),
    "zeros_like": lambda L, t, f: L.zeros_like(t, memory_format=f),
    "full_like": lambda L, t, f: L.full_like(t, 2.5, memory_format=f),
    "empty_like": lambda L, t, f: L.empty_like(t, memory_format=f).fill_(1.0),
    "randn_like": lambda L, t, f: (L.manual_seed(3), L.randn_like(t, memory_format=f))[
        1
    ],
    "randint_like": lambda L, t, f: (
        L.manual_seed(3),
        L.randint_like(t, 0, 9, memory_format=f),
    )[1],
}


@pytest.mark.parametrize("shaped", sorted(SHAPED))
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("call", sorted(FORMAT_CALLS))
def test_memory_format_arguments(shaped: str, fmt: str, call: str) -> None:
    """Each call with each format: torch's layout and values, or its error."""

    def fn(L: Any) -> Any:
        t = SHAPED[shaped](L)
        out = FORMAT_CALLS[call](L, t, getattr(L, fmt))
        return out, out is t  # to() and contiguous() may return t itself

    try:
        want = fn(torch)
    except RuntimeError:
        same_error(fn)
        return
    got = fn(G)
    assert_same_layout(got[0], want[0])
    assert got[1] == want[1]


@pytest.mark.parametrize("shaped", sorted(SHAPED))
@pytest.mark.parametrize("fmt", FORMATS)
def test_is_contiguous_in_a_format(shaped: str, fmt: str) -> None:
    def fn(L: Any) -> Any:
        t = SHAPED[shaped](L)
        return [
            t.is_contiguous(memory_format=getattr(L, fmt)),
            t.clone(memory_format=L.contiguous_format).is_contiguous(
                memory_format=getattr(L, fmt)
            ),
        ]

    assert fn(G) == fn(torch)


def test_memory_format_objects_and_refusals() -> None:
    for name in FORMATS:
        fmt = getattr(G, name)
        assert repr(fmt) == repr(getattr(torch, name)).replace("torch.", "gdlite.")
        assert fmt is getattr(G, name)
    assert type(G.channels_last).__name__ == type(torch.channels_last).__name__
    same_error(lambda L: L.tensor(BASE).clone(memory_format=1))
    same_error(lambda L: L.tensor(BASE).contiguous(memory_format="contiguous"))
    same_error(lambda L: L.zeros_like(L.tensor(BASE), memory_format=0))
    same_error(lambda L: L.tensor(BASE).t().contiguous(memory_format=L.preserve_format))


def test_clone_in_a_format_records_torch_node_and_gradient() -> None:
    def fn(L: Any) -> Any:
        x = L.tensor(RNG_NCHW).requires_grad_()
        y = x.clone(memory_format=L.channels_last)
        z = x.to(L.float64, memory_format=L.channels_last)
        ((y * 2).sum() + z.sum()).backward()
        return type(y.grad_fn).__name__, type(z.grad_fn).__name__, x.grad

    got, want = fn(G), fn(torch)
    assert got[:2] == want[:2]
    assert_same_layout(got[2], want[2])
