"""Sizes that overflow or cannot be allocated: every entry point that makes a
tensor, or materialises an expanded view, refuses them as PyTorch does.

A wrapped byte count used to give a small buffer that kernels then overran,
so each gdlite probe runs in its own interpreter: a crash is the finding.
PyTorch, the oracle, runs all probes in one other interpreter. Sizes are
chosen so that nothing is ever really allocated: either the size computation
overflows, or the request is far beyond any machine (2**60 bytes and up).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import gdlite

GDLITE_ROOT = str(Path(gdlite.__file__).resolve().parent.parent)

# `E(*sizes)`: ones expanded to `sizes` (a view with zero strides, no memory).
PRELUDE = "def E(*s):\n    return torch.ones([1] * len(s)).expand(*s)\n"

PROBES = {
    # creation functions
    "empty": "torch.empty(2**62, 4)",
    "empty_3d": "torch.empty(2**31, 2**31, 2**31)",
    "empty_float64": "torch.empty(2**60, dtype=torch.float64)",
    "empty_overflow_then_zero": "torch.empty(2**32, 2**32, 0)",
    "empty_stride_overflow": "torch.empty(0, 2**32, 2**32)",
    "empty_no_memory": "torch.empty(2**60)",
    "empty_bool_no_memory": "torch.empty(2**63 - 1, dtype=torch.bool)",
    "zeros": "torch.zeros(2**62, 4)",
    "zeros_no_memory": "torch.zeros(2**58)",
    "ones": "torch.ones(2**62, 4)",
    "full": "torch.full((2**62, 4), 1.5)",
    "full_int": "torch.full((2**62,), 7)",
    "rand": "torch.rand(2**62, 4)",
    "randn": "torch.randn(2**62, 4)",
    "randint": "torch.randint(0, 5, (2**62, 4))",
    "randperm": "torch.randperm(2**62)",
    "randperm_no_memory": "torch.randperm(2**59)",
    "normal": "torch.normal(0.0, 1.0, (2**62, 4))",
    "arange": "torch.arange(2**62)",
    "arange_float": "torch.arange(0, 2.0**62)",
    "arange_int32": "torch.arange(0, 2**62, dtype=torch.int32)",
    "linspace": "torch.linspace(0, 1, 2**62)",
    "linspace_steps_past_int64": "torch.linspace(0, 1, 2**63)",
    "randperm_past_int64": "torch.randperm(2**63)",
    "arange_past_int64": "torch.arange(2**63)",
    "eye": "torch.eye(2**31, 2**31)",
    "eye_numel": "torch.eye(2**40)",
    "Tensor": "torch.Tensor(2**62)",
    "Tensor_2d": "torch.Tensor(2**61, 4)",
    "empty_like": "torch.empty_like(E(2**31, 2**31))",
    "zeros_like": "torch.zeros_like(E(2**31, 2**31))",
    "ones_like": "torch.ones_like(E(2**31, 2**31))",
    "full_like": "torch.full_like(E(2**31, 2**31), 2.0)",
    # views whose element count overflows
    "expand_numel": "E(2**40, 2**40)",
    "reshape_numel": "torch.ones(1).reshape(1, 1).expand(2**40, 2**40)",
    # ops that materialise an expanded view
    "contiguous": "E(2**31, 2**31).contiguous()",
    "contiguous_no_memory": "E(2**30, 2**30).contiguous()",
    "clone": "E(2**31, 2**31).clone()",
    "reshape_copy": "torch.ones(2, 1).expand(2, 2**61).reshape(-1)",
    "mul_number": "E(2**31, 2**31) * 2",
    "add": "E(2**31, 2**31) + torch.ones(1)",
    "add_broadcast": "E(2**31, 1) + E(1, 2**31)",
    "to_float64": "E(2**30, 2**30).double()",
    "where": "torch.where(E(2**31, 2**31) > 0, E(2**31, 2**31), 0.0)",
    "sum_dim": "E(2**61, 2).bool().sum(1)",
    "max_dim": "E(2**61, 2).bool().max(1)",
    "bmm": "torch.bmm(E(2**40, 2**20, 1), E(2**40, 1, 2**20))",
    "mm": "torch.mm(E(2**40, 1), E(1, 2**40))",
    "matmul_folded": "torch.matmul(E(2**40, 2**20, 1), E(1, 2**20))",
    "matmul_broadcast": "torch.matmul(E(2**30, 2**30, 2, 2), torch.ones(2, 2))",
    "matmul_vector_batch": "torch.matmul(torch.ones(2), E(2**30, 2**30, 2, 2))",
    "matmul_matrix_batch": "torch.matmul(torch.ones(2, 2), E(2**30, 2**30, 2, 2))",
    "matmul_batch_numel": "torch.matmul(E(2**40, 1, 1, 1), E(1, 2**40, 1, 1))",
    "cat": "torch.cat([E(2**61, 2), E(2**61, 2)])",
    "cat_last": "torch.cat([E(2**61, 2), E(2**61, 2)], 1)",
    "cat_wraps": "torch.cat([E(2**62), E(2**62)])",
    "stack": "torch.stack([E(2**61, 2), E(2**61, 2)])",
    "stack_inner": "torch.stack([E(2**61, 2), E(2**61, 2)], 1)",
    "stack_last": "torch.stack([E(2**61, 2), E(2**61, 2)], 2)",
    "stack_wraps": "torch.stack([E(2**62), E(2**62)])",
}

PROBE_MAIN = """
import json, sys
{import_line}
{prelude}
try:
    r = eval(sys.argv[1])
    out = ["ok", list(r.shape) if hasattr(r, "shape") else None]
except Exception as e:
    out = [type(e).__name__, str(e)]
print(json.dumps(out))
"""


def _gdlite_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (GDLITE_ROOT, env.get("PYTHONPATH")) if p
    )
    # Under ASan a huge malloc must fail as it does in a plain build, not abort.
    if "ASAN_OPTIONS" in env or "LD_PRELOAD" in env:
        env["ASAN_OPTIONS"] = (
            env.get("ASAN_OPTIONS", "") + ":allocator_may_return_null=1"
        )
    return env


def _outcome_gdlite(expr: str) -> list:
    code = PROBE_MAIN.format(import_line="import gdlite as torch", prelude=PRELUDE)
    proc = subprocess.run(
        [sys.executable, "-c", code, expr],
        capture_output=True,
        text=True,
        timeout=120,
        env=_gdlite_env(),
    )
    assert proc.returncode == 0, f"{expr} crashed ({proc.returncode}):\n{proc.stderr}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


VIEWS = ("E(2**62).view(2**62)", "E(2**31, 2**31)[5:, ::3].t()")

TORCH_MAIN = """
import json, sys
import torch
{prelude}
out = {{}}
for expr in json.loads(sys.argv[1]):
    try:
        r = eval(expr)
        out[expr] = ["ok", list(r.shape) if hasattr(r, "shape") else None]
    except Exception as e:
        out[expr] = [type(e).__name__, str(e)]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def torch_outcomes() -> dict:
    """PyTorch's outcome of every probe, from one interpreter: under the
    sanitizers a huge request must return NULL there too, which needs the
    environment set before start-up."""
    exprs = [*PROBES.values(), *VIEWS]
    proc = subprocess.run(
        [sys.executable, "-c", TORCH_MAIN.format(prelude=PRELUDE), json.dumps(exprs)],
        capture_output=True,
        text=True,
        timeout=300,
        env=_gdlite_env(),
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", sorted(PROBES))
def test_same_outcome_as_torch(name: str, torch_outcomes: dict) -> None:
    expr = PROBES[name]
    expected = torch_outcomes[expr]
    assert expected[0] != "ok", f"torch accepted {expr}: not a size probe"
    assert _outcome_gdlite(expr) == expected


def test_large_valid_views_still_work(torch_outcomes: dict) -> None:
    """Views with a huge element count (no storage behind it) stay legal."""
    for expr in VIEWS:
        assert torch_outcomes[expr][0] == "ok"
        assert _outcome_gdlite(expr) == torch_outcomes[expr]


# gdlite keeps shapes inline in fixed arrays of GD_MAX_DIMS (64, NumPy's limit)
# entries; PyTorch goes further. Past the limit every path must refuse cleanly, with
# one message, and at the limit behave as PyTorch does.
LIMIT_PROBES = {
    "zeros": "torch.zeros([1] * 65)",
    "rand": "torch.rand([1] * 65)",
    "unsqueeze": "T.unsqueeze(0)",
    "index_none": "T[None]",
    "index_ellipsis_none": "T[..., None]",
    "stack": "torch.stack([T, T])",
    "view": "T.view([1] * 65)",
    "expand": "T.expand([1] * 65)",
    "broadcast": "T + torch.ones([1] * 65)",
    "matmul": "torch.matmul(T, torch.ones([1] * 65))",
    "where": "torch.where(T > 0, T, torch.ones([1] * 65))",
    "backward": "T.clone().requires_grad_().unsqueeze(0).sum().backward()",
}
AT_LIMIT = "T = torch.zeros([1] * 64)\n"


@pytest.mark.parametrize("name", sorted(LIMIT_PROBES))
def test_past_the_dimension_limit(name: str) -> None:
    expr = LIMIT_PROBES[name]
    code = PROBE_MAIN.format(import_line="import gdlite as torch", prelude=AT_LIMIT)
    proc = subprocess.run(
        [sys.executable, "-c", code, expr],
        capture_output=True,
        text=True,
        timeout=120,
        env=_gdlite_env(),
    )
    assert proc.returncode == 0, f"{expr} crashed ({proc.returncode}):\n{proc.stderr}"
    kind, message = json.loads(proc.stdout.strip().splitlines()[-1])
    assert kind == "RuntimeError"
    assert message.startswith("gdlite supports at most 64 dimensions, got 65")


def test_at_the_dimension_limit() -> None:
    """64-d tensors go through ops, reductions, joins and backward as in torch."""
    shape = [1, 2] * 4 + [1] * 55 + [3]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    results = []
    for lib in (torch, gdlite):
        t = lib.tensor(x, requires_grad=True)
        y = (
            lib.cat([t * 2, t.exp()], 1).sum(dim=(0, 3, 63))
            + t.permute(*range(63, -1, -1)).sum()
        )
        y.sum().backward()
        results.append(
            (y.detach().numpy(), t.grad.numpy(), lib.stack([t[0], t[0]], 63).shape)
        )
    (ty, tg, ts), (gy, gg, gs) = results
    np.testing.assert_allclose(gy, ty, rtol=1e-6)
    np.testing.assert_allclose(gg, tg, rtol=1e-6)
    assert list(gs) == list(ts)
