"""Learning-rate schedules against torch.optim.lr_scheduler.

Every scenario is a function of the library (torch or gdlite), run once with
each: a torch optimizer driven by torch's scheduler is the oracle for a gdlite
optimizer driven by gdlite's. The learning rates (and cycled momenta) must be
the same Python floats at every one of 100 steps, so comparisons are exact,
by value and by repr (which also tells float from int).
"""

from __future__ import annotations

import warnings

import pytest
import torch

import gdlite

GROUP_LRS = (0.1, 0.03, 0.5)

# Param-group entries the schedulers read or write.
WATCHED = (
    "lr",
    "initial_lr",
    "momentum",
    "betas",
    "max_lr",
    "min_lr",
    "max_momentum",
    "base_momentum",
)


def make_optimizer(lib, kind="sgd", lrs=GROUP_LRS):
    """An optimizer with one param group per lr in lrs."""
    groups = [{"params": [lib.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    if kind == "sgd":
        return lib.optim.SGD(groups, lr=0.1, momentum=0.9)
    if kind == "adam":
        return lib.optim.Adam(groups, lr=0.1)
    assert kind == "plain_sgd"
    return lib.optim.SGD(groups, lr=0.1)


def snapshot(opt, sched):
    groups = [{k: g[k] for k in WATCHED if k in g} for g in opt.param_groups]
    # A ChainedScheduler has no epoch counter of its own.
    return getattr(sched, "last_epoch", None), sched.get_last_lr(), groups


def run(lib, build, steps=100, kind="sgd", metrics=None, lrs=GROUP_LRS):
    """Snapshots of the schedule: after construction and after each step."""
    opt = make_optimizer(lib, kind, lrs)
    sched = build(lib.optim.lr_scheduler, opt)
    trace = [snapshot(opt, sched)]
    for i in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics(lib, i))
        trace.append(snapshot(opt, sched))
    return trace


def assert_same_run(build, **kwargs):
    want = run(torch, build, **kwargs)
    got = run(gdlite, build, **kwargs)
    assert got == want
    assert repr(got) == repr(want)


# (id, build(lr_scheduler_module, optimizer)): several parameter choices each.
SCHEDULES = [
    ("step_7", lambda M, o: M.StepLR(o, step_size=7)),
    ("step_3_gamma", lambda M, o: M.StepLR(o, 3, gamma=0.7)),
    ("step_1", lambda M, o: M.StepLR(o, 1, gamma=0.95)),
    ("multistep", lambda M, o: M.MultiStepLR(o, [3, 10, 40], gamma=0.3)),
    ("multistep_repeated", lambda M, o: M.MultiStepLR(o, [30, 5, 30, 0, 99])),
    ("constant", lambda M, o: M.ConstantLR(o)),
    ("constant_0.3_17", lambda M, o: M.ConstantLR(o, factor=0.3, total_iters=17)),
    ("constant_zero_iters", lambda M, o: M.ConstantLR(o, 0.5, total_iters=0)),
    ("linear", lambda M, o: M.LinearLR(o)),
    ("linear_up", lambda M, o: M.LinearLR(o, 0.1, 1.0, total_iters=37)),
    ("linear_down", lambda M, o: M.LinearLR(o, 1.0, 0.05, total_iters=60)),
    ("linear_long", lambda M, o: M.LinearLR(o, 0.25, 0.75, total_iters=150)),
    ("exponential", lambda M, o: M.ExponentialLR(o, gamma=0.97)),
    ("exponential_up", lambda M, o: M.ExponentialLR(o, gamma=1.01)),
    ("polynomial", lambda M, o: M.PolynomialLR(o)),
    ("polynomial_sq", lambda M, o: M.PolynomialLR(o, total_iters=40, power=2.0)),
    ("polynomial_root", lambda M, o: M.PolynomialLR(o, total_iters=99, power=0.5)),
    ("cosine", lambda M, o: M.CosineAnnealingLR(o, T_max=10)),
    ("cosine_eta", lambda M, o: M.CosineAnnealingLR(o, T_max=33, eta_min=0.01)),
    ("cosine_long", lambda M, o: M.CosineAnnealingLR(o, T_max=100, eta_min=1e-4)),
    ("cosine_1", lambda M, o: M.CosineAnnealingLR(o, T_max=1)),
    ("lambda", lambda M, o: M.LambdaLR(o, lambda e: 0.95**e)),
    (
        "lambda_per_group",
        lambda M, o: M.LambdaLR(
            o, [lambda e: e // 30, lambda e: 1 / (1 + e), lambda e: min(1.0, e / 10)]
        ),
    ),
    ("multiplicative", lambda M, o: M.MultiplicativeLR(o, lambda e: 0.95)),
    (
        "multiplicative_per_group",
        lambda M, o: M.MultiplicativeLR(
            o, (lambda e: 0.9, lambda e: 1.0 + e / 1000, lambda e: 0.5 if e % 10 else 2)
        ),
    ),
    ("warm_restarts", lambda M, o: M.CosineAnnealingWarmRestarts(o, T_0=10)),
    (
        "warm_restarts_mult",
        lambda M, o: M.CosineAnnealingWarmRestarts(o, 3, T_mult=2, eta_min=0.001),
    ),
    ("warm_restarts_1", lambda M, o: M.CosineAnnealingWarmRestarts(o, 1, 3)),
    ("cyclic", lambda M, o: M.CyclicLR(o, 0.01, 0.1, step_size_up=7)),
    (
        "cyclic_triangular2",
        lambda M, o: M.CyclicLR(
            o, [0.01, 0.02, 0.001], 0.2, 5, step_size_down=9, mode="triangular2"
        ),
    ),
    (
        "cyclic_exp_range",
        lambda M, o: M.CyclicLR(
            o, 0.001, [0.1, 0.2, 0.3], 6, mode="exp_range", gamma=0.98
        ),
    ),
    (
        "cyclic_scale_fn",
        lambda M, o: M.CyclicLR(
            o, 0.01, 0.1, 4, scale_fn=lambda x: 1 / (1 + x), scale_mode="iterations"
        ),
    ),
    (
        "cyclic_momentum",
        lambda M, o: M.CyclicLR(
            o, 0.01, 0.1, 8, base_momentum=[0.7, 0.75, 0.8], max_momentum=0.95
        ),
    ),
    ("one_cycle", lambda M, o: M.OneCycleLR(o, max_lr=0.5, total_steps=100)),
    (
        "one_cycle_linear",
        lambda M, o: M.OneCycleLR(
            o, [0.5, 0.1, 1.0], epochs=10, steps_per_epoch=10, anneal_strategy="linear"
        ),
    ),
    (
        "one_cycle_three_phase",
        lambda M, o: M.OneCycleLR(
            o, 0.4, total_steps=120, pct_start=0.25, three_phase=True
        ),
    ),
    (
        "one_cycle_momentum",
        lambda M, o: M.OneCycleLR(
            o,
            0.3,
            total_steps=100,
            base_momentum=[0.8, 0.85, 0.7],
            max_momentum=0.99,
            div_factor=10.0,
            final_div_factor=100.0,
        ),
    ),
]


@pytest.mark.parametrize(
    "build", [b for _, b in SCHEDULES], ids=[i for i, _ in SCHEDULES]
)
def test_schedule_matches_torch(build):
    assert_same_run(build)


@pytest.mark.parametrize(
    "build",
    [
        lambda M, o: M.OneCycleLR(o, 0.5, total_steps=100),
        lambda M, o: M.OneCycleLR(o, 0.5, total_steps=110, three_phase=True),
        lambda M, o: M.CyclicLR(o, 0.01, 0.1, 5, mode="triangular2"),
        lambda M, o: M.CyclicLR(o, 0.01, 0.1, 5, base_momentum=0.5, max_momentum=0.6),
    ],
)
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_momentum_cycling_matches_torch(build, kind):
    # SGD cycles group["momentum"]; Adam cycles betas[0] and keeps betas[1].
    assert_same_run(build, kind=kind)


@pytest.mark.parametrize(
    "build",
    [
        lambda M, o: M.OneCycleLR(o, 0.5, total_steps=100, cycle_momentum=False),
        lambda M, o: M.CyclicLR(o, 0.01, 0.1, 5, cycle_momentum=False),
    ],
)
def test_without_momentum_cycling_matches_torch(build):
    assert_same_run(build, kind="plain_sgd")


@pytest.mark.parametrize("lrs", [(0.1,), (0.2, 0.02), (1.0, 0.5, 0.25, 1e-3)])
def test_group_count(lrs):
    assert_same_run(lambda M, o: M.CosineAnnealingLR(o, 12, eta_min=0.005), lrs=lrs)
    assert_same_run(lambda M, o: M.OneCycleLR(o, 0.9, total_steps=100), lrs=lrs)


def two_schedulers(M, o):
    """Two schedulers on one optimizer, stepped in turn by the loop below."""

    class Both:
        def __init__(self):
            self.a = M.LinearLR(o, 0.2, total_iters=10)
            self.b = M.MultiStepLR(o, [20, 50], gamma=0.5)
            self.last_epoch = (self.a.last_epoch, self.b.last_epoch)

        def step(self):
            self.a.step()
            self.b.step()
            self.last_epoch = (self.a.last_epoch, self.b.last_epoch)

        def get_last_lr(self):
            return self.a.get_last_lr(), self.b.get_last_lr()

    return Both()


COMBINED = [
    ("two_schedulers", two_schedulers),
    (
        "chained",
        lambda M, o: M.ChainedScheduler(
            [M.ConstantLR(o, 0.1, total_iters=4), M.ExponentialLR(o, 0.9)]
        ),
    ),
    (
        "chained_three",
        lambda M, o: M.ChainedScheduler(
            [
                M.LinearLR(o, 0.5, total_iters=20),
                M.CosineAnnealingLR(o, 30),
                M.StepLR(o, 25, 0.5),
            ],
            optimizer=o,
        ),
    ),
    (
        "sequential",
        lambda M, o: M.SequentialLR(
            o, [M.LinearLR(o, 0.1, total_iters=5), M.CosineAnnealingLR(o, 50)], [5]
        ),
    ),
    (
        "sequential_three",
        lambda M, o: M.SequentialLR(
            o,
            [
                M.ConstantLR(o, 0.1, total_iters=2),
                M.ExponentialLR(o, 0.9),
                M.StepLR(o, 4, 0.5),
            ],
            milestones=[10, 40],
        ),
    ),
    (
        "sequential_lambda",
        lambda M, o: M.SequentialLR(
            o,
            [M.LambdaLR(o, lambda e: 1 / (e + 1)), M.PolynomialLR(o, 30, 2.0)],
            [25],
        ),
    ),
    (
        "sequential_restarts",
        lambda M, o: M.SequentialLR(
            o,
            [M.ExponentialLR(o, 0.8), M.CosineAnnealingWarmRestarts(o, 7, 2)],
            [12],
        ),
    ),
    (
        "sequential_of_chained",
        lambda M, o: M.SequentialLR(
            o,
            [
                M.ChainedScheduler([M.LinearLR(o, 0.5), M.ExponentialLR(o, 0.99)]),
                M.MultiStepLR(o, [30, 60]),
            ],
            [15],
        ),
    ),
    (
        "chained_with_sequential",
        lambda M, o: M.ChainedScheduler(
            [
                M.SequentialLR(
                    o, [M.LinearLR(o, 0.25), M.CosineAnnealingLR(o, 40)], [10]
                ),
                M.StepLR(o, 33, 0.5),
            ]
        ),
    ),
]


# A SequentialLR steps its chained schedulers outside the loop (warned as torch does).
@pytest.mark.filterwarnings("ignore:Detected call of")
@pytest.mark.parametrize(
    "build", [b for _, b in COMBINED], ids=[i for i, _ in COMBINED]
)
def test_combined_schedules_match_torch(build):
    assert_same_run(build)


def plateau_metric(lib, i, sign=1.0, as_tensor=False):
    """A loss that improves in steps with noise and long plateaus."""
    value = sign * (1.0 / (1 + i // 9) + 0.003 * ((i * 37) % 11))
    return lib.tensor(value) if as_tensor else value


PLATEAU = [
    {},
    {"mode": "max"},
    {"threshold_mode": "abs", "threshold": 0.01},
    {"mode": "max", "threshold_mode": "abs", "threshold": 0.002},
    {"mode": "max", "threshold_mode": "rel", "threshold": 0.05, "patience": 1},
    {"patience": 0, "factor": 0.5},
    {"patience": 2, "cooldown": 3, "factor": 0.7},
    {"patience": 1, "min_lr": 0.02},
    {"patience": 1, "min_lr": [0.05, 0.001, 0.3], "factor": 0.3},
    {"patience": 0, "eps": 0.01, "factor": 0.8},
    {"threshold": 0.0, "patience": 3, "cooldown": 1},
]


@pytest.mark.parametrize("kwargs", PLATEAU, ids=[str(k) for k in PLATEAU])
def test_reduce_on_plateau_matches_torch(kwargs):
    sign = -1.0 if kwargs.get("mode") == "max" else 1.0

    def metrics(lib, i):
        return plateau_metric(lib, i, sign)

    assert_same_run(
        lambda M, o: M.ReduceLROnPlateau(o, **kwargs), metrics=metrics, kind="adam"
    )


def test_reduce_on_plateau_tensor_metric_and_state():
    def metrics(lib, i):
        return plateau_metric(lib, i, as_tensor=True)

    def build(M, o):
        return M.ReduceLROnPlateau(o, patience=1, cooldown=2)

    assert_same_run(build, metrics=metrics)

    def final_state(lib):
        opt = make_optimizer(lib)
        sched = build(lib.optim.lr_scheduler, opt)
        for i in range(40):
            sched.step(plateau_metric(lib, i))
        return sched.state_dict(), sched.in_cooldown

    assert final_state(gdlite) == final_state(torch)


# Deprecated step(epoch): the closed form where a scheduler has one, get_lr
# (chainable) otherwise; epochs jump around, back and forth.
EPOCHS = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 0, 7, 7, 100, 4, 40, 41, 20]
CLOSED = [
    lambda M, o: M.StepLR(o, 5, 0.5),
    lambda M, o: M.MultiStepLR(o, [3, 8, 8, 50], 0.5),
    lambda M, o: M.ConstantLR(o, 0.25, 10),
    lambda M, o: M.LinearLR(o, 0.2, 0.8, 30),
    lambda M, o: M.ExponentialLR(o, 0.9),
    lambda M, o: M.PolynomialLR(o, 45, 1.5),
    lambda M, o: M.CosineAnnealingLR(o, 30, 0.01),
    lambda M, o: M.LambdaLR(o, lambda e: 1 / (e + 1)),
    lambda M, o: M.MultiplicativeLR(o, lambda e: 0.9),
]


@pytest.mark.parametrize("build", CLOSED)
def test_step_with_epoch_matches_torch(build):
    def trace(lib):
        opt = make_optimizer(lib)
        sched = build(lib.optim.lr_scheduler, opt)
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in EPOCHS:
                opt.step()
                sched.step(epoch)
                out.append(snapshot(opt, sched))
                sched.step()
                out.append(snapshot(opt, sched))
        return out

    want, got = trace(torch), trace(gdlite)
    assert got == want and repr(got) == repr(want)


@pytest.mark.parametrize("t_mult", [1, 2, 3])
def test_warm_restarts_with_epoch_matches_torch(t_mult):
    # This scheduler takes fractional epochs (steps within an epoch).
    epochs = [0.5, 1, 1.25, 2.75, 4, 9.5, 10, 23, 3, 70.125, 12]

    def trace(lib):
        opt = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, 4, t_mult, 1e-3)
        out = []
        for epoch in epochs:
            sched.step(epoch)
            out.append((sched.T_cur, sched.T_i, snapshot(opt, sched)))
            sched.step()
            out.append((sched.T_cur, sched.T_i, snapshot(opt, sched)))
        return out

    want, got = trace(torch), trace(gdlite)
    assert got == want and repr(got) == repr(want)


@pytest.mark.parametrize(
    "build",
    [
        lambda M, o, e: M.CosineAnnealingLR(o, 20, 0.01, last_epoch=e),
        lambda M, o, e: M.StepLR(o, 4, last_epoch=e),
        lambda M, o, e: M.ExponentialLR(o, 0.9, last_epoch=e),
        lambda M, o, e: M.LinearLR(o, 0.5, total_iters=30, last_epoch=e),
        lambda M, o, e: M.OneCycleLR(o, 0.5, total_steps=100, last_epoch=e),
        lambda M, o, e: M.CyclicLR(o, 0.01, 0.1, 6, last_epoch=e),
        lambda M, o, e: M.CosineAnnealingWarmRestarts(o, 6, 2, last_epoch=e),
    ],
)
def test_resume_with_last_epoch_matches_torch(build):
    """A scheduler built with last_epoch >= 0 continues from group["initial_lr"]."""

    def trace(lib):
        opt = make_optimizer(lib)
        first = build(lib.optim.lr_scheduler, opt, -1)
        for _ in range(12):
            opt.step()
            first.step()
        resumed = build(lib.optim.lr_scheduler, opt, first.last_epoch)
        out = [snapshot(opt, resumed)]
        for _ in range(30):
            opt.step()
            resumed.step()
            out.append(snapshot(opt, resumed))
        return out

    want, got = trace(torch), trace(gdlite)
    assert got == want and repr(got) == repr(want)


def test_custom_subclass_matches_torch():
    """A user scheduler written against the base class, as in course notebooks."""

    def trace(lib):
        class Warmup(lib.optim.lr_scheduler.LRScheduler):
            def __init__(self, optimizer, warmup, last_epoch=-1):
                self.warmup = warmup
                super().__init__(optimizer, last_epoch)

            def get_lr(self):
                scale = min(1.0, (self.last_epoch + 1) / self.warmup)
                return [base * scale for base in self.base_lrs]

        opt = make_optimizer(lib)
        sched = Warmup(opt, 8)
        out = [snapshot(opt, sched)]
        for _ in range(20):
            opt.step()
            sched.step()
            out.append(snapshot(opt, sched))
        return out, sched.state_dict()

    assert trace(gdlite) == trace(torch)
