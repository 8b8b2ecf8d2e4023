"""Adamax: Adam with the infinity norm of past gradients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import _C
from ._checks import (
    check_betas,
    check_eps,
    check_lr,
    check_step_mode,
    check_weight_decay,
)
from .adam import _steps_to_tensors
from .optimizer import Optimizer, _scalar_dtype

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """torch.optim.Adamax: ``step``, ``exp_avg``, ``exp_inf`` state."""

    def __init__(
        self,
        params: Any,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        check_lr(lr)
        check_eps(eps)
        check_betas(betas)
        check_weight_decay(weight_decay)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
            _steps_to_tensors(self, group)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Adamax update of every parameter that has a gradient."""
        loss = None if closure is None else self._run_closure(closure)
        adamax = _C.adamax
        state = self.state
        scalar = _scalar_dtype()
        for g in self.param_groups:
            if g.get("capturable") or g.get("differentiable"):
                check_step_mode(g)
            beta1, beta2 = g["betas"]
            adamax(
                g["params"],
                state,
                g["lr"],
                beta1,
                beta2,
                g["eps"],
                g["weight_decay"],
                g["maximize"],
                scalar,
            )
        return loss
