"""RMSprop, plain, centered and with momentum."""

from __future__ import annotations

from typing import Any

from .. import _C
from ._checks import check_eps, check_lr, check_weight_decay
from .optimizer import Optimizer

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """torch.optim.RMSprop: ``step``, ``square_avg`` (``momentum_buffer``,
    ``grad_avg``) state."""

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_lr(lr)
        check_eps(eps)
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        check_weight_decay(weight_decay)
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    _group_defaults = {
        "momentum": 0,
        "centered": False,
        "foreach": None,
        "maximize": False,
        "differentiable": False,
        "capturable": False,
    }
    _step_counters = ("step",)

    def _update_group(self, g: dict[str, Any], state: Any, scalar: Any) -> None:
        _C.rmsprop(
            g["params"],
            state,
            g["lr"],
            g["alpha"],
            g["eps"],
            g["weight_decay"],
            g["momentum"],
            g["centered"],
            g["maximize"],
            scalar,
        )
