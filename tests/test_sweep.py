"""gdlite.sweep: grids times seeds on processes, threads and a Dask cluster.

The oracle for every run is the same training function called directly in
this process after seeding as the sweep promises (gdlite, random, NumPy):
rows must equal it bit for bit whatever executor ran them and in whatever
order they finished.
"""

import concurrent.futures
import itertools
import json
import math
import os
import pathlib
import random
import subprocess
import sys

import matplotlib
import numpy as np
import pytest
from sanitizer import SANITIZED, needs_fork

import gdlite
import gdlite.plot

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

GRID = {"optimizer": ["SGD", "Adam"], "lr": [0.01, 0.1, 50.0], "steps": 30}


def train(config, seed):
    """The course regression problem with random data and init per seed."""
    x = gdlite.randn(40, 1)
    noise = float(np.random.normal()) + random.random()
    y = 2 * x + 1 + 0.1 * gdlite.randn(40, 1) + noise
    model = gdlite.nn.Linear(1, 1)
    opt_class = getattr(gdlite.optim, config["optimizer"])
    opt = opt_class(model.parameters(), lr=config["lr"])
    losses = []
    for _ in range(config["steps"]):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    if not math.isfinite(losses[-1]):
        raise FloatingPointError(f"diverged at lr={config['lr']}")
    return {"losses": losses, "weight": model.weight.item()}


def direct(config, seed):
    gdlite.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    return train(config, seed)


def check_rows(result, seeds):
    configs = [
        dict(zip(GRID, combo, strict=True))
        for combo in itertools.product(
            *[v if isinstance(v, list) else [v] for v in GRID.values()]
        )
    ]
    assert len(result) == len(configs) * len(seeds)
    for row, (config, seed) in zip(
        result, itertools.product(configs, seeds), strict=True
    ):
        assert row["config"] == config and row["seed"] == seed
        try:
            want = direct(config, seed)
        except FloatingPointError as exc:
            assert row["error"] == f"FloatingPointError: {exc}"
            assert math.isnan(row["loss"]) and row["losses"] is None
            continue
        assert row["error"] is None
        assert row["losses"] == want["losses"]  # bit for bit
        assert row["loss"] == want["losses"][-1]
        assert row["weight"] == want["weight"]
        assert row["time"] > 0


@pytest.fixture(scope="module")
def local_result():
    if SANITIZED:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return gdlite.sweep(train, GRID, seeds=[3, 4], executor=pool)
    return gdlite.sweep(train, GRID, seeds=[3, 4], max_workers=2, progress=False)


@needs_fork
def test_local_processes_equal_direct_runs(local_result):
    check_rows(local_result, [3, 4])
    assert len(local_result.failed) == 2  # SGD at lr=50 diverges, for both seeds
    assert {r["config"]["lr"] for r in local_result.failed} == {50.0}


def test_one_thread_equals_processes(local_result):
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        threaded = gdlite.sweep(train, GRID, seeds=[3, 4], executor=pool)
    for a, b in zip(threaded, local_result, strict=True):
        assert a["losses"] == b["losses"] and a["error"] == b["error"]


# Run in its own interpreter: a cluster leaves threads behind in the process
# that made it (event loop, offload pool), and later tests here fork.
DASK_SWEEP = """
import json, sys
import cloudpickle, distributed
import gdlite
sys.path.insert(0, sys.argv[1])
import test_sweep
# The workers cannot import this test module by name: send train by value.
cloudpickle.register_pickle_by_value(test_sweep)
with (
    distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster,
    distributed.Client(cluster) as client,
):
    result = gdlite.sweep(
        test_sweep.train, test_sweep.GRID, seeds=[3, 4],
        executor=client.get_executor(),
    )
print(json.dumps([[row["losses"], row["error"]] for row in result]))
"""


def test_dask_cluster_equals_local(local_result):
    pytest.importorskip("distributed")
    here = pathlib.Path(__file__).parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", DASK_SWEEP, str(here)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads(done.stdout.splitlines()[-1])
    for (losses, error), b in zip(rows, local_result, strict=True):
        assert losses == b["losses"], b["config"]
        assert error == b["error"]


@needs_fork
def test_steps_to_tolerance_and_final_loss():
    result = gdlite.sweep(
        train,
        {"optimizer": "SGD", "lr": 0.1, "steps": 30},
        seeds=2,
        tol=1.0,
        max_workers=1,
    )
    for row in result:
        losses = row["losses"]
        hits = [i + 1 for i, v in enumerate(losses) if v <= 1.0]
        assert row["steps_to_tol"] == (hits[0] if hits else None)
    assert [r["seed"] for r in result] == [0, 1]


def test_return_forms():
    def number(config, seed):
        return gdlite.tensor(config["v"] * 2.0)

    def curve(config, seed):
        return [gdlite.tensor(3.0), np.float32(config["v"])]

    pool = concurrent.futures.ThreadPoolExecutor(1)
    row = gdlite.sweep(number, {"v": [1.5]}, executor=pool)[0]
    assert row["loss"] == 3.0 and row["losses"] is None
    row = gdlite.sweep(curve, {"v": [0.25]}, executor=pool)[0]
    assert row["losses"] == [3.0, 0.25] and row["loss"] == 0.25
    pool.shutdown()


def test_grid_forms_and_errors():
    assert gdlite._sweep.expand_grid({"a": [1, 2], "b": (3, 4), "c": 5}) == [
        {"a": a, "b": b, "c": 5} for a in (1, 2) for b in (3, 4)
    ]
    assert gdlite._sweep.expand_grid([{"a": 1}, {"b": 2}]) == [{"a": 1}, {"b": 2}]
    with pytest.raises(ValueError, match="no values"):
        gdlite.sweep(train, {"lr": []})
    with pytest.raises(TypeError, match="grid must be"):
        gdlite.sweep(train, [1, 2])
    with pytest.raises(ValueError, match="at least 1"):
        gdlite.sweep(train, GRID, seeds=0)
    with pytest.raises(TypeError, match="integers"):
        gdlite.sweep(train, GRID, seeds=[1.5])
    with pytest.raises(TypeError, match="Executor"):
        gdlite.sweep(train, GRID, executor=object())
    with pytest.raises(TypeError, match="callable"):
        gdlite.sweep(None, GRID)


@needs_fork
def test_unpicklable_function_is_reported_per_row():
    result = gdlite.sweep(
        lambda c, s: 1.0, {"a": [1, 2]}, max_workers=1, progress=False
    )
    # fork start method: lambdas cannot be pickled for the worker
    assert len(result.failed) == 2
    assert all("pickle" in row["error"].lower() for row in result.failed)


def test_to_pandas_and_best(local_result):
    pd = pytest.importorskip("pandas")
    frame = local_result.to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame["optimizer"]) == [r["config"]["optimizer"] for r in local_result]
    assert list(frame["lr"]) == [r["config"]["lr"] for r in local_result]
    finite = [r for r in local_result if r["error"] is None]
    assert local_result.best() is min(finite, key=lambda r: r["loss"])


def test_plot_sweep_curves(local_result):
    fig, ax, lines = gdlite.plot.plot_sweep_curves(local_result)
    groups = local_result.groups()
    finished = [k for k, rows in groups.items() if rows[0]["error"] is None]
    assert len(lines) == len(finished)
    for values in finished:
        rows = groups[values]
        label = ", ".join(
            f"{k}={v}" for k, v in zip(local_result.grid_keys, values, strict=True)
        )
        mean = np.mean([r["losses"] for r in rows], axis=0)
        np.testing.assert_allclose(lines[label].get_ydata(), mean)
    assert ax.get_yscale() == "log"
    plt.close(fig)


def test_plot_sweep_final(local_result):
    fig, ax, lines = gdlite.plot.plot_sweep_final(
        local_result, x="lr", group="optimizer"
    )
    assert set(lines) == {"SGD", "Adam"}
    for name, line in lines.items():
        rows = [
            r
            for r in local_result
            if r["config"]["optimizer"] == name and r["error"] is None
        ]
        xs = sorted({r["config"]["lr"] for r in rows})
        assert list(line.get_xdata()) == xs
        want = [
            np.mean([r["loss"] for r in rows if r["config"]["lr"] == x]) for x in xs
        ]
        np.testing.assert_allclose(line.get_ydata(), want)
    plt.close(fig)
    with pytest.raises(ValueError, match="not a grid key"):
        gdlite.plot.plot_sweep_final(local_result, x="momentum")


def crash_on_two(config, seed):
    if config["a"] == 2:
        os._exit(3)  # the worker process dies, taking its pool with it
    return float(config["a"])


@needs_fork
def test_a_dying_worker_fails_only_its_own_run():
    result = gdlite.sweep(crash_on_two, {"a": [1, 2, 3, 4]}, max_workers=2)
    assert [r["loss"] for r in result if r["error"] is None] == [1.0, 3.0, 4.0]
    (failed,) = result.failed
    assert failed["config"] == {"a": 2}
    assert failed["error"].startswith("BrokenProcessPool")
