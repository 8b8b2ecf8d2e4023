"""softmax, log_softmax and the losses of ``torch.nn.functional``, in
PyTorch's signatures. The numerically delicate parts are fused core ops
(``_C.softmax``, ``_C.nll_loss``, ...) with their own backward rules; what
PyTorch composes from other ops (l1_loss, cross_entropy) is composed here the
same way, so the graphs carry PyTorch's node names.

Example::

    >>> import gdlite
    >>> from gdlite.nn._functional_loss import cross_entropy
    >>> logits = gdlite.tensor([[2.0, 0.5, -1.0]], requires_grad=True)
    >>> loss = cross_entropy(logits, gdlite.tensor([0]))
    >>> loss.backward()
"""

from __future__ import annotations

import warnings
from typing import Any

from .. import _C
from .._gathering import _broadcast_pair

_REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}
_OPS = _C.ops


def _legacy_reduction(size_average: Any, reduce: Any) -> str:
    """The reduction the deprecated size_average/reduce pair stands for."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        ret = "mean"
    elif reduce:
        ret = "sum"
    else:
        ret = "none"
    warnings.warn(
        "size_average and reduce args will be deprecated, please use "
        f"reduction='{ret}' instead.",
        stacklevel=3,
    )
    return ret


def _reduction(reduction: str, size_average: Any = None, reduce: Any = None) -> int:
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return _REDUCTIONS[reduction]


# ---- softmax ------------------------------------------------------------------


def _implicit_dim(name: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call "
        "to include dim=X as an argument.",
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(
    input: Any, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None
) -> Any:
    """``exp(x - max) / sum(exp(x - max))`` along ``dim``; ``dtype`` casts first."""
    if dim is None:
        dim = _implicit_dim("softmax", input.dim(), _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return _C.softmax(input, dim, False)


def log_softmax(
    input: Any, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None
) -> Any:
    """``x - max - log(sum(exp(x - max)))`` along ``dim``."""
    if dim is None:
        dim = _implicit_dim("log_softmax", input.dim(), _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return _C.softmax(input, dim, True)


# ---- classification -------------------------------------------------------------


def nll_loss(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: Any = None,
    ignore_index: int = -100,
    reduce: Any = None,
    reduction: str = "mean",
) -> Any:
    """Negative log likelihood of the target classes, from log-probabilities
    of shape (C), (N, C) or (N, C, d1, ...)."""
    red = _reduction(reduction, size_average, reduce)
    ndim = input.dim()
    if ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {ndim})")
    if ndim != 1 and target.dim() > 0 and input.shape[0] != target.shape[0]:
        raise ValueError(
            f"Expected input batch_size ({input.shape[0]}) to match target "
            f"batch_size ({target.shape[0]})."
        )
    if ndim == 3 or ndim > 4:
        # PyTorch views these as (N, C, 1, -1) and runs the 4-d loss.
        n, c = input.shape[0], input.shape[1]
        out_size = [n, *input.shape[2:]]
        if list(target.shape[1:]) != list(input.shape[2:]):
            raise RuntimeError(
                f"Expected target size {out_size}, got {list(target.shape)}"
            )
        empty = input.numel() == 0
        input = (
            input.contiguous().view(n, c, 0, 0)
            if empty
            else (input.contiguous().view(n, c, 1, -1))
        )
        target = target.contiguous()
        target = target.view(n, 0, 0) if target.numel() == 0 else target.view(n, 1, -1)
        out = _C.nll_loss(input, target, weight, red, ignore_index)
        return out.view(out_size) if red == 0 else out
    return _C.nll_loss(input, target, weight, red, ignore_index)


def _class_weight_view(weight: Any, ndim: int, class_dim: int) -> Any:
    shape = [1] * ndim
    shape[class_dim] = weight.shape[0]
    return weight.view(shape)


def _prob_target_loss(
    logp: Any, target: Any, weight: Any, red: int, label_smoothing: float
) -> Any:
    class_dim = 0 if logp.dim() == 1 else 1
    n_classes = logp.shape[class_dim]
    if weight is not None and (weight.dim() != 1 or weight.numel() != n_classes):
        raise RuntimeError(
            f"cross_entropy: weight tensor should be defined either for all "
            f"{n_classes} classes or no classes but got weight tensor of shape: "
            f"{list(weight.shape)}"
        )
    if label_smoothing > 0.0:
        if label_smoothing > 1.0:
            raise RuntimeError(
                f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing:g}"
            )
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    prod = logp * target
    if weight is not None:
        prod = prod * (
            _class_weight_view(weight, logp.dim(), class_dim)
            if logp.dim() > 1
            else weight
        )
    if red == 2:
        return -prod.sum()
    if red == 0:
        return -prod.sum(class_dim)
    if logp.numel() == 0:
        return -prod.sum() * float("nan")
    # PyTorch divides by a number in C++: its node is DivBackward1.
    return _C.binary(
        _OPS["div"],
        -prod.sum(),
        logp.numel() // n_classes,
        _C.decompositions["DIV_SCALAR"],
    )


def _smoothed_loss(
    logp: Any, target: Any, weight: Any, red: int, ignore_index: int, ls: float
) -> Any:
    class_dim = 0 if logp.dim() == 1 else 1
    n_classes = logp.shape[class_dim]
    nll = nll_loss(
        logp, target, weight, ignore_index=ignore_index, reduction=_NAMES[red]
    )
    if weight is not None:
        smooth = -(logp * _class_weight_view(weight, logp.dim(), class_dim)).sum(
            class_dim
        )
    else:
        smooth = -logp.sum(class_dim)
    ignored = target == ignore_index
    smooth = _C.where(ignored, 0.0, smooth)
    if red == 1:
        kept = ~ignored
        if weight is not None:
            ret = smooth.sum() / weight[target[kept].flatten()].sum()
        else:
            ret = smooth.sum() / kept.sum()
    elif red == 2:
        ret = smooth.sum()
    else:
        ret = smooth
    return (1 - ls) * nll + ret * (ls / n_classes)


_NAMES = {v: k for k, v in _REDUCTIONS.items()}


def cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: Any = None,
    ignore_index: int = -100,
    reduce: Any = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Any:
    """log_softmax over the class dim, then nll_loss for class indices, or
    the cross entropy with class probabilities when target has input's shape."""
    red = _reduction(reduction, size_average, reduce)
    class_dim = 0 if input.dim() == 1 else 1
    if tuple(input.shape) == tuple(target.shape):
        if not target.dtype.is_floating_point:
            raise RuntimeError(
                "Expected floating point type for target with class probabilities, "
                f"got {target.dtype._scalar_name}"
            )
        if ignore_index >= 0:
            raise RuntimeError(
                "ignore_index is not supported for floating point target"
            )
        logp = log_softmax(input, class_dim)
        return _prob_target_loss(logp, target, weight, red, label_smoothing)
    if label_smoothing > 0.0:
        if label_smoothing > 1.0:
            raise RuntimeError(
                f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing:g}"
            )
        logp = log_softmax(input, class_dim)
        return _smoothed_loss(logp, target, weight, red, ignore_index, label_smoothing)
    return nll_loss(
        log_softmax(input, class_dim),
        target,
        weight,
        None,
        ignore_index,
        None,
        _NAMES[red],
    )


def binary_cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
) -> Any:
    """``-w (y log x + (1 - y) log(1 - x))`` for probabilities x in [0, 1]."""
    red = _reduction(reduction, size_average, reduce)
    if target.size() != input.size():
        raise ValueError(
            f"Using a target size ({target.size()}) that is different to the input "
            f"size ({input.size()}) is deprecated. Please ensure they have the same "
            "size."
        )
    if weight is not None:
        weight = _weight_to(weight, list(target.shape))
    return _C.binary_cross_entropy(input, target, weight, red)


def _weight_to(weight: Any, shape: list[int]) -> Any:
    """weight broadcast to the target's shape, with PyTorch's refusal."""
    wshape = list(weight.shape)
    for i in range(1, len(wshape) + 1):
        if i > len(shape) or wshape[-i] not in (1, shape[-i]):
            raise RuntimeError(
                f"Attempting to broadcast a dimension of length {wshape[-i]} at {-i}! "
                f"Mismatching argument at index 1 had {weight.size()}; but expected "
                f"shape should be broadcastable to {shape}"
            )
    return weight if wshape == shape else weight.expand(shape)


def binary_cross_entropy_with_logits(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Any:
    """binary_cross_entropy of ``sigmoid(input)``, computed stably from the
    logits; ``pos_weight`` weighs the positive term per class."""
    red = _reduction(reduction, size_average, reduce)
    if target.size() != input.size():
        raise ValueError(
            f"Target size ({target.size()}) must be the same as input size "
            f"({input.size()})"
        )
    return _C.binary_cross_entropy_with_logits(input, target, weight, pos_weight, red)


# ---- regression ------------------------------------------------------------------


def _expanded(input: Any, target: Any) -> tuple[Any, Any]:
    """input and target broadcast together, warning as PyTorch does when their
    sizes differ."""
    if target.size() != input.size():
        warnings.warn(
            f"Using a target size ({target.size()}) that is different to the input "
            f"size ({input.size()}). This will likely lead to incorrect results due "
            "to broadcasting. Please ensure they have the same size.",
            stacklevel=3,
        )
        shape = _broadcast_pair(list(input.shape), list(target.shape))
        if list(input.shape) != shape:
            input = input.expand(shape)
        if list(target.shape) != shape:
            target = target.expand(shape)
    return input, target


def _weighted(loss: Any, weight: Any, input: Any, red: int) -> Any:
    if weight.size() != input.size():
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if red == 0:
        return loss
    return loss.sum() if red == 2 else loss.sum() / weight.sum()


def mse_loss(
    input: Any,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    weight: Any = None,
) -> Any:
    """Mean (or sum) of ``(input - target) ** 2``."""
    red = _reduction(reduction, size_average, reduce)
    input, target = _expanded(input, target)
    if weight is not None:
        return _weighted((input - target) ** 2, weight, input, red)
    return _C.pointwise_loss(_OPS["mse_loss"], input, target, red, 0.0)


def l1_loss(
    input: Any,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    weight: Any = None,
) -> Any:
    """Mean (or sum) of ``|input - target|``."""
    red = _reduction(reduction, size_average, reduce)
    input, target = _expanded(input, target)
    loss = (input - target).abs()
    if weight is not None:
        return _weighted(loss, weight, input, red)
    return loss if red == 0 else loss.mean() if red == 1 else loss.sum()


def huber_loss(
    input: Any,
    target: Any,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Any = None,
) -> Any:
    """Quadratic within ``delta`` of the target, linear beyond."""
    red = _reduction(reduction)
    input, target = _expanded(input, target)
    if weight is None:
        return _C.pointwise_loss(_OPS["huber_loss"], input, target, red, float(delta))
    loss = _C.pointwise_loss(_OPS["huber_loss"], input, target, 0, float(delta))
    if weight.size() != input.size():
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    return loss if red == 0 else loss.sum() if red == 2 else loss.mean()


def smooth_l1_loss(
    input: Any,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Any:
    """Huber's loss divided by ``beta``; ``beta == 0`` is l1_loss."""
    red = _reduction(reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0.0:
        return l1_loss(input, target, reduction=_NAMES[red])
    input, target = _expanded(input, target)
    return _C.pointwise_loss(_OPS["smooth_l1_loss"], input, target, red, float(beta))
