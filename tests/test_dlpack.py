"""DLPack both ways with NumPy and PyTorch: shared memory, layouts, lifetimes.

Oracles: the producer's own memory (a write on one side shows on the other,
data pointers agree), NumPy's and torch's values, and torch's behaviour for
the same calls on its own tensors. Lifetime probes run in fresh interpreters
(under the sanitizer build when the suite runs under it): a crash or a
use-after-free is the finding.
"""

import gc

import numpy as np
import pytest
import torch
from c_heap import C_HEAP_BYTES, needs_heap
from probe_helpers import assert_clean, run_probe

import gdlite

DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]


def _values(dtype, shape):
    rng = np.random.default_rng(0)
    return (
        rng.integers(0, 2, shape) if dtype == "bool" else rng.random(shape) * 100
    ).astype(dtype)


def _gd_ptr(t):
    return np.from_dlpack(t).ctypes.data


@pytest.mark.parametrize("dtype", DTYPES)
def test_numpy_round_trip_shares_memory(dtype):
    arr = _values(dtype, (3, 4))
    t = gdlite.from_dlpack(arr)
    assert t.dtype == getattr(gdlite, dtype)
    np.testing.assert_array_equal(t.numpy(), arr)
    back = np.from_dlpack(t)
    assert back.ctypes.data == arr.ctypes.data
    t[1, 2] = 1
    assert arr[1, 2] == 1 and back[1, 2] == 1


@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_both_ways(dtype):
    base = torch.from_numpy(_values(dtype, (4, 6)))
    view = base[1:, ::2]  # offset and strides
    g = gdlite.from_dlpack(view)
    assert g.shape == tuple(view.shape) and g.stride() == view.stride()
    np.testing.assert_array_equal(g.numpy(), view.numpy())
    assert _gd_ptr(g) == view.data_ptr()
    t = torch.from_dlpack(g)
    assert t.data_ptr() == view.data_ptr() and t.stride() == view.stride()
    assert str(t.dtype) == f"torch.{dtype}"


def test_gdlite_views_export_offset_and_strides():
    t = gdlite.arange(24.0).reshape(4, 6)
    for view in (t[1:, 2:], t[:, ::3], t.t(), t[2], t[1, 3]):
        arr = np.from_dlpack(view)
        np.testing.assert_array_equal(arr, view.numpy())
        assert arr.ctypes.data == view.numpy().ctypes.data
        tt = torch.from_dlpack(view)
        assert tt.stride() == view.stride() and tt.shape == view.shape
        np.testing.assert_array_equal(tt.numpy(), view.numpy())


def test_writes_show_on_both_sides():
    g = gdlite.zeros(5)
    t = torch.from_dlpack(g)
    t[1] = 3.0
    g[2] = 4.0
    assert g.tolist() == t.tolist() == [0.0, 3.0, 4.0, 0.0, 0.0]


def test_versioned_and_legacy_capsules_like_torch():
    for max_version in (None, (0, 8), (1, 0), (1, 3), (2, 0)):
        got = gdlite.ones(2).__dlpack__(max_version=max_version)
        want = torch.ones(2).__dlpack__(max_version=max_version)
        assert repr(got).split('"')[1] == repr(want).split('"')[1]
    assert gdlite.ones(1).__dlpack_device__() == torch.ones(1).__dlpack_device__()
    assert repr(gdlite.ones(1).__dlpack_device__()[0]) == repr(
        torch.ones(1).__dlpack_device__()[0]
    )


def test_export_errors_match_torch():
    for lib, exc in ((torch, AssertionError), (gdlite, AssertionError)):
        with pytest.raises(exc, match="stream should be None on cpu"):
            lib.ones(2).__dlpack__(stream=1)
    for lib in (torch, gdlite):
        with pytest.raises(BufferError, match="Can't export tensors that require"):
            lib.ones(2, requires_grad=True).__dlpack__()
        lib.ones(2).__dlpack__(stream=None, dl_device=(1, 0), copy=False)
    with pytest.raises(BufferError, match="CPU"):
        gdlite.ones(2).__dlpack__(dl_device=(2, 0))


def test_copy_true_exports_a_copy():
    g = gdlite.arange(4.0)
    arr = np.from_dlpack(g, copy=True)
    arr[0] = 9.0
    assert g[0].item() == 0.0
    t = torch.from_dlpack(gdlite.from_dlpack(torch.arange(3.0), copy=True))
    assert t.tolist() == [0.0, 1.0, 2.0]


def test_read_only_numpy_is_refused_or_copied():
    arr = np.arange(3.0)
    arr.flags.writeable = False
    with pytest.raises(BufferError, match="read-only"):
        gdlite.from_dlpack(arr)
    copy = gdlite.from_dlpack(arr, copy=True)
    copy[0] = 5.0
    assert arr[0] == 0.0 and copy.tolist() == [5.0, 1.0, 2.0]


def test_capsule_consumed_once_like_torch():
    for lib in (torch, gdlite):
        cap = lib.utils.dlpack.to_dlpack(lib.ones(2))
        assert lib.from_dlpack(cap).tolist() == [1.0, 1.0]
        with pytest.raises(RuntimeError, match="consumed only once"):
            lib.from_dlpack(cap)
        with pytest.raises(RuntimeError, match="invalid capsule"):
            lib.from_dlpack(1)


@pytest.mark.parametrize("dtype", ["int8", "int16", "uint16", "float16", "complex64"])
def test_unsupported_dtypes_refused(dtype):
    with pytest.raises(BufferError, match="does not support the DLPack dtype"):
        gdlite.from_dlpack(np.zeros(2, dtype))


def test_zero_dim_and_empty():
    assert gdlite.from_dlpack(np.array(2.5)).item() == 2.5
    assert np.from_dlpack(gdlite.tensor(7)).item() == 7
    e = gdlite.from_dlpack(np.zeros((0, 3), np.float32))
    assert e.shape == (0, 3) and e.dtype == gdlite.float32
    assert torch.from_dlpack(gdlite.zeros(0, 3)).shape == (0, 3)


def test_data_replaced_while_exported():
    g = gdlite.ones(1000)
    arr = np.from_dlpack(g)
    g.data = g.data * 2
    del g
    gc.collect()
    assert arr.sum() == 1000.0


@pytest.mark.parametrize(
    "code",
    [
        # producer deleted first, each direction
        "g = gdlite.ones(10**6); a = np.from_dlpack(g); del g; gc.collect(); "
        "assert a.sum() == 10**6",
        "g = gdlite.ones(10**6); t = torch.from_dlpack(g); del g; gc.collect(); "
        "assert t.sum().item() == 10**6",
        "a = np.ones(10**6); g = gdlite.from_dlpack(a); del a; gc.collect(); "
        "assert g.sum().item() == 10**6",
        "t = torch.ones(10**6); g = gdlite.from_dlpack(t); del t; gc.collect(); "
        "assert g.sum().item() == 10**6",
        # consumer deleted first, then the producer
        "g = gdlite.ones(10); a = np.from_dlpack(g); del a; gc.collect(); g.add_(1)",
        "t = torch.ones(10); g = gdlite.from_dlpack(t); del g; gc.collect(); t.add_(1)",
        # chains: gdlite -> torch -> gdlite -> numpy, then drop all but the last
        "g = gdlite.arange(6.0); a = np.from_dlpack(gdlite.from_dlpack("
        "torch.from_dlpack(g))); del g; gc.collect(); assert a[5] == 5.0",
        # capsules never consumed, or consumed after their tensor died
        "c = gdlite.ones(5).__dlpack__(max_version=(1, 0)); del c; gc.collect()",
        "c = gdlite.ones(5).__dlpack__(); gc.collect(); g = gdlite.from_dlpack(c); "
        "assert g.sum().item() == 5",
        # kept alive until interpreter exit
        "import builtins; builtins.keep = torch.from_dlpack(gdlite.ones(3))",
        "import builtins; builtins.keep = gdlite.from_dlpack(np.ones(3))",
    ],
)
def test_lifetimes_in_fresh_interpreter(code):
    assert_clean(
        run_probe(f"import gc, numpy as np, torch, gdlite\n{code}\nprint('ok')")
    )


def test_threads_export_and_import():
    code = """
    import threading, numpy as np, torch, gdlite
    g = gdlite.arange(1000.0)
    def work():
        for _ in range(300):
            a = np.from_dlpack(g)
            t = gdlite.from_dlpack(torch.from_dlpack(g))
            assert a[999] == 999.0 and t[999].item() == 999.0
    ts = [threading.Thread(target=work) for _ in range(4)]
    [t.start() for t in ts]; [t.join() for t in ts]
    print("ok")
    """
    assert_clean(run_probe(code))


@needs_heap
def test_no_leak_over_many_exchanges():
    def cycle():
        for _ in range(200):
            g = gdlite.ones(1000)
            np.from_dlpack(g)
            torch.from_dlpack(g)
            gdlite.from_dlpack(np.ones(1000))
            g.__dlpack__(max_version=(1, 0))  # unconsumed
        gc.collect()

    cycle()
    before = C_HEAP_BYTES()
    for _ in range(5):
        cycle()
    assert C_HEAP_BYTES() - before < 2**20
