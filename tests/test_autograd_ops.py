"""Gradients of every differentiable op, from a table of ops and sample inputs
(in the manner of PyTorch's OpInfo): float64 gradcheck, gradients against
torch in float32 and float64, grad_fn names against torch, and an independent
NumPy central-difference check for a few ops.

Samples cover broadcasting, non-contiguous inputs (a transposed or strided
view of the leaf), 0-d and size-1 tensors. Inputs stay away from kinks except
in the KINKS table, which is compared against torch only (finite differences
are meaningless there)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import torch
from autograd_helpers import (
    assert_close,
    assert_same_node_name,
    assert_same_values,
    central_difference,
    node_name,
    to_np,
)

import gdlite as G

DOMAINS = {
    "any": lambda rng, shape: rng.uniform(-2.0, 2.0, shape),
    "pos": lambda rng, shape: rng.uniform(0.5, 2.0, shape),
    "unit": lambda rng, shape: rng.uniform(-0.9, 0.9, shape),
}


def t(shape):
    """An input given to the op as a transposed view of the leaf."""
    return ("t", shape)


def s(shape):
    """An input given to the op as a stride-2 view along the last dim."""
    return ("s", shape)


@dataclass
class Op:
    name: str
    fn: Any  # fn(m, *inputs) -> tensor, with m the library
    samples: list  # each a tuple of shapes, t()/s() markers or arrays
    domain: Any = "any"  # one domain, or one per input
    gradcheck: dict = field(default_factory=dict)  # extra gradcheck arguments


def _max_values(m, x, dim):
    return m.max(x, dim).values


def _min_values(m, x, dim):
    return x.min(dim=dim, keepdim=True)[0]


def _setitem(m, x, v, index):
    y = x.clone()
    y[index(m)] = v
    return y


MASK = np.array(
    [[True, False, True, True], [False, False, True, False], [True, True, False, True]]
)
ZEROS_1 = np.array([[1.5, 0.0, -0.5], [0.7, 1.2, 3.0]])
ZEROS_2 = np.array([[0.0, 0.0, 2.0], [1.1, 0.0, 3.0]])
SQ, MAT, VEC = (3, 4), (3, 4), (4,)

OPS = [
    # arithmetic, with broadcasting and Python scalars
    Op(
        "add",
        lambda m, a, b: a + b,
        [(SQ, VEC), ((2, 1, 3), (4, 1)), ((), (3,)), ((1,), (1,))],
    ),
    Op("add_scalar", lambda m, a: a + 1.5, [(SQ,), ((),)]),
    Op("add_alpha", lambda m, a, b: m.add(a, b, alpha=2.5), [(SQ, (1, 4))]),
    Op("sub", lambda m, a, b: a - b, [(t(SQ), (1, 4)), (s(SQ), SQ)]),
    Op("rsub", lambda m, a: 1.0 - a, [(SQ,)]),
    Op("mul", lambda m, a, b: a * b, [(t(SQ), (3, 1)), ((), ()), ((2, 3, 1), (3, 4))]),
    Op("mul_scalar", lambda m, a: a * 2.5, [(s(SQ),), ((),)]),
    Op("div", lambda m, a, b: a / b, [(SQ, VEC), ((4, 1), (1,))], ("any", "pos")),
    Op("div_scalar", lambda m, a: a / 3.0, [(SQ,)]),
    Op("rdiv", lambda m, a: 2.0 / a, [(SQ,)], "pos"),
    Op("pow_int", lambda m, a: a**3, [(SQ,), ((),)]),
    Op("pow_frac", lambda m, a: a**2.5, [(t(SQ),)], "pos"),
    Op("pow_neg", lambda m, a: a**-1.5, [(SQ,)], "pos"),
    Op("pow_zero", lambda m, a: a**0, [(SQ,)]),
    Op("pow_tensor", lambda m, a, b: a**b, [(SQ, VEC), ((), (3,))], ("pos", "any")),
    Op("pow_scalar_base", lambda m, a: 2.0**a, [(SQ,)]),
    Op("remainder", lambda m, a, b: a % b, [(SQ, VEC)], ("any", "pos")),
    Op("remainder_scalar", lambda m, a: a % 1.5, [(SQ,)]),
    Op("maximum", lambda m, a, b: m.maximum(a, b), [(SQ, VEC), (t(SQ), (3, 1))]),
    Op("minimum", lambda m, a, b: m.minimum(a, b), [(SQ, VEC), ((), SQ)]),
    # unary
    *[
        Op(name, lambda m, a, name=name: getattr(m, name)(a), samples, domain)
        for name, samples, domain in [
            ("neg", [(SQ,)], "any"),
            ("abs", [(SQ,), (t(SQ),)], "any"),
            ("exp", [(SQ,), (t(SQ),), ((),)], "any"),
            ("log", [(SQ,), (s(SQ),)], "pos"),
            ("log1p", [(SQ,)], "pos"),
            ("sqrt", [(SQ,), ((1,),)], "pos"),
            ("square", [(SQ,)], "any"),
            ("reciprocal", [(SQ,)], "pos"),
            ("sin", [(SQ,), (s(SQ),)], "any"),
            ("cos", [(SQ,)], "any"),
            ("tan", [(SQ,)], "unit"),
            ("sinh", [(SQ,)], "any"),
            ("cosh", [(SQ,)], "any"),
            ("tanh", [(SQ,), ((),)], "any"),
            ("sigmoid", [(SQ,), (t(SQ),)], "any"),
            ("relu", [(SQ,), (t(SQ),)], "any"),
            ("sign", [(SQ,)], "any"),
            ("floor", [(SQ,)], "any"),
            ("ceil", [(SQ,)], "any"),
            ("round", [(SQ,)], "any"),
        ]
    ],
    Op("clamp", lambda m, a: m.clamp(a, -0.5, 0.8), [(SQ,), (t(SQ),)]),
    Op("clamp_min", lambda m, a: a.clamp(min=-0.5), [(SQ,)]),
    Op("clamp_max", lambda m, a: a.clamp(max=0.3), [(SQ,)]),
    Op(
        "where", lambda m, a, b: m.where(m.tensor(MASK), a, b), [(SQ, VEC), (t(SQ), ())]
    ),
    Op("where_scalar", lambda m, a: m.where(m.tensor(MASK), a, 0.0), [(SQ,)]),
    # reductions
    Op("sum", lambda m, a: a.sum(), [(SQ,), ((),), (t(SQ),)]),
    Op("sum_dim", lambda m, a: a.sum(1), [(SQ,), (s(SQ),)]),
    Op("sum_dims_keep", lambda m, a: a.sum((0, 2), keepdim=True), [((2, 3, 4),)]),
    Op("cumsum", lambda m, a: a.cumsum(1), [(SQ,), (t(SQ),), (s(SQ),)]),
    Op("cumsum_last", lambda m, a: m.cumsum(a, -1), [((5,),), ((),), ((2, 0),)]),
    Op("mean", lambda m, a: a.mean(), [(SQ,), ((1,),)]),
    Op("mean_dim", lambda m, a: m.mean(a, -1), [(SQ,), (t(SQ),), ((3, 1),)]),
    Op("mean_keep", lambda m, a: a.mean(0, keepdim=True), [(SQ,)]),
    Op("prod", lambda m, a: a.prod(), [((2, 3),), (ZEROS_1,), (ZEROS_2,), ((),)]),
    Op("prod_dim", lambda m, a: a.prod(1), [((2, 3),), (ZEROS_1,), (ZEROS_2,)]),
    Op("max", lambda m, a: a.max(), [(SQ,), ((1,),)]),
    Op("min", lambda m, a: m.min(a), [(t(SQ),)]),
    Op("amax", lambda m, a: m.amax(a, 1), [(SQ,)]),
    Op("amin", lambda m, a: a.amin(dim=(0, 1)), [((2, 3, 2),)]),
    Op("max_dim", lambda m, a: _max_values(m, a, 1), [(SQ,), (t(SQ),)]),
    Op("min_dim", lambda m, a: _min_values(m, a, 0), [(SQ,)]),
    *[
        Op(f"{fn}_c{c}", lambda m, a, fn=fn, c=c: getattr(a, fn)(correction=c), [(SQ,)])
        for fn in ("var", "std")
        for c in (0, 1)
    ],
    Op("var_dim", lambda m, a: m.var(a, 1, keepdim=True), [(SQ,), (t(SQ),)]),
    Op("std_dim", lambda m, a: a.std(0, correction=0), [(SQ,)]),
    *[
        Op(f"norm_p{p}", lambda m, a, p=p: a.norm(p), [(SQ,), (s(SQ),)])
        for p in (2, 1, float("inf"), 3)
    ],
    *[
        Op(f"norm_p{p}_dim", lambda m, a, p=p: m.norm(a, p, dim=1), [(SQ,)])
        for p in (2, 1, float("inf"), 3)
    ],
    # matrix products
    Op("dot", lambda m, a, b: m.dot(a, b), [(VEC, VEC)]),
    Op("mv", lambda m, a, b: m.mv(a, b), [(MAT, VEC), (t(MAT), VEC)]),
    Op("mm", lambda m, a, b: m.mm(a, b), [(MAT, (4, 2)), (t(MAT), t((4, 2)))]),
    Op("matmul_1d_2d", lambda m, a, b: a @ b, [(VEC, (4, 3))]),
    Op("matmul_2d_1d", lambda m, a, b: a @ b, [(MAT, VEC)]),
    Op(
        "matmul_batched",
        lambda m, a, b: a @ b,
        [((2, 1, 3, 4), (5, 4, 2)), (MAT, (2, 4, 3))],
    ),
    Op("matmul_batched_1d", lambda m, a, b: m.matmul(a, b), [((2, 3, 4), VEC)]),
    Op(
        "bmm",
        lambda m, a, b: m.bmm(a, b),
        [((2, 3, 4), (2, 4, 5)), (t((2, 3, 4)), (2, 4, 1))],
    ),
    # views and data movement
    Op("view", lambda m, a: a.view(4, 3) * 1, [(SQ,)]),
    Op("view_flat", lambda m, a: a.view(-1), [(SQ,)]),
    Op("reshape", lambda m, a: a.reshape(2, 6), [(SQ,), (t(SQ),)]),
    Op("flatten", lambda m, a: a.flatten(), [((2, 3, 2),)]),
    Op("transpose", lambda m, a: a.transpose(0, 2), [((2, 3, 4),)]),
    Op("t", lambda m, a: a.t(), [(SQ,)]),
    Op("T", lambda m, a: a.T, [(SQ,)]),
    Op("permute", lambda m, a: a.permute(2, 0, 1), [((2, 3, 4),), (t((2, 3, 4)),)]),
    Op("expand", lambda m, a: a.expand(2, 3, 4), [((1, 4),), ((3, 1),)]),
    Op("squeeze", lambda m, a: a.squeeze(), [((1, 3, 1),)]),
    Op("squeeze_dim", lambda m, a: a.squeeze(0), [((1, 3),)]),
    Op("unsqueeze", lambda m, a: a.unsqueeze(-1), [(SQ,), ((),)]),
    Op("narrow", lambda m, a: a.narrow(1, 1, 2), [(SQ,), (t(SQ),)]),
    Op("select", lambda m, a: a.select(0, 1), [(SQ,)]),
    Op("index_int", lambda m, a: a[1, 2], [(SQ,)]),
    Op("slice", lambda m, a: a[1:, ::2], [(SQ,), (t(SQ),)]),
    Op("slice_none_ellipsis", lambda m, a: a[None, ..., 1:3], [(SQ,)]),
    Op("index_list", lambda m, a: a[[0, 2, 2, 0]], [(SQ,)]),
    Op("index_tensor", lambda m, a: a[:, m.tensor([3, 1, 3])], [(SQ,)]),
    Op("index_2d", lambda m, a: a[m.tensor([0, 2, 0]), m.tensor([1, 1, 1])], [(SQ,)]),
    Op("index_mask", lambda m, a: a[m.tensor(MASK)], [(SQ,), (t(SQ),)]),
    Op("index_mask_row", lambda m, a: a[m.tensor([True, False, True])], [(SQ,)]),
    Op("setitem_slice", lambda m, a, v: _setitem(m, a, v, lambda m: 1), [(SQ, VEC)]),
    Op(
        "setitem_list",
        lambda m, a, v: _setitem(m, a, v, lambda m: ([0, 2], [1, 3])),
        [(SQ, (2,)), (SQ, ())],
    ),
    Op(
        "setitem_mask",
        lambda m, a, v: _setitem(m, a, v, lambda m: m.tensor(MASK)),
        [(SQ, (int(MASK.sum()),))],
    ),
    Op("cat", lambda m, a, b: m.cat([a, b], 1), [(SQ, (3, 2)), (t(SQ), t(MAT))]),
    Op("cat3", lambda m, a, b: m.cat([a, b, a]), [((2,), (3,))]),
    Op("stack", lambda m, a, b: m.stack([a, b], 1), [(SQ, SQ), (t(SQ), s(SQ))]),
    Op("to_float64", lambda m, a: a.to(m.float64) * 2.0, [(SQ,)]),
    Op(
        "to_and_back",
        lambda m, a: a.to(m.float32).to(m.float64),
        [(SQ,)],
        "any",
        {"eps": 1e-3},
    ),
    Op(
        "double_float",
        lambda m, a: a.double().float() * 3,
        [(SQ,)],
        "any",
        {"eps": 1e-3},
    ),
    Op("clone", lambda m, a: a.clone(), [(SQ,), (t(SQ),)]),
    Op("contiguous", lambda m, a: a.contiguous(), [(t(SQ),), (s(SQ),)]),
]

# At kinks and ties: the chosen subgradient must match torch's.
KINK_INPUT = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
TIES = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, -1.0]])
KINKS = [
    Op("relu_at_0", lambda m, a: m.relu(a), [(KINK_INPUT,)]),
    Op("abs_at_0", lambda m, a: a.abs(), [(KINK_INPUT,)]),
    Op("sign_at_0", lambda m, a: a.sign(), [(KINK_INPUT,)]),
    Op("clamp_at_bounds", lambda m, a: a.clamp(-0.5, 0.5), [(KINK_INPUT,)]),
    Op("clamp_min_at_bound", lambda m, a: a.clamp(min=0.0), [(KINK_INPUT,)]),
    Op("clamp_max_at_bound", lambda m, a: a.clamp(max=0.5), [(KINK_INPUT,)]),
    Op("max_ties", lambda m, a: a[0].max(), [(TIES,)]),
    Op("max_ties_2d", lambda m, a: a.max(), [(np.array([[3.0, 1.0], [3.0, 3.0]]),)]),
    Op("min_ties", lambda m, a: a[1].min(), [(-TIES,)]),
    Op("amax_ties", lambda m, a: a.amax(1), [(TIES,)]),
    Op("amin_ties", lambda m, a: m.amin(a, 0), [(np.array([[1.0, 2.0], [1.0, 0.0]]),)]),
    Op("max_dim_ties", lambda m, a: _max_values(m, a, 1), [(TIES,)]),
    Op("min_dim_ties", lambda m, a: _min_values(m, a, 1), [(-TIES,)]),
    Op("maximum_tie", lambda m, a, b: m.maximum(a, b), [(KINK_INPUT, np.zeros(5))]),
    Op("minimum_tie", lambda m, a, b: m.minimum(a, b), [(KINK_INPUT, -KINK_INPUT)]),
    Op(
        "norm_inf_ties",
        lambda m, a: a.norm(float("inf")),
        [(np.array([2.0, -2.0, 1]),)],
    ),
    Op("norm_at_0", lambda m, a: a.norm(), [(np.zeros(3),)]),
    Op("std_constant", lambda m, a: a.std(), [(np.ones(4),)]),
    Op(
        "pow_at_0",
        lambda m, a, b: a**b,
        [(np.array([0.0, 0.0, 1.0]), np.array([2.0, 0.0, 0.5]))],
    ),
]


def _cases(ops):
    return [
        pytest.param(op, i, id=f"{op.name}-{i}")
        for op in ops
        for i in range(len(op.samples))
    ]


CASES, KINK_CASES = _cases(OPS), _cases(KINKS)


def _sample(op, i):
    """(layout, array) per input, drawn from a generator seeded by the case."""
    rng = np.random.default_rng(zlib.crc32(f"{op.name}-{i}".encode()))
    domains = op.domain if isinstance(op.domain, tuple) else (op.domain,) * 8
    out = []
    for spec, dom in zip(op.samples[i], domains, strict=False):
        marked = isinstance(spec, tuple) and spec[:1] in (("t",), ("s",))
        layout, spec = spec if marked else ("c", spec)
        arr = spec if isinstance(spec, np.ndarray) else DOMAINS[dom](rng, spec)
        out.append((layout, np.asarray(arr, dtype=np.float64)))
    return out


def _stored(layout, arr):
    """The leaf's contents for a layout (see t() and s())."""
    if layout == "t":
        return np.ascontiguousarray(np.swapaxes(arr, -1, -2))
    if layout == "s":
        return np.repeat(arr, 2, axis=-1)
    return arr


def _view(layout, leaf):
    if layout == "t":
        return leaf.transpose(-1, -2)
    if layout == "s":
        return leaf[..., ::2]
    return leaf


def _leaves(m, sample, dtype):
    return [
        m.tensor(_stored(layout, arr), dtype=getattr(m, dtype), requires_grad=True)
        for layout, arr in sample
    ]


def _apply(m, op, sample, leaves):
    return op.fn(
        m, *[_view(layout, x) for (layout, _), x in zip(sample, leaves, strict=True)]
    )


def _weight(op, i, shape):
    rng = np.random.default_rng(zlib.crc32(f"w-{op.name}-{i}".encode()))
    return rng.uniform(0.5, 1.5, shape)


def _run(m, op, i, dtype):
    """Forward, then backward with a fixed non-uniform upstream gradient."""
    sample = _sample(op, i)
    leaves = _leaves(m, sample, dtype)
    out = _apply(m, op, sample, leaves)
    w = _weight(op, i, tuple(out.shape))
    out.backward(m.tensor(w, dtype=out.dtype))
    return out, [x.grad for x in leaves]


def _compare_with_torch(op, i, dtype, **tol):
    g_out, g_grads = _run(G, op, i, dtype)
    t_out, t_grads = _run(torch, op, i, dtype)
    assert g_out.dtype == getattr(G, str(t_out.dtype).removeprefix("torch."))
    assert_same_values(g_out, t_out, dtype, **tol)
    for k, (a, b) in enumerate(zip(g_grads, t_grads, strict=True)):
        assert a is not None and b is not None, f"input {k}"
        assert a.dtype == getattr(G, dtype)
        assert_same_values(a, b, dtype, **tol)


@pytest.mark.parametrize("op, i", CASES)
def test_gradcheck(op, i):
    sample = _sample(op, i)
    leaves = _leaves(G, sample, "float64")
    assert G.autograd.gradcheck(
        lambda *xs: _apply(G, op, sample, xs), tuple(leaves), **op.gradcheck
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op, i", CASES)
def test_grads_match_torch(op, i, dtype):
    _compare_with_torch(op, i, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op, i", KINK_CASES)
def test_kinks_and_ties_match_torch(op, i, dtype):
    _compare_with_torch(op, i, dtype)


@pytest.mark.parametrize("op, i", CASES + KINK_CASES)
def test_grad_fn_names_match_torch(op, i):
    g_out, t_out = (
        _apply(m, op, _sample(op, i), _leaves(m, _sample(op, i), "float32"))
        for m in (G, torch)
    )
    # composites (matmul of a matrix with a batch folds into a transposed
    # product and a clone) name the node of their last step, as torch's
    assert_same_node_name(node_name(g_out.grad_fn), node_name(t_out.grad_fn))


def test_kink_values():
    # The rules at kinks, stated directly (torch agrees: see the KINKS table).
    x = G.tensor(KINK_INPUT, requires_grad=True)
    x.relu().sum().backward()
    assert to_np(x.grad).tolist() == [0, 0, 0, 1, 1]
    x.grad = None
    x.clamp(-0.5, 0.5).sum().backward()
    assert to_np(x.grad).tolist() == [0, 1, 1, 1, 0]
    y = G.tensor([1.0, 3.0, 3.0], requires_grad=True)
    y.max().backward()
    assert to_np(y.grad).tolist() == [0, 0.5, 0.5]
    y.grad = None
    y.abs().sum().backward()
    assert to_np(y.grad).tolist() == [1, 1, 1]


def test_repeated_indices_accumulate():
    x = G.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x[[0, 0, 2, 0]] * G.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert to_np(x.grad).tolist() == [7.0, 0.0, 3.0]


def test_prod_zero_counts():
    for arr, expected in [
        ([2.0, 3.0, 4.0], [12.0, 8.0, 6.0]),
        ([2.0, 0.0, 4.0], [0.0, 8.0, 0.0]),
        ([0.0, 3.0, 0.0], [0.0, 0.0, 0.0]),
    ]:
        x = G.tensor(arr, requires_grad=True)
        x.prod().backward()
        assert to_np(x.grad).tolist() == expected


# An independent check: NumPy central differences around the forward pass
# alone, against gdlite's backward.
CENTRAL = [
    "mul-2",
    "div-0",
    "pow_tensor-0",
    "prod_dim-2",
    "norm_p3_dim-0",
    "matmul_batched-0",
    "std_dim-0",
    "index_list-0",
    "setitem_list-0",
    "where-1",
    "remainder-0",
    "bmm-1",
]


@pytest.mark.parametrize("case", CENTRAL)
def test_own_central_difference(case):
    name, i = case.rsplit("-", 1)
    op, i = next(o for o in OPS if o.name == name), int(i)
    sample = _sample(op, i)
    out, grads = _run(G, op, i, "float64")
    weight = _weight(op, i, tuple(out.shape))
    layouts = [layout for layout, _ in sample]

    def forward(arrays):
        with G.no_grad():
            xs = [G.tensor(a) for a in arrays]
            return to_np(
                op.fn(G, *[_view(lay, x) for lay, x in zip(layouts, xs, strict=True)])
            )

    stored = [_stored(layout, arr) for layout, arr in sample]
    numeric = central_difference(forward, stored, weight)
    for g, n in zip(grads, numeric, strict=True):
        assert_close(to_np(g), n, rtol=1e-6, atol=1e-7)
