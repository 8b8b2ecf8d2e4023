"""Indexing and index assignment, against torch (behaviour, messages) and
NumPy (values).

Basic indices (ints, slices, None, ...) must give views that write through
to the base; indices holding arrays must give copies.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from indexing_helpers import cases, cube, shares, to_numpy_index
from torch_oracle import assert_same, same_error

import gdlite as G

# ----------------------------------------------------------------- getitem


BASIC = cases(
    lambda L: 1,
    lambda L: -1,
    lambda L: -2,
    lambda L: (0, 1),
    lambda L: (-1, -2, -3),
    lambda L: (1, 2, 3),
    lambda L: slice(1, None),
    lambda L: (slice(None), slice(None, None, 2)),
    lambda L: (slice(None), slice(1, 3), slice(None, None, 3)),
    lambda L: (slice(None), slice(-2, None), slice(None, -1, 2)),
    lambda L: slice(100, None),
    lambda L: slice(-100, 1),
    lambda L: (slice(None), slice(2, 1)),
    lambda L: None,
    lambda L: (None, 0),
    lambda L: (slice(None), None, 1, None),
    lambda L: ...,
    lambda L: (..., 1),
    lambda L: (0, ...),
    lambda L: (None, ..., None),
    lambda L: (1, ..., slice(None, None, 2)),
    lambda L: (..., None, slice(1, 2), 0),
    lambda L: (),
)

ADVANCED = cases(
    lambda L: [1, 0],
    lambda L: [0, 0, 1],
    lambda L: [-1],
    lambda L: [],
    lambda L: (slice(None), [2, 0, 2]),
    lambda L: (..., [3, 0]),
    lambda L: L.tensor([1, 0]),
    lambda L: L.tensor([[0, 1], [1, 1]]),
    lambda L: L.tensor([], dtype=L.int64),
    lambda L: (slice(None), L.tensor([2, 0], dtype=L.int32)),
    lambda L: (L.tensor([1, 0], dtype=L.int32), L.tensor([2, 2])),
    lambda L: cube(L) > 10,
    lambda L: cube(L) % 5 == 0,
    lambda L: L.tensor([True, False]),
    lambda L: [True, False],
    lambda L: (slice(None), L.tensor([True, False, True])),
    lambda L: (1, L.tensor([True, False, True])),
    lambda L: L.tensor([[True, False, True], [False, False, True]]),
    lambda L: (L.tensor([[True, False, True], [False, False, True]]), slice(1, None)),
    lambda L: (0, [0, 2], slice(1, 3)),
    lambda L: ([0, 1], slice(None), [1, 2]),
    lambda L: (slice(None), [0, 1], [1, 2]),
    lambda L: ([1], [0, 2], [1, 2]),
    lambda L: ([[0], [1]], [0, 2], 1),
    lambda L: (None, [0, 1], slice(None), [0, 1]),
    lambda L: ([0, 1], None, [0, 1]),
    lambda L: (..., [0, 1], 2),
    lambda L: ([0, 1], 0, [1, 2]),
    lambda L: (1, [0, 2], [1, 2]),
    lambda L: (slice(None), 1, [1, 2]),
    lambda L: L.tensor(True),
)

# torch takes 0-d integer tensors and NumPy integers as plain ints: views.
SCALAR_LIKE = cases(
    lambda L: L.tensor(1),
    lambda L: L.tensor(1, dtype=L.int32),
    lambda L: (L.tensor(1), 2),
    lambda L: (0, L.tensor(1)),
    lambda L: (slice(None), L.tensor(2)),
    lambda L: np.int64(1),
    lambda L: (slice(1, None), np.int32(2)),
)


@pytest.mark.parametrize("index", BASIC + ADVANCED + SCALAR_LIKE)
@pytest.mark.parametrize("dtype", ["int64", "float32"])
def test_getitem(index: Callable, dtype: str) -> None:
    def base(L: Any) -> Any:
        return cube(L).to(getattr(L, dtype))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = base(torch)[index(torch)]
    got = base(G)[index(G)]
    assert_same(got, want)
    arr = base(G).numpy()
    np.testing.assert_array_equal(got.numpy(), arr[to_numpy_index(index(G))])


def test_int_and_slice_apart_from_a_list() -> None:
    # NumPy moves the broadcast dimension to the front here; torch applies the
    # int first, so the list indexes what is left in place.
    got, want = cube(G)[0, :, [1, 2]], cube(torch)[0, :, [1, 2]]
    assert_same(got, want)


@pytest.mark.parametrize("index", BASIC)
def test_basic_index_is_a_view(index: Callable) -> None:
    base, tbase = cube(G), cube(torch)
    v, tv = base[index(G)], tbase[index(torch)]
    assert v._shares_storage(base)
    v.mul_(-1)
    tv.mul_(-1)
    assert_same(base, tbase)
    base.add_(100)
    tbase.add_(100)
    assert_same(v, tv)


@pytest.mark.parametrize("index", SCALAR_LIKE)
def test_scalar_like_index_is_a_view(index: Callable) -> None:
    base, tbase = cube(G), cube(torch)
    v, tv = base[index(G)], tbase[index(torch)]
    v.fill_(-7)
    tv.fill_(-7)
    assert_same(base, tbase)


@pytest.mark.parametrize("index", ADVANCED)
def test_advanced_index_is_a_copy(index: Callable) -> None:
    base = cube(G)
    got = base[index(G)]
    if got.numel():
        assert not shares(got, base)
    got.fill_(-1)
    np.testing.assert_array_equal(base.numpy(), np.arange(24).reshape(2, 3, 4))


# ----------------------------------------------------------------- setitem


def value_for(L: Any, value: Any) -> Any:
    """torch refuses lists and arrays as values; it gets them as tensors."""
    if L is torch and isinstance(value, (list, np.ndarray)):
        return torch.tensor(np.asarray(value))
    return value(L) if callable(value) else value


SETITEM = [
    (lambda L: 0, 5),
    (lambda L: (0, 1), 7.9),
    (lambda L: (1, 2, 3), -3),
    (lambda L: (slice(None), 1), lambda L: L.tensor([1, 2, 3, 4])),
    (lambda L: 1, np.array([9, 8, 7, 6])),
    (lambda L: 1, [[1, 2, 3, 4]] * 3),
    (lambda L: 1, [1, 2, 3, 4]),
    (lambda L: (slice(1, 3), 1), 0),
    (lambda L: (slice(None), slice(1, 3), 1), 0),
    (lambda L: (..., 1), lambda L: L.tensor([[1], [2]])),
    (
        lambda L: (slice(None), slice(None), 0),
        lambda L: L.tensor([[1, 2, 3], [4, 5, 6]]),
    ),
    (lambda L: slice(None), lambda L: L.zeros(3, 4, dtype=L.int64)),
    (lambda L: (None, 0, ..., None), 4),
    (lambda L: 0, True),
    (lambda L: 0, np.float64(3.9)),
    (lambda L: 0, lambda L: L.tensor([0.5, 1.5, 2.5, 3.5])),
    (lambda L: [1, 0], 100000),
    (lambda L: [0, 0], lambda L: L.tensor(5)),
    (lambda L: ([0, 1], 0), lambda L: L.tensor([[1, 2, 3, 4]])),
    (lambda L: (slice(None), [0, 2]), lambda L: L.tensor([[1], [2]])),
    (lambda L: ([0, 1], [1, 2], [2, 3]), lambda L: L.tensor([-1, -2])),
    (lambda L: ([0, 1], [1, 2]), [1, 2, 3, 4]),
    (lambda L: L.tensor([1, 0]), np.array([[7], [8], [9]])),
    (lambda L: cube(L) > 12, -1),
    (lambda L: cube(L) > 12, lambda L: L.tensor(-1)),
    (lambda L: cube(L) % 2 == 0, lambda L: L.arange(12)),
    (lambda L: L.tensor([True, False]), 0),
    (
        lambda L: (slice(None), L.tensor([True, False, True])),
        lambda L: L.tensor([7, 8, 9, 10]),
    ),
    (lambda L: L.tensor(1), 3),
    (lambda L: 0, lambda L: L.ones(1, 1, 4, dtype=L.int64)),
    (lambda L: (1, 2, 3), lambda L: L.tensor([9])),
]


@pytest.mark.parametrize(
    ("index", "value"),
    [
        pytest.param(i, v, id=inspect.getsource(i).strip().rstrip(","))
        for i, v in SETITEM
    ],
)
def test_setitem(index: Callable, value: Any) -> None:
    t, tt = cube(G), cube(torch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tt[index(torch)] = value_for(torch, value)
    t[index(G)] = value_for(G, value)
    assert_same(t, tt)
    arr = np.arange(24).reshape(2, 3, 4)
    v = value_for(G, value)
    v = v.numpy() if isinstance(v, G.Tensor) else np.asarray(v)
    where = to_numpy_index(index(G))
    # Like torch, drop the value's leading size-1 dims that NumPy would refuse.
    while v.ndim > np.ndim(arr[where]) and v.shape[0] == 1:
        v = v[0]
    arr[where] = v
    np.testing.assert_array_equal(t.numpy(), arr)


def test_list_index_assignment_on_a_vector() -> None:
    t, tt = G.zeros(5), torch.zeros(5)
    t[[1, 3]] = 100000
    tt[[1, 3]] = 100000
    assert_same(t, tt)
    t = G.arange(12.0).reshape(3, 4)
    t[1:3, 1] = 0
    assert t[:, 1].tolist() == [1.0, 0.0, 0.0]


def test_assignment_through_views() -> None:
    t, tt = G.arange(6), torch.arange(6)
    v, tv = t[1:4], tt[1:4]
    v[:] = 0
    tv[:] = 0
    assert_same(t, tt)
    v[:] = G.tensor([1, 2, 3])
    tv[:] = torch.tensor([1, 2, 3])
    assert_same(t, tt)
    m, tm = G.arange(12.0).reshape(3, 4), torch.arange(12.0).reshape(3, 4)
    m.T[1:3, 1] = 100.0
    tm.T[1:3, 1] = 100.0
    assert_same(m, tm)
    m.T[[0, 3]] = -1.0
    tm.T[[0, 3]] = -1.0
    assert_same(m, tm)
    row = m[2]
    row[row > 9] = 0.5
    tm[2][tm[2] > 9] = 0.5
    assert_same(m, tm)


# ------------------------------------------------------------------ errors


ERRORS = cases(
    lambda L: L.arange(3)[5],
    lambda L: L.arange(3)[-4],
    lambda L: cube(L)[5],
    lambda L: cube(L)[0, 3],
    lambda L: cube(L)[0, 0, 4],
    lambda L: cube(L)[[0, 5]],
    lambda L: cube(L)[L.tensor([2])],
    lambda L: cube(L)[0, 0, 0, 0],
    lambda L: cube(L)[:, :, :, None, :],
    lambda L: L.tensor(5)[0],
    lambda L: L.tensor(5)[:],
    lambda L: cube(L)[L.tensor([True, False, True])],
    lambda L: cube(L)[L.tensor([[True, False]])],
    lambda L: cube(L)[L.tensor([1.0])],
    lambda L: cube(L)[L.tensor(1.0)],
    lambda L: cube(L)[1.0],
    lambda L: cube(L)[:, ::0],
    lambda L: cube(L)[::-1],
    lambda L: cube(L)[:, 2:0:-1],
    lambda L: cube(L)[[0, 1], [0, 1, 2]],
)


@pytest.mark.parametrize("make", ERRORS)
def test_getitem_errors(make: Callable) -> None:
    same_error(make)


def assign(L: Any, index: Any, value: Any) -> None:
    t = cube(L)
    t[index(L) if callable(index) else index] = value(L) if callable(value) else value


SETITEM_ERRORS = cases(
    lambda L: assign(L, [0, 1], L.ones(3, dtype=L.int64)),
    lambda L: assign(L, lambda L: cube(L) > 12, L.tensor([1, 2])),
    lambda L: assign(L, lambda L: cube(L) > 100, L.tensor([1, 2])),
    lambda L: assign(L, (slice(None), [0, 2]), L.ones(3, 1, dtype=L.int64)),
    lambda L: assign(L, 0, L.tensor([1, 2])),
    lambda L: assign(L, (..., 0), L.ones(3, 1, dtype=L.int64)),
    lambda L: assign(L, 0, L.ones(2, 1, 4, dtype=L.int64)),
    lambda L: assign(L, 5, 1),
    lambda L: assign(L, [5], 1),
    lambda L: assign(L, (0, 0, 0, 0), 1),
    lambda L: assign(L, lambda L: L.tensor([True, False, True]), 0),
    lambda L: assign(L, lambda L: L.tensor([1.0]), 3),
    lambda L: assign(L, slice(None, None, -1), 0),
    lambda L: assign(L, 0, None),
)


@pytest.mark.parametrize("make", SETITEM_ERRORS)
def test_setitem_errors(make: Callable) -> None:
    same_error(make)


def test_failed_assignment_leaves_tensor_unchanged() -> None:
    t = cube(G)
    for index, value in [([0, 1], G.ones(3)), (0, G.ones(2)), ([0, 5], 1), (5, 1)]:
        with pytest.raises((RuntimeError, IndexError)):
            t[index] = value
    np.testing.assert_array_equal(t.numpy(), np.arange(24).reshape(2, 3, 4))


# -------------------------------------------------------------- properties


@st.composite
def basic_indices(draw: Any) -> tuple[tuple[int, ...], Any]:
    shape = tuple(draw(st.lists(st.integers(0, 5), max_size=4)))
    ndim = len(shape)
    n_front = draw(st.integers(0, ndim))
    n_back = draw(st.integers(0, ndim - n_front))
    ellipsis = n_back > 0 or draw(st.booleans())
    bound = st.one_of(st.none(), st.integers(-7, 7))

    def item(size: int) -> Any:
        if size and draw(st.booleans()):
            return draw(st.integers(-size, size - 1))
        step = draw(st.one_of(st.none(), st.integers(1, 4)))
        return slice(draw(bound), draw(bound), step)

    front = [item(shape[d]) for d in range(n_front)]
    back = [item(shape[d]) for d in range(ndim - n_back, ndim)]
    items = front + ([...] if ellipsis else []) + back
    for _ in range(draw(st.integers(0, 2))):
        items.insert(draw(st.integers(0, len(items))), None)
    index = items[0] if len(items) == 1 and draw(st.booleans()) else tuple(items)
    return shape, index


@settings(max_examples=400, deadline=None)
@given(basic_indices())
def test_basic_indexing_matches_numpy(case: tuple[tuple[int, ...], Any]) -> None:
    shape, index = case
    arr = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    t = G.tensor(arr)
    got = t[index]
    want = arr[index]
    assert tuple(got.shape) == want.shape
    np.testing.assert_array_equal(got.numpy(), want)
    assert tuple(torch.tensor(arr)[index].shape) == want.shape
    # A view: filling it changes exactly the indexed elements of the base.
    got.fill_(-1.0)
    expected = arr.copy()
    expected[index] = -1.0
    np.testing.assert_array_equal(t.numpy(), expected)
    # Assignment through the same index, with a broadcast row.
    t2 = G.tensor(arr)
    value = np.arange(want.shape[-1], dtype=np.float64) + 100 if want.ndim else 7.0
    t2[index] = value
    expected = arr.copy()
    expected[index] = value
    np.testing.assert_array_equal(t2.numpy(), expected)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(1, 5), min_size=1, max_size=3),
    st.data(),
)
def test_int_list_indexing_matches_numpy(shape: list[int], data: Any) -> None:
    arr = np.arange(int(np.prod(shape))).reshape(shape)
    dim = data.draw(st.integers(0, len(shape) - 1))
    idx = data.draw(st.lists(st.integers(-shape[dim], shape[dim] - 1), max_size=6))
    index = (slice(None),) * dim + (idx,)
    got = G.tensor(arr)[index]
    np.testing.assert_array_equal(got.numpy(), arr[index])
    t = G.tensor(arr)
    t[index] = -5
    expected = arr.copy()
    expected[index] = -5
    np.testing.assert_array_equal(t.numpy(), expected)
