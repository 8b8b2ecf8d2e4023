"""RMSprop, plain, centered and with momentum."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import _C
from ._checks import check_eps, check_lr, check_step_mode, check_weight_decay
from .adam import _steps_to_tensors
from .optimizer import Optimizer, _scalar_dtype

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

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
            _steps_to_tensors(self, group)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One RMSprop update of every parameter that has a gradient."""
        loss = None if closure is None else self._run_closure(closure)
        rmsprop = _C.rmsprop
        state = self.state
        scalar = _scalar_dtype()
        for g in self.param_groups:
            if g.get("capturable") or g.get("differentiable"):
                check_step_mode(g)
            rmsprop(
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
        return loss
