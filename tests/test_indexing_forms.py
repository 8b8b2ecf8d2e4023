"""Index forms PyTorch's parser takes (sequences, index-like objects, NumPy
values) and refuses, against torch; and the memory an index into a big
tensor allocates."""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from indexing_helpers import cases, cube
from torch_oracle import assert_same, same_error

import gdlite as G

# ------------------------------------------- index forms PyTorch's parser takes


class Index:
    def __index__(self) -> int:
        return 1


FORMS = cases(
    lambda L: range(2),
    lambda L: range(0),
    lambda L: (range(2), [0, 2]),
    lambda L: (slice(None), range(2, -1, -2)),
    lambda L: [1.0, 0.0],
    lambda L: [1.7, -0.5],
    lambda L: [True, 1],
    lambda L: [[0, 1], [1, 2]],
    lambda L: [[1, 0], [0]],
    lambda L: [0, slice(None)],
    lambda L: [None, 0],
    lambda L: [L.tensor(1), 2],
    lambda L: Index(),
    lambda L: (Index(), [0, 2]),
    lambda L: [np.int64(1), 0],
    lambda L: np.array([1, 0]),
    lambda L: np.array([[1.0], [0.0]]),
    lambda L: np.array([False, True]),
    lambda L: (np.array([0, 1]), np.array([2, 0])),
    lambda L: True,
    lambda L: (0, False),
    lambda L: (True, True, 0),
    lambda L: (slice(None), slice(None), slice(None), True),
    lambda L: L.tensor(False),
    lambda L: (..., 0, ...),
    lambda L: (..., ...),
    lambda L: (L.tensor([[True, False, True], [False, True, True]]), [0, 1, 2, 3]),
    lambda L: (L.tensor([1]), ..., L.tensor([[0], [3]])),
    lambda L: (None, [1], None, [0], ..., None),
    lambda L: (slice(1, None), [[0], [2]], slice(None, None, 2)),
)


@pytest.mark.parametrize("index", FORMS)
def test_index_forms_match_torch(index: Callable) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = cube(torch).float()[index(torch)]
    assert_same(cube(G).float()[index(G)], want)


FORM_ERRORS = cases(
    lambda L: cube(L)[[1, "a"]],
    lambda L: cube(L)["a"],
    lambda L: cube(L)[[Index(), Index()]],
    lambda L: cube(L)[2**63],
    lambda L: cube(L)[[2**63]],
    lambda L: cube(L)[range(5)],
    lambda L: cube(L)[:, [3]],
    lambda L: cube(L)[[0, 1], [9, 0]],
    lambda L: cube(L)[0, [0, 5], [9, 0]],
    lambda L: cube(L)[:, :, :, :, True],
    lambda L: cube(L)[L.tensor([0], dtype=L.int32), L.tensor([[True]])],
)


@pytest.mark.parametrize("make", FORM_ERRORS)
def test_index_form_errors_match_torch(make: Callable) -> None:
    same_error(make)


SETITEM_FORMS = cases(
    lambda L, t: t.__setitem__((range(2), [0, 2]), -1),
    lambda L, t: t.__setitem__(t > 12, L.tensor(2.5)),
    lambda L, t: t.__setitem__([1.0], 7),
    lambda L, t: t.__setitem__((slice(None), [0, 0]), L.tensor([[1], [2], [3]])),
    lambda L, t: t.__setitem__(True, 4),
    lambda L, t: t.__setitem__(False, 4),
    lambda L, t: t.__setitem__([0], L.ones(1, 1, 5, dtype=L.int64)),
    lambda L, t: t.__setitem__([0, 1], L.ones(3, dtype=L.int64)),
    lambda L, t: t.__setitem__([0], L.tensor(1.0)),
    lambda L, t: t.__setitem__([0], "a"),
    lambda L, t: t.__setitem__(0, None),
    lambda L, t: t[:, :1].expand(2, 3, 4).__setitem__([0], 9),
    lambda L, t: t[:, :1].expand(2, 3, 4).__setitem__((0, [0, 2]), 9),
    lambda L, t: t[:, :1].expand(2, 3, 4).__setitem__(0, 9),
)


def outcome(assign: Callable, L: Any, t: Any) -> tuple[Any, list[str]]:
    """The error (type, message) and the warnings of one assignment."""
    error = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            assign(L, t)
        except Exception as exc:
            error = (type(exc), str(exc).replace("torch.", "gdlite."))
    return error, [str(w.message).split(" (Triggered internally")[0] for w in caught]


@pytest.mark.parametrize("assign", SETITEM_FORMS)
def test_setitem_forms_match_torch(assign: Callable) -> None:
    t, tt = cube(G), cube(torch)
    assert outcome(assign, G, t) == outcome(assign, torch, tt)
    assert_same(t, tt)


def test_indexing_a_big_tensor_allocates_only_the_result() -> None:
    # The index must not materialise anything the size of the tensor: peak
    # memory grows by about the result (two rows, two columns), not 400 MB.
    code = """
import resource
import gdlite as G
x = G.ones(1_000_000, 100)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
rows = x[[0, 5]]
cols = x[:, [0, 5]]
x[[0, 5]] = 2.0
x[:, [7]] = 3.0
masked = x[0][x[0] > 2.5]
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
assert rows.shape == (2, 100) and cols.shape == (1_000_000, 2)
assert float(x[5, 0]) == 2.0 and float(x[9, 7]) == 3.0 and masked.shape == (1,)
print(after - before)
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    grown_kb = int(run.stdout)
    assert grown_kb < 40_000, grown_kb  # cols is 8 MB; the old grid was 800 MB
