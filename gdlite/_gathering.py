"""Joining and gathering in PyTorch's signatures: cat, stack, meshgrid,
index_select, gather, scatter_add, take_along_dim."""

from __future__ import annotations

import builtins
import warnings
from collections.abc import Sequence
from typing import Any

from . import _C

# ---- joining ----------------------------------------------------------------


def _dim_or_axis(name: str, dim: Any, axis: Any) -> Any:
    """NumPy's ``axis=`` for ``dim=`` (0 by default), as PyTorch accepts it."""
    if axis is None:
        return 0 if dim is None else dim
    if dim is not None:
        raise TypeError(f"{name}() got an unexpected keyword argument 'axis'")
    return axis


def cat(tensors: Sequence[Any], dim: Any = None, *, axis: Any = None) -> Any:
    """Concatenates along an existing dimension. Alias: ``concat``."""
    return _C.cat(tensors, _dim_or_axis("cat", dim, axis))


def stack(tensors: Sequence[Any], dim: Any = None, *, axis: Any = None) -> Any:
    """Stacks equal-shaped tensors along a new dimension."""
    dim = _dim_or_axis("stack", dim, axis)
    if len(tensors) == 0:
        raise RuntimeError("stack expects a non-empty TensorList")
    return _C.stack(tensors, dim)


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Any, ...]:
    """Coordinate grids from 1-D tensors ('ij' by default, or 'xy')."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the "
            "indexing argument.",
            UserWarning,
            stacklevel=2,
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(
            'torch.meshgrid: indexing must be one of "xy" or "ij", but received: '
            f"{indexing}"
        )
    for t in tensors:
        if t.dtype != tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
        if t.dim() > 1:
            raise RuntimeError(
                "torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: "
                f"{t!r}"
            )
    swap = indexing == "xy" and len(tensors) >= 2
    ts = list(tensors)
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = [t.numel() for t in ts]
    grids = []
    for i, t in enumerate(ts):
        view = [1] * len(ts)
        view[i] = -1
        grids.append(t.reshape(view).expand(shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


# ---- gathering along dims ----------------------------------------------------


def _need_tensor(fn: str, name: str, position: int, value: Any) -> None:
    if not isinstance(value, _C.TensorBase):
        raise TypeError(
            f"{fn}(): argument '{name}' (position {position}) must be Tensor, not "
            f"{type(value).__name__}"
        )


def index_select(input: Any, dim: int, index: Any) -> Any:
    """Slices of ``input`` along ``dim`` at ``index`` (a 1-D int tensor).

    Example: ``gdlite.index_select(x, 0, gdlite.tensor([2, 0]))``."""
    _need_tensor("index_select", "index", 3, index)
    return _C.index_select(input, dim, index)


def gather(
    input: Any,
    dim: Any = None,
    index: Any = None,
    *,
    sparse_grad: bool = False,
    axis: Any = None,
) -> Any:
    """``out[i][j] = input[index[i][j]][j]`` for ``dim=0`` (and so on).

    Example: ``gdlite.gather(x, 1, gdlite.tensor([[0], [2]]))``."""
    dim = _gather_dim(dim, axis, index)
    _need_tensor("gather", "index", 3, index)
    return _C.gather(input, dim, index)


def scatter_add(input: Any, dim: int, index: Any, src: Any) -> Any:
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim``."""
    _need_tensor("scatter_add", "index", 3, index)
    _need_tensor("scatter_add", "src", 4, src)
    return _C.scatter_add(input, dim, index, src, False)


def _index_select_method(self: Any, dim: int, index: Any) -> Any:
    _need_tensor("index_select", "index", 2, index)
    return _C.index_select(self, dim, index)


def _gather_dim(dim: Any, axis: Any, index: Any) -> Any:
    """gather's dim, also as NumPy's ``axis=``; both dim and index needed."""
    if axis is not None:
        if dim is not None:
            raise TypeError("gather() got an unexpected keyword argument 'axis'")
        dim = axis
    if dim is None or index is None:
        missing = [n for n, v in (("dim", dim), ("index", index)) if v is None]
        names = ", ".join(f'"{n}"' for n in missing)
        raise TypeError(
            f"gather() missing {len(missing)} required positional arguments: {names}"
        )
    return dim


def _gather_method(
    self: Any,
    dim: Any = None,
    index: Any = None,
    *,
    sparse_grad: bool = False,
    axis: Any = None,
) -> Any:
    dim = _gather_dim(dim, axis, index)
    _need_tensor("gather", "index", 2, index)
    return _C.gather(self, dim, index)


def _scatter_add_method(self: Any, dim: int, index: Any, src: Any) -> Any:
    _need_tensor("scatter_add", "index", 2, index)
    _need_tensor("scatter_add", "src", 3, src)
    return _C.scatter_add(self, dim, index, src, False)


def _take_along_dim_method(self: Any, indices: Any, dim: int | None = None) -> Any:
    if not isinstance(indices, _C.TensorBase):
        raise TypeError(
            "take_along_dim(): argument 'indices' (position 1) must be Tensor, not "
            f"{type(indices).__name__}"
        )
    return take_along_dim(self, indices, dim)


def scatter_add_(self: Any, dim: int, index: Any, src: Any) -> Any:
    """In place: ``self[index[i][j]][j] += src[i][j]`` (dim 0); returns self."""
    _need_tensor("scatter_add_", "index", 2, index)
    _need_tensor("scatter_add_", "src", 3, src)
    _C.scatter_add(self, dim, index, src, True)
    return self


def _broadcast_pair(a: list[int], b: list[int]) -> list[int]:
    """PyTorch's infer_size, with its message."""
    n = builtins.max(len(a), len(b))
    out = []
    for i in range(n):
        sa = a[len(a) - n + i] if len(a) - n + i >= 0 else 1
        sb = b[len(b) - n + i] if len(b) - n + i >= 0 else 1
        if sa != sb and sa != 1 and sb != 1:
            raise RuntimeError(
                f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) "
                f"at non-singleton dimension {i}"
            )
        out.append(sa if sb == 1 else sb)
    return out


def take_along_dim(input: Any, indices: Any, dim: int | None = None) -> Any:
    """Values of ``input`` at ``indices`` along ``dim``, broadcasting the other
    dims (as NumPy's take_along_axis); flat without ``dim``."""
    _need_tensor("take_along_dim", "indices", 2, indices)
    if dim is None:
        return _C.gather(input.view(-1), 0, indices.view(-1))
    if input.dim() != indices.dim():
        raise RuntimeError(
            "gdlite.take_along_dim(): input and indices should have the same number of "
            f"dimensions, but got {input.dim()} dimensions for input, and "
            f"{indices.dim()} dimensions for indices"
        )
    if indices.dtype != _C.int64:
        raise RuntimeError(
            "gdlite.take_along_dim(): dtype of indices should be Long but got "
            f"{indices.dtype._scalar_name}"
        )
    if input.dim() == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    n = input.dim()
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but "
            f"got {dim})"
        )
    dim %= n
    self_sizes, index_sizes = list(input.shape), list(indices.shape)
    self_sizes[dim] = indices.shape[dim]
    index_sizes[dim] = input.shape[dim]
    indices = indices.expand(_broadcast_pair(self_sizes, list(indices.shape)))
    input = input.expand(_broadcast_pair(index_sizes, list(input.shape)))
    return _C.gather(input, dim, indices)


# Tensor methods: PyTorch counts argument positions from the first after self.
METHODS = {
    "index_select": _index_select_method,
    "gather": _gather_method,
    "scatter_add": _scatter_add_method,
    "scatter_add_": scatter_add_,
    "take_along_dim": _take_along_dim_method,
}
