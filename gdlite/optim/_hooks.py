"""Step hooks of the optimizers: per-optimizer and global, with handles
that remove them (torch.optim's hook API)."""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable
from itertools import chain
from typing import Any

from ..utils.hooks import RemovableHandle

__all__ = [
    "RemovableHandle",
    "register_optimizer_step_post_hook",
    "register_optimizer_step_pre_hook",
]


_global_optimizer_pre_hooks: OrderedDict[int, Callable] = OrderedDict()
_global_optimizer_post_hooks: OrderedDict[int, Callable] = OrderedDict()


def register_optimizer_step_pre_hook(hook: Callable) -> RemovableHandle:
    """A hook(optimizer, args, kwargs) run before every optimizer's step."""
    handle = RemovableHandle(_global_optimizer_pre_hooks)
    _global_optimizer_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook: Callable) -> RemovableHandle:
    """A hook(optimizer, args, kwargs) run after every optimizer's step."""
    handle = RemovableHandle(_global_optimizer_post_hooks)
    _global_optimizer_post_hooks[handle.id] = hook
    return handle


def _with_hooks(step: Callable) -> Callable:
    """Wraps a subclass's step with the global and per-optimizer step hooks."""

    @functools.wraps(step)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        self = args[0]
        if not (
            _global_optimizer_pre_hooks
            or _global_optimizer_post_hooks
            or self._optimizer_step_pre_hooks
            or self._optimizer_step_post_hooks
        ):
            return step(*args, **kwargs)
        for pre_hook in chain(
            _global_optimizer_pre_hooks.values(),
            self._optimizer_step_pre_hooks.values(),
        ):
            result = pre_hook(self, args, kwargs)
            if result is not None:
                if isinstance(result, tuple) and len(result) == 2:
                    args, kwargs = result
                else:
                    # Named as the optimizer's own step, as in PyTorch, also
                    # when it is the base class's shared one.
                    qualname = step.__qualname__.replace(
                        "Optimizer.step", f"{type(self).__qualname__}.step"
                    )
                    raise RuntimeError(
                        f"<function {qualname} at {id(step):#x}> must return None or "
                        f"a tuple of (new_args, new_kwargs), but got {result}."
                    )
        out = step(*args, **kwargs)
        for post_hook in chain(
            self._optimizer_step_post_hooks.values(),
            _global_optimizer_post_hooks.values(),
        ):
            post_hook(self, args, kwargs)
        return out

    wrapper.hooked = True  # type: ignore[attr-defined]
    return wrapper
