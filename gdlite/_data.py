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


_UINT64_MAX = 2**64 - 1
# PyTorch's C++ names for the checked conversion of a scalar into a tensor
# (full, fill_) and its dtype names for the conversion of data (tensor()).
_FILL_NAMES = {_C.int64: "int64_t", _C.int32: "int", _C.uint8: "uint8_t"}
_DATA_NAMES = {_C.int64: "int64", _C.int32: "int32", _C.uint8: "uint8"}
_INT_BOUNDS = {
    _C.int64: (_INT64_MIN, _INT64_MAX),
    _C.int32: (-(2**31), 2**31 - 1),
    _C.uint8: (0, 255),
}


def fill_number(value: Any, dtype: Any) -> Any:
    """A Python int for full()/fill_() as PyTorch reads it: beyond int64 it is
    an unsigned 64-bit number, beyond that an OverflowError."""
    if type(value) is not int or _INT64_MIN <= value <= _INT64_MAX:
        return value
    if value > _UINT64_MAX:
        raise OverflowError("int too big to convert")
    if value < 0:
        raise OverflowError("can't convert negative int to unsigned")
    if dtype in _FILL_NAMES:
        raise RuntimeError(
            f"value cannot be converted to type {_FILL_NAMES[dtype]} without overflow"
        )
    return float(value)


def checked_integers(data: Any, inferred: Any, target: Any) -> np.ndarray | None:
    """Python data for an integer dtype, with PyTorch's overflow check of each
    value (None when no value can overflow)."""
    if target not in _INT_BOUNDS or inferred == target or inferred == _C.bool:
        return None
    if inferred == _C.int64:
        wide = np.array(data, dtype=np.int64)
    else:  # floats, compared as doubles as PyTorch does
        wide = np.array(data, dtype=np.float64)
    lo, hi = _INT_BOUNDS[target]
    if inferred == _C.int64 and lo == 0:  # ints wrap into unsigned from -max
        lo = -hi
    # NaN fails both comparisons.
    if wide.size and not (lo <= wide.min() and wide.max() <= hi):
        raise RuntimeError(
            f"value cannot be converted to type {_DATA_NAMES[target]} without overflow"
        )
    with np.errstate(invalid="ignore"):  # 2**63 itself wraps, as in PyTorch
        return wide.astype(NP_DTYPES[target])


def _text_type(x: Any) -> str:
    return "str" if isinstance(x, str) else "bytes"


# Types read without the sequence check (the common elements, at no cost).
_PLAIN = frozenset({int, float, bool, list, tuple, range})


def _other_sequence(x: Any) -> bool:
    """Data PyTorch reads element by element though it is no list or tuple: a
    pandas Series, array.array, memoryview, bytearray, any object passing
    CPython's sequence check. Tensors, arrays, NumPy scalars and text are
    read otherwise."""
    return not isinstance(
        x,
        (
            int,
            float,
            list,
            tuple,
            range,
            np.ndarray,
            np.generic,
            str,
            bytes,
            _C.TensorBase,
        ),
    ) and _C.is_sequence(x)


def _first(x: Any) -> Any:
    """x[0], where PyTorch reads the shape of a sequence that is no list: a
    DataFrame's x[0] is a missing column."""
    try:
        return x[0]
    except Exception:
        raise ValueError(
            f"could not determine the shape of object type '{type(x).__name__}'"
        ) from None


def _sequence_items(x: Any) -> list[Any]:
    """The elements of such a sequence as PyTorch infers the dtype from them:
    by index. Its values are read by iteration (plain_sequences), as PyTorch
    does: a Series gives NumPy scalars by index, Python numbers by iteration."""
    n = len(x)
    return [_first(x)] + [x[i] for i in range(1, n)] if n else []


def _check_first_elements(data: Any) -> None:
    """PyTorch takes the shape from the first element of each level first: a
    string there is a sequence without end (its first element is a string)."""
    x = data
    while (isinstance(x, (list, tuple)) or _other_sequence(x)) and len(x):
        x = _first(x) if _other_sequence(x) else x[0]
        if isinstance(x, str):
            raise ValueError("too many dimensions 'str'")


def plain_sequences(data: Any) -> Any:
    """``data`` with every sequence of _other_sequence made a list."""
    if _other_sequence(data):
        data = list(data)
    if isinstance(data, (list, tuple)):
        return [plain_sequences(x) for x in data]
    return data


def _leaf_dtype(x: Any, big_ints: bool = False) -> Any:
    kind = _PY_TYPES.get(type(x))
    if kind is _C.int64 and not big_ints and not _INT64_MIN <= x <= _INT64_MAX:
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
    if isinstance(x, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{_text_type(x)}'")
    raise RuntimeError(f"Could not infer dtype of {type(x).__name__}")


def infer_dtype(
    data: Any,
    grad_leaves: list[Any] | None = None,
    big_ints: bool = False,
    other_sequences: list[bool] | None = None,
) -> Any:
    """The dtype PyTorch gives ``tensor(data)``; checks the nesting is rectangular.
    Tensor elements that require grad are appended to ``grad_leaves``; ints
    beyond int64 are refused unless ``big_ints`` (a floating or bool target).
    Sequences other than lists and tuples (see _other_sequence) are read as
    lists; ``other_sequences`` (a list) gets True when there were any."""
    _check_first_elements(data)
    shape: list[int] = []
    leaf_depth = -1
    dtype = None
    stack = [(data, 0)]
    while stack:
        x, depth = stack.pop()
        if type(x) not in _PLAIN and _other_sequence(x):
            x = _sequence_items(x)
            if other_sequences is not None:
                other_sequences.append(True)
        if isinstance(x, (list, tuple, range)) or (
            isinstance(x, np.ndarray) and x.ndim > 0
        ):
            if leaf_depth >= 0 and depth >= leaf_depth:
                raise TypeError(
                    f"'{type(x).__name__}' object cannot be interpreted as an integer"
                )
            if depth == len(shape):
                if depth == _C.MAX_DIMS:  # before NumPy meets its own limit
                    raise RuntimeError(
                        f"gdlite supports at most {_C.MAX_DIMS} dimensions, "
                        f"got {depth + 1}"
                    )
                shape.append(len(x))
            elif shape[depth] != len(x):
                raise ValueError(
                    f"expected sequence of length {shape[depth]} at dim {depth} "
                    f"(got {len(x)})"
                )
            stack.extend((item, depth + 1) for item in reversed(x))
            continue
        leaf = _leaf_dtype(x, big_ints)  # PyTorch checks types before shapes
        if leaf_depth < 0:
            leaf_depth = depth
        elif depth != leaf_depth:
            raise TypeError("not a sequence")
        dtype = leaf if dtype is None else _C.promote_types(dtype, leaf)
        if grad_leaves is not None and isinstance(x, _C.TensorBase) and x.requires_grad:
            grad_leaves.append(x)
    if dtype is None:  # no elements at all: the default dtype
        return _PY_TYPES[float]
    return dtype
