"""The legacy typed constructors: FloatTensor, DoubleTensor, LongTensor, ...

``gdlite.FloatTensor([1, 2])`` copies data as float32, ``FloatTensor(2, 3)``
is uninitialised, ``isinstance(t, gdlite.FloatTensor)`` checks the dtype, and
``t.type(gdlite.FloatTensor)`` converts.
"""

from __future__ import annotations

from typing import Any

from . import _C


class _LegacyTensorType(type):
    dtype: Any

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, _C.TensorBase) and obj.dtype == cls.dtype

    def __call__(cls, *args: Any) -> Any:
        from ._creation import tensor
        from ._types import Size

        if len(args) == 1 and isinstance(args[0], _C.TensorBase):
            # A tensor of the class's dtype is aliased, as PyTorch does.
            src = args[0]
            if src.dtype != cls.dtype:
                raise TypeError(
                    f"expected {_options(cls.dtype)} (got {_options(src.dtype)})"
                )
            return _C.view("view", src, src._shape)
        if len(args) == 1 and not isinstance(args[0], (int, Size)):
            return tensor(args[0], dtype=cls.dtype)
        size = tuple(args[0]) if len(args) == 1 and isinstance(args[0], tuple) else args
        return _C.full(size or (0,), None, cls.dtype)

    def __repr__(cls) -> str:
        return f"<class 'gdlite.{cls.__name__}'>"


_CXX_NAMES = {
    _C.float32: "float",
    _C.float64: "double",
    _C.int64: "long int",
    _C.int32: "int",
    _C.bool: "bool",
}


def _options(dtype: Any) -> str:
    return (
        f"TensorOptions(dtype={_CXX_NAMES[dtype]}, device=cpu, layout=Strided, "
        "requires_grad=false (default), pinned_memory=false (default), "
        "memory_format=(nullopt))"
    )


def _legacy(name: str, dtype: Any) -> Any:
    return _LegacyTensorType(name, (), {"dtype": dtype, "__module__": "gdlite"})


FloatTensor = _legacy("FloatTensor", _C.float32)
DoubleTensor = _legacy("DoubleTensor", _C.float64)
LongTensor = _legacy("LongTensor", _C.int64)
IntTensor = _legacy("IntTensor", _C.int32)
ByteTensor = _legacy("ByteTensor", _C.uint8)
BoolTensor = _legacy("BoolTensor", _C.bool)
