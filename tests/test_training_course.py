"""The course's training scenarios A2, A3, A6 and A7, under gdlite and torch.

Each scenario is written once, as course code is written (``torch.optim.SGD``,
``with torch.no_grad()``, ...), and run with the module passed in as ``torch``:
once with PyTorch, the oracle, and once with gdlite, from the same inputs.
Every recorded loss and parameter must agree to a few float32 ulp, and is
checked bit for bit separately: the scenarios that are not bit-identical are
marked, with the operation that first differs. The course's published values
(course-material.md section 8, produced with torch 1.13) are checked to its
stated tolerance, 1e-5 absolute on parameters unless the section says
otherwise.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch as pytorch

import gdlite


class Record:
    """Named sequences of values (losses, parameters) taken during a run."""

    def __init__(self) -> None:
        self.values: dict[str, list[np.ndarray]] = {}
        self.order: list[tuple[str, int]] = []  # (name, index) as taken

    def add(self, name: str, t) -> None:
        seq = self.values.setdefault(name, [])
        self.order.append((name, len(seq)))
        seq.append(t.detach().numpy().copy())

    def last(self, name: str) -> np.ndarray:
        return self.values[name][-1]


# Torch and gdlite agree to this in every recorded float32 value, even where
# they are not bit-identical (a few ulp, not amplified by training).
RTOL, ATOL = 1e-6, 1e-7


@functools.cache
def run(scenario, *args) -> tuple[Record, Record]:
    """(torch's record, gdlite's record) of a scenario; each runs once."""
    return scenario(pytorch, *args), scenario(gdlite, *args)


def compare(want: Record, got: Record, rtol: float, atol: float) -> None:
    """Every value gdlite recorded, in the order taken, against torch's."""
    assert got.order == want.order
    for name, i in want.order:
        w, g = want.values[name][i], got.values[name][i]
        assert (g.dtype, g.shape) == (w.dtype, w.shape), (name, i)
        if rtol == atol == 0:
            np.testing.assert_array_equal(
                g, w, err_msg=f"{name}[{i}]: first difference"
            )
        else:
            np.testing.assert_allclose(
                g, w, rtol=rtol, atol=atol, err_msg=f"{name}[{i}]"
            )


# --- A2: gradient descent toys (d2l) -----------------------------------------


def gd_x_squared(torch, eta, dtype):
    rec = Record()
    x = torch.tensor(10.0, requires_grad=True, dtype=getattr(torch, dtype))
    for _ in range(10):
        f = x**2
        f.backward()
        with torch.no_grad():
            x -= eta * x.grad
        x.grad.zero_()
        rec.add("f", f)
        rec.add("x", x)
    return rec


def quadratic_2d(c1):
    """f = c1 * x1**2 + 2 * x2**2, d2l's f_2d."""
    return lambda x: c1 * x[0] ** 2 + 2 * x[1] ** 2


def gd_2d(torch, c1, eta, use_optim, dtype):
    rec = Record()
    f = quadratic_2d(c1)
    x = torch.tensor([-5.0, -2.0], requires_grad=True, dtype=getattr(torch, dtype))
    optimizer = torch.optim.SGD([x], lr=eta) if use_optim else None
    for _ in range(20):
        if use_optim:
            optimizer.zero_grad()
        loss = f(x)
        loss.backward()
        if use_optim:
            optimizer.step()
        else:
            with torch.no_grad():
                x -= eta * x.grad
            x.grad.zero_()
        rec.add("loss", loss)
        rec.add("x", x)
    return rec


# --- A3: momentum, Adagrad, RMSprop, Adam via torch.optim (d2l) ---------------

A3_CASES = [
    ("SGD", (("lr", 0.6), ("momentum", 0.5)), 0.1, (0.007188, 0.002553)),
    ("SGD", (("lr", 0.6), ("momentum", 0.25)), 0.1, (-0.126340, -0.186632)),
    ("Adagrad", (("lr", 0.4),), 0.1, (-2.382562, -0.158591)),
    (
        "RMSprop",
        (("lr", 0.4), ("alpha", 0.9), ("eps", 1e-6)),
        0.1,
        (-0.010598, 0.000000),
    ),
    ("Adam", (("lr", 0.1),), 1.0, (-3.060339, -0.222452)),
]


def optim_2d(torch, name, kwargs, c1):
    kwargs = dict(kwargs)
    rec = Record()
    f = quadratic_2d(c1)
    x = torch.tensor([-5.0, -2.0], requires_grad=True)
    optimizer = getattr(torch.optim, name)([x], **kwargs)
    for _ in range(20):
        optimizer.zero_grad()
        loss = f(x)
        loss.backward()
        optimizer.step()
        rec.add("loss", loss)
        rec.add("x", x)
        for key, value in optimizer.state[x].items():
            rec.add(f"state.{key}", value)
    return rec


def scratch_2d(torch, name):
    """d2l's from-scratch Adagrad and RMSProp: epsilon inside the root."""
    rec = Record()
    f = quadratic_2d(0.1)
    eps, gamma, lr = 1e-6, 0.9, 0.4
    x = torch.tensor([-5.0, -2.0], requires_grad=True)
    s = torch.zeros(2)
    for _ in range(20):
        loss = f(x)
        loss.backward()
        with torch.no_grad():
            if name == "adagrad":
                s[:] += torch.square(x.grad)
            else:
                s[:] = gamma * s + (1 - gamma) * torch.square(x.grad)
            x[:] -= lr * x.grad / torch.sqrt(s + eps)
        x.grad.data.zero_()
        rec.add("loss", loss)
        rec.add("x", x)
        rec.add("s", s)
    return rec


# --- A6, A7: Godoy's linear regression -----------------------------------------


@functools.cache
def godoy_data() -> tuple[np.ndarray, np.ndarray]:
    """Chapter 0's data and split, with NumPy's legacy generator, seed 42."""
    state = np.random.get_state()
    try:
        true_b, true_w, N = 1, 2, 100
        np.random.seed(42)
        x = np.random.rand(N, 1)
        epsilon = 0.1 * np.random.randn(N, 1)
        y = true_b + true_w * x + epsilon
        idx = np.arange(N)
        np.random.shuffle(idx)  # the stream continues: no reseed
        train_idx = idx[: int(N * 0.8)]
    finally:
        np.random.set_state(state)
    assert list(train_idx[:5]) == [76, 83, 80, 98, 2]
    return x[train_idx], y[train_idx]


B0, W0 = 0.33669036626815796, 0.12880940735340118  # Godoy's seed-42 torch.randn
LINEAR_W0, LINEAR_B0 = (
    0.7645385265350342,
    0.8300079107284546,
)  # nn.Linear(1, 1), seed 42


def test_godoy_data_matches_the_book():
    x_train, y_train = godoy_data()
    assert x_train[0, 0] == pytest.approx(0.7712703, abs=1e-7)
    assert y_train[0, 0] == pytest.approx(2.4745382, abs=1e-7)


def first_step(torch):
    rec = Record()
    x_np, y_np = godoy_data()
    x_train = torch.as_tensor(x_np).float()
    y_train = torch.as_tensor(y_np).float()
    b = torch.tensor([B0], requires_grad=True, dtype=torch.float)
    w = torch.tensor([W0], requires_grad=True, dtype=torch.float)
    yhat = b + w * x_train
    error = yhat - y_train
    loss = (error**2).mean()
    loss.backward()
    rec.add("loss", loss)
    rec.add("b.grad", b.grad)
    rec.add("w.grad", w.grad)
    loss_fn = torch.nn.MSELoss(reduction="mean")
    rec.add("mse example", loss_fn(torch.tensor([0.5, 1.0]), torch.tensor([2.0, 1.3])))
    return rec


def godoy_batch(torch, variant):
    """Chapter 1: 1000 epochs of batch gradient descent, lr 0.1, four ways."""
    rec = Record()
    x_np, y_np = godoy_data()
    nn, optim = torch.nn, torch.optim
    x_train = torch.as_tensor(x_np).float()
    y_train = torch.as_tensor(y_np).float()
    lr = 0.1

    class ManualLinearRegression(nn.Module):
        def __init__(self):
            super().__init__()
            self.b = nn.Parameter(
                torch.tensor([B0], requires_grad=True, dtype=torch.float)
            )
            self.w = nn.Parameter(
                torch.tensor([W0], requires_grad=True, dtype=torch.float)
            )

        def forward(self, x):
            return self.b + self.w * x

    if variant == "manual":
        b = torch.tensor([B0], requires_grad=True, dtype=torch.float)
        w = torch.tensor([W0], requires_grad=True, dtype=torch.float)
        for _ in range(1000):
            yhat = b + w * x_train
            loss = ((yhat - y_train) ** 2).mean()
            loss.backward()
            with torch.no_grad():
                b -= lr * b.grad
                w -= lr * w.grad
            b.grad.zero_()
            w.grad.zero_()
            rec.add("loss", loss)
        rec.add("b", b)
        rec.add("w", w)
        return rec

    if variant == "optim":
        b = torch.tensor([B0], requires_grad=True, dtype=torch.float)
        w = torch.tensor([W0], requires_grad=True, dtype=torch.float)
        optimizer = optim.SGD([b, w], lr=lr)
        model = lambda x: b + w * x  # noqa: E731 - the book's forward pass
    elif variant == "module":
        model = ManualLinearRegression()
    else:
        model = nn.Sequential(nn.Linear(1, 1))
        with torch.no_grad():
            model[0].weight.fill_(LINEAR_W0)
            model[0].bias.fill_(LINEAR_B0)
    if variant != "optim":
        optimizer = optim.SGD(model.parameters(), lr=lr)
        model.train()
    loss_fn = nn.MSELoss(reduction="mean")
    for _ in range(1000):
        yhat = model(x_train)
        loss = loss_fn(yhat, y_train)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        rec.add("loss", loss)
    if variant == "optim":
        rec.add("b", b)
        rec.add("w", w)
    else:
        for name, p in model.state_dict().items():
            rec.add(name, p)
    return rec


def godoy_minibatch(torch):
    """Chapter 2: a TensorDataset through an unshuffled DataLoader of 16."""
    rec = Record()
    x_np, y_np = godoy_data()
    nn, optim = torch.nn, torch.optim
    from_numpy = torch.from_numpy
    x_train_tensor = from_numpy(x_np).float()
    y_train_tensor = from_numpy(y_np).float()
    train_data = torch.utils.data.TensorDataset(x_train_tensor, y_train_tensor)
    train_loader = torch.utils.data.DataLoader(
        dataset=train_data, batch_size=16, shuffle=False
    )
    model = nn.Sequential(nn.Linear(1, 1))
    with torch.no_grad():
        model[0].weight.fill_(LINEAR_W0)
        model[0].bias.fill_(LINEAR_B0)
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.MSELoss(reduction="mean")

    def train_step_fn(x, y):
        model.train()
        yhat = model(x)
        loss = loss_fn(yhat, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        rec.add("batch loss", loss)
        return loss.item()

    for _ in range(1000):
        mini_batch_losses = [
            train_step_fn(x_batch, y_batch) for x_batch, y_batch in train_loader
        ]
        rec.add("epoch loss", torch.tensor(np.mean(mini_batch_losses)))
    for name, p in model.state_dict().items():
        rec.add(name, p)
    return rec


# --- the scenarios against torch -----------------------------------------------

SCENARIOS = {
    **{
        f"A2a-eta{eta}-{dt}": (gd_x_squared, eta, dt)
        for eta in (0.2, 0.05, 1.1)
        for dt in ("float32", "float64")
    },
    **{
        f"A2b-{way}-{dt}": (gd_2d, 1.0, 0.1, way == "optim.SGD", dt)
        for way in ("manual", "optim.SGD")
        for dt in ("float32", "float64")
    },
    **{
        f"A2c-eta{eta}-{dt}": (gd_2d, 0.1, eta, False, dt)
        for eta in (0.4, 0.6)
        for dt in ("float32", "float64")
    },
    **{
        f"A3-{name}-{'-'.join(f'{k}{v}' for k, v in kw)}": (optim_2d, name, kw, c1)
        for name, kw, c1, _ in A3_CASES
    },
    "A3-scratch-adagrad": (scratch_2d, "adagrad"),
    "A3-scratch-rmsprop": (scratch_2d, "rmsprop"),
    "A6-first-step": (first_step,),
    **{
        f"A6-{v}": (godoy_batch, v) for v in ("manual", "optim", "module", "sequential")
    },
    "A7-minibatch": (godoy_minibatch,),
}

# Where gdlite's float32 numbers are not torch's bit for bit, and why (each
# traced to the first differing value; see the module docstring).
SQRT = (
    "torch's float32 sqrt (MKL VML in this build) is off by 1 ulp for ~17% of "
    "inputs; gdlite's is correctly rounded: the same optimizer state gives a "
    "different square root"
)
# With MKL loaded gdlite's sqrt is MKL's too, and every scenario is exact.
NOT_BIT_IDENTICAL = (
    {}
    if gdlite.backends.mkl.is_available()
    else {
        "A3-Adagrad-lr0.4": SQRT,
        "A3-RMSprop-lr0.4-alpha0.9-eps1e-06": SQRT,
        "A3-scratch-adagrad": SQRT,
        "A3-scratch-rmsprop": SQRT,
    }
)


@pytest.mark.parametrize("key", SCENARIOS)
def test_close_to_torch(key):
    compare(*run(*SCENARIOS[key]), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(
            k, marks=pytest.mark.xfail(strict=True, reason=NOT_BIT_IDENTICAL[k])
        )
        if k in NOT_BIT_IDENTICAL
        else k
        for k in SCENARIOS
    ],
)
def test_bit_identical_to_torch(key):
    compare(*run(*SCENARIOS[key]), rtol=0, atol=0)


# --- the published numbers -------------------------------------------------------


def final(key: str, name: str) -> np.ndarray:
    """torch's and gdlite's last value of `name`, which are checked alike."""
    want, got = run(*SCENARIOS[key])
    return np.stack([want.last(name), got.last(name)])


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize(
    ("eta", "published"), [(0.2, 0.0604662), (0.05, 3.4867844), (1.1, 61.917364)]
)
def test_a2_x_squared_published(eta, published, dt):
    # The section's numbers are d2l's float64 ones; float32 is held to ~1e-5
    # relative, as the section's heading says.
    tol = {"float64": {"abs": 1e-5}, "float32": {"rel": 1e-5}}[dt]
    for x in final(f"A2a-eta{eta}-{dt}", "x"):
        assert x == pytest.approx(published, **tol)


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("way", ["manual", "optim.SGD"])
def test_a2_quadratic_published(way, dt):
    for x in final(f"A2b-{way}-{dt}", "x"):
        np.testing.assert_allclose(x, [-0.0576461, -0.0000731], rtol=0, atol=1e-5)
        # The closed form x_t = x_0 * (1 - 2 * c * eta)**t.
        np.testing.assert_allclose(x, [-5 * 0.8**20, -2 * 0.6**20], rtol=1e-5)


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize(
    ("eta", "published"),
    [(0.4, (-0.943467, -0.000073)), (0.6, (-0.387814, -1673.365109))],
)
def test_a2_ill_conditioned_published(eta, published, dt):
    # The diverging coordinate is checked relatively: 1e-6 as the section
    # says for float64, ~1e-5 for float32.
    rel = {"float64": 1e-6, "float32": 1e-5}[dt]
    for x1, x2 in final(f"A2c-eta{eta}-{dt}", "x"):
        assert x1 == pytest.approx(published[0], abs=1e-5)
        assert x2 == pytest.approx(published[1], rel=rel, abs=1e-5)


@pytest.mark.parametrize(("name", "kw", "c1", "published"), A3_CASES)
def test_a3_published(name, kw, c1, published):
    key = f"A3-{name}-{'-'.join(f'{k}{v}' for k, v in kw)}"
    for x in final(key, "x"):
        np.testing.assert_allclose(x, published, rtol=0, atol=1e-5)


@pytest.mark.parametrize(
    ("name", "published"), [("adagrad", -2.382563), ("rmsprop", -0.010599)]
)
def test_a3_from_scratch_published(name, published):
    for x in final(f"A3-scratch-{name}", "x"):
        assert x[0] == pytest.approx(published, abs=1e-5)


def test_a6_first_step_published():
    for loss in final("A6-first-step", "loss"):
        assert loss == pytest.approx(2.7474866, abs=1e-6)
    for b_grad in final("A6-first-step", "b.grad"):
        assert b_grad[0] == pytest.approx(-3.1124959, abs=1e-5)
    for w_grad in final("A6-first-step", "w.grad"):
        assert w_grad[0] == pytest.approx(-1.8156431, abs=1e-5)
    for mse in final("A6-first-step", "mse example"):
        assert mse == pytest.approx(1.17, abs=1e-6)


@pytest.mark.parametrize("variant", ["manual", "optim", "module", "sequential"])
def test_a6_batch_published(variant):
    key = f"A6-{variant}"
    b, w = ("0.bias", "0.weight") if variant == "sequential" else ("b", "w")
    for value in final(key, b):
        assert value.ravel()[0] == pytest.approx(1.0235431, abs=1e-5)
    for value in final(key, w):
        assert value.ravel()[0] == pytest.approx(1.9689600, abs=1e-5)
    for loss in final(key, "loss"):
        assert loss == pytest.approx(0.0080446554, rel=1e-5)


def test_a7_minibatch_published():
    assert len(run(*SCENARIOS["A7-minibatch"])[1].values["batch loss"]) == 5000
    for weight in final("A7-minibatch", "0.weight"):
        assert weight[0, 0] == pytest.approx(1.9678593, abs=1e-5)
    for bias in final("A7-minibatch", "0.bias"):
        assert bias[0] == pytest.approx(1.0201589, abs=1e-5)
