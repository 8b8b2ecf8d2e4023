"""Speed of whole training steps and epochs against PyTorch, in one run.

Each case times the same training code (written once, as course code is, for
a module passed in as ``torch``) in both libraries: the median of repeated
runs, each run averaging a loop sized to take ~20 ms. Ratios above 1 mean
gdlite is faster. Optimizer steps alone are measured by bench_optim.py.

    .venv/bin/python benchmarks/bench_training.py [--quick] [--torch-threads N]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
import torch
from bench_core import fmt, per_call

import gdlite


def linear_step(lib) -> Callable[[], object]:
    """One step of the course's linear regression: nn.Linear(1, 1), MSELoss,
    SGD on 100 points (zero_grad, forward, loss, backward, step)."""
    rng = np.random.RandomState(42)
    x_np = rng.rand(100, 1)
    y_np = 1 + 2 * x_np + 0.1 * rng.randn(100, 1)
    x = lib.as_tensor(x_np).float()
    y = lib.as_tensor(y_np).float()
    lib.manual_seed(42)
    model = lib.nn.Linear(1, 1)
    loss_fn = lib.nn.MSELoss(reduction="mean")
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1)

    def step() -> object:
        optimizer.zero_grad()
        yhat = model(x)
        loss = loss_fn(yhat, y)
        loss.backward()
        optimizer.step()
        return loss

    return step


def digits() -> tuple[np.ndarray, np.ndarray, str]:
    """scikit-learn's digits (1797 x 64, ten classes), or a NumPy stand-in of
    the same shape and value range when scikit-learn is not installed."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        rng = np.random.RandomState(0)
        y = rng.randint(0, 10, size=1797)
        centers = rng.uniform(0, 16, size=(10, 64))
        x = np.clip(np.rint(centers[y] + rng.normal(0, 3, size=(1797, 64))), 0, 16)
        return x, y, "NumPy stand-in for digits (scikit-learn not installed)"
    data = load_digits()
    return data.data, data.target, "scikit-learn digits"


def mlp_epoch(lib) -> Callable[[], object]:
    """One epoch of a 64-128-10 ReLU MLP with CrossEntropyLoss and Adam over
    1797 rows, batch 32, shuffled loader."""
    x_np, y_np, _ = digits()
    x = lib.from_numpy(x_np / 16.0).float()
    y = lib.from_numpy(y_np.astype(np.int64))
    loader = lib.utils.data.DataLoader(
        lib.utils.data.TensorDataset(x, y), batch_size=32, shuffle=True
    )
    lib.manual_seed(0)
    nn = lib.nn
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    criterion = nn.CrossEntropyLoss()
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)

    def epoch() -> object:
        model.train()
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
        return loss

    return epoch


CASES = [
    ("Linear(1,1) MSE SGD, 1 step", linear_step, 10.0),
    ("MLP 64-128-10 Adam, 1 epoch", mlp_epoch, 2.0),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument(
        "--torch-threads", type=int, default=None, help="torch.set_num_threads"
    )
    args = parser.parse_args()
    if args.torch_threads is not None:
        torch.set_num_threads(args.torch_threads)
    repeats = 5 if args.quick else 15
    print(
        f"torch {torch.__version__} ({torch.get_num_threads()} threads); "
        f"median of {repeats} runs; MLP data: {digits()[2]}"
    )
    print(f"{'case':32s} {'gdlite':>11s} {'torch':>11s}  {'vs torch':>8s}  target")
    for name, make, target in CASES:
        g = per_call(make(gdlite), repeats)
        t = per_call(make(torch), repeats)
        verdict = "met" if t / g >= target else "MISSED"
        print(f"{name:32s} {fmt(g)} {fmt(t)}  {t / g:7.2f}x  >= {target:g}x {verdict}")


if __name__ == "__main__":
    main()
