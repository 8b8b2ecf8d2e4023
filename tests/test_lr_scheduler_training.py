"""Schedulers driving real training, and tensor learning rates, against torch.

The scheduled learning rates and momenta must be what the gdlite optimizers
use: a float64 model trained with a schedule ends where torch's does. Tensor
learning rates are updated in place (the group keeps its tensor) and the
scheduler's lists are copies, as in torch.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

import gdlite

TARGET = [[0.5, -1.5, 2.0], [3.0, 0.25, -0.75]]


def loss_of(lib, w):
    """A quadratic bowl around TARGET; float64 keeps the comparison tight."""
    return ((w - lib.tensor(TARGET, dtype=lib.float64)) ** 2).sum()


def train(lib, make_opt, make_sched, steps=60, plateau=False):
    w = lib.zeros(2, 3, dtype=lib.float64, requires_grad=True)
    b = lib.ones(3, dtype=lib.float64, requires_grad=True)
    opt = make_opt(lib.optim, [{"params": [w]}, {"params": [b], "lr": 0.02}])
    sched = make_sched(lib.optim.lr_scheduler, opt)
    lrs = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_of(lib, w) + (b * b).sum()
        loss.backward()
        opt.step()
        if plateau:
            # An offset makes the relative improvements fade: plateaus.
            sched.step(float(loss.detach()) + 1.0)
        else:
            sched.step()
        lrs.append(sched.get_last_lr())
    return lrs, w.detach().numpy().copy(), b.detach().numpy().copy()


TRAINING = [
    (
        lambda O, g: O.SGD(g, lr=0.05, momentum=0.9),
        lambda M, o: M.OneCycleLR(o, [0.05, 0.02], total_steps=60),
    ),
    (
        lambda O, g: O.SGD(g, lr=0.05, momentum=0.5, nesterov=True),
        lambda M, o: M.CyclicLR(o, 0.001, 0.05, 5, base_momentum=0.4, max_momentum=0.6),
    ),
    (
        lambda O, g: O.Adam(g, lr=0.1),
        lambda M, o: M.OneCycleLR(o, 0.2, total_steps=60, three_phase=True),
    ),
    (
        lambda O, g: O.AdamW(g, lr=0.1),
        lambda M, o: M.CyclicLR(o, 0.01, 0.1, 7, mode="exp_range", gamma=0.99),
    ),
    (
        lambda O, g: O.SGD(g, lr=0.01),
        lambda M, o: M.SequentialLR(
            o, [M.LinearLR(o, 0.1, total_iters=10), M.CosineAnnealingLR(o, 50)], [10]
        ),
    ),
    (
        lambda O, g: O.RMSprop(g, lr=0.01),
        lambda M, o: M.ChainedScheduler(
            [M.ExponentialLR(o, 0.98), M.MultiStepLR(o, [20, 40])]
        ),
    ),
]


@pytest.mark.parametrize(("make_opt", "make_sched"), TRAINING)
def test_training_with_schedule_matches_torch(make_opt, make_sched):
    want_lrs, want_w, want_b = train(torch, make_opt, make_sched)
    got_lrs, got_w, got_b = train(gdlite, make_opt, make_sched)
    assert got_lrs == want_lrs
    np.testing.assert_allclose(got_w, want_w, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got_b, want_b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("mode", ["min", "max"])
def test_training_with_plateau_matches_torch(mode):
    def make_sched(M, o):
        # "max" never sees an improvement in a falling loss: it decays fast.
        return M.ReduceLROnPlateau(o, mode, factor=0.5, patience=2, threshold=0.05)

    def make_opt(O, g):
        return O.SGD(g, lr=0.3, momentum=0.5)

    want = train(torch, make_opt, make_sched, plateau=True)
    got = train(gdlite, make_opt, make_sched, plateau=True)
    assert got[0] == want[0]
    assert len(set(map(tuple, want[0]))) > 2  # the lr was reduced more than once
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12, atol=1e-14)


def plain(values):
    """Tensors as (value, dtype name), so traces of both libraries compare."""
    if isinstance(values, (list, tuple)):
        return [plain(v) for v in values]
    if isinstance(values, (torch.Tensor, gdlite.Tensor)):
        return (values.item(), str(values.dtype).split(".")[-1])
    return values


TENSOR_LR = [
    lambda M, o, t: M.StepLR(o, 3, 0.5),
    lambda M, o, t: M.MultiStepLR(o, [2, 5, 5]),
    lambda M, o, t: M.ExponentialLR(o, 0.97),
    lambda M, o, t: M.LinearLR(o, 0.25, total_iters=8),
    lambda M, o, t: M.ConstantLR(o, 0.5, 4),
    lambda M, o, t: M.PolynomialLR(o, 10, 2.0),
    lambda M, o, t: M.CosineAnnealingLR(o, 7, 0.001),
    lambda M, o, t: M.LambdaLR(o, lambda e: 1 / (1 + e)),
    lambda M, o, t: M.MultiplicativeLR(o, lambda e: 0.9),
    lambda M, o, t: M.CosineAnnealingWarmRestarts(o, 4, 2),
    lambda M, o, t: M.OneCycleLR(o, t(0.5), total_steps=30),
    lambda M, o, t: M.CyclicLR(o, t(0.01), [t(0.2), t(0.1)], 4),
    lambda M, o, t: M.SequentialLR(o, [M.ConstantLR(o), M.ExponentialLR(o, 0.9)], [5]),
]


@pytest.mark.parametrize("build", TENSOR_LR)
def test_tensor_lr_matches_torch(build):
    def trace(lib):
        lrs = [lib.tensor(0.1), lib.tensor(0.03)]
        groups = [
            {"params": [lib.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs
        ]
        opt = lib.optim.SGD(groups, lr=0.1, momentum=0.9)
        sched = build(lib.optim.lr_scheduler, opt, lib.tensor)
        out = []
        for _ in range(30):
            opt.step()
            sched.step()
            last = sched.get_last_lr()
            # The group keeps its own tensor; what the scheduler hands out are copies.
            assert all(
                g["lr"] is lr for g, lr in zip(opt.param_groups, lrs, strict=True)
            )
            assert all(
                a is not g["lr"] for a, g in zip(last, opt.param_groups, strict=True)
            )
            out.append(plain(last))
            out.append(plain([g["lr"] for g in opt.param_groups]))
            out.append(plain([g["initial_lr"] for g in opt.param_groups]))
            out.append(plain(getattr(sched, "base_lrs", None)))
        return out

    assert trace(gdlite) == trace(torch)


def test_tensor_lr_plateau_matches_torch():
    def trace(lib):
        lr = lib.tensor(0.1)
        opt = lib.optim.Adam([{"params": [lib.zeros(2, requires_grad=True)], "lr": lr}])
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.3)
        out = []
        for metric in [3.0, 2.0, 2.0, 2.5, 1.0, 1.0, 1.0]:
            sched.step(lib.tensor(metric))
            assert opt.param_groups[0]["lr"] is lr
            out.append(plain(sched.get_last_lr()))
        return out

    assert trace(gdlite) == trace(torch)


def test_closure_goes_through_the_step_wrapper():
    def probe(lib):
        w = lib.ones(2, dtype=lib.float64, requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1)
        lib.optim.lr_scheduler.ExponentialLR(opt, 0.5)
        calls = []

        def closure():
            calls.append(1)
            opt.zero_grad()
            loss = (w * w).sum()
            loss.backward()
            return loss

        loss = opt.step(closure)
        return (
            float(loss.detach()),
            len(calls),
            opt._opt_called,
            w.detach().numpy().tolist(),
        )

    assert probe(gdlite) == probe(torch)


def test_pickled_optimizer_drops_the_step_wrapper():
    """The wrapper is not part of an optimizer's pickled state (in torch either)."""

    def probe(lib):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        lib.optim.lr_scheduler.StepLR(opt, 2)
        restored = pickle.loads(pickle.dumps(opt))
        return (
            hasattr(opt.step, "_wrapped_by_lr_sched"),
            hasattr(restored.step, "_wrapped_by_lr_sched"),
            restored.param_groups[0]["initial_lr"],
        )

    assert probe(gdlite) == probe(torch)
