"""Scheduler state dicts, warnings and errors against torch.optim.lr_scheduler.

Each scenario is a function of the library, run with torch (the oracle) and
with gdlite: the same state-dict layout and values, the same warnings (text,
count, and the line they are attributed to) and the same exceptions.
"""

from __future__ import annotations

import copy
import gc
import pickle
import re
import warnings
import weakref

import pytest
import torch
from test_lr_scheduler import COMBINED, SCHEDULES, make_optimizer, snapshot

import gdlite

ALL_SCHEDULES = SCHEDULES + COMBINED[1:]  # not the two-scheduler loop


def restore_groups(new_opt, old_opt):
    """Carry the param-group hyperparameters over, as an optimizer checkpoint does."""
    for new, old in zip(new_opt.param_groups, old_opt.param_groups, strict=True):
        new.update({k: v for k, v in old.items() if k != "params"})


# A SequentialLR steps its chained schedulers outside the loop (warned as torch does).
@pytest.mark.filterwarnings("ignore:Detected call of")
@pytest.mark.parametrize(
    "build", [b for _, b in ALL_SCHEDULES], ids=[i for i, _ in ALL_SCHEDULES]
)
def test_state_dict_round_trip_continues_identically(build):
    """Stop at step 37, rebuild optimizer and scheduler from the saved state
    (pickled, as a checkpoint is), continue: same as an uninterrupted run."""

    def trace(lib):
        opt = make_optimizer(lib)
        sched = build(lib.optim.lr_scheduler, opt)
        for _ in range(37):
            opt.step()
            sched.step()
        saved = pickle.loads(pickle.dumps(sched.state_dict()))
        layout = copy.deepcopy(saved)
        new_opt = make_optimizer(lib)
        new_sched = build(lib.optim.lr_scheduler, new_opt)
        restore_groups(new_opt, opt)
        new_sched.load_state_dict(saved)
        # Whether load_state_dict leaves its argument as it was (torch's
        # CyclicLR does not: it pops "_scale_fn_custom").
        untouched = saved == layout
        out = []
        for _ in range(63):
            for o, s in ((opt, sched), (new_opt, new_sched)):
                o.step()
                s.step()
            out.append((snapshot(opt, sched), snapshot(new_opt, new_sched)))
        for a, b in out:
            assert a == b
        return layout, untouched, out

    want_state, want_untouched, want = trace(torch)
    got_state, got_untouched, got = trace(gdlite)
    assert got == want
    assert got_untouched == want_untouched
    # The same keys in the same order, the same values.
    assert repr(got_state) == repr(want_state)


def test_plateau_state_dict_round_trip():
    def trace(lib):
        opt = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, "max", patience=1)
        metric = [0.1, 0.2, 0.2, 0.2, 0.3, 0.3, 0.3, 0.3, 0.25, 0.5]
        for m in metric[:5]:
            sched.step(m)
        saved = sched.state_dict()
        new_opt = make_optimizer(lib)
        new_sched = lib.optim.lr_scheduler.ReduceLROnPlateau(new_opt)
        restore_groups(new_opt, opt)
        new_sched.load_state_dict(pickle.loads(pickle.dumps(saved)))
        for m in metric[5:]:
            sched.step(m)
            new_sched.step(m)
            assert snapshot(new_opt, new_sched) == snapshot(opt, sched)
        return repr(saved), new_sched.mode_worse, snapshot(new_opt, new_sched)

    assert trace(gdlite) == trace(torch)


class Scale:
    """A callable object: its attributes are part of the scheduler state."""

    def __init__(self, factor):
        self.factor = factor

    def __call__(self, epoch):
        return self.factor**epoch


@pytest.mark.parametrize("name", ["LambdaLR", "MultiplicativeLR"])
def test_lambda_state_keeps_only_callable_objects(name):
    def trace(lib):
        opt = make_optimizer(lib, lrs=(0.1, 0.2))
        cls = getattr(lib.optim.lr_scheduler, name)
        sched = cls(opt, [Scale(0.9), lambda e: 0.5])
        for _ in range(3):
            opt.step()
            sched.step()
        state = sched.state_dict()
        other = cls(make_optimizer(lib, lrs=(0.1, 0.2)), [Scale(0.3), lambda e: 2.0])
        other.load_state_dict(state)
        return repr(state), other.lr_lambdas[0].factor, other.last_epoch

    got, want = trace(gdlite), trace(torch)
    assert got == want
    assert "'lr_lambdas': [{'factor': 0.9}, None]" in got[0]


def test_cyclic_state_keeps_custom_scale_object():
    def trace(lib):
        opt = make_optimizer(lib)
        M = lib.optim.lr_scheduler
        sched = M.CyclicLR(
            opt, 0.01, 0.1, 4, scale_fn=Scale(0.9), scale_mode="iterations"
        )
        state = sched.state_dict()
        other = M.CyclicLR(make_optimizer(lib), 0.01, 0.1, 4, scale_fn=Scale(0.5))
        other.load_state_dict(state)
        return repr(state), other._scale_fn_custom.factor, other.scale_mode

    assert trace(gdlite) == trace(torch)


def record(scenario, lib):
    """The warnings a scenario raises: (category, message, attributed file)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scenario(lib)
    return [(w.category, str(w.message), w.filename == __file__) for w in caught]


def warn_step_before_optimizer(lib):
    opt = make_optimizer(lib)
    sched = lib.optim.lr_scheduler.StepLR(opt, 2)
    sched.step()
    sched.step()  # warned once only
    opt.step()
    sched.step()


def warn_step_overridden(lib):
    opt = make_optimizer(lib)
    sched = lib.optim.lr_scheduler.ExponentialLR(opt, 0.5)
    opt.step = lambda closure=None: None
    opt.step()
    sched.step()


def warn_epoch_deprecated(lib):
    opt = make_optimizer(lib)
    sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, 10)
    opt.step()
    sched.step(3)
    plateau = lib.optim.lr_scheduler.ReduceLROnPlateau(opt)
    plateau.step(1.0, 5)


def warn_get_lr_outside_step(lib):
    opt = make_optimizer(lib)
    sched = lib.optim.lr_scheduler.LinearLR(opt)
    opt.step()
    sched.step()
    sched.get_lr()
    lib.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=5).get_lr()


def no_warning_in_order(lib):
    opt = make_optimizer(lib)
    a = lib.optim.lr_scheduler.StepLR(opt, 2)
    b = lib.optim.lr_scheduler.ExponentialLR(opt, 0.9)
    for _ in range(3):
        opt.step()
        a.step()
        b.step()
    a.get_last_lr()


def warn_sequential_first_step(lib):
    # SequentialLR's schedulers take their first step outside the training loop.
    opt = make_optimizer(lib)
    M = lib.optim.lr_scheduler
    seq = M.SequentialLR(opt, [M.ExponentialLR(opt, 0.9), M.StepLR(opt, 2)], [3])
    for _ in range(5):
        seq.step()


def custom_step_inside_flag(lib):
    # A scheduler written outside the library calls get_lr within the flag.
    M = lib.optim.lr_scheduler

    class Halving(M.StepLR):
        def step(self, epoch=None):
            self.last_epoch += 1
            with M._enable_get_lr_call(self):
                lrs = self.get_lr()
            for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
                group["lr"] = lr / 2
            self._last_lr = lrs
            self.get_lr()  # outside: warned

    opt = make_optimizer(lib)
    Halving(opt, 2).step()


WARNINGS = [
    custom_step_inside_flag,
    warn_step_before_optimizer,
    warn_step_overridden,
    warn_epoch_deprecated,
    warn_get_lr_outside_step,
    no_warning_in_order,
    warn_sequential_first_step,
]


@pytest.mark.parametrize("scenario", WARNINGS)
def test_warnings_match_torch(scenario):
    want = record(scenario, torch)
    assert record(scenario, gdlite) == want
    for _, message, _ in want:
        with pytest.warns(UserWarning, match=re.escape(message)):
            scenario(gdlite)


def test_optimizer_step_is_wrapped_once():
    """The scheduler marks optimizer steps through a wrapper on the instance."""

    def probe(lib):
        opt = make_optimizer(lib)
        before = opt._opt_called if hasattr(opt, "_opt_called") else None
        lib.optim.lr_scheduler.StepLR(opt, 3)
        wrapper = opt.step
        lib.optim.lr_scheduler.ExponentialLR(opt, 0.9)
        same = opt.step is wrapper
        marked = getattr(opt, "_opt_called", None)
        opt.step()
        return (
            before,
            same,
            wrapper._wrapped_by_lr_sched,
            wrapper.__name__,
            marked,
            opt._opt_called,
        )

    assert probe(gdlite) == probe(torch)


def test_scheduler_creates_no_reference_cycle():
    def probe(lib):
        opt = make_optimizer(lib)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=10)
        alive = weakref.ref(sched)
        gc.disable()
        try:
            del sched
            return alive() is None
        finally:
            gc.enable()

    assert probe(gdlite) is probe(torch) is True


def same_error(scenario):
    """scenario(torch) and scenario(gdlite) raise the same type and message."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as want:
            scenario(torch)
        with pytest.raises(Exception) as got:
            scenario(gdlite)
    assert type(got.value) is type(want.value)
    assert str(got.value) == str(want.value).replace("torch.", "gdlite.")


def sched_of(lib):
    return lib.optim.lr_scheduler


ERRORS = {
    "not_an_optimizer": lambda L: sched_of(L).StepLR([L.zeros(1)], 3),
    "not_an_optimizer_plateau": lambda L: sched_of(L).ReduceLROnPlateau("sgd"),
    "not_an_optimizer_cyclic": lambda L: sched_of(L).CyclicLR(None, 0.1, 1.0),
    "not_an_optimizer_one_cycle": lambda L: sched_of(L).OneCycleLR(3, 0.1, 10),
    "lambda_count": lambda L: sched_of(L).LambdaLR(make_optimizer(L), [abs]),
    "multiplicative_count": lambda L: sched_of(L).MultiplicativeLR(
        make_optimizer(L), (abs, abs)
    ),
    "multiplicative_not_callable": lambda L: sched_of(L).MultiplicativeLR(
        make_optimizer(L), 0.9
    ),
    "constant_factor": lambda L: sched_of(L).ConstantLR(make_optimizer(L), 1.5),
    "constant_negative": lambda L: sched_of(L).ConstantLR(make_optimizer(L), -0.1),
    "linear_start": lambda L: sched_of(L).LinearLR(make_optimizer(L), 0.0),
    "linear_end": lambda L: sched_of(L).LinearLR(make_optimizer(L), 0.5, 1.2),
    "plateau_factor": lambda L: sched_of(L).ReduceLROnPlateau(
        make_optimizer(L), factor=1.0
    ),
    "plateau_mode": lambda L: sched_of(L).ReduceLROnPlateau(make_optimizer(L), "mid"),
    "plateau_threshold_mode": lambda L: sched_of(L).ReduceLROnPlateau(
        make_optimizer(L), threshold_mode="ratio"
    ),
    "plateau_min_lrs": lambda L: sched_of(L).ReduceLROnPlateau(
        make_optimizer(L), min_lr=[0.1]
    ),
    "warm_restarts_t0": lambda L: sched_of(L).CosineAnnealingWarmRestarts(
        make_optimizer(L), 0
    ),
    "warm_restarts_t0_float": lambda L: sched_of(L).CosineAnnealingWarmRestarts(
        make_optimizer(L), 2.0
    ),
    "warm_restarts_t_mult": lambda L: sched_of(L).CosineAnnealingWarmRestarts(
        make_optimizer(L), 2, 0
    ),
    "warm_restarts_eta_min": lambda L: sched_of(L).CosineAnnealingWarmRestarts(
        make_optimizer(L), 2, eta_min="0"
    ),
    "warm_restarts_negative_epoch": lambda L: (
        sched_of(L).CosineAnnealingWarmRestarts(make_optimizer(L), 2).step(-1)
    ),
    "cosine_t_max_zero": lambda L: (
        sched_of(L).CosineAnnealingLR(make_optimizer(L), 0).step()
    ),
    "one_cycle_total_steps": lambda L: sched_of(L).OneCycleLR(
        make_optimizer(L), 0.1, 0
    ),
    "one_cycle_no_length": lambda L: sched_of(L).OneCycleLR(make_optimizer(L), 0.1),
    "one_cycle_epochs": lambda L: sched_of(L).OneCycleLR(
        make_optimizer(L), 0.1, epochs=0, steps_per_epoch=3
    ),
    "one_cycle_steps_per_epoch": lambda L: sched_of(L).OneCycleLR(
        make_optimizer(L), 0.1, epochs=2, steps_per_epoch=2.5
    ),
    "one_cycle_pct_start": lambda L: sched_of(L).OneCycleLR(
        make_optimizer(L), 0.1, 10, pct_start=1
    ),
    "one_cycle_anneal": lambda L: sched_of(L).OneCycleLR(
        make_optimizer(L), 0.1, 10, anneal_strategy="cosine"
    ),
    "one_cycle_max_lr_count": lambda L: sched_of(L).OneCycleLR(
        make_optimizer(L), [0.1, 0.2], 10
    ),
    "one_cycle_no_momentum": lambda L: sched_of(L).OneCycleLR(
        L.optim.Adagrad([L.zeros(1, requires_grad=True)]), 0.1, 10
    ),
    "cyclic_no_momentum": lambda L: sched_of(L).CyclicLR(
        L.optim.Adagrad([L.zeros(1, requires_grad=True)]), 0.1, 1.0
    ),
    "cyclic_mode": lambda L: sched_of(L).CyclicLR(
        make_optimizer(L), 0.1, 1.0, mode="up"
    ),
    "cyclic_base_lr_count": lambda L: sched_of(L).CyclicLR(
        make_optimizer(L), [0.1], 1.0
    ),
    "sequential_empty": lambda L: sched_of(L).SequentialLR(make_optimizer(L), [], []),
    "chained_empty": lambda L: sched_of(L).ChainedScheduler([]),
    "sequential_milestones": lambda L: (
        lambda o: sched_of(L).SequentialLR(o, [sched_of(L).StepLR(o, 2)], [3])
    )(make_optimizer(L)),
    "sequential_no_optimizer": lambda L: (
        lambda o: sched_of(L).SequentialLR(o, [sched_of(L).StepLR(o, 2), 5], [3])
    )(make_optimizer(L)),
    "chained_plateau": lambda L: (
        lambda o: sched_of(L).ChainedScheduler(
            [sched_of(L).StepLR(o, 2), sched_of(L).ReduceLROnPlateau(o)]
        )
    )(make_optimizer(L)),
    "resume_without_initial_lr": lambda L: sched_of(L).StepLR(
        make_optimizer(L), 2, last_epoch=4
    ),
    "base_class_get_lr": lambda L: sched_of(L).LRScheduler(make_optimizer(L)),
}


@pytest.mark.parametrize("scenario", list(ERRORS.values()), ids=list(ERRORS))
def test_errors_match_torch(scenario):
    same_error(scenario)


def one_cycle_past_the_end(lib):
    opt = make_optimizer(lib)
    sched = lib.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=4)
    for _ in range(5):
        opt.step()
        sched.step()


def plateau_group_added(lib):
    opt = make_optimizer(lib, lrs=(0.1,))
    sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=[0.0])
    opt.add_param_group({"params": [lib.zeros(1, requires_grad=True)], "lr": 0.5})
    sched.step(1.0)
    sched.step(2.0)


@pytest.mark.parametrize("scenario", [one_cycle_past_the_end, plateau_group_added])
def test_errors_while_stepping_match_torch(scenario):
    same_error(scenario)


def test_schedulers_of_different_optimizers_rejected():
    """The message shows the other optimizer's repr: compare with each library's own."""

    def scenario(lib, cls):
        M = lib.optim.lr_scheduler
        a, b = make_optimizer(lib), make_optimizer(lib, lrs=(0.5, 0.4, 0.3))
        other = M.ExponentialLR(b, 0.9)
        try:
            if cls == "SequentialLR":
                M.SequentialLR(a, [M.StepLR(a, 2), other], [3])
            else:
                M.ChainedScheduler([M.StepLR(a, 2), other])
        except ValueError as e:
            return str(e).replace(repr(b), "<optimizer b>")
        return None

    for cls in ("SequentialLR", "ChainedScheduler"):
        want = scenario(torch, cls)
        assert want is not None and "<optimizer b>" in want
        assert scenario(gdlite, cls) == want


def test_names_and_aliases():
    M = gdlite.optim.lr_scheduler
    T = torch.optim.lr_scheduler
    assert M.__all__ == T.__all__
    assert M.EPOCH_DEPRECATION_WARNING == T.EPOCH_DEPRECATION_WARNING
    assert M._LRScheduler.__name__ == "_LRScheduler"
    assert issubclass(M._LRScheduler, M.LRScheduler)
    for name in M.__all__:
        cls = getattr(M, name)
        assert cls.__module__ == "gdlite.optim.lr_scheduler"
        assert issubclass(cls, M.LRScheduler)
