"""default_collate and default_convert: samples to batches, as PyTorch.

``collate`` dispatches on the type of the batch's first element through
``default_collate_fn_map`` (exact type first, then isinstance in insertion
order), then recurses into mappings, namedtuples and sequences.
"""

from __future__ import annotations

import collections.abc
import copy
import re
from collections.abc import Callable
from typing import Any

import numpy as np

import gdlite

__all__ = ["collate", "default_collate", "default_collate_fn_map", "default_convert"]

# NumPy dtypes that cannot become tensors: bytes, str, unicode, object.
np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, "
    "dicts or lists; found {}"
)


def default_convert(data: Any) -> Any:
    """NumPy arrays and scalars (also inside mappings, namedtuples and
    sequences) to tensors; everything else unchanged. Tuples become lists."""
    elem_type = type(data)
    if isinstance(data, gdlite.Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in (
        "str_",
        "string_",
    ):
        if (
            elem_type.__name__ == "ndarray"
            and np_str_obj_array_pattern.search(data.dtype.str) is not None
        ):
            return data
        return gdlite.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update({key: default_convert(data[key]) for key in data})
                return clone
            return elem_type({key: default_convert(data[key]) for key in data})
        except TypeError:
            return {key: default_convert(data[key]) for key in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(
        data, (str, bytes)
    ):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


CollateMap = dict[Any, Callable[..., Any]]


def collate(batch: Any, *, collate_fn_map: CollateMap | None = None) -> Any:
    """Collates ``batch`` (a sequence of samples), dispatching leaf types
    through ``collate_fn_map`` and recursing into containers."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](
                    batch, collate_fn_map=collate_fn_map
                )

    def sub(samples: Any) -> Any:
        return collate(samples, collate_fn_map=collate_fn_map)

    if isinstance(elem, collections.abc.Mapping):
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update({key: sub([d[key] for d in batch]) for key in elem})
                return clone
            return elem_type({key: sub([d[key] for d in batch]) for key in elem})
        except TypeError:
            return {key: sub([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(sub(samples) for samples in zip(*batch, strict=False)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch, strict=False))
        if isinstance(elem, tuple):
            return [sub(samples) for samples in transposed]
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, samples in enumerate(transposed):
                    clone[i] = sub(samples)
                return clone
            return elem_type([sub(samples) for samples in transposed])
        except TypeError:
            return [sub(samples) for samples in transposed]
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(batch: Any, *, collate_fn_map: CollateMap | None = None) -> Any:
    return gdlite.stack(batch, 0)


def collate_numpy_array_fn(
    batch: Any, *, collate_fn_map: CollateMap | None = None
) -> Any:
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return collate([gdlite.as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(
    batch: Any, *, collate_fn_map: CollateMap | None = None
) -> Any:
    return gdlite.as_tensor(batch)


def collate_float_fn(batch: Any, *, collate_fn_map: CollateMap | None = None) -> Any:
    return gdlite.tensor(batch, dtype=gdlite.float64)


def collate_int_fn(batch: Any, *, collate_fn_map: CollateMap | None = None) -> Any:
    return gdlite.tensor(batch)


def collate_str_fn(batch: Any, *, collate_fn_map: CollateMap | None = None) -> Any:
    return batch


default_collate_fn_map: CollateMap = {
    gdlite.Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch: Any) -> Any:
    """Stacks a batch of samples along a new first dimension: tensors and
    NumPy arrays are stacked, Python ints become an int64 tensor (bools a
    bool tensor), floats a float64 one, strings stay a list, and mappings,
    namedtuples and sequences are collated field by field (tuples become
    lists).

    >>> default_collate([(0, 1.5), (2, 3.5)])
    [tensor([0, 2]), tensor([1.5000, 3.5000], dtype=gdlite.float64)]
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)
