"""The main demo (`make demo`, `python -m gdlite.demo [--out DIR]`).

Two course problems, each trained from the same start with six optimizers:

* regression: Godoy's chapter-1 data (``y = 1 + 2x + noise``, NumPy seed 42,
  the first 80 of a shuffled 100 points), full-batch MSE over (w, b) from his
  NumPy initialisation, 1000 steps;
* neuron: the CS6910 sigmoid neuron with two points, half the summed squared
  error over (w, b) in [-6, 6], from (-2, -2), 1000 steps.

It prints a table (final loss, steps until the loss is within a tolerance of
the optimum, time per step; the same for PyTorch when it is installed) and
writes the figures (surface and contours with every path, loss curves, the
fitted line, an animation) to a folder whose path it prints. Only NumPy and
matplotlib are needed (tqdm optional); torch is imported only if present.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

import gdlite

STEPS = 1000

# Per problem: optimizer configurations (gdlite.plot names), tolerance, ranges.
PROBLEMS = {
    "regression": {
        "optimizers": {
            "SGD": ("SGD", {"lr": 0.1}),
            "Momentum": ("Momentum", {"lr": 0.1}),
            "Nesterov": ("Nesterov", {"lr": 0.1}),
            "Adagrad": ("Adagrad", {"lr": 0.5}),
            "RMSprop": ("RMSprop", {"lr": 0.01}),
            "Adam": ("Adam", {"lr": 0.1}),
        },
        "tolerance": 1e-4,
        "w_range": (-1.0, 5.0),
        "b_range": (-2.0, 4.0),
    },
    "neuron": {
        "optimizers": {
            "SGD": ("SGD", {"lr": 1.0}),
            "Momentum": ("Momentum", {"lr": 1.0}),
            "Nesterov": ("Nesterov", {"lr": 1.0}),
            "Adagrad": ("Adagrad", {"lr": 0.1}),
            "RMSprop": ("RMSprop", {"lr": 0.1, "alpha": 0.9}),
            "Adam": ("Adam", {"lr": 0.1}),
        },
        "tolerance": 1e-4,
        "w_range": (-6.0, 6.0),
        "b_range": (-6.0, 6.0),
    },
}


def regression_data() -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """Godoy's chapter-1 training set and his initial (w, b), all from NumPy."""
    np.random.seed(42)
    x = np.random.rand(100, 1)
    y = 1 + 2 * x + 0.1 * np.random.randn(100, 1)
    idx = np.arange(100)
    np.random.shuffle(idx)
    train = idx[:80]
    np.random.seed(42)
    b = float(np.random.randn(1)[0])
    w = float(np.random.randn(1)[0])
    return x[train], y[train], (w, b)


def make_loss(problem: str, lib):
    """The problem's loss as a function of (w, b), for gdlite or torch alike."""
    if problem == "regression":
        xs, ys, _ = regression_data()
        x = lib.tensor(xs.ravel(), dtype=lib.float32)
        y = lib.tensor(ys.ravel(), dtype=lib.float32)

        def loss(w, b):
            return ((w * x + b - y) ** 2).mean()

    else:
        x, y = lib.tensor([0.5, 2.5]), lib.tensor([0.2, 0.9])

        def loss(w, b):
            return 0.5 * ((lib.sigmoid(w * x + b) - y) ** 2).sum()

    return loss


def start_of(problem: str) -> tuple[float, float]:
    return regression_data()[2] if problem == "regression" else (-2.0, -2.0)


def optimum_loss(problem: str) -> float:
    """The smallest loss: least squares for the line; zero for the neuron."""
    if problem == "neuron":
        return 0.0  # sigmoid(w x + b) passes through both points exactly
    xs, ys, _ = regression_data()
    A = np.column_stack([xs.ravel(), np.ones(len(xs))])
    coef, *_ = np.linalg.lstsq(A, ys.ravel(), rcond=None)
    return float(np.mean((A @ coef - ys.ravel()) ** 2))


def steps_to(losses: np.ndarray, target: float) -> str:
    """The first step whose loss is within the tolerance, or '-' if none."""
    hit = np.nonzero(losses <= target)[0]
    return str(int(hit[0])) if hit.size else "-"


def cells(losses: np.ndarray, target: float, seconds: float, width: int) -> str:
    """Final loss, steps to the target and microseconds per step, aligned."""
    return f"{losses[-1]:>{width}.6g}{steps_to(losses, target):>7}{seconds * 1e6:>9.1f}"


def run_torch(
    torch, problem: str, cls_name: str, options: dict
) -> tuple[np.ndarray, float]:
    """The same run with torch.optim: (losses per step, seconds per step)."""
    leaves = [torch.tensor(v, requires_grad=True) for v in start_of(problem)]
    opt = getattr(torch.optim, cls_name)(leaves, **options)
    loss_fn = make_loss(problem, torch)
    losses, elapsed = [], 0.0
    for k in range(STEPS + 1):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = loss_fn(*leaves)
        losses.append(loss.item())
        if k == STEPS:
            break
        loss.backward()
        opt.step()
        elapsed += time.perf_counter() - t0
    return np.asarray(losses), elapsed / STEPS


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gdlite.demo", description=__doc__)
    parser.add_argument(
        "--out", help="folder for the figures (default: a new temp dir)"
    )
    args = parser.parse_args(argv)
    import matplotlib.pyplot as plt

    import gdlite.plot as gp

    try:
        import torch

        torch.set_num_threads(1)  # one thread, as gdlite's small ops use
    except ImportError:
        torch = None
    out = args.out or tempfile.mkdtemp(prefix="gdlite-demo-")
    os.makedirs(out, exist_ok=True)
    gdlite.manual_seed(0)
    header = (
        f"{'problem':<11}{'optimizer':<10}{'final loss':>12}{'steps':>7}{'us/step':>9}"
        + (f"{'torch loss':>13}{'steps':>7}{'us/step':>9}" if torch else "")
    )
    print(
        f"{STEPS} full-batch steps each; steps: the first within tolerance of optimum"
    )
    print(header)
    print("-" * len(header))
    results = {}
    for problem, cfg in PROBLEMS.items():
        loss = make_loss(problem, gdlite)
        res = gp.compare_optimizers(
            loss,
            start_of(problem),
            cfg["optimizers"],
            steps=STEPS,
            w_range=cfg["w_range"],
            b_range=cfg["b_range"],
            progress=False,  # a bar between the table's rows would garble it
        )
        results[problem] = res
        target = optimum_loss(problem) + cfg["tolerance"]
        for name, spec in cfg["optimizers"].items():
            losses = res.losses[name]
            row = f"{problem:<11}{name:<10}" + cells(
                losses, target, res.seconds[name], 12
            )
            if torch is not None:
                cls, options = gp.resolve_optimizer(name, spec)
                t_losses, t_sec = run_torch(torch, problem, cls.__name__, options)
                row += cells(t_losses, target, t_sec, 13)
            print(row)
        write_figures(gp, plt, problem, res, loss, cfg, out)
    w, b = results["regression"].paths["Adam"][-1]
    print(f"regression fitted by Adam: w = {w:.4f}, b = {b:.4f} (true 2, 1)")
    print(f"figures written to {out}")
    for name in sorted(os.listdir(out)):
        print(f"  {name}")


def write_figures(gp, plt, problem, res, loss, cfg, out) -> None:
    """Surface with all paths, contours with paths and curves, fit, animation."""
    res.fig.savefig(os.path.join(out, f"{problem}_paths.png"), dpi=90)
    surface = gp.loss_surface(loss, cfg["w_range"], cfg["b_range"], n=41)
    fig, ax, _ = gp.plot_surface(surface)
    for name, path in res.paths.items():
        ax.plot(path[:, 0], path[:, 1], res.losses[name], label=name, lw=2)
    ax.legend(fontsize="small")
    fig.savefig(os.path.join(out, f"{problem}_surface.png"), dpi=90)
    fig, _, _ = gp.plot_loss_curves(res.losses, log=True)
    fig.savefig(os.path.join(out, f"{problem}_losses.png"), dpi=90)
    if problem == "regression":
        xs, ys, _ = regression_data()
        w, b = res.paths["Adam"][-1]
        fig, _, _ = gp.plot_fit(xs, ys, lambda t: w * t + b, kind="regression")
        fig.savefig(os.path.join(out, "regression_fit.png"), dpi=90)
        anim = gp.animate_path(surface, res.paths, max_frames=25)
        gif = os.path.join(out, "regression_paths.gif")
        gp.save_animation(anim, gif, fps=8, dpi=60)
    plt.close("all")


if __name__ == "__main__":
    main()
