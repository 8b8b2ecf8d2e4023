"""Gradient clipping by total norm or by value, as torch.nn.utils."""

from __future__ import annotations

import types
import warnings
from typing import Any

from ... import _C
from ..._creation import tensor as _tensor
from ..._functional import clamp, stack
from ..._grad_mode import no_grad

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_"]

# ``foreach`` is accepted and changes nothing: PyTorch's CPU foreach kernels
# fall back to the per-tensor loop, so both give the same numbers.


def _by_dtype(tensors: list) -> list[list]:
    # PyTorch groups by (device, dtype) in order of first appearance.
    groups: dict = {}
    for t in tensors:
        groups.setdefault(t.dtype, []).append(t)
    return list(groups.values())


def get_total_norm(
    tensors: Any,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: Any = None,
) -> Any:
    """The norm of the per-tensor norms: the norm of all elements together."""
    with no_grad():
        if isinstance(tensors, _C.TensorBase):
            tensors = [tensors]
        else:
            tensors = list(tensors)
        norm_type = float(norm_type)
        if not tensors:
            return _tensor(0.0)
        norms = [t.norm(norm_type) for group in _by_dtype(tensors) for t in group]
        total_norm = stack(norms).norm(norm_type)
        if error_if_nonfinite and bool(total_norm.isnan() | total_norm.isinf()):
            raise RuntimeError(
                f"The total norm of order {norm_type} for gradients from "
                "`parameters` is non-finite, so it cannot be clipped. To disable "
                "this error and scale the gradients by the non-finite norm anyway, "
                "set `error_if_nonfinite=False`"
            )
        return total_norm


def clip_grads_with_norm_(
    parameters: Any, max_norm: float, total_norm: Any, foreach: Any = None
) -> None:
    """Scales the gradients by ``min(1, max_norm / (total_norm + 1e-6))``."""
    with no_grad():
        if isinstance(parameters, _C.TensorBase):
            parameters = [parameters]
        grads = [p.grad for p in parameters if p.grad is not None]
        max_norm = float(max_norm)
        if not grads:
            return
        clip_coef = max_norm / (total_norm + 1e-6)
        clip_coef_clamped = clamp(clip_coef, max=1.0)
        for group in _by_dtype(grads):
            for g in group:
                g.mul_(clip_coef_clamped)


def clip_grad_norm_(
    parameters: Any,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: Any = None,
) -> Any:
    """Rescales the gradients in place so that their total ``norm_type``-norm
    is at most ``max_norm``; returns the total norm before clipping.

    >>> w = gdlite.ones(4, requires_grad=True); (3 * w).sum().backward()
    >>> clip_grad_norm_([w], 1.0)
    tensor(6.)
    """
    if isinstance(parameters, _C.TensorBase):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and not parameters:
            warnings.warn(
                "`parameters` is an empty generator, no gradient clipping will occur.",
                stacklevel=2,
            )
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(
    parameters: Any,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: Any = None,
) -> Any:
    """Deprecated spelling of clip_grad_norm_."""
    warnings.warn(
        "`gdlite.nn.utils.clip_grad_norm` is now deprecated in favor of "
        "`gdlite.nn.utils.clip_grad_norm_`.",
        FutureWarning,
        stacklevel=2,
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters: Any, clip_value: float, foreach: Any = None) -> None:
    """Clamps every gradient into ``[-clip_value, clip_value]`` in place."""
    with no_grad():
        if isinstance(parameters, _C.TensorBase):
            parameters = [parameters]
        clip_value = float(clip_value)
        for p in parameters:
            if p.grad is not None:
                p.grad.clamp_(min=-clip_value, max=clip_value)
