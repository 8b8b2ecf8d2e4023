"""Constructor checks shared by the optimizers, with PyTorch's messages."""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor

_FUSED_DEVICES = "['mps', 'cuda', 'xpu', 'hpu', 'cpu', 'mtia', 'privateuseone']"


def check_lr(lr: Any) -> None:
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def check_eps(eps: Any) -> None:
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")


def check_weight_decay(weight_decay: Any) -> None:
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


def check_betas(betas: Any) -> None:
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


def check_fused(opt: Any, fused: Any, differentiable: bool, foreach: Any) -> None:
    """PyTorch's refusals for fused=True; on the CPU it then runs the same step."""
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        opt._step_supports_amp_scaling = True


def check_fused_params(group: dict) -> None:
    """fused=True takes floating parameters only (checked when they have a grad)."""
    for p in group["params"]:
        if p.grad is not None and not p.is_floating_point():
            raise RuntimeError(
                "`fused=True` requires all the params to be floating point Tensors "
                f"of supported devices: {_FUSED_DEVICES} but {p.dtype} and cpu"
            )


def check_step_mode(
    group: dict, what: str = "params and state_steps", xla: bool = True
) -> None:
    """What torch's step does on the CPU for capturable=True (refused: CUDA
    graphs only) and differentiable=True (an in-place write into a leaf that
    requires grad, refused), for a group with a gradient to apply."""
    if group.get("capturable") and any(p.grad is not None for p in group["params"]):
        devices = "['cuda', 'xpu', 'hpu', 'privateuseone'" + (
            ", 'xla']" if xla else "]"
        )
        raise AssertionError(
            f"If capturable=True, {what} must be on supported devices: {devices}."
        )
    if group.get("differentiable") and any(
        p.grad is not None and p.requires_grad for p in group["params"]
    ):
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )
