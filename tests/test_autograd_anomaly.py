"""Anomaly detection (set_detect_anomaly, detect_anomaly, is_anomaly_enabled)
against torch: NaN gradients refused with torch's message, the warning that
names the forward call of a failing node, and the mode's state."""

from __future__ import annotations

import subprocess
import sys
import warnings
from typing import Any

import pytest
import torch
from autograd_helpers import assert_same_error, to_np

import gdlite as G


def nan_backward(L: Any) -> Any:
    x = L.tensor([0.0, 1.0], requires_grad=True)
    (x.sqrt() * 0).sum().backward()
    return x.grad


def test_nan_gradient_is_refused_as_torch() -> None:
    def run(L: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with L.autograd.detect_anomaly():
                nan_backward(L)

    assert_same_error(run)


def test_nan_in_a_later_input_is_named_by_its_index() -> None:
    def run(L: Any) -> Any:
        a = L.tensor([1.0, 2.0], requires_grad=True)
        b = L.tensor([0.0, 1.0], requires_grad=True)
        with L.autograd.set_detect_anomaly(True):
            (a / b * 0).sum().backward()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same_error(run)


def test_check_nan_off_lets_nan_through() -> None:
    def run(L: Any) -> Any:
        with L.autograd.set_detect_anomaly(True, check_nan=False):
            return to_np(nan_backward(L)).tolist()

    assert str(run(G)) == str(run(torch))


def test_mode_state_as_function_and_context_manager() -> None:
    def run(L: Any) -> list[Any]:
        seen = [L.is_anomaly_enabled(), L.is_anomaly_check_nan_enabled()]
        L.autograd.set_detect_anomaly(True)
        seen += [L.is_anomaly_enabled(), L.is_anomaly_check_nan_enabled()]
        with L.autograd.set_detect_anomaly(False, check_nan=False):
            seen += [L.is_anomaly_enabled(), L.is_anomaly_check_nan_enabled()]
        seen += [L.is_anomaly_enabled(), L.is_anomaly_check_nan_enabled()]
        L.autograd.set_detect_anomaly(False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with L.autograd.detect_anomaly(check_nan=False):
                seen += [L.is_anomaly_enabled(), L.is_anomaly_check_nan_enabled()]
        seen += [L.is_anomaly_enabled(), L.is_anomaly_check_nan_enabled()]
        L.set_anomaly_enabled(True)
        seen.append(L.is_anomaly_enabled())
        L.set_anomaly_enabled(False)
        return seen

    assert run(G) == run(torch)


def test_detect_anomaly_warns_it_is_slow() -> None:
    def run(L: Any) -> list[Any]:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with L.autograd.detect_anomaly():
                pass
        return [(x.category, str(x.message)) for x in w]

    assert run(G) == run(torch)


PROGRAM = """
import warnings, {lib} as L
warnings.simplefilter("always")

class Boom(L.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        {backward}

def model(x):
    return Boom.apply(x.exp())

x = L.tensor([1.0, 2.0], requires_grad=True)
with warnings.catch_warnings(record=True) as w:
    with L.autograd.set_detect_anomaly(True):
        y = model(x).sum()
        try:
            y.backward()
        except Exception as e:
            print(type(e).__name__, e)
for m in w:
    print(m.category.__name__, str(m.message).split(" (Triggered internally")[0])
"""


@pytest.mark.parametrize(
    "backward", ["raise ValueError('boom')", "return g * float('nan')", "return g"]
)
def test_forward_trace_of_a_failing_node(backward: str) -> None:
    """The warning names the node and shows the forward call that made it
    (compared without the frames inside either library)."""
    out = {}
    for lib in ("torch", "gdlite"):
        code = PROGRAM.format(lib=lib, backward=backward)
        r = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        out[lib] = library_frames_removed(r.stdout).replace("torch", "gdlite")
    assert out["gdlite"] == out["torch"]
    if backward != "return g":  # a backward that works: nothing to report
        assert 'File "<string>", line 15, in model' in out["gdlite"]


def library_frames_removed(text: str) -> str:
    lines, keep = text.splitlines(), []
    skip = False
    for line in lines:
        if line.startswith('  File "'):
            skip = "/torch/" in line or "/gdlite/" in line
        elif not line.startswith("    "):
            skip = False
        if not skip:
            keep.append(line)
    return "\n".join(keep)


def test_numbers_unchanged_by_anomaly_mode() -> None:
    def run(L: Any) -> Any:
        w = L.tensor([0.5, -0.3], requires_grad=True)
        data = L.tensor([[1.0, 2.0], [0.5, -1.0]])
        with L.autograd.set_detect_anomaly(True):
            loss = ((data @ w).tanh() ** 2).mean()
            (g,) = L.autograd.grad(loss, w, create_graph=True)
            (h,) = L.autograd.grad(g.sum(), w)
        return [to_np(g).tolist(), to_np(h).tolist()]

    plain_g = G.tensor([0.5, -0.3], requires_grad=True)
    data = G.tensor([[1.0, 2.0], [0.5, -1.0]])
    plain = G.autograd.grad(((data @ plain_g).tanh() ** 2).mean(), plain_g)[0]
    got, want = run(G), run(torch)
    assert got[0] == to_np(plain).tolist()
    assert got[0] + got[1] == pytest.approx(want[0] + want[1], rel=1e-6)
