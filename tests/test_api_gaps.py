"""logspace, gdlite.linalg's vector norms, randint_like, bernoulli and the
keepdim=/keepdims= clash, each against PyTorch in the same process: values to
the bit, gradients, generator states after random draws, and errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import gdlite as G
import gdlite.linalg

LIBS = {"torch": torch, "gdlite": G}
INF = math.inf


def run(lib: str, expr: str, **env: object) -> tuple:
    """``expr`` evaluated with ``L`` the library: ("value", dtype, requires_grad,
    array) or ("error", type, message with gdlite's names)."""
    L = LIBS[lib]
    scope = {"L": L, "np": np, "math": math, **env}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = eval(expr, scope)
    except SyntaxError:
        raise
    except Exception as e:  # noqa: BLE001 - the exception is the outcome
        return ("error", type(e).__name__, str(e).replace("torch.", "gdlite."))
    return (
        "value",
        str(value.dtype).split(".")[-1],
        value.requires_grad,
        np.asarray(value.detach().numpy()),
    )


def assert_same(expr: str, **env: object) -> None:
    got, want = run("gdlite", expr, **env), run("torch", expr, **env)
    if want[0] == "error" or got[0] == "error":
        assert got == want, expr
        return
    assert got[:3] == want[:3], expr
    assert got[3].dtype == want[3].dtype, expr
    np.testing.assert_array_equal(got[3], want[3], err_msg=expr, strict=True)


# ---- logspace ---------------------------------------------------------------

LOGSPACE = [
    "L.logspace(0, 1, 5)",
    "L.logspace(-10, 10, 7)",
    "L.logspace(-10, 10, 8)",
    "L.logspace(3, -2, 100)",
    "L.logspace(0.1, 2.7, 1000)",
    "L.logspace(0, 1, 2)",
    "L.logspace(0, 1, 1)",
    "L.logspace(0.5, 1, 1, dtype=L.float32)",
    "L.logspace(0, 1, 0)",
    "L.logspace(0, 1, steps=9, base=2)",
    "L.logspace(-3, 3, 11, math.e)",
    "L.logspace(-3, 3, 11, base=0.5, dtype=L.float64)",
    "L.logspace(0, 1, 4, base=-2)",
    "L.logspace(0, 1, 4, base=0)",
    "L.logspace(0, 1, 4, base=1)",
    "L.logspace(-45, 38.5, 31)",
    "L.logspace(100, 1, 2)",
    "L.logspace(1e39, 1, 1)",
    "L.logspace(float('nan'), 1, 3)",
    "L.logspace(0.1, 0.3, 5, dtype=L.float64)",
    "L.logspace(-307.5, 308.2, 101, dtype=L.float64)",
    "L.logspace(0, 3, 4, dtype=L.int64)",
    "L.logspace(0, 9, 10, dtype=L.int32)",
    "L.logspace(0, 3, 4, dtype=L.uint8)",
    "L.logspace(-1, 3, 4, base=2, dtype=L.uint8)",
    "L.logspace(-1, 1, 2, dtype=L.uint8)",
    "L.logspace(0, 300, 3, dtype=L.int64)",
    "L.logspace(0, 300, 3, dtype=L.int32)",
    "L.logspace(2.0**63, 1, 2, dtype=L.int64)",
    "L.logspace(0.5, 1.5, 1, dtype=L.int64)",
    "L.logspace(3.5, 1, 1, dtype=L.bool)",
    "L.logspace(0, 1, 0, dtype=L.bool)",
    "L.logspace(True, 1, 3)",
    "L.logspace(L.tensor(0.5), L.tensor(2), 4)",
    "L.logspace(L.tensor(1), 2, 3, dtype=L.float64)",
    "L.logspace(0, 1, 3, requires_grad=True)",
    # refused as by PyTorch
    "L.logspace(0, 1, 3, dtype=L.bool)",
    "L.logspace(1e39, 1, 2)",
    "L.logspace(100, 1, 1)",
    "L.logspace(0, 1, -1)",
    "L.logspace(1e10, 1, 2, dtype=L.int32)",
    "L.logspace(1e10, 1, 1, dtype=L.int32)",
    "L.logspace(300, 1, 2, dtype=L.uint8)",
    "L.logspace(-1.0, 1, 2, dtype=L.uint8)",
    "L.logspace(-300, 1, 2, dtype=L.uint8)",
    "L.logspace(0.5, 1, 1, base=-1, dtype=L.int64)",
    "L.logspace(float('nan'), 1, 2, dtype=L.int64)",
    "L.logspace(float('inf'), 1, 2, dtype=L.int64)",
    "L.logspace(300, 1, 1, dtype=L.int64)",
    "L.logspace(L.tensor([0.0]), 1, 3)",
    "L.logspace(0, L.ones(2), 3)",
    "L.logspace(L.ones(1), L.tensor(2.0), 3)",
    "L.logspace(0, 1, 3, dtype=L.int64, requires_grad=True)",
]


@pytest.mark.parametrize("expr", LOGSPACE)
def test_logspace(expr: str) -> None:
    assert_same(expr)


def test_logspace_sweep() -> None:
    # Random ends, counts and bases: every value to the bit.
    rng = np.random.default_rng(0)
    for _ in range(300):
        start, end = (float(v) for v in rng.uniform(-40, 40, 2))
        steps = int(rng.integers(2, 300))
        base = float(rng.choice([10.0, 2.0, math.e, rng.uniform(0.1, 20)]))
        for dtype in ("float32", "float64"):
            assert_same(
                f"L.logspace({start!r}, {end!r}, {steps}, {base!r}, dtype=L.{dtype})"
            )


# ---- gdlite.linalg ------------------------------------------------------------

X = np.random.default_rng(1).normal(size=(4, 5))
X[1, 2] = X[3, 0] = 0.0  # zeros: the norms' gradients have cases there
ORDS = [2, 1, INF, -INF, 0, 3, -1, 0.5, 2.5]
DIMS = [None, 0, 1, -1, (0, 1), ()]


def _norm_and_grads(lib: str, dtype: str, fn: str, args: str) -> tuple:
    L = LIBS[lib]
    x = L.tensor(X, dtype=getattr(L, dtype), requires_grad=True)
    out = eval(f"L.linalg.{fn}(x, {args})", {"L": L, "x": x, "INF": INF})
    seed = np.random.default_rng(2).normal(size=tuple(out.shape))
    out.backward(L.tensor(seed, dtype=out.dtype))
    grad = None if x.grad is None else x.grad.numpy()  # ord 0 sends none
    return out.detach().numpy(), grad, type(out.grad_fn).__name__


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("ord", ORDS)
def test_vector_norm(dtype: str, ord: float) -> None:
    for dim in DIMS:
        for keepdim in (False, True):
            args = f"{ord!r}, {dim!r}, {keepdim}".replace("inf", "INF")
            got = _norm_and_grads("gdlite", dtype, "vector_norm", args)
            want = _norm_and_grads("torch", dtype, "vector_norm", args)
            np.testing.assert_array_equal(got[0], want[0], err_msg=args, strict=True)
            assert (got[1] is None) == (want[1] is None), args
            if want[1] is None:
                pass
            elif dtype == "float32" and ord == 2.5:
                # uses |x| ** 0.5 and ** 1.5, where float32 pow differs from
                # torch's in the last bit for some inputs (pow's, not norm's)
                np.testing.assert_allclose(got[1], want[1], rtol=4e-7, err_msg=args)
            else:
                np.testing.assert_array_equal(
                    got[1], want[1], err_msg=args, strict=True
                )
            assert got[2] == want[2]


def test_vector_norm_is_gdlite_norm() -> None:
    # One kernel: gdlite.norm and gdlite.linalg.vector_norm agree to the bit.
    x = G.tensor(X, dtype=G.float32)
    for ord in ORDS:
        for dim in (None, 1):
            a = G.linalg.vector_norm(x, ord, dim)
            np.testing.assert_array_equal(a.numpy(), G.norm(x, ord, dim).numpy())


LINALG = [
    "L.linalg.norm(x)",
    "L.linalg.norm(x, keepdim=True)",
    "L.linalg.norm(x, dim=1)",
    "L.linalg.norm(x, 3, dim=1)",
    "L.linalg.norm(x, -INF, -1, True)",
    "L.linalg.norm(x, None, 1, True)",
    "L.linalg.norm(x, dim=(0, 1))",
    "L.linalg.norm(x, 'fro')",
    "L.linalg.norm(x, 'fro', (1, 0), True)",
    "L.linalg.norm(x[0], 3)",
    "L.linalg.norm(x[0], INF)",
    "L.linalg.norm(x[0], 0)",
    "L.linalg.norm(x, dtype=L.float64)",
    "L.linalg.norm(x, keepdims=True)",
    "L.linalg.vector_norm(x, keepdims=True)",
    "L.linalg.vector_norm(x, 2, 1, dtype=L.float64)",
    "L.linalg.vector_norm(x[:, :1], 3, 1)",
    "L.linalg.vector_norm(x, L.tensor(3.0))",
    "L.linalg.vector_norm(L.zeros(0), 0)",
    "L.linalg.vector_norm(L.zeros(0), 2)",
    "L.linalg.vector_norm(L.zeros(2, 0), -INF, dim=0)",
    "L.norm(L.zeros(0), 1)",
    # refused as by PyTorch
    "L.linalg.norm(x, 'fro', dim=1)",
    "L.linalg.norm(x[0], 'fro')",
    "L.linalg.vector_norm(x.long())",
    "L.linalg.vector_norm(x, dtype=L.int64)",
    "L.linalg.vector_norm(x.double(), dtype=L.float32)",
    "L.linalg.vector_norm(x, 'fro')",
    "L.linalg.vector_norm(x, 2 + 0j)",
    "L.linalg.vector_norm(x, dim=2)",
    "L.linalg.vector_norm(x, keepdim=True, keepdims=True)",
    "L.linalg.vector_norm(L.zeros(0), INF)",
    "L.linalg.vector_norm(L.zeros(0), -1)",
    "L.linalg.vector_norm(L.zeros(0), -0.5)",
    "L.linalg.vector_norm(L.zeros(2, 0), INF, dim=1)",
    "L.linalg.vector_norm(L.zeros(2, 0), -INF, dim=(0, 1))",
    "L.norm(L.zeros(0), INF)",
    "L.norm(L.zeros(2, 0), -1, dim=1)",
]


@pytest.mark.parametrize("expr", LINALG)
def test_linalg_forms(expr: str) -> None:
    got = run("gdlite", expr, x=G.tensor(X, dtype=G.float32), INF=INF)
    want = run("torch", expr, x=torch.tensor(X, dtype=torch.float32), INF=INF)
    if want[0] == "error":
        assert got == want, expr
        return
    assert got[:3] == want[:3], expr
    np.testing.assert_array_equal(got[3], want[3], err_msg=expr, strict=True)


def test_matrix_norms_say_not_implemented() -> None:
    x = G.tensor(X)
    for ord in (2, "nuc", 1, -INF):
        with pytest.raises(NotImplementedError, match="matrix norm"):
            G.linalg.norm(x, ord)


def test_linalg_module_is_importable_as_torch_linalg() -> None:
    import importlib

    assert importlib.import_module("gdlite.linalg") is G.linalg is gdlite.linalg
    assert callable(G.linalg.vector_norm) and callable(G.linalg.norm)


def test_torch_linalg_under_as_torch() -> None:
    # Course code's `import torch.linalg` / `from torch.linalg import ...`
    # after gdlite.as_torch() reach gdlite.linalg.
    import subprocess
    import sys

    code = (
        "import gdlite; gdlite.as_torch()\n"
        "import torch, torch.linalg\n"
        "from torch.linalg import vector_norm\n"
        "assert torch.linalg is gdlite.linalg\n"
        "assert vector_norm is gdlite.linalg.vector_norm\n"
        "print(float(torch.linalg.vector_norm(torch.tensor([3.0, 4.0]))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(
        float(torch.linalg.vector_norm(torch.tensor([3.0, 4.0])))
    )
