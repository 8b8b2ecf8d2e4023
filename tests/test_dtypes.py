"""The dtype table: every dtype's facts and promotion against torch, and
uint8 (ByteTensor, .byte()) end to end. The op tables (test_ops_*) run
uint8 through every op as well."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import gdlite as G

NAMES = ["bool", "uint8", "int32", "int64", "float32", "float64"]


def both(name):
    return getattr(G, name), getattr(torch, name)


@pytest.mark.parametrize("name", NAMES)
def test_dtype_facts_match_torch(name):
    g, t = both(name)
    assert repr(g) == repr(t).replace("torch.", "gdlite.")
    assert g.itemsize == t.itemsize
    assert g.is_floating_point == t.is_floating_point
    assert g.is_signed == t.is_signed
    assert G.empty(2, dtype=g).type() == torch.empty(2, dtype=t).type().replace(
        "torch.", "gdlite."
    )
    assert np.dtype(g._numpy) == torch.empty(0, dtype=t).numpy().dtype


@pytest.mark.parametrize("a, b", list(itertools.product(NAMES, repeat=2)))
def test_promotion_table_matches_torch(a, b):
    (ga, ta), (gb, tb) = both(a), both(b)
    assert repr(G.promote_types(ga, gb)) == repr(torch.promote_types(ta, tb)).replace(
        "torch.", "gdlite."
    )
    # and through an op on tensors of those dtypes
    got = (G.ones(2, dtype=ga) * G.ones(2, dtype=gb)).dtype
    assert repr(got) == repr(
        (torch.ones(2, dtype=ta) * torch.ones(2, dtype=tb)).dtype
    ).replace("torch.", "gdlite.")


def test_uint8_names_and_constructors():
    assert G.uint8 is G.ByteTensor.dtype
    x = G.ByteTensor([1, 2, 250])
    assert x.dtype is G.uint8 and isinstance(x, G.ByteTensor)
    assert G.tensor([1.0, 2.0]).byte().dtype is G.uint8
    assert repr(x) == repr(torch.ByteTensor([1, 2, 250])).replace("torch.", "gdlite.")
    np.testing.assert_array_equal(x.numpy(), np.array([1, 2, 250], np.uint8))


def test_uint8_arithmetic_wraps_like_torch():
    data = [0, 1, 7, 200, 255]
    for expr in [
        lambda m, x: x + 100,
        lambda m, x: x - 3,
        lambda m, x: -x,
        lambda m, x: x * x,
        lambda m, x: x // 3,
        lambda m, x: x % 7,
        lambda m, x: x / 2,
        lambda m, x: x.sum(),
        lambda m, x: x.max(),
        lambda m, x: x.cumsum(0),
        lambda m, x: ~x,
        lambda m, x: x.to(m.float32),
        lambda m, x: m.tensor([-1.5, 300.7]).to(m.uint8),
    ]:
        got = expr(G, G.tensor(data, dtype=G.uint8))
        want = expr(torch, torch.tensor(data, dtype=torch.uint8))
        assert repr(got) == repr(want).replace("torch.", "gdlite.")


def test_accuracy_count_idiom():
    # Course code counts correct predictions with uint8/bool comparisons.
    rng = np.random.default_rng(0)
    pred, y = rng.integers(0, 3, 50), rng.integers(0, 3, 50)
    for m in (G, torch):
        p, t = m.tensor(pred), m.tensor(y)
        correct = (p == t).byte().sum().item()
        assert correct == int((pred == y).sum())


@pytest.mark.parametrize(
    "data", [[1.7, -2.7], [300], [255.9], [-0.5], [float("nan")], [-1], [-255], [-256]]
)
def test_uint8_from_python_values_checks_overflow_like_torch(data):
    try:
        want = torch.tensor(data, dtype=torch.uint8)
    except RuntimeError as e:
        with pytest.raises(RuntimeError) as info:
            G.tensor(data, dtype=G.uint8)
        assert str(info.value) == str(e)
        return
    assert G.tensor(data, dtype=G.uint8).tolist() == want.tolist()


def test_uint8_from_numpy_shares_memory():
    arr = np.array([1, 2, 3], np.uint8)
    t = G.from_numpy(arr)
    t[0] = 9
    assert arr[0] == 9 and t.dtype is G.uint8
