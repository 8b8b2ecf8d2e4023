"""Ops on Tensor subclasses against PyTorch: which class results have
(__torch_function__'s default), what a subclass's own __torch_function__
sees, as_subclass, mixed subclasses, nn.Parameter, pickling and deepcopy."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch

import gdlite as G


def pair(base: type, name: str = "MyT", namespace: dict | None = None) -> type:
    return type(name, (base,), dict(namespace or {}))


MyT = {"torch": pair(torch.Tensor), "gdlite": pair(G.Tensor)}
MyT2 = {
    "torch": pair(MyT["torch"], "MyT2"),
    "gdlite": pair(MyT["gdlite"], "MyT2"),
}
Other = {"torch": pair(torch.Tensor, "Other"), "gdlite": pair(G.Tensor, "Other")}
LIBS = {"torch": torch, "gdlite": G}


def make(lib: str, cls: dict, data: np.ndarray, requires_grad: bool = False) -> object:
    t = LIBS[lib].tensor(data, requires_grad=requires_grad)
    return t.as_subclass(cls[lib])


def same_kind(got: object, want: object) -> None:
    """Same class name (recursively through tuples) and the same values."""
    if isinstance(want, torch.Tensor):
        assert type(got).__name__ == type(want).__name__
        np.testing.assert_allclose(
            np.asarray(got.detach().numpy()), want.detach().numpy(), rtol=1e-6
        )
    elif isinstance(want, tuple):
        assert len(got) == len(want)
        assert type(got).__name__ == type(want).__name__
        for g, w in zip(got, want, strict=True):
            same_kind(g, w)
    else:
        assert got == want


DATA = np.array([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]], np.float32)
OPS = {
    "add": lambda L, a: a + 1,
    "radd": lambda L, a: 2 * a,
    "rsub": lambda L, a: 1 - a,
    "neg": lambda L, a: -a,
    "pow": lambda L, a: a**2,
    "cmp": lambda L, a: a > 0,
    "plain_left": lambda L, a: L.ones(3) + a,
    "method_exp": lambda L, a: a.exp(),
    "func_exp": lambda L, a: L.exp(a),
    "func_add": lambda L, a: L.add(a, a, alpha=2),
    "getitem": lambda L, a: a[0],
    "getitem_adv": lambda L, a: a[:, [0, 2]],
    "sum": lambda L, a: a.sum(),
    "sum_dim": lambda L, a: L.sum(a, 1),
    "mean": lambda L, a: a.mean(0),
    "view": lambda L, a: a.view(3, 2),
    "reshape": lambda L, a: a.reshape(-1),
    "t": lambda L, a: a.t(),
    "T": lambda L, a: a.T,
    "flatten": lambda L, a: a.flatten(),
    "matmul": lambda L, a: a @ a.t(),
    "cat": lambda L, a: L.cat([a, a]),
    "stack": lambda L, a: L.stack([a, a], 1),
    "clone": lambda L, a: a.clone(),
    "detach": lambda L, a: a.detach(),
    "to": lambda L, a: a.to(L.float64),
    "max_dim": lambda L, a: a.max(1),
    "func_min_dim": lambda L, a: L.min(a, 0),
    "unbind": lambda L, a: a.unbind(0),
    "where": lambda L, a: L.where(a > 0, a, 0.0),
    "zeros_like": lambda L, a: L.zeros_like(a),
    "item": lambda L, a: a[0, 0].item(),
}


@pytest.mark.parametrize("name", list(OPS))
def test_results_take_the_subclass(name: str) -> None:
    got = OPS[name](G, make("gdlite", MyT, DATA))
    want = OPS[name](torch, make("torch", MyT, DATA))
    same_kind(got, want)


def test_inplace_ops_return_self() -> None:
    for lib in LIBS:
        a = make(lib, MyT, DATA)
        assert a.add_(1) is a and a.mul_(2) is a
        b = a
        a += 1
        assert a is b and type(a).__name__ == "MyT"
    same_kind(make("gdlite", MyT, DATA).add_(3), make("torch", MyT, DATA).add_(3))


def test_as_subclass_shares_memory_and_graph() -> None:
    results = {}
    for lib, L in LIBS.items():
        leaf = L.tensor(DATA, requires_grad=True)
        sub = leaf.as_subclass(MyT[lib])
        (sub * sub).sum().backward()
        with L.no_grad():
            sub.add_(1)  # same memory
        results[lib] = (sub.is_leaf, sub.requires_grad, leaf.grad, leaf)
    got, want = results["gdlite"], results["torch"]
    assert got[:2] == want[:2]
    same_kind(got[2], want[2])
    same_kind(got[3], want[3])
    with pytest.raises(TypeError):
        G.ones(1).as_subclass(int)


def test_autograd_through_subclass_leaves() -> None:
    grads = {}
    for lib, L in LIBS.items():
        x = MyT[lib](L.tensor(DATA))
        x.requires_grad_()
        y = (x.exp() * 2).sum()
        assert type(y).__name__ == "MyT"
        y.backward()
        grads[lib] = (x.is_leaf, x.grad)
    assert grads["gdlite"][0] == grads["torch"][0]
    same_kind(grads["gdlite"][1], grads["torch"][1])


def logging_class(base: type, seen: list) -> type:
    def __torch_function__(cls, func, types, args=(), kwargs=None):  # noqa: N807
        seen.append((func.__name__, [t.__name__ for t in types]))
        return super(cls_ref[0], cls).__torch_function__(func, types, args, kwargs)

    cls_ref: list = []
    cls = type(
        "Logged", (base,), {"__torch_function__": classmethod(__torch_function__)}
    )
    cls_ref.append(cls)
    return cls


LOGGED = [
    lambda L, a: a + 1,
    lambda L, a: 1 + a,
    lambda L, a: a.exp(),
    lambda L, a: L.exp(a),
    lambda L, a: a.flatten(),
    lambda L, a: a[0],
    lambda L, a: a.sum(),
    lambda L, a: a.t(),
    lambda L, a: a.view(3, 2),
    lambda L, a: a.clone(),
    lambda L, a: a.add_(1),
    lambda L, a: a.max(0),
    lambda L, a: L.cat([a, a]),
    lambda L, a: a.tolist(),
]


def test_own_torch_function_sees_each_call_once() -> None:
    seen: dict = {"torch": [], "gdlite": []}
    for lib, L in LIBS.items():
        cls = logging_class(L.Tensor, seen[lib])
        a = L.tensor(DATA).as_subclass(cls)
        seen[lib].clear()
        for op in LOGGED:
            op(L, a)
    assert seen["gdlite"] == seen["torch"]


def test_torch_function_result_is_returned() -> None:
    for L in LIBS.values():

        class Const(L.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                return "intercepted"

        a = L.tensor(DATA).as_subclass(Const)
        assert a.exp() == L.exp(a) == L.cat([a]) == "intercepted"
        assert L.ones(2).add(1) is not None  # plain tensors unaffected


def test_most_derived_subclass_wins() -> None:
    for order in (0, 1):
        results = []
        for lib in LIBS:
            a, b = make(lib, MyT, DATA), make(lib, MyT2, DATA)
            results.append(a + b if order else b + a)
        same_kind(results[1], results[0])
        results = [
            LIBS[lib].add(make(lib, MyT, DATA), make(lib, MyT2, DATA)) for lib in LIBS
        ]
        same_kind(results[1], results[0])


def test_unrelated_subclasses_refuse() -> None:
    for lib, L in LIBS.items():
        a, b = make(lib, MyT, DATA), make(lib, Other, DATA)
        with pytest.raises(TypeError, match="unsupported operand"):
            a + b
        with pytest.raises(TypeError, match="Multiple dispatch failed for '"):
            L.add(a, b)


def test_parameter_results_stay_plain() -> None:
    p = G.nn.Parameter(G.tensor(DATA))
    tp = torch.nn.Parameter(torch.tensor(DATA))
    for op in ("add", "method_exp", "func_exp", "getitem", "sum", "view", "cat"):
        same_kind(OPS[op](G, p), OPS[op](torch, tp))
    assert repr(p) == repr(tp).replace("torch.", "gdlite.")


def test_parameter_with_subclass_operand() -> None:
    got = G.nn.Parameter(G.ones(3)) * make("gdlite", MyT, DATA)
    want = torch.nn.Parameter(torch.ones(3)) * make("torch", MyT, DATA)
    same_kind(got, want)


class PickledTorch(torch.Tensor):
    pass


class PickledGdlite(G.Tensor):
    pass


PICKLED = {"torch": PickledTorch, "gdlite": PickledGdlite}


def test_pickle_keeps_class_and_attributes() -> None:
    for lib in LIBS:
        a = make(lib, PICKLED, DATA)
        a.note = "kept"
        b = pickle.loads(pickle.dumps(a))
        assert type(b) is PICKLED[lib] and b.note == "kept"
        np.testing.assert_array_equal(np.asarray(b.numpy()), DATA)


def test_deepcopy_refuses_as_torch() -> None:
    for lib in LIBS:
        with pytest.raises(RuntimeError, match="non-wrapper subclasses"):
            copy.deepcopy(make(lib, MyT, DATA))


def test_disable_torch_function_subclass() -> None:
    a = make("gdlite", MyT, DATA)
    with G._C.DisableTorchFunctionSubclass():
        assert type(a + 1) is G.Tensor and type(G.exp(a)) is G.Tensor
    assert type(a + 1) is MyT["gdlite"]
    assert G.overrides.has_torch_function((a,))
    assert not G.overrides.has_torch_function((G.ones(1), 1))
