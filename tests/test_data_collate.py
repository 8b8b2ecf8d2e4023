"""default_collate and default_convert against torch's: the structure,
container types, dtypes and values of every supported kind of sample, and the
same errors for unsupported or mixed ones."""

from __future__ import annotations

import collections
import types

import numpy as np
import pytest
import torch
from data_oracle import structure
from torch_oracle import same_error

import gdlite as G

Point = collections.namedtuple("Point", ["x", "y"])


def samples(lib):
    """Batches of each supported sample type, built alike per library."""
    t = lib.from_numpy
    return {
        "tensors": [
            t(np.array([1.5, 2.0], np.float32)),
            t(np.array([3.0, 4.0], np.float32)),
        ],
        "0-d tensors": [lib.tensor(3), lib.tensor(-4)],
        "int64 tensors": [
            t(np.arange(6).reshape(2, 3)),
            t(np.arange(6, 12).reshape(2, 3)),
        ],
        "ints": [0, 1, -(2**40)],
        "floats": [0.5, 1e300, -3.0],
        "bools": [True, False, True],
        "bool and int": [True, 2],
        "int and float": [1, 2.5],
        "strings": ["a", "bc"],
        "bytes": [b"a", b"bc"],
        "numpy arrays": [np.arange(3.0), np.arange(3.0, 6.0)],
        "numpy float32 arrays": [
            np.ones((2, 2), np.float32),
            np.zeros((2, 2), np.float32),
        ],
        "numpy int32 0-d arrays": [np.array(3, np.int32), np.array(4, np.int32)],
        "numpy bool arrays": [np.array([True, False]), np.array([False, False])],
        "numpy float32 scalars": [np.float32(1.5), np.float32(2.5)],
        "numpy int64 scalars": [np.int64(7), np.int64(-7)],
        "numpy float64 scalars": [np.float64(0.25), np.float64(4.0)],
        "numpy bool scalars": [np.bool_(True), np.bool_(False)],
        "tuples": [(1, 2.0, "a"), (3, 4.0, "b")],
        "lists": [[1, 2], [3, 4]],
        "dicts": [{"a": 1, "b": [0.5]}, {"a": 2, "b": [1.5]}],
        "ordered dicts": [
            collections.OrderedDict(x=1, y=t(np.ones(2, np.float32))),
            collections.OrderedDict(x=2, y=t(np.zeros(2, np.float32))),
        ],
        "namedtuples": [Point(1, 2.5), Point(3, 4.5)],
        "nested": [
            ({"k": (1, np.float32(2))}, [t(np.array([1, 2]))]),
            ({"k": (3, np.float32(4))}, [t(np.array([3, 4]))]),
        ],
        "mapping proxies": [
            types.MappingProxyType({"a": 1}),
            types.MappingProxyType({"a": 2}),
        ],
        "ranges": [range(2), range(3, 5)],
        "tensor rows of a TensorDataset": [
            (lib.tensor([1.0, 2.0]), lib.tensor(0)),
            (lib.tensor([3.0, 4.0]), lib.tensor(1)),
        ],
    }


@pytest.mark.parametrize("case", list(samples(torch)))
def test_default_collate_matches_torch(case):
    want = torch.utils.data.default_collate(samples(torch)[case])
    got = G.utils.data.default_collate(samples(G)[case])
    assert structure(got) == structure(want)


@pytest.mark.parametrize("case", list(samples(torch)))
def test_default_convert_matches_torch(case):
    for sample in zip(samples(torch)[case], samples(G)[case], strict=True):
        want = torch.utils.data.default_convert(sample[0])
        got = G.utils.data.default_convert(sample[1])
        assert structure(got) == structure(want)


def test_default_convert_leaves_string_and_object_arrays():
    for arr in (np.array(["a", "b"]), np.array([b"x"]), np.array([1, "a"], object)):
        assert G.utils.data.default_convert(arr) is arr
    assert G.utils.data.default_convert(np.str_("s")) == "s"


def test_unbatched_loader_converts_like_torch():
    rows = [np.arange(2.0), (np.float32(1), "s"), {"a": np.int64(3)}]

    class Rows:
        def __getitem__(self, i):
            return rows[i]

        def __len__(self):
            return len(rows)

    for lib in (torch, G):
        got = [structure(b) for b in lib.utils.data.DataLoader(Rows(), batch_size=None)]
        if lib is torch:
            want = got
    assert got == want


class Opaque:
    pass


@pytest.mark.parametrize(
    "batch",
    [
        lambda lib: [Opaque(), Opaque()],
        lambda lib: [None, None],
        lambda lib: [{1, 2}, {3}],
        lambda lib: [np.array(["a"]), np.array(["b"])],
        lambda lib: [np.array([object()]), np.array([object()])],
        lambda lib: [[1, 2], [3]],
        lambda lib: [(1,), (2, 3)],
        lambda lib: [lib.tensor([1.0]), 2.0],
        lambda lib: [lib.ones(2), lib.ones(3)],
        lambda lib: [1, "a"],
        pytest.param(
            lambda lib: [1.0, None],
            marks=pytest.mark.xfail(
                strict=True, reason="gdlite.tensor(dtype=) names the wrong error"
            ),
        ),
        lambda lib: [{"a": 1}, {"b": 2}],
        lambda lib: [np.ones(2), np.ones(3)],
        lambda lib: [],
    ],
)
def test_default_collate_errors_match_torch(batch):
    same_error(lambda lib: lib.utils.data.default_collate(batch(lib)))


def test_collate_fn_map_extends_collation_as_torch():
    from gdlite.utils.data import _collate

    def upper(batch, *, collate_fn_map=None):
        return [s.upper() for s in batch]

    batch = [("a", 1, [2]), ("b", 2, [3])]
    got = _collate.collate(
        batch, collate_fn_map={str: upper, int: _collate.collate_int_fn}
    )
    want = torch.utils.data._utils.collate.collate(
        batch,
        collate_fn_map={
            str: upper,
            int: torch.utils.data._utils.collate.collate_int_fn,
        },
    )
    assert structure(got) == structure(want)
    same_error(
        lambda lib: (_collate if lib is G else lib.utils.data._utils.collate).collate(
            [("a", [0.5])], collate_fn_map={str: upper, int: _collate.collate_int_fn}
        )
    )
