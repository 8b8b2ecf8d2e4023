"""Wall time of a 64-run sweep: one worker, every core, and a Dask local cluster.

The grid is the course regression problem (nn.Linear(1, 1), MSE, 100 points
of Godoy's chapter-1 data) over 4 optimizers x 4 learning rates x 4 seeds,
each run 2,000 full-batch steps. Each executor runs the whole grid `--repeat`
times; the median wall time is printed with the speed-up over one worker.
The Dask cluster is started once, outside the timing, as a user would keep
it. Every executor's rows must equal the single worker's, bit for bit.

    .venv/bin/python benchmarks/bench_sweep.py [--repeat N] [--steps N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

import gdlite

GRID = {
    "optimizer": ["SGD", "Momentum", "RMSprop", "Adam"],
    "lr": [0.003, 0.01, 0.03, 0.1],
    "steps": 2000,
}


def train(config: dict, seed: int) -> list[float]:
    """Godoy's chapter-1 regression with a per-seed noise draw and init."""
    rng = np.random.RandomState(42)
    x_np = rng.rand(100, 1)
    y_np = 1 + 2 * x_np + 0.1 * rng.randn(100, 1)
    x = gdlite.as_tensor(x_np).float()
    y = gdlite.as_tensor(y_np).float() + 0.01 * gdlite.randn(100, 1)
    model = gdlite.nn.Linear(1, 1)
    loss_fn = gdlite.nn.MSELoss()
    name, lr = config["optimizer"], config["lr"]
    if name == "Momentum":
        opt = gdlite.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    else:
        opt = getattr(gdlite.optim, name)(model.parameters(), lr=lr)
    losses = []
    for _ in range(config["steps"]):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def timed(run, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--steps", type=int, default=GRID["steps"])
    args = parser.parse_args()
    grid = dict(GRID, steps=args.steps)
    cores = os.cpu_count() or 1
    runs = len(gdlite._sweep.expand_grid(grid)) * 4

    def sweep(**kwargs):
        return gdlite.sweep(train, grid, seeds=4, progress=False, **kwargs)

    rows = []
    base_time, base = timed(lambda: sweep(max_workers=1), args.repeat)
    rows.append(("1 worker process", base_time, True))
    t, res = timed(lambda: sweep(max_workers=cores), args.repeat)
    rows.append((f"{cores} worker processes", t, _same(res, base)))
    try:
        import cloudpickle
        from distributed import Client, LocalCluster
    except ImportError:
        print("Dask distributed not installed: its row is skipped", file=sys.stderr)
    else:
        cloudpickle.register_pickle_by_value(sys.modules[__name__])
        with (
            LocalCluster(
                n_workers=cores, threads_per_worker=1, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            executor = client.get_executor()
            t, res = timed(lambda: sweep(executor=executor), args.repeat)
        rows.append((f"Dask LocalCluster, {cores} workers", t, _same(res, base)))
    print(f"sweep of {runs} runs x {args.steps} steps (median of {args.repeat})")
    print(f"{'executor':34} {'wall s':>8} {'speed-up':>9} {'rows equal':>11}")
    for name, t, same in rows:
        print(f"{name:34} {t:8.2f} {base_time / t:8.2f}x {str(same):>11}")


def _same(result, base) -> bool:
    return all(a["losses"] == b["losses"] for a, b in zip(result, base, strict=True))


if __name__ == "__main__":
    main()
