"""nll_loss and cross_entropy against PyTorch: every reduction, float32 and
float64, (C), (N, C) and (N, C, d1, ...) inputs, class weights, ignore_index,
label smoothing and class-probability targets; their errors."""

from __future__ import annotations

import numpy as np
import pytest
from nn_oracle import Arg, check, finite_difference_check, probe, same_error

import gdlite
import gdlite.nn._functional_loss as GF

RNG = np.random.default_rng(11)
REDUCTIONS = ["mean", "sum", "none"]
DTYPES = [np.float32, np.float64]
# input shape, target shape
SHAPES = [
    ((3,), ()),
    ((6, 4), (6,)),
    ((2, 3, 5), (2, 5)),
    ((2, 3, 4, 5), (2, 4, 5)),
    ((2, 3, 2, 2, 2), (2, 2, 2, 2)),
]


def logits(shape: tuple, dtype: type) -> np.ndarray:
    return (RNG.standard_normal(shape) * 2).astype(dtype)


def classes(shape: tuple, n: int, ignore: bool = False) -> np.ndarray:
    t = RNG.integers(0, n, shape).astype(np.int64)
    if ignore and t.size:
        t.flat[::3] = -100
    return t


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,tshape", SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss(
    reduction: str, dtype: type, shape: tuple, tshape: tuple, weighted: bool
) -> None:
    c = shape[0] if len(shape) == 1 else shape[1]
    kw = {"weight": Arg(RNG.random(c).astype(dtype))} if weighted else {}
    check(
        "nll_loss",
        Arg(logits(shape, dtype), True),
        Arg(classes(tshape, c)),
        reduction=reduction,
        **kw,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,tshape", SHAPES[1:])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_cross_entropy_class_indices(
    reduction: str,
    dtype: type,
    shape: tuple,
    tshape: tuple,
    weighted: bool,
    smoothing: float,
) -> None:
    c = shape[1]
    kw = {"weight": Arg(RNG.random(c).astype(dtype))} if weighted else {}
    check(
        "cross_entropy",
        Arg(logits(shape, dtype), True),
        Arg(classes(tshape, c, True)),
        reduction=reduction,
        label_smoothing=smoothing,
        **kw,
    )


@pytest.mark.parametrize("ignore_index", [-100, 1])
def test_ignore_index(ignore_index: int) -> None:
    t = np.array([1, 0, 1, 2, 1], np.int64)
    for red in REDUCTIONS:
        check(
            "nll_loss",
            Arg(logits((5, 3), np.float32), True),
            Arg(t),
            reduction=red,
            ignore_index=ignore_index,
        )
    # everything ignored: the mean is 0 / 0
    check(
        "cross_entropy",
        Arg(logits((2, 3), np.float32), True),
        Arg(np.array([1, 1])),
        ignore_index=1,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5,), (4, 3), (2, 3, 4)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_probabilities(
    reduction: str, dtype: type, shape: tuple, weighted: bool, smoothing: float
) -> None:
    c = shape[0] if len(shape) == 1 else shape[1]
    p = RNG.random(shape).astype(dtype)
    p /= p.sum(axis=0 if len(shape) == 1 else 1, keepdims=True)
    kw = {"weight": Arg(RNG.random(c).astype(dtype), True)} if weighted else {}
    check(
        "cross_entropy",
        Arg(logits(shape, dtype), True),
        Arg(p, True),
        reduction=reduction,
        label_smoothing=smoothing,
        **kw,
    )


def test_extreme_logits_stay_finite() -> None:
    x = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, 1e4]], np.float32)
    for red in REDUCTIONS:
        check(
            "cross_entropy",
            Arg(x, True),
            Arg(np.array([2, 0])),
            reduction=red,
            max_ulp=0,
        )
    loss = GF.cross_entropy(gdlite.from_numpy(x), gdlite.tensor([2, 0]))
    assert np.isfinite(loss.item())


def test_finite_differences_float64() -> None:
    t = gdlite.tensor([2, 0, 1, 1])
    w = gdlite.tensor([0.3, 1.0, 2.0], dtype=gdlite.float64)
    for red in REDUCTIONS:
        finite_difference_check(
            lambda x, red=red: GF.cross_entropy(
                x, t, weight=w, reduction=red, label_smoothing=0.1
            ),
            RNG.standard_normal((4, 3)),
        )


def test_legacy_size_average_and_reduce() -> None:
    x, t = Arg(logits((4, 3), np.float32), True), Arg(classes((4,), 3))
    for sa, rd in [(False, None), (None, False), (True, True)]:
        with pytest.warns(UserWarning, match="size_average and reduce args"):
            check("nll_loss", x, t, size_average=sa, reduce=rd)


def test_errors() -> None:
    x = Arg(logits((2, 3), np.float32))
    same_error("nll_loss", x, Arg(np.array([0, 5])))
    same_error("nll_loss", x, Arg(np.array([0, -2])))
    same_error("nll_loss", x, Arg(np.array([0.0, 1.0], np.float32)))
    same_error("nll_loss", x, Arg(np.array([0, 1], np.int32)))
    same_error("nll_loss", x, Arg(np.array([0, 1, 1])))
    same_error("nll_loss", x, Arg(np.array([0, 1])), weight=Arg(np.ones(4, np.float32)))
    same_error("nll_loss", x, Arg(np.array([0, 1])), reduction="bad")
    same_error("nll_loss", Arg(np.float32(1.0)), Arg(np.int64(0)))
    same_error("nll_loss", Arg(logits((2, 3, 4), np.float32)), Arg(np.array([0, 1])))
    same_error(
        "nll_loss",
        Arg(logits((2, 3, 4, 5), np.float32)),
        Arg(np.zeros((2, 4, 6), np.int64)),
    )
    same_error(
        "nll_loss",
        Arg(logits((2, 3, 4, 5), np.float32)),
        Arg(np.zeros((2, 4), np.int64)),
    )
    same_error(
        "nll_loss", Arg(logits((2, 3, 4, 5), np.float32)), Arg(np.full((2, 4, 5), 7))
    )
    same_error("nll_loss", Arg(np.zeros((2, 3), np.int64)), Arg(np.array([0, 1])))
    same_error(
        "nll_loss", x, Arg(np.array([0, 1])), weight=Arg(np.ones(3, np.float32), True)
    )
    same_error("cross_entropy", x, Arg(np.array([0, 1])), label_smoothing=1.5)
    same_error(
        "cross_entropy", x, Arg(np.full((2, 3), 0.3, np.float32)), ignore_index=1
    )
    same_error("cross_entropy", x, Arg(np.zeros((2, 3), np.int64)))


def test_hostile_calls_do_not_crash() -> None:
    code = """
import gdlite, gdlite.nn._functional_loss as F
x = gdlite.randn(4, 3, requires_grad=True)
bad = [gdlite.tensor([0, 1, 2, 2**62]), gdlite.tensor([-2**63, 0, 0, 0]),
       gdlite.tensor([0, 1, 2, 3], dtype=gdlite.uint8), gdlite.zeros(4, 3).long()]
for t in bad:
    for red in ("mean", "sum", "none"):
        try:
            F.cross_entropy(x, t, reduction=red).sum().backward()
        except (IndexError, RuntimeError, ValueError):
            pass
for ii in (2**62, -2**62):
    F.nll_loss(x, gdlite.tensor([0, 1, 2, 0]), ignore_index=ii)
F.nll_loss(gdlite.zeros(0, 3), gdlite.zeros(0).long())
F.nll_loss(gdlite.zeros(0, 3, 2), gdlite.zeros(0, 2).long(), reduction="none")
print("ok")
"""
    r = probe(code)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
