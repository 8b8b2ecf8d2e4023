"""Elementwise math against PyTorch: bit agreement and speed.

Two tables:

- agreement: the fraction of 10^6 random inputs per function and dtype
  (over each function's useful range, mixed with tiny and huge magnitudes)
  where gdlite's result has exactly PyTorch's bits, forward and backward;
- speed: time per call at 10^5 and 10^7 elements in gdlite, PyTorch and
  NumPy (the median of repeated loops, each sized to take ~20 ms, as in
  bench_core.py: a single call of a few microseconds is below the clock's
  and the scheduler's noise), and PyTorch's time over gdlite's (above 1:
  gdlite is faster).

    .venv/bin/python benchmarks/bench_math.py [--quick] [--only agreement|speed]
        [--torch-threads N]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from bench_core import per_call

import gdlite


def log_uniform(rng: np.random.Generator, n: int, lo: float, hi: float) -> np.ndarray:
    return np.exp(rng.uniform(np.log(lo), np.log(hi), n))


def signed(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    return x * rng.choice([-1.0, 1.0], len(x))


def inputs(
    name: str, dtype: type, n: int, rng: np.random.Generator, wide: bool = True
) -> list[np.ndarray]:
    """Operands for `name`: half over its main range, half (if `wide`, else
    none) log-uniform magnitudes from tiny (denormal for float32) to large."""
    big = 1e30 if dtype == np.float32 else 1e200
    tiny = 1e-40 if dtype == np.float32 else 1e-310
    h = n // 2 if wide else n

    def mix(main: np.ndarray, wide: np.ndarray) -> np.ndarray:
        return np.concatenate([main, wide])[:n].astype(dtype)

    if name == "exp":
        lim = 88.0 if dtype == np.float32 else 709.0
        x = mix(
            rng.uniform(-lim, lim, h), signed(rng, log_uniform(rng, n - h, tiny, 700))
        )
        return [x]
    if name in ("log", "sqrt"):
        return [mix(rng.uniform(0, 10, h), log_uniform(rng, n - h, tiny, big))]
    if name in ("tanh", "sigmoid"):
        return [
            mix(
                rng.uniform(-10, 10, h), signed(rng, log_uniform(rng, n - h, tiny, 1e3))
            )
        ]
    if name in ("sin", "cos"):
        wide = signed(rng, log_uniform(rng, n - h, tiny, big))
        return [mix(rng.uniform(-10, 10, h), wide)]
    if name == "pow":
        base = mix(rng.uniform(0, 4, h), log_uniform(rng, n - h, 1e-3, 1e3))
        return [base, rng.uniform(-4, 4, n).astype(dtype)]
    if name in ("square", "pow2", "pow3", "pow0.5", "reciprocal", "rdiv"):
        return [
            mix(
                signed(rng, rng.uniform(0, 10, h)),
                signed(rng, log_uniform(rng, n - h, 1e-6, 1e6)),
            )
        ]
    if name == "div":
        a = mix(
            signed(rng, rng.uniform(0, 10, h)),
            signed(rng, log_uniform(rng, n - h, 1e-6, 1e6)),
        )
        b = mix(
            signed(rng, rng.uniform(0.1, 10, h)),
            signed(rng, log_uniform(rng, n - h, 1e-6, 1e6)),
        )
        return [a, b]
    raise ValueError(name)


def call(lib, name: str, args: list):  # noqa: ANN001, ANN201 - either library
    if name == "sigmoid":
        return lib.sigmoid(args[0])
    if name == "pow":
        return args[0] ** args[1]
    if name == "pow2":
        return args[0] ** 2
    if name == "pow3":
        return args[0] ** 3
    if name == "pow0.5":
        return args[0] ** 0.5
    if name == "square":
        return lib.square(args[0])
    if name == "reciprocal":
        return lib.reciprocal(args[0])
    if name == "rdiv":
        return 3.0 / args[0]
    if name == "div":
        return args[0] / args[1]
    return getattr(lib, name)(args[0])


def numpy_call(name: str, args: list[np.ndarray]) -> np.ndarray:
    if name == "sigmoid":
        return 1 / (1 + np.exp(-args[0]))
    np_names = {"pow": np.power, "div": np.divide}
    if name in np_names:
        return np_names[name](args[0], args[1])
    fixed = {"pow2": 2, "pow3": 3, "pow0.5": 0.5}
    if name in fixed:
        return args[0] ** args[0].dtype.type(fixed[name])
    if name == "rdiv":
        return args[0].dtype.type(3.0) / args[0]
    return getattr(np, name)(args[0])


FORWARD = (
    "exp log tanh sigmoid sin cos sqrt pow pow2 pow3 pow0.5 square reciprocal div rdiv"
)
FORWARD = FORWARD.split()
BACKWARD = [f for f in FORWARD if f not in ("pow3", "square")]
DTYPES = [np.float32, np.float64]


def bits(a: np.ndarray) -> np.ndarray:
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


def agree(a: np.ndarray, b: np.ndarray) -> float:
    """Fraction of equal bits; two NaNs count as equal whatever their sign
    and payload (nothing but a bit view tells them apart)."""
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    return float(np.mean((bits(a) == bits(b)) | (np.isnan(a) & np.isnan(b))))


def backward_grads(
    lib, name: str, args: list[np.ndarray], g: np.ndarray
) -> list[np.ndarray]:  # noqa: ANN001
    ts = [lib.from_numpy(a.copy()).requires_grad_() for a in args]
    call(lib, name, ts).backward(lib.from_numpy(g.copy()))
    return [t.grad.numpy() for t in ts]


def agreement_table(n: int) -> None:
    rng = np.random.default_rng(0)
    print(f"\nagreement: fraction of {n} inputs whose result bits equal PyTorch's")
    print(
        f"{'function':<12}{'f32 fwd':>10}{'f64 fwd':>10}{'f32 bwd':>10}{'f64 bwd':>10}"
    )
    for name in FORWARD:
        cells = {}
        for dt in DTYPES:
            args = inputs(name, dt, n, rng)
            want = call(torch, name, [torch.from_numpy(a) for a in args]).numpy()
            got = call(gdlite, name, [gdlite.from_numpy(a) for a in args]).numpy()
            cells[("fwd", dt)] = agree(got, want)
            if name in BACKWARD:
                g = rng.uniform(-2, 2, n).astype(dt)
                tg = backward_grads(torch, name, args, g)
                gg = backward_grads(gdlite, name, args, g)
                cells[("bwd", dt)] = min(
                    agree(a, b) for a, b in zip(gg, tg, strict=True)
                )
        row = [cells.get((k, dt)) for k in ("fwd", "bwd") for dt in DTYPES]
        print(
            f"{name:<12}"
            + "".join(f"{'-' if c is None else f'{c:.6f}':>10}" for c in row)
        )


def fmt(seconds: float) -> str:
    return f"{seconds * 1e6:10.1f}"


def speed_table(sizes: list[int], repeats: int) -> None:
    rng = np.random.default_rng(1)
    print("\nspeed: median us per call over each function's main range;"
          " ratio = torch / gdlite (above 1: gdlite faster)")  # fmt: skip
    print(
        f"{'function':<12}{'dtype':<9}{'n':>9}{'gdlite':>10}{'torch':>10}{'numpy':>10}{'ratio':>8}"
    )
    for name in FORWARD:
        for dt in DTYPES:
            for n in sizes:
                args = inputs(name, dt, n, rng, wide=False)
                tg = [gdlite.from_numpy(a) for a in args]
                tt = [torch.from_numpy(a) for a in args]
                reps = repeats if n <= 10**5 else max(3, repeats // 3)
                g = per_call(lambda f=name, a=tg: call(gdlite, f, a), reps)
                t = per_call(lambda f=name, a=tt: call(torch, f, a), reps)
                p = per_call(lambda f=name, a=args: numpy_call(f, a), reps)
                times = f"{fmt(g)}{fmt(t)}{fmt(p)}{t / g:8.2f}"
                print(f"{name:<12}{np.dtype(dt).name:<9}{n:>9}{times}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="10^5 inputs, 10^5 elements only"
    )
    parser.add_argument("--only", choices=["agreement", "speed"])
    parser.add_argument(
        "--torch-threads", type=int, help="torch.set_num_threads (default: torch's)"
    )
    opts = parser.parse_args()
    if opts.torch_threads:
        torch.set_num_threads(opts.torch_threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"capability {torch.backends.cpu.get_cpu_capability()}")  # fmt: skip
    if opts.only != "speed":
        agreement_table(10**5 if opts.quick else 10**6)
    if opts.only != "agreement":
        speed_table([10**5] if opts.quick else [10**5, 10**7], 9)


if __name__ == "__main__":
    with np.errstate(all="ignore"):
        main()
