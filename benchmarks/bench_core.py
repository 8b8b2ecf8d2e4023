"""Speed of gdlite's tensor core against PyTorch and NumPy, in one run.

Each case times the same operation in the three libraries: the median of
repeated runs, each run averaging a loop sized to take ~20 ms. Ratios above 1
mean gdlite is faster.

    make bench            # or: .venv/bin/python benchmarks/bench_core.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

import gdlite


def per_call(fn: Callable[[], object], repeats: int, target: float = 0.02) -> float:
    """Median seconds per call over `repeats` timed loops."""
    # Each library's BLAS threads spin for a while after use; a pause lets the
    # previous library's go idle so they do not slow this one down.
    time.sleep(0.3)
    fn()
    n, elapsed = 1, 0.0
    while elapsed < target / 4:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - start
        n *= 4
    loops = max(1, int(n / 4 * target / max(elapsed, 1e-9)))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        times.append((time.perf_counter() - start) / loops)
    return statistics.median(times)


def fmt(seconds: float) -> str:
    if seconds < 1e-6:
        return f"{seconds * 1e9:8.0f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:8.2f} us"
    return f"{seconds * 1e3:8.2f} ms"


def cases() -> list[tuple[str, dict[str, Callable[[], object]], str]]:
    rng = np.random.default_rng(0)
    out = []
    a1, b1 = np.array([1.5], np.float32), np.array([2.5], np.float32)
    g = (gdlite.from_numpy(a1.copy()), gdlite.from_numpy(b1.copy()))
    t = (torch.from_numpy(a1.copy()), torch.from_numpy(b1.copy()))
    out.append(
        (
            "1-element a + b",
            {
                "gdlite": lambda: g[0] + g[1],
                "torch": lambda: t[0] + t[1],
                "numpy": lambda: a1 + b1,
            },
            "torch",
        )
    )
    out.append(
        (
            "1-element a * 2.0",
            {
                "gdlite": lambda: g[0] * 2.0,
                "torch": lambda: t[0] * 2.0,
                "numpy": lambda: a1 * 2.0,
            },
            "torch",
        )
    )
    n = 10_000_000
    x, y = rng.random(n, np.float32), rng.random(n, np.float32)
    gx, gy, tx, ty = (
        gdlite.from_numpy(x),
        gdlite.from_numpy(y),
        torch.from_numpy(x),
        torch.from_numpy(y),
    )
    out.append(
        (
            "add 1e7 float32",
            {
                "gdlite": lambda: gx + gy,
                "torch": lambda: tx + ty,
                "numpy": lambda: x + y,
            },
            "numpy",
        )
    )
    # A transposed operand: read and written in memory order, as torch does.
    m = rng.random((1000, 1000), np.float32)
    gm, tm, mt = gdlite.from_numpy(m).t(), torch.from_numpy(m).t(), m.T
    for label, g_fn, t_fn, n_fn in (
        (
            "a.t() + a.t() 1e6 float32",
            lambda: gm + gm,
            lambda: tm + tm,
            lambda: mt + mt,
        ),
        ("a.t().exp() 1e6 float32", gm.exp, tm.exp, lambda: np.exp(mt)),
        ("a.t().clone() 1e6 float32", gm.clone, tm.clone, lambda: mt.copy("K")),
    ):
        out.append((label, {"gdlite": g_fn, "torch": t_fn, "numpy": n_fn}, "numpy"))
    for size in (256, 1024):
        for dt in (np.float32, np.float64):
            p, q = (
                rng.random((size, size)).astype(dt),
                rng.random((size, size)).astype(dt),
            )
            gp, gq = gdlite.from_numpy(p), gdlite.from_numpy(q)
            tp, tq = torch.from_numpy(p), torch.from_numpy(q)
            out.append(
                (
                    f"matmul {size}x{size} {np.dtype(dt).name}",
                    {
                        "gdlite": lambda gp=gp, gq=gq: gp @ gq,
                        "torch": lambda tp=tp, tq=tq: tp @ tq,
                        "numpy": lambda p=p, q=q: p @ q,
                    },
                    "numpy",
                )
            )
    return out


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
        f"{'case':28s} {'gdlite':>11s} {'torch':>11s} {'numpy':>11s}"
        f"  {'vs torch':>8s} {'vs numpy':>8s}  target"
    )
    for name, fns, target_lib in cases():
        times = {lib: per_call(fn, repeats) for lib, fn in fns.items()}
        vs_torch = times["torch"] / times["gdlite"]
        vs_numpy = times["numpy"] / times["gdlite"]
        target = ">= 5x torch" if target_lib == "torch" else ">= 0.9x numpy"
        print(
            f"{name:28s} {fmt(times['gdlite'])} {fmt(times['torch'])} "
            f"{fmt(times['numpy'])}  {vs_torch:7.2f}x {vs_numpy:7.2f}x  {target}"
        )


if __name__ == "__main__":
    main()
