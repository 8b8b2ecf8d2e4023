"""`python -m gdlite.demo` runs headless, prints its table and writes its figures."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from gdlite import demo  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPTIMIZERS = ["SGD", "Momentum", "Nesterov", "Adagrad", "RMSprop", "Adam"]
ROW = re.compile(r"^(regression|neuron)\s+(\w+)\s+(\S+)\s+(\d+|-)\s+(\S+)(.*)$", re.M)


def run_demo(out, code=None):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=ROOT)
    cmd = [sys.executable, "-m", "gdlite.demo", "--out", str(out)]
    if code is not None:
        cmd = [sys.executable, "-c", code, "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def numpy_gd_losses(steps, lr=0.1):
    """Full-batch gradient descent on the regression problem, in float64."""
    x, y, (w, b) = demo.regression_data()
    x, y = x.ravel(), y.ravel()
    losses = []
    for _ in range(steps + 1):
        err = w * x + b - y
        losses.append(np.mean(err**2))
        w, b = w - lr * 2 * np.mean(err * x), b - lr * 2 * np.mean(err)
    return np.array(losses)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return run_demo(out), out


def test_table_has_a_row_per_problem_and_optimizer(demo_run):
    stdout, _ = demo_run
    rows = ROW.findall(stdout)
    assert [(p, o) for p, o, *_ in rows] == [
        (p, o) for p in ("regression", "neuron") for o in OPTIMIZERS
    ]
    for *_, rest in rows:
        # torch columns are present when torch is importable (it is, in the tests)
        assert len(rest.split()) == 3


def test_regression_sgd_row_matches_a_numpy_loop(demo_run):
    stdout, _ = demo_run
    rows = {(p, o): r for p, o, *r in ROW.findall(stdout)}
    final, steps = rows[("regression", "SGD")][:2]
    losses = numpy_gd_losses(demo.STEPS)
    assert float(final) == pytest.approx(losses[-1], rel=1e-5)
    target = demo.optimum_loss("regression") + demo.PROBLEMS["regression"]["tolerance"]
    want = int(np.nonzero(losses <= target)[0][0])
    assert abs(int(steps) - want) <= 1  # float32 against float64 at the threshold
    w, b = map(float, re.search(r"w = (\S+), b = (\S+) ", stdout).groups())
    x, y, _ = demo.regression_data()
    slope, intercept = np.polyfit(x.ravel(), y.ravel(), 1)
    assert (w, b) == (
        pytest.approx(slope, abs=1e-3),
        pytest.approx(intercept, abs=1e-3),
    )


def test_figures_are_written_where_it_says(demo_run):
    stdout, out = demo_run
    assert f"figures written to {out}" in stdout
    names = set(os.listdir(out))
    for problem in ("regression", "neuron"):
        for kind in ("paths", "surface", "losses"):
            assert f"{problem}_{kind}.png" in names
    assert "regression_fit.png" in names
    assert names & {"regression_paths.gif", "regression_paths.html"}
    for name in names:
        with open(os.path.join(out, name), "rb") as f:
            head = f.read(4)
        magic = {".png": b"\x89PNG", ".gif": b"GIF8"}.get(os.path.splitext(name)[1])
        assert magic is None or head == magic, name


def test_runs_without_torch(tmp_path):
    # torch made unimportable: the table has the gdlite columns only.
    code = (
        "import sys, runpy; sys.modules['torch'] = None; "
        "runpy.run_module('gdlite.demo', run_name='__main__')"
    )
    stdout = run_demo(tmp_path, code)
    rows = ROW.findall(stdout)
    assert len(rows) == 12
    assert all(rest.strip() == "" for *_, rest in rows)
    assert "torch loss" not in stdout
