"""Tensor methods that convert: dtypes and devices, NumPy and Python values,
copies, pickling, and views as another Tensor subclass."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from . import _C, _tensor_function
from ._data import DTYPES
from ._memory_format import (
    channels_last,
    channels_last_3d,
    contiguous_format,
    format_code,
    is_contiguous_as,
    preserve_format,
    suggest_memory_format,
)
from ._types import device as _device

Tensor = Any  # gdlite.Tensor, for annotations


class TensorConversions:
    """Mixed into gdlite.Tensor."""

    # ---- conversion ---------------------------------------------------------

    def tolist(self) -> Any:
        """Nested Python lists (or a number for a 0-d tensor)."""
        return self._numpy().tolist()

    def __dlpack__(
        self,
        *,
        stream: Any = -1,
        max_version: tuple[int, int] | None = None,
        dl_device: tuple[int, int] | None = None,
        copy: bool | None = None,
    ) -> Any:
        """A DLPack capsule sharing this tensor's memory (``np.from_dlpack(t)``,
        ``torch.from_dlpack(t)``); versioned when ``max_version`` is 1.0 or more."""
        from .utils import dlpack

        return dlpack.export(self, stream, max_version, dl_device, copy)

    def __dlpack_device__(self) -> tuple[Any, int]:
        """``(DLDeviceType.kDLCPU, 0)``: gdlite tensors live in CPU memory."""
        from .utils.dlpack import DLDeviceType

        return (DLDeviceType.kDLCPU, 0)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        arr = self.numpy()
        if dtype is not None and arr.dtype != dtype:
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    def __array_wrap__(
        self, array: np.ndarray, context: Any = None, return_scalar: bool = False
    ) -> Any:
        if return_scalar or array.ndim == 0 and context is not None:
            return array[()]
        return _C.from_numpy(np.ascontiguousarray(array))

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """Converted to a dtype (or another tensor's dtype); devices: 'cpu' only."""
        dtype = kwargs.pop("dtype", None)
        if "device" in kwargs:
            _device(kwargs.pop("device"))
        want_copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        fmt = kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        code = format_code(fmt, "to", preserve_format)
        for a in args:
            if isinstance(a, _C.dtype):
                dtype = a
            elif isinstance(a, _C.TensorBase):
                dtype = a.dtype
            elif a is not None and not isinstance(a, bool):
                _device(a)
        if dtype is None or dtype == self.dtype:
            # torch's to() aliases unless a copy or another layout is asked for
            keeps_layout = code == preserve_format._code or (
                code == suggest_memory_format(self)._code
            )
            if not want_copy and keeps_layout:
                return self
            dtype = self.dtype
        return _C.to_dtype(self, dtype, code)

    def cpu(self) -> Tensor:
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> Tensor:
        _device("cuda")
        return self

    def float(self) -> Tensor:
        """As float32."""
        return self.to(_C.float32)

    def double(self) -> Tensor:
        """As float64."""
        return self.to(_C.float64)

    def long(self) -> Tensor:
        """As int64."""
        return self.to(_C.int64)

    def int(self) -> Tensor:
        """As int32."""
        return self.to(_C.int32)

    def bool(self) -> Tensor:
        """As bool."""
        return self.to(_C.bool)

    def byte(self) -> Tensor:
        """As uint8."""
        return self.to(_C.uint8)

    def type(self, dtype: Any = None) -> Any:
        """The legacy type name, or a copy converted to ``dtype``."""
        if dtype is None:
            return "gdlite." + self.dtype._legacy_name
        if isinstance(dtype, str):
            name = dtype.split(".")[-1]
            matches = [d for d in DTYPES if d._legacy_name == name]
            if not matches:
                raise ValueError(f"invalid type: '{dtype}'")
            dtype = matches[0]
        dtype = getattr(dtype, "dtype", dtype)
        return self.to(dtype)

    def clone(self, *, memory_format: Any = None) -> Tensor:
        """A copy with its own memory, laid out as ``memory_format`` says
        (by default the tensor's own layout)."""
        return self._clone(format_code(memory_format, "clone", preserve_format))

    def contiguous(self, memory_format: Any = None) -> Tensor:
        """Itself if laid out in ``memory_format`` (row-major by default),
        else a copy that is."""
        code = format_code(memory_format, "contiguous", contiguous_format)
        if code == contiguous_format._code:
            return _C.TensorBase.contiguous(self)
        if self.is_contiguous(memory_format=memory_format):
            return self
        if code == preserve_format._code:
            raise RuntimeError(
                "preserve memory format is unsupported by the contiguous operator"
            )
        return self.clone(memory_format=memory_format)

    def is_contiguous(self, memory_format: Any = None) -> bool:
        """Whether the elements are laid out as ``memory_format`` lays them
        (row-major by default), size-1 dims aside."""
        code = format_code(memory_format, "is_contiguous", contiguous_format)
        # preserve_format is answered as row-major, as torch answers it
        fmt = {2: channels_last, 3: channels_last_3d}.get(code, contiguous_format)
        return is_contiguous_as(self, fmt)

    def new_tensor(
        self,
        data: Any,
        dtype: Any = None,
        device: Any = None,
        requires_grad: bool = False,
    ) -> Tensor:
        from ._creation import tensor

        if isinstance(data, _C.TensorBase):
            import warnings

            warnings.warn(
                "To copy construct from a tensor, it is recommended to use "
                "sourceTensor.detach().clone() or "
                "sourceTensor.detach().clone().requires_grad_(True), rather than "
                "tensor.new_tensor(sourceTensor).",
                UserWarning,
                stacklevel=2,
            )
            data = data.detach()._numpy()
        return tensor(
            data,
            dtype=self.dtype if dtype is None else dtype,
            device=device,
            requires_grad=requires_grad,
        )

    def _new(self, make: Any, args: tuple, size: Any, kwargs: dict) -> Tensor:
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = self.dtype
        return make(*args, size=size, **kwargs)

    def new_zeros(self, *args: Any, size: Any = None, **kwargs: Any) -> Tensor:
        """Zeros of the given size, in this tensor's dtype unless ``dtype=``."""
        from ._creation import zeros

        return self._new(zeros, args, size, kwargs)

    def new_ones(self, *args: Any, size: Any = None, **kwargs: Any) -> Tensor:
        """Ones of the given size, in this tensor's dtype unless ``dtype=``."""
        from ._creation import ones

        return self._new(ones, args, size, kwargs)

    def new_empty(self, *args: Any, size: Any = None, **kwargs: Any) -> Tensor:
        """Uninitialised, of the given size, in this tensor's dtype."""
        from ._creation import empty

        return self._new(empty, args, size, kwargs)

    def new_full(self, size: Any, fill_value: Any, **kwargs: Any) -> Tensor:
        """``fill_value`` of the given size, in this tensor's dtype."""
        from ._creation import full

        if kwargs.get("dtype") is None:
            kwargs["dtype"] = self.dtype
        return full(size, fill_value, **kwargs)

    def __deepcopy__(self, memo: dict) -> Tensor:
        if not self.is_leaf:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support "
                "the deepcopy protocol at the moment.  If you were attempting to "
                "deepcopy a module, this may be because of a "
                "gdlite.nn.utils.weight_norm usage, see "
                "https://github.com/pytorch/pytorch/pull/103001"
            )
        if id(self) in memo:
            return memo[id(self)]
        if type(self) is not _tensor_function._tensor_class:
            # PyTorch's default for subclasses, which override __deepcopy__.
            raise RuntimeError(
                "The default implementation of __deepcopy__() for non-wrapper "
                "subclasses only works for subclass types that implement new_empty() "
                "and for which that function returns another instance of the same "
                "subclass. You should either properly implement new_empty() for your "
                "subclass or override __deepcopy__() if it is intended behavior for "
                "new_empty() to return an instance of a different type."
            )
        # The whole storage is copied once per deepcopy call, as PyTorch does:
        # tensors that shared memory (a base and its views) still share it.
        storages = memo.setdefault("gdlite.storage", {})
        key = self._storage_id()
        flat = storages.get(key)
        if flat is None:
            n = self._storage_nbytes() // self.element_size()
            flat = _C.as_strided(self.detach(), (n,), (1,), 0).clone()
            storages[key] = flat
        out = _C.as_strided(flat, self._shape, self._strides(), self.storage_offset())
        if self.requires_grad:
            out.requires_grad_()
        if self.grad is not None:
            out.grad = self.grad.__deepcopy__(memo)
        out.__dict__ = copy.deepcopy(self.__dict__, memo)
        memo[id(self)] = out
        return out

    def __reduce_ex__(self, protocol: int) -> Any:
        args = (np.array(self._numpy()), self.requires_grad)
        if type(self) is _tensor_function._tensor_class:
            return (_rebuild, args)
        # A subclass comes back as itself, with its attributes.
        return (_rebuild_subclass, (type(self), *args, self.__dict__))

    def as_subclass(self, cls: type) -> Tensor:
        """This tensor as an instance of the Tensor subclass ``cls``: the same
        memory, still attached to the autograd graph."""
        if not (isinstance(cls, type) and issubclass(cls, _C.TensorBase)):
            raise TypeError(
                "as_subclass(): argument 'cls' must be a subclass of gdlite.Tensor"
            )
        out = _C.view("view", self, self._shape)
        out.__class__ = cls
        return out


def _rebuild(array: np.ndarray, requires_grad: bool = False) -> Tensor:
    out = _C.from_numpy(array)
    out.requires_grad = requires_grad
    return out


def _rebuild_subclass(
    cls: type, array: np.ndarray, requires_grad: bool, state: dict
) -> Tensor:
    out = _C.TensorBase._make_subclass(cls, _C.from_numpy(array), requires_grad)
    out.__dict__.update(state)
    return out
