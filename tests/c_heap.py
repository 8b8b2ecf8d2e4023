"""Bytes in use on the C heap (glibc's mallinfo2), where tensor storage
lives: the memory tests watch it for leaks that Python's own counters miss."""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable

import numpy as np
import pytest


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks "
        "fordblks keepcost".split()
    ]


def _mallinfo2() -> Callable[[], int] | None:
    try:
        fn = ctypes.CDLL(ctypes.util.find_library("c")).mallinfo2
    except (OSError, AttributeError, TypeError):
        return None
    fn.restype = _MallInfo2

    def used() -> int:
        info = fn()
        return info.uordblks + info.hblkhd

    # Under a sanitizer's allocator glibc's counters stand still: probe them
    # with memory that extension code allocates (NumPy's, through malloc).
    before = used()
    block = np.ones(1 << 20, dtype=np.uint8)
    moved = used() - before >= 1 << 20
    del block
    return used if moved else None


# None where glibc's mallinfo2 is missing or does not see malloc (sanitizers).
C_HEAP_BYTES = _mallinfo2()
needs_heap = pytest.mark.skipif(C_HEAP_BYTES is None, reason="needs glibc's mallinfo2")
