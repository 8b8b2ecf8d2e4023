"""nn.Parameter and nn.Buffer: tensors that modules register by assignment."""

from __future__ import annotations

from typing import Any

from .. import _C
from .._creation import empty
from .._tensor import Tensor


class Parameter(Tensor):
    """A tensor that, assigned as a Module attribute, becomes one of the
    module's parameters. It requires grad by default, even under no_grad.

    >>> gdlite.nn.Parameter(gdlite.zeros(2))
    Parameter containing:
    tensor([0., 0.], requires_grad=True)
    """

    def __new__(cls, data: Any = None, requires_grad: bool = True) -> Parameter:
        if data is None:
            data = empty(0)
        if not isinstance(data, _C.TensorBase):
            # PyTorch's message, from its call to data.detach().
            raise AttributeError(
                f"'{type(data).__name__}' object has no attribute 'detach'"
            )
        # Shares data's memory, detached from its graph, as PyTorch does.
        return _C.TensorBase._make_subclass(cls, data, requires_grad)

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        pass

    def __deepcopy__(self, memo: dict) -> Parameter:
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(), self.requires_grad)
        memo[id(self)] = result
        return result

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, protocol: int) -> Any:
        state = dict(self.__dict__)
        return (_rebuild_parameter, (self.data, self.requires_grad, state))

    __torch_function__ = _C._disabled_torch_function_impl


def _rebuild_parameter(data: Tensor, requires_grad: bool, state: dict) -> Parameter:
    param = Parameter(data, requires_grad)
    param.__dict__.update(state)
    return param


class _BufferMeta(type):
    # isinstance(t, Buffer) holds for the plain tensors Buffer() marks.
    def __instancecheck__(cls, instance: Any) -> bool:
        if cls is Buffer and isinstance(instance, _C.TensorBase):
            return bool(getattr(instance, "_is_buffer", False))
        return super().__instancecheck__(instance)


class Buffer(metaclass=_BufferMeta):
    """Marks a tensor as a buffer when assigned to a Module attribute
    (``persistent=False`` keeps it out of ``state_dict``). The result is the
    tensor detached, as in PyTorch."""

    def __new__(cls, data: Any = None, *, persistent: bool = True) -> Any:
        if data is None:
            data = empty(0)
        t = data.detach().requires_grad_(data.requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t


def is_lazy(param: Any) -> bool:
    """Always False: gdlite has no lazy modules."""
    return False
