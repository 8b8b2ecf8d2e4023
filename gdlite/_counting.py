"""Counting and set ops in PyTorch's signatures: bincount, histc, nonzero,
argwhere, unique and unique_consecutive (the functions and the methods).

The loops run in the C core (kernels_count.c). None is differentiable: a
result computed from a tensor that requires grad gets PyTorch's node whose
backward raises (``Unique2Backward0``, ``NotImplemented`` for bincount).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from . import _C

OPS = _C.ops
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _need_tensor(fn: str, name: str, position: int, value: Any) -> None:
    if not isinstance(value, _C.TensorBase):
        raise TypeError(
            f"{fn}(): argument '{name}' (position {position}) must be Tensor, not "
            f"{type(value).__name__}"
        )


def _int(fn: str, name: str, value: Any) -> int:
    """An int argument as PyTorch's parser takes it: ints, NumPy ints and
    one-element integer tensors, never bool or float."""
    if not isinstance(value, bool):
        try:
            value = operator.index(value)
        except TypeError:
            pass
        else:
            if not _INT64_MIN <= value <= _INT64_MAX:
                raise ValueError("Overflow when unpacking long long")
            return value
    raise TypeError(
        f"{fn}(): argument '{name}' must be int, not {type(value).__name__}"
    )


def _bool(fn: str, name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"{fn}(): argument '{name}' must be bool, not {type(value).__name__}"
        )
    return bool(value)


def _number(fn: str, name: str, value: Any) -> float:
    if isinstance(value, _C.TensorBase) and value.numel() == 1:
        return float(value.item())
    if isinstance(value, (int, float, np.integer, np.floating, np.bool_)):
        return float(value)
    raise TypeError(
        f"{fn}(): argument '{name}' must be Number, not {type(value).__name__}"
    )


# ---- counting ---------------------------------------------------------------


def bincount(input: Any, weights: Any = None, minlength: int = 0) -> Any:
    """How often each non-negative int occurs in the 1-D ``input``, or the sum
    of ``weights`` at each value; at least ``minlength`` long.

    >>> gdlite.bincount(gdlite.tensor([1, 2, 2, 5]))
    tensor([0, 1, 2, 0, 0, 1])
    """
    _need_tensor("bincount", "input", 1, input)
    if weights is not None:
        _need_tensor("bincount", "weights", 2, weights)
    out = _C.bincount(input, weights, _int("bincount", "minlength", minlength))
    return out if weights is None else _C.track(OPS["bincount"], weights, out)


def histc(input: Any, bins: int = 100, min: Any = 0, max: Any = 0) -> Any:  # noqa: A002
    """A histogram of ``input`` with ``bins`` equal bins over ``[min, max]``
    (the data's range when both are equal); elements outside are ignored.

    >>> gdlite.histc(gdlite.tensor([1., 2., 1.]), bins=4, min=0, max=3)
    tensor([0., 2., 1., 0.])
    """
    _need_tensor("histc", "input", 1, input)
    bins = _int("histc", "bins", bins)
    lo, hi = _number("histc", "min", min), _number("histc", "max", max)
    return _C.histc(input, bins, lo, hi)


# ---- positions --------------------------------------------------------------


def nonzero(input: Any, *, as_tuple: bool = False) -> Any:
    """The indices of the nonzero elements: an int64 ``[n, ndim]`` tensor, or
    with ``as_tuple=True`` one 1-D tensor per dimension.

    >>> gdlite.nonzero(gdlite.tensor([0, 3, 0, 4]))
    tensor([[1],
            [3]])
    """
    _need_tensor("nonzero", "input", 1, input)
    if not _bool("nonzero", "as_tuple", as_tuple):
        return _C.nonzero(input)
    # PyTorch reads a 0-d input as one element and returns views of columns.
    rows = _C.nonzero(input if input.ndim else input.reshape(1))
    return tuple(_C.select(rows, 1, d) for d in range(rows.shape[1]))


def argwhere(input: Any) -> Any:
    """The indices of the nonzero elements, ``[n, ndim]`` (as ``nonzero``)."""
    _need_tensor("argwhere", "input", 1, input)
    return _C.nonzero(input)


# ---- unique -----------------------------------------------------------------


def _results(values: Any, inverse: Any, counts: Any, ri: bool, rc: bool) -> Any:
    if not ri and not rc:
        return values
    return (values,) + ((inverse,) if ri else ()) + ((counts,) if rc else ())


def _wrap_dim(dim: Any, ndim: int, fn: str) -> int:
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(
            f"{fn}(): argument 'dim' (position 2) must be int, not {type(dim).__name__}"
        )
    if ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    if not -ndim <= dim < ndim:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}]"
            f", but got {dim})"
        )
    return int(dim) % ndim


def _unique_dim(input: Any, dim: int, consecutive: bool) -> tuple[Any, Any, Any]:
    """unique over the slices along ``dim``. Slices compare as whole rows, which
    NumPy's lexicographic unique does directly; speed does not matter here (the
    courses count classes of 1-D targets, the C path)."""
    fn = "unique_consecutive" if consecutive else "unique_dim"
    d = _wrap_dim(dim, input.ndim, fn)
    shape = tuple(input.shape)
    if 0 in shape and shape[d] != 0:
        raise RuntimeError(
            "There are 0 sized dimensions, and they aren't selected, so unique cannot "
            "be applied"
        )
    rows = np.moveaxis(input.detach()._numpy(), d, 0)
    n = rows.shape[0]
    if n == 0:
        values, inverse, counts = rows, np.zeros(0, np.int64), np.zeros(0, np.int64)
    elif consecutive:
        flat = rows.reshape(n, -1)
        # NaN != NaN: slices holding NaN are never equal, as in PyTorch
        starts = np.concatenate([[True], np.any(flat[1:] != flat[:-1], axis=1)])
        inverse = np.cumsum(starts) - 1
        first = np.flatnonzero(starts)
        values, counts = rows[first], np.diff(np.append(first, n))
    else:
        values, inverse, counts = np.unique(
            rows, axis=0, return_inverse=True, return_counts=True
        )
    values = np.ascontiguousarray(np.moveaxis(values, 0, d))
    out = [_C.from_numpy(np.ascontiguousarray(a)) for a in (values, inverse, counts)]
    out[1] = out[1].reshape(-1).to(_C.int64)
    out[2] = out[2].to(_C.int64)
    return out[0], out[1], out[2]


def unique(
    input: Any,
    sorted: bool = True,  # noqa: A002
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
) -> Any:
    """The distinct elements of ``input`` in ascending order (NaNs last, each
    its own), with the inverse indices and counts when asked; with ``dim``,
    the distinct slices along it.

    >>> gdlite.unique(gdlite.tensor([3, 1, 3]), return_counts=True)
    (tensor([1, 3]), tensor([1, 2]))
    """
    fn = "_unique2" if dim is None else "unique_dim"
    _need_tensor(fn, "input", 1, input)
    _bool(fn, "sorted", sorted)
    ri = _bool(fn, "return_inverse", return_inverse)
    rc = _bool(fn, "return_counts", return_counts)
    if dim is None:
        values, inverse, counts = _C.unique(input, False)
    else:
        values, inverse, counts = _unique_dim(input, dim, False)
    values = _C.track(OPS[fn], input, values)
    return _results(values, inverse, counts, ri, rc)


def unique_consecutive(
    input: Any,
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
) -> Any:
    """Collapses each run of equal neighbours (or slices along ``dim``) to one.

    >>> gdlite.unique_consecutive(gdlite.tensor([1, 1, 2, 1]))
    tensor([1, 2, 1])
    """
    fn = "unique_consecutive"
    _need_tensor(fn, "input", 1, input)
    ri = _bool(fn, "return_inverse", return_inverse)
    rc = _bool(fn, "return_counts", return_counts)
    if dim is None:
        values, inverse, counts = _C.unique(input, True)
    else:
        values, inverse, counts = _unique_dim(input, dim, True)
    values = _C.track(OPS[fn], input, values)
    return _results(values, inverse, counts, ri, rc)


# Tensor methods (the same signatures after self).
METHODS = {
    "bincount": bincount,
    "histc": histc,
    "nonzero": nonzero,
    "argwhere": argwhere,
    "unique": unique,
    "unique_consecutive": unique_consecutive,
}
