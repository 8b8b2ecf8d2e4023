"""Adam (and AdamW through decoupled_weight_decay)."""

from __future__ import annotations

from typing import Any

from .. import _C
from .._tensor import Tensor
from ._checks import (
    check_betas,
    check_eps,
    check_fused,
    check_lr,
    check_weight_decay,
)
from .optimizer import Optimizer

__all__ = ["Adam"]


def _to_scalar(x: Any) -> Any:
    return x.reshape(()) if isinstance(x, Tensor) and x.dim() != 0 else x


class Adam(Optimizer):
    """torch.optim.Adam: ``step``, ``exp_avg``, ``exp_avg_sq`` (and
    ``max_exp_avg_sq`` with amsgrad) state."""

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        if isinstance(lr, Tensor):
            if foreach and not capturable:
                raise ValueError(
                    "lr as a Tensor is not supported for capturable=False and "
                    "foreach=True"
                )
        check_lr(lr)
        check_eps(eps)
        check_betas(betas)
        check_weight_decay(weight_decay)
        if not (
            (isinstance(betas[0], float) and isinstance(betas[1], float))
            or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))
        ):
            raise ValueError("betas must be either both floats or both Tensors")
        for i in (0, 1):
            if isinstance(betas[i], Tensor):
                if not capturable and foreach:
                    raise ValueError(
                        f"betas[{i}] as a Tensor is not supported for capturable=False"
                        " and foreach=True"
                    )
                if betas[i].numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        betas = tuple(map(_to_scalar, betas))
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)
        check_fused(self, fused, differentiable, foreach)

    _group_defaults = {
        "amsgrad": False,
        "maximize": False,
        "foreach": None,
        "capturable": False,
        "differentiable": False,
        "decoupled_weight_decay": False,
        "fused": None,
    }
    _step_counters = ("step",)

    def _update_group(self, g: dict[str, Any], state: Any, scalar: Any) -> None:
        beta1, beta2 = g["betas"]
        _C.adam(
            g["params"],
            state,
            g["lr"],
            beta1,
            beta2,
            g["eps"],
            g["weight_decay"],
            g["amsgrad"],
            g["maximize"],
            g["decoupled_weight_decay"],
            scalar,
        )
