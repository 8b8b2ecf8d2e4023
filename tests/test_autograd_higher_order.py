"""Higher-order gradients: create_graph=True in backward and autograd.grad,
against the installed torch (values of second derivatives, the nodes of the
gradient's graph, requires_grad, errors)."""

from __future__ import annotations

import gc
import subprocess
import sys
import warnings
from typing import Any

import numpy as np
import pytest
import torch
from autograd_helpers import assert_close, assert_same_error, node_name, to_np
from c_heap import C_HEAP_BYTES, needs_heap

import gdlite as G

RNG = np.random.default_rng(7)
X = RNG.standard_normal((3, 4))
POS = np.abs(X) + 0.5
IDX = np.array([[0, 1, 2, 0], [1, 1, 0, 2], [2, 0, 1, 1]])
TARGET = RNG.random((3, 4))

# name -> (function of (library, x), input array). Each covers one
# differentiable op (or its decomposition) that gdlite has.
CASES = {
    "neg": (lambda L, x: -x, X),
    "abs": (lambda L, x: L.abs(x), X),
    "exp": (lambda L, x: L.exp(x), X),
    "log": (lambda L, x: L.log(x), POS),
    "sqrt": (lambda L, x: L.sqrt(x), POS),
    "square": (lambda L, x: L.square(x), X),
    "reciprocal": (lambda L, x: L.reciprocal(x), POS),
    "sin": (lambda L, x: L.sin(x), X),
    "cos": (lambda L, x: L.cos(x), X),
    "tanh": (lambda L, x: L.tanh(x), X),
    "sigmoid": (lambda L, x: L.sigmoid(x), X),
    "relu": (lambda L, x: L.relu(x) * x, X),
    "relu_alone": (lambda L, x: L.relu(x), X),
    "nll_alone": (lambda L, x: L.nn.functional.nll_loss(x, L.tensor([0, 1, 3])), X),
    "pow2": (lambda L, x: x**2, X),
    "pow3": (lambda L, x: x**3, X),
    "pow2.5": (lambda L, x: x**2.5, POS),
    "rpow": (lambda L, x: 2**x, X),
    "pow_tensor": (lambda L, x: x**x, POS),
    "mul": (lambda L, x: x * x, X),
    "div": (lambda L, x: x / (x * x + 3), X),
    "rdiv": (lambda L, x: 3.0 / x, POS),
    "rsub": (lambda L, x: (1 - x) * x, X),
    "clamp": (lambda L, x: x.clamp(-0.5, 0.5) * x, X),
    "sum": (lambda L, x: (x * x).sum(), X),
    "sum_dim": (lambda L, x: (x * x).sum(1), X),
    "mean": (lambda L, x: (x * x).mean(), X),
    "mean_dim": (lambda L, x: (x * x).mean(0), X),
    "prod": (lambda L, x: x.prod(1), X),
    "max": (lambda L, x: (x * x).max(), X),
    "max_dim": (lambda L, x: (x * x).max(1)[0], X),
    "min_dim_keep": (lambda L, x: (x * x).min(0, keepdim=True)[0], X),
    "var": (lambda L, x: x.var(1), X),
    "std": (lambda L, x: x.std(), X),
    "norm": (lambda L, x: x.norm(), X),
    "cumsum": (lambda L, x: (x * x).cumsum(1), X),
    "mm": (lambda L, x: x @ x.t(), X),
    "matmul_mv": (lambda L, x: x @ x[0], X),
    "dot": (lambda L, x: x[0] @ x[1], X),
    "addmm": (lambda L, x: L.addmm(x[:, :3], x, x.t()[:, :3]), X),
    "view": (lambda L, x: (x * x).view(12), X),
    "transpose": (lambda L, x: (x * x).transpose(0, 1), X),
    "expand": (lambda L, x: (x * x)[0:1].expand(3, 4), X),
    "select": (lambda L, x: (x * x)[1], X),
    "slice_step": (lambda L, x: (x * x)[:, ::2], X),
    "unsqueeze": (lambda L, x: (x * x).unsqueeze(0), X),
    "cat": (lambda L, x: L.cat([x * x, x * 2]), X),
    "stack": (lambda L, x: L.stack([x * x, x]), X),
    "index_select": (lambda L, x: (x * x).index_select(0, L.tensor([0, 2])), X),
    "gather": (lambda L, x: (x * x).gather(1, L.tensor(IDX)), X),
    "index": (lambda L, x: (x * x)[[0, 2]], X),
    "log1p": (lambda L, x: L.log1p(x), POS),
    "tan": (lambda L, x: L.tan(x * 0.3), X),
    "sinh_cosh": (lambda L, x: L.sinh(x) * L.cosh(x), X),
    "remainder": (lambda L, x: (x * x) % 1.5, X),
    "floor": (lambda L, x: L.floor(x) * x, X),
    "prod_with_zero": (lambda L, x: (x * L.tensor([1.0, 0.0, 1.0, 1.0])).prod(1), X),
    "norm_p1": (lambda L, x: x.norm(p=1), X),
    "norm_p3": (lambda L, x: x.norm(p=3), X),
    "norm_inf": (lambda L, x: x.norm(p=float("inf")), X),
    "amax": (lambda L, x: (x * x).amax(dim=(0, 1)), X),
    "permute": (lambda L, x: (x * x).permute(1, 0), X),
    "squeeze": (lambda L, x: (x * x).unsqueeze(1).squeeze(1), X),
    "to_float32": (lambda L, x: (x * x).float(), X),
    "clone": (lambda L, x: (x * x).clone(), X),
    "batched_matmul": (lambda L, x: x.view(3, 2, 2) @ x.view(3, 2, 2), X),
    "vecmat": (lambda L, x: x[0] @ (x.t() * x.t()), X),
    "minimum": (lambda L, x: L.minimum(x * x, x[[2, 1, 0]]), X),
    "where": (lambda L, x: L.where(x > 0, x * x, x * 3), X),
    "maximum": (lambda L, x: L.maximum(x * x, x[[2, 1, 0]]), X),
    "scatter_add": (
        lambda L, x: L.zeros(3, 4, dtype=x.dtype).scatter_add(1, L.tensor(IDX), x * x),
        X,
    ),
    "softmax": (lambda L, x: x.softmax(1), X),
    "log_softmax": (lambda L, x: x.log_softmax(1), X),
    "mse": (
        lambda L, x: L.nn.functional.mse_loss(x * x, L.tensor(TARGET, dtype=x.dtype)),
        X,
    ),
    "huber": (
        lambda L, x: L.nn.functional.huber_loss(x * x, L.tensor(TARGET, dtype=x.dtype)),
        X,
    ),
    "smooth_l1": (
        lambda L, x: L.nn.functional.smooth_l1_loss(
            x * x, L.tensor(TARGET, dtype=x.dtype), beta=0.5
        ),
        X,
    ),
    "nll": (lambda L, x: L.nn.functional.nll_loss(x * x, L.tensor([0, 1, 3])), X),
    "cross_entropy": (
        lambda L, x: L.nn.functional.cross_entropy(x, L.tensor([0, 1, 3])),
        X,
    ),
    "bce": (
        lambda L, x: L.nn.functional.binary_cross_entropy(
            x.sigmoid(), L.tensor(TARGET, dtype=x.dtype)
        ),
        X,
    ),
    "bce_logits": (
        lambda L, x: L.nn.functional.binary_cross_entropy_with_logits(
            x,
            L.tensor(TARGET, dtype=x.dtype),
            pos_weight=L.tensor([1.0, 2.0, 0.5, 3.0], dtype=x.dtype),
        ),
        X,
    ),
}

# Cases whose first gradient's node is named differently from torch's, with
# (gdlite's, torch's) names; none today.
NAME_DIFFERENCES: dict[str, tuple[str, str]] = {}


def arr(t: Any) -> Any:
    """NumPy values of either library's tensor (torch's materialized zeros are
    ZeroTensors, which need force=True)."""
    if isinstance(t, torch.Tensor):
        return t.detach().numpy(force=True)
    return to_np(t)


def second_order(L: Any, name: str, dtype: Any) -> dict[str, Any]:
    f, data = CASES[name]
    x = L.tensor(data, dtype=dtype, requires_grad=True)
    y = f(L, x)
    go = L.tensor(np.linspace(-1, 1, y.numel()).reshape(tuple(y.shape)), dtype=y.dtype)
    go.requires_grad_()
    g1 = L.autograd.grad(y, x, L.ones(tuple(y.shape), dtype=dtype), create_graph=True)[
        0
    ]
    y = f(L, x)
    g = L.autograd.grad(y, x, go, create_graph=True)[0]
    w = L.tensor(np.linspace(0.5, 2, 12).reshape(3, 4), dtype=x.dtype)
    hx, hgo = L.autograd.grad((g * w).sum(), [x, go], materialize_grads=True)
    return {
        "g": to_np(g),
        "hx": arr(hx),
        "hgo": arr(hgo),
        "name": node_name(g.grad_fn),
        "name1": node_name(g1.grad_fn),
        "requires1": g1.requires_grad,
    }


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_derivatives_match_torch(name: str) -> None:
    got = second_order(G, name, G.float64)
    want = second_order(torch, name, torch.float64)
    assert_close(got["g"], want["g"])
    assert_close(got["hx"], want["hx"])
    assert_close(got["hgo"], want["hgo"])
    assert (got["name"], want["name"]) == NAME_DIFFERENCES.get(
        name, (want["name"], want["name"])
    )
    assert (got["name1"], want["name1"]) == NAME_DIFFERENCES.get(
        name, (want["name1"], want["name1"])
    )
    assert got["requires1"] == want["requires1"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_numbers_do_not_change_under_create_graph(name: str) -> None:
    """The first gradient holds the same float32 numbers with or without a graph
    (fused kernels keep their numbers; their graph comes from a composite)."""
    f, data = CASES[name]
    x = G.tensor(data, dtype=G.float32, requires_grad=True)
    plain = G.autograd.grad(f(G, x).sum(), x)[0]
    graph = G.autograd.grad(f(G, x).sum(), x, create_graph=True)[0]
    np.testing.assert_array_equal(graph.detach().numpy(), plain.numpy())


@pytest.mark.parametrize("name", ["relu_alone", "nll_alone"])
def test_gradient_of_constant_first_gradient(name: str) -> None:
    """relu's and nll_loss's gradients depend on x with a zero derivative
    (torch's backward ops take the result or input): differentiating them
    again gives zeros, not an error."""

    def run(L: Any) -> Any:
        f, data = CASES[name]
        x = L.tensor(data, requires_grad=True)
        (g,) = L.autograd.grad(f(L, x).sum(), x, create_graph=True)
        return to_np(L.autograd.grad((g * g).sum(), x)[0])

    assert_close(run(G), run(torch), "float32")


def test_grad_of_grad_sum() -> None:
    def run(L: Any) -> Any:
        x = L.tensor([0.5, -1.0, 2.0], requires_grad=True)
        y = (x**3 * x.sin()).sum()
        g = L.autograd.grad(y, x, create_graph=True)[0]
        return L.autograd.grad(g.sum(), x)[0]

    assert_close(to_np(run(G)), to_np(run(torch)), "float32")


def test_third_derivative() -> None:
    def run(L: Any) -> list[Any]:
        x = L.tensor(1.5, requires_grad=True)
        out, y = [], x**4 * x.exp()
        for _ in range(3):
            (y,) = L.autograd.grad(y, x, create_graph=True)
            out.append(y.item())
        return out

    assert_close(run(G), run(torch), "float32")


def test_hessian_vector_product() -> None:
    def run(L: Any) -> Any:
        w = L.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
        x = L.tensor([[0.3, 0.7], [-1.2, 0.4], [2.0, -0.1]])
        loss = (L.tanh(x @ w) ** 2).mean()
        (g,) = L.autograd.grad(loss, w, create_graph=True)
        v = L.tensor([[1.0, 0.0], [0.5, -1.0]])
        return L.autograd.grad((g * v).sum(), w)[0]

    assert_close(to_np(run(G)), to_np(run(torch)), "float32")


def test_newton_method_on_quadratic() -> None:
    """f(x) = 3x^2 + 2x + 1 (fast.ai's quadratic): one Newton step x -= f'/f''
    lands on the minimum -1/3; the same loop in both libraries."""

    def run(L: Any) -> list[float]:
        x = L.tensor(2.0, requires_grad=True)
        trace = []
        for _ in range(3):
            y = 3 * x**2 + 2 * x + 1
            (d1,) = L.autograd.grad(y, x, create_graph=True)
            (d2,) = L.autograd.grad(d1, x)
            with L.no_grad():
                x -= d1 / d2
            trace.append(x.item())
        return trace

    got, want = run(G), run(torch)
    assert got == want
    assert got[0] == pytest.approx(-1 / 3)


def test_backward_create_graph_accumulates_with_history() -> None:
    def run(L: Any) -> list[Any]:
        x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (x**3).sum().backward(create_graph=True)
            first = (to_np(x.grad), node_name(x.grad.grad_fn), x.grad.requires_grad)
            (x**3).sum().backward(create_graph=True)
        second = (to_np(x.grad), node_name(x.grad.grad_fn))
        (h,) = L.autograd.grad(x.grad.sum(), x)
        x.grad = None  # break the cycle x -> grad -> graph -> x, as torch advises
        return [first, second, to_np(h)]

    got, want = run(G), run(torch)
    assert_close(got[0][0], want[0][0], "float32")
    assert got[0][1:] == want[0][1:]
    assert_close(got[1][0], want[1][0], "float32")
    assert got[1][1] == want[1][1]
    assert_close(got[2], want[2], "float32")


def test_backward_create_graph_warns_as_torch() -> None:
    code = """
import warnings, {lib} as L
x = L.tensor([1.0, 2.0], requires_grad=True)
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    (x * x).sum().backward(create_graph=True)
    (x * x).sum().backward(create_graph=True)
x.grad = None
print(len(w), w[0].category.__name__, str(w[0].message).split(" (Triggered")[0])
"""
    out = {
        lib: subprocess.run(
            [sys.executable, "-c", code.format(lib=lib)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for lib in ("torch", "gdlite")
    }
    assert out["gdlite"] == out["torch"]


def test_create_graph_retains_graph_by_default() -> None:
    def run(L: Any) -> Any:
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = (x.exp() * x).sum()
        a = L.autograd.grad(y, x, create_graph=True)[0]
        b = L.autograd.grad(y, x, create_graph=True)[0]
        return to_np(a + b)

    assert_close(run(G), run(torch), "float32")


def test_create_graph_without_retain_frees_the_graph() -> None:
    def run(L: Any) -> Any:
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = (x.exp() * x).sum()
        L.autograd.grad(y, x, create_graph=True, retain_graph=False)
        L.autograd.grad(y, x)

    assert_same_error(run)


def test_second_gradient_of_constant_gradient_is_refused_as_torch() -> None:
    def run(L: Any) -> Any:
        x = L.tensor([1.0, 2.0], requires_grad=True)
        (g,) = L.autograd.grad((x * 2).sum(), x, create_graph=True)
        assert not g.requires_grad and g.grad_fn is None
        L.autograd.grad(g.sum(), x)

    assert_same_error(run)


def test_gradient_graph_after_release_of_first_graph() -> None:
    """retain_graph=False frees the first graph's saved tensors; the gradient's
    graph, which runs back through those nodes, then fails as torch's does."""

    def run(L: Any) -> Any:
        x = L.tensor(X, requires_grad=True)
        y = ((x.exp()).gather(1, L.tensor(IDX)) ** 2).sum()
        (g,) = L.autograd.grad(y, x, create_graph=True, retain_graph=False)
        L.autograd.grad((g * g).sum(), x)

    assert_same_error(run)


def test_gradient_graph_keeps_its_own_index() -> None:
    """The graph of a gathering op's gradient holds the index itself: it works
    after the first graph is freed."""

    def run(L: Any) -> Any:
        x = L.tensor(X, requires_grad=True)
        go = L.tensor(X[:, ::-1].copy(), requires_grad=True)
        y = x.gather(1, L.tensor(IDX)) * 3.0
        (g,) = L.autograd.grad(y, x, go, create_graph=True, retain_graph=False)
        return to_np(L.autograd.grad((g * g).sum(), go)[0])

    assert_close(run(G), run(torch), "float32")


def test_hooks_see_gradients_with_history() -> None:
    def run(L: Any) -> list[Any]:
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = x * x
        seen = []
        y.register_hook(lambda g: seen.append((g.requires_grad, node_name(g.grad_fn))))
        z = (y * x).sum()
        L.autograd.grad(z, x, create_graph=True)
        return seen

    assert run(G) == run(torch)


def test_index_assignment_refuses_double_backward() -> None:
    """gdlite has no graph for the gradient of an indexed assignment: it says
    so rather than give a gradient without history."""
    x = G.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1.0
    y[G.tensor([0, 2])] = x[:2] * x[:2]
    go = G.ones(3, requires_grad=True)
    with pytest.raises(NotImplementedError, match="IndexPutBackward0"):
        G.autograd.grad(y, x, go, create_graph=True)


def _second_order_step(x: Any, idx: Any) -> None:
    """A Hessian-vector product through recorded, replayed and composite
    rules, a custom Function, and backward(create_graph=True)."""

    class Square(G.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return t * t

        @staticmethod
        def backward(ctx, g):
            (t,) = ctx.saved_tensors
            return 2 * t * g

    y = (Square.apply(x).softmax(1).gather(1, idx).exp() * x[:, :3]).sum()
    y = y + G.nn.functional.mse_loss(x.tanh(), x.relu()) + x.max(1)[0].sum()
    (g,) = G.autograd.grad(y, x, create_graph=True)
    (h,) = G.autograd.grad((g * g).sum(), x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (x * x).sum().backward(create_graph=True)
    x.grad = None
    del h


@needs_heap
def test_second_order_graphs_are_freed() -> None:
    x = G.tensor(X, dtype=G.float32, requires_grad=True)
    idx = G.tensor(IDX[:, :3])
    for _ in range(100):
        _second_order_step(x, idx)
    gc.collect()
    before = C_HEAP_BYTES()
    for _ in range(500):
        _second_order_step(x, idx)
    gc.collect()
    # A leaked node or tensor header alone is larger than 8 bytes an iteration.
    assert C_HEAP_BYTES() - before < 500 * 8
