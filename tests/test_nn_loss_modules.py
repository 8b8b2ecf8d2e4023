"""Loss modules and Softmax/LogSoftmax modules against torch: the same
values and gradients as the functional forms they wrap, their reprs,
buffers (weight, pos_weight) in state_dict, and the legacy arguments."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import gdlite as G

# The functional losses come from gdlite.nn._functional_loss.
pytest.importorskip("gdlite.nn._functional_loss")

RNG = np.random.default_rng(0)
X = RNG.standard_normal((6, 4)).astype(np.float32)
Y = RNG.standard_normal((6, 4)).astype(np.float32)
P = (1 / (1 + np.exp(-X))).astype(np.float32)
T01 = (RNG.random((6, 4)) > 0.5).astype(np.float32)
CLS = np.array([0, 3, 1, 2, 3, 0])
CLS_IGN = np.array([0, -100, 1, 2, 3, 3])
W4 = np.array([0.5, 1.0, 2.0, 0.25], dtype=np.float32)


def t(lib, a):
    return lib.tensor(a)


# (module builder, input builder, target builder)
CASES = [
    (lambda lib: lib.nn.MSELoss(), lambda lib: t(lib, X), lambda lib: t(lib, Y)),
    (
        lambda lib: lib.nn.MSELoss(reduction="sum"),
        lambda lib: t(lib, X),
        lambda lib: t(lib, Y),
    ),
    (
        lambda lib: lib.nn.MSELoss(reduction="none"),
        lambda lib: t(lib, X),
        lambda lib: t(lib, Y),
    ),
    (lambda lib: lib.nn.L1Loss(), lambda lib: t(lib, X), lambda lib: t(lib, Y)),
    (
        lambda lib: lib.nn.L1Loss(reduction="none"),
        lambda lib: t(lib, X),
        lambda lib: t(lib, Y),
    ),
    (
        lambda lib: lib.nn.HuberLoss(delta=0.5),
        lambda lib: t(lib, X),
        lambda lib: t(lib, Y),
    ),
    (lambda lib: lib.nn.HuberLoss(), lambda lib: t(lib, X), lambda lib: t(lib, Y)),
    (
        lambda lib: lib.nn.SmoothL1Loss(beta=0.3),
        lambda lib: t(lib, X),
        lambda lib: t(lib, Y),
    ),
    (
        lambda lib: lib.nn.SmoothL1Loss(reduction="sum"),
        lambda lib: t(lib, X),
        lambda lib: t(lib, Y),
    ),
    (lambda lib: lib.nn.BCELoss(), lambda lib: t(lib, P), lambda lib: t(lib, T01)),
    (
        lambda lib: lib.nn.BCELoss(weight=t(lib, W4)),
        lambda lib: t(lib, P),
        lambda lib: t(lib, T01),
    ),
    (
        lambda lib: lib.nn.BCEWithLogitsLoss(),
        lambda lib: t(lib, X),
        lambda lib: t(lib, T01),
    ),
    (
        lambda lib: lib.nn.BCEWithLogitsLoss(pos_weight=t(lib, W4), reduction="sum"),
        lambda lib: t(lib, X),
        lambda lib: t(lib, T01),
    ),
    (
        lambda lib: lib.nn.CrossEntropyLoss(),
        lambda lib: t(lib, X),
        lambda lib: t(lib, CLS),
    ),
    (
        lambda lib: lib.nn.CrossEntropyLoss(weight=t(lib, W4), label_smoothing=0.1),
        lambda lib: t(lib, X),
        lambda lib: t(lib, CLS_IGN),
    ),
    (
        lambda lib: lib.nn.CrossEntropyLoss(ignore_index=3, reduction="none"),
        lambda lib: t(lib, X),
        lambda lib: t(lib, CLS),
    ),
    (
        lambda lib: lib.nn.CrossEntropyLoss(),
        lambda lib: t(lib, X),
        lambda lib: t(lib, P),
    ),
    (
        lambda lib: lib.nn.NLLLoss(),
        lambda lib: lib.nn.functional.log_softmax(t(lib, X), 1),
        lambda lib: t(lib, CLS),
    ),
    (
        lambda lib: lib.nn.NLLLoss(weight=t(lib, W4), reduction="sum"),
        lambda lib: lib.nn.functional.log_softmax(t(lib, X), 1),
        lambda lib: t(lib, CLS_IGN),
    ),
]


@pytest.mark.parametrize(("build", "make_input", "make_target"), CASES)
def test_loss_module_matches_torch(build, make_input, make_target):
    out = {}
    for lib in (G, torch):
        module = build(lib)
        x = make_input(lib).detach().requires_grad_()
        loss = module(x, make_target(lib))
        loss.sum().backward()
        out[lib] = (module, loss, x.grad)
    (gm, gl, gg), (tm, tl, tg) = out[G], out[torch]
    assert repr(gm) == repr(tm)
    assert tuple(gl.shape) == tuple(tl.shape) and gm.reduction == tm.reduction
    np.testing.assert_allclose(
        gl.detach().numpy(), tl.detach().numpy(), rtol=1e-6, atol=1e-7
    )
    np.testing.assert_allclose(gg.numpy(), tg.numpy(), rtol=1e-5, atol=1e-7)
    assert list(gm.state_dict()) == list(tm.state_dict())


def test_course_mse_value():
    got = G.nn.MSELoss()(G.tensor([0.5, 1.0]), G.tensor([2.0, 1.3]))
    want = torch.nn.MSELoss()(torch.tensor([0.5, 1.0]), torch.tensor([2.0, 1.3]))
    assert got.item() == want.item()
    assert repr(got) == repr(want)


def test_weight_buffers_follow_module():
    loss = G.nn.CrossEntropyLoss(weight=G.tensor(W4))
    assert list(loss.state_dict()) == ["weight"]
    assert loss.weight is loss._buffers["weight"]
    loss.double()
    assert loss.weight.dtype == G.float64
    assert list(G.nn.BCEWithLogitsLoss().state_dict()) == []
    assert list(G.nn.BCEWithLogitsLoss().named_buffers()) == []


def test_legacy_size_average_and_reduce():
    for kwargs in ({"size_average": False}, {"reduce": False}, {"size_average": True}):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            got = G.nn.MSELoss(**kwargs).reduction
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = torch.nn.MSELoss(**kwargs).reduction
        assert got == want
        assert any(f"reduction='{want}'" in str(w.message) for w in rec)


@pytest.mark.parametrize("cls", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_modules(cls, dim):
    out = {}
    for lib in (G, torch):
        module = getattr(lib.nn, cls)(dim=dim)
        x = lib.tensor(X, requires_grad=True)
        y = module(x)
        (y * lib.tensor(Y)).sum().backward()
        out[lib] = (module, y, x.grad)
    assert repr(out[G][0]) == repr(out[torch][0])
    np.testing.assert_allclose(
        out[G][1].detach().numpy(), out[torch][1].detach().numpy(), rtol=1e-6, atol=1e-7
    )
    np.testing.assert_allclose(
        out[G][2].numpy(), out[torch][2].numpy(), rtol=1e-5, atol=1e-7
    )


def test_softmax_module_without_dim_warns_as_torch():
    for lib in (G, torch):
        with pytest.warns(UserWarning, match="Implicit dimension choice"):
            y = lib.nn.Softmax()(lib.tensor(X))
        assert tuple(y.shape) == (6, 4)
    assert repr(G.nn.Softmax()) == "Softmax(dim=None)"


def test_classifier_training_step_matches_torch():
    def step(lib):
        lib.manual_seed(3)
        model = lib.nn.Sequential(
            lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.Linear(8, 4)
        )
        loss = lib.nn.CrossEntropyLoss()(model(lib.tensor(X)), lib.tensor(CLS))
        loss.backward()
        return loss, [p.grad for p in model.parameters()]

    (gl, gg), (tl, tg) = step(G), step(torch)
    np.testing.assert_allclose(gl.item(), tl.item(), rtol=1e-6)
    for a, b in zip(gg, tg, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-7)
