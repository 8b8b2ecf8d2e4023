"""nn.functional: layers as functions (linear, activations, dropout) and,
from _functional_loss, softmax, log_softmax and the losses."""

from __future__ import annotations

from typing import Any

from .. import _C
from .._creation import empty, full_like, ones_like, zeros
from .._functional import where
from ._functional_loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    log_softmax,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
    softmax,
)

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "huber_loss",
    "l1_loss",
    "leaky_relu",
    "leaky_relu_",
    "linear",
    "log_softmax",
    "mse_loss",
    "nll_loss",
    "relu",
    "relu_",
    "sigmoid",
    "smooth_l1_loss",
    "softmax",
    "tanh",
]


_T = _C.decompositions["T"]  # weight.t() records TBackward0, as in PyTorch


def linear(input: Any, weight: Any, bias: Any = None) -> Any:
    """``input @ weight.T + bias`` as PyTorch computes it: one addmm
    (AddmmBackward0) for a 2-D input with a bias; the core's checks raise
    PyTorch's messages."""
    if bias is not None and input.ndim == 2 and weight.ndim == 2:
        return _C.addmm(bias, input, _C.transpose(weight, 0, 1, _T), 1.0, 1.0)
    return _linear_general(input, weight, bias)


def _linear_general(input: Any, weight: Any, bias: Any) -> Any:
    """linear's other cases, in PyTorch's order of paths."""
    if input.dim() == 0 or weight.dim() == 0:
        raise RuntimeError(
            "both arguments to linear need to be at least 1D, but they are "
            f"{input.dim()}D and {weight.dim()}D"
        )
    weight_t = weight.t()
    if bias is None:
        return input @ weight_t
    if input.dim() == 2:
        return _C.addmm(bias, input, weight_t, 1.0, 1.0)
    if (
        (bias.dim() == 1 or bias.squeeze().dim() == 1)
        and bias.is_contiguous()
        and input.is_contiguous()
    ):
        # A bias that broadcasts as one row: PyTorch folds the leading dims
        # into the rows of one addmm and views the result back.
        lead = input.shape[:-1]
        rows = 1
        for size in lead:
            rows *= size
        out = _C.addmm(bias, input.reshape(rows, input.shape[-1]), weight_t, 1.0, 1.0)
        return out.view(*lead, out.shape[-1])
    return input @ weight_t + bias


def relu(input: Any, inplace: bool = False) -> Any:
    return input.relu_() if inplace else input.relu()


def relu_(input: Any) -> Any:
    return input.relu_()


def _leaky_factor(input: Any, negative_slope: float) -> Any:
    # x * 1 is x exactly (NaN and -0 too) and x * slope rounds as PyTorch's
    # kernel does, so one multiplication gives its values and its gradient.
    return where(input > 0, ones_like(input), full_like(input, negative_slope))


def leaky_relu(input: Any, negative_slope: float = 0.01, inplace: bool = False) -> Any:
    """``x if x > 0 else negative_slope * x``."""
    if inplace:
        return leaky_relu_(input, negative_slope)
    return input * _leaky_factor(input, negative_slope)


def leaky_relu_(input: Any, negative_slope: float = 0.01) -> Any:
    return input.mul_(_leaky_factor(input, negative_slope))


def sigmoid(input: Any) -> Any:
    return input.sigmoid()


def tanh(input: Any) -> Any:
    return input.tanh()


def _memory_permutation(t: Any) -> tuple[int, ...] | None:
    """Dimensions from outermost to innermost in memory when ``t`` is a
    permuted dense tensor (PyTorch's empty_like keeps such layouts), else
    None."""
    dims = sorted(range(t.ndim), key=lambda d: -t.stride(d))
    expected = 1
    for d in reversed(dims):
        if t.shape[d] != 1 and t.stride(d) != expected:
            return None
        expected *= t.shape[d]
    return tuple(dims)


def _bernoulli_keep(input: Any, keep: float) -> Any:
    """0/1 in input's dtype, 1 with probability ``keep``, drawn as PyTorch's
    CPU bernoulli_(float) does off Intel+MKL: one double uniform per element,
    in the memory order of a tensor laid out like ``input``."""
    perm = _memory_permutation(input)
    if perm is None or perm == tuple(range(input.ndim)):
        u = empty(input.shape, dtype=_C.float64).uniform_(0.0, 1.0)
    else:
        u = empty([input.shape[d] for d in perm], dtype=_C.float64).uniform_(0.0, 1.0)
        inverse = [0] * len(perm)
        for i, d in enumerate(perm):
            inverse[d] = i
        u = u.permute(*inverse)
    return (u < keep).to(input.dtype)


def dropout(
    input: Any, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Any:
    """Zeroes each element with probability ``p`` and scales the rest by
    ``1 / (1 - p)``; the identity when not training."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        noise = zeros((), dtype=input.dtype)
    else:
        noise = _bernoulli_keep(input, 1 - p)
        noise.div_(1 - p)
    return input.mul_(noise) if inplace else input * noise


def _dispatching_functions() -> None:
    # As gdlite's public ops: wrapped to route Tensor subclass arguments
    # through __torch_function__ once a subclass that overrides it exists.
    from .._tensor_function import defer_public_functions

    defer_public_functions(globals(), list(__all__))


_dispatching_functions()
