"""gdlite.save: objects to PyTorch's zip format, as torch.save writes it.

The pickle is protocol 2 with the same reductions torch uses (tensors through
``_rebuild_tensor_v2``, Parameters through ``_rebuild_parameter``, storages as
persistent ids ``('storage', torch.<Type>Storage, key, 'cpu', numel)``), so the
bytes of ``data.pkl`` equal torch's for the same objects. Python's own pickler
writes everything else; the torch names are written as GLOBAL opcodes without
importing torch (the C pickler would insist on importing them).
"""

from __future__ import annotations

import io
import os
import pickle
import random
import sys
from collections import OrderedDict
from typing import IO, Any

import numpy as np

from .. import _C
from .._types import Size, device
from ..nn.parameter import Parameter
from ._globals import (
    DTYPE_NAME,
    REBUILD_PARAMETER,
    REBUILD_TENSOR,
    STORAGE_OF_DTYPE,
    TORCH_DEVICE,
    TORCH_SIZE,
    TorchName,
)
from ._zipwriter import ZipRecordWriter

_LOCATION = "cpu"


class _StorageRef:
    """The whole storage behind a tensor; pickled as a persistent id."""

    __slots__ = ("tensor",)

    def __init__(self, tensor: _C.TensorBase) -> None:
        self.tensor = tensor


class _ParameterData:
    """A Parameter's data, pickled as a plain tensor (torch's ``param.data``)."""

    __slots__ = ("tensor",)

    def __init__(self, tensor: _C.TensorBase) -> None:
        self.tensor = tensor


def _save_torch_name(pickler: pickle._Pickler, obj: TorchName) -> None:
    # What pickle's save_global writes at protocol 2, minus the import check.
    pickler.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
    pickler.memoize(obj)


class _TorchPickler(pickle._Pickler):
    dispatch = dict(pickle._Pickler.dispatch)
    dispatch[TorchName] = _save_torch_name

    def __init__(self, file: IO[bytes]) -> None:
        super().__init__(file, protocol=2)
        # key -> (flat byte view of the storage, dtype); keys in first-seen order
        self.storages: dict[str, tuple[_C.TensorBase, Any]] = {}
        self._keys: dict[int, str] = {}

    def save(self, obj: Any, save_persistent_id: bool = True) -> None:
        if isinstance(obj, _C.dtype):
            obj = DTYPE_NAME.get(obj, obj)
        super().save(obj, save_persistent_id)

    def persistent_id(self, obj: Any) -> Any:
        if type(obj) is not _StorageRef:
            return None
        t = obj.tensor
        ident = t._storage_id()
        key = self._keys.get(ident)
        if key is None:
            key = self._keys[ident] = str(len(self._keys))
            self.storages[key] = (t, t.dtype)
        elif self.storages[key][1] != t.dtype:
            raise RuntimeError(
                "Cannot save multiple tensors or storages that view the same data "
                "as different types"
            )
        numel = t._storage_nbytes() // t.element_size()
        return ("storage", STORAGE_OF_DTYPE[t.dtype], key, _LOCATION, numel)

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, Parameter):
            return (
                REBUILD_PARAMETER,
                (_ParameterData(obj), obj.requires_grad, OrderedDict()),
            )
        if isinstance(obj, _ParameterData):
            return _tensor_reduction(obj.tensor, False)
        if isinstance(obj, _C.TensorBase):
            return _tensor_reduction(obj, obj.requires_grad)
        if isinstance(obj, Size):
            return (TORCH_SIZE, (tuple(obj),))
        if isinstance(obj, device):
            # A string of its own, not the location's: the memo sees a new object,
            # as with torch's device.__reduce__.
            return (TORCH_DEVICE, (str(obj).encode().decode(),))
        return NotImplemented


def _tensor_reduction(t: _C.TensorBase, requires_grad: bool) -> tuple:
    args = (
        _StorageRef(t),
        t.storage_offset(),
        tuple(t._shape),
        tuple(t._strides()),
        requires_grad,
        OrderedDict(),
    )
    return (REBUILD_TENSOR, args)


def _storage_bytes(t: _C.TensorBase) -> memoryview:
    n = t._storage_nbytes() // t.element_size()
    flat = _C.as_strided(t.detach(), (n,), (1,), 0)._numpy()
    return memoryview(np.ascontiguousarray(flat).view(np.uint8))


def _archive_name(path: str) -> str:
    # torch names the archive's folder after the file, extension dropped; it
    # falls back to "archive" for names it cannot write as ASCII.
    if not path.isascii():
        return "archive"
    base = path.replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    if not stem:
        raise RuntimeError(f"invalid file name: {path}")
    return stem


def _serialization_id() -> str:
    rng = random.SystemRandom()
    return f"{rng.getrandbits(64):020d}{rng.getrandbits(64):020d}"


def _write_archive(obj: Any, stream: IO[bytes], name: str, byteorder: bool) -> None:
    buf = io.BytesIO()
    pickler = _TorchPickler(buf)
    pickler.dump(obj)
    zw = ZipRecordWriter(stream, name)
    zw.write_record("data.pkl", buf.getvalue())
    zw.write_record(".format_version", b"1")
    zw.write_record(".storage_alignment", b"64")
    order = sys.byteorder.encode("ascii")
    if byteorder:
        zw.write_record("byteorder", order)
    for key, (t, _) in pickler.storages.items():
        zw.write_record(f"data/{key}", _storage_bytes(t))
    zw.write_record("version", b"3\n")
    if not byteorder:
        # torch's archive writer adds the record at the end when save did not.
        zw.write_record("byteorder", order)
    zw.write_record(".data/serialization_id", _serialization_id().encode("ascii"))
    zw.finish()


def save(
    obj: Any,
    f: Any,
    pickle_module: Any = None,
    pickle_protocol: int = 2,
    _use_new_zipfile_serialization: bool = True,
    _disable_byteorder_record: bool = False,
) -> None:
    """Saves ``obj`` to ``f`` (a path or a writable binary file object) in
    PyTorch's zip format; ``torch.load(f, weights_only=True)`` reads tensors,
    Parameters, state dicts and containers of numbers and strings back."""
    if pickle_module not in (None, pickle) or pickle_protocol != 2:
        raise ValueError(
            "gdlite.save writes pickle protocol 2 with Python's pickle only"
        )
    if not _use_new_zipfile_serialization:
        raise ValueError("gdlite.save writes only PyTorch's zip-based format")
    if isinstance(f, (str, os.PathLike)):
        path = os.fsdecode(f)
        name = _archive_name(path)
        with open(path, "wb") as stream:
            _write_archive(obj, stream, name, not _disable_byteorder_record)
        return
    if not hasattr(f, "write"):
        raise AttributeError(
            "expected 'f' to be string, path, or a file-like object with a 'write' "
            "attribute"
        )
    if not callable(f.write):
        raise TypeError(
            f"Buffer of {str(type(f)).strip('<>')} has no callable attribute 'write'"
        )
    _write_archive(obj, f, "archive", not _disable_byteorder_record)
    if callable(getattr(f, "flush", None)):
        f.flush()
