"""nn.init (the same numbers as torch's, from the same streams) and
nn.utils.clip_grad_norm_/clip_grad_value_ against torch."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from torch_oracle import same_error

import gdlite as G

SHAPES = [(3, 5), (1, 1), (64, 30), (4, 3, 2, 2), (20, 1)]

INITS = [
    ("uniform_", {}),
    ("uniform_", {"a": -0.3, "b": 2.0}),
    ("normal_", {}),
    ("normal_", {"mean": 1.0, "std": 0.02}),
    ("constant_", {"val": 0.25}),
    ("ones_", {}),
    ("zeros_", {}),
    ("xavier_uniform_", {}),
    ("xavier_uniform_", {"gain": 2.5}),
    ("xavier_normal_", {}),
    ("kaiming_uniform_", {}),
    ("kaiming_uniform_", {"a": math.sqrt(5)}),
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", {}),
    ("kaiming_normal_", {"a": 0.1, "mode": "FAN_OUT", "nonlinearity": "leaky_relu"}),
]


@pytest.mark.parametrize(("name", "kwargs"), INITS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_init_draws_torch_numbers(name, kwargs, shape, dtype):
    G.manual_seed(123)
    got = G.empty(shape, dtype=getattr(G, dtype), requires_grad=True)
    assert getattr(G.nn.init, name)(got, **kwargs) is got
    torch.manual_seed(123)
    want = torch.empty(shape, dtype=getattr(torch, dtype), requires_grad=True)
    getattr(torch.nn.init, name)(want, **kwargs)
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    assert got.is_leaf and got.requires_grad
    np.testing.assert_array_equal(G.rand(4).numpy(), torch.rand(4).numpy())


@pytest.mark.parametrize(
    "name", ["uniform_", "normal_", "xavier_uniform_", "kaiming_normal_"]
)
def test_init_with_generator(name):
    gen_g = G.Generator().manual_seed(7)
    gen_t = torch.Generator().manual_seed(7)
    got = getattr(G.nn.init, name)(G.empty(6, 4), generator=gen_g)
    want = getattr(torch.nn.init, name)(torch.empty(6, 4), generator=gen_t)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_eye_and_gain():
    got = G.nn.init.eye_(G.empty(3, 5))
    np.testing.assert_array_equal(got.numpy(), torch.nn.init.eye_(torch.empty(3, 5)))
    for args in [
        ("linear",),
        ("conv2d",),
        ("sigmoid",),
        ("tanh",),
        ("relu",),
        ("leaky_relu",),
        ("leaky_relu", 0.2),
        ("leaky_relu", 3),
        ("selu",),
    ]:
        assert G.nn.init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)
    for shape in SHAPES:
        assert G.nn.init._calculate_fan_in_and_fan_out(
            G.empty(shape)
        ) == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


@pytest.mark.parametrize(
    "fn",
    [
        lambda lib: lib.nn.init.calculate_gain("softplus"),
        lambda lib: lib.nn.init.calculate_gain("leaky_relu", True),
        lambda lib: lib.nn.init.calculate_gain("leaky_relu", "x"),
        lambda lib: lib.nn.init.xavier_uniform_(lib.empty(5)),
        lambda lib: lib.nn.init.kaiming_uniform_(lib.empty(2, 2), mode="fan"),
        lambda lib: lib.nn.init.kaiming_normal_(lib.empty(3)),
        lambda lib: lib.nn.init.eye_(lib.empty(2, 2, 2)),
    ],
)
def test_init_errors(fn):
    same_error(fn)


def test_kaiming_zero_element_warns():
    with pytest.warns(
        UserWarning, match="Initializing zero-element tensors is a no-op"
    ):
        G.nn.init.kaiming_uniform_(G.empty(0, 3))


# ---- clip_grad ---------------------------------------------------------------


def grads_pair(seed: int, shapes, dtype=np.float32, scale=1.0):
    rng = np.random.default_rng(seed)
    values = [(rng.standard_normal(s) * scale).astype(dtype) for s in shapes]
    ps_g, ps_t = [], []
    for v in values:
        pg = G.nn.Parameter(
            G.zeros(v.shape, dtype=G.float64 if dtype == np.float64 else G.float32)
        )
        pg.grad = G.tensor(v)
        pt = torch.nn.Parameter(torch.zeros(v.shape, dtype=torch.from_numpy(v).dtype))
        pt.grad = torch.tensor(v)
        ps_g.append(pg)
        ps_t.append(pt)
    return ps_g, ps_t


SHAPE_SETS = [[(3, 4), (4,)], [(5,)], [(2, 3), (7,), (1, 1)], [(40, 30), (30,)]]


@pytest.mark.parametrize("shapes", SHAPE_SETS)
@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf"), 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
@pytest.mark.parametrize("foreach", [None, False, True])
def test_clip_grad_norm_matches_torch(shapes, norm_type, max_norm, foreach):
    ps_g, ps_t = grads_pair(0, shapes)
    total_g = G.nn.utils.clip_grad_norm_(ps_g, max_norm, norm_type, foreach=foreach)
    total_t = torch.nn.utils.clip_grad_norm_(ps_t, max_norm, norm_type, foreach=foreach)
    assert (
        type(total_g) is G.Tensor and total_g.shape == () and total_g.dtype == G.float32
    )
    # The norms are reductions: within float32 rounding of torch's.
    np.testing.assert_allclose(total_g.item(), total_t.item(), rtol=2e-6)
    for a, b in zip(ps_g, ps_t, strict=True):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=3e-6, atol=1e-7)


def test_clip_grad_norm_small_exact_and_float64():
    ps_g, ps_t = grads_pair(1, [(3,), (2,)])
    total_g = G.nn.utils.clip_grad_norm_(iter(ps_g), 0.1)
    total_t = torch.nn.utils.clip_grad_norm_(iter(ps_t), 0.1)
    assert total_g.item() == total_t.item()
    for a, b in zip(ps_g, ps_t, strict=True):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    ps_g, ps_t = grads_pair(2, [(4, 3)], dtype=np.float64)
    total_g = G.nn.utils.clip_grad_norm_(ps_g[0], 0.5)  # a single tensor
    total_t = torch.nn.utils.clip_grad_norm_(ps_t[0], 0.5)
    assert total_g.dtype == G.float64
    np.testing.assert_allclose(total_g.item(), total_t.item(), rtol=1e-15)
    np.testing.assert_allclose(ps_g[0].grad.numpy(), ps_t[0].grad.numpy(), rtol=1e-15)


def test_clip_grad_norm_edge_cases():
    # No grads: a zero norm, nothing touched.
    p = G.nn.Parameter(G.ones(2))
    total = G.nn.utils.clip_grad_norm_([p], 1.0)
    assert (
        total.item()
        == torch.nn.utils.clip_grad_norm_(
            [torch.nn.Parameter(torch.ones(2))], 1.0
        ).item()
        == 0.0
    )
    with pytest.warns(UserWarning, match="empty generator"):
        G.nn.utils.clip_grad_norm_((q for q in []), 1.0)
    # Non-finite norms: an error on request, else NaN grads as in torch.
    for bad in (float("inf"), float("nan")):

        def run(lib, bad=bad, error=True):
            q = lib.nn.Parameter(lib.ones(2))
            q.grad = lib.tensor([1.0, bad])
            out = lib.nn.utils.clip_grad_norm_([q], 1.0, error_if_nonfinite=error)
            return out, q.grad

        same_error(run)
        out_g, grad_g = run(G, error=False)
        out_t, grad_t = run(torch, error=False)
        np.testing.assert_array_equal(out_g.numpy(), out_t.numpy())
        np.testing.assert_array_equal(grad_g.numpy(), grad_t.numpy())


def test_clip_grad_norm_on_model_after_backward():
    def setup(lib):
        lib.manual_seed(0)
        m = lib.nn.Sequential(lib.nn.Linear(3, 5), lib.nn.ReLU(), lib.nn.Linear(5, 1))
        x = lib.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))
        (m(x) ** 2).sum().backward()
        return m

    g, t = setup(G), setup(torch)
    tg = G.nn.utils.clip_grad_norm_(g.parameters(), 0.01)
    tt = torch.nn.utils.clip_grad_norm_(t.parameters(), 0.01)
    np.testing.assert_allclose(tg.item(), tt.item(), rtol=1e-6)
    for a, b in zip(g.parameters(), t.parameters(), strict=True):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-8)


def test_clip_grad_value():
    ps_g, ps_t = grads_pair(3, [(5, 4), (6,)], scale=3.0)
    assert G.nn.utils.clip_grad_value_(ps_g, 1.5) is None
    torch.nn.utils.clip_grad_value_(ps_t, 1.5)
    for a, b in zip(ps_g, ps_t, strict=True):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    p = G.nn.Parameter(G.ones(2))
    G.nn.utils.clip_grad_value_(p, 0.1, foreach=True)  # no grad: nothing to do
    assert p.grad is None


def test_deprecated_clip_grad_norm():
    ps_g, _ = grads_pair(4, [(3,)])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        G.nn.utils.clip_grad_norm(ps_g, 1.0)
    assert any(issubclass(x.category, FutureWarning) for x in w)
