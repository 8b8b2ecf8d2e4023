"""detach_() refuses every view, as PyTorch does: whether or not the base
requires grad and whether the view was made under no_grad; tensors that own
their data (and detach()/.data aliases) are detached in place."""

from __future__ import annotations

from typing import Any

import pytest
from torch_oracle import both

MAKERS = {
    "slice": lambda a: a[:2],
    "select": lambda a: a[0],
    "ellipsis": lambda a: a[...],
    "view": lambda a: a.view(12),
    "reshape_view": lambda a: a.reshape(12),
    "reshape_copy": lambda a: a.t().reshape(12),
    "t": lambda a: a.t(),
    "expand": lambda a: a[:1].expand(2, 4),
    "unsqueeze": lambda a: a.unsqueeze(0),
    "squeeze": lambda a: a.squeeze(),
    "permute": lambda a: a.permute(1, 0),
    "narrow": lambda a: a.narrow(0, 0, 1),
    "unbind": lambda a: a.unbind()[0],
    "flatten": lambda a: a.flatten(),
    "detach": lambda a: a.detach(),
    "data": lambda a: a.data,
    "contiguous": lambda a: a.contiguous(),
    "clone": lambda a: a.clone(),
    "advanced": lambda a: a[[0, 1]],
    "float_noop": lambda a: a.float(),
    "arith": lambda a: a * 2,
}


def _detach_after(lib: Any, make: Any, requires_grad: bool, no_grad: bool) -> Any:
    a = lib.ones(3, 4, requires_grad=requires_grad)
    if no_grad:
        with lib.no_grad():
            v = make(a)
    else:
        v = make(a)
    v.detach_()
    return (v.requires_grad, v.grad_fn is None, v.is_leaf)


@pytest.mark.parametrize("name", sorted(MAKERS))
@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("no_grad", [False, True])
def test_detach_in_place_refuses_views(
    name: str, requires_grad: bool, no_grad: bool
) -> None:
    both(lambda lib: _detach_after(lib, MAKERS[name], requires_grad, no_grad))


def test_detach_in_place_of_a_view_of_a_non_leaf() -> None:
    def run(lib: Any) -> Any:
        a = lib.ones(3, requires_grad=True)
        b = a * 2
        b[:2].detach_()

    both(run)


def test_detached_base_still_detaches_in_place() -> None:
    def run(lib: Any) -> Any:
        a = lib.ones(3, requires_grad=True)
        b = a * 2
        b.detach_()
        return (b.requires_grad, b.grad_fn is None, b.is_leaf, a.requires_grad)

    both(run)


BACKWARDS = {
    "reshape": lambda a, L: (a.reshape(6) * L.arange(6.0)).sum(),
    "view": lambda a, L: (a.view(3, 2) * 2).sum(),
    "transpose": lambda a, L: (a.t() * 3).sum(),
    "expand": lambda a, L: a.expand(4, 2, 3).sum(),
    "select": lambda a, L: a[0].sum(),
    "mul": lambda a, L: (a * a).sum(),
}


@pytest.mark.parametrize("name", sorted(BACKWARDS))
def test_accumulated_grad_is_no_view(name: str) -> None:
    """A leaf's grad is kept as PyTorch keeps grad.detach(): detach_() on it
    works whichever op's backward made it (optimizers call it)."""

    def run(lib: Any) -> Any:
        a = lib.ones(2, 3, requires_grad=True)
        BACKWARDS[name](a, lib).backward()
        a.grad.detach_()
        return a.grad

    both(run)


def test_assigned_view_grad_refuses_detach_in_place() -> None:
    def run(lib: Any) -> Any:
        a = lib.ones(2, 3, requires_grad=True)
        a.grad = lib.ones(6).view(2, 3)
        a.grad.detach_()

    both(run)
