"""Many training runs at once: a grid of configurations times a list of seeds.

:func:`sweep` runs ``train_fn(config, seed)`` for every configuration of a
grid and every seed, on worker processes of this machine by default or on any
:class:`concurrent.futures.Executor` (a Dask cluster's ``client.get_executor()``
included), and returns a :class:`SweepResult` with one row per run.

Each run starts from the same random state wherever and whenever it runs:
before calling ``train_fn`` the worker seeds gdlite's default generator,
Python's ``random`` and NumPy's legacy global generator with the run's seed,
so results do not depend on the executor, the number of workers or the order
in which runs finish.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import math
import multiprocessing
import os
import random
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["SweepResult", "expand_grid", "sweep"]

_ROW_KEYS = ("config", "seed", "loss", "steps_to_tol", "time", "losses", "error")


def expand_grid(grid: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[dict]:
    """The configurations of a grid: the product of a dict of lists, in order.

    A value that is not a list or tuple is held fixed. A sequence of dicts is
    taken as the configurations themselves.

    >>> expand_grid({"lr": [0.1, 0.01], "optimizer": ["SGD", "Adam"], "epochs": 5})
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'lr': 0.1, 'optimizer': 'SGD', 'epochs': 5},
     {'lr': 0.1, 'optimizer': 'Adam', 'epochs': 5},
     {'lr': 0.01, 'optimizer': 'SGD', 'epochs': 5},
     {'lr': 0.01, 'optimizer': 'Adam', 'epochs': 5}]
    """
    if isinstance(grid, Mapping):
        keys = list(grid)
        for key in keys:
            if not isinstance(key, str):
                raise TypeError(f"grid keys must be strings, got {key!r}")
        values = [
            list(v) if isinstance(v, (list, tuple)) else [v] for v in grid.values()
        ]
        for key, vals in zip(keys, values, strict=True):
            if not vals:
                raise ValueError(f"grid entry {key!r} has no values")
        combos = itertools.product(*values)
        return [dict(zip(keys, combo, strict=True)) for combo in combos]
    if isinstance(grid, (list, tuple)) and all(isinstance(g, Mapping) for g in grid):
        return [dict(g) for g in grid]
    raise TypeError(
        "grid must be a dict of lists or a list of configuration dicts, "
        f"got {type(grid).__name__}"
    )


def _seeds(seeds: int | Iterable[int]) -> list[int]:
    if isinstance(seeds, bool):
        raise TypeError("seeds must be a count or a list of integers")
    if isinstance(seeds, int):
        if seeds < 1:
            raise ValueError(f"seeds must be at least 1, got {seeds}")
        return list(range(seeds))
    out = []
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"seeds must be integers, got {s!r}")
        out.append(int(s))
    if not out:
        raise ValueError("seeds is empty")
    return out


def _float(v: Any) -> float:
    item = getattr(v, "item", None)
    return float(item() if item is not None else v)


def _outcome(value: Any) -> tuple[float, list[float] | None, dict]:
    """(final loss, loss curve or None, other metrics) from train_fn's result."""
    extra: dict = {}
    if isinstance(value, Mapping):
        extra = {k: v for k, v in value.items() if k not in ("loss", "losses")}
        curve = value.get("losses")
        losses = None if curve is None else [_float(v) for v in curve]
        if "loss" in value:
            loss = _float(value["loss"])
        elif losses:
            loss = losses[-1]
        else:
            raise ValueError(
                "train_fn returned a dict with neither 'loss' nor 'losses'"
            )
        return loss, losses, extra
    if isinstance(value, (list, tuple, np.ndarray)):
        losses = [_float(v) for v in np.ravel(np.asarray(value, dtype=object))]
        if not losses:
            raise ValueError("train_fn returned an empty loss curve")
        return losses[-1], losses, extra
    return _float(value), None, extra


def _steps_to(losses: list[float] | None, tol: float | None) -> int | None:
    """The 1-based step at which the loss first reached tol, or None."""
    if tol is None or not losses:
        return None
    for i, v in enumerate(losses):
        if v <= tol:
            return i + 1
    return None


def _run_one(train_fn: Callable, config: dict, seed: int, tol: float | None) -> dict:
    """One run in a worker: seed everything, call train_fn, time it, catch errors."""
    import gdlite

    gdlite.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    row = dict.fromkeys(_ROW_KEYS)
    row.update(config=config, seed=seed)
    start = time.perf_counter()
    try:
        value = train_fn(dict(config), seed)
        row["time"] = time.perf_counter() - start
        loss, losses, extra = _outcome(value)
    except Exception as exc:  # a failing run is reported in its row
        row["time"] = time.perf_counter() - start
        row["loss"] = math.nan
        row["error"] = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        row["traceback"] = traceback.format_exc()
        return row
    row.update(loss=loss, losses=losses, steps_to_tol=_steps_to(losses, tol))
    row.update(extra)
    return row


class SweepResult(Sequence):
    """The rows of a sweep, one per (configuration, seed), in grid order.

    Each row is a dict with ``config``, ``seed``, ``loss`` (final), ``steps_to_tol``
    (the first step whose loss reached ``tol``, or None), ``time`` (seconds of
    wall time inside the worker), ``losses`` (the curve, if train_fn returned
    one), ``error`` (None, or the exception of a failed run) and any other
    metrics train_fn returned in its dict.
    """

    def __init__(self, rows: list[dict], grid_keys: list[str]):
        self.rows = rows
        self.grid_keys = grid_keys

    def __getitem__(self, index):
        return self.rows[index]

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        failed = sum(row["error"] is not None for row in self.rows)
        return f"SweepResult({len(self.rows)} runs, {failed} failed)"

    @property
    def failed(self) -> list[dict]:
        """The rows whose run raised."""
        return [row for row in self.rows if row["error"] is not None]

    def groups(self) -> dict[tuple, list[dict]]:
        """Rows grouped by configuration (the grid values as a tuple), in order."""
        out: dict[tuple, list[dict]] = {}
        for row in self.rows:
            key = tuple(row["config"].get(k) for k in self.grid_keys)
            out.setdefault(key, []).append(row)
        return out

    def best(self, key: str = "loss") -> dict:
        """The successful row with the smallest ``key``."""
        ok = [r for r in self.rows if r["error"] is None and not math.isnan(r[key])]
        if not ok:
            raise ValueError("no run finished")
        return min(ok, key=lambda r: r[key])

    def records(self) -> list[dict]:
        """Flat rows: the grid values as columns next to the run's results."""
        out = []
        for row in self.rows:
            flat = {k: row["config"].get(k) for k in self.grid_keys}
            flat.update(
                {k: v for k, v in row.items() if k not in ("config", "traceback")}
            )
            out.append(flat)
        return out

    def to_pandas(self):
        """The rows as a pandas DataFrame, one column per grid key (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("SweepResult.to_pandas needs pandas installed") from exc
        return pd.DataFrame.from_records(self.records())


def _default_executor(max_workers: int | None) -> concurrent.futures.Executor:
    # fork lets train functions defined in a notebook or script run in workers;
    # where it does not exist (Windows, macOS default) spawn needs them importable.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    workers = max_workers or os.cpu_count() or 1
    return concurrent.futures.ProcessPoolExecutor(workers, mp_context=context)


def _progress(total: int, progress: bool | None) -> Any:
    if progress is False:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        if progress:
            raise
        return None
    return tqdm(
        total=total, desc="sweep", unit="run", disable=progress is None and total < 2
    )


def _failed_row(config: dict, seed: int, exc: BaseException) -> dict:
    row = dict.fromkeys(_ROW_KEYS)
    row.update(config=config, seed=seed, loss=math.nan)
    row["error"] = f"{type(exc).__name__}: {exc}"
    return row


def _pool_broke(row: dict) -> bool:
    return (row["error"] or "").startswith("BrokenProcessPool")


def _collect(executor, train_fn, tasks, which, tol, rows, bar) -> None:
    """Runs tasks[i] for i in which on executor, filling rows[i] as they finish."""
    futures = {executor.submit(_run_one, train_fn, *tasks[i], tol): i for i in which}
    for future in concurrent.futures.as_completed(futures):
        i = futures[future]
        try:
            rows[i] = future.result()
        except Exception as exc:  # the worker itself failed (pickling, crash)
            rows[i] = _failed_row(*tasks[i], exc)
        if bar is not None:
            bar.update(1)


def sweep(
    train_fn: Callable[[dict, int], Any],
    grid: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    seeds: int | Iterable[int] = 1,
    executor: concurrent.futures.Executor | None = None,
    *,
    tol: float | None = None,
    max_workers: int | None = None,
    progress: bool | None = None,
) -> SweepResult:
    """Run ``train_fn(config, seed)`` for every configuration and seed of a grid.

    ``grid`` is a dict of lists (expanded to their product, see :func:`expand_grid`)
    or a list of configuration dicts; ``seeds`` a count (seeds 0..n-1) or a list
    of integers. ``train_fn`` returns the final loss (a number or 0-d tensor),
    the loss curve (a sequence), or a dict with ``"loss"`` and/or ``"losses"``
    and any other metrics. It must be picklable for process and cluster
    executors (a module-level function; on Linux a function defined in a
    notebook works with the default executor).

    By default the runs go to worker processes of this machine, one per core
    (``max_workers`` to change). Any ``concurrent.futures.Executor`` may be
    given instead, e.g. a Dask cluster's ``client.get_executor()``; an executor
    passed in is not shut down. ``tol`` fills each row's ``steps_to_tol``.
    A run that raises is reported in its row (``error``) and the others finish.
    A progress bar (tqdm) shows while runs finish. Thread executors share one
    random generator between their runs: use processes (or one thread).

    Example::

        def train(config, seed):
            w = gdlite.zeros(1, requires_grad=True)
            opt = getattr(gdlite.optim, config["optimizer"])([w], lr=config["lr"])
            losses = []
            for _ in range(100):
                opt.zero_grad()
                loss = ((3 * w - 6) ** 2).mean()
                loss.backward()
                opt.step()
                losses.append(loss.item())
            return losses

        result = gdlite.sweep(train, {"optimizer": ["SGD", "Adam"], "lr": [0.01, 0.1]},
                              seeds=3, tol=1e-3)
        result.to_pandas()
    """
    if not callable(train_fn):
        raise TypeError(f"train_fn must be callable, got {type(train_fn).__name__}")
    configs = expand_grid(grid)
    seed_list = _seeds(seeds)
    grid_keys = (
        list(grid)
        if isinstance(grid, Mapping)
        else sorted({k for c in configs for k in c})
    )
    tasks = [(config, seed) for config in configs for seed in seed_list]
    owned = executor is None
    if owned:
        executor = _default_executor(max_workers)
    elif not isinstance(executor, concurrent.futures.Executor):
        raise TypeError(
            "executor must be a concurrent.futures.Executor, got "
            f"{type(executor).__name__}"
        )
    bar = _progress(len(tasks), progress)
    rows: list[dict | None] = [None] * len(tasks)
    try:
        _collect(executor, train_fn, tasks, range(len(tasks)), tol, rows, bar)
    finally:
        if owned:
            executor.shutdown(wait=True, cancel_futures=True)
    if owned:
        # A worker that died (a crash, os._exit) breaks the whole pool and
        # every run still in it: run those again one at a time, each in a
        # fresh worker, so only a run that itself kills its worker fails.
        broken = [i for i, row in enumerate(rows) if _pool_broke(row)]
        for i in broken:
            with _default_executor(1) as alone:
                _collect(alone, train_fn, tasks, [i], tol, rows, None)
    if bar is not None:
        bar.close()
    return SweepResult(rows, grid_keys)  # type: ignore[arg-type]
