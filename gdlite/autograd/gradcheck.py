"""gradcheck: analytical gradients against central finite differences."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _C


class GradcheckError(RuntimeError):
    """The analytical and numerical Jacobians disagree."""


def _outputs(fn: Callable, inputs: tuple) -> tuple:
    out = fn(*inputs)
    return out if isinstance(out, tuple) else (out,)


def _flat_values(outs: tuple) -> list[np.ndarray]:
    return [np.array(o.detach()._numpy(), dtype=np.float64).ravel() for o in outs]


def _numerical(fn: Callable, inputs: tuple, i: int, eps: float) -> list[np.ndarray]:
    """d outputs / d inputs[i] by (f(x + eps) - f(x - eps)) / (2 eps), one column
    per element; writes go through a NumPy view so no version is bumped."""
    x = inputs[i]
    view = x._numpy().reshape(-1) if x.is_contiguous() else None
    if view is None:
        raise ValueError("gradcheck expects contiguous inputs")
    n_out = [o.numel() for o in _outputs(fn, inputs)]
    jac = [np.zeros((n, x.numel())) for n in n_out]
    for k in range(x.numel()):
        orig = view[k].item()
        view[k] = orig + eps
        plus = _flat_values(_outputs(fn, inputs))
        view[k] = orig - eps
        minus = _flat_values(_outputs(fn, inputs))
        view[k] = orig
        for j in range(len(jac)):
            jac[j][:, k] = (plus[j] - minus[j]) / (2 * eps)
    return jac


def _analytical(fn: Callable, inputs: tuple, i: int) -> list[np.ndarray]:
    from . import grad

    outs = _outputs(fn, inputs)
    x = inputs[i]
    jac = []
    for out in outs:
        rows = np.zeros((out.numel(), x.numel()))
        flat = out.reshape(-1)
        for r in range(out.numel()):
            (g,) = grad(flat[r], x, retain_graph=True, allow_unused=True)
            if g is not None:
                rows[r] = np.array(g._numpy(), dtype=np.float64).ravel()
        jac.append(rows)
    return jac


def gradcheck(
    func: Callable,
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    **unused: Any,
) -> bool:
    """Checks ``func``'s gradients against finite differences, as PyTorch's
    gradcheck does with its defaults (use float64 inputs)."""
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    tensors = [
        (i, t)
        for i, t in enumerate(inputs)
        if isinstance(t, _C.TensorBase) and t.requires_grad
    ]
    if not tensors:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none "
            "of the them have requires_grad=True."
        )
    for i, t in tensors:
        if t.dtype != _C.float64:
            warnings.warn(
                f"Input #{i} requires gradient and is not a double precision "
                "floating point or complex. This check will likely fail if all the "
                "inputs are not of double precision floating point or complex. ",
                UserWarning,
                stacklevel=2,
            )
    for i, _ in tensors:
        numerical = _numerical(func, inputs, i, eps)
        analytical = _analytical(func, inputs, i)
        for j, (num, ana) in enumerate(zip(numerical, analytical, strict=True)):
            if not np.allclose(ana, num, rtol=rtol, atol=atol):
                if not raise_exception:
                    return False
                raise GradcheckError(
                    f"Jacobian mismatch for output {j} with respect to input {i},\n"
                    f"numerical:{num}\nanalytical:{ana}\n"
                )
    return True
