"""Grad mode: no_grad, enable_grad, set_grad_enabled (thread-local, in C)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Generator
from typing import Any

from . import _C


def _decorate(make_context: Callable[[], Any], fn: Callable) -> Callable:
    """``fn`` run inside a fresh context from ``make_context``. A generator
    function gets the mode each time its body runs, and not while it is
    suspended at a yield (the caller's mode applies there), as in PyTorch."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def generator(*args: Any, **kwargs: Any) -> Generator:
            gen = fn(*args, **kwargs)
            step: Callable[[], Any] = functools.partial(gen.send, None)
            while True:
                try:
                    with make_context():
                        value = step()
                except StopIteration as stop:
                    return stop.value
                try:
                    sent = yield value
                except GeneratorExit:
                    with make_context():
                        gen.close()
                    raise
                except BaseException as exc:  # noqa: BLE001 - passed to the body
                    step = functools.partial(gen.throw, exc)
                else:
                    step = functools.partial(gen.send, sent)

        return generator

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with make_context():
            return fn(*args, **kwargs)

    return wrapper


class _GradModeContext(_C.GradMode):
    """Base of the grad-mode switches: a context manager (entering and leaving
    run in C) and a decorator, with or without the call (``@no_grad``)."""

    _enabled = True

    def __new__(cls, orig_func: Callable | None = None) -> Any:
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)

    def __call__(self, fn: Callable) -> Callable:
        return _decorate(self.__class__, fn)


class no_grad(_GradModeContext):  # noqa: N801 - torch's name
    """Ops inside record no graph; results are leaves.

    >>> with gdlite.no_grad():
    ...     w -= lr * w.grad   # an update that autograd does not see
    """

    _enabled = False


class enable_grad(_GradModeContext):  # noqa: N801
    """Turns recording back on inside a ``no_grad`` block."""

    _enabled = True


def inference_mode(mode: bool | Callable = True) -> Any:
    """gdlite's inference mode is grad mode off; ``mode=False`` turns grad mode
    on, as PyTorch does. Also a decorator, with or without the call.

    >>> with gdlite.inference_mode():
    ...     y = model(x)
    """
    if callable(mode):
        return no_grad()(mode)
    return no_grad() if mode else enable_grad()


class set_grad_enabled:  # noqa: N801
    """Sets grad mode now; as a context manager, restores it on exit."""

    def __init__(self, mode: bool) -> None:
        self._previous = _C.is_grad_enabled()
        _C.set_grad_enabled(mode)  # refuses anything but a bool, as torch does
        self._enabled = mode

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        _C.set_grad_enabled(self._previous)

    def __call__(self, fn: Callable) -> Callable:
        _C.set_grad_enabled(self._previous)
        return _decorate(functools.partial(set_grad_enabled, self._enabled), fn)


def is_grad_enabled() -> bool:
    """Whether ops record the graph on this thread."""
    return _C.is_grad_enabled()
