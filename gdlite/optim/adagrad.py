"""Adagrad: per-element step sizes from the sum of squared gradients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import _C, full_like, tensor
from ._checks import (
    check_eps,
    check_fused,
    check_fused_params,
    check_lr,
    check_step_mode,
    check_weight_decay,
)
from .adam import _steps_to_tensors
from .optimizer import Optimizer, _scalar_dtype

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """torch.optim.Adagrad: ``step`` and ``sum`` state, made at construction."""

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        check_weight_decay(weight_decay)
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(
                f"Invalid initial_accumulator_value value: {initial_accumulator_value}"
            )
        check_eps(eps)
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)
        check_fused(self, fused, differentiable, foreach)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = tensor(0.0, dtype=_scalar_dtype())
                state["sum"] = full_like(p, initial_accumulator_value)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)
            _steps_to_tensors(self, group)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Adagrad update of every parameter that has a gradient."""
        loss = None if closure is None else self._run_closure(closure)
        adagrad = _C.adagrad
        state = self.state
        scalar = _scalar_dtype()
        initial = self.defaults["initial_accumulator_value"]
        for g in self.param_groups:
            if g.get("capturable") or g.get("differentiable"):
                check_step_mode(g)
            if g["fused"]:
                check_fused_params(g)
            adagrad(
                g["params"],
                state,
                g["lr"],
                g["lr_decay"],
                g["weight_decay"],
                g["eps"],
                g["maximize"],
                initial,
                scalar,
            )
        return loss
