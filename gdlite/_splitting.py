"""unbind, split and chunk: a tensor as several views along one dim.

PyTorch records each as one function with several outputs: the views' node
is named by it (UnbindBackward0, SplitBackward0, SplitWithSizesBackward0),
and changing one of the views in place while it needs a gradient is refused
(the core's multi-output views)."""

from __future__ import annotations

import operator
from typing import Any

from . import _C


def _dim_of(tensor: Any, dim: Any) -> int:
    return tensor._wrap(operator.index(dim))


def unbind(input: Any, dim: int = 0) -> tuple[Any, ...]:
    """The slices along ``dim``, as views (``dim`` removed)."""
    if input.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return _C.unbind(input, _dim_of(input, dim))


def _split_sizes(sections: Any) -> tuple[int, ...]:
    """The sizes as ints, with PyTorch's TypeError for anything else."""
    try:
        return tuple(operator.index(s) for s in sections)
    except TypeError:
        raise TypeError(
            "split_with_sizes(): argument 'split_sizes' (position 2) must be "
            f"tuple of ints, not {type(sections).__name__}"
        ) from None


def split(tensor: Any, split_size_or_sections: Any, dim: int = 0) -> tuple[Any, ...]:
    """Views of ``split_size_or_sections`` elements along ``dim`` (the last one
    shorter if need be), or of each of the given sizes."""
    if tensor.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    sections = split_size_or_sections
    if hasattr(sections, "__index__"):  # an int, or a 0-d integer tensor
        return _split_even(tensor, operator.index(sections), dim)
    sizes = _split_sizes(sections)  # refuses what is not a sequence of ints
    d = _dim_of(tensor, dim)
    size = tensor.shape[d]
    if any(s < 0 for s in sizes):
        raise RuntimeError(
            "split_with_sizes expects split_sizes have only non-negative entries, "
            f"but got split_sizes={list(sizes)}"
        )
    if sum(sizes) != size:
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {size} (input "
            f"tensor's size at dimension {d}), but got split_sizes={list(sizes)}"
        )
    return _C.split(tensor, d, sizes, True)


def _split_even(tensor: Any, split_size: int, dim: Any) -> tuple[Any, ...]:
    if split_size < 0:
        raise RuntimeError(
            f"split expects split_size be non-negative, but got split_size={split_size}"
        )
    d = _dim_of(tensor, dim)
    size = tensor.shape[d]
    if split_size == 0 and size > 0:
        raise RuntimeError(
            "split_size can only be 0 if dimension size is 0, but got dimension "
            f"size of {size}"
        )
    if size == 0:
        return _C.split(tensor, d, (0,), False)
    full, rest = divmod(size, split_size)
    sizes = (split_size,) * full + ((rest,) if rest else ())
    return _C.split(tensor, d, sizes, False)


def chunk(input: Any, chunks: int, dim: int = 0) -> tuple[Any, ...]:
    """At most ``chunks`` views along ``dim``, of ceil(size / chunks) elements
    each (the last one shorter if need be)."""
    if input.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    chunks = operator.index(chunks)
    if chunks <= 0:
        raise RuntimeError(
            f"chunk expects `chunks` to be greater than 0, got: {chunks}"
        )
    d = _dim_of(input, dim)
    size = input.shape[d]
    if size == 0:  # as many empty views as asked for
        return _C.split(input, d, (0,) * chunks, True)
    return _split_even(input, -(-size // chunks), d)
