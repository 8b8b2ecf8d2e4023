"""Running one loss or softmax call in gdlite and in PyTorch on the same
data: forward values, node names and the gradients of every input that
requires grad, compared with PyTorch as the oracle."""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gdlite
import gdlite.nn._functional_loss as GF

LIBS = {"torch": (torch, TF), "gdlite": (gdlite, GF)}


class Arg:
    """A tensor argument: its data, and whether it requires grad."""

    def __init__(self, data: Any, grad: bool = False) -> None:
        self.data = np.asarray(data)
        self.grad = grad


def build(lib: str, arg: Any) -> Any:
    mod = LIBS[lib][0]
    if not isinstance(arg, Arg):
        return arg
    t = mod.from_numpy(arg.data.copy())
    if arg.grad:
        t.requires_grad_(True)
    return t


def run(lib: str, name: str, args: tuple, kwargs: dict) -> tuple[Any, list]:
    fn = getattr(LIBS[lib][1], name)
    targs = [build(lib, a) for a in args]
    tkw = {k: build(lib, v) for k, v in kwargs.items()}
    out = fn(*targs, **tkw)
    leaves = [t for t in [*targs, *tkw.values()] if getattr(t, "requires_grad", False)]
    grads: list = []
    if leaves and out.requires_grad:
        seed = np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape))
        out.backward(LIBS[lib][0].from_numpy(seed.astype(values(out).dtype)))
        grads = [values(t.grad) for t in leaves]
    return out, grads


def values(t: Any) -> np.ndarray:
    return t.detach().numpy()


def ulps(a: np.ndarray, b: np.ndarray) -> int:
    """Largest distance in units in the last place between two float arrays."""
    if a.size == 0:
        return 0
    ints = np.int32 if a.dtype == np.float32 else np.int64
    ia, ib = a.view(ints).astype(np.int64), b.view(ints).astype(np.int64)
    both_nan = np.isnan(a) & np.isnan(b)
    return int(np.where(both_nan, 0, np.abs(ia - ib)).max())


def check(
    name: str, *args: Any, max_ulp: int = 4, grad_rtol: float = 1e-5, **kwargs: Any
) -> None:
    """gdlite's F.name(*args, **kwargs) agrees with torch's: value (within
    max_ulp), dtype, shape, node name and gradients."""
    want, want_grads = run("torch", name, args, kwargs)
    got, got_grads = run("gdlite", name, args, kwargs)
    w, g = values(want), values(got)
    assert g.shape == w.shape and g.dtype == w.dtype
    if np.issubdtype(w.dtype, np.floating):
        assert ulps(g, w) <= max_ulp, (g, w)
    names = [(x.grad_fn.name() if x.grad_fn else None) for x in (want, got)]
    assert names[1] == names[0]
    assert len(got_grads) == len(want_grads)
    atol = 1e-12 if w.dtype == np.float64 else 1e-6
    for gg, wg in zip(got_grads, want_grads, strict=True):
        np.testing.assert_allclose(gg, wg, rtol=grad_rtol, atol=atol)


def same_error(name: str, *args: Any, **kwargs: Any) -> BaseException:
    """Both libraries raise the same exception type and message."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as want:
            run("torch", name, args, kwargs)
        with pytest.raises(Exception) as got:
            run("gdlite", name, args, kwargs)
    assert type(got.value) is type(want.value), (got.value, want.value)
    assert str(got.value) == str(want.value).replace("torch.", "gdlite."), (
        str(got.value),
        str(want.value),
    )
    return got.value


def finite_difference_check(
    fn: Callable[[Any], Any], x: np.ndarray, eps: float = 1e-6
) -> None:
    """Central differences of the sum of fn in float64 agree with backward."""
    t = gdlite.from_numpy(x.copy()).requires_grad_(True)
    fn(t).sum().backward()
    numeric = np.zeros_like(x)
    for i in range(x.size):
        hi, lo = x.copy(), x.copy()
        hi.flat[i] += eps
        lo.flat[i] -= eps
        f_hi = fn(gdlite.from_numpy(hi)).sum().item()
        f_lo = fn(gdlite.from_numpy(lo)).sum().item()
        numeric.flat[i] = (f_hi - f_lo) / (2 * eps)
    np.testing.assert_allclose(t.grad.numpy(), numeric, rtol=1e-5, atol=1e-7)


def probe(code: str) -> subprocess.CompletedProcess:
    """Runs code in a fresh interpreter (a crash must not take the tests down)."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
