"""nn.Module and nn.Parameter against torch: registration by attribute and
its errors, iteration, modes, gradients, conversion, hooks, repr, dir."""

from __future__ import annotations

import copy
import pickle
import re

import numpy as np
import pytest
import torch
from torch_oracle import same_error

import gdlite as G


def both_libs(fn):
    """fn(lib) for each library: (gdlite result, torch result)."""
    return fn(G), fn(torch)


def net(lib):
    class Block(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.nn.Linear(3, 4)
            self.scale = lib.nn.Parameter(lib.ones(4))
            self.register_buffer("running", lib.zeros(4))
            self.register_buffer("scratch", lib.zeros(2), persistent=False)
            self.act = lib.nn.ReLU()

        def forward(self, x):
            return self.act(self.fc(x)) * self.scale + self.running

    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.shared = lib.nn.Linear(4, 4)
            self.seq = lib.nn.Sequential(self.shared, lib.nn.Tanh(), self.shared)
            self.head = lib.nn.Linear(4, 2, bias=False)
            self.nothing = None

        def forward(self, x):
            return self.head(self.seq(self.block(x)))

    return Net()


def names(pairs):
    return [n for n, _ in pairs]


def test_iteration_orders_and_dedup():
    g, t = both_libs(net)
    assert names(g.named_parameters()) == names(t.named_parameters())
    assert names(g.named_parameters(remove_duplicate=False)) == names(
        t.named_parameters(remove_duplicate=False)
    )
    assert names(g.named_parameters(prefix="m", recurse=False)) == names(
        t.named_parameters(prefix="m", recurse=False)
    )
    assert names(g.block.named_parameters(prefix="b")) == names(
        t.block.named_parameters(prefix="b")
    )
    assert names(g.named_buffers()) == names(t.named_buffers())
    assert names(g.named_children()) == names(t.named_children())
    assert names(g.named_modules()) == names(t.named_modules())
    assert names(g.named_modules(remove_duplicate=False)) == names(
        t.named_modules(remove_duplicate=False)
    )
    assert names(g.named_modules(prefix="root")) == names(
        t.named_modules(prefix="root")
    )
    assert len(list(g.parameters())) == len(list(t.parameters())) == 6
    assert len(list(g.modules())) == len(list(t.modules()))
    assert len(list(g.buffers())) == 2
    assert all(isinstance(p, G.nn.Parameter) for p in g.parameters())


def test_attribute_registration():
    m = G.nn.Module()
    m.w = G.nn.Parameter(G.zeros(2))
    m.sub = G.nn.Linear(1, 1)
    m.register_buffer("b", G.ones(1))
    m.plain = G.zeros(3)  # a plain tensor is only an attribute
    assert list(m._parameters) == ["w"] and list(m._modules) == ["sub"]
    assert list(m._buffers) == ["b"] and "plain" in m.__dict__
    m.b = G.full((1,), 5.0)  # stays a buffer
    assert m._buffers["b"].item() == 5.0
    m.w = None
    assert m._parameters["w"] is None and m.w is None
    m.sub = None
    assert m.sub is None
    # Reassigning a name moves it to the kind of its new value.
    m.b = G.nn.Parameter(G.zeros(1))
    assert "b" in m._parameters and "b" not in m._buffers
    m.plain = G.nn.Identity()
    assert "plain" in m._modules and "plain" not in m.__dict__
    del m.b, m.plain
    assert "b" not in m._parameters and "plain" not in m._modules
    m.nb = G.nn.Buffer(G.ones(2), persistent=False)
    assert "nb" in m._buffers and "nb" in m._non_persistent_buffers_set


@pytest.mark.parametrize(
    "fn",
    [
        lambda lib: setattr(lib.nn.Linear(1, 1), "weight", lib.zeros(1, 1)),
        lambda lib: setattr(lib.nn.Linear(1, 1), "weight", 3),
        lambda lib: setattr(lib.nn.Sequential(lib.nn.ReLU()), "0", lib.zeros(1)),
        lambda lib: lib.nn.Module().register_parameter("x", lib.zeros(1)),
        lambda lib: lib.nn.Module().register_parameter("a.b", None),
        lambda lib: lib.nn.Module().register_parameter("", None),
        lambda lib: lib.nn.Module().register_parameter(3, None),
        lambda lib: lib.nn.Linear(1, 1).register_parameter("training", None),
        lambda lib: lib.nn.Module().register_parameter(
            "p", lib.nn.Parameter(lib.ones(1)) * 2
        ),
        lambda lib: lib.nn.Module().register_buffer("a.b", None),
        lambda lib: lib.nn.Module().register_buffer("", None),
        lambda lib: lib.nn.Module().register_buffer(1.5, None),
        lambda lib: lib.nn.Linear(1, 1).register_buffer("weight", lib.zeros(1)),
        lambda lib: lib.nn.Module().add_module("x", lib.zeros(1)),
        lambda lib: lib.nn.Module().add_module("a.b", lib.nn.ReLU()),
        lambda lib: lib.nn.Module().add_module("", lib.nn.ReLU()),
        lambda lib: lib.nn.Module().add_module(None, lib.nn.ReLU()),
        lambda lib: lib.nn.Linear(1, 1).add_module("bias", lib.nn.ReLU()),
        lambda lib: lib.nn.Linear(1, 1).missing,
        lambda lib: lib.nn.Module()(1),
        lambda lib: lib.nn.Module(3),
        lambda lib: lib.nn.Module(x=3),
        lambda lib: lib.nn.Linear(1, 1).train("yes"),
        lambda lib: lib.nn.Linear(1, 1).to(lib.int64),
        lambda lib: lib.nn.Parameter(lib.ones(2, dtype=lib.int64)),
        lambda lib: lib.nn.Parameter([1.0]),
        lambda lib: delattr(lib.nn.Linear(1, 1), "nope"),
    ],
)
def test_registration_errors(fn):
    same_error(fn)


def test_buffer_type_error():
    with pytest.raises(TypeError) as want:
        torch.nn.Module().register_buffer("x", 3)
    with pytest.raises(TypeError) as got:
        G.nn.Module().register_buffer("x", 3)
    assert str(got.value) == str(want.value).replace("torch Tensor", "gdlite Tensor")


def test_errors_before_init():
    class Early(G.nn.Module):
        def __init__(self, kind):
            if kind == "param":
                self.p = G.nn.Parameter(G.ones(1))
            elif kind == "module":
                self.m = G.nn.ReLU()
            else:
                self.register_buffer("b", G.ones(1))

    class EarlyT(torch.nn.Module):
        def __init__(self, kind):
            if kind == "param":
                self.p = torch.nn.Parameter(torch.ones(1))
            elif kind == "module":
                self.m = torch.nn.ReLU()
            else:
                self.register_buffer("b", torch.ones(1))

    for kind in ("param", "module", "buffer"):
        with pytest.raises(AttributeError) as want:
            EarlyT(kind)
        with pytest.raises(AttributeError, match=re.escape(str(want.value))):
            Early(kind)


def test_get_submodule_parameter_buffer():
    g, t = both_libs(net)
    assert g.get_submodule("block.fc") is g.block.fc
    assert g.get_submodule("") is g
    assert g.get_parameter("block.fc.weight") is g.block.fc.weight
    assert g.get_buffer("block.running") is g.block.running
    for target in ("block.nope", "block.scale.x", "block.fc.weight.x"):
        same_error(lambda lib, target=target: net(lib).get_submodule(target))
    same_error(lambda lib: net(lib).get_parameter("block.running"))
    same_error(lambda lib: net(lib).get_buffer("block.scale"))
    same_error(lambda lib: net(lib).get_parameter("block.nope"))


def test_train_eval_apply_requires_grad():
    g, t = both_libs(net)
    assert g.training and g.block.act.training
    assert g.eval() is g
    assert not any(m.training for m in g.modules())
    g.block.train()
    assert g.block.fc.training and not g.training
    seen = []
    assert g.apply(lambda m: seen.append(type(m).__name__)) is g
    seen_t = []
    t.apply(lambda m: seen_t.append(type(m).__name__))
    assert seen == seen_t
    g.requires_grad_(False)
    assert not any(p.requires_grad for p in g.parameters())
    g.block.requires_grad_()
    assert [p.requires_grad for p in g.parameters()] == [True] * 3 + [False] * 3


def test_zero_grad():
    g = net(G)
    g(G.ones(2, 3)).sum().backward()
    grads = [p.grad for p in g.parameters()]
    assert all(gr is not None for gr in grads)
    g.zero_grad(set_to_none=False)
    assert all(
        p.grad is gr and not p.grad.any()
        for p, gr in zip(g.parameters(), grads, strict=True)
    )
    g.zero_grad()
    assert all(p.grad is None for p in g.parameters())


def test_forward_backward_matches_torch():
    G.manual_seed(5)
    g = net(G)
    torch.manual_seed(5)
    t = net(torch)
    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    out_g, out_t = g(G.from_numpy(x)), t(torch.from_numpy(x))
    np.testing.assert_allclose(
        out_g.detach().numpy(), out_t.detach().numpy(), rtol=1e-5, atol=1e-6
    )
    out_g.sum().backward()
    out_t.sum().backward()
    for (n, p), (_, q) in zip(g.named_parameters(), t.named_parameters(), strict=True):
        np.testing.assert_allclose(
            p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=n
        )


def test_to_float_double_keeps_parameter_objects():
    g = G.nn.Linear(2, 2)
    g.register_buffer("count", G.zeros(1, dtype=G.int64))
    w = g.weight
    g(G.ones(1, 2)).sum().backward()
    assert g.double() is g and g.weight is w
    assert g.weight.dtype == G.float64 and g.weight.grad.dtype == G.float64
    assert g.count.dtype == G.int64
    assert isinstance(g.weight, G.nn.Parameter) and g.weight.requires_grad
    g.to(G.float32)
    assert w.dtype == G.float32
    g.to("cpu").to(device="cpu", dtype=G.float64)
    assert w.dtype == G.float64
    assert g.float().cpu() is g and w.dtype == G.float32


def test_forward_hooks():
    m = G.nn.Linear(2, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: calls.append(("pre", mod)))
    h2 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    h3 = m.register_forward_hook(lambda mod, args, out: calls.append(("post", out)))
    h4 = m.register_forward_hook(lambda mod, args, out: out + 100, prepend=True)
    out = m(G.ones(1, 2))
    np.testing.assert_array_equal(
        out.detach().numpy(), (m.bias + 100).detach().numpy()[None]
    )
    assert [c[0] for c in calls] == ["pre", "post"]
    assert calls[1][1] is out
    for h in (h1, h2, h3, h4):
        h.remove()
    h1.remove()  # a second remove is harmless
    calls.clear()
    m(G.ones(1, 2))
    assert calls == []
    # kwargs variants and a non-tuple pre-hook result.
    seen = {}
    m.register_forward_pre_hook(
        lambda mod, args, kwargs: (args, dict(kwargs)), with_kwargs=True
    )
    m.register_forward_hook(
        lambda mod, args, kwargs, out: seen.update(kwargs=kwargs), with_kwargs=True
    )
    m(input=G.ones(1, 2))
    assert list(seen["kwargs"]) == ["input"]
    with m.register_forward_pre_hook(lambda mod, args: G.zeros(1, 2)):
        np.testing.assert_array_equal(
            m(G.ones(1, 2)).detach().numpy()[0], m.bias.detach().numpy()
        )
    bad = G.nn.Identity()
    bad.register_forward_pre_hook(lambda mod, a, k: 5, with_kwargs=True)
    badt = torch.nn.Identity()
    badt.register_forward_pre_hook(lambda mod, a, k: 5, with_kwargs=True)
    with pytest.raises(RuntimeError) as want:
        badt(torch.ones(1))
    with pytest.raises(RuntimeError, match=re.escape(str(want.value))):
        bad(G.ones(1))


def test_always_call_hook_runs_when_forward_raises():
    for lib in (G, torch):
        m = lib.nn.Linear(2, 2)
        ran = []
        m.register_forward_hook(
            lambda mod, a, o, ran=ran: ran.append(o), always_call=True
        )
        with pytest.raises(RuntimeError):
            m(lib.ones(3, 5))
        assert ran == [None]


def test_repr_nested_and_extra_repr():
    def custom_class(lib):
        class Custom(lib.nn.Module):
            def extra_repr(self):
                return "first\nsecond"

        return Custom

    def build(lib):
        m = net(lib)
        m.custom = custom_class(lib)()
        m.custom.inner = lib.nn.Sequential(lib.nn.Flatten(), lib.nn.LeakyReLU(0.1))
        m.lst = lib.nn.ModuleList(
            [
                lib.nn.Linear(2, 2),
                lib.nn.Linear(2, 2),
                lib.nn.ReLU(),
                lib.nn.Linear(2, 2),
            ]
        )
        m.empty = lib.nn.Sequential()
        return m

    g, t = build(G), build(torch)
    assert repr(g) == repr(t)
    assert str(g) == str(t)
    assert repr(G.nn.Module()) == "Module()"


def test_dir_lists_registered_names():
    g, t = both_libs(net)
    got = set(dir(g))
    assert {"block", "seq", "head", "shared", "forward", "training"} <= got
    assert "0" not in dir(g.seq) and "fc" in dir(g.block) and "running" in dir(g.block)
    registered = {"block", "shared", "seq", "head", "nothing"}
    assert registered & set(dir(t)) == registered & got


def test_parameter_basics():
    data = G.arange(3.0)
    p = G.nn.Parameter(data)
    assert p.requires_grad and p.is_leaf and type(p) is G.nn.Parameter
    with G.no_grad():
        assert G.nn.Parameter(G.ones(1)).requires_grad
    assert not G.nn.Parameter(G.ones(1), requires_grad=False).requires_grad
    p.data[0] = 7.0  # shares data's memory
    assert data[0].item() == 7.0
    for x in (p * 2, p + p, p.sum(), p[0], p.detach(), p.view(3), G.exp(p)):
        assert type(x) is G.Tensor
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([7.0, 1.0, 2.0])))
    assert str(p) == repr(p)
    assert repr(G.nn.Parameter(G.zeros(2, dtype=G.float64), False)) == repr(
        torch.nn.Parameter(torch.zeros(2, dtype=torch.float64), False)
    ).replace("torch.", "gdlite.")
    assert G.nn.Parameter().shape == (0,)
    nonleaf = G.ones(2, requires_grad=True) * 2
    q = G.nn.Parameter(nonleaf)
    assert q.is_leaf and q.grad_fn is None


def test_parameter_deepcopy_and_pickle():
    p = G.nn.Parameter(G.tensor([1.0, 2.0]))
    q = copy.deepcopy(p)
    assert type(q) is G.nn.Parameter and q.requires_grad
    q.data[0] = 5.0
    assert p[0].item() == 1.0
    r = pickle.loads(pickle.dumps(G.nn.Parameter(G.tensor([3.0]), requires_grad=False)))
    assert type(r) is G.nn.Parameter and not r.requires_grad and r.item() == 3.0
    m = net(G)
    m2 = copy.deepcopy(m)
    assert m2.seq[0] is m2.seq[2] is m2.shared
    for a, b in zip(m.parameters(), m2.parameters(), strict=True):
        assert a is not b and type(b) is G.nn.Parameter
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    m3 = pickle.loads(pickle.dumps(G.nn.Sequential(G.nn.Linear(2, 1), G.nn.ReLU())))
    want = torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.ReLU())
    assert repr(m3) == repr(want)


def test_buffer_class():
    b = G.nn.Buffer(G.ones(2), persistent=False)
    assert isinstance(b, G.nn.Buffer) and not isinstance(G.ones(2), G.nn.Buffer)
    assert type(b) is G.Tensor
