"""Adamax: Adam with the infinity norm of past gradients."""

from __future__ import annotations

from typing import Any

from .. import _C
from ._checks import (
    check_betas,
    check_eps,
    check_lr,
    check_weight_decay,
)
from .optimizer import Optimizer

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

    _group_defaults = {
        "foreach": None,
        "maximize": False,
        "differentiable": False,
        "capturable": False,
    }
    _step_counters = ("step",)

    def _update_group(self, g: dict[str, Any], state: Any, scalar: Any) -> None:
        beta1, beta2 = g["betas"]
        _C.adamax(
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
