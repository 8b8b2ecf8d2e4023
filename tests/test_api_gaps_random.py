"""randint_like and bernoulli against PyTorch under the same manual_seed (the
values and the generator's state afterwards), and torch's refusal of
keepdim= with keepdims=."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import gdlite as G

LIBS = {"torch": torch, "gdlite": G}
P = np.random.default_rng(3).uniform(size=(3, 4, 5))
P[0, 0, :3] = (0.0, 1.0, 0.5)


def _cpu_vendor() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return f.read()
    except OSError:
        return ""


# torch's bernoulli_ with a float p uses MKL's own generator on Intel CPUs
# when built with MKL; elsewhere its stream is the one gdlite reproduces.
MKL_SCALAR_BERNOULLI = (
    torch.backends.mkl.is_available() and "GenuineIntel" in _cpu_vendor()
)


def outcome(lib: str, expr: str, seed: int = 0) -> tuple:
    """``expr`` after manual_seed(seed): value (dtype, requires_grad, array)
    and the default generator's state after, or the error."""
    L = LIBS[lib]
    L.manual_seed(seed)
    env = {
        "L": L,
        "x": L.tensor(P, dtype=L.float32),
        "g": L.Generator().manual_seed(7),
        "p64": L.tensor(P, dtype=L.float64),
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = eval(expr, env)
    except SyntaxError:
        raise
    except Exception as e:  # noqa: BLE001 - the exception is the outcome
        return ("error", type(e).__name__, str(e).replace("torch.", "gdlite."))
    states = (bytes(L.get_rng_state().numpy()), bytes(env["g"].get_state().numpy()))
    return (
        str(value.dtype).split(".")[-1],
        value.requires_grad,
        np.asarray(value.detach().numpy()),
        states,
    )


def assert_same(expr: str, seed: int = 0) -> None:
    got, want = outcome("gdlite", expr, seed), outcome("torch", expr, seed)
    if want[0] == "error" or got[0] == "error":
        assert got == want, expr
        return
    assert got[:2] == want[:2], expr
    np.testing.assert_array_equal(got[2], want[2], err_msg=expr, strict=True)
    assert got[3] == want[3], f"generator state differs after {expr}"


RANDINT_LIKE = [
    "L.randint_like(x, 5)",
    "L.randint_like(x, 2, 9)",
    "L.randint_like(x, low=-3, high=5)",
    "L.randint_like(x, high=1000)",
    "L.randint_like(x, 10, dtype=L.int64)",
    "L.randint_like(x.double(), -5, 2**40)",
    "L.randint_like(x.long(), 2**62)",
    "L.randint_like(x.int(), 7)",
    "L.randint_like(x, 256, dtype=L.uint8)",
    "L.randint_like(x.bool(), 2)",
    "L.randint_like(x, 5, requires_grad=True)",
    "L.randint_like(x, 5, generator=g)",
    "L.randint_like(x, 3, 5, generator=g)",
    "L.randint_like(x, L.tensor(5))",
    "L.randint_like(x, L.tensor(5.5))",
    "L.randint_like(x, 2, L.tensor(5))",
    "L.randint_like(x[:, 0], 5)",
    "L.randint_like(x.transpose(0, 2), 5)",
    "L.randint_like(x.permute(1, 2, 0), 3, 9)",
    "L.randint_like(L.zeros(0), 5)",
    # refused as by PyTorch
    "L.randint_like(x)",
    "L.randint_like(x, 5.5)",
    "L.randint_like(x, True)",
    "L.randint_like(x, 5, 2)",
    "L.randint_like(x, 5, generator=1)",
    "L.randint_like(x, 2**63)",
    "L.randint_like(x, L.tensor([5]))",
    "L.randint_like(x.long(), 5, requires_grad=True)",
]


@pytest.mark.parametrize("expr", RANDINT_LIKE)
def test_randint_like(expr: str) -> None:
    assert_same(expr)


def test_randint_like_keeps_the_input_layout() -> None:
    # torch's *_like results take their input's strides (and so its order of
    # draws).
    for view in ("permute(1, 2, 0)", "transpose(0, 2)", "t()"):
        shapes = []
        for L in LIBS.values():
            base = L.zeros(3, 4) if view == "t()" else L.zeros(3, 4, 5)
            out = L.randint_like(eval(f"base.{view}", {"base": base}), 5)
            shapes.append((tuple(out.shape), out.stride()))
        assert shapes[0] == shapes[1], view


# With a tensor p: one uniform of p's dtype per element.
BERNOULLI_TENSOR_P = [
    "L.bernoulli(x)",
    "L.bernoulli(p64)",
    "L.bernoulli(x, generator=g)",
    "x.bernoulli()",
    "x.bernoulli(generator=g)",
    "L.bernoulli(x.transpose(0, 2))",
    "L.bernoulli(L.full((1000,), 0.3))",
    "L.zeros(3, 4, 5).bernoulli_(x)",
    "L.zeros(3, 4, 5).bernoulli_(p64)",
    "L.zeros(3, 4, 5, dtype=L.int64).bernoulli_(x)",
    "L.zeros(3, 4, 5, dtype=L.bool).bernoulli_(p64)",
    "L.zeros(3, 4, 5).bernoulli_(x[0, 0])",
    "L.zeros(3, 4, 5).bernoulli_(L.tensor(0.4))",
    "L.zeros(5, 4, 3).transpose(0, 2).bernoulli_(x)",
    "L.zeros(4, 5, 3).permute(2, 0, 1).bernoulli_(x[:, :1])",
    "L.zeros(6, 4, 5)[::2].bernoulli_(p64)",
    "L.zeros(3, 4, 5).bernoulli_(p=x, generator=g)",
    "L.bernoulli(L.zeros(0))",
    # refused as by PyTorch
    "L.bernoulli(x.long())",
    "L.bernoulli(x.bool())",
    "L.bernoulli(x + 1)",
    "L.bernoulli(x - 1)",
    "L.bernoulli(L.full((3,), float('nan')))",
    "L.bernoulli(x, generator=1)",
    "L.zeros(3).bernoulli_(L.tensor([0.5, 0.2]))",
    "L.zeros(3).bernoulli_(L.tensor([1, 0, 1]))",
    "L.zeros(3).bernoulli_(L.full((3,), 3.0))",
    "L.zeros(3).bernoulli(L.ones(3))",
    "L.bernoulli(L.zeros(3), p=L.ones(3))",
    "L.zeros(3, requires_grad=True).bernoulli_(x[0, 0, :3])",
]

# With a float p: one 53-bit uniform per element (64-bit draws).
BERNOULLI_FLOAT_P = [
    "L.bernoulli(x, 0.3)",
    "L.bernoulli(x, p=0.5)",
    "L.bernoulli(p64, 0.123456789)",
    "L.bernoulli(x.long(), 0.7)",
    "L.bernoulli(x, 0.3, generator=g)",
    "x.bernoulli(0.3)",
    "x.bernoulli(p=0.9)",
    "L.zeros(3, 4, 5).bernoulli_()",
    "L.zeros(3, 4, 5).bernoulli_(0.25)",
    "L.zeros(3, 4, 5).bernoulli_(1)",
    "L.zeros(3, 4, 5).bernoulli_(0)",
    "L.zeros(3, 4, 5).bernoulli_(True)",
    "L.zeros(3, 4, 5, dtype=L.float64).bernoulli_(0.5, generator=g)",
    "L.zeros(3, 4, 5, dtype=L.int32).bernoulli_(0.5)",
    "L.zeros(3, 4, 5, dtype=L.uint8).bernoulli_(0.5)",
    "L.zeros(3, 4, 5, dtype=L.bool).bernoulli_(0.5)",
    "L.zeros(2000).bernoulli_(0.5)",
    "L.zeros(5, 4, 3).transpose(0, 2).bernoulli_(0.5)",
    "L.zeros(4, 5, 3).permute(2, 0, 1).bernoulli_(0.3)",
]

BERNOULLI_FLOAT_P_ERRORS = [
    "L.bernoulli(x, 2.0)",
    "L.bernoulli(x, -1e-9)",
    "L.zeros(3).bernoulli_(float('nan'))",
    "L.zeros(3).bernoulli_(0.5, generator=1)",
    "L.zeros(3).bernoulli_('a')",
    "L.bernoulli(x, 0.3, generator=1)",
    "L.zeros(3, requires_grad=True).bernoulli_(0.5)",
]


@pytest.mark.parametrize("expr", BERNOULLI_TENSOR_P + BERNOULLI_FLOAT_P_ERRORS)
def test_bernoulli(expr: str) -> None:
    assert_same(expr)


@pytest.mark.parametrize("expr", BERNOULLI_FLOAT_P)
def test_bernoulli_float_p(expr: str) -> None:
    if MKL_SCALAR_BERNOULLI:
        pytest.skip("torch draws this form from MKL here; see the statistical test")
    assert_same(expr)


@pytest.mark.parametrize("p", [0.05, 0.3, 0.5, 0.97])
def test_bernoulli_distribution(p: float) -> None:
    # Holds on every CPU: 0/1 values with mean p (5 standard errors).
    n = 200_000
    G.manual_seed(11)
    for draws in (G.zeros(n).bernoulli_(p), G.bernoulli(G.full((n,), p))):
        values = draws.numpy()
        assert set(np.unique(values)) <= {0.0, 1.0}
        assert abs(values.mean() - p) < 5 * np.sqrt(p * (1 - p) / n)


def test_bernoulli_has_input_shape_and_dtype() -> None:
    G.manual_seed(0)
    for dtype in (G.float32, G.float64):
        p = G.full((2, 3), 0.5, dtype=dtype)
        out = G.bernoulli(p)
        assert out.shape == p.shape and out.dtype == dtype


# ---- keepdim= with keepdims= ------------------------------------------------

KEEPDIMS_BOTH = [
    f"{call}{args})"
    for call in [f"L.{n}(x, " for n in "sum mean max min prod amax amin".split()]
    + [f"L.{n}(x, " for n in "argmax argmin std var any all".split()]
    + ["x.sum(", "x.mean(", "x.prod(", "x.amax(", "x.argmin("]
    for args in [
        "dim=1, keepdim=False, keepdims=False",
        "dim=1, keepdim=True, keepdims=True",
        "1, keepdim=False, keepdims=True",
        "axis=1, keepdim=False, keepdims=True",
    ]
] + [
    f"L.{n}(x, keepdim=True, keepdims=True)"
    for n in "sum prod amax amin argmax argmin".split()
]


def _shown(result: tuple) -> tuple:
    """torch's 'invalid combination' message lists its overloads, which gdlite
    does not reproduce: its first line is compared."""
    if result[0] == "error" and "invalid combination" in result[2]:
        return result[:2] + (result[2].split(" - got (")[0],)
    return result


@pytest.mark.parametrize("expr", KEEPDIMS_BOTH)
def test_keepdim_and_keepdims_refused(expr: str) -> None:
    got, want = outcome("gdlite", expr), outcome("torch", expr)
    assert want[:2] == ("error", "TypeError"), expr
    assert _shown(got) == _shown(want), expr


@pytest.mark.parametrize(
    "expr",
    [
        "L.sum(x, 1, keepdims=True)",
        "x.mean(axis=0, keepdims=True)",
        "L.amax(x, keepdims=True)",
        "x.std(1, keepdims=True)",
        "L.any(x, 2, keepdims=False)",
        "L.max(x, 0, keepdim=True)[0]",
    ],
)
def test_keepdims_alone_still_works(expr: str) -> None:
    assert_same(expr)
