"""Memory: no leaks over repeated operations (including failing ones), input
reference counts restored, and lifetimes across NumPy sharing.

Three counters watch for leaks: live GC-tracked Python objects, memory the
Python allocators hand out (tracemalloc), and the C heap (glibc's mallinfo2),
which is where the core keeps tensor headers and storage.
"""

from __future__ import annotations

import copy
import gc
import sys
import tracemalloc
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from c_heap import C_HEAP_BYTES

import gdlite as G

ITERATIONS = 2000
WARMUP = 200


def failing(fn: Callable[[], Any]) -> Callable[[], None]:
    def call() -> None:
        try:
            fn()
        except (RuntimeError, IndexError, ValueError, TypeError):
            return
        raise AssertionError("expected the operation to fail")

    return call


A = G.arange(12.0).reshape(3, 4)
B = G.arange(12, dtype=G.int32).reshape(3, 4)
ARR = np.arange(12.0).reshape(3, 4)
IDX = G.tensor([0, 2])
MASK = A > 3
SCRATCH = A.clone()

BIG_ENDIAN = np.arange(12.0, dtype=">f8").reshape(3, 4)
READ_ONLY_ODD_BOOLS = np.array([2, 0, 255, 1], np.uint8).view(bool)
READ_ONLY_ODD_BOOLS.flags.writeable = False


def odd_bools() -> np.ndarray:
    return np.array([2, 0, 255, 1], np.uint8).view(bool)


def numpy_after_set_data() -> Any:
    t = G.ones(4)
    arr = t.numpy()
    t.data = G.zeros(4)
    return arr.sum()


class Sub(G.Tensor):
    pass


OPERATIONS: dict[str, Callable[[], Any]] = {
    "add": lambda: A + A,
    "mixed_dtypes": lambda: A * B,
    "scalar": lambda: A * 2.5 - 1,
    "inplace": lambda: SCRATCH.add_(0.0),
    "inplace_operator": lambda: SCRATCH.__imul__(1.0),
    "unary": lambda: A.exp().sqrt(),
    "reduce": lambda: A.sum(1),
    "max_dim": lambda: A.max(0),
    "matmul": lambda: A @ A.T,
    "compare": lambda: A > B,
    "view": lambda: A.view(4, 3),
    "transpose": lambda: A.T.contiguous(),
    "expand": lambda: A[:1].expand(3, 4),
    "reshape_copy": lambda: A.T.reshape(-1),
    "unbind": lambda: A.unbind(1),
    "iterate": lambda: list(A),
    "basic_index": lambda: A[1:, None, ..., ::2],
    "int_index": lambda: A[1, 2],
    "list_index": lambda: A[[0, 2]],
    "tensor_index": lambda: A[IDX],
    "mask_index": lambda: A[MASK],
    "setitem_basic": lambda: SCRATCH.__setitem__((0, slice(None)), 1.0),
    "setitem_mask": lambda: SCRATCH.__setitem__(MASK, 3.0),
    "setitem_list": lambda: SCRATCH.__setitem__(0, [1.0, 2.0, 3.0, 4.0]),
    "setitem_array": lambda: SCRATCH.__setitem__(1, ARR[0]),
    "from_numpy": lambda: G.from_numpy(ARR),
    "as_tensor": lambda: G.as_tensor(ARR),
    "numpy": lambda: A.numpy(),
    "round_trip": lambda: G.from_numpy(A.numpy()).numpy(),
    "tensor_from_list": lambda: G.tensor([[1.0, 2.0], [3.0, 4.0]]),
    "tensor_from_array": lambda: G.tensor(ARR),
    "array_operand": lambda: A + ARR,
    "asarray": lambda: np.asarray(A),
    "conversions": lambda: (A.to(G.float64), A.long(), A.bool(), A[0, 0].item()),
    "tolist": lambda: A.tolist(),
    "repr": lambda: repr(A),
    "cat": lambda: G.cat([A, A]),
    "where": lambda: G.where(MASK, A, 0.0),
    "error_view": failing(lambda: A.view(5)),
    "error_index": failing(lambda: A[10]),
    "error_list_index": failing(lambda: A[[10]]),
    "error_mask": failing(lambda: A[G.tensor([True])]),
    "error_float_index": failing(lambda: A[G.tensor([1.0])]),
    "error_broadcast": failing(lambda: A + G.ones(5)),
    "error_array_operand": failing(lambda: G.ones(5) + ARR),
    "error_matmul": failing(lambda: A @ A),
    "error_setitem": failing(lambda: SCRATCH.__setitem__(0, G.ones(3))),
    "error_setitem_list": failing(lambda: SCRATCH.__setitem__([0, 1], G.ones(3))),
    "error_float": failing(lambda: float(A)),
    "error_from_numpy": failing(lambda: G.from_numpy(ARR[::-1])),
    "error_ragged": failing(lambda: G.tensor([[1], [1, 2]])),
    "error_expand": failing(lambda: A.expand(5, 4)),
    "error_permute": failing(lambda: A.permute(0, 0)),
    "error_operand_type": failing(lambda: A + "x"),
    "numpy_after_set_data": numpy_after_set_data,
    "shape": lambda: (A.shape, A.size()),
    "odd_bools_from_numpy": lambda: G.from_numpy(odd_bools()),
    "odd_bools_read_only": lambda: G._C.from_numpy(READ_ONLY_ODD_BOOLS),
    "odd_bools_operand": lambda: MASK[0] + odd_bools(),
    "big_endian_operand": lambda: A + BIG_ENDIAN,
    "uint64_operand": lambda: (A + 2**63, B / 2**63),
    "make_subclass": lambda: G.Tensor._make_subclass(Sub, A, True),
    "subclass_construct": lambda: (Sub([1.0, 2.0]), Sub(A)),
    "deepcopy_views": lambda: copy.deepcopy([A, A[1:], A.T]),
    "repr_expanded": lambda: repr(A[:1].expand(1000, 4)),
    "error_fill_nan_int": failing(lambda: B.fill_(float("nan"))),
    "error_full_overflow": failing(lambda: G.full((2,), 1e30, dtype=G.int32)),
    "error_tensor_overflow": failing(lambda: G.tensor([1e30], dtype=G.int64)),
    "error_setitem_overflow": failing(lambda: B.__setitem__(0, 2**63)),
    "error_setitem_expanded": failing(
        lambda: A[:1].expand(3, 4).__setitem__((slice(None), 0), 1.0)
    ),
    "error_clamp_overflow": failing(lambda: B.clamp(max=2**40)),
    "error_big_endian": failing(lambda: G.from_numpy(BIG_ENDIAN)),
    "error_uint64_bool": failing(lambda: MASK + 2**63),
    "error_make_subclass": failing(lambda: G.Tensor._make_subclass(int, A)),
    "error_size": failing(lambda: G.Size([1, "a"])),
}


def repeat(fn: Callable[[], Any], n: int) -> None:
    for _ in range(n):
        fn()


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_no_growth_in_python_objects(name: str) -> None:
    fn = OPERATIONS[name]
    repeat(fn, WARMUP)
    gc.collect()
    before = len(gc.get_objects())
    repeat(fn, ITERATIONS)
    gc.collect()
    assert len(gc.get_objects()) - before < 10


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_no_growth_in_traced_memory(name: str) -> None:
    fn = OPERATIONS[name]
    repeat(fn, WARMUP)
    tracemalloc.start()
    try:
        repeat(fn, WARMUP)
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        repeat(fn, ITERATIONS)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < ITERATIONS * 4


@pytest.mark.skipif(C_HEAP_BYTES is None, reason="needs glibc's mallinfo2")
@pytest.mark.parametrize("name", list(OPERATIONS))
def test_no_growth_in_c_heap(name: str) -> None:
    fn = OPERATIONS[name]
    repeat(fn, WARMUP)
    gc.collect()
    before = C_HEAP_BYTES()
    repeat(fn, ITERATIONS)
    gc.collect()
    # A leaked tensor header alone is larger than 8 bytes per iteration.
    assert C_HEAP_BYTES() - before < ITERATIONS * 8


def test_large_tensors_are_freed() -> None:
    if C_HEAP_BYTES is None:
        pytest.skip("needs glibc's mallinfo2")
    big = G.zeros(1_000_000)
    repeat(lambda: (big + 1).sum(), 3)
    gc.collect()
    before = C_HEAP_BYTES()
    repeat(lambda: (big + 1).sum(), 50)
    gc.collect()
    assert C_HEAP_BYTES() - before < 1_000_000


# ---------------------------------------------------------- reference counts


def refcounts(objs: list[Any]) -> list[int]:
    return [sys.getrefcount(o) for o in objs]


REFCOUNT_CASES: dict[str, tuple[Callable[..., Any], Callable[[], list[Any]]]] = {
    "binary": (lambda a, b: a + b, lambda: [G.ones(3), G.ones(3)]),
    "array_operand": (lambda a, b: a * b, lambda: [G.ones(3), np.ones(3)]),
    "array_first": (lambda a, b: b - a, lambda: [G.ones(3), np.ones(3)]),
    "scalar": (lambda a, b: a * b, lambda: [G.ones(3), float("1.25")]),
    "np_scalar": (lambda a, b: a + b, lambda: [G.ones(3), np.float64(2.0)]),
    "from_numpy": (lambda a: G.from_numpy(a).sum(), lambda: [np.ones(4)]),
    "tensor_of_list": (lambda a: G.tensor(a), lambda: [[1.0, 2.5]]),
    "view_shape": (lambda a, s: a.view(s), lambda: [G.ones(6), (2, 3)]),
    "getitem": (lambda a, i: a[i], lambda: [G.ones(3, 4), (slice(1, None), 2)]),
    "getitem_list": (lambda a, i: a[i], lambda: [G.ones(3, 4), [0, 2]]),
    "getitem_tensor": (lambda a, i: a[i], lambda: [G.ones(3, 4), G.tensor([1])]),
    "setitem": (lambda a, v: a.__setitem__(0, v), lambda: [G.ones(3), 1e300 * 0]),
    "setitem_tensor": (
        lambda a, v: a.__setitem__(1, v),
        lambda: [G.ones(3), G.ones(())],
    ),
    "setitem_array": (
        lambda a, v: a.__setitem__(slice(None), v),
        lambda: [G.ones(2, 3), np.zeros(3)],
    ),
    "to_dtype": (lambda a, d: a.to(d), lambda: [G.ones(3), G.float64]),
    "dtype_attribute": (lambda a: a.dtype, lambda: [G.ones(3)]),
    "numpy": (lambda a: a.numpy().sum(), lambda: [G.ones(3)]),
}
REFCOUNT_ERRORS: dict[str, tuple[Callable[..., Any], Callable[[], list[Any]]]] = {
    "broadcast": (lambda a, b: a + b, lambda: [G.ones(3), G.ones(4)]),
    "array_operand": (lambda a, b: a + b, lambda: [G.ones(3), np.ones(4)]),
    "from_numpy": (lambda a: G.from_numpy(a), lambda: [np.ones((2, 2))[::-1]]),
    "from_numpy_dtype": (lambda a: G.from_numpy(a), lambda: [np.ones(2, np.int16)]),
    "view": (lambda a, s: a.view(s), lambda: [G.ones(6), (4, 2)]),
    "getitem": (lambda a, i: a[i], lambda: [G.ones(3), (5,)]),
    "getitem_list": (lambda a, i: a[i], lambda: [G.ones(3), [0, 7]]),
    "getitem_mask": (lambda a, i: a[i], lambda: [G.ones(3), G.tensor([True])]),
    "setitem": (lambda a, v: a.__setitem__(0, v), lambda: [G.ones(2, 3), G.ones(2)]),
    "setitem_list": (lambda a, v: a.__setitem__([0], v), lambda: [G.ones(3), [1, 2]]),
    "setitem_none": (lambda a, v: a.__setitem__(0, v), lambda: [G.ones(3), None]),
    "float": (lambda a: float(a), lambda: [G.ones(3)]),
    "to_cuda": (lambda a, d: a.to(d), lambda: [G.ones(3), "cuda"]),
}


@pytest.mark.parametrize("name", list(REFCOUNT_CASES))
def test_refcounts_unchanged_after_ops(name: str) -> None:
    op, make_inputs = REFCOUNT_CASES[name]
    inputs = make_inputs()
    start = refcounts(inputs)
    for _ in range(100):
        op(*inputs)
    gc.collect()
    assert refcounts(inputs) == start


@pytest.mark.parametrize("name", list(REFCOUNT_ERRORS))
def test_refcounts_unchanged_after_failed_ops(name: str) -> None:
    op, make_inputs = REFCOUNT_ERRORS[name]
    inputs = make_inputs()
    start = refcounts(inputs)
    for _ in range(100):
        with pytest.raises(Exception):  # noqa: B017 - any error; the counts matter
            op(*inputs)
    gc.collect()
    assert refcounts(inputs) == start


def test_singletons_do_not_gain_references() -> None:
    t = G.ones(3)
    watched = [G.float32, G.float64, G.int64, G.bool, G.Tensor, type(t.device)]
    start = refcounts(watched)
    for _ in range(1000):
        t.dtype, t.to(G.float64).dtype, (t > 0).dtype, t.device
        G.zeros(2, dtype=G.int64)
        t.clone()
    gc.collect()
    assert refcounts(watched) == start


# ------------------------------------------------------------------ lifetimes


def churn() -> None:
    """Allocations that would reuse freed buffers and expose dangling ones."""
    keep = [np.full(1000, -7.0) for _ in range(20)]
    keep += [G.full((1000,), -7.0) for _ in range(20)]
    del keep


def test_from_numpy_keeps_the_array_alive() -> None:
    arr = np.arange(1000.0)
    alive = weakref.ref(arr)
    t = G.from_numpy(arr)
    del arr
    gc.collect()
    churn()
    assert alive() is not None
    np.testing.assert_array_equal(t.numpy(), np.arange(1000.0))
    del t
    gc.collect()
    assert alive() is None


def test_numpy_keeps_the_storage_alive() -> None:
    # The array's base owns a storage reference, not the tensor: the tensor
    # object may go while its memory lives on in the array.
    t = G.arange(1000.0)
    alive = weakref.ref(t)
    arr = t.numpy()
    del t
    gc.collect()
    churn()
    assert alive() is None
    np.testing.assert_array_equal(arr, np.arange(1000.0))
    sub = arr[::2]
    del arr
    gc.collect()
    churn()
    np.testing.assert_array_equal(sub, np.arange(0.0, 1000.0, 2))


def test_views_keep_storage_alive() -> None:
    base = G.arange(1000.0)
    views = [base[10:20], base.view(10, 100)[1], base.expand(2, 1000)[1, :10]]
    arr = base[::100].numpy()
    del base
    gc.collect()
    churn()
    assert views[0].tolist() == list(range(10, 20))
    assert views[1].tolist() == list(range(100, 200))
    assert views[2].tolist() == list(range(10))
    np.testing.assert_array_equal(arr, np.arange(0.0, 1000.0, 100))


def test_chained_numpy_round_trips() -> None:
    arr = np.arange(100.0)
    alive = weakref.ref(arr)
    out = G.from_numpy(G.from_numpy(arr).numpy()[10:]).numpy()
    del arr
    gc.collect()
    churn()
    np.testing.assert_array_equal(out, np.arange(10.0, 100.0))
    assert alive() is not None
    del out
    gc.collect()
    assert alive() is None


def test_weakref_to_tensor_dies_after_del() -> None:
    called = []
    t = G.ones(3)
    ref = weakref.ref(t, lambda r: called.append(r))
    assert ref() is t
    del t
    assert ref() is None
    assert len(called) == 1


def test_reference_cycles_are_collected() -> None:
    t = G.ones(3)
    t.me = t
    view = t[1:]
    view.base_ref = t
    alive = weakref.ref(t)
    del t, view
    gc.collect()
    assert alive() is None


def test_tensor_in_container_cycle_is_collected() -> None:
    box: list[Any] = []
    t = G.zeros(2)
    t.box = box
    box.append(t)
    alive = weakref.ref(t)
    del t, box
    gc.collect()
    assert alive() is None
