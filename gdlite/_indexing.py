"""Advanced indexing (int lists, int and bool tensors, masks).

Basic indexing (ints, slices, None, ...) gives views and runs in C. An index
with arrays follows PyTorch's rules: ints, slices, None and Ellipsis apply
first as a view of the grid of flat element numbers; the arrays then index
the remaining dims the way NumPy does (PyTorch shares its rules for adjacent
and separated index arrays). The C core gathers or scatters those elements.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _C


def _shape_text(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _as_index_array(item: Any) -> Any:
    """A list or tensor index as a NumPy array; other items unchanged."""
    if isinstance(item, _C.TensorBase):
        if item.dtype.is_floating_point:
            raise IndexError(
                "tensors used as indices must be long, int, byte or bool tensors"
            )
        return item._numpy()
    if isinstance(item, (list, tuple)):
        arr = np.array(
            [i._numpy() if isinstance(i, _C.TensorBase) else i for i in item]
        )
        if arr.size == 0:
            return arr.astype(np.int64)
        if arr.dtype.kind == "f":
            raise IndexError(
                "tensors used as indices must be long, int, byte or bool tensors"
            )
        return arr
    if isinstance(item, np.ndarray):
        return item
    if item is None or item is Ellipsis or isinstance(item, (int, slice, np.integer)):
        return item
    raise IndexError(
        "only integers, slices (`:`), ellipsis (`...`), None and long or byte "
        f"Variables are valid indices (got {type(item).__name__})"
    )


def _flat_positions(t: Any, idx: Any) -> np.ndarray:
    items = [_as_index_array(i) for i in (idx if isinstance(idx, tuple) else (idx,))]
    shape = tuple(t.shape)
    consumed = sum(
        (i.ndim if i.dtype == bool else 1) if isinstance(i, np.ndarray) else 1
        for i in items
        if i is not None and i is not Ellipsis
    )
    if consumed > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    # Pass 1: ints, slices and None as a view; arrays keep their dims.
    grid = np.arange(t.numel(), dtype=np.int64).reshape(shape)
    basic, advanced, dim = [], [], 0
    for item in items:
        if item is Ellipsis:
            skip = len(shape) - consumed
            basic.append(Ellipsis)
            advanced.append(Ellipsis)
            dim += skip
        elif item is None:
            basic.append(None)
            advanced.append(slice(None))
        elif isinstance(item, np.ndarray):
            if item.dtype == bool:
                _check_mask(item, shape, dim)
            width = item.ndim if item.dtype == bool else 1
            basic.extend([slice(None)] * width)
            advanced.append(item)
            dim += width
        else:
            basic.append(item)
            if isinstance(item, slice):
                advanced.append(slice(None))
            dim += 1
    try:
        view = grid[tuple(basic)]
        return np.ascontiguousarray(view[tuple(advanced)], dtype=np.int64)
    except IndexError as exc:
        raise IndexError(_torch_message(str(exc))) from None


def _check_mask(mask: np.ndarray, shape: tuple[int, ...], dim: int) -> None:
    if mask.shape != shape[dim : dim + mask.ndim]:
        raise IndexError(
            f"The shape of the mask {_shape_text(mask.shape)} at index {dim} does not "
            f"match the shape of the indexed tensor {_shape_text(shape)} at index {dim}"
        )


def _torch_message(msg: str) -> str:
    if msg.startswith("shape mismatch: indexing arrays could not be broadcast"):
        shapes = msg.split("shapes", 1)[1].strip().split()
        text = ", ".join("[" + s.strip("(),").replace(",", ", ") + "]" for s in shapes)
        return (
            "shape mismatch: indexing tensors could not be broadcast together with "
            f"shapes {text}"
        )
    return msg.replace(" axis ", " dimension ")


def getitem(t: Any, idx: Any) -> Any:
    """``t[idx]`` for an index holding arrays: a new tensor (a copy)."""
    positions = _flat_positions(t, idx)
    return _C.take(t, _C.from_numpy(positions))


def _is_basic(idx: Any) -> bool:
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(
        i is None or i is Ellipsis or isinstance(i, (int, slice, np.integer))
        for i in items
    )


def setitem(t: Any, idx: Any, value: Any) -> None:
    """``t[idx] = value`` for any index and value (number, list, array, tensor)."""
    from ._creation import tensor

    if t.requires_grad and t.is_leaf and _C.is_grad_enabled() and _is_basic(idx):
        # PyTorch writes a basic index through a view of the leaf.
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an "
            "in-place operation."
        )
    positions = _flat_positions(t, idx)
    if not isinstance(value, _C.TensorBase):
        value = tensor(value, dtype=t.dtype)
    # As PyTorch does, leading size-1 dims of the value are dropped first.
    while value.dim() > positions.ndim and value.shape[0] == 1:
        value = value[0]
    try:
        _C.put_(t, _C.from_numpy(positions), value)
    except RuntimeError as exc:
        if "expanded size" not in str(exc) and "number of sizes" not in str(exc):
            raise
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {_shape_text(tuple(value.shape))} "
            "cannot be broadcast to indexing result of shape "
            f"{_shape_text(positions.shape)}"
        ) from None


_C._set_indexing_hooks(getitem, setitem)
