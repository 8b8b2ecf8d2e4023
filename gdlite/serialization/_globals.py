"""The names PyTorch's files refer to, shared by the writer and the reader.

A file names its rebuild functions and storage types as globals of the
``torch`` package (``torch._utils._rebuild_tensor_v2``, ``torch.FloatStorage``).
gdlite writes those names without importing torch, as ``TorchName`` markers,
and its reader resolves them to gdlite's own builders.
"""

from __future__ import annotations

from .. import _C


class TorchName:
    """A global of the torch package, written to a pickle by name."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name

    def __call__(self, *args: object) -> None:
        # pickle's save_reduce accepts only callables as reduce functions.
        raise TypeError(f"{self!r} names a torch global; it is not callable in gdlite")

    def __repr__(self) -> str:
        return f"{self.module}.{self.name}"


REBUILD_TENSOR = TorchName("torch._utils", "_rebuild_tensor_v2")
REBUILD_PARAMETER = TorchName("torch._utils", "_rebuild_parameter")
TORCH_SIZE = TorchName("torch", "Size")
TORCH_DEVICE = TorchName("torch", "device")

DTYPES = (_C.float32, _C.float64, _C.int64, _C.int32, _C.uint8, _C.bool)
# torch.FloatStorage, torch.LongStorage, ...: the legacy tensor name's stem.
STORAGE_OF_DTYPE = {
    d: TorchName("torch", d._legacy_name.removesuffix("Tensor") + "Storage")
    for d in DTYPES
}
DTYPE_NAME = {d: TorchName("torch", d._name) for d in DTYPES}
