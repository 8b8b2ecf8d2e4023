"""Small value types of the torch namespace: Size, device, return_types."""

from __future__ import annotations

import operator
from typing import Any


class Size(tuple):
    """A tensor's shape: a tuple of ints that prints as ``gdlite.Size([2, 3])``."""

    __slots__ = ()

    def __new__(cls, sizes: Any = ()) -> Size:
        items = tuple(sizes)
        if any(type(s) is not int for s in items):
            items = tuple(_size_item(i, s) for i, s in enumerate(items))
        return tuple.__new__(cls, items)

    def __repr__(self) -> str:
        return f"gdlite.Size({list(self)})"

    def numel(self) -> int:
        """Number of elements a tensor of this shape holds."""
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, key: Any) -> Any:
        result = tuple.__getitem__(self, key)
        return tuple.__new__(Size, result) if isinstance(key, slice) else result

    def __add__(self, other: Any) -> Size:
        return Size(tuple(self) + tuple(other))


def _size_item(i: int, s: Any) -> int:
    """An element of a Size: anything with __index__ but a float, as torch takes."""
    try:
        return operator.index(s)
    except TypeError:
        raise TypeError(
            f"gdlite.Size() takes an iterable of 'int' (item {i} is "
            f"'{type(s).__name__}')"
        ) from None


class device:  # noqa: N801 - torch's name
    """Where a tensor lives. gdlite computes on the CPU only."""

    __slots__ = ("type", "index")

    def __init__(self, type: str | device = "cpu", index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index
        name, _, idx = str(type).partition(":")
        if idx:
            index = int(idx)
        if name != "cpu":
            raise RuntimeError(
                f"gdlite runs on the CPU only; device '{type}' is not available "
                "(gdlite.cuda.is_available() is False)"
            )
        self.type = name
        self.index = index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = device("cpu")


class _ValuesIndices(tuple):
    """A (values, indices) pair printed as ``gdlite.return_types.<name>(...)``."""

    __slots__ = ()
    _name = "max"

    def __new__(cls, values: Any, indices: Any) -> _ValuesIndices:
        return tuple.__new__(cls, (values, indices))

    @property
    def values(self) -> Any:
        return self[0]

    @property
    def indices(self) -> Any:
        return self[1]

    def __repr__(self) -> str:
        return (
            f"gdlite.return_types.{self._name}(\nvalues={self[0]!r},\n"
            f"indices={self[1]!r})"
        )


class return_types:  # noqa: N801 - torch's namespace name
    """Named result pairs of reductions along a dimension."""

    class max(_ValuesIndices):  # noqa: N801
        __slots__ = ()
        _name = "max"

    class min(_ValuesIndices):  # noqa: N801
        __slots__ = ()
        _name = "min"


def typename(obj: Any) -> str:
    """torch.typename: a tensor's legacy type name (``gdlite.FloatTensor``),
    else the object's module and qualified name."""
    from . import _C

    if isinstance(obj, _C.TensorBase):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    if module in ("", "builtins"):
        return qualname
    return f"{module}.{qualname}"
