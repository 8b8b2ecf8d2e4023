"""Grad mode: no_grad, enable_grad, set_grad_enabled (thread-local, in C)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any

from . import _C


class _GradModeContext(_C.GradMode):
    """Base of the grad-mode switches: a context manager (entering and leaving
    run in C) and a decorator."""

    _enabled = True

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):  # noqa: N801 - torch's name
    """Ops inside record no graph; results are leaves.

    >>> with gdlite.no_grad():
    ...     w -= lr * w.grad   # an update that autograd does not see
    """

    _enabled = False


class enable_grad(_GradModeContext):  # noqa: N801
    """Turns recording back on inside a ``no_grad`` block."""

    _enabled = True


def inference_mode(mode: bool = True) -> Any:
    """gdlite's inference mode is no_grad; ``mode=False`` leaves grad mode as is.

    >>> with gdlite.inference_mode():
    ...     y = model(x)
    """
    return no_grad() if mode else contextlib.nullcontext()


class set_grad_enabled:  # noqa: N801
    """Sets grad mode now; as a context manager, restores it on exit."""

    def __init__(self, mode: bool) -> None:
        self._previous = _C.is_grad_enabled()
        self._enabled = bool(mode)
        _C.set_grad_enabled(self._enabled)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        _C.set_grad_enabled(self._previous)

    def __call__(self, fn: Callable) -> Callable:
        _C.set_grad_enabled(self._previous)
        mode = self._enabled

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


def is_grad_enabled() -> bool:
    """Whether ops record the graph on this thread."""
    return _C.is_grad_enabled()
