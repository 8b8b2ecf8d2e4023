"""DLPack: share tensor memory with NumPy, PyTorch and other array libraries.

``gdlite.from_dlpack(x)`` wraps the memory of any object with ``__dlpack__``
(or a DLPack capsule) without copying; ``np.from_dlpack(t)`` and
``torch.from_dlpack(t)`` do the same the other way through
``Tensor.__dlpack__``. The memory stays alive as long as either side holds
it. A read-only producer (a NumPy array with ``writeable=False``) is refused
unless ``copy=True``: gdlite tensors are always writable.
"""

from __future__ import annotations

import enum
from typing import Any

from .. import _C

__all__ = ["DLDeviceType", "from_dlpack", "to_dlpack"]

_MAX_VERSION = (1, 0)  # the DLPack major version gdlite reads and writes


class DLDeviceType(enum.IntEnum):
    """DLPack's device codes (dlpack.h), as ``__dlpack_device__`` returns them."""

    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14
    kDLWebGPU = 15
    kDLHexagon = 16
    kDLMAIA = 17


def to_dlpack(tensor: Any) -> Any:
    """A legacy ``"dltensor"`` capsule sharing the tensor's memory."""
    return tensor.__dlpack__()


def export(
    tensor: Any,
    stream: Any = -1,
    max_version: tuple[int, int] | None = None,
    dl_device: tuple[int, int] | None = None,
    copy: bool | None = None,
) -> Any:
    """Tensor.__dlpack__: the array API standard's keywords, PyTorch's checks."""
    assert stream is None or stream == -1, "stream should be None on cpu."
    if dl_device is not None and tuple(dl_device) != (DLDeviceType.kDLCPU, 0):
        raise BufferError(
            f"gdlite tensors live on the CPU and cannot be exported to {dl_device}"
        )
    if tensor.requires_grad:
        raise BufferError(
            "Can't export tensors that require gradient, use tensor.detach()"
        )
    if copy is not None and not isinstance(copy, bool):
        raise TypeError(f"copy must be a bool or None, got {type(copy).__name__}")
    versioned = max_version is not None and tuple(max_version)[0] >= _MAX_VERSION[0]
    source = tensor.clone() if copy else tensor
    return _C._to_dlpack(source, versioned, bool(copy))


def _check_device(device: Any) -> None:
    if device is None:
        return
    if str(device) not in ("cpu", "cpu:0") and device != 0:
        raise BufferError(f"gdlite tensors live on the CPU, not on {device!r}")


def from_dlpack(ext_tensor: Any, *, device: Any = None, copy: bool | None = None):
    """A tensor over the memory of ``ext_tensor`` (shared unless ``copy=True``).

    ``ext_tensor`` is an object with ``__dlpack__`` (a NumPy array, a PyTorch
    tensor, ...) or a DLPack capsule, which can be consumed once.

    >>> a = np.arange(3.0)
    >>> t = gdlite.from_dlpack(a); t[0] = 7.0; a
    array([7., 1., 2.])
    """
    _check_device(device)
    if copy is not None and not isinstance(copy, bool):
        raise TypeError(f"copy must be a bool or None, got {type(copy).__name__}")
    if not hasattr(ext_tensor, "__dlpack__"):
        out = _C._from_dlpack(ext_tensor)
        return out.clone() if copy else out
    if hasattr(ext_tensor, "__dlpack_device__"):
        kind, _ = ext_tensor.__dlpack_device__()
        if int(kind) != DLDeviceType.kDLCPU:
            raise BufferError(
                f"gdlite only imports CPU memory; the producer is on device type "
                f"{int(kind)}"
            )
    kwargs: dict[str, Any] = {"max_version": _MAX_VERSION}
    if copy is not None:
        kwargs["copy"] = copy
    try:
        capsule = ext_tensor.__dlpack__(**kwargs)
        copied_by_producer = True
    except TypeError:
        # A producer older than the 2023 standard knows no max_version or copy.
        capsule = ext_tensor.__dlpack__()
        copied_by_producer = False
    out = _C._from_dlpack(capsule)
    return out.clone() if copy and not copied_by_producer else out
