"""Hostile values at the NumPy bridge and in value conversion: arrays that
outlive their tensor's data, bool arrays with bytes other than 0 and 1,
big-endian arrays, NaN and out-of-range numbers for integer tensors, NaN
clamp bounds, and PyTorch's accept/reject decisions for odd values (printing,
deepcopy and subclasses are in test_hostile_tensors.py).

PyTorch is the oracle for behaviour and messages, NumPy for values; probes
that could crash the interpreter run in a subprocess."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import torch
from probe_helpers import assert_clean, run_probe
from torch_oracle import assert_same, both

import gdlite as G

NAN, INF = float("nan"), float("inf")


# ---- 1. NumPy arrays keep the storage alive ---------------------------------

EXPORTS = {
    "numpy": "x.numpy()",
    "asarray": "np.asarray(x)",
    "__array__": "x.__array__()",
    "view_numpy": "x[5:].numpy()",
}


@pytest.mark.parametrize("export", EXPORTS.values(), ids=list(EXPORTS))
def test_array_outlives_replaced_data(export: str) -> None:
    out = assert_clean(
        run_probe(
            f"""
            import gc, numpy as np, gdlite
            x = gdlite.ones(10**6)
            a = {export}
            x.data = x.data * 2
            gc.collect()
            junk = [gdlite.full((10**6,), 7.0) for _ in range(4)]
            print(float(a.sum()), float(a[0]))
            """
        )
    )
    total, first = map(float, out.split())
    assert first == 1.0
    assert total == np.ones(10**6)[: int(total)].sum()


def test_small_array_does_not_show_another_tensors_data() -> None:
    x = G.arange(4.0)
    a = x.numpy()
    x.data = x.data * 10
    others = [G.full((4,), -1.0) for _ in range(50)]
    np.testing.assert_array_equal(a, np.arange(4.0))
    assert others[0].sum().item() == -4.0


def test_array_outlives_del_and_collection() -> None:
    out = assert_clean(
        run_probe(
            """
            import gc, numpy as np, gdlite
            arrays = []
            for make in (lambda: gdlite.arange(1000.0),
                         lambda: gdlite.arange(1000.0).reshape(10, 100).t(),
                         lambda: gdlite.arange(1000.0)[::7],
                         lambda: gdlite.from_numpy(np.arange(1000.0))[3:]):
                x = make()
                arrays.append((x.numpy(), x.numpy().copy()))
                del x
            gc.collect()
            junk = [gdlite.full((1000,), -5.0) for _ in range(50)]
            print(all(np.array_equal(a, b) for a, b in arrays))
            """
        )
    )
    assert out.strip() == "True"


def test_array_base_owns_storage_not_tensor() -> None:
    n = np.arange(6.0)
    t = G.from_numpy(n)
    a = t.numpy()
    assert not isinstance(a.base, G.Tensor)
    del t, n
    a[0] = 42.0  # still the from_numpy memory, kept alive through the storage
    assert a[0] == 42.0


# ---- 2. NumPy bools whose bytes are not 0 or 1 -----------------------------


def odd_bools() -> np.ndarray:
    return np.array([2, 0, 255, 1, 0, 7], np.uint8).view(bool)


BOOL_READS = {
    "sum": lambda t: t.sum(),
    "eq_true": lambda t: t[0] == True,  # noqa: E712 - the comparison is the probe
    "as_int": lambda t: t.int(),
    "as_float": lambda t: t.float(),
    "any_all": lambda t: (t.any(), t.all()),
    "logical_not": lambda t: ~t,
    "tolist": lambda t: t.tolist(),
    "and": lambda t: t & t,
    "masked": lambda t: t.float()[t],
}
BOOL_ENTRIES = {
    "from_numpy": lambda m, a: m.from_numpy(a),
    "tensor": lambda m, a: m.tensor(a),
    "as_tensor": lambda m, a: m.as_tensor(a),
    "strided": lambda m, a: m.from_numpy(a[::2]),
    "2d_transposed": lambda m, a: m.from_numpy(a.reshape(2, 3).T),
}


@pytest.mark.parametrize("read", BOOL_READS.values(), ids=list(BOOL_READS))
@pytest.mark.parametrize("entry", BOOL_ENTRIES.values(), ids=list(BOOL_ENTRIES))
def test_odd_bool_bytes_read_as_true(entry: Any, read: Any) -> None:
    def probe(m: Any) -> Any:
        out = read(entry(m, odd_bools()))
        return out if isinstance(out, m.Tensor) else repr(out)

    both(probe)


def test_from_numpy_of_odd_bools_still_shares_memory() -> None:
    arr = odd_bools()
    t = G.from_numpy(arr)
    t[1] = True
    arr[3] = False
    np.testing.assert_array_equal(t.numpy(), arr)
    assert t.tolist() == torch.from_numpy(arr).tolist()


def test_read_only_odd_bools() -> None:
    arr = odd_bools()
    arr.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got, want = G.from_numpy(arr), torch.from_numpy(arr)
    assert_same(got.int(), want.int())
    assert arr.view(np.uint8).tolist() == [2, 0, 255, 1, 0, 7]


OPERANDS = {
    "int_add": lambda m, a: m.zeros(6, dtype=m.int64) + a,
    "float_mul": lambda m, a: m.ones(6) * a,
    "bool_eq": lambda m, a: m.ones(6, dtype=m.bool) == a,
    "where": lambda m, a: m.where(m.from_numpy(a.copy()), m.ones(6), m.zeros(6)),
    "scalar": lambda m, a: m.ones(3, dtype=m.int64) + a[0],
    "bool_scalar": lambda m, a: m.ones(3, dtype=m.bool) + np.True_,
}


@pytest.mark.parametrize("fn", OPERANDS.values(), ids=list(OPERANDS))
def test_odd_bools_as_operands(fn: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        both(lambda m: fn(m, odd_bools()))


def test_operand_leaves_callers_bytes_alone() -> None:
    arr = odd_bools()
    G.zeros(6, dtype=G.int64) + arr
    assert arr.view(np.uint8).tolist() == [2, 0, 255, 1, 0, 7]


# ---- 3. big-endian arrays -----------------------------------------------------

# PyTorch computes tensor-and-array arithmetic in NumPy (NumPy's promotion,
# float32 with int64 gives float64), so operands compare by value only.
BIG_ENDIAN = {
    "tensor": lambda m, a: m.tensor(a),
    "as_tensor": lambda m, a: m.as_tensor(a),
    "from_numpy": lambda m, a: m.from_numpy(a),
    "Tensor": lambda m, a: m.Tensor(a),
    "tensor_dtype": lambda m, a: m.tensor(a, dtype=m.float64),
    "operand": lambda m, a: (m.ones(3) + a).tolist(),
    "operand_int": lambda m, a: (m.ones(3, dtype=m.int64) * a.astype(">i8")).tolist(),
    "operand_2d": lambda m, a: (m.ones(2, 3) - a.reshape(1, 3)).tolist(),
    "list_of_scalars": lambda m, a: m.tensor([a[0], a[2]]),
    "list_of_arrays": lambda m, a: m.tensor([a, a], dtype=m.float64),
    "scalar_operand": lambda m, a: m.ones(2) + a[1],
}


@pytest.mark.parametrize("fn", BIG_ENDIAN.values(), ids=list(BIG_ENDIAN))
@pytest.mark.parametrize("dtype", [">f4", ">f8", ">i8", ">i4"])
def test_big_endian_arrays(fn: Any, dtype: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        both(lambda m: fn(m, np.arange(3, dtype=dtype)))


# ---- 4. values an integer tensor cannot hold --------------------------------

INT_DTYPES = ["int64", "int32", "bool"]
BAD_VALUES = [NAN, INF, -INF, 1e30, 2.5e9, 2**31, 2**40, 2**63, -3.7, 2.0**63]


def _set0(t: Any, v: Any) -> Any:
    t[0] = v
    return t


FILL_ENTRY_POINTS = {
    "full": lambda m, dt, v: m.full((2,), v, dtype=dt),
    "full_like": lambda m, dt, v: m.full_like(m.zeros(2, dtype=dt), v),
    "fill_": lambda m, dt, v: m.zeros(2, dtype=dt).fill_(v),
    "setitem": lambda m, dt, v: _set0(m.zeros(2, dtype=dt), v),
    "tensor_list": lambda m, dt, v: m.tensor([v], dtype=dt),
    "tensor_scalar": lambda m, dt, v: m.tensor(v, dtype=dt),
    "tensor_nested": lambda m, dt, v: m.tensor([[1], [v]], dtype=dt),
    "as_tensor": lambda m, dt, v: m.as_tensor([1, v], dtype=dt),
}


@pytest.mark.parametrize(
    "entry", FILL_ENTRY_POINTS.values(), ids=list(FILL_ENTRY_POINTS)
)
@pytest.mark.parametrize("value", BAD_VALUES, ids=repr)
@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_unconvertible_numbers(entry: Any, value: Any, dtype: str) -> None:
    both(lambda m: entry(m, getattr(m, dtype), value))


@pytest.mark.parametrize("value", [2**62 + 1, -(2**62) - 3, 2**63 - 1], ids=repr)
def test_large_int64_fill_is_exact(value: int) -> None:
    both(lambda m: m.zeros(2, dtype=m.int64).fill_(value))
    both(lambda m: m.full((2,), value))


@pytest.mark.parametrize("value", [10**30, -(2**63) - 1, 2**64], ids=repr)
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_ints_beyond_uint64(value: int, dtype: str) -> None:
    both(lambda m: m.full((1,), value, dtype=getattr(m, dtype)))
    both(lambda m: m.tensor([value], dtype=getattr(m, dtype)))


def test_fill_with_tensor_value_casts_like_torch() -> None:
    both(lambda m: m.zeros(2, dtype=m.int64).fill_(m.tensor(3.7)))
    both(lambda m: m.zeros(2, dtype=m.int64).fill_(m.zeros(2)))


def test_arrays_cast_without_check_or_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = G.tensor(np.array([1e30, 2.0]), dtype=G.int64)
    want = torch.tensor(np.array([1e30, 2.0]), dtype=torch.int64)
    assert_same(got, want)


# ---- 5. clamp with NaN bounds -----------------------------------------------

CLAMP_BOUNDS = [
    {"min": NAN},
    {"max": NAN},
    {"min": NAN, "max": 1.0},
    {"min": 0.0, "max": NAN},
    {"min": 2.0, "max": 1.0},
]


@pytest.mark.parametrize("bounds", CLAMP_BOUNDS, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32"])
def test_clamp_nan_bounds(bounds: dict[str, float], dtype: str) -> None:
    data = [1, -2, 3, 0] if dtype.startswith("int") else [1.0, -2.0, NAN, 3.0]
    both(lambda m: m.tensor(data, dtype=getattr(m, dtype)).clamp(**bounds))
    both(lambda m: m.tensor(data, dtype=getattr(m, dtype)).clamp_(**bounds))


def test_clamp_nan_bound_gradient() -> None:
    for kw in ({"min": NAN}, {"max": NAN}):
        grads = []
        for m in (torch, G):
            x = m.tensor([1.0, -2.0, 3.0], requires_grad=True)
            x.clamp(**kw).sum().backward()
            grads.append(x.grad.tolist())
        assert grads[0] == grads[1]


def test_clamp_integer_bound_overflow() -> None:
    both(lambda m: m.tensor([1, 2], dtype=m.int32).clamp(max=2**40))
    both(lambda m: m.tensor([1, 2], dtype=m.int64).clamp(max=2**40))


# ---- 9. accept and reject as PyTorch does -----------------------------------

BIG = 2**63
BIG_OPERANDS = {
    "float+": lambda m: m.ones(2) + BIG,
    "double+max": lambda m: m.ones(2, dtype=m.float64) + (2**64 - 1),
    "float-": lambda m: m.ones(2) - BIG,
    "rsub": lambda m: BIG - m.ones(2),
    "mul": lambda m: m.ones(2) * BIG,
    "iadd": lambda m: m.ones(2).__iadd__(BIG),
    "add_method": lambda m: m.ones(2).add(BIG),
    "rpow": lambda m: BIG ** m.ones(2),
    "int_wraps": lambda m: m.ones(2, dtype=m.int64) + BIG,
    "int32_wraps": lambda m: m.ones(2, dtype=m.int32) + BIG,
    "int_0d": lambda m: m.tensor(1) + BIG,
    "int_eq": lambda m: m.ones(2, dtype=m.int64) == BIG,
    "int_and": lambda m: m.ones(2, dtype=m.int64) & BIG,
    "int_pow": lambda m: m.ones(2, dtype=m.int64) ** BIG,
    "int_div": lambda m: m.ones(2, dtype=m.int64) / BIG,
    "int_rdiv": lambda m: BIG / m.full((2,), 4, dtype=m.int32),
    "bool": lambda m: m.ones(2, dtype=m.bool) + BIG,
    "bool_and": lambda m: m.ones(2, dtype=m.bool) & BIG,
    "too_big": lambda m: m.ones(2) + 2**64,
    "too_negative": lambda m: m.ones(2) + (-(2**63) - 1),
    "setitem": lambda m: m.ones(2).__setitem__(0, BIG),
    "setitem_huge": lambda m: m.ones(2).__setitem__(0, 10**30),
}


@pytest.mark.parametrize("fn", BIG_OPERANDS.values(), ids=list(BIG_OPERANDS))
def test_ints_beyond_int64_as_operands(fn: Any) -> None:
    both(fn)


SIZES = [[1, "a"], [1, 2.0], [2, np.int64(3)], [True, 2], [-1], (), 3, [1, None]]


@pytest.mark.parametrize("sizes", SIZES, ids=repr)
def test_size_elements(sizes: Any) -> None:
    both(lambda m: m.Size(sizes))
    if isinstance(sizes, list) and all(isinstance(s, int) for s in sizes):
        assert G.Size(sizes) == torch.Size(sizes)


def test_size_accepts_integer_tensor() -> None:
    assert G.Size([1, G.tensor(2)]) == (1, 2) == torch.Size([1, torch.tensor(2)])


def _record(fn: Any) -> tuple[Any, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()
    return out, [str(w.message).split(" (Triggered internally")[0] for w in caught]


def test_tensor_from_list_of_grad_tensors() -> None:
    # Run in a fresh process each: PyTorch warns once per process.
    code = """
        import warnings, {m} as m
        warnings.simplefilter("always")
        a = m.tensor(2.0, requires_grad=True)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            t = m.tensor([a, a * 2])
            m.tensor([[a]])
        print(t.tolist(), t.requires_grad, t.dtype)
        print([str(x.message).split(" (Triggered")[0] for x in w])
    """
    want = assert_clean(run_probe(code.format(m="torch")))
    got = assert_clean(run_probe(code.format(m="gdlite")))
    assert got == want.replace("torch.", "gdlite.")


COPY_CONSTRUCTORS = {
    "tensor": lambda m: m.tensor(m.tensor([1.0, 2.0])),
    "new_tensor": lambda m: m.ones(1).new_tensor(m.tensor([1.0, 2.0])),
    "as_tensor": lambda m: m.as_tensor(m.tensor([1.0, 2.0])),
    "Tensor": lambda m: m.Tensor(m.tensor([1, 2])),
    "FloatTensor": lambda m: m.FloatTensor(m.tensor([1.0, 2.0])),
}


@pytest.mark.parametrize("fn", COPY_CONSTRUCTORS.values(), ids=list(COPY_CONSTRUCTORS))
def test_construction_from_a_tensor_warns_like_torch(fn: Any) -> None:
    want, want_w = _record(lambda: fn(torch))
    got, got_w = _record(lambda: fn(G))
    assert_same(got, want)
    assert got_w == want_w


@pytest.mark.parametrize("name", ["LongTensor", "FloatTensor", "BoolTensor"])
def test_legacy_constructor_refuses_other_dtype(name: str) -> None:
    both(lambda m: getattr(m, name)(m.ones(2, dtype=m.int32)))


def test_setitem_on_expanded_tensors() -> None:
    def write(m: Any, idx: Any, value: Any) -> Any:
        t = m.zeros(1, 3).expand(2, 3)
        t[idx] = value
        return t

    both(lambda m: write(m, (0, 0), 5.0))
    both(lambda m: write(m, 0, m.ones(3)))
    both(lambda m: write(m, (slice(None), 1), m.tensor([1.0, 2.0])))
