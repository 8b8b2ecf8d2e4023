"""Creating tensors, dtypes, legacy constructors and devices, against torch.

torch is the oracle for behaviour, dtypes, reprs and error messages; NumPy
for values and memory sharing.
"""

from __future__ import annotations

import gc
import pickle
import sys
import warnings
import weakref
from typing import Any

import numpy as np
import pytest
import torch
from torch_oracle import assert_same, both, expected_repr, same_error

import gdlite as G

DTYPES = ["float32", "float64", "int64", "int32", "uint8", "bool"]
LEGACY = dict(zip(DTYPES, "Float Double Long Int Byte Bool".split(), strict=True))
LEGACY = {k: v + "Tensor" for k, v in LEGACY.items()}
# torch's warning text for from_numpy on a read-only array.
READONLY_WARNING = (
    "The given NumPy array is not writable, and PyTorch does not support "
    "non-writable tensors. This means writing to this tensor will result in "
    "undefined behavior. You may want to copy the array to protect its data or "
    "make it writable before converting it to a tensor. This type of warning "
    "will be suppressed for the rest of this program."
)


def kw(L: Any, dtype: str | None) -> dict:
    return {} if dtype is None else {"dtype": getattr(L, dtype)}


# ------------------------------------------------------------- gdlite.tensor


TENSOR_DATA = (
    [0, 3, -7, 2**62, -(2**63), 1.5, -0.0, 1e-30, True, False, float("inf")]
    + [[1, 2, 3], [[1, 2], [3, 4]], [[[1], [2]], [[3], [4]]], [1.5, 2.0]]
    + [[[0.1, 0.2], [0.3, 1e10]], [True, False], [[True], [False]], [1, 2.5]]
    + [[True, 2], [True, 2.5], [[1, 2.0], [3, 4]], (1, 2), ((1.0, 2.0), [3.0, 4.0])]
    + [[], [[]], [[], []], [float("nan"), float("-inf")], range(4)]
    + [np.float64(1.5), np.float32(2.5), np.int32(3), np.int64(-4), np.bool_(True)]
    # torch infers the dtype of NumPy scalars inside lists too.
    + [[np.float64(1.0), 2.0], [np.int32(1), np.int32(2)]]
)


@pytest.mark.parametrize("data", TENSOR_DATA, ids=repr)
def test_tensor_from_python_data(data: Any) -> None:
    both(lambda L: L.tensor(data))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "data", [[1, 0, 2], [[1.7, -2.7], [0.0, 3.2]], 1, 2.5, True, [[True, False]]]
)
def test_tensor_dtype_kwarg(data: Any, dtype: str) -> None:
    both(lambda L: L.tensor(data, dtype=getattr(L, dtype)))


@pytest.mark.parametrize("pytype", [float, int, bool])
def test_tensor_accepts_python_types_as_dtype(pytype: type) -> None:
    both(lambda L: L.tensor([1, 0, 2], dtype=pytype))


def test_tensor_from_list_of_tensors() -> None:
    both(lambda L: L.tensor([L.tensor(1.0), L.tensor(2.0)]))
    both(lambda L: L.tensor([[L.tensor(1), L.tensor(2)], [L.tensor(3), 4]]))
    # A 0-d int64 tensor next to a Python float: the float picks float32.
    both(lambda L: L.tensor([L.tensor(1), 2.5]))


def test_tensor_of_a_tensor_is_a_copy() -> None:
    src = G.tensor([1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copy = G.tensor(src)
    copy[0] = 10.0
    assert src.tolist() == [1.0, 2.0]
    assert not copy._shares_storage(src)


def test_ragged_lists_raise_value_error() -> None:
    for data in ([[1, 2], [3]], [[[1, 2]], [[3, 4], [5, 6]]]):
        with pytest.raises(ValueError):
            G.tensor(data)


def test_ragged_list_message() -> None:
    same_error(lambda L: L.tensor([[1, 2], [3]]))


BAD_DATA = ["abc", [1, "a"], None, [None], {1: 2}, object(), 2**63, [1, 2**63]]


@pytest.mark.parametrize("data", BAD_DATA, ids=lambda d: repr(d)[:20])
def test_invalid_data(data: Any) -> None:
    same_error(lambda L: L.tensor(data))


# ------------------------------------------------------------ from ndarrays


def sample_array(dtype: str) -> np.ndarray:
    return (np.arange(-3, 9).reshape(3, 4) % 5).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "view", ["a", "a[:, ::2]", "a.T", "a[:0]", "np.array(a[1, 2])"]
)
def test_tensor_copies_ndarray_keeping_dtype(dtype: str, view: str) -> None:
    arr = eval(view, {"np": np, "a": sample_array(dtype)})
    got = G.tensor(arr)
    assert_same(got, torch.tensor(arr))
    before = arr.copy()
    arr[...] = 1
    np.testing.assert_array_equal(got.numpy(), before)
    if arr.size:
        assert not np.shares_memory(got.numpy(), arr)


@pytest.mark.parametrize("dtype", DTYPES)
def test_tensor_dtype_kwarg_converts_ndarray(dtype: str) -> None:
    arr = np.array([[1.7, -2.2], [0.0, 3.0]])
    both(lambda L: L.tensor(arr, dtype=getattr(L, dtype)))


@pytest.mark.parametrize(
    "np_dtype", [np.float16, np.int8, np.int16, np.complex64, np.uint32]
)
@pytest.mark.parametrize("make", ["tensor", "from_numpy", "as_tensor"])
def test_unsupported_ndarray_dtypes(np_dtype: type, make: str) -> None:
    # torch's message, listing the types gdlite supports.
    message = (
        f"can't convert np.ndarray of type numpy.{np_dtype.__name__}. The only "
        "supported types are: float64, float32, int64, int32, uint8, and bool."
    )
    with pytest.raises(TypeError) as info:
        getattr(G, make)(np.array([1, 2], dtype=np_dtype))
    assert str(info.value) == message


@pytest.mark.parametrize("make", ["from_numpy", "as_tensor"])
def test_non_native_byte_order(make: str) -> None:
    arr = np.arange(4.0).astype(">f8" if sys.byteorder == "little" else "<f8")
    same_error(lambda L: getattr(L, make)(arr))


# --------------------------------------------------- from_numpy, as_tensor


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("make", ["from_numpy", "as_tensor"])
def test_shares_memory_both_ways(dtype: str, make: str) -> None:
    arr = sample_array(dtype)
    t = getattr(G, make)(arr)
    assert_same(t, torch.from_numpy(arr))
    assert t.data_ptr() == arr.ctypes.data
    arr[0, 1] = 1
    assert t[0, 1].item() == arr[0, 1]
    t[2, 3] = 0
    assert arr[2, 3] == 0
    assert np.shares_memory(t.numpy(), arr)


def test_from_numpy_of_strided_views_shares_memory() -> None:
    base = np.arange(24.0).reshape(4, 6)
    for arr in (base[:, ::2], base.T, base[1:3, 2:], np.asfortranarray(base)):
        t = G.from_numpy(arr)
        assert_same(t, torch.from_numpy(arr))
        assert t.stride() == torch.from_numpy(arr).stride()
        t.mul_(2)
        np.testing.assert_array_equal(t.numpy(), arr)


def test_from_numpy_zero_d_empty_and_non_arrays() -> None:
    both(lambda L: L.from_numpy(np.array(5.0)))
    both(lambda L: L.from_numpy(np.zeros((0, 3), dtype=np.int32)))
    same_error(lambda L: L.from_numpy([1, 2]))


def test_as_tensor_copies_only_when_it_must() -> None:
    arr = np.arange(4.0)
    same = G.as_tensor(arr, dtype=G.float64)
    converted = G.as_tensor(arr, dtype=G.float32)
    arr[0] = 10.0
    assert same[0].item() == 10.0
    assert converted[0].item() == 0.0
    assert repr(converted) == expected_repr(
        torch.as_tensor(np.arange(4.0), dtype=torch.float32)
    )
    t = G.tensor([1.0, 2.0])
    assert G.as_tensor(t) is t
    assert G.as_tensor(t, dtype=G.float32) is t
    assert G.as_tensor(t, dtype=G.float64).dtype is G.float64
    both(lambda L: L.as_tensor([[1, 2], [3, 4]]))
    both(lambda L: L.as_tensor(np.int32(3)))


@pytest.mark.parametrize("make", ["from_numpy", "as_tensor"])
def test_array_kept_alive_by_tensor(make: str) -> None:
    arr = np.arange(1000.0)
    alive = weakref.ref(arr)
    start = sys.getrefcount(arr)
    t = getattr(G, make)(arr)
    assert sys.getrefcount(arr) == start + 1
    del arr
    gc.collect()
    assert alive() is not None
    # Fresh allocations would reuse the buffer if it had been freed.
    junk = [np.full(1000, -1.0) for _ in range(50)]
    np.testing.assert_array_equal(t.numpy(), np.arange(1000.0))
    del junk
    view = t[10:20]
    del t
    gc.collect()
    assert alive() is not None
    assert view.tolist() == list(range(10, 20))
    del view
    gc.collect()
    assert alive() is None


@pytest.mark.parametrize("make", ["from_numpy", "as_tensor"])
def test_refcount_restored_after_tensor_deleted(make: str) -> None:
    arr = np.arange(6.0).reshape(2, 3)
    start = sys.getrefcount(arr)
    t = getattr(G, make)(arr)
    views = [t[0], t.T, t.view(-1), t.numpy(), t + 1]
    assert sys.getrefcount(arr) > start
    del t, views
    gc.collect()
    assert sys.getrefcount(arr) == start


@pytest.mark.parametrize("make", ["from_numpy", "as_tensor"])
def test_non_writable_array_warns(make: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Once per process, as torch: forget earlier ones (test_print_parity
    # checks the once-only part in a fresh interpreter).
    monkeypatch.setattr(G._warnings, "_issued", set())
    arr = np.arange(3.0)
    arr.flags.writeable = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = getattr(G, make)(arr)
    assert [w.category for w in caught] == [UserWarning]
    assert str(caught[0].message) == READONLY_WARNING
    # Reported at the caller's line, as torch's warning is.
    assert caught[0].filename == __file__
    assert t.tolist() == [0.0, 1.0, 2.0]


def test_copying_a_non_writable_array_does_not_warn() -> None:
    arr = np.arange(3.0)
    arr.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = G.tensor(arr)
    t[0] = 5.0
    assert arr[0] == 0.0


@pytest.mark.parametrize("view", ["a[::-1]", "a[:, ::-1]", "a[::-2, 1:]"])
@pytest.mark.parametrize("make", ["from_numpy", "as_tensor"])
def test_negative_strides_raise_value_error(view: str, make: str) -> None:
    arr = eval(view, {"a": np.arange(12.0).reshape(3, 4)})
    same_error(lambda L: getattr(L, make)(arr))


# --------------------------------------------------------------- filled


SIZE_FORMS = [(2, 3), ((2, 3),), ([2, 3],), (4,), ((),), (0,), (2, 0, 3)]
SIZE_FORMS.append((np.int64(2), 3))


@pytest.mark.parametrize("args", SIZE_FORMS)
@pytest.mark.parametrize("dtype", [None, *DTYPES])
def test_zeros_ones_empty(args: tuple, dtype: str | None) -> None:
    both(lambda L: L.zeros(*args, **kw(L, dtype)))
    both(lambda L: L.ones(*args, **kw(L, dtype)))
    got, want = G.empty(*args, **kw(G, dtype)), torch.empty(*args, **kw(torch, dtype))
    assert tuple(got.shape) == tuple(want.shape)
    assert repr(got.dtype) == expected_repr(want.dtype)


def test_size_objects_as_sizes() -> None:
    both(lambda L: L.zeros(L.zeros(2, 3).shape))
    both(lambda L: L.ones(L.zeros(4, 1).size()))


def test_negative_sizes() -> None:
    # torch's zeros has a message of its own; ones and empty share one.
    for name in ("ones", "empty"):
        same_error(lambda L, name=name: getattr(L, name)(2, -1))
    with pytest.raises(RuntimeError):
        G.zeros(2, -1)


def test_non_integer_sizes_raise_type_error() -> None:
    for size in (2.0, (2.0, 3), "a"):
        with pytest.raises(TypeError):
            torch.zeros(size)
        with pytest.raises(TypeError):
            G.zeros(size)


@pytest.mark.parametrize(
    "fill", [1.5, 7, -1, True, False, 0.1, 2**40, float("nan"), np.float64(2.5)]
)
@pytest.mark.parametrize("size", [(2, 3), [4], ()])
def test_full_infers_dtype_from_fill(size: Any, fill: Any) -> None:
    both(lambda L: L.full(size, fill))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fill", [2.7, -3, True])
def test_full_dtype_kwarg(dtype: str, fill: Any) -> None:
    both(lambda L: L.full((2, 2), fill, dtype=getattr(L, dtype)))


@pytest.mark.parametrize("args", [(3,), (2, 3), (3, 2), (0,), (1, 0), (4, 4)])
@pytest.mark.parametrize("dtype", [None, *DTYPES])
def test_eye(args: tuple, dtype: str | None) -> None:
    both(lambda L: L.eye(*args, **kw(L, dtype)))
    for lib in (torch, G):
        with pytest.raises(RuntimeError):
            lib.eye(-1)


LIKE_SOURCES = ["L.tensor([[1, 2, 3]])", "L.tensor([1.5, 2.5])", "L.zeros(0, 2)"]
LIKE_SOURCES += ["L.tensor(3.0, dtype=L.float64)", "L.tensor([True, False])"]
LIKE_SOURCES += ["L.zeros(3, 2, dtype=L.int32).t()"]


@pytest.mark.parametrize("src", LIKE_SOURCES)
@pytest.mark.parametrize("dtype", [None, "float64", "int32", "bool"])
def test_like_functions(src: str, dtype: str | None) -> None:
    def source(L: Any) -> Any:
        return eval(src, {"L": L})

    both(lambda L: L.zeros_like(source(L), **kw(L, dtype)))
    both(lambda L: L.ones_like(source(L), **kw(L, dtype)))
    both(lambda L: L.full_like(source(L), 2.7, **kw(L, dtype)))
    both(lambda L: L.full_like(source(L), 5, **kw(L, dtype)))
    got = G.empty_like(source(G), **kw(G, dtype))
    want = torch.empty_like(source(torch), **kw(torch, dtype))
    assert tuple(got.shape) == tuple(want.shape)
    assert repr(got.dtype) == expected_repr(want.dtype)


# ---------------------------------------------------------------- legacy


@pytest.mark.parametrize("name", list(LEGACY.values()))
@pytest.mark.parametrize(
    "data", [[1, 2], [1.7, -2.7, 0.0], [[1, 0], [0, 3]], (2, 3), [True], []]
)
def test_legacy_constructors_from_data(name: str, data: Any) -> None:
    both(lambda L: getattr(L, name)(data))


@pytest.mark.parametrize("name", list(LEGACY.values()))
@pytest.mark.parametrize("size", [(), (3,), (2, 3), (0, 4)])
def test_legacy_constructors_from_sizes(name: str, size: tuple) -> None:
    got, want = getattr(G, name)(*size), getattr(torch, name)(*size)
    assert tuple(got.shape) == tuple(want.shape)
    assert repr(got.dtype) == expected_repr(want.dtype)


def test_size_object_is_a_size_not_data() -> None:
    for make in (lambda L: L.FloatTensor, lambda L: L.Tensor):
        got = make(G)(G.zeros(2, 3).shape)
        want = make(torch)(torch.zeros(2, 3).shape)
        assert tuple(got.shape) == tuple(want.shape) == (2, 3)


@pytest.mark.parametrize("dtype", DTYPES)
def test_isinstance_type_and_is_floating_point(dtype: str) -> None:
    t, tt = G.zeros(2, **kw(G, dtype)), torch.zeros(2, **kw(torch, dtype))
    for name in LEGACY.values():
        assert isinstance(t, getattr(G, name)) == isinstance(tt, getattr(torch, name))
    assert isinstance(t, G.Tensor)
    assert not isinstance(np.zeros(2, dtype=dtype), G.FloatTensor)
    assert repr(getattr(G, LEGACY[dtype])) == expected_repr(
        getattr(torch, LEGACY[dtype])
    )

    assert t.type() == expected_repr(tt.type()).strip("'")
    assert t.is_floating_point() is tt.is_floating_point()


@pytest.mark.parametrize("src", DTYPES)
@pytest.mark.parametrize("dst", DTYPES)
def test_type_conversion(src: str, dst: str) -> None:
    data = [1.7, -2.0, 0.0]

    def base(L: Any) -> Any:
        return L.tensor(data).to(getattr(L, src))

    both(lambda L: base(L).type(getattr(L, LEGACY[dst])))
    both(lambda L: base(L).type(getattr(L, dst)))
    got = base(G).type(f"gdlite.{LEGACY[dst]}")
    assert_same(got, base(torch).type(f"torch.{LEGACY[dst]}"))
    if src == dst:
        t = base(G)
        assert t.type(getattr(G, dst)) is t


def test_type_invalid_string() -> None:
    same_error(lambda L: L.tensor([1.0]).type(f"{L.__name__}.FooTensor"))


def test_tensor_class_constructor() -> None:
    for data in ([1, 2], [[1.5, 2]], (2, 3), [True, False], np.array([1, 2])):
        both(lambda L, data=data: L.Tensor(data))
    assert tuple(G.Tensor(2, 3).shape) == (2, 3)
    assert G.Tensor(2, 3).dtype is G.float32
    assert tuple(G.Tensor().shape) == tuple(torch.Tensor().shape)


def test_tensor_class_repr() -> None:
    assert repr(type(G.tensor(1.0))) == expected_repr(type(torch.tensor(1.0)))
    assert type(G.zeros(2) + 1) is G.Tensor


# ---------------------------------------------------------------- dtypes


def test_dtype_aliases() -> None:
    assert G.float is G.float32
    assert G.double is G.float64
    assert G.long is G.int64
    assert G.int is G.int32
    assert G.bool is not G.int32
    for name in [*DTYPES, "float", "double", "long", "int"]:
        assert repr(getattr(G, name)) == expected_repr(getattr(torch, name))
        assert str(getattr(G, name)) == expected_repr(getattr(torch, name))
        assert isinstance(getattr(G, name), G.dtype)
    assert G.float32 == G.float32
    assert G.float32 != G.float64
    assert G.get_default_dtype() is G.float32
    assert repr(G.get_default_dtype()) == expected_repr(torch.get_default_dtype())


@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_properties(dtype: str) -> None:
    d, td = getattr(G, dtype), getattr(torch, dtype)
    assert d.is_floating_point == td.is_floating_point
    assert d.itemsize == td.itemsize
    assert d.is_signed == td.is_signed
    assert pickle.loads(pickle.dumps(d)) is d
    assert {d: 1}[getattr(G, dtype)] == 1
    assert G.zeros(1, dtype=d).element_size() == torch.zeros(1, dtype=td).element_size()


# ---------------------------------------------------------------- devices


def test_device_attribute() -> None:
    t, tt = G.tensor([1.0]), torch.tensor([1.0])
    assert repr(t.device) == repr(tt.device) == "device(type='cpu')"
    assert str(t.device) == str(tt.device) == "cpu"
    assert t.device.type == "cpu"
    assert t.is_cuda is False
    assert repr(G.device("cpu")) == repr(torch.device("cpu"))
    assert repr(G.device("cpu:0")) == repr(torch.device("cpu:0"))
    assert G.device("cpu") == G.device("cpu")


def test_to_cpu_returns_the_same_tensor() -> None:
    t = G.tensor([1.0, 2.0])
    assert t.to("cpu") is t
    assert t.cpu() is t
    assert t.to(G.device("cpu")) is t
    assert t.to(device="cpu") is t
    both(lambda L: L.tensor([1.5]).to("cpu", L.float64))
    both(lambda L: L.tensor([1.5]).to(device="cpu", dtype=L.int32))
    both(lambda L: L.zeros(2, device="cpu"))
    both(lambda L: L.tensor([1, 2], device="cpu"))


def test_cuda_is_unavailable() -> None:
    assert G.cuda.is_available() is False
    assert G.cuda.device_count() == 0
    t = G.tensor([1.0])
    calls = ["t.to('cuda')", "t.to('cuda:0')", "t.to(device='cuda')", "t.cuda()"]
    calls += ["G.zeros(2, device='cuda')", "G.tensor([1.0], device='cuda')"]
    for call in calls:
        with pytest.raises(RuntimeError, match="cuda") as info:
            eval(call, {"t": t, "G": G})
        assert "is_available() is False" in str(info.value)
