"""Recording the path of parameters (and the loss) while a model trains."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np


def _as_float(loss: Any) -> float:
    """The value of a one-element loss (tensor, array or number) as a float."""
    if hasattr(loss, "numel") and hasattr(loss, "item"):
        if loss.numel() != 1:
            raise ValueError(
                "the loss must be a scalar (one element), got shape "
                f"{tuple(loss.shape)}"
            )
        return float(loss.item())
    arr = np.asarray(loss, dtype=np.float64)
    if arr.size != 1:
        raise ValueError(
            f"the loss must be a scalar (one element), got shape {arr.shape}"
        )
    return float(arr.reshape(()))


def _named_tensors(params: Any) -> list[tuple[str, Any]]:
    """(name, tensor) pairs from a dict, a Module or an iterable of tensors."""
    if isinstance(params, Mapping):
        pairs = list(params.items())
    elif hasattr(params, "named_parameters"):
        pairs = [(n, p) for n, p in params.named_parameters()]
    elif hasattr(params, "numel") and hasattr(params, "detach"):
        pairs = [("p0", params)]
    elif isinstance(params, Iterable):
        pairs = [(f"p{i}", p) for i, p in enumerate(params)]
    else:
        raise TypeError(
            "params must be a dict of tensors, a list of tensors or a Module, "
            f"not {type(params).__name__}"
        )
    if not pairs:
        raise ValueError("params is empty: nothing to record")
    for name, p in pairs:
        if not (hasattr(p, "numel") and hasattr(p, "detach")):
            raise TypeError(f"parameter {name!r} is a {type(p).__name__}, not a tensor")
    return pairs


def _column_names(pairs: list[tuple[str, Any]]) -> list[str]:
    cols = []
    for name, p in pairs:
        n = p.numel()
        if n == 1:
            cols.append(name)
        else:
            cols.extend(f"{name}[{i}]" for i in range(n))
    return cols


def _snapshot(pairs: list[tuple[str, Any]]) -> np.ndarray:
    """All parameter elements, flattened in order, as float64 (a copy)."""
    parts = [np.asarray(p.detach().numpy(), dtype=np.float64).ravel() for _, p in pairs]
    return np.concatenate(parts) if len(parts) > 1 else parts[0].copy()


class PathRecorder:
    """Records parameter values and losses during training, one line per step.

    ``params`` is a dict ``{name: tensor}``, a list of tensors or an
    ``nn.Module`` (its named parameters). Each call of :meth:`record` stores the
    parameters' current values (all elements, flattened in order) and the loss.
    Call it after computing the loss and before updating the parameters, so that
    ``rec.path[i]`` is the point at which ``rec.losses[i]`` was evaluated; this
    works with hand-written ``no_grad`` updates and with optimizers alike.
    :meth:`end_epoch` marks the end of an epoch, for per-epoch paths and losses.

    Example::

        w = gdlite.tensor(-2.0, requires_grad=True)
        b = gdlite.tensor(-2.0, requires_grad=True)
        rec = gdlite.plot.PathRecorder({"w": w, "b": b})
        for _ in range(100):
            loss = ((w * x + b - y) ** 2).mean()
            rec.record(loss)                    # the one added line
            loss.backward()
            with gdlite.no_grad():
                w -= 0.1 * w.grad
                b -= 0.1 * b.grad
            w.grad.zero_(); b.grad.zero_()
        rec.path     # (100, 2) array of (w, b)
        rec.losses   # (100,) array
    """

    def __init__(self, params: Any) -> None:
        self._pairs = _named_tensors(params)
        self.names: list[str] = _column_names(self._pairs)
        self._rows: list[np.ndarray] = []
        self._losses: list[float] = []
        self._epoch_ends: list[int] = []

    def record(self, loss: Any = None) -> None:
        """Store the parameters' current values and ``loss`` (a scalar, or None).

        Example: ``rec.record(loss)`` right after ``loss = loss_fn(model(x), y)``.
        """
        value = float("nan") if loss is None else _as_float(loss)
        row = _snapshot(self._pairs)
        if self._rows and row.shape != self._rows[0].shape:
            raise ValueError(
                f"the parameters now have {row.size} elements, but "
                f"{self._rows[0].size} "
                "were recorded before: a path needs the same parameters at every step"
            )
        self._rows.append(row)
        self._losses.append(value)

    def end_epoch(self) -> None:
        """Mark the end of an epoch (call once after each epoch's steps).

        Example: ``for epoch in ...: (steps with rec.record(loss)); rec.end_epoch()``.
        """
        if not self._rows or (
            self._epoch_ends and self._epoch_ends[-1] == len(self._rows)
        ):
            raise ValueError(
                "end_epoch() called with no step recorded since the last epoch"
            )
        self._epoch_ends.append(len(self._rows))

    @property
    def path(self) -> np.ndarray:
        """The recorded parameter values, an array of shape (steps, elements)."""
        if not self._rows:
            return np.empty((0, len(self.names)))
        return np.stack(self._rows)

    @property
    def losses(self) -> np.ndarray:
        """The recorded losses, shape (steps,) (NaN where none was given)."""
        return np.asarray(self._losses, dtype=np.float64)

    @property
    def epoch_path(self) -> np.ndarray:
        """The parameters at the last step of each epoch, shape (epochs, elements)."""
        path = self.path
        return path[[e - 1 for e in self._epoch_ends]] if self._epoch_ends else path[:0]

    @property
    def epoch_losses(self) -> np.ndarray:
        """The mean loss of each epoch's steps, shape (epochs,)."""
        losses, out, start = self.losses, [], 0
        for end in self._epoch_ends:
            out.append(losses[start:end].mean())
            start = end
        return np.asarray(out, dtype=np.float64)

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return f"PathRecorder(names={self.names}, steps={len(self)})"


def track(
    optimizer: Any, params: Any = None, loss_fn: Callable[[], Any] | None = None
) -> PathRecorder:
    """Record an optimizer's parameters after every ``step()``, loop unchanged.

    The returned :class:`PathRecorder` holds the starting point followed by the
    parameters after each step (so ``steps + 1`` rows). ``params`` chooses and
    names what to record (default: all parameters of the optimizer). With
    ``loss_fn`` (no arguments, returning the loss), the loss is evaluated under
    ``no_grad`` at every recorded point; otherwise the losses are NaN.
    The hook is removed by ``rec.handle.remove()``.

    Example::

        opt = gdlite.optim.Adam([w, b], lr=0.1)
        rec = gdlite.plot.track(opt, {"w": w, "b": b})
        for _ in range(100):            # the user's loop, unchanged
            opt.zero_grad(); loss_fn().backward(); opt.step()
        rec.path   # (101, 2)
    """
    if not hasattr(optimizer, "register_step_post_hook"):
        raise TypeError(f"{type(optimizer).__name__} has no register_step_post_hook")
    if params is None:
        params = [p for group in optimizer.param_groups for p in group["params"]]
    rec = PathRecorder(params)

    def _record(*_: Any) -> None:
        if loss_fn is None:
            rec.record(None)
        else:
            import gdlite

            with gdlite.no_grad():
                rec.record(loss_fn())

    _record()
    rec.handle = optimizer.register_step_post_hook(_record)
    return rec
