"""Views and in-place ops under autograd, against the installed torch.

An in-place op on a view of a tensor that requires grad is recorded on the
view's base as a CopySlices node; a view whose base changed in place after the
view was taken has its grad_fn regenerated (AsStridedBackward0) on the base's
new history. Each program runs unchanged with ``m`` bound to gdlite and to
torch (see ``_run``); gradients, node names, flags, version counters and
messages are read from torch at test time."""

from __future__ import annotations

import ast

import numpy as np
import pytest
import torch
from autograd_helpers import (
    assert_close,
    assert_same_error,
    assert_same_values,
    central_difference,
    graph_names,
    node_name,
    run_both,
    run_program,
    to_np,
)

import gdlite as G

LIBS = pytest.mark.parametrize("m", [G, torch], ids=["gdlite", "torch"])


def _run(m, code):
    """Runs ``code`` with leaves that require grad x (four floats), w (two),
    c (four) and w0 (a 0-d tensor), and k (four plain weights, distinct so
    that a gradient routed to the wrong element shows); returns its scope."""
    scope = {
        "m": m,
        "x": m.arange(1.0, 5.0, requires_grad=True),
        "w": m.tensor([0.5, -3.0], requires_grad=True),
        "c": m.tensor([0.5, -3.0, 2.0, 1.5], requires_grad=True),
        "w0": m.tensor(2.0, requires_grad=True),
        "k": m.tensor([1.0, -2.0, 3.0, 0.5]),
    }
    exec(code, scope)
    return scope


def _both(code):
    return _run(G, code), _run(torch, code)


def _assert_same(g, t):
    """Item by item: tensors (or None) by value, graph nodes by name, the
    rest by equality."""
    assert len(g) == len(t)
    for i, (a, b) in enumerate(zip(g, t, strict=True)):
        if isinstance(a, G.Tensor) or isinstance(b, torch.Tensor):
            wide = b is not None and b.dtype == torch.float64
            assert_same_values(a, b, "float64" if wide else "float32")
        elif isinstance(b, torch.autograd.graph.Node):
            assert node_name(a) == node_name(b), (i, node_name(a), node_name(b))
        else:
            assert a == b, (i, a, b)


# Weights for a loss over all of y: distinct, so a wrong slice shows.
WEIGHTED_LOSS = "loss = (y * m.arange(1.0, y.numel() + 1.0).view(y.shape)).sum()"

# ------------------------------------------- a view whose base changed in place

# y = x * 2; v = y[0:2]; then the base changes: v must see the new history.
BASE_CHANGES = [
    "y.mul_(3)",
    "y.exp_()",
    "y.add_(1)",
    "y[[0]] = 7.0",
    "y.zero_()",
    "y.copy_(m.tensor([9.0, 8.0, 7.0, 6.0]))",
    "y.copy_(c)",
    "y.mul_(c)",
    "y[1:3].mul_(c[:2])",
    "y[2:].mul_(3)",
    "y.view(2, 2).mul_(c.view(2, 2))",
]
BASE_CHANGE = """
y = x * 2
v = y[0:2]
before = v.grad_fn
{}
after = v.grad_fn
(v * m.tensor([1.0, 3.0])).sum().backward()
"""


@pytest.mark.parametrize("change", BASE_CHANGES)
def test_view_of_changed_base_gradients(change):
    g, t = _both(BASE_CHANGE.format(change))
    _assert_same([g["v"], g["y"]], [t["v"], t["y"]])
    _assert_same([g["x"].grad, g["c"].grad], [t["x"].grad, t["c"].grad])


@pytest.mark.parametrize("change", BASE_CHANGES)
def test_view_of_changed_base_regenerates_grad_fn(change):
    g, t = _both(BASE_CHANGE.format(change) + "flags = [v.requires_grad, v.is_leaf]")
    # SliceBackward0 before the change, AsStridedBackward0 on the new history after.
    keys = ["before", "after", "flags"]
    _assert_same([g[n] for n in keys], [t[n] for n in keys])
    assert node_name(g["y"].grad_fn) == node_name(t["y"].grad_fn)
    assert graph_names(g["after"], 3) == graph_names(t["after"], 3)
    assert (g["y"]._version, g["v"]._version) == (t["y"]._version, t["v"]._version)


def test_issue_example_ones():
    def program(m):
        x = m.ones(4, requires_grad=True)
        y = x * 2
        v = y[0:2]
        y.mul_(3)
        v.sum().backward()
        return x.grad, node_name(v.grad_fn)

    (gg, gn), (tg, tn) = run_both(program)
    assert_same_values(gg, tg)
    assert gn == tn


# -------------------------------------- in-place on a view of a non-leaf tensor

# Each program makes y (a non-leaf) and v (a view of it), then changes v in place.
VIEW_INPLACE = [
    "y = x * 2; v = y[1:3]; v.mul_(5)",
    "y = x * 2; v = y[1:3]; v.add_(w)",
    "y = x * 2; v = y[1:3]; v += w",
    "y = x * 2; v = y[1:3]; v.copy_(w)",
    "y = x * 2; v = y[2:]; v.mul_(x[:2])",
    "y = x * 2; v = y[1:3]; v.exp_()",
    "y = x * 2; v = y[1:3]; v.zero_()",
    "y = x * 2; v = y[1:3]; v.fill_(2.0)",
    "y = x * 2; v = y[1:3]; v.clamp_(3.0, 5.0)",
    "y = x - 2.5; v = y[1:3]; v.sigmoid_()",
    "y = x - 2.5; v = y[1:3]; v.relu_()",
    "y = x - 2.5; v = y[1:3]; m.nn.functional.relu(v, inplace=True)",
    "y = x * 2; v = y[1:3]; v.div_(w).pow_(2)",
    "y = x * 2; v = y.view(2, 2)[0]; v.mul_(w)",
    "y = x * 2; v = y[::2]; v.mul_(w)",
    "y = (x * 2).view(2, 2); v = y.t(); v.mul_(m.tensor([[1.0, 2.0], [3.0, 4.0]]))",
    "y = x * 2; v = y.unsqueeze(0)[0]; v.mul_(x)",
    "y = x * 2; v = y.reshape(2, 2); v.mul_(m.tensor([[1.0, 2.0], [3.0, 4.0]]))",
    "y = x * 2; v = y[1]; v.mul_(3)",
    "y = x * 2; v = y[1]; v.mul_(w[0])",
    "y = x.double() * 2; v = y[1:3]; v.mul_(w)",
    "y = x.double() * 2; v = y[1:3]; v.exp_()",
    "y = (x * 2).view(2, 2); v = y[:, 1]; v.mul_(w)",
    "y = (x * 2).view(2, 2); v = y[1]; v.sub_(w)",
]
VIEW_TAIL = f"""
y_fn, v_fn = y.grad_fn, v.grad_fn
flags = [y.is_leaf, v.is_leaf, v.requires_grad, y._version, v._version, x._version]
{WEIGHTED_LOSS}
loss.backward()
"""


@pytest.mark.parametrize("code", VIEW_INPLACE)
def test_inplace_on_view_gradients(code):
    g, t = _both(code + VIEW_TAIL)
    _assert_same([g["y"], g["v"], g["loss"]], [t["y"], t["v"], t["loss"]])
    _assert_same([g["x"].grad, g["w"].grad], [t["x"].grad, t["w"].grad])


@pytest.mark.parametrize("code", VIEW_INPLACE)
def test_inplace_on_view_nodes_and_versions(code):
    g, t = _both(code + VIEW_TAIL)
    # y: CopySlices (AsStridedBackward0 over the root's CopySlices when y is
    # itself a view); v: AsStridedBackward0.
    keys = ["y_fn", "v_fn", "flags"]
    _assert_same([g[n] for n in keys], [t[n] for n in keys])


@pytest.mark.parametrize("code", VIEW_INPLACE)
def test_inplace_on_view_graph_shape(code):
    g, t = _both(code + VIEW_TAIL)
    assert graph_names(g["y_fn"], 4) == graph_names(t["y_fn"], 4)


# ------------------------------------------------------------------------ chains

# Each program leaves a scalar ``loss`` and the ``views`` whose grad_fn to compare.
CHAINS = {
    "two_views": "y = x * 2; a = y[:2]; b = y[2:]; a.mul_(3); b.add_(w)\n"
    "views = [a, b]; loss = (y * k).sum()",
    "base_after_view": "y = x * 2; v = y[1:3]; v.mul_(w); y.mul_(k)\n"
    "views = [v]; loss = (y * k).sum()",
    "older_view": "y = x * 2; old = y[0:2]; v = y[1:3]; v.mul_(w)\n"
    "views = [old, v]; loss = (old * w).sum()",
    "overlapping": "y = x * 2; a = y[0:3]; b = y[1:4]; a.mul_(2); b.mul_(c[:3])\n"
    "views = [a, b]; loss = (y * k).sum() + (a * k[:3]).sum()",
    "view_of_view": "y = x * 2; a = y[1:]; b = a[:2]; b.mul_(w)\n"
    "views = [a, b]; loss = (a * k[1:]).sum()",
    "same_view_twice": "y = x * 2; v = y[1:3]; v.mul_(w).add_(w)\n"
    "views = [v]; loss = (y * k).sum()",
    "view_of_changed_view": "y = x * 2; v = y[1:3]; v.exp_(); u = v[1:]\n"
    "views = [v, u]; loss = (y * k).sum() + (u * 2).sum()",
    # built before the change and saving nothing: keeps the old history
    "loss_before_change": "y = x * 2; v = y[0:2]; loss = (v + w).sum(); y.mul_(3)\n"
    "views = [v]",
    "view_then_base_then_view": "y = x * 2; y[0:2].mul_(w); y.add_(c); y[2:].mul_(w)\n"
    "views = [y[1:3]]; loss = (y * k).sum()",
}
CHAIN_TAIL = """
names = [y.grad_fn] + [t.grad_fn for t in views]
flags = [y._version] + [(t.requires_grad, t.is_leaf, t._version) for t in views]
loss.backward()
"""


@pytest.mark.parametrize("name", list(CHAINS))
def test_chains_of_inplace_ops(name):
    g, t = _both(CHAINS[name] + CHAIN_TAIL)
    _assert_same([g["y"], g["loss"], *g["views"]], [t["y"], t["loss"], *t["views"]])
    _assert_same(
        [g["x"].grad, g["w"].grad, g["c"].grad], [t["x"].grad, t["w"].grad, t["c"].grad]
    )
    _assert_same(g["names"] + g["flags"], t["names"] + t["flags"])


# -------------------------------------------- a base that does not require grad

# The base becomes part of the graph once an operand that requires grad is
# written into it (or into a view of it).
PLAIN_BASE = {
    "slice_add": "b = m.zeros(4); b[1:3].add_(w); v = b[1:3]\nloss = (b * k).sum()",
    "view_mul": "b = m.zeros(4) + 1; v = b[1:3]; v.mul_(w)\nloss = (b * k).sum()",
    "column_copy": "b = m.zeros(2, 2); v = b[:, 0]; v.copy_(w)\n"
    "loss = (b * k.view(2, 2)).sum()",
    "base_mul_0d": "b = m.arange(1.0, 4.0); v = b[:2]; b.mul_(w0)\n"
    "loss = (v * m.tensor([1.0, 5.0])).sum()",
    "older_view": "b = m.ones(4); v = b[2:]; b[:2].mul_(w)\n"
    "loss = (v * w).sum() + b.sum()",
}
PLAIN_TAIL = """
flags = [b.requires_grad, b.is_leaf, v.requires_grad, v.is_leaf, b._version]
names = [b.grad_fn, v.grad_fn]
loss.backward()
"""


@pytest.mark.parametrize("name", list(PLAIN_BASE))
def test_plain_base_joins_the_graph(name):
    g, t = _both(PLAIN_BASE[name] + PLAIN_TAIL)
    _assert_same(g["flags"] + g["names"], t["flags"] + t["names"])
    _assert_same([g["b"], g["v"], g["loss"]], [t["b"], t["v"], t["loss"]])
    _assert_same([g["w"].grad, g["w0"].grad], [t["w"].grad, t["w0"].grad])


def test_view_taken_before_base_requires_grad():
    def program(m):
        b = m.zeros(3)
        v = b[:2]
        b.requires_grad_()
        return v.requires_grad, v.is_leaf, node_name(v.grad_fn)

    g, t = run_both(program)
    assert g == t


# ------------------------------------------------------------------------ errors

# Each program raises; gdlite must raise torch's type and message.
VIEW_ERRORS = {
    # in-place on a view of a leaf that requires grad
    "leaf_slice_add": "x[1:3].add_(w)",
    "leaf_unsqueeze_exp": "x.unsqueeze(0)[0].exp_()",
    "leaf_strided_zero": "x[::2].zero_()",
    "leaf_relu_inplace": "m.nn.functional.relu(x[1:3], inplace=True)",
    "leaf_column_mul": "x.view(2, 2)[:, 1].mul_(w)",
    "leaf_slice_iadd": "v = x[1:3]; v += w",
    "leaf_after_requires_grad_": "b = m.zeros(3); v = b[:2]; b.requires_grad_()\n"
    "v.mul_(2)",
    # a view made under no_grad, changed in place with grad mode on
    "no_grad_view": "y = x * 2\nwith m.no_grad():\n    v = y[1:3]\nv.mul_(2)",
    # one of several views returned by one function
    "unbind_output": "y = x * 2; a, b, c, d = y.unbind(); a.mul_(2)",
    # written-to elements sharing memory
    "expanded": "y = x * 2; y.expand(2, 4).mul_(2)",
    # a second backward through a CopySlices that saved tensors
    "twice": "y = x * 2; y[1:3].mul_(w); loss = (y * k).sum()\n"
    "loss.backward(); loss.backward()",
    "twice_exp": "y = x * 2; y[1:3].exp_(); loss = y.sum()\n"
    "loss.backward(); loss.backward()",
}
# A saved tensor changed (through a view or its base) before backward.
VIEW_VERSION_ERRORS = {
    "operand_view_of_base": "y = x * 2; v = y[2:]; v.mul_(y[:2])\n"
    "(y * k).sum().backward()",
    "saved_view_base_changed": "y = x * 2; v = y[0:2]; loss = (v * w).sum()\n"
    "y.mul_(3); loss.backward()",
    "saved_base_view_changed": "y = x.exp(); y[1:3].mul_(2); y.sum().backward()",
    "saved_result_of_view_op": "y = x * 2; v = y[1:3]; v.exp_(); y.mul_(2)\n"
    "(y * k).sum().backward()",
}


# gdlite's unbind returns separate select views (SelectBackward0), which it
# lets be written in place; torch refuses outputs of one multi-view function.
@pytest.mark.parametrize("name", list(VIEW_ERRORS) + list(VIEW_VERSION_ERRORS))
def test_errors_match_torch(name):
    code = VIEW_ERRORS.get(name) or VIEW_VERSION_ERRORS[name]
    # torch appends an anomaly-detection hint after "instead." that gdlite omits.
    upto = None if name in VIEW_ERRORS else "instead."
    assert_same_error(lambda m: _run(m, code), upto=upto)


# ----------------------------------------------------------------- retain_graph

RETAIN = [
    "y = x * 2; y[1:3].mul_(w)",
    "y = x * 2; y[1:3].mul_(w); y[::2].add_(c[:2]); y[3:].exp_()",
    # y is a view of a base changed in place: its regenerated grad_fn
    "base = x * 2; y = base[0:2]; base.mul_(c)",
]


@pytest.mark.parametrize("code", RETAIN)
def test_retain_graph_second_backward_same_grads(code):
    tail = f"""
{WEIGHTED_LOSS}
loss.backward(retain_graph=True)
first = [x.grad.clone(), w.grad, c.grad]
x.grad = w.grad = c.grad = None
loss.backward()
second = [x.grad, w.grad, c.grad]
"""
    g, t = _both(code + tail)
    _assert_same(g["first"] + g["second"], t["first"] + t["second"])
    _assert_same(g["first"], g["second"])


# ------------------------------------------------ assignment with a basic index

SETITEM = [
    "y = x * 1; y[1:3] = m.tensor([5.0, 6.0])",
    "y = x * 1; y[1] = 5.0",
    "y = x.view(2, 2) * 1; y[:, 0] = 0",
    "y = x * 1; y[1:3] = w",
    "y = x * 1; y[::2] = w * 2",
    "y = x.view(2, 2) * 1; y[1] = w",
    # y itself a view: the write lands in its base
    "y = (x * 1).view(2, 2); y[:, 0] = w",
]
SETITEM_TAIL = f"""
name, version = y.grad_fn, y._version
{WEIGHTED_LOSS}
loss.backward()
"""


@pytest.mark.parametrize("code", SETITEM)
def test_setitem_basic_index_gradients(code):
    g, t = _both(code + SETITEM_TAIL)
    _assert_same([g["y"], g["x"].grad, g["w"].grad], [t["y"], t["x"].grad, t["w"].grad])
    assert g["version"] == t["version"]


@pytest.mark.parametrize("code", SETITEM)
def test_setitem_basic_index_records_copy_slices(code):
    # torch writes t[basic index] = value through a view and copy_ (CopySlices);
    # compared exactly, not through KNOWN_NAME_DIFFERENCES.
    g, t = _both(code + SETITEM_TAIL)
    assert node_name(g["name"]) == node_name(t["name"])


# -------------------------------------------------------------- gradient checks


def test_copy_slices_gradient_matches_finite_differences():
    x0 = np.array([0.3, -0.7, 1.1, 0.4, -1.3, 0.9])
    w0 = np.array([0.8, -0.5])
    weight = np.array([1.0, -2.0, 0.5, 3.0, 1.5, -1.0])

    def numpy_program(arrays):
        x, w = arrays
        y = x * x
        y[1:3] *= w
        y[::2] *= 2.0
        y.reshape(2, 3)[:, 1] += w
        y[3:5] = np.exp(y[3:5])
        return y

    def program(m):
        x = m.tensor(x0, requires_grad=True)
        w = m.tensor(w0, requires_grad=True)
        y = x * x
        y[1:3].mul_(w)
        y[::2].mul_(2.0)
        y.view(2, 3)[:, 1].add_(w)
        y[3:5].exp_()  # last: its saved result must not change afterwards
        (y * m.tensor(weight)).sum().backward()
        return x.grad, w.grad

    numeric = central_difference(numpy_program, [x0, w0], weight)
    g, t = run_both(program)
    for a, b, n in zip(g, t, numeric, strict=True):
        assert_close(to_np(b), n, rtol=1e-6, atol=1e-8)  # the oracle agrees
        assert_close(to_np(a), n, rtol=1e-6, atol=1e-8)


@LIBS
def test_gradcheck_through_inplace_on_views(m):
    def f(a, b):
        y = a * 1.5
        y[1:3].mul_(b)
        y.view(2, 3)[:, 0].sin_()
        y[4].add_(b[0])
        return y

    a = m.tensor(np.linspace(-0.8, 1.2, 6), requires_grad=True)
    b = m.tensor([0.7, -1.1], dtype=m.float64, requires_grad=True)
    assert m.autograd.gradcheck(f, (a, b))


# --------------------------------------------------------- probes in subprocesses

# Each probe prints one Python literal; it runs in fresh interpreters under
# torch and gdlite, which must both exit cleanly and print the same values.
PROBE_PRELUDE = """
import gc, time
def name(fn):
    return fn.name() if m.__name__ == "gdlite" else type(fn).__name__
x = m.arange(1.0, 5.0, requires_grad=True)
w = m.tensor([0.5, -3.0], requires_grad=True)
k = m.tensor([1.0, -2.0, 3.0, 0.5])
"""
PROBES = {
    "drop_base_after_view_inplace": """
y = x * 2
v = y[1:3]
v.mul_(w)
loss = (v * m.tensor([1.0, 2.0])).sum()
del y
gc.collect()
loss.backward()
print([x.grad.tolist(), w.grad.tolist(), v.tolist(), name(v.grad_fn)])
""",
    "drop_base_after_base_inplace": """
y = x * 2
v = y[0:2]
y.exp_()
del y
gc.collect()
(v * m.tensor([1.0, 3.0])).sum().backward()
print([x.grad.tolist(), v.tolist(), name(v.grad_fn)])
""",
    "drop_view": """
y = x * 2
v = y[1:3]
v.exp_()
del v
gc.collect()
(y * k).sum().backward()
print([x.grad.tolist(), y.tolist(), name(y.grad_fn)])
""",
    "base_only_reachable_from_view": """
v = (x * 2)[1:3]
v.mul_(w)
gc.collect()
v.sum().backward()
print([x.grad.tolist(), w.grad.tolist(), name(v.grad_fn)])
""",
    "middle_view_dropped": """
y = x * 2
a = y[1:]
b = a[1:]
del a
gc.collect()
b.mul_(w)
(y * k).sum().backward()
print([x.grad.tolist(), w.grad.tolist(), y.tolist()])
""",
    "graph_dropped_without_backward": """
y = x * 2
v = y[1:3]
v.mul_(w)
u = y[0:2]
y.exp_()
del y, v, u
gc.collect()
print([x.grad, w.grad, x._version])
""",
    "thousand_inplace_ops": """
y = x * 1
for i in range(1000):
    y[i % 3 : i % 3 + 2].mul_(1.001)
    y.view(2, 2)[i % 2].add_(w * 1e-4)
(y * k).sum().backward()
print([x.grad.tolist(), w.grad.tolist(), y.tolist(), y._version])
""",
    "large_base_small_views": """
x = m.ones(10**6, requires_grad=True)
start = time.perf_counter()
y = x * 2
for i in range(100):
    y[i : i + 3].mul_(1.01)
y[::100000].add_(w[0])
(y * 0.5).sum().backward()
fast = time.perf_counter() - start < 20
print([x.grad[:110].tolist(), x.grad.sum().item(), w.grad.tolist(), fast])
""",
}


@pytest.mark.parametrize("name", list(PROBES))
def test_probe_in_fresh_interpreter(name):
    code = PROBE_PRELUDE + PROBES[name]
    results = []
    for lib in ("torch", "gdlite"):
        proc = run_program(lib, code)
        assert proc.returncode == 0, (lib, proc.stderr[-3000:])
        results.append(ast.literal_eval(proc.stdout.strip().splitlines()[-1]))
    _assert_literals_close(results[1], results[0])


def _assert_literals_close(got, want):
    """Nested lists of numbers, strings, bools and None: numbers within float32
    tolerance (the two libraries may sum in different orders)."""
    if isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), (got, want)
        for a, b in zip(got, want, strict=True):
            _assert_literals_close(a, b)
    elif isinstance(want, float):
        assert_close(got, want, "float32", rtol=1e-4, atol=1e-5)
    else:
        assert got == want, (got, want)


# ------------------------------------------------- retain_grad and tensor hooks

# retain_grad() follows a tensor onto the node an in-place op (or a regenerated
# view) gives it; tensor hooks on a view stay on the node they were set on.
RETAIN_AND_HOOKS = {
    "in_place": "y = x * 2; y.retain_grad(); y.mul_(3); (y * k).sum().backward()\n"
    "out = [y.grad, x.grad]",
    "copy_slices_base": "y = x * 2; y.retain_grad(); y[1:3].mul_(3)\n"
    "(y * k).sum().backward(); out = [y.grad, x.grad]",
    "view_written": "y = x * 2; v = y[1:3]; v.retain_grad(); v.mul_(3)\n"
    "(y * k).sum().backward(); out = [v.grad, x.grad]",
    "view_regenerated": "y = x * 2; v = y[0:2]; v.retain_grad(); y.mul_(3)\n"
    "(v * k[:2]).sum().backward(); out = [v.grad, x.grad]",
    "hook_on_regenerated_view": "y = x * 2; v = y[0:2]; calls = []\n"
    "v.register_hook(lambda g: calls.append(1)); y.mul_(3); v.sum().backward()\n"
    "out = [len(calls), x.grad]",
}


@pytest.mark.parametrize("name", list(RETAIN_AND_HOOKS))
def test_retain_grad_and_hooks_follow_torch(name):
    g, t = _both(RETAIN_AND_HOOKS[name])
    _assert_same(g["out"], t["out"])


# Second derivatives through CopySlices and AsStridedBackward0 whose gradient
# carries a history (the view's part depends on the leaves): torch's values
# and node names, and the third derivative too where the graph goes on.
GRAPH_THROUGH_VIEWS = {
    "copy_slices": "y = x * x; y[1:3].mul_(w)\n"
    "g, = m.autograd.grad((y * y).sum(), x, create_graph=True)\n"
    "h, = m.autograd.grad((g * k).sum(), x, create_graph=True)\n"
    "out = [g, h, m.autograd.grad(h.sum(), w)[0]]",
    "index_assign": "y = x * 2; y[0] = x[1] ** 2\n"
    "g, = m.autograd.grad((y ** 2).sum(), x, create_graph=True)\n"
    "out = [g, m.autograd.grad(g.sum(), x)[0]]",
    "view_of_clone": "y = x.clone(); y[1:].mul_(x[:3])\n"
    "g, = m.autograd.grad((y ** 2 * k).sum(), x, create_graph=True)\n"
    "out = [g, m.autograd.grad(g.sum(), x)[0]]",
    "regenerated_view": "y = x * 2; v = y[0:2]; y.mul_(x)\n"
    "g, = m.autograd.grad((v ** 3).sum(), x, create_graph=True)\n"
    "out = [g, g.grad_fn, m.autograd.grad(g.sum(), x)[0]]",
    "regenerated_strided_view": "y = (x * c).view(2, 2); v = y.t()[1]\n"
    "y.add_(x.view(2, 2))\n"
    "g, = m.autograd.grad((v.exp() * w).sum(), x, create_graph=True)\n"
    "out = [g, m.autograd.grad((g * k).sum(), [x, c, w])]",
    "hessian_vector": "y = x * 1.0; y[::2] = x[::2] ** 3\n"
    "g, = m.autograd.grad(y.sum(), x, create_graph=True)\n"
    "(g * k).sum().backward(); out = [g, x.grad]",
}


@pytest.mark.parametrize("name", list(GRAPH_THROUGH_VIEWS))
def test_create_graph_through_in_place_views_matches_torch(name):
    g, t = _both(GRAPH_THROUGH_VIEWS[name])
    for a, b in zip(g["out"], t["out"], strict=True):
        if isinstance(b, tuple):
            _assert_same(list(a), list(b))
        else:
            _assert_same([a], [b])


def test_create_graph_through_copy_slices_without_history_matches_torch():
    """A constant factor leaves the view's gradient without history: the
    second derivative is torch's."""
    code = (
        "y = x * x; y[1:3].mul_(3); y[::2].add_(w)\n"
        "g, = m.autograd.grad(y.sum(), x, create_graph=True)\n"
        "(g * k).sum().backward(); out = [g, x.grad, w.grad]"
    )
    g, t = _both(code)
    _assert_same(g["out"], t["out"])
