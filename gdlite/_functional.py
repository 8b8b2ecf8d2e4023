"""Tensor operations in PyTorch's signatures: the op namespace.

Each function takes the tensor first, so the same object serves as
``gdlite.exp(t)`` and as the method ``t.exp()``. Argument handling lives here;
the work is one call into the C core. Elementwise ops are defined here;
reductions (_reductions), matrix products (_linalg), joining and gathering
(_gathering) and counting (_counting) are re-exported at the end.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

from . import _C
from ._counting import METHODS as _COUNT_METHODS
from ._counting import (
    argwhere as argwhere,
)
from ._counting import (
    bincount as bincount,
)
from ._counting import (
    histc as histc,
)
from ._counting import (
    nonzero as nonzero,
)
from ._counting import (
    unique as unique,
)
from ._counting import (
    unique_consecutive as unique_consecutive,
)
from ._gathering import METHODS as _GATHER_METHODS

# Reductions, products and gathering live in their own modules; gdlite and
# gdlite.Tensor read every op from here (the `x as x` form re-exports).
from ._gathering import (
    cat as cat,
)
from ._gathering import (
    gather as gather,
)
from ._gathering import (
    index_select as index_select,
)
from ._gathering import (
    meshgrid as meshgrid,
)
from ._gathering import (
    scatter_add as scatter_add,
)
from ._gathering import (
    scatter_add_ as scatter_add_,
)
from ._gathering import (
    stack as stack,
)
from ._gathering import (
    take_along_dim as take_along_dim,
)
from ._linalg import (
    addmm as addmm,
)
from ._linalg import (
    bmm as bmm,
)
from ._linalg import (
    dot as dot,
)
from ._linalg import (
    matmul as matmul,
)
from ._linalg import (
    mm as mm,
)
from ._linalg import (
    mv as mv,
)
from ._reductions import (
    all as all,
)
from ._reductions import (
    amax as amax,
)
from ._reductions import (
    amin as amin,
)
from ._reductions import (
    any as any,
)
from ._reductions import (
    argmax as argmax,
)
from ._reductions import (
    argmin as argmin,
)
from ._reductions import (
    cumprod as cumprod,
)
from ._reductions import (
    cumprod_ as cumprod_,
)
from ._reductions import (
    cumsum as cumsum,
)
from ._reductions import (
    max as max,
)
from ._reductions import (
    mean as mean,
)
from ._reductions import (
    min as min,
)
from ._reductions import (
    norm as norm,
)
from ._reductions import (
    prod as prod,
)
from ._reductions import (
    std as std,
)
from ._reductions import (
    sum as sum,
)
from ._reductions import (
    var as var,
)

OPS = _C.ops
METHODS = {**_GATHER_METHODS, **_COUNT_METHODS}
builtins_any = builtins.any  # this module defines its own any()

_UNARY = (
    "neg abs exp log log1p sqrt square reciprocal sin cos tan sinh cosh tanh "
    "sigmoid relu sign floor ceil logical_not bitwise_not"
).split()
_BINARY = (
    "add sub mul div floor_divide remainder pow maximum minimum eq ne lt le gt ge "
    "logical_and logical_or logical_xor bitwise_and bitwise_or bitwise_xor"
).split()


# ---- elementwise ------------------------------------------------------------


def _make_unary(name: str) -> Any:
    code = OPS[name]

    def op(input: Any) -> Any:
        return _C.unary(code, input)

    def op_(self: Any) -> Any:
        _C.unary_(code, self)
        return self

    op.__name__, op_.__name__ = name, name + "_"
    op.__doc__ = f"Elementwise {name}: ``gdlite.{name}(t)`` or ``t.{name}()``."
    op_.__doc__ = f"In-place {name}; returns the tensor."
    return op, op_


def _make_binary(name: str) -> Any:
    code = OPS[name]

    def op(input: Any, other: Any) -> Any:
        return _C.binary(code, input, other)

    def op_(self: Any, other: Any) -> Any:
        _C.binary_(code, self, other)
        return self

    op.__name__, op_.__name__ = name, name + "_"
    op.__doc__ = f"Elementwise {name} with broadcasting and type promotion."
    op_.__doc__ = f"In-place {name}; returns the tensor."
    return op, op_


UNARY = {name: _make_unary(name) for name in _UNARY}
BINARY = {name: _make_binary(name) for name in _BINARY}


def _result_dtype(input: Any, other: Any) -> Any:
    """The dtype input + other would have, from empty stand-ins of the same
    promotion category (a dimensioned tensor, a 0-d tensor, a number)."""

    def stand_in(x: Any) -> Any:
        if isinstance(x, _C.TensorBase):
            return _C.full((0,) if x.dim() else (), 0, x.dtype)
        return x

    return _C.binary(OPS["add"], stand_in(input), stand_in(other)).dtype


# add/sub's default alpha: identity checks keep the common call cheap.
_ONE = 1


def _alpha(input: Any, other: Any, alpha: Any) -> Any:
    """alpha for the core's fused ``input + alpha * other``, after PyTorch's
    checks of its type."""
    if isinstance(alpha, bool):
        if _result_dtype(input, other) != _C.bool:
            raise RuntimeError("Boolean alpha only supported for Boolean results.")
    elif isinstance(alpha, float) and not _result_dtype(input, other).is_floating_point:
        raise RuntimeError(
            "For integral input tensors, argument alpha must not be a floating point "
            "number."
        )
    return alpha


def add(input: Any, other: Any, *, alpha: Any = 1) -> Any:
    """``input + alpha * other``, broadcast. Example: ``gdlite.add(a, b, alpha=2)``."""
    if alpha is _ONE:  # the default (an int 1 passed is the same object)
        return _C.binary(OPS["add"], input, other)
    return _C.binary(OPS["add"], input, other, 0, _alpha(input, other, alpha))


def _has_bool(*operands: Any) -> bool:
    return builtins_any(
        isinstance(x, bool) or getattr(x, "dtype", None) == _C.bool for x in operands
    )


def sub(input: Any, other: Any, *, alpha: Any = 1) -> Any:
    """``input - alpha * other``, broadcast."""
    if alpha is _ONE or _has_bool(input, other):
        return _C.binary(OPS["sub"], input, other)  # bools: the op's own refusal
    return _C.binary(OPS["sub"], input, other, 0, _alpha(input, other, alpha))


_ROUNDING = {None: "div", "floor": "floor_divide", "trunc": "trunc_divide"}


def _rounding_op(rounding_mode: str | None) -> int:
    if rounding_mode not in _ROUNDING:
        raise RuntimeError(
            "div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
            f"found '{rounding_mode}'"
        )
    return OPS[_ROUNDING[rounding_mode]]


def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Any:
    """True division; ``rounding_mode`` 'floor' or 'trunc' rounds the quotient."""
    return _C.binary(_rounding_op(rounding_mode), input, other)


def add_(self: Any, other: Any, *, alpha: Any = 1) -> Any:
    """In-place ``self += alpha * other``; returns self."""
    if alpha is _ONE:
        _C.binary_(OPS["add"], self, other)
    else:
        _C.binary_(OPS["add"], self, other, _alpha(self, other, alpha))
    return self


def sub_(self: Any, other: Any, *, alpha: Any = 1) -> Any:
    """In-place ``self -= alpha * other``; returns self."""
    if alpha is _ONE or _has_bool(self, other):
        _C.binary_(OPS["sub"], self, other)
    else:
        _C.binary_(OPS["sub"], self, other, _alpha(self, other, alpha))
    return self


def div_(self: Any, other: Any, *, rounding_mode: str | None = None) -> Any:
    """In-place division; returns self."""
    _C.binary_(_rounding_op(rounding_mode), self, other)
    return self


def round(input: Any, *, decimals: int = 0) -> Any:  # noqa: A001 - torch's name
    """Rounds half to even, optionally at ``decimals`` places."""
    if decimals == 0:
        return _C.unary(OPS["round"], input)
    scale = 10.0**decimals
    return _C.unary(OPS["round"], input * scale) / scale


def _clamp_dtype(input: Any, min: Any, max: Any) -> Any:  # noqa: A002
    dtype = input.dtype
    for bound in (min, max):
        if bound is not None:
            dtype = _C.binary(OPS["add"], _C.full((), 0, dtype), bound).dtype
    return dtype


def clamp(input: Any, min: Any = None, max: Any = None) -> Any:  # noqa: A002
    """Limits values to ``[min, max]``; either bound may be None or a tensor.
    Alias: ``clip``."""
    if min is None and max is None:
        raise RuntimeError(
            "torch.clamp: At least one of 'min' or 'max' must not be None"
        )
    if any_tensor_bound(min, max):
        # Elementwise bounds: max(input, min) then min(., max), NaN kept.
        out = input
        if min is not None:
            out = _C.binary(OPS["maximum"], out, min)
        if max is not None:
            out = _C.binary(OPS["minimum"], out, max)
        return out
    dtype = _clamp_dtype(input, min, max)
    if dtype != input.dtype:
        input = _C.to_dtype(input, dtype)
    return _C.clamp(input, min, max, False)


def any_tensor_bound(*bounds: Any) -> bool:
    return builtins_any(isinstance(b, _C.TensorBase) and b.numel() != 1 for b in bounds)


def clamp_(self: Any, min: Any = None, max: Any = None) -> Any:  # noqa: A002
    """In-place clamp; returns self."""
    dtype = _clamp_dtype(self, min, max)
    if dtype != self.dtype:
        raise RuntimeError(
            f"result type {dtype._scalar_name} can't be cast to the desired output "
            f"type {self.dtype._cxx_name}"
        )
    if any_tensor_bound(min, max):
        self.copy_(clamp(self, min, max))
    else:
        _C.clamp(self, min, max, True)
    return self


def where(condition: Any, input: Any, other: Any) -> Any:
    """Elements of ``input`` where ``condition`` holds, else of ``other``."""
    return _C.where(condition, input, other)


def isnan(input: Any) -> Any:
    """Bool tensor: which elements are NaN."""
    return input != input


def isinf(input: Any) -> Any:
    """Bool tensor: which elements are +inf or -inf."""
    return abs(input) == math.inf


def isfinite(input: Any) -> Any:
    """Bool tensor: which elements are neither NaN nor infinite."""
    return (input == input) & (abs(input) != math.inf)


# ---- comparisons of whole tensors --------------------------------------------


def allclose(
    input: Any,
    other: Any,
    rtol: float = 1e-05,
    atol: float = 1e-08,
    equal_nan: bool = False,
) -> bool:
    """Whether every ``|input - other| <= atol + rtol * |other|``."""
    close = abs(input - other) <= atol + rtol * abs(other)
    if equal_nan:
        close = close | (isnan(input) & isnan(other))
    return bool(all(close))


def equal(input: Any, other: Any) -> bool:
    """Same shape and same values."""
    return bool(tuple(input.shape) == tuple(other.shape) and all(input == other))


def is_tensor(obj: Any) -> bool:
    """Whether ``obj`` is a gdlite tensor."""
    return isinstance(obj, _C.TensorBase)


def numel(input: Any) -> int:
    """Number of elements of ``input``."""
    return input.numel()


def softmax(input: Any, dim: Any = None, dtype: Any = None, *, axis: Any = None) -> Any:
    """``exp(x) / exp(x).sum(dim)``, computed stably; ``dtype`` casts first."""
    if axis is not None:  # NumPy's name, as PyTorch accepts it
        if dim is not None:
            raise TypeError("softmax() got an unexpected keyword argument 'axis'")
        dim = axis
    return _C.softmax(input if dtype is None else input.to(dtype), dim, False)


def log_softmax(
    input: Any, dim: Any = None, dtype: Any = None, *, axis: Any = None
) -> Any:
    """``log(softmax(x, dim))``, computed stably; ``dtype`` casts first."""
    if axis is not None:  # NumPy's name, as PyTorch accepts it
        if dim is not None:
            raise TypeError("log_softmax() got an unexpected keyword argument 'axis'")
        dim = axis
    return _C.softmax(input if dtype is None else input.to(dtype), dim, True)
