"""PyTorch's module-level forms of Tensor methods: ``torch.reshape(x, shape)``
is ``x.reshape(shape)``, and likewise for the other views, ``clone``,
``detach`` and ``is_floating_point``, with PyTorch's TypeError when the
input is not a tensor."""

from __future__ import annotations

from typing import Any

from ._tensor import Tensor


def _tensor(name: str, input: Any) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(
            f"{name}(): argument 'input' (position 1) must be Tensor, "
            f"not {type(input).__name__}"
        )
    return input


def reshape(input: Tensor, shape: Any) -> Tensor:
    """``input`` with another shape: a view when strides allow, else a copy."""
    return _tensor("reshape", input).reshape(shape)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Two dimensions swapped, as a view."""
    return _tensor("transpose", input).transpose(dim0, dim1)


def t(input: Tensor) -> Tensor:
    """The transpose of a tensor with at most 2 dimensions."""
    return _tensor("t", input).t()


def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    """Size-1 dimensions removed (all, or the given ones)."""
    return _tensor("squeeze", input).squeeze(dim)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """A size-1 dimension inserted at ``dim``."""
    return _tensor("unsqueeze", input).unsqueeze(dim)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Dimensions ``start_dim`` to ``end_dim`` merged into one."""
    return _tensor("flatten", input).flatten(start_dim, end_dim)


def permute(input: Tensor, dims: Any) -> Tensor:
    """Dimensions reordered, as a view."""
    return _tensor("permute", input).permute(dims)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``length`` elements of ``dim`` from ``start``, as a view."""
    return _tensor("narrow", input).narrow(dim, start, length)


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """Element ``index`` of ``dim``, that dimension removed, as a view."""
    return _tensor("select", input).select(dim, index)


def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:
    """A copy with its own memory (differentiable), laid out as
    ``memory_format`` says (by default as ``input``)."""
    return _tensor("clone", input).clone(memory_format=memory_format)


def detach(input: Tensor) -> Tensor:
    """The same data, cut from the graph."""
    return _tensor("detach", input).detach()


def is_floating_point(input: Tensor) -> bool:
    """Whether the dtype is a floating-point one."""
    return _tensor("is_floating_point", input).is_floating_point()
