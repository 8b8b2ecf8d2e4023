"""Memory formats: how clone, contiguous, to and the ``*_like`` functions
lay a new tensor out (``gdlite.preserve_format`` keeps the input's layout,
``contiguous_format`` is row-major, ``channels_last`` puts a 4-d tensor's
dim 1 innermost)."""

from __future__ import annotations

from typing import Any

from . import _C


class memory_format:  # noqa: N801 - torch's name
    """One of the memory formats; compare by identity, as torch's."""

    __slots__ = ("_name", "_code")
    __module__ = "gdlite"

    def __init__(self, name: str, code: int) -> None:
        self._name = name
        self._code = code  # the core's gd_memory_format

    def __repr__(self) -> str:
        return f"gdlite.{self._name}"

    def __reduce__(self) -> str:
        return self._name


preserve_format = memory_format("preserve_format", 0)
contiguous_format = memory_format("contiguous_format", 1)
channels_last = memory_format("channels_last", 2)
channels_last_3d = memory_format("channels_last_3d", 3)

# The dims of a channels-last tensor from the innermost out.
_CHANNELS_LAST_ORDER = {4: (1, 3, 2, 0), 5: (1, 4, 3, 2, 0)}


def format_code(fmt: Any, function: str, default: memory_format) -> int:
    """The core's code for ``memory_format=`` (None: the default), checked
    as torch's argument parser checks it."""
    if fmt is None:
        fmt = default
    if not isinstance(fmt, memory_format):
        raise TypeError(
            f"{function}(): argument 'memory_format' must be gdlite.memory_format, "
            f"not {type(fmt).__name__}"
        )
    return fmt._code


def is_contiguous_as(t: Any, fmt: memory_format) -> bool:
    """torch's ``is_contiguous(memory_format=...)``: the strides a new
    tensor of that format would have, ignoring size-1 dims."""
    if fmt is channels_last or fmt is channels_last_3d:
        order = _CHANNELS_LAST_ORDER[4 if fmt is channels_last else 5]
        if t.dim() != len(order):
            return False
        expected = 1
        for d in order:
            if t.shape[d] != 1:
                if t.stride(d) != expected:
                    return False
                expected *= t.shape[d]
        return True
    return _C.TensorBase.is_contiguous(t)


def _strides_like_channels_last(t: Any) -> bool:
    """torch's guess that a 4-d or 5-d tensor is channels-last from its
    strides: dims from the channel out take non-decreasing strides, with
    the ambiguous cases left row-major."""
    order = _CHANNELS_LAST_ORDER.get(t.dim())
    if order is None or t.stride(1) == 0:
        return False
    least = 0
    for d in order:
        size, stride = t.shape[d], t.stride(d)
        if size == 0 or stride < least:
            return False
        if d == 0 and least == t.stride(1):
            return False
        least = stride * size if size > 1 else stride
    return True


def suggest_memory_format(t: Any) -> memory_format:
    """The format torch infers from t's strides (to() copies only to change
    it)."""
    if _strides_like_channels_last(t):
        return channels_last if t.dim() == 4 else channels_last_3d
    return contiguous_format
