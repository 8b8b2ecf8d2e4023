"""Optimizer paths on a loss's contours, and running several optimizers."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from ._record import PathRecorder, _as_float
from ._surface import Surface, _Problem, check_range, loss_surface, plot_contours


def as_path(
    path: Any, name: str = "path", columns: Sequence[int] | None = None
) -> np.ndarray:
    """A path as a float array of shape (steps, 2) (two chosen columns)."""
    arr = (
        path.path
        if isinstance(path, PathRecorder)
        else np.asarray(path, dtype=np.float64)
    )
    if arr.ndim != 2:
        raise ValueError(
            f"path {name!r} must be 2-D (steps x parameters), got shape {arr.shape}"
        )
    if columns is None:
        if arr.shape[1] != 2:
            raise ValueError(
                f"path {name!r} has {arr.shape[1]} columns; "
                "choose two with columns=(i, j)"
            )
        return arr
    i, j = columns
    return arr[:, [i, j]]


def _flat(v: Any) -> np.ndarray:
    """A start value (number, array or tensor) as a flat float64 array."""
    if hasattr(v, "detach"):
        v = v.detach().numpy()
    return np.asarray(v, dtype=np.float64).ravel()


def _paths_mapping(paths: Any) -> Mapping:
    if isinstance(paths, Mapping):
        return paths
    return {"path": paths}


def plot_paths(
    target: Any,
    paths: Any,
    *,
    columns: Sequence[int] | None = None,
    w_range: Any = None,
    b_range: Any = None,
    markers: bool | None = None,
    legend: bool = True,
    **surface_kwargs: Any,
) -> tuple[Any, Any, dict]:
    """Draw one or several parameter paths, each with its own legend entry.

    ``target`` is an axes (e.g. from :func:`plot_contours`), a :class:`Surface`,
    or a loss with ``w_range``/``b_range`` (its contours are drawn first).
    ``paths`` maps names to arrays of shape (steps, 2) or to PathRecorders (a
    single path is accepted too); ``columns`` picks two columns of wider paths.
    Each path starts with a hollow circle; ``markers`` (default: paths of at
    most 100 points) dots every step. Returns ``(fig, ax, {name: Line2D})``.

    Example::

        fig, ax, _ = gdlite.plot.plot_contours(loss, (-6, 6), (-6, 6))
        gdlite.plot.plot_paths(ax, {"SGD": sgd.path, "Adam": adam.path})
    """
    arrays = {
        str(k): as_path(v, str(k), columns) for k, v in _paths_mapping(paths).items()
    }
    if hasattr(target, "plot") and hasattr(target, "figure"):
        fig, ax = target.figure, target
    else:
        if not isinstance(target, Surface):
            if w_range is None or b_range is None:
                # Frame the paths with a margin when no ranges are given.
                w_range, b_range = _frame(arrays.values())
            target = loss_surface(target, w_range, b_range, **surface_kwargs)
        fig, ax, _ = plot_contours(target)
    lines = {}
    for name, arr in arrays.items():
        dots = len(arr) <= 100 if markers is None else markers
        (line,) = ax.plot(
            arr[:, 0],
            arr[:, 1],
            marker="o" if dots else None,
            markersize=3,
            label=name,
        )
        if len(arr):
            ax.plot(
                arr[:1, 0], arr[:1, 1], "o", mfc="none", color=line.get_color(), ms=9
            )
        lines[name] = line
    if legend:
        # "best" scans every point at each draw: too slow for long paths.
        many = sum(len(a) for a in arrays.values()) > 1000
        ax.legend(loc="upper right" if many else "best", fontsize="small")
    return fig, ax, lines


def _frame(
    paths: Any, margin: float = 0.25
) -> tuple[tuple[float, float], tuple[float, float]]:
    pts = np.concatenate([p for p in paths if len(p)])
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    if not len(pts):
        raise ValueError("the paths have no finite point: give w_range and b_range")
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = np.maximum(hi - lo, 1e-3)
    lo, hi = lo - margin * span, hi + margin * span
    return (float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))


# Names accepted by compare_optimizers, as (class name in gdlite.optim, defaults).
_NAMED = {
    "sgd": ("SGD", {}),
    "momentum": ("SGD", {"momentum": 0.9}),
    "nesterov": ("SGD", {"momentum": 0.9, "nesterov": True}),
    "adagrad": ("Adagrad", {}),
    "rmsprop": ("RMSprop", {}),
    "adam": ("Adam", {}),
    "adamw": ("AdamW", {}),
    "adamax": ("Adamax", {}),
    "nadam": ("NAdam", {}),
    "adadelta": ("Adadelta", {}),
}


def resolve_optimizer(name: str, spec: Any) -> tuple[Any, dict]:
    """(optimizer class, options) from a name, a class, or (class or name, options)."""
    import gdlite.optim

    options: dict = {}
    if isinstance(spec, tuple):
        if len(spec) != 2 or not isinstance(spec[1], Mapping):
            raise TypeError(
                f"optimizer {name!r}: expected (class or name, options dict)"
            )
        spec, options = spec[0], dict(spec[1])
    if spec is None:
        spec = name
    if isinstance(spec, str):
        key = (
            spec.lower().replace(" ", "").replace("+", "").replace("sgd", "", 1)
            or "sgd"
        )
        entry = _NAMED.get(spec.lower()) or _NAMED.get(key)
        if entry is None:
            raise ValueError(
                f"unknown optimizer {spec!r}; known names: {', '.join(sorted(_NAMED))}"
            )
        cls_name, defaults = entry
        return getattr(gdlite.optim, cls_name), {**defaults, **options}
    if callable(spec):
        return spec, options
    raise TypeError(f"optimizer {name!r}: {type(spec).__name__} is not an optimizer")


def _configs(optimizers: Any) -> dict[str, tuple[Any, dict]]:
    if isinstance(optimizers, Mapping):
        items = list(optimizers.items())
    elif isinstance(optimizers, str):
        items = [(optimizers, None)]
    else:
        items = []
        for entry in optimizers:
            if isinstance(entry, str):
                items.append((entry, None))
            elif (
                isinstance(entry, tuple)
                and len(entry) == 2
                and isinstance(entry[0], str)
            ):
                items.append((entry[0], (entry[0], entry[1])))
            else:
                raise TypeError(
                    f"optimizer entry {entry!r}: expected a name or (name, options)"
                )
    if not items:
        raise ValueError("no optimizers to compare")
    return {str(name): resolve_optimizer(str(name), spec) for name, spec in items}


class Comparison(NamedTuple):
    """Result of :func:`compare_optimizers`.

    ``paths[name]`` has shape (steps + 1, parameters): the start, then the point
    after each step; ``losses[name][i]`` is the loss at ``paths[name][i]``;
    ``seconds[name]`` the time per step. ``fig``/``axes`` are None without a drawing.
    """

    paths: dict
    losses: dict
    seconds: dict
    names: list
    fig: Any
    axes: Any


def _progress(total: int, progress: bool | None, desc: str):
    if progress is False or (progress is None and total < 2000):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, leave=False)


def run_optimizer(
    problem: _Problem,
    start: np.ndarray,
    cls: Any,
    options: dict,
    steps: int,
    dtype,
    bar=None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Run one optimizer for ``steps`` steps; (path, losses, seconds per step)."""
    leaves = problem.leaves(start, dtype)
    opt = cls(leaves, **options)
    rows, losses = [], []
    elapsed = 0.0
    for _ in range(steps + 1):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = problem.loss(leaves)
        rows.append(
            np.concatenate(
                [np.asarray(t.detach().numpy(), np.float64).ravel() for t in leaves]
            )
        )
        losses.append(_as_float(loss))
        if len(rows) > steps:
            break  # the final point's loss, no step from it
        loss.backward()
        opt.step()
        elapsed += time.perf_counter() - t0
        if bar is not None:
            bar.update(1)
    return np.stack(rows), np.asarray(losses), elapsed / max(steps, 1)


def compare_optimizers(
    loss: Any,
    start: Any,
    optimizers: Any,
    steps: int = 100,
    *,
    params: Sequence[str] | None = None,
    dtype: Any = None,
    plot: bool = True,
    w_range: Any = None,
    b_range: Any = None,
    log: bool = True,
    progress: bool | None = None,
) -> Comparison:
    """Run several optimizers from the same start and draw their paths side by side.

    ``loss`` is a function of one scalar tensor per parameter (e.g. ``f(w, b)``)
    or ``(model, X, y, loss_fn)`` with ``params`` naming the model parameters to
    train (others stay fixed; all are restored afterwards). ``start`` is a
    sequence of values, one per parameter element (or a dict name -> value).
    ``optimizers`` is a dict ``{label: (gdlite.optim class or name, options)}``
    or a list of names / ``(name, options)``; names are SGD, Momentum (SGD,
    momentum 0.9), Nesterov, Adagrad, RMSprop, Adam, AdamW, Adamax, NAdam,
    Adadelta; an unknown name raises ValueError. With ``plot`` (two parameters),
    the paths on the contours and the loss curves are drawn side by side.
    ``progress``: a tqdm bar (if tqdm is installed); None shows it for long runs.

    Example::

        res = gdlite.plot.compare_optimizers(
            lambda w, b: loss(w, b), (-2.0, -2.0),
            {"SGD": ("SGD", {"lr": 1.0}), "Adam": (gdlite.optim.Adam, {"lr": 0.1})},
            steps=200)
        res.paths["Adam"].shape      # (201, 2)
        res.fig.savefig("paths.png")
    """
    import gdlite

    steps = int(steps)
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    if isinstance(start, Mapping):
        if params is None and isinstance(loss, tuple):
            params = list(start)
        values = list(start.values())
    else:
        values = list(start) if not hasattr(start, "detach") else [start]
    start_arr = np.concatenate([_flat(v) for v in values]) if values else np.empty(0)
    problem = _Problem(loss, params, nargs=start_arr.size)
    if isinstance(start, Mapping) and not isinstance(loss, tuple):
        if len(start) != start_arr.size:
            raise ValueError(
                "a start dict for a loss function needs one number per parameter, "
                f"got {start_arr.size} values for {len(start)} names"
            )
        problem.names = [str(k) for k in start]
    configs = _configs(optimizers)
    dtype = dtype or gdlite.get_default_dtype()
    saved = problem.values() if problem.model is not None else None
    paths, losses, seconds = {}, {}, {}
    bar = _progress(steps * len(configs), progress, "compare_optimizers")
    try:
        for name, (cls, options) in configs.items():
            paths[name], losses[name], seconds[name] = run_optimizer(
                problem, start_arr, cls, options, steps, dtype, bar
            )
    finally:
        if bar is not None:
            bar.close()
        if saved is not None:
            problem.set_values(saved)
    fig = axes = None
    if plot:
        fig, axes = _draw_comparison(problem, paths, losses, w_range, b_range, log)
    return Comparison(paths, losses, seconds, list(problem.names), fig, axes)


def _draw_comparison(problem, paths, losses, w_range, b_range, log):
    import matplotlib.pyplot as plt

    from ._curves import plot_loss_curves

    two = problem.size == 2
    fig, axes = plt.subplots(1, 2 if two else 1, figsize=(12 if two else 6, 5))
    axes = np.atleast_1d(axes)
    if two:
        if w_range is None or b_range is None:
            w_range, b_range = _frame(paths.values())
        check_range(w_range, "w_range")
        check_range(b_range, "b_range")
        surface = loss_surface(
            problem.fn if problem.model is None else _model_spec(problem),
            w_range,
            b_range,
            params=None if problem.model is None else _param_names(problem),
        )
        surface = surface._replace(names=(problem.names[0], problem.names[1]))
        plot_contours(surface, ax=axes[0])
        plot_paths(axes[0], paths)
        axes[0].set_title("paths")
    plot_loss_curves(losses, log=log, ax=axes[-1])
    axes[-1].set_title("loss")
    fig.tight_layout()
    return fig, axes


def _model_spec(problem: _Problem):
    return (problem.model, problem.X, problem.y, problem.loss_fn)


def _param_names(problem: _Problem) -> list[str]:
    named = {id(t): n for n, t in problem.model.named_parameters()}
    return [named[id(t)] for t in problem.tensors]
