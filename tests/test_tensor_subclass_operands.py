"""A Tensor subclass that is not the first operand, or reached through a
plain tensor's method, a property or nn.functional: results take the most
derived overriding class, as PyTorch's __torch_function__ dispatch does
(nn.Parameter, which disables it, stays plain)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import gdlite as G

LIBS = {"torch": torch, "gdlite": G}
MyT = {lib: type("MyT", (L.Tensor,), {}) for lib, L in LIBS.items()}
DATA = np.array([1.5, 2.0, 0.5], np.float32)
MATRIX = np.array([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]], np.float32)


def sub(lib: str, data: np.ndarray = DATA) -> object:
    return LIBS[lib].tensor(data).as_subclass(MyT[lib])


def same_kind(got: object, want: object) -> None:
    """Same class name and the same values (recursively through tuples)."""
    assert type(got).__name__ == type(want).__name__
    if isinstance(want, tuple):
        for g, w in zip(got, want, strict=True):
            same_kind(g, w)
        return
    np.testing.assert_allclose(
        np.asarray(got.detach().numpy()), want.detach().numpy(), rtol=1e-6
    )


# (L, p, plain, m): a Parameter, a plain tensor and a MyT, all of DATA.
OPERANDS = {
    "param_mul": lambda L, p, t, m: p * m,
    "param_add": lambda L, p, t, m: p + m,
    "param_sub": lambda L, p, t, m: p - m,
    "param_div": lambda L, p, t, m: p / m,
    "param_floordiv": lambda L, p, t, m: p // m,
    "param_mod": lambda L, p, t, m: p % m,
    "param_pow": lambda L, p, t, m: p**m,
    "param_matmul": lambda L, p, t, m: p @ m,
    "param_eq": lambda L, p, t, m: p == m,
    "param_gt": lambda L, p, t, m: p > m,
    "sub_mul_param": lambda L, p, t, m: m * p,
    "param_method": lambda L, p, t, m: p.add(m, alpha=2),
    "plain_add": lambda L, p, t, m: t + m,
    "plain_sub": lambda L, p, t, m: t - m,
    "plain_matmul": lambda L, p, t, m: t @ m,
    "plain_lt": lambda L, p, t, m: t < m,
    "reflected_mul": lambda L, p, t, m: 3 * m,
    "reflected_sub": lambda L, p, t, m: 3 - m,
    "reflected_div": lambda L, p, t, m: 3 / m,
    "reflected_pow": lambda L, p, t, m: 2**m,
    "reflected_cmp": lambda L, p, t, m: 1 < m,
    "method_add": lambda L, p, t, m: t.add(m),
    "method_mul": lambda L, p, t, m: t.mul(m),
    "method_matmul": lambda L, p, t, m: t.matmul(m),
    "method_maximum": lambda L, p, t, m: t.maximum(m),
    "method_where": lambda L, p, t, m: t.where(t > 1, m),
    "method_expand_as": lambda L, p, t, m: L.ones(1).expand_as(m),
    "function_where": lambda L, p, t, m: L.where(t > 1, t, m),
    "function_cat": lambda L, p, t, m: L.cat([t, m]),
    "index_by_sub": lambda L, p, t, m: t[L.tensor([2, 0]).as_subclass(type(m))],
}


@pytest.mark.parametrize("name", list(OPERANDS))
def test_subclass_operand_anywhere_takes_its_class(name: str) -> None:
    results = {}
    for lib, L in LIBS.items():
        p, t = L.nn.Parameter(L.tensor(DATA)), L.tensor(DATA)
        results[lib] = OPERANDS[name](L, p, t, sub(lib))
    same_kind(results["gdlite"], results["torch"])


def test_parameter_with_subclass_operand_keeps_gradients() -> None:
    grads = {}
    for lib, L in LIBS.items():
        p = L.nn.Parameter(L.ones(3))
        out = p * sub(lib)
        out.sum().backward()
        grads[lib] = (out, p.grad)
    same_kind(grads["gdlite"][0], grads["torch"][0])
    same_kind(grads["gdlite"][1], grads["torch"][1])


INPLACE = {
    "iadd": lambda x, m: x.__iadd__(m),
    "isub": lambda x, m: x.__isub__(m),
    "imul": lambda x, m: x.__imul__(m),
    "itruediv": lambda x, m: x.__itruediv__(m),
    "add_": lambda x, m: x.add_(m),
    "mul_": lambda x, m: x.mul_(m),
}


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_into_plain_tensor_returns_the_subclass(name: str) -> None:
    got = {}
    for lib, L in LIBS.items():
        x = L.tensor(DATA)
        out = INPLACE[name](x, sub(lib))
        # The result is a new MyT over x's memory; x itself stays plain.
        got[lib] = (out, x, out is x, type(x).__name__)
    same_kind(got["gdlite"][0], got["torch"][0])
    same_kind(got["gdlite"][1], got["torch"][1])
    assert got["gdlite"][2:] == got["torch"][2:]


def test_augmented_assignment_rebinds_to_the_subclass() -> None:
    got = {}
    for lib, L in LIBS.items():
        x = original = L.tensor(DATA)
        x += sub(lib)
        p = p_original = L.nn.Parameter(L.tensor(DATA))
        with L.no_grad():
            p *= sub(lib)
        got[lib] = (x, p, x is original, p is p_original)
    same_kind(got["gdlite"][0], got["torch"][0])
    same_kind(got["gdlite"][1], got["torch"][1])
    assert got["gdlite"][2:] == got["torch"][2:]


@pytest.mark.parametrize("name", ["T", "mT", "H", "mH", "data"])
def test_tensor_properties_take_the_subclass(name: str) -> None:
    got, want = (getattr(sub(lib, MATRIX), name) for lib in ("gdlite", "torch"))
    same_kind(got, want)


def test_gradients_stay_plain() -> None:
    grads = []
    for lib, L in LIBS.items():
        x = MyT[lib](L.tensor(DATA))
        x.requires_grad_()
        (x * 2).sum().backward()
        grads.append(x.grad)
    same_kind(grads[0], grads[1])


@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 2, 3)])
@pytest.mark.parametrize("name", ["mT", "H", "mH"])
def test_matrix_transposes_match_torch(name: str, shape: tuple) -> None:
    data = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    outcome = {}
    for lib, L in LIBS.items():
        x = L.tensor(data, requires_grad=True)
        try:
            y = getattr(x, name)
            outcome[lib] = (y.detach().numpy(), y.grad_fn.name(), y.is_contiguous())
        except RuntimeError as e:
            outcome[lib] = str(e)
    got, want = outcome["gdlite"], outcome["torch"]
    if isinstance(want, str):
        assert got == want
    else:
        np.testing.assert_array_equal(got[0], want[0])
        assert got[1:] == want[1:]


FUNCTIONAL = {
    "relu": lambda L, m, t: L.nn.functional.relu(m),
    "sigmoid": lambda L, m, t: L.nn.functional.sigmoid(m),
    "linear": lambda L, m, t: L.nn.functional.linear(m, L.ones(4, 3)),
    "softmax": lambda L, m, t: L.nn.functional.softmax(m, 1),
    "mse_loss": lambda L, m, t: L.nn.functional.mse_loss(m, t),
    "mse_loss_second": lambda L, m, t: L.nn.functional.mse_loss(t, m),
    "cross_entropy": lambda L, m, t: L.nn.functional.cross_entropy(m, L.tensor([0, 2])),
    "linear_module": lambda L, m, t: _seeded(L, lambda: L.nn.Linear(3, 4))(m),
    "loss_module": lambda L, m, t: L.nn.MSELoss()(m, t),
}


def _seeded(L: object, make: object) -> object:
    L.manual_seed(0)
    module = make()
    with L.no_grad():  # same weights in both libraries
        module.weight.copy_(L.tensor(np.linspace(-1, 1, 12).reshape(4, 3)))
        module.bias.fill_(0.25)
    return module


@pytest.mark.parametrize("name", list(FUNCTIONAL))
def test_nn_functional_takes_the_subclass(name: str) -> None:
    results = {
        lib: FUNCTIONAL[name](L, sub(lib, MATRIX), L.tensor(MATRIX))
        for lib, L in LIBS.items()
    }
    same_kind(results["gdlite"], results["torch"])


def test_handler_sees_the_method_each_operator_calls() -> None:
    seen: dict = {"torch": [], "gdlite": []}
    for lib, L in LIBS.items():
        log = seen[lib]

        class Logged(L.Tensor):
            calls = log
            funcs: list = []

            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                cls.funcs.append(func)
                cls.calls.append((func.__name__, [type(a).__name__ for a in args]))
                return super().__torch_function__(func, types, args, kwargs)

        a = L.tensor(DATA).as_subclass(Logged)
        p, t = L.nn.Parameter(L.tensor(DATA)), L.tensor(DATA)
        log.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p * a, t + a, t - a, 3 * a, 3 - a, t @ a, a**2, p < a, p**a
            t.add(a), t.mul_(a), L.nn.functional.relu(a)
            x = L.tensor(DATA)
            x += a
            x = L.tensor(DATA)
            x /= a
            _ = a.T, a.data
        # The function a handler sees is the Tensor method itself.
        Logged.funcs.clear()
        a.add(1), t.add(a), a.sum()
        expected = (L.Tensor.add, L.Tensor.add, L.Tensor.sum)
        log.append([f is e for f, e in zip(Logged.funcs, expected, strict=True)])
    assert seen["gdlite"] == seen["torch"]
    assert seen["gdlite"][-1] == [True, True, True]


def test_plain_operands_stay_plain_with_subclasses_defined() -> None:
    p, t = G.nn.Parameter(G.tensor(DATA)), G.tensor(DATA)
    for out in (p * t, t + p, t.add(p), p.add(t), 3 * p, t.T, p.data, G.exp(p)):
        assert type(out) is G.Tensor
    x = t
    x += p
    assert x is t and type(x) is G.Tensor


SETITEMS = {
    "slice": lambda L, t, m: t.__setitem__(slice(1, None), m[:2]),
    "int": lambda L, t, m: t.__setitem__(0, m[2]),
    "index_tensor": lambda L, t, m: t.__setitem__(L.tensor([0, 2]), m[:2] * 3),
    "mask": lambda L, t, m: t.__setitem__(t == 0, m),
}


@pytest.mark.parametrize("name", sorted(SETITEMS))
def test_assigning_a_subclass_into_a_plain_tensor_calls_its_handler(name: str) -> None:
    """``plain[key] = sub`` goes through the subclass's __torch_function__
    with Tensor.__setitem__, as in PyTorch; the plain tensor stays plain."""
    seen = {}
    for lib, L in LIBS.items():
        calls: list[str] = []

        class Logged(L.Tensor):
            seen = calls

            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                cls.seen.append(func.__name__)
                return super().__torch_function__(func, types, args, kwargs or {})

        t = L.zeros(3)
        m = L.tensor(DATA).as_subclass(Logged)
        calls.clear()
        SETITEMS[name](L, t, m)
        seen[lib] = (calls, type(t).__name__, t.numpy().tolist())
    assert seen["gdlite"] == seen["torch"]
