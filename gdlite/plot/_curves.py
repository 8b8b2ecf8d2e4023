"""Loss curves: several runs on one axis, per step or per epoch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ._record import PathRecorder, _as_float


def _losses(run: Any, per: str, name: str) -> np.ndarray:
    if isinstance(run, PathRecorder):
        return run.epoch_losses if per == "epoch" else run.losses
    if isinstance(run, np.ndarray):
        arr = run.astype(np.float64)
    else:
        arr = np.asarray([_as_float(v) for v in run], dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"losses of {name!r} must be 1-D, got shape {arr.shape}")
    return arr


def plot_loss_curves(
    runs: Any,
    per: str = "step",
    log: bool = False,
    *,
    ax: Any = None,
    steps_per_epoch: int | None = None,
) -> tuple[Any, Any, dict]:
    """Draw loss curves of several runs on one axis, one legend entry each.

    ``runs`` maps names to sequences of losses (numbers or scalar tensors) or
    to PathRecorders; a single sequence is accepted too. ``per="epoch"`` uses a
    recorder's per-epoch losses, or averages every ``steps_per_epoch`` losses;
    ``log=True`` draws the loss on a log scale. Returns ``(fig, ax, {name: Line2D})``.

    Example::

        gdlite.plot.plot_loss_curves({"SGD": sgd_losses, "Adam": adam_losses}, log=True)
    """
    import matplotlib.pyplot as plt

    if per not in ("step", "epoch"):
        raise ValueError(f"per must be 'step' or 'epoch', got {per!r}")
    if not isinstance(runs, Mapping):
        runs = {"loss": runs}
    if not runs:
        raise ValueError("no runs to draw")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4))
    else:
        fig = ax.figure
    lines = {}
    for name, run in runs.items():
        y = _losses(run, per, str(name))
        if per == "epoch" and steps_per_epoch is not None:
            if steps_per_epoch < 1 or y.size % steps_per_epoch:
                raise ValueError(
                    f"{name!r} has {y.size} losses, not a whole number of epochs of "
                    f"{steps_per_epoch} steps"
                )
            y = y.reshape(-1, steps_per_epoch).mean(axis=1)
        x = np.arange(1, y.size + 1) if per == "epoch" else np.arange(y.size)
        (lines[str(name)],) = ax.plot(x, y, label=str(name))
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(per)
    ax.set_ylabel("loss")
    many = sum(len(line.get_xdata()) for line in lines.values()) > 1000
    ax.legend(loc="upper right" if many else "best", fontsize="small")
    return fig, ax, lines
