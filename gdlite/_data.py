"""Python data to NumPy arrays, with PyTorch's rules for ``tensor(data)``.

PyTorch infers a dtype from the elements of nested sequences: Python floats
take the default dtype (float32), ints int64, bools bool, NumPy scalars and
0-d tensors their own dtype, and mixed elements promote. Shapes must be
rectangular, with PyTorch's messages when they are not.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _C

# Every dtype of the core's table, and its NumPy twin (read from the table).
DTYPES = tuple(d for d in vars(_C).values() if isinstance(d, _C.dtype))
NP_DTYPES = {d: np.dtype(d._numpy).type for d in DTYPES}
_FROM_NP = {np.dtype(v): k for k, v in NP_DTYPES.items()}
_PY_TYPES = {bool: _C.bool, int: _C.int64, float: _C.float32}
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


# Integer dtypes whose Python-number values PyTorch range-checks.
_INT_LIMITS = {_C.uint8: (0, 255), _C.int32: (-(2**31), 2**31 - 1)}
_INT_LIMITS[_C.int64] = (_INT64_MIN, _INT64_MAX)


def check_python_values(data: Any, dtype: Any) -> None:
    """PyTorch's overflow check for Python numbers stored into an integer dtype.

    Floats must lie within the dtype's range before truncation (NaN never
    does); ints may also wrap into an unsigned dtype from as low as -max.
    """
    limits = _INT_LIMITS.get(dtype)
    if limits is None:
        return
    low, high = limits
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(x)
            continue
        if isinstance(x, float):
            bad = not (low <= x <= float(high))
        elif type(x) is int and dtype is not _C.int64:
            bad = x > high or x < (low if low < 0 else -high)
        else:
            continue
        if bad:
            raise RuntimeError(
                f"value cannot be converted to type {dtype._name} without overflow"
            )


def as_dtype(dtype: Any) -> Any:
    """A gdlite dtype from a dtype or one of Python's float/int/bool."""
    if isinstance(dtype, _C.dtype):
        return dtype
    if dtype is float:
        return _C.float64
    if dtype is int:
        return _C.int64
    if dtype is bool:
        return _C.bool
    raise TypeError(f"dtype must be a gdlite.dtype, not {type(dtype).__name__}")


def dtype_of_array(arr: np.ndarray | np.generic) -> Any:
    """The gdlite dtype of a NumPy array, or PyTorch's errors."""
    dt = arr.dtype
    if not dt.isnative:
        raise ValueError(
            "given numpy array has byte order different from the native byte order. "
            "Conversion between byte orders is currently not supported."
        )
    try:
        return _FROM_NP[dt]
    except KeyError:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{dt.type.__name__}. The only "
            "supported types are: float64, float32, int64, int32, uint8, and bool."
        ) from None


def _leaf_dtype(x: Any) -> Any:
    kind = _PY_TYPES.get(type(x))
    if kind is _C.int64 and not _INT64_MIN <= x <= _INT64_MAX:
        raise ValueError("Overflow when unpacking long long")
    if kind is not None:
        return kind
    if isinstance(x, (np.generic, np.ndarray)):
        return dtype_of_array(np.asarray(x))
    if isinstance(x, _C.TensorBase):
        if x.numel() != 1:
            raise ValueError(
                "only one element tensors can be converted to Python scalars"
            )
        return x.dtype
    if isinstance(x, (bool, int, float)):  # subclasses of Python's numbers
        return _PY_TYPES[
            bool if isinstance(x, bool) else int if isinstance(x, int) else float
        ]
    if isinstance(x, str):
        raise TypeError("new(): invalid data type 'str'")
    raise RuntimeError(f"Could not infer dtype of {type(x).__name__}")


def infer_dtype(data: Any) -> Any:
    """The dtype PyTorch gives ``tensor(data)``; checks the nesting is rectangular."""
    shape: list[int] = []
    leaf_depth = -1
    dtype = None
    stack = [(data, 0)]
    while stack:
        x, depth = stack.pop()
        if isinstance(x, (list, tuple, range)) or (
            isinstance(x, np.ndarray) and x.ndim > 0
        ):
            if leaf_depth >= 0 and depth >= leaf_depth:
                raise TypeError(
                    f"'{type(x).__name__}' object cannot be interpreted as an integer"
                )
            if depth == len(shape):
                shape.append(len(x))
            elif shape[depth] != len(x):
                raise ValueError(
                    f"expected sequence of length {shape[depth]} at dim {depth} "
                    f"(got {len(x)})"
                )
            stack.extend((item, depth + 1) for item in reversed(x))
            continue
        if leaf_depth < 0:
            leaf_depth = depth
        elif depth != leaf_depth:
            raise TypeError("not a sequence")
        leaf = _leaf_dtype(x)
        dtype = leaf if dtype is None else _C.promote_types(dtype, leaf)
    if dtype is None:  # no elements at all: the default dtype
        return _C.float32
    return dtype
