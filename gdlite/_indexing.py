"""Advanced indexing (int lists, int and bool tensors, masks).

Basic indexing (ints, slices, None, ...) gives views and runs in C. An index
with arrays follows NumPy's rules, which PyTorch shares: NumPy applies the
index to the grid of flat element numbers, and the C core gathers or
scatters those elements.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from . import _C


def _convert_item(item: Any) -> Any:
    from ._tensor import Tensor

    if isinstance(item, Tensor):
        if item.dtype.is_floating_point:
            raise IndexError(
                "tensors used as indices must be long, int, byte or bool tensors"
            )
        return item.numpy()
    if isinstance(item, (list, tuple)):
        return [_convert_item(i) for i in item]
    return item


def _flat_positions(t: Any, idx: Any) -> np.ndarray:
    items = (
        tuple(_convert_item(i) for i in idx)
        if isinstance(idx, tuple)
        else (_convert_item(idx),)
    )
    grid = np.arange(t.numel(), dtype=np.int64).reshape(tuple(t.shape))
    try:
        return np.ascontiguousarray(grid[items], dtype=np.int64)
    except IndexError as exc:
        raise IndexError(_torch_message(str(exc), t)) from None


def _torch_message(msg: str, t: Any) -> str:
    mask = re.match(
        r"boolean index did not match indexed array along (?:axis|dimension) (\d+); "
        r"size of (?:axis|dimension) is (\d+) but size of corresponding boolean "
        r"(?:axis|dimension) is (\d+)",
        msg,
    )
    if mask:
        dim, size, got = mask.groups()
        return (
            f"The shape of the mask [{got}] at index {dim} does not match the shape of "
            f"the indexed tensor [{size}] at index {dim}"
        )
    if msg.startswith("too many indices"):
        return f"too many indices for tensor of dimension {t.dim()}"
    return msg.replace("axis", "dimension")


def getitem(t: Any, idx: Any) -> Any:
    """``t[idx]`` for an index holding arrays: a new tensor (a copy)."""
    positions = _flat_positions(t, idx)
    return _C.take(t, _C.from_numpy(positions))


def setitem(t: Any, idx: Any, value: Any) -> None:
    """``t[idx] = value`` for any index and value (number, list, array, tensor)."""
    from ._creation import tensor
    from ._tensor import Tensor

    positions = _flat_positions(t, idx)
    if not isinstance(value, Tensor):
        value = tensor(
            value, dtype=t.dtype if isinstance(value, (int, float)) else None
        )
    try:
        _C.put_(t, _C.from_numpy(positions), value)
    except RuntimeError as exc:
        if "expanded size" not in str(exc) and "number of sizes" not in str(exc):
            raise
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(value.shape)} cannot be "
            f"broadcast to indexing result of shape {list(positions.shape)}"
        ) from None


_C._set_indexing_hooks(getitem, setitem)
