"""Optimizer steps against PyTorch: one step() over a parameter group.

Median time per step over repeated runs, and the ratio (PyTorch time /
gdlite time; above 1 means gdlite is faster). Both libraries start from the
same values and take the same gradients.

    .venv/bin/python benchmarks/bench_optim.py [--quick]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
import torch
from bench_core import fmt, per_call

import gdlite


def stepper(lib, sizes: list[int], make_opt: Callable) -> Callable[[], None]:
    rng = np.random.default_rng(0)
    params = []
    for n in sizes:
        p = lib.tensor(rng.standard_normal(n).astype(np.float32), requires_grad=True)
        p.grad = lib.tensor(rng.standard_normal(n).astype(np.float32) * 1e-3)
        params.append(p)
    opt = make_opt(lib, params)
    return opt.step


CASES = [
    (
        "Adam, 100 params x 10 floats",
        [10] * 100,
        lambda lib, ps: lib.optim.Adam(ps, lr=1e-3),
        ">= 20x torch",
    ),
    (
        "Adam, 1 param x 1e6 floats",
        [1_000_000],
        lambda lib, ps: lib.optim.Adam(ps, lr=1e-3),
        ">= 1x torch",
    ),
    (
        "SGD momentum, 100 x 10 floats",
        [10] * 100,
        lambda lib, ps: lib.optim.SGD(ps, lr=1e-3, momentum=0.9),
        "",
    ),
    (
        "SGD momentum, 1 x 1e6 floats",
        [1_000_000],
        lambda lib, ps: lib.optim.SGD(ps, lr=1e-3, momentum=0.9),
        "",
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 5 if args.quick else 15
    print(f"{'case':32s} {'gdlite':>11s} {'torch':>11s}  {'vs torch':>8s}  target")
    for name, sizes, make, target in CASES:
        g = per_call(stepper(gdlite, sizes, make), repeats)
        t = per_call(stepper(torch, sizes, make), repeats)
        print(f"{name:32s} {fmt(g)} {fmt(t)}  {t / g:7.2f}x  {target}")


if __name__ == "__main__":
    main()
