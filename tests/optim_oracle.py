"""Running a gdlite optimizer beside torch.optim from the same start, and
comparing parameters and every state entry after each step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

import gdlite as G

# The optimizers whose updates take a square root: torch's CPU sqrt (MKL's
# vector library) is not correctly rounded (1 ulp off for about one float32
# input in six), so these agree to rounding, the others bit for bit.
COUNTERS = ("step", "mu_product")
USES_SQRT = {"Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "NAdam"}
TOLERANCE = {
    "float32": dict(rtol=2e-5, atol=2e-6),
    "float64": dict(rtol=1e-11, atol=1e-13),
}


def leaf_pair(values: np.ndarray, layout: str = "contiguous") -> tuple[Any, Any]:
    """The same leaf in torch and gdlite: contiguous, "transposed" (values
    transposed), or "sliced" (every other column of values, not dense)."""
    t = torch.tensor(values)
    g = G.tensor(values)
    if layout == "transposed":
        t, g = t.t(), g.t()
    elif layout == "sliced":
        t, g = t[:, ::2], g[:, ::2]
    return t.detach().requires_grad_(), g.detach().requires_grad_()


def to_numpy(x: Any) -> np.ndarray:
    return x.detach().numpy()


def assert_close(got: Any, want: Any, exact: bool, what: str) -> None:
    a, b = to_numpy(got), to_numpy(want)
    assert a.dtype == b.dtype, what
    assert a.shape == b.shape, what
    if exact:
        np.testing.assert_array_equal(a, b, err_msg=what)
    else:
        np.testing.assert_allclose(a, b, err_msg=what, **TOLERANCE[str(a.dtype)])


def assert_state_like(
    gopt: Any, topt: Any, gparams: list, tparams: list, exact: bool
) -> None:
    """Same state keys (in torch's order) and values for every parameter."""
    for i, (gp, tp) in enumerate(zip(gparams, tparams, strict=True)):
        assert_close(gp, tp, exact, f"param {i}")
        gs, ts = gopt.state.get(gp, {}), topt.state.get(tp, {})
        assert list(gs) == list(ts), f"state keys of param {i}"
        for key, want in ts.items():
            got = gs[key]
            if isinstance(want, torch.Tensor):
                assert isinstance(got, G.Tensor), key
                # Counters are exact whatever the algorithm.
                assert_close(got, want, exact or key in COUNTERS, f"{key} of param {i}")
            else:
                assert got == want, key


def run_pair(
    name: str,
    kwargs: dict,
    shapes: list[tuple[int, ...]],
    dtype: str = "float32",
    steps: int = 20,
    seed: int = 0,
    layout: str = "contiguous",
    grads: Callable[[np.random.Generator, tuple], np.ndarray] | None = None,
    groups: Callable[[list], Any] | None = None,
) -> tuple[Any, Any, list, list]:
    """Runs `steps` steps of both optimizers on random gradients, comparing
    after each; returns (gdlite optimizer, torch optimizer, params, params)."""
    rng = np.random.default_rng(seed)
    pairs = [
        leaf_pair(np.array(rng.standard_normal(s), dtype=dtype), layout) for s in shapes
    ]
    tparams = [t for t, _ in pairs]
    gparams = [g for _, g in pairs]
    make = groups or (lambda ps: ps)
    topt = getattr(torch.optim, name)(make(tparams), **kwargs)
    gopt = getattr(G.optim, name)(make(gparams), **kwargs)
    # fused=True runs torch's fused CPU kernel, another order of operations.
    exact = name not in USES_SQRT and not kwargs.get("fused")
    for _ in range(steps):
        for tp, gp in zip(tparams, gparams, strict=True):
            shape = tuple(tp.shape)
            g = grads(rng, shape) if grads else rng.standard_normal(shape)
            g = np.array(g, dtype=dtype)
            tp.grad = torch.tensor(g)
            gp.grad = G.tensor(g)
        topt.step()
        gopt.step()
        assert_state_like(gopt, topt, gparams, tparams, exact)
    return gopt, topt, gparams, tparams
