"""NAdam: Adam with Nesterov momentum and a momentum schedule."""

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

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """torch.optim.NAdam: ``step``, ``mu_product``, ``exp_avg``, ``exp_avg_sq``."""

    def __init__(
        self,
        params: Any,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_lr(lr)
        check_eps(eps)
        check_betas(betas)
        check_weight_decay(weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    _group_defaults = {
        "maximize": False,
        "foreach": None,
        "capturable": False,
        "differentiable": False,
        "decoupled_weight_decay": False,
    }
    _step_counters = ("step", "mu_product")
    _step_mode_what = "params, mu_products and state_steps"

    def _update_group(self, g: dict[str, Any], state: Any, scalar: Any) -> None:
        beta1, beta2 = g["betas"]
        _C.nadam(
            g["params"],
            state,
            g["lr"],
            beta1,
            beta2,
            g["eps"],
            g["weight_decay"],
            g["momentum_decay"],
            g["decoupled_weight_decay"],
            g["maximize"],
            scalar,
        )
