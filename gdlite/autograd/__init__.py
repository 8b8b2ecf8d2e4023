"""gdlite.autograd: gradients of outputs with respect to inputs."""

from __future__ import annotations

import warnings
from typing import Any

from .. import _C
from .._grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled
from . import anomaly_mode, function, functional
from .anomaly_mode import detect_anomaly, set_detect_anomaly
from .function import Function, FunctionCtx, InplaceFunction, once_differentiable
from .gradcheck import GradcheckError, gradcheck

__all__ = [
    "Function",
    "FunctionCtx",
    "GradcheckError",
    "InplaceFunction",
    "anomaly_mode",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "function",
    "functional",
    "grad",
    "gradcheck",
    "inference_mode",
    "no_grad",
    "once_differentiable",
    "set_detect_anomaly",
    "set_grad_enabled",
]


def _as_tuple(x: Any) -> tuple:
    if x is None:
        return ()
    if isinstance(x, _C.TensorBase):
        return (x,)
    return tuple(x)


def _check(outputs: tuple, grads: tuple, inputs: tuple | None, caller: str) -> None:
    """torch's refusals, worded as torch words them, before the engine runs."""
    for out in outputs:
        if not isinstance(out, _C.TensorBase):
            raise AssertionError("Expected output to be a gdlite.Tensor")
    for g in grads:
        if g is not None and not isinstance(g, _C.TensorBase):
            raise TypeError(
                f"gradients can be either Tensors or None, but got {type(g).__name__}"
            )
    if inputs is None:
        return
    if not inputs:
        raise RuntimeError(f"`inputs` argument to `{caller}()` cannot be empty.")
    for x in inputs:
        if not isinstance(x, _C.TensorBase):
            raise RuntimeError(
                "all inputs have to be Tensors or GradientEdges, but got "
                f"{type(x).__name__}"
            )


def backward(
    tensors: Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Any = None,
) -> None:
    """Accumulates gradients of ``tensors`` into the leaves' ``.grad``."""
    tensors = _as_tuple(tensors)
    grads = _as_tuple(grad_tensors) or (None,) * len(tensors)
    retain = create_graph if retain_graph is None else retain_graph
    if inputs is not None:
        inputs = _as_tuple(inputs)
    _check(tensors, grads, inputs, "backward")
    if create_graph:
        _warn_create_graph_cycle()
    if inputs is None:
        _C.run_backward(tensors, grads, bool(retain), None, False, bool(create_graph))
        return
    results = _C.run_backward(
        tensors, grads, bool(retain), inputs, True, bool(create_graph)
    )
    done: set[int] = set()
    for t, g in zip(inputs, results, strict=True):
        if g is None or id(t) in done:  # a repeated input counts once
            continue
        done.add(id(t))
        _accumulate(t, g, bool(create_graph))


_cycle_warned = False


def _warn_create_graph_cycle() -> None:
    """torch warns once per process that .grad keeps its own graph alive."""
    global _cycle_warned
    if _cycle_warned:
        return
    _cycle_warned = True
    warnings.warn(
        "Using backward() with create_graph=True will create a reference cycle "
        "between the parameter and its gradient which can cause a memory leak. We "
        "recommend using autograd.grad when creating the graph to avoid this. If you "
        "have to use this function, make sure to reset the .grad fields of your "
        "parameters to None after use to break the cycle and avoid the leak.",
        UserWarning,
        stacklevel=3,
    )


def _accumulate(t: Any, g: Any, create_graph: bool = False) -> None:
    """What backward does with a gradient reaching ``t``, as torch does it: a
    leaf's .grad is summed in place; a non-leaf starts retaining its grad,
    summed out of place. The gradient may be a caller's tensor: copied. Under
    create_graph the sums are recorded and out of place."""
    with set_grad_enabled(create_graph):
        if not t.is_leaf:
            t.retain_grad()
            t.grad = g.clone() if t.grad is None else t.grad + g
        elif t.grad is None:
            t.grad = g.clone()
        elif create_graph:
            t.grad = t.grad + g
        else:
            t.grad.add_(g)


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> tuple[Any, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, without touching
    ``.grad``.

    >>> x = gdlite.tensor(3.0, requires_grad=True)
    >>> gdlite.autograd.grad(x * x, x)
    (tensor(6.),)
    """
    if is_grads_batched:
        raise NotImplementedError("gdlite does not support is_grads_batched=True")
    outputs = _as_tuple(outputs)
    inputs_t = _as_tuple(inputs)
    grads = _as_tuple(grad_outputs) or (None,) * len(outputs)
    retain = create_graph if retain_graph is None else retain_graph
    _check(outputs, grads, inputs_t, "grad")
    unused_ok = bool(allow_unused) or materialize_grads
    result = _C.run_backward(
        outputs, grads, bool(retain), inputs_t, unused_ok, bool(create_graph)
    )
    if materialize_grads:
        from .._creation import zeros_like

        result = tuple(
            zeros_like(x) if g is None else g
            for x, g in zip(inputs_t, result, strict=True)
        )
    return result
