"""Adadelta: step sizes from running averages of squared gradients and updates."""

from __future__ import annotations

from typing import Any

from .. import _C
from ._checks import check_eps, check_lr, check_weight_decay
from .optimizer import Optimizer

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """torch.optim.Adadelta: ``step``, ``square_avg``, ``acc_delta`` state."""

    def __init__(
        self,
        params: Any,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_eps(eps)
        check_weight_decay(weight_decay)
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "capturable": capturable,
            "foreach": foreach,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    _group_defaults = {
        "foreach": None,
        "maximize": False,
        "differentiable": False,
        "capturable": False,
    }
    _step_counters = ("step",)
    _step_mode_xla = False

    def _update_group(self, g: dict[str, Any], state: Any, scalar: Any) -> None:
        _C.adadelta(
            g["params"],
            state,
            g["lr"],
            g["rho"],
            g["eps"],
            g["weight_decay"],
            g["maximize"],
            scalar,
        )
