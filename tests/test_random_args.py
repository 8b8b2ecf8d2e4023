"""Random functions' argument checks against torch: refused bounds and
arguments (same exception type and message), accepted extremes (same draws),
and Tensor.random_ in all its forms.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gdlite as gd

FLOAT_DTYPES = ["float32", "float64"]


def seed(s: int) -> None:
    torch.manual_seed(s)
    gd.manual_seed(s)


def assert_same(got, expected: torch.Tensor) -> None:
    a, b = got.numpy(), expected.numpy()
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)


def dtypes(name: str):
    return getattr(gd, name), getattr(torch, name)


# ---- bounds PyTorch refuses or accepts --------------------------------------

NAN, INF = float("nan"), float("inf")


def same_error(torch_call, gd_call) -> None:
    with pytest.raises(Exception) as want:
        torch_call()
    with pytest.raises(Exception) as got:
        gd_call()
    assert type(got.value) is type(want.value)
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(
    "lo, hi",
    [
        (0, NAN),
        (NAN, 1),
        (1, 0),
        (0, INF),
        (-INF, 0),
        (-3e38, 3e38),
        (0, 1e39),
        (-1e308, 1e308),
    ],
)
def test_uniform_refusals(dtype, lo, hi):
    gdt, tdt = dtypes(dtype)
    try:
        want = torch.zeros(3, dtype=tdt).uniform_(lo, hi)
    except RuntimeError:
        same_error(
            lambda: torch.zeros(3, dtype=tdt).uniform_(lo, hi),
            lambda: gd.zeros(3, dtype=gdt).uniform_(lo, hi),
        )
        return
    seed(0)
    want = torch.zeros(3, dtype=tdt).uniform_(lo, hi)
    assert_same(gd.zeros(3, dtype=gdt).uniform_(lo, hi), want)


@pytest.mark.parametrize("mean, std", [(0, NAN), (0, -1), (0, -1e-7), (0, -INF)])
def test_normal_std_refusals(mean, std):
    same_error(
        lambda: torch.zeros(3).normal_(mean, std),
        lambda: gd.zeros(3).normal_(mean, std),
    )
    same_error(
        lambda: torch.normal(mean, std, size=(3,)),
        lambda: gd.normal(mean, std, size=(3,)),
    )
    same_error(
        lambda: torch.normal(torch.zeros(3), std), lambda: gd.normal(gd.zeros(3), std)
    )
    same_error(
        lambda: torch.normal(0.0, torch.tensor([1.0, std])),
        lambda: gd.normal(0.0, gd.tensor([1.0, std])),
    )


@pytest.mark.parametrize("mean, std", [(NAN, 1), (0, INF), (INF, 1), (0, -0.0)])
def test_normal_accepted_extremes(mean, std):
    seed(2)
    assert_same(gd.zeros(3).normal_(mean, std), torch.zeros(3).normal_(mean, std))


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_uniform_and_normal_refuse_integers(dtype):
    gdt, tdt = dtypes(dtype)
    same_error(
        lambda: torch.zeros(3, dtype=tdt).uniform_(),
        lambda: gd.zeros(3, dtype=gdt).uniform_(),
    )
    same_error(
        lambda: torch.zeros(3, dtype=tdt).normal_(),
        lambda: gd.zeros(3, dtype=gdt).normal_(),
    )


@pytest.mark.parametrize("n", [0, 1, 5])
def test_randperm_refuses_bool(n):
    same_error(
        lambda: torch.randperm(n, dtype=torch.bool),
        lambda: gd.randperm(n, dtype=gd.bool),
    )


def test_randperm_negative_and_float_limits():
    same_error(lambda: torch.randperm(-1), lambda: gd.randperm(-1))
    same_error(
        lambda: torch.randperm(2**24 + 2, dtype=torch.float32),
        lambda: gd.randperm(2**24 + 2, dtype=gd.float32),
    )


# ---- random_ in all its forms -----------------------------------------------

ALL_DTYPES = ["int64", "int32", "bool", "float32", "float64"]
RANDOM_ARGS = [
    (),
    (1,),
    (2,),
    (100,),
    (-5, 5),
    (0, 2**28),
    (3, None),
    (-(2**63), None),
    (2**62, 2**62 + 9),
    (-(2**63), 2**63 - 1),
    (2**63 - 2, None),
]


@pytest.mark.filterwarnings("ignore:.*out of bounds:UserWarning")
@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("args", RANDOM_ARGS, ids=str)
def test_random_forms(dtype, args):
    gdt, tdt = dtypes(dtype)
    seed(13)
    try:
        want = torch.zeros(2, 9, dtype=tdt).random_(*args)
    except RuntimeError:
        same_error(
            lambda: torch.zeros(2, 9, dtype=tdt).random_(*args),
            lambda: gd.zeros(2, 9, dtype=gdt).random_(*args),
        )
        return
    assert_same(gd.zeros(2, 9, dtype=gdt).random_(*args), want)
    # on a transposed view, in memory order
    assert_same(
        gd.zeros(4, 3, dtype=gdt).t().random_(*args),
        torch.zeros(4, 3, dtype=tdt).t().random_(*args),
    )
    assert_same(gd.rand(3), torch.rand(3))


def test_random_keywords_and_empty():
    seed(14)
    assert_same(
        gd.zeros(5).random_(**{"from": 2, "to": 9}),
        torch.zeros(5).random_(**{"from": 2, "to": 9}),
    )
    assert_same(gd.zeros(5).random_(to=7), torch.zeros(5).random_(to=7))
    assert_same(
        gd.zeros(0, dtype=gd.int32).random_(-(2**63), None),
        torch.zeros(0, dtype=torch.int32).random_(-(2**63), None),
    )
    same_error(
        lambda: torch.zeros(0, dtype=torch.int32).random_(0, 2**40),
        lambda: gd.zeros(0, dtype=gd.int32).random_(0, 2**40),
    )
    assert_same(gd.rand(2), torch.rand(2))


@pytest.mark.parametrize("args", [(2.5,), (2, 5.5), (1, 2, 3), ("a",)], ids=str)
def test_random_argument_types(args):
    with pytest.raises(TypeError):
        torch.zeros(3).random_(*args)
    with pytest.raises(TypeError, match=r"random_\(\) received an invalid combination"):
        gd.zeros(3).random_(*args)


def test_random_warns_for_floats_as_torch_does():
    with pytest.warns(UserWarning) as want:
        torch.zeros(3).random_(0, 2**30)
    with pytest.warns(UserWarning) as got:
        gd.zeros(3).random_(0, 2**30)
    assert [str(w.message) for w in got] == [
        str(w.message).split(" (Triggered internally")[0] for w in want
    ]


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.randint(0, 5.5, (2,)),
        lambda m: m.randint(0, 5, 3),
        lambda m: m.randint(0, 5, (2,), generator=3),
        lambda m: m.randint(0, 2**64, (2,)),
        lambda m: m.randint(-(2**64), 0, (2,)),
        lambda m: m.randperm(2.5),
        lambda m: m.randperm(2**64),
        lambda m: m.zeros(2).random_(True),
        lambda m: m.zeros(2).random_(2**64),
        lambda m: m.zeros(2).random_(generator=5),
    ],
)
def test_integer_argument_refusals(call):
    with pytest.raises(Exception) as want:
        call(torch)
    with pytest.raises(Exception) as got:
        call(gd)
    assert type(got.value) is type(want.value)
    assert str(got.value) == str(want.value).replace("torch.", "gdlite.")


def test_randint_keyword_forms():
    seed(15)
    assert_same(
        gd.randint(low=1, high=5, size=(3,)), torch.randint(low=1, high=5, size=(3,))
    )
    assert_same(gd.randint(high=5, size=(3,)), torch.randint(high=5, size=(3,)))
    assert_same(gd.randint(2, 9, size=[4]), torch.randint(2, 9, size=[4]))
