"""mse_loss, l1_loss, huber_loss, smooth_l1_loss, binary_cross_entropy and
binary_cross_entropy_with_logits against PyTorch: values, node names and the
gradients of input, target (and weight where PyTorch gives one), every
reduction, float32 and float64; broadcasting warnings and errors."""

from __future__ import annotations

import numpy as np
import pytest
from nn_oracle import Arg, check, finite_difference_check, probe, same_error

import gdlite
import gdlite.nn._functional_loss as GF

RNG = np.random.default_rng(5)
REDUCTIONS = ["mean", "sum", "none"]
DTYPES = [np.float32, np.float64]
SHAPES = [(7,), (3, 4), (2, 3, 4)]


def data(shape: tuple, dtype: type, scale: float = 2.0) -> np.ndarray:
    return (RNG.standard_normal(shape) * scale).astype(dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    "name,kw",
    [
        ("mse_loss", {}),
        ("l1_loss", {}),
        ("huber_loss", {}),
        ("huber_loss", {"delta": 0.3}),
        ("smooth_l1_loss", {}),
        ("smooth_l1_loss", {"beta": 0.4}),
        ("smooth_l1_loss", {"beta": 0.0}),
    ],
)
def test_regression_losses(
    name: str, kw: dict, reduction: str, dtype: type, shape: tuple
) -> None:
    check(
        name,
        Arg(data(shape, dtype), True),
        Arg(data(shape, dtype), True),
        reduction=reduction,
        **kw,
    )


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_elementwise_weight(name: str, reduction: str) -> None:
    x, y, w = data((3, 4), np.float64), data((3, 4), np.float64), RNG.random((3, 4))
    check(name, Arg(x, True), Arg(y, True), reduction=reduction, weight=Arg(w, True))


@pytest.mark.parametrize(
    "name", ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"]
)
def test_broadcast_target_warns(name: str) -> None:
    x, y = Arg(data((3, 1), np.float32), True), Arg(data((3, 4), np.float32), True)
    with pytest.warns(
        UserWarning, match=r"Using a target size \(gdlite.Size\(\[3, 4\]\)\)"
    ):
        GF.__dict__[name](gdlite.from_numpy(x.data), gdlite.from_numpy(y.data))
    check(name, x, y)
    same_error(name, Arg(data((2, 3), np.float32)), Arg(data((4, 3), np.float32)))


@pytest.mark.parametrize("name", ["mse_loss", "huber_loss", "smooth_l1_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_finite_differences_float64(name: str, reduction: str) -> None:
    y = gdlite.from_numpy(data((3, 4), np.float64))
    finite_difference_check(
        lambda x: GF.__dict__[name](x, y, reduction=reduction), data((3, 4), np.float64)
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(
    reduction: str, dtype: type, shape: tuple, weighted: bool
) -> None:
    x = RNG.uniform(0.02, 0.98, shape).astype(dtype)
    y = RNG.random(shape).astype(dtype)
    kw = {"weight": Arg(RNG.random(shape[-1:]).astype(dtype))} if weighted else {}
    check("binary_cross_entropy", Arg(x, True), Arg(y, True), reduction=reduction, **kw)


def test_binary_cross_entropy_clamps_log_at_minus_100() -> None:
    x = np.array([0.0, 1.0, 0.0, 1.0, 1e-30], np.float32)
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0], np.float32)
    for red in REDUCTIONS:
        check("binary_cross_entropy", Arg(x), Arg(y), reduction=red, max_ulp=0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos", [False, True])
def test_bce_with_logits(
    reduction: str, dtype: type, shape: tuple, weighted: bool, pos: bool
) -> None:
    kw = {}
    if weighted:
        kw["weight"] = Arg(RNG.random(shape[-1:]).astype(dtype))
    if pos:
        kw["pos_weight"] = Arg(RNG.uniform(0.5, 3, shape[-1:]).astype(dtype))
    check(
        "binary_cross_entropy_with_logits",
        Arg(data(shape, dtype, 4), True),
        Arg(RNG.random(shape).astype(dtype), True),
        reduction=reduction,
        **kw,
    )


def test_bce_with_logits_extreme_logits_stay_finite() -> None:
    x = np.array([1e4, -1e4, 1e4, -1e4, 0.0], np.float32)
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.5], np.float32)
    for red in REDUCTIONS:
        check(
            "binary_cross_entropy_with_logits",
            Arg(x, True),
            Arg(y, True),
            reduction=red,
            pos_weight=Arg(np.full(5, 2.0, np.float32)),
        )
    loss = GF.binary_cross_entropy_with_logits(
        gdlite.from_numpy(x), gdlite.from_numpy(y)
    )
    assert np.isfinite(loss.item())


def test_bce_finite_differences_float64() -> None:
    y = gdlite.from_numpy(RNG.random((2, 3)))
    pw = gdlite.tensor([0.5, 2.0, 1.5], dtype=gdlite.float64)
    finite_difference_check(
        lambda x: GF.binary_cross_entropy_with_logits(x, y, pos_weight=pw),
        data((2, 3), np.float64),
    )
    finite_difference_check(
        lambda x: GF.binary_cross_entropy(x, y, reduction="sum"),
        RNG.uniform(0.1, 0.9, (2, 3)),
    )


def test_errors() -> None:
    x, y = Arg(np.float32([0.5, 0.5])), Arg(np.float32([0.0, 1.0]))
    same_error("binary_cross_entropy", Arg(np.float32([0.5, 1.5])), y)
    same_error("binary_cross_entropy", Arg(np.float32([0.5, np.nan])), y)
    same_error("binary_cross_entropy", x, Arg(np.float32([0.0, 1.0, 1.0])))
    same_error("binary_cross_entropy", x, Arg(np.float64([0.0, 1.0])))
    same_error("binary_cross_entropy", x, y, weight=Arg(np.ones(3, np.float32)))
    same_error("binary_cross_entropy", x, y, weight=Arg(np.ones(2, np.float32), True))
    same_error("binary_cross_entropy_with_logits", x, Arg(np.float32([0.0, 1.0, 1.0])))
    same_error(
        "binary_cross_entropy_with_logits",
        x,
        y,
        pos_weight=Arg(np.ones(2, np.float32), True),
    )
    same_error("binary_cross_entropy_with_logits", x, y, reduction="avg")
    same_error("mse_loss", x, y, reduction="x")
    same_error("mse_loss", Arg(np.int64([1, 2])), Arg(np.int64([1, 2])))
    same_error("huber_loss", x, y, delta=0.0)
    same_error("smooth_l1_loss", x, y, beta=-1.0)


def test_hostile_calls_do_not_crash() -> None:
    code = """
import gdlite, gdlite.nn._functional_loss as F
x = gdlite.rand(3, 4, requires_grad=True)
y = gdlite.rand(3, 4)
calls = [
    lambda: F.binary_cross_entropy(x, y, weight=gdlite.ones(5)),
    lambda: F.binary_cross_entropy_with_logits(x, y, weight=gdlite.ones(7, 4)),
    lambda: F.binary_cross_entropy_with_logits(x, y, pos_weight=gdlite.ones(5)),
    lambda: F.mse_loss(x, y.expand(2, 3, 4).sum(0) * float("nan")),
    lambda: F.huber_loss(x, y, delta=float("inf")),
    lambda: F.smooth_l1_loss(x, y, beta=float("nan")),
    lambda: F.mse_loss(gdlite.zeros(0, 4), gdlite.zeros(0, 4)),
    lambda: F.binary_cross_entropy(gdlite.zeros(0), gdlite.zeros(0)),
]
for call in calls:
    try:
        call().sum().backward()
    except (RuntimeError, ValueError):
        pass
print("ok")
"""
    r = probe(code)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
