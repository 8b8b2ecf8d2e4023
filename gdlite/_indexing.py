"""Advanced indexing: the index forms the C fast path leaves to Python.

PyTorch's rules: an index that is not a tuple is wrapped in one (a short list
holding sequences, tensors, slices, None or Ellipsis counts as a tuple). Ints
(and 0-d integer tensors, objects with ``__index__``) select, slices, None and
Ellipsis give a view; bools add a size-1 dim indexed by [0] or []; every other
sequence becomes an int64 index (or a mask when it holds bools). Masks become
the positions of their true elements. The index tensors broadcast together and
replace the dims they index, in place when those dims are adjacent, else in
front. The C core gathers (``_C.index``) or writes (``_C.index_put_``) only the
indexed elements: nothing the size of the whole tensor is made.
"""

from __future__ import annotations

import operator
import warnings
from typing import Any

import numpy as np

from . import _C

_TUPLE_WARNING = (
    "Using a non-tuple sequence for multidimensional indexing is deprecated and will "
    "be changed in pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 "
    "this will be interpreted as tensor index, x[torch.tensor(seq)], which will "
    "result either in an error or a different result"
)
_INDEX_DTYPES = "tensors used as indices must be long, int, byte or bool tensors"


def _shape_text(shape: Any) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _is_sequence(obj: Any) -> bool:
    """CPython's PySequence_Check, which PyTorch's parser uses."""
    if isinstance(obj, (dict, np.generic)):
        return False
    return hasattr(type(obj), "__getitem__") and not isinstance(obj, type)


def _wrap_tuple(idx: Any) -> tuple[Any, ...]:
    if isinstance(idx, tuple):
        return idx
    if isinstance(idx, (_C.TensorBase, np.ndarray)) or not _is_sequence(idx):
        return (idx,)
    try:
        n = len(idx)
    except TypeError:
        return (idx,)
    if n >= 32:
        return (idx,)
    for item in idx:
        if (
            isinstance(item, (_C.TensorBase, slice))
            or item is None
            or item is Ellipsis
            or _is_sequence(item)
        ):
            warnings.warn(_TUPLE_WARNING, UserWarning, stacklevel=4)
            return tuple(idx)
    return (idx,)


def _sequence_index(seq: Any) -> Any:
    """A list, range or array as PyTorch's indexing tensor: int64, or bool."""
    if isinstance(seq, range):
        return _C.from_numpy(np.arange(seq.start, seq.stop, seq.step, dtype=np.int64))
    if isinstance(seq, np.ndarray):
        if seq.dtype == np.uint8:
            warnings.warn(
                "indexing with dtype torch.uint8 is now deprecated, please use a "
                "dtype torch.bool instead.",
                UserWarning,
                stacklevel=5,
            )
            return _C.from_numpy(seq.astype(bool))
        if seq.dtype == bool:
            return _C.from_numpy(np.ascontiguousarray(seq))
        return _C.from_numpy(seq.astype(np.int64))
    if isinstance(seq, list) and all(type(i) is int for i in seq):
        try:
            return _C.from_numpy(np.array(seq, dtype=np.int64).reshape(len(seq)))
        except OverflowError:
            raise ValueError("Overflow when unpacking long long") from None
    from ._creation import tensor

    t = tensor(seq)
    return t if t.dtype in (_C.bool, _C.int64) else t.to(_C.int64)


def _convert(item: Any) -> Any:
    """One index item as an int, bool, slice, None, Ellipsis or a tensor."""
    if isinstance(item, _C.TensorBase):
        if item.dim() == 0 and item.dtype in (_C.int32, _C.int64):
            return int(item)
        if item.dim() == 0 and item.dtype == _C.bool:
            return bool(item)
        return item
    if item is None or item is Ellipsis or isinstance(item, (slice, bool, int)):
        return item
    if isinstance(item, np.integer):
        return int(item)
    if _is_sequence(item):
        return _sequence_index(item)
    try:
        return operator.index(item)
    except TypeError:
        raise IndexError(
            "only integers, slices (`:`), ellipsis (`...`), None and long or byte "
            f"Variables are valid indices (got {type(item).__name__})"
        ) from None


def _parse(t: Any, idx: Any) -> tuple[tuple[Any, ...], list[tuple[int, Any]]]:
    """The basic part of an index (for a view) and the index tensors with the
    dims of that view they start at."""
    items = [_convert(i) for i in _wrap_tuple(idx)]
    specified = 0
    for item in items:
        if isinstance(item, _C.TensorBase):
            specified += item.dim() if item.dtype == _C.bool else 1
        elif not (item is None or item is Ellipsis or isinstance(item, bool)):
            specified += 1
    if specified > t.dim():
        raise IndexError(f"too many indices for tensor of dimension {t.dim()}")
    basic: list[Any] = []
    advanced: list[tuple[int, Any]] = []
    dim = 0
    for item in items:
        if item is Ellipsis:
            basic.append(item)
            dim += t.dim() - specified
        elif item is None or isinstance(item, slice):
            basic.append(item)
            dim += 1
        elif isinstance(item, bool):
            basic.append(None)
            advanced.append((dim, _C.from_numpy(np.zeros(int(item), dtype=np.int64))))
            dim += 1
        elif isinstance(item, int):
            basic.append(item)
        else:
            width = item.dim() if item.dtype == _C.bool else 1
            basic.extend([slice(None)] * width)
            advanced.append((dim, item))
            dim += width
    return tuple(basic), advanced


def _check_mask(mask: Any, shape: tuple[int, ...], dim: int) -> None:
    for j, size in enumerate(mask.shape):
        if size != shape[dim + j]:
            raise IndexError(
                f"The shape of the mask {_shape_text(mask.shape)} at index {j} does "
                "not match the shape of the indexed tensor "
                f"{_shape_text(shape)} at index {dim + j}"
            )


_EXPANDED_WARNING = (
    "Use of index_put_ on expanded tensors is deprecated. Please clone() the tensor "
    "before performing this operation. This also applies to advanced indexing e.g. "
    "tensor[indices] = tensor"
)


def _index_rows(view: Any, advanced: list[tuple[int, Any]]) -> tuple[list[int], Any]:
    """The indexed dims of `view` and their index rows, broadcast together:
    one tensor for one dim, else the rows stacked ([k, *shape])."""
    dims, rows = [], []
    shape = tuple(view.shape)
    for dim, index in advanced:
        if index.dtype == _C.bool:
            _check_mask(index, shape, dim)
            positions = _C.mask_indices(index)
            if index.dim() == 1:
                dims.append(dim)
                rows.append(positions)
            else:
                for j in range(index.dim()):
                    dims.append(dim + j)
                    rows.append(positions[j])
        elif index.dtype in (_C.int64, _C.int32):
            dims.append(dim)
            rows.append(index)
        else:
            raise IndexError(_INDEX_DTYPES)
    if len(rows) == 1:
        return dims, rows[0]
    arrays = [r._numpy() for r in rows]
    try:
        arrays = np.broadcast_arrays(*arrays)
    except ValueError:
        text = ", ".join(_shape_text(a.shape) for a in arrays)
        raise IndexError(
            "shape mismatch: indexing tensors could not be broadcast together with "
            f"shapes {text}"
        ) from None
    return dims, _C.from_numpy(np.stack(arrays).astype(np.int64, copy=False))


def getitem(t: Any, idx: Any) -> Any:
    """``t[idx]`` for an index the C fast path does not take."""
    basic, advanced = _parse(t, idx)
    if not advanced:
        return t[basic]
    whole = all(i is Ellipsis or i == slice(None) for i in basic)
    view = t if whole else t[basic]  # PyTorch indexes t itself: no alias node
    dims, rows = _index_rows(view, advanced)
    return _C.index(view, dims, rows)


def _value_tensor(t: Any, value: Any) -> Any:
    """The assigned value as a tensor, as PyTorch's setitem takes it."""
    if isinstance(value, _C.TensorBase):
        return value
    if isinstance(value, (bool, int, float, np.number)):
        return _C.full((), value, t.dtype)
    if isinstance(value, (list, tuple, np.ndarray)):  # beyond PyTorch: data
        from ._creation import tensor

        return tensor(value, dtype=t.dtype)
    kind = type(value)
    name = kind.__name__ if kind.__module__ == "builtins" else kind.__module__ + "."
    name += "" if kind.__module__ == "builtins" else kind.__qualname__
    raise TypeError(f"can't assign a {name} to a gdlite.{_LEGACY[_scalar(t.dtype)]}")


def _strip_leading_ones(value: Any) -> Any:
    shape = list(value.shape)
    while shape and shape[0] == 1:
        shape.pop(0)
    return value.view(shape) if len(shape) != value.dim() else value


def _copy_to(dst: Any, src: Any) -> None:
    """Writes ``src`` into ``dst`` with the ops PyTorch's assignment records:
    copy_ of equal shapes, fill_ of a 0-d value, else copy_ of the value with
    its leading ones dropped and expanded."""
    if dst.shape == src.shape:
        dst.copy_(src)
    elif src.dim() == 0:
        dst.fill_(src)
    else:
        stripped = _strip_leading_ones(src)
        dst.copy_(
            stripped if stripped.shape == dst.shape else stripped.expand(dst.shape)
        )


def _basic_geometry(shape: tuple[int, ...], basic: tuple[Any, ...]) -> Any:
    """Offset, shape and strides (in elements of a row-major tensor of `shape`)
    of the view `basic` selects; indices were checked by making that view."""
    strides = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * shape[d + 1]
    consumed = sum(1 for i in basic if i is not None and i is not Ellipsis)
    offset, out_shape, out_strides, d = 0, [], [], 0
    for item in basic:
        if item is Ellipsis:
            for _ in range(len(shape) - consumed):
                out_shape.append(shape[d])
                out_strides.append(strides[d])
                d += 1
        elif item is None:
            out_shape.append(1)
            out_strides.append(0)
        elif isinstance(item, slice):
            start, stop, step = item.indices(shape[d])
            out_shape.append(len(range(start, stop, step)))
            out_strides.append(strides[d] * step)
            offset += start * strides[d] if out_shape[-1] else 0
            d += 1
        else:
            offset += (item % shape[d]) * strides[d]
            d += 1
    out_shape += shape[d:]
    out_strides += strides[d:]
    return offset, out_shape, out_strides


def _positions(t: Any, basic: tuple[Any, ...], dims: list[int], rows: Any) -> Any:
    """Row-major positions in t of the elements an index selects (the shape of
    the indexing result): what a recorded assignment writes."""
    offset, shape, strides = _basic_geometry(tuple(t.shape), basic)
    if rows is None:
        pos = np.asarray(offset, dtype=np.int64)
        for d, (n, s) in enumerate(zip(shape, strides, strict=True)):
            pos = pos + (np.arange(n, dtype=np.int64) * s).reshape(
                [1] * d + [n] + [1] * (len(shape) - d - 1)
            )
        return np.ascontiguousarray(np.broadcast_to(pos, shape))
    r = rows._numpy().astype(np.int64)
    if len(dims) == 1:
        r = r[None]
    bshape = r.shape[1:]
    rr = r.reshape(len(dims), -1)
    sizes = np.array([shape[d] for d in dims], dtype=np.int64)[:, None]
    bad = (rr < -sizes) | (rr >= sizes)
    if bad.any():  # the first bad entry, element by element as PyTorch checks
        b = int(np.flatnonzero(bad.any(axis=0))[0])
        k = int(np.flatnonzero(bad[:, b])[0])
        raise IndexError(
            f"index {int(rr[k, b])} is out of bounds for dimension {k} with size "
            f"{shape[dims[k]]}"
        )
    adjacent = dims == list(range(dims[0], dims[0] + len(dims)))
    rest = [d for d in range(len(shape)) if d not in dims]
    before = [d for d in rest if adjacent and d < dims[0]]
    after = [d for d in rest if d not in before]
    nb, ndim = len(bshape), len(before) + len(bshape) + len(after)
    pos = np.asarray(offset, dtype=np.int64)
    for j, d in enumerate(dims):
        wrapped = np.where(r[j] < 0, r[j] + shape[d], r[j]) * strides[d]
        pos = pos + wrapped.reshape([1] * len(before) + list(bshape) + [1] * len(after))
    for ax, d in enumerate(before):
        pos = pos + (np.arange(shape[d]) * strides[d]).reshape(
            [1] * ax + [shape[d]] + [1] * (ndim - ax - 1)
        )
    for i, d in enumerate(after):
        ax = len(before) + nb + i
        pos = pos + (np.arange(shape[d]) * strides[d]).reshape(
            [1] * ax + [shape[d]] + [1] * (ndim - ax - 1)
        )
    out_shape = [shape[d] for d in before] + list(bshape) + [shape[d] for d in after]
    return np.ascontiguousarray(np.broadcast_to(pos, out_shape), dtype=np.int64)


def _is_single_mask(advanced: list[tuple[int, Any]]) -> bool:
    return len(advanced) == 1 and advanced[0][1].dtype == _C.bool


def setitem(t: Any, idx: Any, value: Any) -> None:
    """``t[idx] = value`` for an index or value the C fast path does not take."""
    value = _value_tensor(t, value)
    basic, advanced = _parse(t, idx)
    tracked = _C.is_grad_enabled() and (t.requires_grad or value.requires_grad)
    if not tracked:
        view = t[basic]
        if not advanced:
            view[...] = value
            return
        if value.dtype != t.dtype and not (
            value.dim() == 0 and _is_single_mask(advanced)
        ):
            raise RuntimeError(
                "Index put requires the source and destination dtypes match, got "
                f"{_scalar(t.dtype)} for the destination and {_scalar(value.dtype)} "
                "for the source."
            )
        dims, rows = _index_rows(view, advanced)
        if value.dim():
            value = _strip_leading_ones(value)
        if any(
            st == 0 and n > 1 for st, n in zip(view.stride(), view.shape, strict=True)
        ):
            warnings.warn(_EXPANDED_WARNING, UserWarning, stacklevel=2)
        _C.index_put_(view, dims, rows, value)
        return
    if not advanced:
        # PyTorch writes a basic index through a view (t itself when the index
        # selects everything): the core records CopySlices on t for a view,
        # and refuses a view of a leaf.
        view = t[basic]
        if view.shape == t.shape and view.stride() == t.stride():
            view = t
        _copy_to(view, value)
        return
    view = t.detach()[basic]  # checks the basic part, records nothing
    dims, rows = _index_rows(view, advanced) if advanced else ([], None)
    positions = _positions(t, basic, dims, rows)
    if (
        advanced
        and value.dtype != t.dtype
        and not (value.dim() == 0 and _is_single_mask(advanced))
    ):
        raise RuntimeError(
            "Index put requires the source and destination dtypes match, got "
            f"{_scalar(t.dtype)} for the destination and {_scalar(value.dtype)} "
            "for the source."
        )
    if value.dim():
        value = _strip_leading_ones(value)
    try:
        value.expand(positions.shape)
    except RuntimeError:
        if not advanced:
            raise
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {_shape_text(value.shape)} "
            "cannot be broadcast to indexing result of shape "
            f"{_shape_text(positions.shape)}"
        ) from None
    _C.put_(t, _C.from_numpy(positions), value)


_LEGACY = {
    "Float": "FloatTensor",
    "Double": "DoubleTensor",
    "Long": "LongTensor",
    "Int": "IntTensor",
    "Bool": "BoolTensor",
}


def _scalar(dtype: Any) -> str:
    return {
        "float32": "Float",
        "float64": "Double",
        "int64": "Long",
        "int32": "Int",
    }.get(repr(dtype).removeprefix("gdlite."), "Bool")


_C._set_indexing_hooks(getitem, setitem)
