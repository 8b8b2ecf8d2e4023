"""Every optimizer and option combination against torch.optim: 20 steps from
the same start, float32 and float64, parameters and each state entry compared
after every step (optim_oracle.run_pair)."""

from __future__ import annotations

import numpy as np
import pytest
from optim_oracle import run_pair

# (optimizer, options): in the spirit of torch's optim_db.
CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, weight_decay=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.4, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True)),
    (
        "SGD",
        dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.2, maximize=True),
    ),
    ("SGD", dict(lr=0.1, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.9, fused=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.05, betas=(0.6, 0.8))),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.2, maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.2, decoupled_weight_decay=True)),
    ("Adam", dict(lr=0.01, eps=1e-3, foreach=False)),
    ("Adam", dict(lr=0.01, fused=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.02, weight_decay=0.3, amsgrad=True)),
    ("AdamW", dict(lr=0.02, maximize=True, betas=(0.3, 0.4))),
    ("AdamW", dict(lr=0.02, amsgrad=True, fused=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, eps=1e-3, maximize=True)),
    ("Adagrad", dict(lr=0.1, fused=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.7)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.5)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, maximize=True, eps=1e-4)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.5)),
    ("Adadelta", dict(lr=0.5, weight_decay=0.1, maximize=True)),
    ("Adadelta", dict(lr=0.5, eps=1e-3)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, momentum_decay=0.02)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.01, maximize=True, betas=(0.5, 0.7))),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.05, betas=(0.6, 0.8))),
    ("Adamax", dict(lr=0.05, weight_decay=0.1, maximize=True)),
    ("Adamax", dict(lr=0.05, eps=0.5)),
]


def case_id(case: tuple) -> str:
    name, kwargs = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_trajectory(case: tuple, dtype: str) -> None:
    name, kwargs = case
    run_pair(name, kwargs, [(7,), (3, 4), ()], dtype=dtype)


# torch's fused CPU kernels pair the elements of a non-contiguous parameter
# with its contiguous grad by memory order, which is not an update to match.
UNFUSED = [case for case in CASES if not case[1].get("fused")]


@pytest.mark.parametrize("layout", ["transposed", "sliced"])
@pytest.mark.parametrize("case", UNFUSED[::3], ids=case_id)
def test_non_contiguous_params(case: tuple, layout: str) -> None:
    # Transposed leaves, as torch's tests make them, and leaves that skip
    # every other column; grads are contiguous.
    name, kwargs = case
    run_pair(name, kwargs, [(4, 6), (3, 8)], layout=layout, steps=10)


@pytest.mark.parametrize("case", CASES[::4], ids=case_id)
def test_large_params_vector_path(case: tuple) -> None:
    # Long enough for ATen's vector loops (and their tails) and for the core
    # to let other threads run (65536 elements).
    name, kwargs = case
    run_pair(name, kwargs, [(70001,)], steps=3)


@pytest.mark.parametrize("case", CASES[::5], ids=case_id)
def test_zero_grads_still_decay_and_move(case: tuple) -> None:
    name, kwargs = case
    run_pair(name, kwargs, [(6,)], steps=5, grads=lambda rng, shape: np.zeros(shape))


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad", "NAdam"])
def test_groups_with_their_own_options(name: str) -> None:
    def groups(ps: list) -> list:
        return [
            {"params": ps[:1]},
            {"params": ps[1:], "lr": 0.003, "weight_decay": 0.2, "maximize": True},
        ]

    extra = {"momentum": 0.5} if name in ("SGD", "RMSprop") else {}
    run_pair(name, dict(lr=0.02, **extra), [(5,), (2, 3), (4,)], groups=groups)


def test_extreme_gradients_follow_torch() -> None:
    # Huge, tiny and zero gradients, and NaN/inf, stay in step with torch.
    def grads(rng: np.random.Generator, shape: tuple) -> np.ndarray:
        g = rng.standard_normal(shape) * 10.0 ** rng.integers(-30, 30, shape)
        g.flat[0] = 0.0
        return g

    for name in ("SGD", "Adam", "Adamax", "Adagrad"):
        run_pair(name, dict(lr=0.01), [(50,)], steps=8, grads=grads)
    for special in (np.inf, -np.inf, np.nan):
        run_pair(
            "Adamax",
            dict(lr=0.01),
            [(4,)],
            steps=3,
            grads=lambda rng, shape, s=special: np.full(shape, s),
        )
