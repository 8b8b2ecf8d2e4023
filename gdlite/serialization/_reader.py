"""gdlite.load: PyTorch's zip format back into gdlite objects.

The archive is opened by ``_zipcheck`` (sizes checked before anything is
read), the pickle is interpreted by ``_unpickler`` (nothing from the file is
ever called except the builders below), and each builder checks its
arguments: a storage's record holds exactly the bytes its pickle claims, and a
tensor's offset, sizes and strides stay inside its storage. Each storage is
read once, so tensors that shared memory when saved share it again.
"""

from __future__ import annotations

import io
import os
import pickle
from collections import OrderedDict
from collections.abc import Callable
from typing import IO, Any

import numpy as np

from .. import _C
from .._creation import from_numpy
from .._types import Size, device
from ..nn.parameter import Parameter
from ._globals import DTYPES, STORAGE_OF_DTYPE, TorchName
from ._unpickler import Refused, Unpickler
from ._zipcheck import Archive

_DTYPE_OF_STORAGE = {id(name): d for d, name in STORAGE_OF_DTYPE.items()}
_CUDA_MESSAGE = (
    "Attempting to deserialize object on a CUDA device but gdlite.cuda.is_available() "
    "is False. If you are running on a CPU-only machine, please use gdlite.load with "
    "map_location=gdlite.device('cpu') to map your storages to the CPU."
)
_NOT_SEEKABLE = (
    "You can only gdlite.load from a file that is seekable. Please pre-load the data "
    "into a buffer like io.BytesIO and try to load from it instead."
)


class _Storage:
    """One storage of the file, read and typed: a flat tensor of its elements."""

    __slots__ = ("flat", "dtype", "numel", "storage_type")

    def __init__(self, flat: Any, dtype: Any, storage_type: TorchName) -> None:
        self.flat = flat
        self.dtype = dtype
        self.numel = flat.numel()
        self.storage_type = storage_type


def _is_int(x: object) -> bool:
    return type(x) is int


def _rebuild_tensor_v2(
    storage: Any,
    storage_offset: Any,
    size: Any,
    stride: Any,
    requires_grad: Any,
    backward_hooks: Any,
    metadata: Any = None,
) -> Any:
    if type(storage) is not _Storage:
        raise pickle.UnpicklingError(
            "_rebuild_tensor_v2 expects a storage as its first argument"
        )
    ok = (
        _is_int(storage_offset)
        and isinstance(size, tuple)
        and isinstance(stride, tuple)
        and len(size) == len(stride)
        and all(_is_int(n) and n >= 0 for n in size)
        and all(_is_int(s) and s >= 0 for s in stride)
        and type(requires_grad) is bool
    )
    if not ok:
        raise pickle.UnpicklingError(
            "_rebuild_tensor_v2 expects an int offset, size and stride tuples of "
            "non-negative ints of one length, and a bool requires_grad"
        )
    if len(size) > 64:
        raise RuntimeError(
            f"a tensor of {len(size)} dimensions is more than gdlite's 64"
        )
    if not isinstance(backward_hooks, (dict, OrderedDict)) or backward_hooks:
        raise pickle.UnpicklingError("a saved tensor's backward hooks must be empty")
    if metadata:
        raise pickle.UnpicklingError(
            "tensor metadata (conjugate or negative bits) is not supported"
        )
    empty = any(n == 0 for n in size)
    extent = (
        0 if empty else 1 + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
    )
    item = storage.dtype.itemsize
    if storage_offset < 0 or storage_offset + extent > storage.numel:
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset "
            f"{storage_offset}, and itemsize {item} requiring a storage size of "
            f"{(storage_offset + extent) * item} are out of bounds for storage of "
            f"size {storage.numel * item}"
        )
    if empty:
        # Nothing to point at: a fresh empty tensor (offset kept only if valid).
        t = _C.as_strided(
            storage.flat, size, stride, min(storage_offset, storage.numel)
        )
    else:
        t = _C.as_strided(storage.flat, size, stride, storage_offset)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_parameter(data: Any, requires_grad: Any, backward_hooks: Any) -> Parameter:
    if not isinstance(data, _C.TensorBase) or type(requires_grad) is not bool:
        raise pickle.UnpicklingError("_rebuild_parameter expects a tensor and a bool")
    if not isinstance(backward_hooks, (dict, OrderedDict)) or backward_hooks:
        raise pickle.UnpicklingError("a saved Parameter's backward hooks must be empty")
    return Parameter(data, requires_grad)


def _encode(text: Any, encoding: Any = "utf-8") -> bytes:
    # How protocol 2 spells bytes: _codecs.encode(latin-1 text, 'latin1').
    if type(text) is not str or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(
            "_codecs.encode is allowed only to spell bytes in latin1"
        )
    return text.encode("latin1")


def _ordered_dict(*args: Any) -> OrderedDict:
    if args:
        raise pickle.UnpicklingError("OrderedDict is rebuilt empty, then filled")
    return OrderedDict()


_ALLOWED: dict[str, Any] = {
    "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
    "torch._utils._rebuild_parameter": _rebuild_parameter,
    "collections.OrderedDict": OrderedDict,
    "torch.Size": Size,
    "torch.device": device,
    "_codecs.encode": _encode,
    **{f"torch.{name.name}": name for name in STORAGE_OF_DTYPE.values()},
    **{f"torch.{d._name}": d for d in DTYPES},
}
# Storages and dtypes PyTorch saves that gdlite has no dtype for.
_OTHER_DTYPES = {
    "Half": "float16",
    "BFloat16": "bfloat16",
    "Short": "int16",
    "Char": "int8",
    "ComplexFloat": "complex64",
    "ComplexDouble": "complex128",
}
for _stem, _name in _OTHER_DTYPES.items():
    _why = Refused(
        f"tensors of dtype torch.{_name} cannot be loaded: gdlite's dtypes are "
        + ", ".join(d._name for d in DTYPES)
    )
    _ALLOWED[f"torch.{_stem}Storage"] = _ALLOWED[f"torch.{_name}"] = _why

_CALLABLES = (
    _rebuild_tensor_v2,
    _rebuild_parameter,
    OrderedDict,
    Size,
    device,
    _encode,
)


def _target_location(location: str, flat: Any, map_location: Any) -> tuple[str, Any]:
    if map_location is None:
        return location, flat
    if isinstance(map_location, dict):
        return str(map_location.get(location, location)), flat
    if isinstance(map_location, (str, device)):
        return str(map_location), flat
    if callable(map_location):
        result = map_location(flat, location)
        if result is None:
            return location, flat
        if (
            not isinstance(result, _C.TensorBase)
            or result.dtype != flat.dtype
            or result.numel() != flat.numel()
        ):
            raise TypeError(
                "map_location must return None or a tensor of the storage's dtype "
                f"and number of elements ({flat.dtype}, {flat.numel()}), got "
                f"{type(result).__name__}"
            )
        return "cpu", result.detach().contiguous().reshape(-1)
    # torch.device and other device-like objects name their device by str().
    return str(map_location), flat


def _storage_loader(archive: Archive, byteorder: str, map_location: Any) -> Callable:
    storages: dict[str, _Storage] = {}

    def persistent_load(pid: tuple) -> _Storage:
        if len(pid) != 5:
            raise pickle.UnpicklingError(f"a storage id has 5 fields, got {len(pid)}")
        _, storage_type, key, location, numel = pid
        dtype = _DTYPE_OF_STORAGE.get(id(storage_type))
        if dtype is None or STORAGE_OF_DTYPE[dtype] is not storage_type:
            raise pickle.UnpicklingError(f"unsupported storage type {storage_type!r}")
        if (
            type(key) is not str
            or type(location) is not str
            or not _is_int(numel)
            or numel < 0
        ):
            raise pickle.UnpicklingError(
                "a storage id is ('storage', type, key, location, numel)"
            )
        known = storages.get(key)
        if known is not None:
            if known.storage_type is not storage_type:
                raise pickle.UnpicklingError(
                    f"storage {key} is referenced with two types"
                )
            return known
        name = f"data/{key}"
        nbytes = numel * dtype.itemsize
        if archive.size(name) != nbytes:
            raise RuntimeError(
                f"record {archive.prefix}{name} holds {archive.size(name)} bytes, but "
                f"its storage claims {numel} elements of {dtype} ({nbytes} bytes)"
            )
        flat = _typed(archive.read(name, limit=nbytes), dtype, byteorder)
        target, flat = _target_location(location, flat, map_location)
        if target.startswith("cuda"):
            raise RuntimeError(_CUDA_MESSAGE)
        if target.partition(":")[0] != "cpu":
            raise RuntimeError(
                f"don't know how to restore data location of {storage_type!r} "
                f"(tagged with {target})"
            )
        storage = storages[key] = _Storage(flat, dtype, storage_type)
        return storage

    return persistent_load


def _typed(raw: bytes, dtype: Any, byteorder: str) -> Any:
    if dtype == _C.bool:
        # Any non-zero byte is True; a bool holding 2 would be undefined in C.
        return from_numpy(np.frombuffer(raw, np.uint8) != 0)
    native = np.dtype(dtype._numpy)
    stored = native.newbyteorder("<" if byteorder == "little" else ">")
    return from_numpy(np.frombuffer(raw, stored).astype(native))


class _FullUnpickler(pickle.Unpickler):
    """weights_only=False: any global, as torch.load allows for trusted files."""

    def __init__(self, data: bytes, persistent_load: Callable) -> None:
        super().__init__(io.BytesIO(data))
        self._load_storage = persistent_load

    def find_class(self, module: str, name: str) -> Any:
        found = _ALLOWED.get(f"{module}.{name}")
        if found is not None:
            return found
        return super().find_class(module, name)

    def persistent_load(self, pid: Any) -> Any:
        if type(pid) is not tuple or not pid or pid[0] != "storage":
            raise pickle.UnpicklingError("Only persistent_load of storage is allowed")
        return self._load_storage(pid)


def _weights_only_message(message: str) -> str:
    if "was not an allowed global" in message:
        return (
            "Weights only load failed. gdlite.load builds tensors, Parameters, state "
            "dicts and plain containers only and never runs code from a file; "
            "re-running gdlite.load with `weights_only` set to `False` can result in "
            "arbitrary code execution. Do it only if you got the file from a trusted "
            f"source.\n\tWeightsUnpickler error: {message}"
        )
    return f"Weights only load failed.\n\n{message}"


def _load_archive(stream: IO[bytes], map_location: Any, weights_only: bool) -> Any:
    archive = Archive(stream)
    try:
        byteorder = "little"
        if archive.has("byteorder"):
            byteorder = archive.read("byteorder", limit=16).decode("ascii", "replace")
            if byteorder not in ("little", "big"):
                raise RuntimeError(f"Unknown endianness type: {byteorder}")
        persistent_load = _storage_loader(archive, byteorder, map_location)
        data = archive.read("data.pkl")
        if not weights_only:
            return _FullUnpickler(data, persistent_load).load()
        try:
            return Unpickler(data, _ALLOWED, _CALLABLES, persistent_load).load()
        except pickle.UnpicklingError as e:
            raise pickle.UnpicklingError(_weights_only_message(str(e))) from None
    finally:
        archive.close()


def load(
    f: Any,
    map_location: Any = None,
    pickle_module: Any = None,
    *,
    weights_only: bool | None = None,
    mmap: bool | None = None,
    **pickle_load_args: Any,
) -> Any:
    """Loads an object saved by ``torch.save`` or ``gdlite.save`` (zip format)
    from a path or a seekable binary file object. With ``weights_only``
    (the default, as in PyTorch) only tensors, Parameters, OrderedDicts,
    containers, numbers and strings are built; any other global is refused
    with ``pickle.UnpicklingError``. ``map_location`` may be None, ``'cpu'``,
    a CPU device, a dict from saved to wanted locations, or a callable
    ``(storage, location)`` returning None or a replacement tensor."""
    if pickle_module not in (None, pickle):
        raise ValueError(
            "gdlite.load reads with its own unpickler; pickle_module must be pickle"
        )
    if mmap:
        raise ValueError(
            "gdlite.load does not memory-map files; mmap must be None or False"
        )
    unknown = set(pickle_load_args) - {"encoding"}
    if unknown:
        raise TypeError(
            f"load() got an unexpected keyword argument '{sorted(unknown)[0]}'"
        )
    weights_only = True if weights_only is None else bool(weights_only)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as stream:
            return _load_archive(stream, map_location, weights_only)
    if not callable(getattr(f, "read", None)):
        raise AttributeError(f"'{type(f).__name__}' object has no attribute 'read'")
    try:
        seekable = f.seekable() if callable(getattr(f, "seekable", None)) else True
        f.tell()
    except (OSError, AttributeError):
        seekable = False
    if not seekable:
        raise RuntimeError(_NOT_SEEKABLE)
    return _load_archive(f, map_location, weights_only)
