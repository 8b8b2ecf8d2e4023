"""Index samplers, drawing from generators exactly as torch.utils.data's do.

The random samplers consume random numbers lazily, in the same chunks and at
the same points of the iteration as PyTorch's, so that a seeded run gives the
same indices and leaves every generator in the same state.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Generic, TypeVar

import gdlite

__all__ = [
    "BatchSampler",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
]

_T_co = TypeVar("_T_co", covariant=True)


def _fresh_seed() -> int:
    """One int64 ``random_()`` from the default generator: how PyTorch seeds
    the private generator of a sampler that was given none."""
    return int(gdlite.empty((), dtype=gdlite.int64).random_().item())


class Sampler(Generic[_T_co]):
    """Base class of samplers: subclasses provide ``__iter__`` and usually
    ``__len__`` (deliberately not defined here, as in PyTorch, so that
    ``len()`` of a sampler without one is a TypeError)."""

    def __iter__(self) -> Iterator[_T_co]:
        raise NotImplementedError


class SequentialSampler(Sampler[int]):
    """Indices 0, 1, ..., len(data_source) - 1."""

    data_source: Sized

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """Random indices: a permutation per pass over the data without
    replacement; uniform draws (in chunks of 32, as PyTorch) with it."""

    data_source: Sized
    replacement: bool

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: gdlite.Generator | None = None,
    ) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(
                "replacement should be a boolean value, but got "
                f"replacement={self.replacement}"
            )
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(
                "num_samples should be a positive integer value, but got "
                f"num_samples={self.num_samples}"
            )

    @property
    def num_samples(self) -> int:
        # The data source may grow or shrink between epochs.
        if self._num_samples is None:
            return len(self.data_source)
        return self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        generator = self.generator
        if generator is None:
            generator = gdlite.Generator()
            generator.manual_seed(_fresh_seed())
        count = self.num_samples
        if self.replacement:
            for _ in range(count // 32):
                yield from gdlite.randint(
                    high=n, size=(32,), dtype=gdlite.int64, generator=generator
                ).tolist()
            yield from gdlite.randint(
                high=n, size=(count % 32,), dtype=gdlite.int64, generator=generator
            ).tolist()
        else:
            for _ in range(count // n):
                yield from gdlite.randperm(n, generator=generator).tolist()
            # PyTorch draws a whole permutation for the remainder too.
            yield from gdlite.randperm(n, generator=generator).tolist()[: count % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given indices in random order (one permutation per pass)."""

    indices: Sequence[int]

    def __init__(
        self, indices: Sequence[int], generator: gdlite.Generator | None = None
    ) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for i in gdlite.randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler[list[int]]):
    """Groups the indices of ``sampler`` into lists of ``batch_size``; the
    last, shorter list is dropped if ``drop_last``."""

    def __init__(
        self,
        sampler: Sampler[int] | Iterable[int],
        batch_size: int,
        drop_last: bool,
    ) -> None:
        if (
            not isinstance(batch_size, int)
            or isinstance(batch_size, bool)
            or batch_size <= 0
        ):
            raise ValueError(
                "batch_size should be a positive integer value, but got "
                f"batch_size={batch_size}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(
                f"drop_last should be a boolean value, but got drop_last={drop_last}"
            )
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        indices = iter(self.sampler)
        if self.drop_last:
            # zip over one iterator repeated takes batch_size items per tuple
            # and stops at the first incomplete one, pulling as PyTorch does.
            for batch in zip(*[indices] * self.batch_size, strict=False):
                yield [*batch]
        else:
            batch = [*itertools.islice(indices, self.batch_size)]
            while batch:
                yield batch
                batch = [*itertools.islice(indices, self.batch_size)]

    def __len__(self) -> int:
        size = len(self.sampler)  # type: ignore[arg-type]
        if self.drop_last:
            return size // self.batch_size
        return (size + self.batch_size - 1) // self.batch_size
