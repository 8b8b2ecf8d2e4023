"""compare_optimizers: every path equals torch.optim run from the same start."""

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

torch = pytest.importorskip("torch")

import gdlite  # noqa: E402
import gdlite.plot as gp  # noqa: E402

# The CS6910 sigmoid neuron: two points, half the summed squared error.
PX, PY = [0.5, 2.5], [0.2, 0.9]

CONFIGS = {
    "SGD": ("SGD", {"lr": 1.0}),
    "Momentum": ("Momentum", {"lr": 1.0}),
    "Nesterov": ("Nesterov", {"lr": 1.0}),
    "Adagrad": ("Adagrad", {"lr": 0.1}),
    "RMSprop": ("RMSprop", {"lr": 0.1, "alpha": 0.9}),
    "Adam": ("Adam", {"lr": 0.1}),
}
TORCH = {
    "SGD": (torch.optim.SGD, {"lr": 1.0}),
    "Momentum": (torch.optim.SGD, {"lr": 1.0, "momentum": 0.9}),
    "Nesterov": (torch.optim.SGD, {"lr": 1.0, "momentum": 0.9, "nesterov": True}),
    "Adagrad": (torch.optim.Adagrad, {"lr": 0.1}),
    "RMSprop": (torch.optim.RMSprop, {"lr": 0.1, "alpha": 0.9}),
    "Adam": (torch.optim.Adam, {"lr": 0.1}),
}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def neuron_loss(lib):
    x, y = lib.tensor(PX), lib.tensor(PY)

    def loss(w, b):
        return 0.5 * ((lib.sigmoid(w * x + b) - y) ** 2).sum()

    return loss


def torch_path(cls, options, steps, start=(-2.0, -2.0)):
    leaves = [torch.tensor(v, requires_grad=True) for v in start]
    opt = cls(leaves, **options)
    loss_fn = neuron_loss(torch)
    rows, losses = [], []
    for k in range(steps + 1):
        opt.zero_grad()
        loss = loss_fn(*leaves)
        rows.append([t.item() for t in leaves])
        losses.append(loss.item())
        if k < steps:
            loss.backward()
            opt.step()
    return np.array(rows), np.array(losses)


def test_paths_equal_torch_optim_from_the_same_start():
    res = gp.compare_optimizers(
        neuron_loss(gdlite), (-2.0, -2.0), CONFIGS, steps=60, plot=False
    )
    assert res.fig is None and res.names == ["w", "b"]
    assert list(res.paths) == list(CONFIGS)
    for name, (cls, options) in TORCH.items():
        want, want_losses = torch_path(cls, options, 60)
        assert res.paths[name].shape == (61, 2)
        np.testing.assert_allclose(res.paths[name], want, rtol=2e-5, atol=2e-6)
        np.testing.assert_allclose(res.losses[name], want_losses, rtol=2e-5, atol=1e-7)
        assert res.seconds[name] > 0


def test_model_and_data_with_classes_and_float64():
    xs = np.linspace(0, 1, 16)[:, None]
    ys = 1 + 2 * xs
    model = gdlite.nn.Linear(1, 1).double()
    spec = (model, gdlite.tensor(xs), gdlite.tensor(ys), gdlite.nn.MSELoss())
    before = [p.detach().clone() for p in model.parameters()]
    res = gp.compare_optimizers(
        spec,
        {"weight": 0.0, "bias": -1.0},
        {"adam": (gdlite.optim.Adam, {"lr": 0.05})},
        steps=30,
        dtype=gdlite.float64,
        plot=False,
    )
    tm = torch.nn.Linear(1, 1).double()
    with torch.no_grad():
        tm.weight.fill_(0.0)
        tm.bias.fill_(-1.0)
    opt = torch.optim.Adam(tm.parameters(), lr=0.05)
    rows = [[0.0, -1.0]]
    for _ in range(30):
        opt.zero_grad()
        torch.nn.functional.mse_loss(tm(torch.tensor(xs)), torch.tensor(ys)).backward()
        opt.step()
        rows.append([tm.weight.item(), tm.bias.item()])
    np.testing.assert_allclose(res.paths["adam"], rows, rtol=1e-10, atol=1e-12)
    assert res.names == ["weight", "bias"]
    for p, q in zip(model.parameters(), before, strict=True):
        assert gdlite.equal(p, q)


def test_drawing_side_by_side():
    res = gp.compare_optimizers(
        neuron_loss(gdlite),
        (-2.0, -2.0),
        ["SGD", ("Adam", {"lr": 0.1})],
        steps=20,
        w_range=(-6, 6),
        b_range=(-6, 6),
    )
    paths_ax, loss_ax = res.axes
    for name in ("SGD", "Adam"):
        line = next(ln for ln in paths_ax.get_lines() if ln.get_label() == name)
        np.testing.assert_array_equal(line.get_xydata(), res.paths[name])
        curve = next(ln for ln in loss_ax.get_lines() if ln.get_label() == name)
        np.testing.assert_array_equal(curve.get_ydata(), res.losses[name])
    assert paths_ax.get_xlim() == (-6.0, 6.0)
    assert loss_ax.get_yscale() == "log"


def test_progress_bar_only_when_asked(capsys):
    pytest.importorskip("tqdm")
    loss = neuron_loss(gdlite)
    gp.compare_optimizers(loss, (0.0, 0.0), ["sgd"], steps=5, plot=False, progress=True)
    assert "compare_optimizers" in capsys.readouterr().err
    gp.compare_optimizers(
        loss, (0.0, 0.0), ["sgd"], steps=5, plot=False, progress=False
    )
    assert capsys.readouterr().err == ""


def test_bad_arguments():
    loss = neuron_loss(gdlite)
    with pytest.raises(ValueError, match="unknown optimizer 'Adamm'"):
        gp.compare_optimizers(loss, (0.0, 0.0), ["SGD", "Adamm"], steps=2)
    with pytest.raises(ValueError, match="unknown optimizer 'LBFGS'"):
        gp.compare_optimizers(loss, (0.0, 0.0), {"x": ("LBFGS", {})}, steps=2)
    with pytest.raises(ValueError, match="steps must be at least 1"):
        gp.compare_optimizers(loss, (0.0, 0.0), ["SGD"], steps=0)
    with pytest.raises(ValueError, match="start has 3 values"):
        gp.compare_optimizers(
            (
                gdlite.nn.Linear(1, 1),
                gdlite.ones(2, 1),
                gdlite.ones(2, 1),
                gdlite.nn.MSELoss(),
            ),
            (0.0, 0.0, 0.0),
            ["SGD"],
            steps=2,
        )
    with pytest.raises(ValueError, match="must return a scalar"):
        gp.compare_optimizers(
            lambda w, b: w * gdlite.ones(3) + b, (0.0, 0.0), ["SGD"], steps=2
        )
    with pytest.raises(ValueError, match="one number per parameter"):
        gp.compare_optimizers(loss, {"w": [0.0, 1.0], "b": 0.0}, ["SGD"], steps=2)
    with pytest.raises(ValueError, match="no finite point"):
        gp.compare_optimizers(loss, (float("nan"), 0.0), ["SGD"], steps=2)
    with pytest.raises(ValueError, match="not finite anywhere"):
        gp.plot_contours(lambda w, b: w / 0.0 * b / 0.0, (1, 2), (1, 2), n=3)
    with pytest.raises(ValueError, match="no optimizers"):
        gp.compare_optimizers(loss, (0.0, 0.0), [], steps=2)
    with pytest.raises(ValueError, match="w_range"):
        gp.compare_optimizers(
            loss, (0.0, 0.0), ["SGD"], steps=2, w_range=(1, 0), b_range=(0, 1)
        )


@pytest.mark.parametrize(
    "start",
    [
        (-2.0, -2.0),
        np.array([-2.0, -2.0]),
        [gdlite.tensor(-2.0), gdlite.tensor(-2.0)],
        {"weight": -2.0, "offset": -2.0},
    ],
)
def test_start_forms_give_the_same_path(start):
    res = gp.compare_optimizers(
        neuron_loss(gdlite),
        start,
        {"m": ("Momentum", {"lr": 1.0})},
        steps=5,
        plot=False,
    )
    want, _ = torch_path(*TORCH["Momentum"], 5)
    np.testing.assert_allclose(res.paths["m"], want, rtol=2e-5, atol=2e-6)
    if isinstance(start, dict):
        assert res.names == ["weight", "offset"]


def test_without_tqdm_progress_is_silent():
    import os
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['tqdm'] = None; sys.modules['tqdm.auto'] = None\n"
        "import gdlite, gdlite.plot as gp\n"
        "r = gp.compare_optimizers(lambda w, b: w * w + b * b, (1.0, 1.0), ['SGD'],"
        " steps=3000, plot=False, progress=True)\n"
        "print(r.paths['SGD'].shape)\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=root)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "(3001, 2)" and proc.stderr == ""
