"""Speed of gdlite's DataLoader against PyTorch's, in one run.

Each case times one epoch over the same data in both libraries (the same
batches: the default generators are seeded alike before each epoch), as the
median of repeated runs. Ratios above 1 mean gdlite is faster. The target for
a shuffled TensorDataset is three times PyTorch's speed.

    .venv/bin/python benchmarks/bench_data.py [--quick]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
import torch
from bench_core import fmt, per_call

import gdlite


def epoch(lib, make: Callable[[object], object]) -> Callable[[], object]:
    loader = make(lib)

    def run() -> object:
        lib.manual_seed(0)
        batches = iter(loader)
        last = next(batches)
        for last in batches:  # noqa: B007 - the last batch is the result
            pass
        return last

    return run


def cases() -> list[tuple[str, Callable[[object], object], str]]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4096, 8)).astype(np.float32)
    y = rng.standard_normal((4096, 1)).astype(np.float32)

    def dataset(lib):
        return lib.utils.data.TensorDataset(lib.from_numpy(x), lib.from_numpy(y))

    class Rows:
        """A map-style dataset of its own: the generic per-row path."""

        def __init__(self, lib):
            self.x, self.y = lib.from_numpy(x), lib.from_numpy(y)

        def __getitem__(self, i):
            return self.x[i], self.y[i]

        def __len__(self):
            return len(self.x)

    def split(lib):
        lib.manual_seed(42)
        return lib.utils.data.random_split(dataset(lib), [0.8, 0.2])[0]

    return [
        (
            "TensorDataset shuffled b=32",
            lambda lib: lib.utils.data.DataLoader(
                dataset(lib), batch_size=32, shuffle=True
            ),
            ">= 3x torch",
        ),
        (
            "TensorDataset in order b=32",
            lambda lib: lib.utils.data.DataLoader(dataset(lib), batch_size=32),
            "",
        ),
        (
            "random_split Subset b=16",
            lambda lib: lib.utils.data.DataLoader(
                split(lib), batch_size=16, shuffle=True
            ),
            "",
        ),
        (
            "custom Dataset b=32",
            lambda lib: lib.utils.data.DataLoader(
                Rows(lib), batch_size=32, shuffle=True
            ),
            "",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 5 if args.quick else 15
    print(
        f"torch {torch.__version__}; one epoch of 4096 rows, median of {repeats} runs"
    )
    print(f"{'case':30s} {'gdlite':>11s} {'torch':>11s}  {'vs torch':>8s}  target")
    for name, make, target in cases():
        runs = {lib: epoch(lib, make) for lib in (gdlite, torch)}
        a, b = runs[gdlite](), runs[torch]()
        same = all(
            np.array_equal(p.numpy(), q.numpy()) for p, q in zip(a, b, strict=True)
        )
        assert same, f"{name}: the last batches differ"
        times = {lib: per_call(fn, repeats, target=0.1) for lib, fn in runs.items()}
        ratio = times[torch] / times[gdlite]
        print(
            f"{name:30s} {fmt(times[gdlite])} {fmt(times[torch])}  "
            f"{ratio:7.2f}x  {target}"
        )


if __name__ == "__main__":
    main()
