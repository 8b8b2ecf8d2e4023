"""nn layers against torch: Linear's initial weights (the same random
numbers), forward and backward of Linear, activations, Flatten and Dropout
(the same masks), containers, and the errors of bad input."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch_oracle import same_error

import gdlite as G


def arr(t) -> np.ndarray:
    return t.detach().numpy()


def params_equal(gm, tm) -> None:
    got = [(n, arr(p)) for n, p in gm.named_parameters()]
    want = [(n, arr(p)) for n, p in tm.named_parameters()]
    assert [n for n, _ in got] == [n for n, _ in want]
    for (_, a), (_, b) in zip(got, want, strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def pair(build, seed: int = 0):
    """The same model built by each library under the same seed."""
    G.manual_seed(seed)
    gm = build(G)
    torch.manual_seed(seed)
    tm = build(torch)
    return gm, tm


# ---- initial weights ---------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 42, 2**31 + 5])
@pytest.mark.parametrize(
    "shape", [(1, 1), (2, 3), (3, 1), (10, 7), (100, 50), (1, 300), (17, 1)]
)
@pytest.mark.parametrize("bias", [True, False])
def test_linear_init_is_torch_bit_for_bit(seed, shape, bias):
    gm, tm = pair(lambda lib: lib.nn.Linear(*shape, bias=bias), seed)
    params_equal(gm, tm)
    assert gm.bias is None if not bias else isinstance(gm.bias, G.nn.Parameter)
    # The stream continues where torch's does.
    np.testing.assert_array_equal(G.rand(5).numpy(), torch.rand(5).numpy())


def test_linear_float64_init_and_forward():
    gm, tm = pair(lambda lib: lib.nn.Linear(4, 3, dtype=lib.float64), 3)
    params_equal(gm, tm)
    x = np.random.default_rng(0).standard_normal((5, 4))
    np.testing.assert_array_equal(
        arr(gm(G.from_numpy(x))), arr(tm(torch.from_numpy(x)))
    )


def test_course_models_start_as_torch():
    # The course's documented numbers: manual_seed(42) -> (0.7645, 0.8300),
    # manual_seed(1) -> (0.5153, -0.4414).
    for seed in (42, 1):
        gm, tm = pair(lambda lib: lib.nn.Linear(1, 1), seed)
        params_equal(gm, tm)
    gm, tm = pair(
        lambda lib: lib.nn.Sequential(
            lib.nn.Linear(2, 3), lib.nn.Sigmoid(), lib.nn.Linear(3, 1)
        ),
        1,
    )
    params_equal(gm, tm)
    assert [n for n, _ in gm.named_parameters()] == [
        "0.weight",
        "0.bias",
        "2.weight",
        "2.bias",
    ]


# ---- forward and backward ------------------------------------------------------


def run_both(gm, tm, x: np.ndarray):
    """Forward and backward of sum(out * c) in both libraries."""
    xs = G.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    outs = gm(xs[0]), tm(xs[1])
    c = np.random.default_rng(1).standard_normal(tuple(outs[1].shape)).astype(x.dtype)
    (outs[0] * G.from_numpy(c)).sum().backward()
    (outs[1] * torch.from_numpy(c)).sum().backward()
    return xs, outs


@pytest.mark.parametrize("in_shape", [(6, 4), (4,), (2, 3, 4), (1, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_forward_backward(in_shape, bias):
    gm, tm = pair(lambda lib: lib.nn.Linear(4, 3, bias=bias), 7)
    x = np.random.default_rng(2).standard_normal(in_shape).astype(np.float32)
    xs, outs = run_both(gm, tm, x)
    assert tuple(outs[0].shape) == tuple(outs[1].shape)
    np.testing.assert_allclose(arr(outs[0]), arr(outs[1]), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(arr(xs[0].grad), arr(xs[1].grad), rtol=1e-6, atol=1e-6)
    for (n, p), (_, q) in zip(
        gm.named_parameters(), tm.named_parameters(), strict=True
    ):
        np.testing.assert_allclose(
            arr(p.grad), arr(q.grad), rtol=1e-6, atol=1e-6, err_msg=n
        )


def test_linear_small_is_exact():
    gm, tm = pair(lambda lib: lib.nn.Linear(3, 2), 0)
    x = np.random.default_rng(3).standard_normal((5, 3)).astype(np.float32)
    xs, outs = run_both(gm, tm, x)
    np.testing.assert_array_equal(arr(outs[0]), arr(outs[1]))
    np.testing.assert_array_equal(arr(gm.weight.grad), arr(tm.weight.grad))
    np.testing.assert_array_equal(arr(gm.bias.grad), arr(tm.bias.grad))


@pytest.mark.parametrize("replace", ["weight", "bias", "both", "bias None"])
def test_linear_reads_weights_held_outside_its_parameters(replace):
    """A reparametrisation deletes the parameter and sets a plain attribute
    (or sets bias to None); forward then uses that, as torch's does."""
    gm, tm = pair(lambda lib: lib.nn.Linear(3, 2), 4)
    rng = np.random.default_rng(5)
    w = rng.standard_normal((2, 3)).astype(np.float32)
    b = rng.standard_normal(2).astype(np.float32)
    for lib, m in ((G, gm), (torch, tm)):
        if replace == "bias None":
            m.bias = None
            continue
        if replace in ("weight", "both"):
            del m.weight
            m.weight = lib.tensor(w) * 2
        if replace in ("bias", "both"):
            del m.bias
            m.bias = lib.tensor(b) - 1
    x = rng.standard_normal((4, 3)).astype(np.float32)
    got, want = gm(G.tensor(x)), tm(torch.tensor(x))
    np.testing.assert_array_equal(arr(got), arr(want))
    assert ("weight" in dict(gm.named_parameters())) == (
        "weight" in dict(tm.named_parameters())
    )


@pytest.mark.parametrize("shape", [(4, 5), (5,), (2, 4, 5), (0, 5)])
def test_linear_bad_input_shape(shape):
    same_error(lambda lib: lib.nn.Linear(2, 3)(lib.zeros(shape)))


@pytest.mark.parametrize("in_shape", [(4, 2), (2,), (5, 4, 2)])
def test_linear_bias_dtype_mismatch(in_shape):
    same_error(
        lambda lib: lib.nn.functional.linear(
            lib.zeros(in_shape), lib.zeros(3, 2), lib.zeros(3, dtype=lib.float64)
        )
    )


def test_linear_bad_dtypes_and_dims():
    same_error(lambda lib: lib.nn.Linear(2, 3)(lib.zeros(4, 2, dtype=lib.float64)))
    same_error(lambda lib: lib.nn.functional.linear(lib.zeros(()), lib.zeros(3, 2)))
    same_error(
        lambda lib: lib.nn.functional.linear(
            lib.zeros(4, 2), lib.zeros(3, 2), lib.zeros(4)
        )
    )


# (module, exact): the core's sigmoid and tanh are within an ulp or two of
# PyTorch's vectorised ones, not always bit-equal.
ACTIVATIONS = [
    (lambda lib: lib.nn.ReLU(), True),
    (lambda lib: lib.nn.LeakyReLU(), True),
    (lambda lib: lib.nn.LeakyReLU(0.2), True),
    (lambda lib: lib.nn.Sigmoid(), False),
    (lambda lib: lib.nn.Tanh(), False),
    (lambda lib: lib.nn.Identity(54, unused="x"), True),
    (lambda lib: lib.nn.Flatten(), True),
    (lambda lib: lib.nn.Flatten(0, 1), True),
    (lambda lib: lib.nn.Unflatten(1, (2, 3)), True),
]


@pytest.mark.parametrize(("build", "exact"), ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_forward_backward(build, exact, dtype):
    gm, tm = pair(build)
    x = np.random.default_rng(4).standard_normal((4, 6)).astype(dtype)
    x[0, :3] = [0.0, -0.0, np.nan]
    xs, outs = run_both(gm, tm, x)
    assert tuple(outs[0].shape) == tuple(outs[1].shape)
    if exact:
        np.testing.assert_array_equal(arr(outs[0]), arr(outs[1]))
        np.testing.assert_array_equal(
            np.signbit(arr(outs[0])), np.signbit(arr(outs[1]))
        )
        np.testing.assert_array_equal(arr(xs[0].grad), arr(xs[1].grad))
    else:
        np.testing.assert_allclose(arr(outs[0]), arr(outs[1]), rtol=3e-7, atol=1e-7)
        np.testing.assert_allclose(
            arr(xs[0].grad), arr(xs[1].grad), rtol=1e-6, atol=1e-7
        )
    assert repr(gm) == repr(tm)


def test_inplace_activations():
    for build in (
        lambda lib: lib.nn.ReLU(inplace=True),
        lambda lib: lib.nn.LeakyReLU(0.3, True),
    ):
        gm, tm = pair(build)
        assert repr(gm) == repr(tm)
        x = np.random.default_rng(5).standard_normal((3, 4)).astype(np.float32)
        xg, xt = G.tensor(x), torch.tensor(x)
        out = gm(xg)
        assert out is xg
        tm(xt)
        np.testing.assert_array_equal(xg.numpy(), xt.numpy())


def test_functional_activations():
    x = np.random.default_rng(6).standard_normal(10).astype(np.float32)
    for name, kw in [("relu", {}), ("leaky_relu", {"negative_slope": 0.5})]:
        got = getattr(G.nn.functional, name)(G.tensor(x), **kw)
        want = getattr(torch.nn.functional, name)(torch.tensor(x), **kw)
        np.testing.assert_array_equal(got.numpy(), want.numpy(), err_msg=name)
    for name in ("sigmoid", "tanh"):
        got = getattr(G.nn.functional, name)(G.tensor(x))
        want = getattr(torch.nn.functional, name)(torch.tensor(x))
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=3e-7, err_msg=name)


# ---- Dropout -----------------------------------------------------------------


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8, 1 / 3])
@pytest.mark.parametrize("shape", [(7,), (20, 30), (3, 4, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_mask_stream_is_torch(p, shape, dtype):
    gm, tm = pair(lambda lib: lib.nn.Dropout(p), 11)
    x = np.random.default_rng(7).standard_normal(shape).astype(dtype)
    xs, outs = run_both(gm, tm, x)
    np.testing.assert_array_equal(arr(outs[0]), arr(outs[1]))
    np.testing.assert_array_equal(arr(xs[0].grad), arr(xs[1].grad))
    np.testing.assert_array_equal(G.rand(3).numpy(), torch.rand(3).numpy())


def test_dropout_transposed_input_follows_memory_order():
    x = np.random.default_rng(8).standard_normal((6, 5)).astype(np.float32)
    G.manual_seed(3)
    got = G.nn.functional.dropout(G.tensor(x).t(), 0.4)
    torch.manual_seed(3)
    want = torch.nn.functional.dropout(torch.tensor(x).t(), 0.4)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_dropout_eval_p0_p1_and_inplace():
    x = G.tensor([[1.0, float("nan")], [-2.0, 3.0]])
    d = G.nn.Dropout(0.5)
    assert d.eval()(x) is x and not d.training
    assert G.nn.functional.dropout(x, 0.0) is x
    assert G.nn.functional.dropout(x, 0.5, training=False) is x
    G.manual_seed(0)
    torch.manual_seed(0)
    xt = torch.tensor(x.numpy())
    np.testing.assert_array_equal(
        G.nn.functional.dropout(x, 1.0).numpy(),
        torch.nn.functional.dropout(xt, 1.0).numpy(),
    )
    # p=1 draws nothing.
    np.testing.assert_array_equal(G.rand(2).numpy(), torch.rand(2).numpy())
    y = G.tensor([1.0, 2.0, 3.0, 4.0])
    yt = torch.tensor([1.0, 2.0, 3.0, 4.0])
    G.manual_seed(5)
    torch.manual_seed(5)
    assert G.nn.Dropout(0.5, inplace=True)(y) is y
    torch.nn.Dropout(0.5, inplace=True)(yt)
    np.testing.assert_array_equal(y.numpy(), yt.numpy())
    assert repr(G.nn.Dropout(0.25, True)) == repr(torch.nn.Dropout(0.25, True))


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_bad_p(p):
    same_error(lambda lib: lib.nn.Dropout(p))
    same_error(lambda lib: lib.nn.functional.dropout(lib.ones(2), p))


# ---- containers --------------------------------------------------------------


def three(lib):
    return lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.ReLU(), lib.nn.Linear(3, 1))


def test_sequential_indexing_and_editing():
    gm, tm = pair(three)
    assert isinstance(gm[0], G.nn.Linear) and gm[-1] is gm[2] and len(gm) == 3
    sub = gm[1:]
    assert type(sub) is G.nn.Sequential and list(sub._modules) == ["1", "2"]
    assert repr(sub) == repr(tm[1:])
    same_error(lambda lib: three(lib)[3])
    same_error(lambda lib: three(lib)[-4])
    for edit in (
        lambda s, lib: s.append(lib.nn.Tanh()),
        lambda s, lib: s.insert(1, lib.nn.Sigmoid()),
        lambda s, lib: s.insert(-1, lib.nn.Sigmoid()),
        lambda s, lib: s.extend([lib.nn.Tanh(), lib.nn.Identity()]),
        lambda s, lib: s.__delitem__(0),
        lambda s, lib: s.__delitem__(slice(0, 2)),
        lambda s, lib: s.__setitem__(1, lib.nn.Tanh()),
        lambda s, lib: s.add_module("head", lib.nn.Sigmoid()),
        lambda s, lib: s.pop(1),
    ):
        a, b = pair(three)
        edit(a, G)
        edit(b, torch)
        assert repr(a) == repr(b)
        assert list(a.state_dict()) == list(b.state_dict())
    assert repr(gm + gm[1:]) == repr(tm + tm[1:])
    assert repr(gm[1:] * 2) == repr(tm[1:] * 2)
    same_error(lambda lib: three(lib).insert(5, lib.nn.ReLU()))
    same_error(lambda lib: three(lib) + lib.nn.ReLU())


def test_sequential_from_ordered_dict_forward():
    def build(lib):
        return lib.nn.Sequential(
            OrderedDict(
                [
                    ("fc", lib.nn.Linear(3, 4)),
                    ("act", lib.nn.Tanh()),
                    ("out", lib.nn.Linear(4, 2)),
                ]
            )
        )

    gm, tm = pair(build, 9)
    assert list(gm.state_dict()) == ["fc.weight", "fc.bias", "out.weight", "out.bias"]
    assert gm.fc is gm[0] and repr(gm) == repr(tm)
    x = np.random.default_rng(9).standard_normal((5, 3)).astype(np.float32)
    xs, outs = run_both(gm, tm, x)
    # Tanh inside: within an ulp or two of PyTorch's, not always bit-equal.
    np.testing.assert_allclose(arr(outs[0]), arr(outs[1]), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(
        arr(gm.fc.weight.grad), arr(tm.fc.weight.grad), rtol=1e-6, atol=1e-7
    )


def test_module_list_and_dict():
    def build(lib):
        m = lib.nn.Module()
        m.layers = lib.nn.ModuleList([lib.nn.Linear(2, 2) for _ in range(3)])
        m.layers.append(lib.nn.ReLU())
        m.layers.extend([lib.nn.ReLU(), lib.nn.Tanh()])
        m.layers.insert(0, lib.nn.Sigmoid())
        m.heads = lib.nn.ModuleDict({"a": lib.nn.Linear(2, 1)})
        m.heads.update([("b", lib.nn.Identity())])
        m.heads["c"] = lib.nn.Flatten()
        return m

    gm, tm = pair(build, 4)
    assert repr(gm) == repr(tm)
    params_equal(gm, tm)
    assert list(gm.heads) == ["a", "b", "c"] and "b" in gm.heads
    assert list(gm.heads.keys()) == list(tm.heads.keys())
    assert len(gm.layers) == 7 and type(gm.layers[1:3]) is G.nn.ModuleList
    del gm.layers[0]
    del tm.layers[0]
    assert repr(gm) == repr(tm)
    assert gm.heads.pop("a") is not None and len(gm.heads) == 2
    same_error(lambda lib: lib.nn.ModuleList([lib.nn.ReLU()])[1])
    same_error(lambda lib: lib.nn.ModuleList(5))
    same_error(lambda lib: lib.nn.ModuleDict([("a", lib.nn.ReLU(), 3)]))
    same_error(lambda lib: lib.nn.ModuleDict([5]))
    assert repr(G.nn.ModuleList()) == "ModuleList()"
