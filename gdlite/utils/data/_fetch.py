"""Turning the sampler's indices into batches: PyTorch's fetchers, plus a
fast path for tensor datasets.

The fast path serves a ``TensorDataset`` (possibly under exact ``Subset``
layers, as ``random_split`` makes them) collated by ``default_collate``: a
batch is one row gather per tensor, ``t[[i0, i1, ...]]``, instead of one
``t[i]`` per row followed by ``stack``. Rows, dtype and shape are those of
the generic path; it draws no random numbers, so generators advance exactly
as PyTorch's. Anything unusual (non-int indices, tensors that require grad,
foreign tensor types, an indexing error) goes to the generic path, which
then gives PyTorch's result or error.
"""

from __future__ import annotations

from typing import Any

from gdlite import Tensor

from ._collate import default_collate
from .dataset import Subset, TensorDataset


class _MapDatasetFetcher:
    def __init__(
        self, dataset: Any, auto_collation: bool, collate_fn: Any, drop_last: bool
    ) -> None:
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last

    def fetch(self, possibly_batched_index: Any) -> Any:
        if self.auto_collation:
            getitems = getattr(self.dataset, "__getitems__", None)
            if getitems:
                data = getitems(possibly_batched_index)
            else:
                data = [self.dataset[idx] for idx in possibly_batched_index]
        else:
            data = self.dataset[possibly_batched_index]
        return self.collate_fn(data)


class _IterableDatasetFetcher(_MapDatasetFetcher):
    def __init__(
        self, dataset: Any, auto_collation: bool, collate_fn: Any, drop_last: bool
    ) -> None:
        super().__init__(dataset, auto_collation, collate_fn, drop_last)
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, possibly_batched_index: Any) -> Any:
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in possibly_batched_index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if len(data) == 0 or (
                self.drop_last and len(data) < len(possibly_batched_index)
            ):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)


class _TensorBatchFetcher(_MapDatasetFetcher):
    """Batches of a TensorDataset, each tensor gathered once per batch."""

    def fetch(self, possibly_batched_index: Any) -> Any:
        index = possibly_batched_index
        if type(index) is list and index and all(type(i) is int for i in index):
            dataset = self.dataset
            try:
                while type(dataset) is Subset:
                    # Subset.__getitems__ maps the batch through its indices.
                    indices = dataset.indices
                    index = [indices[i] for i in index]
                    dataset = dataset.dataset
                if all(type(i) is int for i in index):
                    out = []
                    for t in dataset.tensors:
                        if type(t) is not Tensor or t.requires_grad:
                            break
                        out.append(t[index])
                    else:
                        return out
            except Exception:  # noqa: BLE001 - the generic path raises it properly
                pass
        return super().fetch(possibly_batched_index)


def _serves_tensor_batches(dataset: Any, auto_collation: bool, collate_fn: Any) -> bool:
    if not auto_collation or collate_fn is not default_collate:
        return False
    while type(dataset) is Subset:
        dataset = dataset.dataset
    return type(dataset) is TensorDataset


def create_fetcher(
    iterable: bool, dataset: Any, auto_collation: bool, collate_fn: Any, drop_last: bool
) -> _MapDatasetFetcher:
    if iterable:
        return _IterableDatasetFetcher(dataset, auto_collation, collate_fn, drop_last)
    if _serves_tensor_batches(dataset, auto_collation, collate_fn):
        return _TensorBatchFetcher(dataset, auto_collation, collate_fn, drop_last)
    return _MapDatasetFetcher(dataset, auto_collation, collate_fn, drop_last)
