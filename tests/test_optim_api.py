"""The Optimizer API against torch.optim: state_dict layout and round trips,
group edits, closures, hooks, zero_grad, repr and constructor errors."""

from __future__ import annotations

import copy
import importlib
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import torch
from optim_oracle import assert_state_like, leaf_pair, run_pair
from torch_oracle import same_error

import gdlite as G

ALL = ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "NAdam", "Adamax"]
OPTIONS = {
    "SGD": dict(lr=0.1, momentum=0.9, nesterov=True),
    "Adam": dict(lr=0.01, amsgrad=True),
    "AdamW": dict(lr=0.01),
    "Adagrad": dict(lr=0.1, lr_decay=0.01),
    "RMSprop": dict(lr=0.01, momentum=0.3, centered=True),
    "Adadelta": dict(),
    "NAdam": dict(lr=0.01),
    "Adamax": dict(lr=0.01),
}


def layout(sd: dict) -> tuple:
    """What a state_dict holds, torch spelled as gdlite: keys, ids, types."""

    def kind(v: object) -> object:
        if isinstance(v, (torch.Tensor, G.Tensor)):
            return (
                "tensor",
                repr(v.dtype).replace("torch.", "gdlite."),
                tuple(v.shape),
            )
        return repr(v)

    state = {
        k: [(key, kind(v)) for key, v in s.items()] for k, s in sd["state"].items()
    }
    groups = [
        {k: kind(v) if k != "params" else v for k, v in g.items()}
        for g in sd["param_groups"]
    ]
    return list(sd), state, groups


@pytest.mark.parametrize("name", ALL)
def test_state_dict_layout_matches_torch(name: str) -> None:
    gopt, topt, _, _ = run_pair(
        name,
        OPTIONS[name],
        [(3,), (2, 2), (4,)],
        steps=2,
        groups=lambda ps: [{"params": ps[:2]}, {"params": ps[2:], "lr": 0.5}],
    )
    assert layout(gopt.state_dict()) == layout(topt.state_dict())


@pytest.mark.parametrize("fresh", [False, True], ids=["same", "fresh"])
@pytest.mark.parametrize("name", ALL)
def test_state_dict_round_trip_continues_identically(name: str, fresh: bool) -> None:
    gopt, topt, gps, tps = run_pair(name, OPTIONS[name], [(5,), (2, 3)], steps=4)
    gsd, tsd = copy.deepcopy(gopt.state_dict()), copy.deepcopy(topt.state_dict())
    if fresh:
        # A new optimizer over new leaves with the same values takes the state.
        pairs = [leaf_pair(p.detach().numpy().copy()) for p in tps]
        tps, gps = [t for t, _ in pairs], [g for _, g in pairs]
        topt = getattr(torch.optim, name)(tps, lr=123.0)
        gopt = getattr(G.optim, name)(gps, lr=123.0)
    topt.load_state_dict(tsd)
    gopt.load_state_dict(gsd)
    assert gopt.param_groups[0]["lr"] == topt.param_groups[0]["lr"]
    rng = np.random.default_rng(5)
    for _ in range(4):
        for tp, gp in zip(tps, gps, strict=True):
            g = rng.standard_normal(tuple(tp.shape)).astype("float32")
            tp.grad, gp.grad = torch.tensor(g), G.tensor(g)
        topt.step()
        gopt.step()
        assert_state_like(gopt, topt, gps, tps, exact=name in ("SGD", "Adamax"))


def test_load_state_dict_casts_state_to_param_dtype() -> None:
    gopt, topt, _, _ = run_pair("Adam", {}, [(3,)], dtype="float64", steps=2)
    tp32, gp32 = leaf_pair(np.zeros(3, "float32"))
    t2, g2 = torch.optim.Adam([tp32]), G.optim.Adam([gp32])
    t2.load_state_dict(topt.state_dict())
    g2.load_state_dict(gopt.state_dict())
    assert_state_like(g2, t2, [gp32], [tp32], exact=False)


def test_load_state_dict_errors() -> None:
    def bad_groups(m: object) -> None:
        a = m.zeros(2, requires_grad=True)
        m.optim.SGD([a]).load_state_dict({"state": {}, "param_groups": []})

    def bad_sizes(m: object) -> None:
        a = m.zeros(2, requires_grad=True)
        sd = m.optim.SGD([a]).state_dict()
        sd["param_groups"][0]["params"] = [0, 1]
        m.optim.SGD([a]).load_state_dict(sd)

    same_error(bad_groups)
    same_error(bad_sizes)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_editing_lr_mid_run_takes_effect(name: str) -> None:
    gopt, topt, gps, tps = run_pair(name, OPTIONS[name], [(4,)], steps=3)
    for opt in (gopt, topt):
        opt.param_groups[0]["lr"] = 0.5
        opt.param_groups[0]["weight_decay"] = 0.25
    g = np.linspace(-1, 1, 4).astype("float32")
    for _ in range(3):
        tps[0].grad, gps[0].grad = torch.tensor(g), G.tensor(g)
        topt.step()
        gopt.step()
    assert_state_like(gopt, topt, gps, tps, exact=name == "SGD")


def test_grad_none_is_skipped_and_gets_no_state() -> None:
    for name in ALL:
        tp, gp = leaf_pair(np.ones(3, "float32"))
        tq, gq = leaf_pair(np.ones(2, "float32"))
        topt = getattr(torch.optim, name)([tp, tq], **OPTIONS[name])
        gopt = getattr(G.optim, name)([gp, gq], **OPTIONS[name])
        tp.grad, gp.grad = torch.ones(3), G.ones(3)
        topt.step()
        gopt.step()
        assert_state_like(
            gopt, topt, [gp, gq], [tp, tq], exact=name in ("SGD", "Adamax")
        )
        assert gq.grad is None


def test_closure_runs_with_grad_enabled_and_returns_its_loss() -> None:
    def run(m: object) -> tuple:
        w = m.tensor([1.0, -2.0], requires_grad=True)
        opt = m.optim.SGD([w], lr=0.1)

        def closure() -> object:
            opt.zero_grad()
            loss = (w * w).sum()
            loss.backward()
            return loss

        with m.no_grad():
            loss = opt.step(closure)
        return float(loss.detach()), w.detach().tolist()

    assert run(G) == run(torch)


def test_step_hooks_match_torch() -> None:
    def record(m: object) -> list:
        calls: list = []
        w = m.tensor([1.0], requires_grad=True)
        w.grad = m.tensor([1.0])
        opt = m.optim.SGD([w], lr=1.0)
        h1 = opt.register_step_pre_hook(
            lambda o, a, k: calls.append(("pre", len(a), k))
        )
        opt.register_step_post_hook(lambda o, a, k: calls.append(("post", o is opt)))
        module = importlib.import_module(m.__name__ + ".optim.optimizer")
        g = module.register_optimizer_step_pre_hook(
            lambda o, a, k: calls.append(("global pre",))
        )
        opt.step()
        h1.remove()
        g.remove()
        opt.step()
        # A pre hook may replace the arguments: here a closure.
        opt.register_step_pre_hook(lambda o, a, k: ((a[0],), {"closure": lambda: 7.0}))
        calls.append(("loss", opt.step()))
        calls.append(("w", float(w.detach()[0])))
        return calls

    assert record(G) == record(torch)


def test_zero_grad() -> None:
    for m in (torch, G):
        w = m.tensor([1.0, 2.0], requires_grad=True)
        opt = m.optim.Adam([w])
        w.grad = m.tensor([3.0, 4.0])
        g = w.grad
        opt.zero_grad(set_to_none=False)
        assert w.grad is g and w.grad.tolist() == [0.0, 0.0]
        opt.zero_grad()
        assert w.grad is None


@pytest.mark.parametrize("name", ALL)
def test_repr_and_defaults_match_torch(name: str) -> None:
    tp, gp = leaf_pair(np.ones(2, "float32"))
    topt = getattr(torch.optim, name)([tp], **OPTIONS[name])
    gopt = getattr(G.optim, name)([gp], **OPTIONS[name])
    assert repr(gopt) == repr(topt)
    assert repr(gopt.defaults) == repr(topt.defaults)


def test_add_param_group_and_state_keys() -> None:
    for m in (torch, G):
        a, b = m.zeros(2, requires_grad=True), m.zeros(3, requires_grad=True)
        opt = m.optim.SGD([a], lr=0.1, momentum=0.9)
        opt.add_param_group({"params": b, "lr": 0.5})
        assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
        assert opt.param_groups[1]["momentum"] == 0.9
        a.grad, b.grad = m.ones(2), m.ones(3)
        opt.step()
        assert list(opt.state[b]) == ["momentum_buffer"]


def test_duplicate_parameter_in_a_group_warns() -> None:
    for m in (torch, G):
        a = m.zeros(2, requires_grad=True)
        with pytest.warns(UserWarning, match="duplicate parameters"):
            m.optim.SGD([a, a], lr=0.1)


CONSTRUCTOR_ERRORS = [
    lambda m: m.optim.SGD(m.zeros(2, requires_grad=True)),
    lambda m: m.optim.SGD(m.zeros(2, dtype=m.float64, requires_grad=True)),
    lambda m: m.optim.Adam([]),
    lambda m: m.optim.SGD([1.0]),
    lambda m: m.optim.SGD([m.zeros(2, requires_grad=True) * 2]),
    lambda m: m.optim.SGD([m.zeros(2, requires_grad=True)], lr=-0.1),
    lambda m: m.optim.SGD([m.zeros(2, requires_grad=True)], momentum=-0.5),
    lambda m: m.optim.SGD([m.zeros(2, requires_grad=True)], weight_decay=-1),
    lambda m: m.optim.SGD([m.zeros(2, requires_grad=True)], nesterov=True),
    lambda m: m.optim.SGD([m.zeros(2, requires_grad=True)], 0.1, 0.9, 0.1, 0, True),
    lambda m: m.optim.SGD([m.zeros(2, requires_grad=True)], fused=True, foreach=True),
    lambda m: m.optim.Adam(
        [m.zeros(2, requires_grad=True)], fused=True, differentiable=True
    ),
    lambda m: m.optim.Adam([m.zeros(2, requires_grad=True)], lr=-1e-3),
    lambda m: m.optim.Adam([m.zeros(2, requires_grad=True)], eps=-1.0),
    lambda m: m.optim.Adam([m.zeros(2, requires_grad=True)], betas=(1.0, 0.9)),
    lambda m: m.optim.Adam([m.zeros(2, requires_grad=True)], betas=(0.9, -0.1)),
    lambda m: m.optim.Adam([m.zeros(2, requires_grad=True)], betas=(0, 0.9)),
    lambda m: m.optim.AdamW([m.zeros(2, requires_grad=True)], weight_decay=-0.1),
    lambda m: m.optim.Adagrad([m.zeros(2, requires_grad=True)], lr_decay=-1),
    lambda m: m.optim.Adagrad(
        [m.zeros(2, requires_grad=True)], initial_accumulator_value=-1
    ),
    lambda m: m.optim.RMSprop([m.zeros(2, requires_grad=True)], alpha=-1),
    lambda m: m.optim.RMSprop([m.zeros(2, requires_grad=True)], momentum=-1),
    lambda m: m.optim.Adadelta([m.zeros(2, requires_grad=True)], rho=1.5),
    lambda m: m.optim.NAdam([m.zeros(2, requires_grad=True)], momentum_decay=-1),
    lambda m: m.optim.Adamax([m.zeros(2, requires_grad=True)], betas=(0.9, 1.0)),
    lambda m: m.optim.SGD(
        [{"params": [p := m.zeros(2, requires_grad=True)]}, {"params": [p]}], lr=0.1
    ),
    lambda m: m.optim.SGD([{"params": {m.zeros(2, requires_grad=True)}}], lr=0.1),
    lambda m: m.optim.SGD([m.zeros(2, requires_grad=True)]).add_param_group([1]),
    lambda m: m.optim.SGD([m.zeros(2, requires_grad=True)], lr=m.tensor([0.1, 0.2])),
]


@pytest.mark.parametrize("make", CONSTRUCTOR_ERRORS)
def test_constructor_errors_match_torch(make: object) -> None:
    same_error(make)


def test_fused_refuses_integer_parameters_with_grads() -> None:
    def step(m: object) -> None:
        p = m.zeros(3, dtype=m.int64)
        p.grad = m.zeros(3, dtype=m.int64)
        m.optim.Adam([p], fused=True).step()

    same_error(step)


def test_implementation_keywords_are_accepted() -> None:
    w = G.zeros(2, requires_grad=True)
    for kw in (
        dict(foreach=False),
        dict(fused=True),
        dict(capturable=False),
        dict(differentiable=False),
    ):
        G.optim.Adam([w], **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        G.optim.Adagrad([w], fused=True)


HOSTILE = """
import gdlite as G
w = G.zeros(3, requires_grad=True)
w.grad = G.ones(3)
opt = G.optim.Adam([w])
opt.step()
{change}
print(w.tolist())
try:
    opt.step()
except Exception as e:
    print(type(e).__name__, e)
print(w.tolist())
"""


@pytest.mark.parametrize(
    "change,error",
    [
        (
            "opt.state[w]['exp_avg'] = G.zeros(4)",
            "RuntimeError adam: exp_avg of parameter 0 has shape [4]",
        ),
        (
            "opt.state[w]['exp_avg_sq'] = G.zeros(3, dtype=G.float64)",
            "RuntimeError adam:",
        ),
        (
            "opt.state[w]['exp_avg'] = 1.0",
            "TypeError optimizer state 'exp_avg' must be a Tensor",
        ),
        ("del opt.state[w]['exp_avg']", "KeyError 'exp_avg'"),
        ("opt.state[w]['step'] = G.zeros(2)", "RuntimeError adam: step of parameter 0"),
        ("opt.state = None", "TypeError optimizer state must be a dict"),
        ("opt.param_groups[0]['params'] = 5", "TypeError"),
        (
            "opt.param_groups[0]['params'] = [w, 3]",
            "TypeError optimizer can only optimize",
        ),
    ],
)
def test_corrupted_state_raises_cleanly(change: str, error: str) -> None:
    # A crash is the finding: the step runs in a child process.
    code = textwrap.dedent(HOSTILE.format(change=change))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    before, first, after = out.stdout.splitlines()
    assert first.startswith(error)
    assert after == before  # the failed step wrote nothing


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("mode", ["capturable", "differentiable"])
def test_capturable_and_differentiable_steps_on_cpu_match_torch(
    name: str, mode: str
) -> None:
    def step(m: object) -> list:
        p = m.zeros(3, requires_grad=True)
        p.grad = m.ones(3)
        opt = getattr(m.optim, name)([p], **{mode: True})
        opt.step()
        return p.detach().tolist()

    same_error(step)


THREADS = """
import threading
import numpy as np
import gdlite as G
rng = np.random.default_rng(0)
start = rng.standard_normal(200_000).astype(np.float32)
grad = rng.standard_normal(200_000).astype(np.float32)

def train(p, steps=20):
    opt = G.optim.Adam([p], lr=0.01)
    for _ in range(steps):
        p.grad = G.tensor(grad)
        opt.step()

# Alone, then two at once on their own parameters: the same numbers.
alone = G.tensor(start, requires_grad=True)
train(alone)
pair = [G.tensor(start, requires_grad=True) for _ in range(2)]
threads = [threading.Thread(target=train, args=(p,)) for p in pair]
for t in threads: t.start()
for t in threads: t.join()
assert all(np.array_equal(p.detach().numpy(), alone.detach().numpy()) for p in pair)

# Replacing .data while another thread steps: no crash, whatever the order.
p = G.tensor(start, requires_grad=True)
stop = threading.Event()
def swap():
    while not stop.is_set():
        with G.no_grad():
            p.data = G.tensor(start)
t = threading.Thread(target=swap)
t.start()
train(p, steps=30)
stop.set()
t.join()
print("ok")
"""


def test_steps_in_threads() -> None:
    # Long steps let other threads run; a crash in the child is the failure.
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(THREADS)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "ok"


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_bad_step_pre_hook_result_names_the_optimizers_step(name):
    import re

    def message(lib):
        opt = getattr(lib.optim, name)([lib.zeros(1, requires_grad=True)], lr=0.1)
        opt.register_step_pre_hook(lambda o, a, k: 5)
        with pytest.raises(RuntimeError) as info:
            opt.step()
        return re.sub(r"0x[0-9a-f]+", "ADDR", str(info.value))

    assert message(G) == message(torch)
