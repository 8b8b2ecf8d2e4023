"""The hand-off to PyTorch: a checkpoint saved mid-training by gdlite is
loaded by torch.load, and training continues there as if it had run in torch
all along; and the other way round. 50 + 50 steps against 100 steps wholly in
torch, for SGD with momentum and for Adam, to float32 tolerance."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gdlite as G

STEPS = 50
RNG = np.random.default_rng(0)
X = RNG.normal(size=(32, 3)).astype(np.float32)
Y = (X @ np.array([[1.5], [-2.0], [0.5]], np.float32) + 0.3).astype(np.float32)
Y += (0.1 * RNG.normal(size=Y.shape)).astype(np.float32)
INIT = {"weight": [[0.1, -0.2, 0.3]], "bias": [0.05]}


def setup(lib, optimizer, init=True):
    """The same script for both libraries: a linear regression and its optimizer."""
    model = lib.nn.Linear(3, 1)
    if init:
        model.load_state_dict({k: lib.tensor(v) for k, v in INIT.items()})
    if optimizer == "sgd":
        opt = lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    else:
        opt = lib.optim.Adam(model.parameters(), lr=0.05)
    return model, opt


def train(lib, model, opt, steps):
    x, y = lib.tensor(X), lib.tensor(Y)
    loss_fn = lib.nn.MSELoss()
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def reference(optimizer):
    model, opt = setup(torch, optimizer)
    losses = train(torch, model, opt, 2 * STEPS)
    return losses, {k: v.numpy() for k, v in model.state_dict().items()}


def assert_continues_as_reference(losses, model, optimizer):
    want_losses, want_params = reference(optimizer)
    np.testing.assert_allclose(losses, want_losses, rtol=1e-5, atol=1e-6)
    for name, value in model.state_dict().items():
        np.testing.assert_allclose(
            value.detach().numpy(), want_params[name], rtol=1e-5, atol=1e-6
        )


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_gdlite_checkpoint_continues_in_torch(optimizer, tmp_path):
    model, opt = setup(G, optimizer)
    losses = train(G, model, opt, STEPS)
    path = tmp_path / "checkpoint.pt"
    G.save(
        {
            "epoch": STEPS,
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": opt.state_dict(),
            "loss": losses,
        },
        path,
    )
    torch.manual_seed(1)  # a different start, overwritten by the checkpoint
    tmodel, topt = setup(torch, optimizer, init=False)
    checkpoint = torch.load(path)
    tmodel.load_state_dict(checkpoint["model_state_dict"])
    topt.load_state_dict(checkpoint["optimizer_state_dict"])
    assert checkpoint["epoch"] == STEPS
    more = train(torch, tmodel, topt, STEPS)
    assert_continues_as_reference(checkpoint["loss"] + more, tmodel, optimizer)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_torch_checkpoint_continues_in_gdlite(optimizer, tmp_path):
    tmodel, topt = setup(torch, optimizer)
    losses = train(torch, tmodel, topt, STEPS)
    path = tmp_path / "checkpoint.pt"
    torch.save(
        {
            "epoch": STEPS,
            "model_state_dict": tmodel.state_dict(),
            "optimizer_state_dict": topt.state_dict(),
            "loss": losses,
        },
        path,
    )
    G.manual_seed(1)
    model, opt = setup(G, optimizer, init=False)
    checkpoint = G.load(path)
    model.load_state_dict(checkpoint["model_state_dict"])
    opt.load_state_dict(checkpoint["optimizer_state_dict"])
    assert checkpoint["epoch"] == STEPS
    more = train(G, model, opt, STEPS)
    assert_continues_as_reference(checkpoint["loss"] + more, model, optimizer)
