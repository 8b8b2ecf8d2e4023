"""Helpers of the indexing tests: parameters named by their source, and the
tensor they index."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import gdlite as G


def cases(*fns: Callable) -> list:
    """Parameters named by their source, so that failures read as code."""
    out = []
    for fn in fns:
        src = inspect.getsource(fn).strip().rstrip(",")
        out.append(pytest.param(fn, id=src.removeprefix("lambda L: ")))
    return out


def cube(L: Any) -> Any:
    return L.arange(24).reshape(2, 3, 4)


def to_numpy_index(idx: Any) -> Any:
    if isinstance(idx, tuple):
        return tuple(to_numpy_index(i) for i in idx)
    if isinstance(idx, G.Tensor):
        return idx.numpy()
    return idx


def shares(a: Any, b: Any) -> bool:
    return np.shares_memory(a.numpy(), b.numpy())
