"""Figures of a sweep: loss curves per configuration, final loss against a value."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def _label(keys: list[str], values: tuple) -> str:
    return ", ".join(f"{k}={v}" for k, v in zip(keys, values, strict=True))


def _check_key(result: Any, key: str | None, what: str) -> None:
    if key is not None and key not in result.grid_keys:
        raise ValueError(
            f"{what} {key!r} is not a grid key; the grid has {result.grid_keys}"
        )


def plot_sweep_curves(
    result: Any, *, log: bool = True, band: bool = True, ax: Any = None
) -> tuple[Any, Any, dict]:
    """Loss curves of a sweep, one line per configuration (the mean over seeds).

    With ``band=True`` the range over seeds is shaded around each mean. Runs
    that failed or returned no curve are left out. Returns
    ``(fig, ax, {label: Line2D})``.

    Example::

        grid = {"optimizer": ["SGD", "Adam"], "lr": [0.01, 0.1]}
        result = gdlite.sweep(train, grid, seeds=3)
        gdlite.plot.plot_sweep_curves(result)
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4))
    else:
        fig = ax.figure
    lines = {}
    for values, rows in result.groups().items():
        curves = [r["losses"] for r in rows if r["error"] is None and r["losses"]]
        if not curves:
            continue
        n = min(len(c) for c in curves)
        stack = np.array([c[:n] for c in curves], dtype=np.float64)
        steps = np.arange(1, n + 1)
        label = _label(result.grid_keys, values)
        (line,) = ax.plot(steps, stack.mean(axis=0), label=label)
        if band and len(curves) > 1:
            ax.fill_between(
                steps,
                stack.min(axis=0),
                stack.max(axis=0),
                alpha=0.2,
                color=line.get_color(),
            )
        lines[label] = line
    if not lines:
        raise ValueError("no run of the sweep returned a loss curve")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend(fontsize="small")
    return fig, ax, lines


def plot_sweep_final(
    result: Any,
    x: str,
    group: str | None = None,
    *,
    log: bool = True,
    ax: Any = None,
) -> tuple[Any, Any, dict]:
    """Final loss against one grid value (e.g. the learning rate), one line per group.

    Each point is the mean over seeds (and over grid keys other than ``x`` and
    ``group``) of the final loss; failed or diverged (non-finite) runs are left
    out. ``log=True`` puts both axes on log scales. Returns
    ``(fig, ax, {group value: Line2D})``.

    Example::

        gdlite.plot.plot_sweep_final(result, x="lr", group="optimizer")
    """
    import matplotlib.pyplot as plt

    _check_key(result, x, "x")
    _check_key(result, group, "group")
    points: dict[Any, dict[Any, list[float]]] = {}
    for row in result:
        loss = row["loss"]
        if row["error"] is not None or loss is None or not math.isfinite(loss):
            continue
        g = row["config"].get(group) if group is not None else "final loss"
        points.setdefault(g, {}).setdefault(row["config"][x], []).append(loss)
    if not points:
        raise ValueError("no run of the sweep finished with a finite loss")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4))
    else:
        fig = ax.figure
    lines = {}
    for g, by_x in points.items():
        xs = sorted(by_x)
        ys = [float(np.mean(by_x[v])) for v in xs]
        (lines[g],) = ax.plot(xs, ys, marker="o", label=str(g))
    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel("final loss")
    if group is not None:
        ax.legend(title=group, fontsize="small")
    return fig, ax, lines
