"""gdlite.autograd.Function against torch.autograd.Function: each program runs
under both libraries with the same inputs, and values, node names, flags and
errors are compared."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest
import torch
from autograd_helpers import assert_close, assert_same_error, node_name, to_np

import gdlite as G


def square_fn(L: Any) -> Any:
    """The IBM lab's custom square function, as the lab writes it."""

    class SQ(L.autograd.Function):
        @staticmethod
        def forward(ctx, i):
            result = i**2
            ctx.save_for_backward(i)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            (i,) = ctx.saved_tensors
            grad_output = 2 * i
            return grad_output

    return SQ


def scaled_fn(L: Any) -> Any:
    """x * x * k with a number argument and an unused tensor argument."""

    class Scaled(L.autograd.Function):
        @staticmethod
        def forward(ctx, x, k, w):
            ctx.save_for_backward(x)
            ctx.k = k
            ctx.seen_needs = ctx.needs_input_grad
            return x * x * k

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g * ctx.k, None, None

    return Scaled


def test_ibm_custom_square() -> None:
    def run(L: Any) -> list[Any]:
        x = L.tensor(2.0, requires_grad=True)
        sq = square_fn(L).apply
        y = sq(x)
        out = [repr(y), node_name(y.grad_fn)]
        y.backward()
        return [*out, repr(x.grad)]

    got, want = run(G), run(torch)
    assert got == [w.replace("torch.", "gdlite.") for w in want]


def test_node_repr_names_the_function_class() -> None:
    def run(L: Any) -> str:
        y = square_fn(L).apply(L.tensor(2.0, requires_grad=True))
        return repr(y.grad_fn).split(" object at ")[0]

    assert run(G) == run(torch).replace("torch.", "gdlite.")


def test_arguments_flags_and_edges() -> None:
    def run(L: Any) -> list[Any]:
        x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = L.tensor([1.0])
        y = scaled_fn(L).apply(x, 3.0, w)
        edges = [node_name(n) for n, _ in y.grad_fn.next_functions]
        flags = [y.requires_grad, y.is_leaf, y.grad_fn.seen_needs, y.grad_fn.k]
        y.sum().backward()
        return [edges, flags, to_np(x.grad), to_np(y)]

    got, want = run(G), run(torch)
    assert got[:2] == want[:2]
    assert_close(got[2], want[2], "float32")
    assert_close(got[3], want[3], "float32")


def test_no_graph_without_grad() -> None:
    def run(L: Any) -> list[Any]:
        fn = scaled_fn(L)
        a = fn.apply(L.tensor([1.0, 2.0]), 2.0, L.tensor([1.0]))
        with L.no_grad():
            b = fn.apply(L.tensor([1.0], requires_grad=True), 2.0, None)
        return [a.requires_grad, a.grad_fn, b.requires_grad, b.grad_fn]

    assert run(G) == run(torch)


def test_second_backward_needs_retain_graph() -> None:
    def run(L: Any) -> Any:
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = square_fn(L).apply(x).sum()
        y.backward()
        y.backward()

    assert_same_error(run)


def test_retain_graph_keeps_saved_tensors() -> None:
    def run(L: Any) -> Any:
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = scaled_fn(L).apply(x, 2.0, None).sum()
        y.backward(retain_graph=True)
        y.backward()
        return to_np(x.grad)

    assert_close(run(G), run(torch), "float32")


def one_way(L: Any, result: Any, n_args: int = 1) -> Any:
    class F(L.autograd.Function):
        @staticmethod
        def forward(ctx, *args):
            return args[0] * 2

        @staticmethod
        def backward(ctx, g):
            return result(L, g)

    def run() -> Any:
        x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        F.apply(*([x] * n_args)).sum().backward()
        return x.grad

    return run()


@pytest.mark.parametrize(
    ("result", "n_args"),
    [
        (lambda L, g: g, 2),  # too few gradients
        (lambda L, g: (g, g), 1),  # an extra gradient that is not None
        (lambda L, g: g[:2], 1),  # wrong shape
        (lambda L, g: L.ones(3, 2), 1),  # a shape the input does not expand to
        (lambda L, g: 3, 1),  # not a tensor
    ],
)
def test_bad_gradients_fail_as_torch(result: Any, n_args: int) -> None:
    assert_same_error(lambda L: one_way(L, result, n_args))


@pytest.mark.parametrize(
    "result",
    [
        lambda L, g: (g, None),  # extra Nones are accepted
        lambda L, g: g.expand(2, 3),  # broadcast gradients are summed back
        lambda L, g: g.double(),  # other dtypes are cast to the input's
    ],
)
def test_lenient_gradients_are_accepted_as_torch(result: Any) -> None:
    got, want = one_way(G, result), one_way(torch, result)
    assert got.dtype == getattr(G, str(want.dtype).split(".")[1])
    assert_close(to_np(got), to_np(want), "float32")


def test_exception_in_backward_propagates() -> None:
    def run(L: Any) -> Any:
        class Boom(L.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                raise ValueError("boom")

        x = L.tensor([1.0], requires_grad=True)
        (Boom.apply(x) * x).sum().backward()

    assert_same_error(run)


def two_outputs(L: Any, materialize: bool) -> Any:
    class Two(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(materialize)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            ctx.seen = (g1 is None, g2 is None)
            out = 0
            if g1 is not None:
                out = out + g1 * 2
            if g2 is not None:
                out = out + g2 * 3
            return out

    return Two


@pytest.mark.parametrize("materialize", [True, False])
def test_two_outputs(materialize: bool) -> None:
    def run(L: Any) -> list[Any]:
        x = L.tensor([1.0, 2.0], requires_grad=True)
        a, b = two_outputs(L, materialize).apply(x)
        node = b.grad_fn
        edges = [(node_name(n), nr) for n, nr in (a * b).grad_fn.next_functions]
        (b * b).sum().backward(retain_graph=True)
        first = to_np(x.grad)
        (a + b).sum().backward()
        return [node_name(a.grad_fn), node.seen, edges, first, to_np(x.grad)]

    got, want = run(G), run(torch)
    assert got[:3] == want[:3]
    assert_close(got[3], want[3], "float32")
    assert_close(got[4], want[4], "float32")


def test_mark_non_differentiable() -> None:
    def run(L: Any) -> list[Any]:
        class SortLike(L.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                idx = (x > 0).double()
                ctx.mark_non_differentiable(idx)
                return x * 1.0, idx

            @staticmethod
            def backward(ctx, g, g_idx):
                ctx.idx_grad = None if g_idx is None else to_np(g_idx).tolist()
                return g

        x = L.tensor([1.0, -2.0], dtype=L.float64, requires_grad=True)
        y, idx = SortLike.apply(x)
        node = y.grad_fn
        y.sum().backward()
        return [idx.requires_grad, idx.grad_fn, node.idx_grad, to_np(x.grad).tolist()]

    assert run(G) == run(torch)


def dirty_fn(L: Any) -> Any:
    class AddOneInPlace(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 5

    return AddOneInPlace


def test_mark_dirty() -> None:
    def run(L: Any) -> list[Any]:
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        z = dirty_fn(L).apply(y)
        out = [z is y, node_name(y.grad_fn), to_np(y).tolist(), y._version]
        z.sum().backward()
        return [*out, to_np(x.grad).tolist()]

    assert run(G) == run(torch)


def test_mark_dirty_on_leaf_fails_as_torch() -> None:
    assert_same_error(lambda L: dirty_fn(L).apply(L.tensor([1.0], requires_grad=True)))


def test_returning_an_input_makes_a_new_tensor() -> None:
    def run(L: Any) -> list[Any]:
        class Same(L.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 3

        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = Same.apply(x)
        out = [y is x, node_name(y.grad_fn), x.grad_fn]
        y.sum().backward()
        return [*out, to_np(x.grad).tolist()]

    assert run(G) == run(torch)


def exp_fn(L: Any) -> Any:
    """Saves its output, as torch's docs' Exp example."""

    class Exp(L.autograd.Function):
        @staticmethod
        def forward(ctx, i):
            result = i.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            (result,) = ctx.saved_tensors
            return grad_output * result

    return Exp


def test_create_graph_through_a_function() -> None:
    def run(L: Any) -> list[Any]:
        x = L.tensor([0.5, -1.0], dtype=L.float64, requires_grad=True)
        y = (exp_fn(L).apply(x) * square_fn(L).apply(x)).sum()
        (g,) = L.autograd.grad(y, x, create_graph=True)
        (h,) = L.autograd.grad(g.sum(), x)
        return [to_np(g), to_np(h), node_name(g.grad_fn)]

    got, want = run(G), run(torch)
    assert_close(got[0], want[0])
    assert_close(got[1], want[1])
    assert got[2] == want[2]


def test_saved_output_modified_in_place_fails() -> None:
    def run(L: Any) -> Any:
        x = L.tensor([0.5, -1.0], requires_grad=True)
        y = exp_fn(L).apply(x)
        y.mul_(2)
        y.sum().backward()

    assert_same_error(run, upto="expected version 0 instead.")


def test_saved_input_modified_in_place_fails() -> None:
    def run(L: Any) -> Any:
        x = L.tensor([0.5, -1.0], requires_grad=True)
        y = x * 1
        z = square_fn(L).apply(y)
        y.add_(1)
        z.sum().backward()

    assert_same_error(run, upto="expected version 0 instead.")


def test_setup_context_style() -> None:
    def run(L: Any) -> Any:
        class Cube(L.autograd.Function):
            @staticmethod
            def forward(x):
                return x**3

            @staticmethod
            def setup_context(ctx, inputs, output):
                (ctx.x,) = inputs

            @staticmethod
            def backward(ctx, g):
                return 3 * ctx.x**2 * g

        x = L.tensor([1.0, 2.0], requires_grad=True)
        Cube.apply(x).sum().backward()
        return to_np(x.grad)

    assert_close(run(G), run(torch), "float32")


def test_missing_backward_fails_as_torch() -> None:
    def run(L: Any) -> Any:
        class OnlyForward(L.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

        OnlyForward.apply(L.tensor([1.0], requires_grad=True)).sum().backward()

    assert_same_error(run)


def test_training_step_through_a_function() -> None:
    """A custom square inside an SGD loop gives torch's parameters."""

    def run(L: Any) -> Any:
        w = L.tensor([0.5, -0.3], requires_grad=True)
        opt = L.optim.SGD([w], lr=0.1)
        data = L.tensor(np.array([[1.0, 2.0], [0.5, -1.0], [2.0, 0.1]], np.float32))
        for _ in range(5):
            opt.zero_grad()
            loss = square_fn(L).apply(data @ w - 1.0).mean()
            loss.backward()
            opt.step()
        return to_np(w)

    np.testing.assert_array_equal(run(G), run(torch))


def test_graph_is_released() -> None:
    """No cycle keeps a Function's graph alive: the ctx (holding a saved output
    and the input) goes with the result, by reference counting alone."""
    code = """
import gc, weakref, gdlite as G
gc.disable()
class Exp(G.autograd.Function):
    @staticmethod
    def forward(ctx, i):
        r = i.exp(); ctx.save_for_backward(r, i); ctx.input = i
        Exp.ctx = weakref.ref(ctx); return r
    @staticmethod
    def backward(ctx, g):
        (r, i) = ctx.saved_tensors; return g * r
x = G.tensor([1.0], requires_grad=True)
y = Exp.apply(x) * 2
y.sum().backward(retain_graph=True)
alive = Exp.ctx() is not None
del y
print(alive, Exp.ctx() is None, x.grad.tolist())
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[:2] == ["True", "True"]


@pytest.mark.parametrize(
    "use",
    [
        lambda L, a, b: b.register_hook(lambda g: None),
        lambda L, a, b: b.retain_grad(),
        lambda L, a, b: L.autograd.grad((a * b).sum(), b),
    ],
)
def test_later_outputs_refuse_what_gdlite_does_not_follow(use: Any) -> None:
    """Hooks, retained grads and gradients with respect to a Function's second
    output are refused rather than given the first output's gradient."""
    x = G.tensor([1.0, 2.0], requires_grad=True)
    a, b = two_outputs(G, True).apply(x)
    with pytest.raises(NotImplementedError, match="output 1 of TwoBackward"):
        use(G, a, b)
    use(torch, *two_outputs(torch, True).apply(torch.tensor([1.0], requires_grad=True)))
