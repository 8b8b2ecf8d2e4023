"""Loss surfaces over two parameters: the grid, the 3-D surface, the contours."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from ._record import _as_float


class _Problem:
    """A loss over a few parameters: a function of tensors, or a model plus data.

    ``loss`` is either a callable taking one scalar tensor per parameter and
    returning a scalar loss, or a tuple ``(model, X, y, loss_fn)``; then the
    model's parameters named in ``params`` (default: all) are the variables and
    every other parameter keeps its value.
    """

    def __init__(self, loss: Any, params: Sequence[str] | None = None, nargs=None):
        self.model = None
        if isinstance(loss, tuple):
            if len(loss) != 4 or not callable(loss[0]) or not callable(loss[3]):
                raise TypeError(
                    "a model loss is given as (model, X, y, loss_fn), "
                    f"got a tuple of {len(loss)} items"
                )
            self.model, self.X, self.y, self.loss_fn = loss
            named = dict(self.model.named_parameters())
            chosen = list(named) if params is None else list(params)
            for name in chosen:
                if name not in named:
                    raise ValueError(
                        f"the model has no parameter {name!r}; it has {sorted(named)}"
                    )
            self.tensors = [named[n] for n in chosen]
            self.names = []
            for n, t in zip(chosen, self.tensors, strict=True):
                k = t.numel()
                self.names.extend([n] if k == 1 else [f"{n}[{i}]" for i in range(k)])
        elif callable(loss):
            self.fn = loss
            if nargs is None:
                nargs = 2
            self.names = (
                list(params) if params is not None else self._arg_names(loss, nargs)
            )
            if len(self.names) != nargs:
                raise ValueError(f"expected {nargs} parameter names, got {self.names}")
        else:
            raise TypeError(
                "loss must be a function of the parameters or a tuple "
                f"(model, X, y, loss_fn), not {type(loss).__name__}"
            )

    @staticmethod
    def _arg_names(fn: Callable, n: int) -> list[str]:
        try:
            sig = inspect.signature(fn)
            names = [
                p.name
                for p in sig.parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
        except (TypeError, ValueError):
            names = []
        if len(names) >= n:
            return names[:n]
        return ["w", "b"] if n == 2 else [f"p{i}" for i in range(n)]

    @property
    def size(self) -> int:
        return len(self.names)

    def leaves(self, start: np.ndarray, dtype: Any) -> list:
        """Leaf tensors that require grad, holding ``start`` (a flat array)."""
        import gdlite

        if start.size != self.size:
            raise ValueError(
                f"the start has {start.size} values but the loss has {self.size} "
                f"parameters {self.names}"
            )
        if self.model is None:
            return [
                gdlite.tensor(float(v), dtype=dtype, requires_grad=True) for v in start
            ]
        self.set_values(start)
        return list(self.tensors)

    def set_values(self, values: np.ndarray) -> None:
        import gdlite

        offset = 0
        with gdlite.no_grad():
            for t in self.tensors:
                k = t.numel()
                chunk = np.asarray(values[offset : offset + k]).reshape(tuple(t.shape))
                t.copy_(gdlite.tensor(chunk, dtype=t.dtype))
                offset += k

    def values(self) -> np.ndarray:
        return np.concatenate(
            [np.asarray(t.detach().numpy(), np.float64).ravel() for t in self.tensors]
        )

    def loss(self, leaves: list) -> Any:
        """The loss (a tensor) at the given leaves; raises if it is not a scalar."""
        out = (
            self.loss_fn(self.model(self.X), self.y) if self.model else self.fn(*leaves)
        )
        if not hasattr(out, "numel"):
            raise TypeError(f"the loss must return a tensor, got {type(out).__name__}")
        if out.numel() != 1:
            raise ValueError(
                "the loss must return a scalar, got a tensor of shape "
                f"{tuple(out.shape)}"
            )
        return out


def check_range(r: Any, name: str) -> tuple[float, float]:
    """A (low, high) pair of finite floats with low < high, or a ValueError."""
    try:
        lo, hi = (float(v) for v in r)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a pair (low, high) of numbers, got {r!r}"
        ) from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
        raise ValueError(f"{name} must be finite with low < high, got ({lo}, {hi})")
    return lo, hi


class Surface(NamedTuple):
    """A loss evaluated on a grid: ``Z[i, j]`` is the loss at ``(w[j], b[i])``.

    ``W, B = np.meshgrid(w, b)``; ``minimum`` is ``(w, b, loss)`` at the grid's
    smallest loss; ``names`` label the two axes.
    """

    w: np.ndarray
    b: np.ndarray
    W: np.ndarray
    B: np.ndarray
    Z: np.ndarray
    minimum: tuple[float, float, float]
    names: tuple[str, str]


def loss_surface(
    loss: Any,
    w_range: Sequence[float],
    b_range: Sequence[float],
    n: int | tuple[int, int] = 41,
    params: Sequence[str] | None = None,
) -> Surface:
    """Evaluate a loss over a grid of two parameters and find the grid's minimum.

    ``loss`` is a function ``f(w, b)`` of two scalar tensors returning a scalar
    tensor, or a tuple ``(model, X, y, loss_fn)``: then ``params`` names the
    model's parameters to vary (two one-element parameters; default: all of the
    model's, which must be two elements in total) and the others stay fixed.
    ``n`` grid points per axis (or a pair). Evaluated under ``no_grad``; the
    model's parameters are restored afterwards.

    Example::

        s = gdlite.plot.loss_surface(lambda w, b: ((w * x + b - y) ** 2).mean(),
                                     (-1, 4), (-1, 3), n=50)
        s.Z.shape, s.minimum      # (50, 50), (w*, b*, loss*)
    """
    import gdlite

    w_lo, w_hi = check_range(w_range, "w_range")
    b_lo, b_hi = check_range(b_range, "b_range")
    nw, nb = (n, n) if isinstance(n, int) else n
    if int(nw) < 2 or int(nb) < 2:
        raise ValueError(f"n must be at least 2 points per axis, got {n!r}")
    problem = _Problem(loss, params)
    if problem.size != 2:
        raise ValueError(
            f"a loss surface needs exactly two parameters, got {problem.size}: "
            f"{problem.names} (choose two with params=)"
        )
    w = np.linspace(w_lo, w_hi, int(nw))
    b = np.linspace(b_lo, b_hi, int(nb))
    Z = np.empty((b.size, w.size))
    saved = problem.values() if problem.model is not None else None
    try:
        with gdlite.no_grad():
            for i, bv in enumerate(b):
                for j, wv in enumerate(w):
                    point = np.array([wv, bv])
                    if problem.model is not None:
                        problem.set_values(point)
                        leaves = problem.tensors
                    else:
                        leaves = [
                            gdlite.tensor(float(v), dtype=gdlite.float64) for v in point
                        ]
                    Z[i, j] = _as_float(problem.loss(leaves))
    finally:
        if saved is not None:
            problem.set_values(saved)
    W, B = np.meshgrid(w, b)
    i, j = np.unravel_index(np.nanargmin(Z), Z.shape)
    names = (problem.names[0], problem.names[1])
    return Surface(w, b, W, B, Z, (float(w[j]), float(b[i]), float(Z[i, j])), names)


def _surface_arg(surface: Any, w_range: Any, b_range: Any, **kwargs: Any) -> Surface:
    if isinstance(surface, Surface):
        return surface
    if w_range is None or b_range is None:
        raise ValueError("give a Surface, or a loss with w_range and b_range")
    return loss_surface(surface, w_range, b_range, **kwargs)


def contour_levels(Z: np.ndarray, levels: int = 30, scale: str = "auto") -> np.ndarray:
    """Contour levels from the grid's smallest to its largest loss.

    ``scale="log"`` spaces them geometrically (dense near the minimum, as loss
    surfaces need), ``"linear"`` evenly; ``"auto"`` picks log when the losses
    are positive and span more than two decades.

    Example: ``contour_levels(s.Z, 20)`` -> 20 increasing levels.
    """
    z = Z[np.isfinite(Z)]
    if not z.size:
        raise ValueError("the loss is not finite anywhere on the grid")
    lo, hi = float(z.min()), float(z.max())
    if scale not in ("auto", "log", "linear"):
        raise ValueError(f"scale must be 'auto', 'log' or 'linear', got {scale!r}")
    if hi <= lo:
        return np.array([lo])
    use_log = scale == "log" or (scale == "auto" and lo > 0 and hi / lo > 100)
    if use_log:
        if lo <= 0:
            raise ValueError("log-spaced contour levels need positive losses")
        return np.geomspace(lo, hi, levels)
    return np.linspace(lo, hi, levels)


def _new_axes(ax: Any, projection: str | None = None, figsize=(6, 5)):
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, ax
    fig = plt.figure(figsize=figsize)
    ax = fig.add_subplot(projection=projection) if projection else fig.add_subplot()
    return fig, ax


def plot_surface(
    surface: Any,
    w_range: Any = None,
    b_range: Any = None,
    *,
    ax: Any = None,
    cmap: str = "viridis",
    n: int | tuple[int, int] = 41,
    params: Sequence[str] | None = None,
) -> tuple[Any, Any, dict]:
    """Draw a loss surface in 3-D with its minimum marked.

    ``surface`` is a :class:`Surface` or a loss (as for :func:`loss_surface`,
    then give ``w_range`` and ``b_range``). ``ax`` must be a 3-D axes if given.
    Returns ``(fig, ax, {"surface": Poly3DCollection, "minimum": Line3D})``.

    Example::

        fig, ax, art = gdlite.plot.plot_surface(loss, (-6, 6), (-6, 6))
        fig.savefig("surface.png")
    """
    s = _surface_arg(surface, w_range, b_range, n=n, params=params)
    fig, ax = _new_axes(ax, "3d", figsize=(7, 5))
    surf = ax.plot_surface(s.W, s.B, s.Z, cmap=cmap, alpha=0.8, linewidth=0)
    (mark,) = ax.plot(
        [s.minimum[0]],
        [s.minimum[1]],
        [s.minimum[2]],
        "r*",
        markersize=14,
        label="minimum",
    )
    ax.set_xlabel(s.names[0])
    ax.set_ylabel(s.names[1])
    ax.set_zlabel("loss")
    return fig, ax, {"surface": surf, "minimum": mark}


def plot_contours(
    surface: Any,
    w_range: Any = None,
    b_range: Any = None,
    *,
    ax: Any = None,
    levels: int | Sequence[float] = 30,
    scale: str = "auto",
    filled: bool = False,
    cmap: str = "viridis",
    n: int | tuple[int, int] = 41,
    params: Sequence[str] | None = None,
) -> tuple[Any, Any, dict]:
    """Draw a loss surface's contours with its minimum marked.

    ``surface`` is a :class:`Surface` or a loss with ``w_range`` and ``b_range``.
    ``levels`` is a count (spread over the grid's loss range by
    :func:`contour_levels`, log-spaced when the range is wide) or explicit values.
    Returns ``(fig, ax, {"contours": QuadContourSet, "minimum": Line2D})``.

    Example::

        fig, ax, art = gdlite.plot.plot_contours(loss, (-6, 6), (-6, 6), levels=25)
        gdlite.plot.plot_paths(ax, {"SGD": rec.path})
    """
    s = _surface_arg(surface, w_range, b_range, n=n, params=params)
    if isinstance(levels, int):
        lv = contour_levels(s.Z, levels, scale)
    else:
        lv = np.asarray(levels, dtype=np.float64)
    fig, ax = _new_axes(ax)
    draw = ax.contourf if filled else ax.contour
    cs = draw(s.W, s.B, s.Z, levels=lv, cmap=cmap)
    (mark,) = ax.plot(
        [s.minimum[0]], [s.minimum[1]], "r*", markersize=14, label="minimum", zorder=5
    )
    ax.set_xlabel(s.names[0])
    ax.set_ylabel(s.names[1])
    return fig, ax, {"contours": cs, "minimum": mark}
