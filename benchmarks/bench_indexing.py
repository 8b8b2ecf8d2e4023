"""Speed of gdlite's advanced indexing against PyTorch and NumPy, in one run.

Each case times the same indexing in the three libraries: the median of
repeated runs, each run averaging a loop sized to take ~20 ms. Ratios above 1
mean gdlite is faster. The target for gathering rows by an index is twice
PyTorch's speed.

    .venv/bin/python benchmarks/bench_indexing.py [--quick]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
import torch
from bench_core import fmt, per_call

import gdlite


def libs(array: np.ndarray) -> dict[str, object]:
    return {
        "gdlite": gdlite.from_numpy(array.copy()),
        "torch": torch.from_numpy(array.copy()),
        "numpy": array.copy(),
    }


def cases() -> list[tuple[str, dict[str, Callable[[], object]], float]]:
    rng = np.random.default_rng(0)
    x = libs(rng.standard_normal((10000, 64), dtype=np.float32))
    rows = rng.integers(0, 10000, 32)
    idx = libs(rows)
    as_list = rows.tolist()
    y_hat = libs(rng.standard_normal((256, 10), dtype=np.float32))
    y = libs(rng.integers(0, 10, 256))
    mask = {lib: (x[lib][:, 0] > 1.0) for lib in x}  # about 16% of the rows
    small = libs(rng.standard_normal((100, 8), dtype=np.float32))
    small_mask = {lib: small[lib] > 0 for lib in small}
    libnames = ("gdlite", "torch", "numpy")

    def each(fn: Callable[[str], object]) -> dict[str, Callable[[], object]]:
        return {lib: (lambda lib=lib: fn(lib)) for lib in libnames}

    def assign(lib: str) -> None:
        x[lib][idx[lib]] = 1.0

    def assign_mask(lib: str) -> None:
        small[lib][small_mask[lib]] = 0.0

    return [
        ("x[idx] 32 rows, int64 tensor", each(lambda lib: x[lib][idx[lib]]), 2.0),
        ("x[list] 32 rows", each(lambda lib: x[lib][as_list]), 2.0),
        ("y_hat[range(256), y]", each(lambda lib: y_hat[lib][range(256), y[lib]]), 1.0),
        ("x[mask] ~1600 rows", each(lambda lib: x[lib][mask[lib]]), 1.0),
        ("x[idx] = 1.0, 32 rows", each(assign), 1.0),
        ("s[s > 0] = 0, 100x8", each(assign_mask), 1.0),
        (
            "index_select 32 rows",
            {
                "gdlite": lambda: gdlite.index_select(x["gdlite"], 0, idx["gdlite"]),
                "torch": lambda: torch.index_select(x["torch"], 0, idx["torch"]),
                "numpy": lambda: np.take(x["numpy"], idx["numpy"], axis=0),
            },
            1.0,
        ),
        (
            "gather 256x10 by 256x1",
            {
                "gdlite": lambda: y_hat["gdlite"].gather(1, y["gdlite"].view(-1, 1)),
                "torch": lambda: y_hat["torch"].gather(1, y["torch"].view(-1, 1)),
                "numpy": lambda: np.take_along_axis(
                    y_hat["numpy"], y["numpy"].reshape(-1, 1), 1
                ),
            },
            1.0,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 5 if args.quick else 15
    print(
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"numpy {np.__version__}; median of {repeats} runs"
    )
    print(
        f"{'case':30s} {'gdlite':>11s} {'torch':>11s} {'numpy':>11s}"
        f"  {'vs torch':>8s} {'vs numpy':>8s}  target"
    )
    for name, fns, target in cases():
        times = {lib: per_call(fn, repeats) for lib, fn in fns.items()}
        vs_torch = times["torch"] / times["gdlite"]
        vs_numpy = times["numpy"] / times["gdlite"]
        print(
            f"{name:30s} {fmt(times['gdlite'])} {fmt(times['torch'])} "
            f"{fmt(times['numpy'])}  {vs_torch:7.2f}x {vs_numpy:7.2f}x  "
            f">= {target:g}x torch"
        )


if __name__ == "__main__":
    main()
