"""gdlite.autograd.functional (jacobian, hessian and the vector products)
against torch.autograd.functional: values, nesting of results, flags and
errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from autograd_helpers import assert_close, assert_same_error

import gdlite as G

A = np.array([[1.0, -0.5], [0.25, 2.0], [0.5, 0.5]])
X = np.array([1.0, 2.0])
Y = np.array([0.5, -1.0])


def nested(value: Any) -> Any:
    """Tensors anywhere in tuples as NumPy arrays, with their requires_grad."""
    if isinstance(value, tuple):
        return tuple(nested(v) for v in value)
    return (value.detach().numpy().copy(), value.requires_grad)


def assert_same_nested(got: Any, want: Any) -> None:
    if isinstance(want, tuple) and not isinstance(want[0], np.ndarray):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            assert_same_nested(g, w)
        return
    assert got[0].shape == want[0].shape
    assert_close(got[0], want[0])
    assert got[1] == want[1]


def inputs(L: Any, which: str) -> Any:
    x = L.tensor(X, dtype=L.float64)
    y = L.tensor(Y, dtype=L.float64)
    return {"x": x, "xy": (x, y), "x_tuple": (x,)}[which]


FUNCTIONS = {
    "linear": (lambda L: lambda x: L.tensor(A, dtype=L.float64) @ x, "x"),
    "elementwise": (lambda L: lambda x: x.exp() * x.sin(), "x"),
    "scalar": (lambda L: lambda x: (x**3).sum(), "x"),
    "two_in_two_out": (lambda L: lambda x, y: ((x**2 * y.sin()).sum(), x * y), "xy"),
    "tuple_of_one": (lambda L: lambda x: (x.tanh(),), "x_tuple"),
    "matrix_out": (lambda L: lambda x: x.unsqueeze(1) * x.unsqueeze(0), "x"),
    "unused_input": (lambda L: lambda x, y: x.sigmoid(), "xy"),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("vectorize", [False, True])
def test_jacobian(name: str, create_graph: bool, vectorize: bool) -> None:
    def run(L: Any) -> Any:
        make, which = FUNCTIONS[name]
        return nested(
            L.autograd.functional.jacobian(
                make(L),
                inputs(L, which),
                create_graph=create_graph,
                vectorize=vectorize,
            )
        )

    assert_same_nested(run(G), run(torch))


SCALARS = {
    "cubic": (lambda L: lambda x: (x**3).sum(), "x"),
    "mixed": (lambda L: lambda x, y: (x**3 * y + (x * y).exp()).sum(), "xy"),
    "softmax": (
        lambda L: lambda x: (x.softmax(0) * L.tensor(Y, dtype=L.float64)).sum(),
        "x",
    ),
    "quadratic": (lambda L: lambda x: 0.1 * x[0] ** 2 + 2 * x[1] ** 2, "x"),
    "tuple_of_one": (lambda L: lambda x: (x.tanh() * x).sum(), "x_tuple"),
}


@pytest.mark.parametrize("name", sorted(SCALARS))
@pytest.mark.parametrize("create_graph", [False, True])
def test_hessian(name: str, create_graph: bool) -> None:
    def run(L: Any) -> Any:
        make, which = SCALARS[name]
        return nested(
            L.autograd.functional.hessian(
                make(L), inputs(L, which), create_graph=create_graph
            )
        )

    assert_same_nested(run(G), run(torch))


def test_hessian_of_requires_grad_inputs_with_create_graph() -> None:
    """create_graph keeps the Hessian differentiable in the inputs."""

    def run(L: Any) -> Any:
        x = L.tensor(X, dtype=L.float64, requires_grad=True)
        h = L.autograd.functional.hessian(lambda x: (x**4).sum(), x, create_graph=True)
        return L.autograd.grad(h.sum(), x)[0].numpy()

    assert_close(run(G), run(torch))


@pytest.mark.parametrize("product", ["vjp", "jvp", "hvp", "vhp"])
@pytest.mark.parametrize("name", ["cubic", "mixed"])
def test_vector_products(product: str, name: str) -> None:
    def run(L: Any) -> Any:
        make, which = SCALARS[name]
        xs = inputs(L, which)
        if product in ("vjp",):
            v = None
        elif isinstance(xs, tuple):
            v = tuple(L.ones(2, dtype=L.float64) * (k + 1) for k in range(len(xs)))
        else:
            v = L.tensor([1.0, -2.0], dtype=L.float64)
        if product == "jvp":
            return nested(L.autograd.functional.jvp(make(L), xs, v))
        return nested(getattr(L.autograd.functional, product)(make(L), xs, v))

    assert_same_nested(run(G), run(torch))


def test_newton_step_with_hessian() -> None:
    """d2l's quadratic 0.1 x1^2 + 2 x2^2: one Newton step x - H^-1 g reaches 0."""

    def run(L: Any) -> Any:
        f = SCALARS["quadratic"][0](L)
        x = L.tensor([-5.0, -2.0], dtype=L.float64)
        g = L.autograd.functional.jacobian(f, x)
        h = L.autograd.functional.hessian(f, x)
        hinv = np.linalg.inv(h.numpy())
        return x.numpy() - hinv @ g.numpy()

    got, want = run(G), run(torch)
    np.testing.assert_array_equal(got, want)
    assert_close(got, np.zeros(2))


ERRORS = {
    "list_inputs": lambda L: L.autograd.functional.jacobian(lambda x: x, [L.tensor(X)]),
    "number_in_tuple": lambda L: L.autograd.functional.jacobian(
        lambda x, y: x, (L.tensor(X), 3.0)
    ),
    "number_output": lambda L: L.autograd.functional.jacobian(
        lambda x: 3.0, L.tensor(X)
    ),
    "bad_strategy": lambda L: L.autograd.functional.jacobian(
        lambda x: x, L.tensor(X), strategy="sideways"
    ),
    "forward_without_vectorize": lambda L: L.autograd.functional.jacobian(
        lambda x: x, L.tensor(X), strategy="forward-mode"
    ),
    "forward_create_graph": lambda L: L.autograd.functional.jacobian(
        lambda x: x,
        L.tensor(X),
        strategy="forward-mode",
        create_graph=True,
        vectorize=True,
    ),
    "strict_vectorize": lambda L: L.autograd.functional.jacobian(
        lambda x: x * 2, L.tensor(X), strict=True, vectorize=True
    ),
    "strict_constant_output": lambda L: L.autograd.functional.jacobian(
        lambda x: L.tensor(X), L.tensor(X), strict=True
    ),
    "strict_unused_input": lambda L: L.autograd.functional.jacobian(
        lambda x, y: x * 2, (L.tensor(X), L.tensor(Y)), strict=True
    ),
    "strict_linear_hessian": lambda L: L.autograd.functional.hessian(
        lambda x: x.sum() * 2, L.tensor(X), strict=True
    ),
    "hessian_of_vector": lambda L: L.autograd.functional.hessian(
        lambda x: x * 2, L.tensor(X)
    ),
    "hessian_of_tuple": lambda L: L.autograd.functional.hessian(
        lambda x: (x.sum(),), L.tensor(X)
    ),
    "vjp_needs_v": lambda L: L.autograd.functional.vjp(lambda x: x * 2, L.tensor(X)),
    "vjp_v_size": lambda L: L.autograd.functional.vjp(
        lambda x: x * 2, L.tensor(X), L.ones(3)
    ),
    "hvp_v_length": lambda L: L.autograd.functional.hvp(
        lambda x, y: (x * y).sum(), (L.tensor(X), L.tensor(Y)), (L.ones(2),)
    ),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_torch(name: str) -> None:
    assert_same_error(ERRORS[name])
