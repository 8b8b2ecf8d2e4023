"""Data with a model's prediction: 1-D regression, 1-D and 2-D classification."""

from __future__ import annotations

from typing import Any

import numpy as np


def _np(a: Any) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().numpy()
    return np.asarray(a, dtype=np.float64)


def predict(model: Any, X: np.ndarray) -> np.ndarray:
    """The model's outputs for rows of ``X`` as a (rows, outputs) float array.

    ``model`` is a gdlite Module or any callable taking a float32 tensor.

    Example: ``predict(nn.Linear(1, 1), np.zeros((5, 1))).shape == (5, 1)``
    """
    import gdlite

    with gdlite.no_grad():
        out = model(gdlite.tensor(np.asarray(X, dtype=np.float32)))
    out = _np(out)
    return out.reshape(len(X), -1)


def _classes(out: np.ndarray, threshold: float | None) -> tuple[np.ndarray, float]:
    """Predicted class per row: argmax of several outputs, else a threshold."""
    if out.shape[1] > 1:
        return out.argmax(axis=1), float("nan")
    if threshold is None:
        threshold = 0.5 if out.min() >= 0 and out.max() <= 1 else 0.0
    return (out[:, 0] > threshold).astype(int), threshold


def plot_fit(
    X: Any,
    y: Any,
    model: Any,
    *,
    kind: str = "auto",
    threshold: float | None = None,
    ax: Any = None,
    resolution: int = 200,
) -> tuple[Any, Any, dict]:
    """Draw the data with the model's prediction.

    One input column and ``kind="regression"``: the points and the predicted
    curve. ``kind="classification"`` with one column: the points, the model's
    output curve and a vertical line where the predicted class changes; with two
    columns: the points coloured by class over the predicted class regions, with
    the decision boundary. ``kind="auto"`` means classification when ``y`` holds
    at most ten distinct integers. A single output is a probability (threshold
    0.5) when it stays in [0, 1], else a logit (threshold 0); several outputs
    are class scores (argmax). Returns ``(fig, ax, artists)`` where artists has
    "data", "prediction" (regression/1-D) or "regions" and "boundary" keys.

    Example::

        model = gdlite.nn.Linear(1, 1)   # ... trained on x, y ...
        fig, ax, art = gdlite.plot.plot_fit(x, y, model)
    """
    import matplotlib.pyplot as plt

    Xn, yn = _np(X), _np(y).ravel()
    if Xn.ndim == 1:
        Xn = Xn[:, None]
    if Xn.ndim != 2 or Xn.shape[1] not in (1, 2):
        raise ValueError(f"X must have one or two columns, got shape {Xn.shape}")
    if len(Xn) != len(yn):
        raise ValueError(f"X has {len(Xn)} rows but y has {len(yn)} values")
    if kind == "auto":
        ints = np.all(np.isfinite(yn)) and np.all(yn == np.round(yn))
        kind = "classification" if ints and np.unique(yn).size <= 10 else "regression"
    if kind not in ("regression", "classification"):
        raise ValueError(
            f"kind must be 'auto', 'regression' or 'classification', got {kind!r}"
        )
    if kind == "regression" and Xn.shape[1] != 1:
        raise ValueError("plot_fit draws regression for one input column only")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4.5))
    else:
        fig = ax.figure
    art: dict = {}
    if Xn.shape[1] == 1:
        grid = np.linspace(Xn.min(), Xn.max(), resolution)[:, None]
        out = predict(model, grid)
        art["data"] = ax.scatter(Xn[:, 0], yn, s=12, c="C0", label="data")
        if kind == "regression":
            (art["prediction"],) = ax.plot(
                grid[:, 0], out[:, 0], "C1", label="prediction"
            )
        else:
            cls, _ = _classes(out, threshold)
            curve = out[:, 0] if out.shape[1] == 1 else cls
            (art["prediction"],) = ax.plot(
                grid[:, 0], curve, "C1", label="model output"
            )
            changes = np.nonzero(np.diff(cls))[0]
            art["boundary"] = [
                ax.axvline(0.5 * (grid[k, 0] + grid[k + 1, 0]), color="k", ls="--")
                for k in changes
            ]
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    else:
        pad = 0.1 * (Xn.max(axis=0) - Xn.min(axis=0) + 1e-9)
        lo, hi = Xn.min(axis=0) - pad, Xn.max(axis=0) + pad
        g0, g1 = np.meshgrid(
            np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
        )
        out = predict(model, np.column_stack([g0.ravel(), g1.ravel()]))
        cls, _ = _classes(out, threshold)
        C = cls.reshape(g0.shape)
        k = int(max(C.max(), yn.max() if yn.size else 0)) + 1
        art["regions"] = ax.contourf(
            g0, g1, C, levels=np.arange(-0.5, k), cmap="coolwarm", alpha=0.3
        )
        art["boundary"] = ax.contour(
            g0, g1, C, levels=np.arange(0.5, k - 1), colors="k", linewidths=1
        )
        art["data"] = ax.scatter(
            Xn[:, 0],
            Xn[:, 1],
            c=yn,
            cmap="coolwarm",
            edgecolors="k",
            s=18,
            vmin=0,
            vmax=k - 1,
        )
        ax.set_xlabel("x0")
        ax.set_ylabel("x1")
    if Xn.shape[1] == 1:
        ax.legend(loc="best", fontsize="small")
    return fig, ax, art
