"""Animations of a path on the contours, or of a fit, with matplotlib."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from ._paths import _paths_mapping, as_path, plot_paths


def _frames(n: int, max_frames: int) -> np.ndarray:
    """Indices of the steps shown: all of them, or ``max_frames`` spread evenly."""
    if n <= max_frames:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max_frames).round().astype(int))


def animate_path(
    target: Any,
    paths: Any,
    *,
    columns: Any = None,
    interval: int = 50,
    max_frames: int = 100,
    w_range: Any = None,
    b_range: Any = None,
) -> Any:
    """Animate one or several paths growing step by step over the contours.

    ``target`` and ``paths`` are as for :func:`plot_paths` (an axes, a
    :class:`Surface` or a loss with ranges; a dict of paths of equal length).
    Returns a ``matplotlib.animation.FuncAnimation``: ``anim.to_jshtml()`` shows
    it in Jupyter, :func:`save_animation` writes it as GIF or HTML.

    Example::

        s = gdlite.plot.loss_surface(loss, (-6, 6), (-6, 6))
        anim = gdlite.plot.animate_path(s, {"SGD": rec.path})
        gdlite.plot.save_animation(anim, "sgd.gif")
    """
    from matplotlib.animation import FuncAnimation

    arrays = {
        str(k): as_path(v, str(k), columns) for k, v in _paths_mapping(paths).items()
    }
    lengths = {len(a) for a in arrays.values()}
    if len(lengths) != 1:
        raise ValueError(
            "paths to animate together must have the same length, got "
            + ", ".join(f"{k}: {len(a)}" for k, a in arrays.items())
        )
    (n,) = lengths
    if n == 0:
        raise ValueError("the paths are empty: nothing to animate")
    fig, ax, lines = plot_paths(target, arrays, w_range=w_range, b_range=b_range)
    frames = _frames(n, max_frames)

    def update(k: int):
        for name, line in lines.items():
            line.set_data(arrays[name][: k + 1, 0], arrays[name][: k + 1, 1])
        return list(lines.values())

    update(0)
    anim = FuncAnimation(fig, update, frames=frames, interval=interval, blit=False)
    anim.gdlite_fig = fig
    return anim


def animate_fit(
    X: Any,
    y: Any,
    path: Any,
    predict: Callable[[np.ndarray, np.ndarray], Any] | None = None,
    *,
    interval: int = 50,
    max_frames: int = 100,
    ax: Any = None,
    figsize: tuple[float, float] = (6, 4.5),
    dpi: float | None = None,
) -> Any:
    """Animate a fitted curve changing along a recorded parameter path.

    ``path`` is an array (steps x parameters) or a PathRecorder; ``predict(x,
    row)`` returns the prediction at inputs ``x`` (1-D array) for one row of the
    path. Without ``predict`` the path's two columns are a line's (slope,
    intercept). It draws on ``ax`` if given, else on a new figure of
    ``figsize`` inches at ``dpi`` (smaller frames make smaller inline HTML).
    Returns a ``FuncAnimation``.

    Example::

        anim = gdlite.plot.animate_fit(x, y, rec.path)        # rows (w, b)
        html = anim.to_jshtml()
    """
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    from ._fit import _np

    arr = path.path if hasattr(path, "path") else np.asarray(path, dtype=np.float64)
    if arr.ndim != 2 or len(arr) == 0:
        raise ValueError(f"path must be a non-empty 2-D array, got shape {arr.shape}")
    if predict is None:
        if arr.shape[1] != 2:
            raise ValueError(
                f"without predict= the path must have 2 columns (slope, intercept), "
                f"got {arr.shape[1]}"
            )

        def predict(x, row):
            return row[0] * x + row[1]

    xn, yn = _np(X).ravel(), _np(y).ravel()
    if xn.size != yn.size:
        raise ValueError(f"X has {xn.size} values but y has {yn.size}")
    grid = np.linspace(xn.min(), xn.max(), 100)
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, dpi=dpi)
    else:
        fig = ax.figure
    ax.scatter(xn, yn, s=12, label="data")
    (line,) = ax.plot(
        grid, np.asarray(predict(grid, arr[0]), float).ravel(), "C1", label="fit"
    )
    title = ax.set_title("step 0")
    ax.legend(loc="best")
    frames = _frames(len(arr), max_frames)

    def update(k: int):
        line.set_ydata(np.asarray(predict(grid, arr[k]), float).ravel())
        title.set_text(f"step {k}")
        return [line, title]

    anim = FuncAnimation(fig, update, frames=frames, interval=interval, blit=False)
    anim.gdlite_fig = fig
    return anim


def save_animation(
    anim: Any, path: str | os.PathLike, fps: int = 15, dpi: float | None = None
) -> str:
    """Write an animation as a GIF (Pillow writer) or as a self-contained HTML page.

    A ``.gif`` name uses Pillow when it is importable; otherwise (or for any
    other suffix) the animation is written as HTML with ``to_jshtml()`` and the
    suffix becomes ``.html``. ``dpi`` sets the GIF's resolution (default: the
    figure's). Returns the path written.

    Example: ``save_animation(anim, "paths.gif")`` -> ``"paths.gif"``
    """
    path = os.fspath(path)
    root, ext = os.path.splitext(path)
    if ext.lower() == ".gif":
        try:
            import PIL  # noqa: F401
        except ImportError:
            pass
        else:
            from matplotlib.animation import PillowWriter

            anim.save(path, writer=PillowWriter(fps=fps), dpi=dpi)
            return path
    path = root + ".html"
    with open(path, "w", encoding="utf-8") as f:
        f.write(anim.to_jshtml(fps=fps))
    return path
