"""NAdam: Adam with Nesterov momentum and a momentum schedule."""

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

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            _steps_to_tensors(self, group, ("step", "mu_product"))

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One NAdam update of every parameter that has a gradient."""
        loss = None if closure is None else self._run_closure(closure)
        nadam = _C.nadam
        state = self.state
        scalar = _scalar_dtype()
        for g in self.param_groups:
            if g.get("capturable") or g.get("differentiable"):
                check_step_mode(g, "params, mu_products and state_steps")
            beta1, beta2 = g["betas"]
            nadam(
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
        return loss
