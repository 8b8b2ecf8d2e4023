"""state_dict and load_state_dict against torch: keys, aliasing, prefixes,
persistent buffers, the strict report and its messages."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch_oracle import same_error

import gdlite as G


def model(lib):
    m = lib.nn.Sequential(
        lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2, bias=False)
    )
    m.register_buffer("steps", lib.zeros((), dtype=lib.int64))
    m.register_buffer("scratch", lib.ones(2), persistent=False)
    m.register_buffer("unset", None)
    return m


def pair(seed=0):
    G.manual_seed(seed)
    g = model(G)
    torch.manual_seed(seed)
    return g, model(torch)


def test_keys_values_and_types():
    g, t = pair()
    sd_g, sd_t = g.state_dict(), t.state_dict()
    assert type(sd_g) is OrderedDict
    assert list(sd_g) == list(sd_t) == ["steps", "0.weight", "0.bias", "2.weight"]
    for k in sd_t:
        assert type(sd_g[k]) is G.Tensor and not sd_g[k].requires_grad
        np.testing.assert_array_equal(sd_g[k].numpy(), sd_t[k].numpy())
    assert dict(sd_g._metadata) == dict(sd_t._metadata)


def test_state_dict_aliases_parameters():
    g, _ = pair()
    sd = g.state_dict()
    sd["0.weight"][0, 0] = 42.0  # the course edits live parameters this way
    assert g[0].weight[0, 0].item() == 42.0
    with G.no_grad():
        g[0].bias.fill_(3.0)
    assert sd["0.bias"].tolist() == [3.0] * 4


def test_keep_vars_prefix_destination():
    g, t = pair()
    sd = g.state_dict(keep_vars=True)
    assert sd["0.weight"] is g[0].weight
    assert list(g.state_dict(prefix="model.")) == list(t.state_dict(prefix="model."))
    dest = {}
    assert g.state_dict(destination=dest) is dest and list(dest) == list(t.state_dict())
    with pytest.warns(FutureWarning):
        g.state_dict(None, "p.")


def test_load_round_trip_copies_under_no_grad():
    g, t = pair(1)
    other, _ = pair(2)
    w = g[0].weight
    result = g.load_state_dict(other.state_dict())
    assert repr(result) == "<All keys matched successfully>"
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert g[0].weight is w and w.requires_grad and w.grad_fn is None
    np.testing.assert_array_equal(w.detach().numpy(), other[0].weight.detach().numpy())
    # From torch's state_dict through NumPy, values land exactly.
    sd = {k: G.from_numpy(v.numpy().copy()) for k, v in t.state_dict().items()}
    g.load_state_dict(sd)
    for (k, a), (_, b) in zip(
        g.state_dict().items(), t.state_dict().items(), strict=True
    ):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)


def edit(sd, lib, kind):
    sd = OrderedDict(sd)
    if kind == "missing":
        del sd["0.bias"], sd["steps"]
    elif kind == "unexpected":
        sd["0.extra"] = lib.zeros(1)
        sd["extra"] = lib.zeros(1)
        sd["9.weight"] = lib.zeros(1)
    elif kind == "size":
        sd["0.weight"] = lib.zeros(4, 4)
        sd["2.weight"] = lib.zeros(2)
    elif kind == "all":
        del sd["0.bias"]
        sd["zzz"] = lib.zeros(1)
        sd["0.weight"] = lib.zeros(5, 3)
    elif kind == "not_tensor":
        sd["0.bias"] = [1.0, 2.0]
    elif kind == "non_persistent":
        sd["scratch"] = lib.zeros(2)
    return sd


KINDS = ["missing", "unexpected", "size", "all", "not_tensor", "non_persistent"]


@pytest.mark.parametrize("kind", KINDS)
def test_strict_report_is_torch(kind):
    same_error(
        lambda lib: model(lib).load_state_dict(edit(model(lib).state_dict(), lib, kind))
    )


@pytest.mark.parametrize("kind", ["missing", "unexpected", "non_persistent"])
def test_non_strict_result_is_torch(kind):
    got = model(G).load_state_dict(edit(model(G).state_dict(), G, kind), strict=False)
    want = model(torch).load_state_dict(
        edit(model(torch).state_dict(), torch, kind), strict=False
    )
    assert type(got).__name__ == "_IncompatibleKeys"
    assert got == tuple(want) and repr(got) == repr(want)
    assert got.missing_keys == want.missing_keys


@pytest.mark.parametrize("kind", ["size", "not_tensor"])
def test_non_strict_still_reports_bad_values(kind):
    same_error(
        lambda lib: model(lib).load_state_dict(
            edit(model(lib).state_dict(), lib, kind), strict=False
        )
    )


def test_load_errors_for_other_inputs():
    same_error(lambda lib: lib.nn.Linear(1, 1).load_state_dict([("weight", 1)]))


def test_load_converts_dtype_and_scalar_shape():
    g, t = pair()
    sd_g = {
        k: v.double() if v.is_floating_point() else v for k, v in g.state_dict().items()
    }
    sd_g["steps"] = G.tensor([7])  # a 1-element 1-d tensor loads into a 0-d one
    g.load_state_dict(sd_g)
    sd_t = {
        k: v.double() if v.is_floating_point() else v for k, v in t.state_dict().items()
    }
    sd_t["steps"] = torch.tensor([7])
    t.load_state_dict(sd_t)
    assert g.steps.item() == t.steps.item() == 7
    assert g[0].weight.dtype == G.float32


def test_load_assign():
    g, _ = pair()
    new = G.ones(4, 3)
    g.load_state_dict({**g.state_dict(), "0.weight": new}, assign=True)
    assert isinstance(g[0].weight, G.nn.Parameter) and g[0].weight.requires_grad
    new[0, 0] = 9.0
    assert g[0].weight[0, 0].item() == 9.0


def test_post_hook_sees_report():
    g, _ = pair()
    seen = []
    g.register_load_state_dict_post_hook(lambda m, keys: seen.append(list(keys[0])))
    g.load_state_dict({}, strict=False)
    assert seen == [["steps", "0.weight", "0.bias", "2.weight"]]


def test_module_with_parameters_in_submodule_class():
    def build(lib):
        class Regression(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.b = lib.nn.Parameter(lib.randn(1, requires_grad=True))
                self.w = lib.nn.Parameter(lib.randn(1, requires_grad=True))

            def forward(self, x):
                return self.b + self.w * x

        return Regression()

    G.manual_seed(42)
    g = build(G)
    torch.manual_seed(42)
    t = build(torch)
    assert list(g.state_dict()) == list(t.state_dict()) == ["b", "w"]
    for k in ("b", "w"):
        np.testing.assert_array_equal(
            g.state_dict()[k].numpy(), t.state_dict()[k].numpy()
        )
    assert repr(g.state_dict()) == repr(t.state_dict()).replace("torch.", "gdlite.")
