"""Shared helpers for the autograd tests: run one program under gdlite and
under the installed torch, and compare values, node names and error texts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import gdlite as G

# Tolerances for gradients computed by both libraries from the same inputs.
TOL = {
    "float32": {"rtol": 1e-5, "atol": 1e-6},
    "float64": {"rtol": 1e-10, "atol": 1e-12},
}


def to_np(t: Any) -> Any:
    """A NumPy copy of a tensor of either library (None stays None)."""
    if t is None:
        return None
    return np.array(t.detach().numpy(), copy=True)


def node_name(fn: Any) -> str | None:
    """The grad_fn's class name as PyTorch spells it (None for no node)."""
    if fn is None:
        return None
    if isinstance(fn, G._C.Node):
        return fn.name()
    return type(fn).__name__


def assert_same_node_name(gdlite_name: str | None, torch_name: str | None) -> None:
    assert gdlite_name == torch_name


def graph_names(fn: Any, depth: int = 6) -> Any:
    """A nested (name, [children]) picture of a graph, for comparing shapes."""
    if fn is None or depth == 0:
        return node_name(fn)
    return (node_name(fn), [graph_names(n, depth - 1) for n, _ in fn.next_functions])


def error_of(run: Callable[[], Any]) -> BaseException:
    """The exception ``run`` raises; fails the test if it raises none."""
    try:
        run()
    except Exception as e:  # noqa: BLE001 - any type is compared by the caller
        return e
    pytest.fail("expected an exception")


def gdlite_text(msg: str) -> str:
    """torch's message as gdlite spells type names."""
    return msg.replace("torch.", "gdlite.")


def assert_same_error(
    program: Callable[[Any], Any], upto: str | None = None, exc: type | None = None
) -> None:
    """``program(torch)`` and ``program(gdlite)`` raise the same message.

    ``upto`` cuts torch's message after that text (gdlite omits trailing hints).
    """
    expected = error_of(lambda: program(torch))
    msg = gdlite_text(str(expected))
    if upto is not None:
        assert upto in msg, msg
        msg = msg[: msg.index(upto) + len(upto)]
    with pytest.raises(exc or type(expected), match=re.escape(msg)):
        program(G)


def assert_close(actual: Any, expected: Any, dtype: str = "float64", **kw: Any) -> None:
    tol = {**TOL[dtype], **kw}
    np.testing.assert_allclose(
        np.asarray(actual, dtype=np.float64),
        np.asarray(expected, dtype=np.float64),
        **tol,
    )


def assert_same_values(g: Any, t: Any, dtype: str = "float32", **kw: Any) -> None:
    """Two tensors (or None) from the two libraries hold the same numbers."""
    if t is None or g is None:
        assert g is None and t is None, (g, t)
        return
    assert tuple(g.shape) == tuple(t.shape)
    assert_close(to_np(g), to_np(t), dtype, **kw)


def run_both(program: Callable[[Any], Any]) -> tuple[Any, Any]:
    return program(G), program(torch)


def central_difference(
    f: Callable[[Sequence[np.ndarray]], np.ndarray],
    arrays: Sequence[np.ndarray],
    weight: np.ndarray,
    eps: float = 1e-6,
) -> list[np.ndarray]:
    """d sum(weight * f(arrays)) / d arrays[i] by central differences, for each i,
    entirely in NumPy around ``f`` (no autograd involved)."""
    grads = []
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    for a in arrays:
        g = np.zeros_like(a)
        flat, gflat = a.reshape(-1), g.reshape(-1)
        for k in range(flat.size):
            orig = flat[k]
            flat[k] = orig + eps
            plus = float(np.sum(weight * f(arrays)))
            flat[k] = orig - eps
            minus = float(np.sum(weight * f(arrays)))
            flat[k] = orig
            gflat[k] = (plus - minus) / (2 * eps)
        grads.append(g)
    return grads


ROOT = Path(__file__).resolve().parents[1]


def run_program(lib: str, code: str) -> subprocess.CompletedProcess:
    """``code`` run in a fresh interpreter with ``m`` bound to ``lib``: for
    programs that might crash it (the environment, sanitizers included, is
    passed on)."""
    program = f"import {lib} as m\n" + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def assert_same_output(code: str) -> str:
    """Runs ``code`` under torch and gdlite in fresh interpreters: both exit
    cleanly and print the same thing (torch's type names read as gdlite's)."""
    want = run_program("torch", code)
    assert want.returncode == 0, want.stderr
    got = run_program("gdlite", code)
    assert got.returncode == 0, got.stderr[-3000:]
    assert got.stdout == want.stdout.replace("torch.", "gdlite."), got.stderr[-3000:]
    return got.stdout
