"""Adagrad: per-element step sizes from the sum of squared gradients."""

from __future__ import annotations

from typing import Any

from .. import _C, full_like, tensor
from ._checks import (
    check_eps,
    check_fused,
    check_lr,
    check_weight_decay,
)
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

    _group_defaults = {
        "foreach": None,
        "maximize": False,
        "differentiable": False,
        "fused": None,
    }
    _step_counters = ("step",)

    def _update_group(self, g: dict[str, Any], state: Any, scalar: Any) -> None:
        _C.adagrad(
            g["params"],
            state,
            g["lr"],
            g["lr_decay"],
            g["weight_decay"],
            g["eps"],
            g["maximize"],
            self.defaults["initial_accumulator_value"],
            scalar,
        )
