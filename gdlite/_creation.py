"""Creating tensors: from data, from NumPy, filled, and ranges."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from . import _C, _data, _tensor_str
from ._data import (
    NP_DTYPES,
    as_dtype,
    checked_integers,
    dtype_of_array,
    fill_number,
    infer_dtype,
    plain_sequences,
)
from ._memory_format import format_code, preserve_format
from ._types import device as _device
from ._warnings import NOT_WRITABLE, warn_once

float32, float64, int64, int32 = _C.float32, _C.float64, _C.int64, _C.int32
uint8 = _C.uint8
bool_ = _C.bool


_default_dtype = float32


def get_default_dtype() -> Any:
    """The dtype Python floats become and floating creation functions
    default to: ``gdlite.float32`` unless changed by ``set_default_dtype``."""
    return _default_dtype


def set_default_dtype(d: Any) -> None:
    """Sets the default floating dtype (``gdlite.float32`` or
    ``gdlite.float64``), process-wide as in PyTorch."""
    global _default_dtype
    if not isinstance(d, _C.dtype):
        raise TypeError(
            "invalid dtype object: only floating-point types are supported as the "
            "default type"
        )
    _C._set_default_float(d)  # raises for integer and bool dtypes
    _default_dtype = d
    _data._PY_TYPES[float] = d
    _tensor_str._default_float[0] = d._name  # printed without a dtype suffix


def _check_device(device: Any) -> None:
    if device is not None:
        _device(device)


def _with_grad(t: Any, requires_grad: bool) -> Any:
    if requires_grad:
        if not t.dtype.is_floating_point:
            raise RuntimeError(
                "Only Tensors of floating point and complex dtype can require gradients"
            )
        t.requires_grad = True
    return t


_warned_grad_scalar = False


def _as_array(data: Any, target: Any = None) -> tuple[Any, Any]:
    """Data as an array-like plus the dtype PyTorch would infer for it."""
    if isinstance(data, _C.TensorBase):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use "
            "sourceTensor.detach().clone() or "
            "sourceTensor.detach().clone().requires_grad_(True), rather than "
            "torch.tensor(sourceTensor).",
            UserWarning,
            stacklevel=3,
        )
        return data.detach()._numpy(), data.dtype
    if isinstance(data, (np.ndarray, np.generic)):
        return data, dtype_of_array(data)
    grad_leaves: list[Any] = []
    big_ints = target is not None and (target.is_floating_point or target == bool_)
    other_sequences: list[bool] = []
    inferred = infer_dtype(data, grad_leaves, big_ints, other_sequences)
    if other_sequences:  # a pandas Series and the like, read as lists
        data = plain_sequences(data)
    if grad_leaves:
        # PyTorch reads such elements as numbers, warning once per process.
        global _warned_grad_scalar
        if not _warned_grad_scalar:
            _warned_grad_scalar = True
            warnings.warn(
                "Converting a tensor with requires_grad=True to a scalar may lead to "
                "unexpected behavior.\nConsider using tensor.detach() first.",
                UserWarning,
                stacklevel=3,
            )
        data = _detached(data)
    return data, inferred


def _fits_int64(x: int) -> bool:
    return -(2**63) <= x < 2**63


def _detached(data: Any) -> Any:
    if isinstance(data, _C.TensorBase):
        return data.detach()
    if isinstance(data, (list, tuple, range)):
        return [_detached(x) for x in data]
    return data


def tensor(
    data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Any:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, arrays).

    >>> gdlite.tensor([[1., 2.], [3., 4.]])
    tensor([[1., 2.],
            [3., 4.]])
    """
    _check_device(device)
    dtype = None if dtype is None else as_dtype(dtype)
    if type(data) in (bool, int, float):  # the common scalar case, without NumPy
        if dtype is None:
            return _with_grad(_C.full((), data, infer_dtype(data)), requires_grad)
        if (
            dtype.is_floating_point
            or dtype == bool_
            or (dtype == int64 and type(data) is not float and _fits_int64(data))
        ):  # nothing to overflow
            return _with_grad(_C.full((), data, dtype), requires_grad)
    arr, inferred = _as_array(data, dtype)
    target = dtype if dtype is not None else inferred
    copy = None
    if not isinstance(data, (np.ndarray, _C.TensorBase)):
        copy = checked_integers(arr, inferred, target)
    if copy is None and target in (int32, int64) and inferred.is_floating_point:
        with np.errstate(invalid="ignore"):  # arrays cast unchecked, as in PyTorch
            copy = np.array(arr, dtype=NP_DTYPES[target], order="C", copy=True)
    elif copy is None and target == uint8 and inferred != uint8:
        with np.errstate(invalid="ignore"):  # through int64: C's wrapping casts
            copy = np.array(arr).astype(np.int64).astype(np.uint8)
    elif copy is None:
        copy = np.array(arr, dtype=NP_DTYPES[target], order="C", copy=True)
    return _with_grad(_C.from_numpy(copy), requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Any:
    """``data`` as a tensor, sharing memory with an ndarray or tensor when it can."""
    _check_device(device)
    dtype = None if dtype is None else as_dtype(dtype)
    if isinstance(data, _C.TensorBase):
        return data if dtype is None or dtype == data.dtype else data.to(dtype)
    if isinstance(data, np.ndarray) and (
        dtype is None or NP_DTYPES[dtype] == data.dtype
    ):
        return _from_numpy(data, stacklevel=3)
    return tensor(data, dtype=dtype)


def from_numpy(ndarray: np.ndarray) -> Any:
    """A tensor sharing ``ndarray``'s memory: writes show on both sides."""
    return _from_numpy(ndarray, stacklevel=3)


def _from_numpy(ndarray: np.ndarray, stacklevel: int) -> Any:
    if isinstance(ndarray, np.ndarray):
        dtype_of_array(ndarray)  # PyTorch's errors for unsupported arrays
    if isinstance(ndarray, np.ndarray) and not ndarray.flags.writeable:
        warn_once(NOT_WRITABLE, stacklevel=stacklevel)
    return _C.from_numpy(ndarray)


def _size_args(size: tuple[Any, ...], name: str = "zeros") -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if isinstance(s, float):
            raise TypeError(
                f"{name}(): argument 'size' must be tuple of ints, but found "
                "element of type float"
            )
        if not hasattr(s, "__index__"):
            raise TypeError(
                f"{name}(): argument 'size' (position 1) must be tuple of ints, not "
                f"{type(s).__name__}"
            )
    out = tuple(s.__index__() for s in size)
    for pos, s in enumerate(out, 1):
        if not -(2**63) <= s < 2**63:
            raise TypeError(
                f"{name}(): argument 'size' failed to unpack the object at pos {pos} "
                'with error "Overflow when unpacking long long"'
            )
    return out


def _size_keyword(args: tuple[Any, ...], size: Any, name: str) -> tuple[Any, ...]:
    """The size from ``zeros(2, 3)``, ``zeros((2, 3))`` or ``zeros(size=(2, 3))``,
    as one tuple of arguments for _size_args."""
    if size is None:
        return args
    if args:
        raise TypeError(f"{name}() got multiple values for argument 'size'")
    if not isinstance(size, (tuple, list)):
        raise TypeError(
            f"{name}(): argument 'size' must be tuple of ints, not "
            f"{type(size).__name__}"
        )
    return (size,)


def _filled(
    size: tuple[Any, ...], value: Any, dtype: Any, device: Any, rg: bool, name: str
) -> Any:
    _check_device(device)
    dtype = _default_dtype if dtype is None else as_dtype(dtype)
    out = _C.full(_size_args(size, name), value, dtype)
    return _with_grad(out, rg)


def zeros(
    *args: Any,
    size: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Any:
    """A tensor of zeros: ``gdlite.zeros(2, 3)``, ``gdlite.zeros((2, 3))`` or
    ``gdlite.zeros(size=(2, 3))``."""
    size = _size_keyword(args, size, "zeros")
    return _filled(size, 0, dtype, device, requires_grad, "zeros")


def ones(
    *args: Any,
    size: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Any:
    """A tensor of ones."""
    size = _size_keyword(args, size, "ones")
    return _filled(size, 1, dtype, device, requires_grad, "ones")


def empty(
    *args: Any,
    size: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Any:
    """An uninitialised tensor."""
    size = _size_keyword(args, size, "empty")
    return _filled(size, None, dtype, device, requires_grad, "empty")


def full(
    size: Any,
    fill_value: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Any:
    """A tensor filled with ``fill_value``; the dtype follows the value's kind."""
    if dtype is None:
        dtype = (
            bool_
            if isinstance(fill_value, bool)
            else (int64 if isinstance(fill_value, int) else _default_dtype)
        )
    fill_value = fill_number(fill_value, as_dtype(dtype))
    return _filled(
        (size,) if isinstance(size, int) else tuple(size),
        fill_value,
        dtype,
        device,
        requires_grad,
        "full",
    )


def _like(
    name: str,
    t: Any,
    value: Any,
    dtype: Any,
    device: Any,
    requires_grad: bool,
    memory_format: Any,
) -> Any:
    _check_device(device)
    code = format_code(memory_format, name, preserve_format)
    dtype = t.dtype if dtype is None else as_dtype(dtype)
    value = fill_number(value, dtype)
    return _with_grad(_C.full(tuple(t.shape), value, dtype, t, code), requires_grad)


def zeros_like(
    input: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    memory_format: Any = None,
) -> Any:
    """Zeros with ``input``'s shape, dtype and layout."""
    return _like("zeros_like", input, 0, dtype, device, requires_grad, memory_format)


def ones_like(
    input: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    memory_format: Any = None,
) -> Any:
    """Ones with ``input``'s shape, dtype and layout."""
    return _like("ones_like", input, 1, dtype, device, requires_grad, memory_format)


def full_like(
    input: Any,
    fill_value: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    memory_format: Any = None,
) -> Any:
    """``fill_value`` with ``input``'s shape, dtype and layout."""
    return _like(
        "full_like", input, fill_value, dtype, device, requires_grad, memory_format
    )


def empty_like(
    input: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    memory_format: Any = None,
) -> Any:
    """Uninitialised, with ``input``'s shape, dtype and layout."""
    return _like("empty_like", input, None, dtype, device, requires_grad, memory_format)


def _number(x: Any) -> Any:
    return x.item() if hasattr(x, "item") and not isinstance(x, (int, float)) else x


def arange(
    start: Any = None,
    end: Any = None,
    step: Any = None,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Any:
    """Values from ``start`` up to (not including) ``end`` by ``step``.

    Floating steps give PyTorch's exact values: ``arange(-1, 1, 0.1)[12]`` is 0.2.
    """
    _check_device(device)
    if end is None:
        start, end = 0, start
    elif start is None and step is None:  # arange(end=n)
        start = 0
    if start is None or end is None:  # as PyTorch, no step without start
        raise TypeError(
            "arange() received an invalid combination of arguments: it takes "
            "(end), (start, end) or (start, end, step)"
        )
    if step is None:
        step = 1
    start, end, step = _number(start), _number(end), _number(step)
    if dtype is None:
        dtype = (
            int64
            if all(isinstance(v, int) for v in (start, end, step))
            else _default_dtype
        )
    return _with_grad(_C.arange(start, end, step, dtype), requires_grad)


def linspace(
    start: Any,
    end: Any,
    steps: int,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Any:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    _check_device(device)
    out = _C.linspace(
        float(_number(start)),
        float(_number(end)),
        int(steps),
        _default_dtype if dtype is None else dtype,
    )
    return _with_grad(out, requires_grad)


# What torch's checked conversion of a number into each integer dtype calls
# the type, and the range it accepts.
_INT_LIMITS = {
    int64: ("int64_t", -(2**63), 2**63 - 1),
    int32: ("int", -(2**31), 2**31 - 1),
    uint8: ("uint8_t", 0, 255),
}


def _check_converts(value: Any, dtype: Any) -> None:
    """torch's overflow check when a number becomes one element of ``dtype``:
    integers may wrap into uint8 from as low as -255; floats must be in range
    (NaN and infinities refused for integer types, kept for floating ones)."""
    if dtype == float32:
        bad = math.isfinite(value) and abs(value) > 3.4028234663852886e38
        name = "float"
    elif dtype in _INT_LIMITS:
        name, lo, hi = _INT_LIMITS[dtype]
        if isinstance(value, int):
            bad = value > hi or value < (-hi if lo == 0 else lo)
        else:
            # Compared as doubles: int64's max is 2**63 there.
            bad = not lo <= value <= float(hi)
    else:
        return
    if bad:
        raise RuntimeError(f"value cannot be converted to type {name} without overflow")


def _space_end(value: Any, which: str) -> Any:
    if hasattr(value, "dim") and value.dim() != 0:
        raise RuntimeError(
            "logspace only supports 0-dimensional start and end tensors, but got "
            f"{which} with {value.dim()} dimension(s)."
        )
    value = _number(value)
    return int(value) if isinstance(value, bool) else value


def logspace(
    start: Any,
    end: Any,
    steps: int,
    base: float = 10.0,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Any:
    """``steps`` values ``base ** x`` for x evenly spaced from ``start`` to
    ``end`` inclusive, with PyTorch's values to the last bit."""
    _check_device(device)
    if hasattr(start, "dim") and hasattr(end, "dim") and start.dim() + end.dim():
        raise RuntimeError(
            "logspace only supports 0-dimensional start and end tensors, but got "
            f"start with {start.dim()} dimension(s) and end with {end.dim()} "
            "dimension(s)."
        )
    start, end = _space_end(start, "start"), _space_end(end, "end")
    dtype = _default_dtype if dtype is None else as_dtype(dtype)
    steps, base = int(steps), float(base)
    if steps == 1:
        # base ** start in double, then stored as one element of dtype.
        value = _C.logspace(float(start), float(start), 1, base, float64).item()
        _check_converts(value, dtype)
        return _with_grad(_C.full((1,), value, dtype), requires_grad)
    if steps > 1:
        if dtype == bool_:
            raise NotImplementedError("\"logspace_cpu\" not implemented for 'Bool'")
        _check_converts(start, dtype)
        _check_converts(end, dtype)
    out = _C.logspace(float(start), float(end), steps, base, dtype)
    return _with_grad(out, requires_grad)


def eye(
    n: int,
    m: int | None = None,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Any:
    """The identity matrix (``n`` x ``m``)."""
    _check_device(device)
    m = n if m is None else m
    if n > 0 and m > 0 and n * m >= 2**63:
        # PyTorch resizes an empty result to (n, m): its element count is
        # checked before the byte size.
        raise RuntimeError("numel: integer multiplication overflow")
    out = _C.full((n, m), 0, _default_dtype if dtype is None else as_dtype(dtype))
    k = n if n < m else m
    if k:
        _C.as_strided(out, (k,), (m + 1,), 0).fill_(1)
    return _with_grad(out, requires_grad)
