"""A small classifier trained end to end, under gdlite and torch alike.

A 64-32-10 network with CrossEntropyLoss trains for three epochs through a
shuffled DataLoader, with each optimizer and with a StepLR schedule. The same
``manual_seed`` gives both libraries the same initial weights and the same
batches, so every batch loss, epoch loss and final parameter must agree with
torch's to float32 rounding (matrix products and sums round differently in
the two libraries, so bit equality is not expected).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch as pytorch

import gdlite

N_ROWS, N_FEATURES, N_CLASSES, EPOCHS = 640, 64, 10, 3
RTOL32, ATOL32 = 1e-5, 1e-6
RTOL64, ATOL64 = 1e-11, 1e-13


@pytest.fixture(autouse=True, scope="module")
def torch_single_threaded():
    """Torch's thread pool on a small shared machine makes these tiny steps
    take seconds; the oracle's numbers do not need it."""
    threads = pytorch.get_num_threads()
    pytorch.set_num_threads(1)
    yield
    pytorch.set_num_threads(threads)


@functools.cache
def blobs() -> tuple[np.ndarray, np.ndarray]:
    """Ten noisy clusters in 64 dimensions, digits-like in shape and scale."""
    rng = np.random.RandomState(0)
    centers = rng.uniform(0, 16, size=(N_CLASSES, N_FEATURES))
    labels = rng.randint(0, N_CLASSES, size=N_ROWS)
    x = centers[labels] + rng.normal(0, 4, size=(N_ROWS, N_FEATURES))
    # Standardised, as a course would before training.
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    return x, labels.astype(np.int64)


def train(torch, make_opt, make_sched=None, hidden="ReLU", double=False):
    """Three epochs of the course's training loop; returns what it saw."""
    nn = torch.nn
    x_np, y_np = blobs()
    x = torch.from_numpy(x_np)
    x = x.double() if double else x.float()
    dataset = torch.utils.data.TensorDataset(x, torch.from_numpy(y_np))
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(N_FEATURES, 32), getattr(nn, hidden)(), nn.Linear(32, N_CLASSES)
    )
    if double:
        model.double()
    loader = torch.utils.data.DataLoader(dataset, batch_size=32, shuffle=True)
    criterion = nn.CrossEntropyLoss()
    optimizer = make_opt(torch.optim, model.parameters())
    scheduler = make_sched(torch.optim.lr_scheduler, optimizer) if make_sched else None
    batch_losses, epoch_losses, lrs = [], [], []
    for _ in range(EPOCHS):
        model.train()
        total = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            batch_losses.append(loss.item())
            total += loss.item() * len(xb)
        epoch_losses.append(total / len(dataset))
        if scheduler is not None:
            scheduler.step()
            lrs.append(scheduler.get_last_lr())
    model.eval()
    with torch.no_grad():
        accuracy = (
            (model(x).argmax(dim=1) == torch.from_numpy(y_np)).float().mean().item()
        )
    params = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    return {
        "batch": np.array(batch_losses),
        "epoch": np.array(epoch_losses),
        "params": params,
        "lrs": lrs,
        "accuracy": accuracy,
    }


def deviation(got: np.ndarray, want: np.ndarray) -> float:
    """Largest relative difference, for the failure message."""
    scale = np.maximum(np.abs(want), 1e-30)
    return float(np.max(np.abs(got.astype(np.float64) - want) / scale))


def assert_trained_alike(got, want, rtol, atol) -> None:
    for key in ("batch", "epoch"):
        np.testing.assert_allclose(
            got[key], want[key], rtol=rtol, atol=atol, err_msg=f"{key} losses"
        )
    assert got["params"].keys() == want["params"].keys()
    for name, w in want["params"].items():
        g = got["params"][name]
        assert (g.dtype, g.shape) == (w.dtype, w.shape), name
        np.testing.assert_allclose(
            g, w, rtol=rtol, atol=atol, err_msg=f"{name}: {deviation(g, w):.2e}"
        )
    assert got["lrs"] == want["lrs"]
    # Training did something: the loss fell and the classes are learnt.
    assert want["epoch"][-1] < want["epoch"][0]


OPTIMIZERS = {
    "SGD": lambda O, p: O.SGD(p, lr=0.05),
    "SGD-momentum": lambda O, p: O.SGD(p, lr=0.05, momentum=0.9),
    "SGD-nesterov": lambda O, p: O.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "SGD-weight-decay": lambda O, p: O.SGD(p, lr=0.05, momentum=0.5, weight_decay=1e-3),
    "Adagrad": lambda O, p: O.Adagrad(p, lr=0.05),
    "RMSprop": lambda O, p: O.RMSprop(p, lr=1e-3),
    "RMSprop-centered-momentum": lambda O, p: O.RMSprop(
        p, lr=1e-3, momentum=0.5, centered=True
    ),
    "Adam": lambda O, p: O.Adam(p, lr=1e-3),
    "Adam-amsgrad": lambda O, p: O.Adam(p, lr=1e-3, amsgrad=True),
    "AdamW": lambda O, p: O.AdamW(p, lr=1e-3, weight_decay=0.01),
    "NAdam": lambda O, p: O.NAdam(p, lr=2e-3),
    "Adamax": lambda O, p: O.Adamax(p, lr=2e-3),
    "Adadelta": lambda O, p: O.Adadelta(p, lr=1.0),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_trains_like_torch(name):
    make = OPTIMIZERS[name]
    want, got = train(pytorch, make), train(gdlite, make)
    assert_trained_alike(got, want, RTOL32, ATOL32)


@pytest.mark.parametrize("name", ["SGD-momentum", "Adam"])
def test_sigmoid_hidden_layer(name):
    make = OPTIMIZERS[name]
    want = train(pytorch, make, hidden="Sigmoid")
    got = train(gdlite, make, hidden="Sigmoid")
    assert_trained_alike(got, want, RTOL32, ATOL32)


def test_step_lr_schedule():
    def make_opt(O, p):
        return O.SGD(p, lr=0.1, momentum=0.9)

    def make_sched(M, o):
        return M.StepLR(o, step_size=1, gamma=0.5)

    want = train(pytorch, make_opt, make_sched)
    got = train(gdlite, make_opt, make_sched)
    assert want["lrs"] == [[0.05], [0.025], [0.0125]]
    assert_trained_alike(got, want, RTOL32, ATOL32)


@pytest.mark.parametrize("name", ["SGD-nesterov", "Adam", "RMSprop"])
def test_double_model(name):
    make = OPTIMIZERS[name]
    want = train(pytorch, make, double=True)
    got = train(gdlite, make, double=True)
    assert want["params"]["0.weight"].dtype == np.float64
    assert_trained_alike(got, want, RTOL64, ATOL64)


def test_the_classes_are_learnt():
    """The dataset is learnable: Adam reaches high accuracy in both."""
    make = OPTIMIZERS["Adam"]
    for lib in (pytorch, gdlite):
        assert train(lib, make)["accuracy"] > 0.9
