"""bincount, histc, nonzero/argwhere, unique/unique_consecutive and tensor()
of pandas data and other sequences, each against PyTorch: values, dtypes,
shapes, printed forms, errors and what autograd records."""

from __future__ import annotations

import array
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from probe_helpers import assert_clean, run_probe
from torch_oracle import assert_same, expected_repr, same_error

import gdlite as G

INT_DTYPES = ("uint8", "int32", "int64")
ALL_DTYPES = ("bool", "uint8", "int32", "int64", "float32", "float64")


def same(fn: Any, *args: Any) -> None:
    """fn(G, *args) gives what fn(torch, *args) gives: a tensor, a tuple of
    them, or the same error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = fn(torch, *args)
    except Exception:
        same_error(lambda m: fn(m, *args))
        return
    got = fn(G, *args)
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            match(g, w)
    else:
        match(got, want)


def match(got: Any, want: Any) -> None:
    """The same tensor, and the same node when it requires grad (its name is in
    the printed form)."""
    assert got.requires_grad == want.requires_grad
    assert repr(got) == expected_repr(want)
    assert_same(got.detach(), want.detach(), check_repr=False)


def make(m: Any, arr: np.ndarray, dtype: str) -> Any:
    return m.tensor(arr.tolist(), dtype=getattr(m, dtype))


# ---- bincount ---------------------------------------------------------------


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_bincount_random(dtype):
    rng = np.random.default_rng(0)
    for _ in range(40):
        x = rng.integers(0, int(rng.integers(1, 30)), size=int(rng.integers(0, 60)))
        minlength = int(rng.integers(0, 40))
        same(lambda m, x, ml: m.bincount(make(m, x, dtype), minlength=ml), x, minlength)
        for wdt in ALL_DTYPES:
            w = rng.normal(size=x.size) * 10
            same(
                lambda m, x, w, wdt, ml: m.bincount(
                    make(m, x, dtype), weights=make(m, w, wdt), minlength=ml
                ),
                x,
                w,
                wdt,
                minlength,
            )


def test_bincount_forms_and_large_values():
    same(lambda m: m.tensor([1, 2, 2, 5]).bincount())
    same(lambda m: m.tensor([1, 3]).bincount(m.tensor([0.5, 2.0]), 7))
    same(lambda m: m.bincount(m.tensor([0, 250_000, 3])))
    same(lambda m: m.bincount(m.arange(20)[::3]))  # strided input
    same(lambda m: m.bincount(m.tensor([2, 0]), m.arange(4.0)[::2]))
    same(lambda m: m.bincount(m.tensor([], dtype=m.int64)))
    same(lambda m: m.bincount(m.tensor([], dtype=m.int64), minlength=3))
    # an empty input counts, whatever the weights
    same(lambda m: m.bincount(m.tensor([], dtype=m.int64), m.tensor([]), 2))
    same(lambda m: m.bincount(m.tensor([1, 2]), m.tensor([0.5, float("nan")])))
    same(lambda m: m.bincount(m.tensor([1, 2]), minlength=m.tensor(4)))
    same(lambda m: m.bincount(m.tensor([1, 2]), minlength=np.int64(3)))
    # d2l / IBM count classes
    targets = np.random.default_rng(1).integers(0, 10, 500)
    assert G.bincount(G.tensor(targets)).tolist() == np.bincount(targets).tolist()


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.bincount(m.tensor([-1, 2])),
        lambda m: m.bincount(m.tensor([1.0, 2.0])),
        lambda m: m.bincount(m.tensor([True, False])),
        lambda m: m.bincount(m.tensor([1.5]), minlength=-1),
        lambda m: m.bincount(m.tensor(3)),
        lambda m: m.bincount(m.tensor([[1, 2]])),
        lambda m: m.bincount(m.tensor([1, 2]), minlength=-1),
        lambda m: m.bincount(m.tensor(3), minlength=-1),
        lambda m: m.bincount(m.tensor([-1]), weights=m.tensor([1.0, 2])),
        lambda m: m.bincount(m.tensor([1, 2]), weights=m.tensor([1.0, 2, 3])),
        lambda m: m.bincount(m.tensor([1, 2]), weights=m.tensor([[1.0, 2]])),
        lambda m: m.bincount(m.tensor([1, 2]), weights=m.tensor(0.5)),
        lambda m: m.bincount(m.tensor([1, 2]), minlength=2.5),
        lambda m: m.bincount(m.tensor([1, 2]), minlength=True),
        lambda m: m.bincount(m.tensor([1, 2]), minlength=None),
        lambda m: m.bincount(m.tensor([1, 2]), minlength=2**63),
        lambda m: m.bincount(m.tensor([1, 2]), 3),
        lambda m: m.bincount([1, 2]),
    ],
)
def test_bincount_errors(call):
    same_error(call)


def test_bincount_autograd():
    def weighted(m):
        return m.bincount(
            m.tensor([0, 2, 2]), m.tensor([0.5, 1.5, 2.0], requires_grad=True)
        )

    same(weighted)  # the printed form names the node: grad_fn=<NotImplemented>
    assert G.bincount(
        G.tensor([0, 2]), G.tensor([1.0, 2.0], requires_grad=True)
    ).requires_grad
    for m in (torch, G):
        with m.no_grad():
            assert not weighted(m).requires_grad
    same_error(lambda m: weighted(m).sum().backward())


# ---- histc ------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_histc_random(dtype):
    def ranged(m, x, bins, lo, hi):
        return m.histc(make(m, x, dtype), bins, lo, hi)

    rng = np.random.default_rng(2)
    for _ in range(60):
        x = rng.normal(size=int(rng.integers(0, 80))) * rng.choice([0.1, 1, 100])
        x[rng.random(x.size) < 0.05] = np.nan
        bins = int(rng.integers(1, 40))
        lo, hi = sorted(rng.normal(size=2) * 2)
        same(ranged, x, bins, lo, hi)
        same(ranged, x[np.isfinite(x)], bins, 0, 0)
        # values exactly on the edges of the bins
        same(ranged, np.linspace(lo, hi, bins + 1), bins, lo, hi)


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.histc(m.tensor([1.0, 2, 1])),
        lambda m: m.histc(m.tensor([1.0, 1, 1]), bins=4),
        lambda m: m.histc(m.tensor([1.0, 2]), bins=3, min=2, max=2),
        lambda m: m.histc(m.tensor([], dtype=m.float32), bins=3),
        lambda m: m.histc(m.tensor(2.5), bins=3),
        lambda m: m.histc(m.tensor([[1.0, 2], [3, 4]], dtype=m.float64), bins=3),
        lambda m: m.histc(m.tensor([1.0, 2, float("inf"), -float("inf")]), 3, 0, 3),
        lambda m: m.histc(m.tensor([1.0, 2, 1]), 3, 0, 2),
        lambda m: m.histc(m.tensor([1.0, 2, 1]), bins=3, min=True),
        lambda m: m.histc(m.tensor([1.0, 2]), bins=3, min=0, max=m.tensor(3)),
        lambda m: m.tensor([1.0, 2, 1]).histc(bins=3),
        lambda m: m.histc(m.arange(10.0)[::3], bins=4),
        lambda m: m.histc(m.tensor([1.0, 2, 1], requires_grad=True), bins=3),
        lambda m: m.histc(m.tensor([1, 2, 1]), bins=4),
        lambda m: m.histc(m.tensor([1, 2], dtype=m.uint8), bins=3),
        lambda m: m.histc(m.tensor([1, 2], dtype=m.int32), bins=3),
        lambda m: m.histc(m.tensor([True]), bins=3),
        lambda m: m.histc(m.tensor([1.0, 2, 1]), bins=0),
        lambda m: m.histc(m.tensor([1.0, 2, 1]), bins=-1),
        lambda m: m.histc(m.tensor([1.0, 2, 1]), min=3, max=1),
        lambda m: m.histc(m.tensor([1.0, 2, float("nan")]), bins=3),
        lambda m: m.histc(m.tensor([1.0, 2, float("inf")]), bins=3),
        lambda m: m.histc(m.tensor([1.0, 2]), bins=3, min=float("nan"), max=1),
        lambda m: m.histc(m.tensor([1.0, 2]), bins=3, min=0, max=1e39),
        lambda m: m.histc(m.tensor([1.0, 2], dtype=m.float64), bins=3, max=1e400),
        lambda m: m.histc(m.tensor([1.0, 2, 1]), bins=2.5),
    ],
)
def test_histc_cases(call):
    same(call)


def test_histc_not_differentiable():
    for m in (torch, G):
        assert not m.histc(m.tensor([1.0, 2.0], requires_grad=True)).requires_grad


# ---- nonzero and argwhere ---------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    arr=hnp.arrays(
        np.uint8,
        hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4),
        elements=st.integers(0, 2),
    ),
    dtype=st.sampled_from([np.bool_, np.uint8, np.int32, np.int64, np.float32]),
)
def test_nonzero_random(arr, dtype):
    arr = arr.astype(dtype)
    same(lambda m: m.nonzero(m.from_numpy(arr.copy())))
    same(lambda m: m.nonzero(m.from_numpy(arr.copy()), as_tuple=True))
    same(lambda m: m.argwhere(m.from_numpy(arr.copy())))
    if arr.ndim >= 2:  # a transposed view
        same(lambda m: m.from_numpy(arr.copy()).transpose(0, 1).nonzero())


@pytest.mark.parametrize(
    "shape", [(15,), (16,), (17,), (100,), (1000,), (100, 8), (33, 7), (3, 50, 17)]
)
@pytest.mark.parametrize("density", [0.0, 0.002, 0.16, 0.5, 1.0])
def test_mask_positions_of_long_masks(shape, density):
    """Long masks (scanned sixteen bytes at a time, rows stepped or jumped)
    give NumPy's positions, for nonzero, x[mask] and x[mask] = v."""
    rng = np.random.default_rng(int(density * 1000) + len(shape))
    mask = rng.random(shape) < density
    want = np.stack(np.nonzero(mask), axis=1)
    np.testing.assert_array_equal(G.nonzero(G.from_numpy(mask.copy())).numpy(), want)
    x = rng.standard_normal(shape + (3,)).astype(np.float32)
    np.testing.assert_array_equal(
        G.from_numpy(x.copy())[G.from_numpy(mask.copy())].numpy(), x[mask]
    )
    got = G.from_numpy(x.copy())
    got[G.from_numpy(mask.copy())] = 7.0
    expected = x.copy()
    expected[mask] = 7.0
    np.testing.assert_array_equal(got.numpy(), expected)
    # one element per position (the mask covers every dim): read, fill, write
    y = rng.standard_normal(shape)
    np.testing.assert_array_equal(G.from_numpy(y)[G.from_numpy(mask)].numpy(), y[mask])
    values = rng.standard_normal(int(mask.sum()))
    for value, lib_value in ((-1.5, -1.5), (values, G.from_numpy(values))):
        got, expected = G.from_numpy(y.copy()), y.copy()
        got[G.from_numpy(mask)] = lib_value
        expected[mask] = value
        np.testing.assert_array_equal(got.numpy(), expected)


def test_mask_bytes_other_than_one_are_true():
    raw = np.zeros(40, np.uint8)
    raw[[3, 17, 31, 39]] = [2, 255, 1, 128]
    mask = raw.view(np.bool_)
    np.testing.assert_array_equal(
        G.nonzero(G.from_numpy(mask)).numpy().ravel(), np.flatnonzero(raw)
    )
    x = np.arange(40.0)
    np.testing.assert_array_equal(
        G.from_numpy(x)[G.from_numpy(mask)].numpy(), x[raw != 0]
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.nonzero(m.tensor(5)),
        lambda m: m.nonzero(m.tensor(0.0), as_tuple=True),
        lambda m: m.nonzero(m.tensor([float("nan"), -0.0, 0.0, 2.0])),
        lambda m: m.nonzero(m.zeros(0, 3), as_tuple=True),
        lambda m: m.argwhere(m.tensor(5)),
        lambda m: m.tensor([1.0, 0]).nonzero(as_tuple=True),
        lambda m: m.tensor([[1.0, 0]]).argwhere(),
        lambda m: m.nonzero(m.tensor([1.0, 2.0], requires_grad=True)),
        lambda m: m.nonzero(m.tensor([1.0, 0]), as_tuple=None),
        lambda m: m.nonzero(m.tensor([1.0, 0]), as_tuple=1),
        lambda m: m.nonzero([1, 0]),
    ],
)
def test_nonzero_cases(call):
    same(call)


def test_nonzero_misclassified_rows():
    pred = np.random.default_rng(3).integers(0, 3, 50)
    y = np.random.default_rng(4).integers(0, 3, 50)
    same(lambda m: m.nonzero(m.tensor(pred) != m.tensor(y)).view(-1))


# ---- unique and unique_consecutive ------------------------------------------


def _flags():
    return [(ri, rc) for ri in (False, True) for rc in (False, True)]


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_unique_random(dtype):
    rng = np.random.default_rng(5)
    for _ in range(30):
        shape = tuple(int(s) for s in rng.integers(0, 5, size=int(rng.integers(0, 4))))
        x = rng.integers(-3, 4, size=shape).astype(np.float64)
        if dtype.startswith("float"):
            x[rng.random(shape) < 0.1] = np.nan
        x = x.astype(np.float64 if dtype.startswith("float") else np.int64)
        if dtype in ("bool", "uint8"):
            x = np.abs(x)
        for ri, rc in _flags():
            for fn in ("unique", "unique_consecutive"):
                same(
                    lambda m, x, fn, ri, rc: getattr(m, fn)(
                        make(m, x, dtype), return_inverse=ri, return_counts=rc
                    ),
                    x,
                    fn,
                    ri,
                    rc,
                )
        same(lambda m, x: m.unique(make(m, x, dtype), sorted=False), x)


def test_unique_dim_random():
    rng = np.random.default_rng(6)
    for _ in range(30):
        x = rng.integers(0, 2, size=(int(rng.integers(1, 7)), int(rng.integers(1, 4))))
        x = np.concatenate([x, x[::2]])
        for dim in (0, 1, -1):
            for ri, rc in _flags():
                for fn in ("unique", "unique_consecutive"):
                    same(
                        lambda m, x, fn, dim, ri, rc: getattr(m, fn)(
                            m.tensor(x), dim=dim, return_inverse=ri, return_counts=rc
                        ),
                        x,
                        fn,
                        dim,
                        ri,
                        rc,
                    )
        same(
            lambda m, x: m.tensor(x, dtype=m.float32).unique(dim=0, return_counts=True),
            x,
        )


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.unique(m.tensor(3), return_inverse=True, return_counts=True),
        lambda m: m.unique(
            m.tensor([float("nan"), 1.0, float("nan")]), return_counts=True
        ),
        lambda m: m.unique(m.tensor([0.0, -0.0, 1.0, -0.0]), return_counts=True),
        lambda m: m.unique(m.tensor([True, False, True]), return_inverse=True),
        lambda m: m.unique(m.tensor([], dtype=m.float32), return_inverse=True),
        lambda m: m.unique(m.zeros(2, 0), return_inverse=True, return_counts=True),
        lambda m: m.unique(m.tensor([2**62 + 1, 2**62, 2**62 + 1])),
        lambda m: m.unique(m.tensor([1, 2, 1]), True, True),
        lambda m: m.unique(m.arange(10)[::-2] % 3, return_inverse=True),
        lambda m: m.unique(
            m.zeros(0, 3), dim=0, return_inverse=True, return_counts=True
        ),
        lambda m: m.unique(m.zeros(0, 3), dim=1),
        lambda m: m.unique(m.tensor([[1, 2], [1, 2]]), dim=2),
        lambda m: m.unique(m.tensor(3), dim=0),
        lambda m: m.unique(m.tensor([1.0, 0]), dim=0.0),
        lambda m: m.unique(m.tensor([1.0, 0]), sorted=1),
        lambda m: m.unique(m.tensor([1.0, 0]), return_counts=None),
        lambda m: m.unique([1, 2]),
        lambda m: m.unique_consecutive(m.tensor(3), return_inverse=True),
        lambda m: m.unique_consecutive(
            m.tensor([float("nan")] * 2 + [1.0]), True, True
        ),
        lambda m: m.tensor([1, 1, 2]).unique_consecutive(),
        lambda m: m.unique_consecutive(m.tensor([1, 1]), return_inverse=0),
    ],
)
def test_unique_cases(call):
    same(call)


@pytest.mark.parametrize(
    "call",
    [
        lambda m, x: m.unique(x, return_inverse=True, return_counts=True),
        lambda m, x: m.unique(x, dim=0, return_inverse=True, return_counts=True),
        lambda m, x: m.unique_consecutive(x, return_inverse=True, return_counts=True),
        lambda m, x: (x.unique(),),
    ],
)
def test_unique_autograd(call):
    got = call(G, G.tensor([1.0, 2.0, 1.0], requires_grad=True))
    want = call(torch, torch.tensor([1.0, 2.0, 1.0], requires_grad=True))
    for g, w in zip(got, want, strict=True):
        match(g, w)
    for m in (torch, G):
        with m.no_grad():
            assert not call(m, m.tensor([1.0, 2.0], requires_grad=True))[
                0
            ].requires_grad
    same_error(
        lambda m: call(m, m.tensor([1.0, 2.0], requires_grad=True))[0].sum().backward()
    )


# ---- tensor() of pandas data and other sequences ----------------------------


class ArrayOnly:
    def __array__(self, dtype=None, copy=None):
        return np.array([1, 2], dtype=np.int32)


@pytest.mark.parametrize(
    "data",
    [
        lambda: pd.Series([1.5, 2.5]),
        lambda: pd.Series([1, 2]),
        lambda: pd.Series([True, False]),
        lambda: pd.Series([1, 2], dtype="int32"),
        lambda: pd.Series([1.0, 2.0], dtype="float32"),
        lambda: pd.Series([1.5, None]),
        lambda: pd.Series([], dtype=float),
        lambda: pd.Series([1.5, 2.0], index=[1, 0]),
        lambda: pd.Series([1, 2], index=[5, 6]),
        lambda: pd.Series(["a", "b"]),
        lambda: pd.DataFrame({"a": [1, 2]}),
        lambda: [pd.Series([1.5, 2.5]), pd.Series([1.0, 2.0])],
        lambda: pd.Index([1, 2]),
        lambda: bytearray(b"ab"),
        lambda: memoryview(b"ab"),
        lambda: array.array("d", [1, 2]),
        lambda: array.array("i", [1, 2]),
        lambda: ArrayOnly(),
        lambda: {1: 2},
        lambda: {1, 2},
        lambda: b"ab",
        lambda: [b"ab"],
        lambda: ["a"],
        lambda: ["a", 1],
        lambda: [1, "a"],
        lambda: [[1], "ab"],
    ],
)
def test_tensor_of_sequences(data):
    same(lambda m: m.tensor(data()))
    same(lambda m: m.as_tensor(data()))


def test_tensor_of_series_with_dtype():
    s = pd.Series([1.5, 2.5])
    same(lambda m: m.tensor(s, dtype=m.float32))
    same(lambda m: m.tensor(s, dtype=m.int64))
    frame = pd.DataFrame({"x": [1.0, 2.0], "y": [3, 4]})
    same(lambda m: m.tensor(frame.values))
    same(lambda m: m.tensor(frame["y"]))
    assert expected_repr(torch.tensor(frame["x"])) == repr(G.tensor(frame["x"]))


# ---- no crash ---------------------------------------------------------------


def test_racing_writer_never_reads_or_writes_out_of_bounds():
    # Large calls release the GIL; another thread rewriting the input, or
    # giving it new data of another size, while a kernel runs may change the
    # counts, never make it touch memory outside what it holds.
    code = """
    import threading
    import gdlite as G
    x, f = G.zeros(1 << 18, dtype=G.int64), G.zeros(1 << 18)
    big_x, big_f = G.full((1 << 18,), 1 << 20), G.ones(1 << 18)
    tiny_x, tiny_f = G.zeros(3, dtype=G.int64), G.zeros(3)
    stop = False
    def writer():
        while not stop:
            x.fill_(1 << 20); x.fill_(0); f.fill_(1.0); f.fill_(0.0)
            x.data = tiny_x; f.data = tiny_f; x.data = big_x; f.data = big_f
    t = threading.Thread(target=writer); t.start()
    for _ in range(30):
        G.bincount(x)
        try:  # f may be the 3-element one at the call: PyTorch's length error
            G.bincount(G.zeros(1 << 18, dtype=G.int64), f)
        except RuntimeError as e:
            assert "same length" in str(e)
        G.nonzero(f); G.unique(x); G.unique(f); G.histc(f, bins=7, min=0, max=1)
    stop = True; t.join()
    print("ok")
    """
    assert assert_clean(run_probe(code)).strip() == "ok"
