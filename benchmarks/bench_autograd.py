"""Autograd overhead against PyTorch: the course's tiny training steps.

Median time per iteration over repeated runs, and the ratio (PyTorch time /
gdlite time; above 1 means gdlite is faster).

    make bench            # or: .venv/bin/python benchmarks/bench_autograd.py
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch
from bench_core import fmt, per_call

import gdlite


def scalar_step(lib) -> Callable[[], None]:
    w = lib.tensor(1.5, requires_grad=True)

    def step() -> None:
        y = w * w + w
        y.backward()
        w.grad = None

    return step


def slope_bias_step(lib) -> Callable[[], None]:
    X = lib.arange(-3, 3, 0.1).view(-1, 1)
    Y = -3 * X + 1
    w = lib.tensor(-10.0, requires_grad=True)
    b = lib.tensor(-5.0, requires_grad=True)
    lr = 0.1

    def step() -> None:
        yhat = w * X + b
        loss = ((yhat - Y) ** 2).mean()
        loss.backward()
        with lib.no_grad():
            w.sub_(lr * w.grad)
            b.sub_(lr * b.grad)
        w.grad.zero_()
        b.grad.zero_()

    step()  # creates the .grad tensors the loop zeroes
    return step


CASES = [
    ("scalar: y = w*w + w; backward", scalar_step),
    ("slope+bias GD step, 60 points", slope_bias_step),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 5 if args.quick else 15
    print(f"{'case':32s} {'gdlite':>11s} {'torch':>11s}  {'vs torch':>8s}  target")
    for name, make in CASES:
        g, t = per_call(make(gdlite), repeats), per_call(make(torch), repeats)
        print(f"{name:32s} {fmt(g)} {fmt(t)}  {t / g:7.2f}x  >= 10x torch")


if __name__ == "__main__":
    main()
