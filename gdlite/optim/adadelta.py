"""Adadelta: step sizes from running averages of squared gradients and updates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import _C
from ._checks import check_eps, check_lr, check_step_mode, check_weight_decay
from .adam import _steps_to_tensors
from .optimizer import Optimizer, _scalar_dtype

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

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
            _steps_to_tensors(self, group)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Adadelta update of every parameter that has a gradient."""
        loss = None if closure is None else self._run_closure(closure)
        adadelta = _C.adadelta
        state = self.state
        scalar = _scalar_dtype()
        for g in self.param_groups:
            if g.get("capturable") or g.get("differentiable"):
                check_step_mode(g, xla=False)
            adadelta(
                g["params"],
                state,
                g["lr"],
                g["rho"],
                g["eps"],
                g["weight_decay"],
                g["maximize"],
                scalar,
            )
        return loss
