"""Autograd semantics against the installed torch: leaves and grad_fn, .grad
accumulation, backward's arguments and errors, grad modes, detach/.data,
version counters, autograd.grad, gradcheck, hooks and in-place ops.

Most programs are one line of Python run unchanged with ``m`` bound to gdlite
and to torch (see ``_run``); torch's messages are read at test time, never
copied into the tests."""

from __future__ import annotations

import sys
import threading
import warnings

import numpy as np
import pytest
import torch
from autograd_helpers import (
    assert_close,
    assert_same_error,
    assert_same_node_name,
    assert_same_values,
    gdlite_text,
    graph_names,
    node_name,
    run_both,
    to_np,
)

import gdlite as G

LIBS = pytest.mark.parametrize("m", [G, torch], ids=["gdlite", "torch"])


def _run(m, code):
    """Runs ``code`` with x, y (leaves that require grad) and w (a plain
    tensor) of three floats each; returns the value it leaves in ``out``."""
    scope = {
        "m": m,
        "x": m.tensor([1.0, 2.0, 3.0], requires_grad=True),
        "y": m.tensor([0.5, -1.5, 2.0], requires_grad=True),
        "w": m.tensor([2.0, 1.0, -1.0]),
    }
    exec(code, scope)
    return scope.get("out")


def _both(code):
    return _run(G, code), _run(torch, code)


# ---------------------------------------------------------------- requires_grad

FACTORIES = (
    "tensor([1.0, 2.0], {}); ones(2, 3, {}); zeros(2, {}); "
    "full((2,), 3.0, {}); arange(3.0, {}); linspace(0, 1, 3, {}); "
    "randn(2, {}); rand(2, {}); empty(2, {}); eye(2, {}); "
    "zeros_like(w, {}); ones_like(w, {}); full_like(w, 2.0, {}); "
    "empty_like(w, {})"
).split("; ")


@pytest.mark.parametrize("call", FACTORIES)
def test_requires_grad_at_creation(call):
    for m in (torch, G):
        t = _run(m, "out = m." + call.format("requires_grad=True"))
        assert t.requires_grad and t.is_leaf and t.grad_fn is None and t.grad is None
        assert not _run(m, "out = m." + call.format("")).requires_grad


@LIBS
def test_requires_grad_attribute_and_method(m):
    x = m.ones(3)
    assert not x.requires_grad
    x.requires_grad = True
    assert x.requires_grad and x.is_leaf
    assert x.requires_grad_(False) is x and not x.requires_grad
    assert x.requires_grad_() is x and x.requires_grad
    out = x * m.arange(3)
    assert out.requires_grad and not (m.arange(3) + 1).requires_grad


# Each program raises; gdlite must raise torch's type and message (cut after
# the given text where gdlite omits torch's trailing anomaly-detection hint).
ERRORS = {
    # only floating tensors require grad
    "int_creation": "m.tensor([1, 2], requires_grad=True)",
    "int_attribute": "t = m.tensor([1, 2]); t.requires_grad = True",
    "int_method": "m.tensor([1, 2]).requires_grad_()",
    "bool_method": "m.tensor([True]).requires_grad_()",
    "int_arange": "m.arange(3, requires_grad=True)",
    "int32_method": "m.ones(2, dtype=m.int32).requires_grad_()",
    "non_leaf_flag_off": "z = x * 2; z.requires_grad = False",
    "non_leaf_flag_on": "z = x * 2; z.requires_grad = True",
    # backward's arguments
    "non_scalar": "(x * 2).backward()",
    "wrong_shape": "(x * 2).backward(m.ones(2))",
    "no_graph": "w.sum().backward()",
    "leaf_without_grad": "m.ones(()).backward()",
    "twice_mul_scalar": "z = (x * 2).sum(); z.backward(); z.backward()",
    "twice_square": "z = (x * x).sum(); z.backward(); z.backward()",
    "twice_exp": "z = x.exp().sum(); z.backward(); z.backward()",
    "grad_twice": "z = (x * x).sum(); m.autograd.grad(z, x); m.autograd.grad(z, x)",
    "unused_input": "m.autograd.grad((x * 2).sum(), [x, y])",
    "input_without_grad": "m.autograd.grad((x * 2).sum(), [w])",
    "numpy_leaf": "x.numpy()",
    "numpy_non_leaf": "(x * 2).numpy()",
    # in-place ops on a leaf that requires grad, or on a view of one
    "leaf_method": "x.add_(1)",
    "leaf_operator": "x *= 2",
    "leaf_zero": "x.zero_()",
    "leaf_setitem": "x[0] = 1.0",
    "leaf_setitem_mask": "x[x > 1] = 0.0",
    "leaf_view_method": "x.view(3, 1).add_(1)",
    "leaf_select_method": "x[0].mul_(2)",
    "leaf_slice_fill": "x[1:].fill_(0)",
    "leaf_copy": "x.view(1, 3).t().copy_(w.view(3, 1))",
}
# A saved tensor changed in place before backward: the version-counter error.
VERSION_ERRORS = {
    "saved_result": "z = x.exp(); z.add_(1); z.sum().backward()",
    "saved_input": "z = x * 1; out = z * z; z.mul_(2); out.sum().backward()",
    "saved_plain_operand": "out = x * w; w.add_(1); out.sum().backward()",
    "via_detach": "z = x.sigmoid(); z.detach().mul_(2); z.sum().backward()",
    "setitem": "z = x.exp(); z[x > 1] = 1.0; z.sum().backward()",
    "unary_chain": "z = x * 3; z.sigmoid_().exp_(); z.sum().backward()",
    "twice_bumped": "z = x.tanh(); z.add_(1).add_(1); z.sum().backward()",
}


@pytest.mark.parametrize("name", list(ERRORS) + list(VERSION_ERRORS))
def test_errors_match_torch(name):
    code = ERRORS.get(name) or VERSION_ERRORS[name]
    upto = None if name in ERRORS else "instead."
    assert_same_error(lambda m: _run(m, code), upto=upto)


# ------------------------------------------------------------ leaves and graphs

LEAVES = (
    "out = x | out = w * 3 | out = x * 2 | out = x + w | "
    "out = (x * 2).detach() | out = x.view(3, 1) | out = x[0] | "
    "out = x.sum() | with m.no_grad(): out = x * 2 | "
    "out = m.tensor([1.5, 2.0], dtype=m.float64).requires_grad_() | "
    "out = x.double() * 2.5 | out = x.mean()"
).split(" | ")


@pytest.mark.parametrize("code", LEAVES)
def test_is_leaf_requires_grad_and_repr(code):
    g, t = _both(code)
    assert (g.is_leaf, g.requires_grad) == (t.is_leaf, t.requires_grad)
    assert node_name(g.grad_fn) == node_name(t.grad_fn)
    assert repr(g) == gdlite_text(repr(t))


GRAPHS = (
    "x * 2 | x + 1 | x.mean() | x ** 2 | x ** y | "
    "((x * y).exp() + x).sum() | (x * x) + (x * y) | x * w | "
    "(x - y).abs().mean(0) | (x / y).sub(y)"
).split(" | ")


@pytest.mark.parametrize("expr", GRAPHS)
def test_grad_fn_names_and_next_functions(expr):
    g, t = _both("out = " + expr)
    assert graph_names(g.grad_fn) == graph_names(t.grad_fn)
    assert repr(g) == gdlite_text(repr(t))


def test_accumulate_grad_node_points_at_the_leaf():
    x = G.ones(2, requires_grad=True)
    (acc, _), (none, _) = (x * G.ones(2)).grad_fn.next_functions
    assert acc.variable is x and none is None


# ----------------------------------------------------------------------- .grad

GRAD_STEPS = """
out = [x.grad]
(3 * x).sum().backward(); out.append(x.grad.clone())
(3 * x).sum().backward(); out.append(x.grad.clone())
x.grad.zero_(); out.append(x.grad.clone())
(x * x).sum().backward(); x.grad.data.zero_(); out.append(x.grad.clone())
x.grad = m.full((3,), 5.0); x.sum().backward(); out.append(x.grad)
x.grad = None; out.append(x.grad)
"""


def test_grad_is_none_accumulates_and_zeroes():
    g, t = _both(GRAD_STEPS)
    for a, b in zip(g, t, strict=True):
        assert_same_values(a, b)
    assert g[0] is None and g[-1] is None and to_np(g[2]).tolist() == [6.0] * 3


def test_retain_grad_and_non_leaf_warning():
    def program(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y, z = x * 3, x * 4
        y.retain_grad()
        (y * z).sum().backward()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert z.grad is None
        return y.grad, [y.retains_grad, z.retains_grad, x.retains_grad], caught

    (gg, gflags, gwarn), (tg, tflags, twarn) = run_both(program)
    assert_same_values(gg, tg)
    assert gflags == tflags
    assert len(gwarn) == len(twarn) == 1
    assert gwarn[0].category is twarn[0].category
    # torch appends where in its C++ source the warning was raised.
    tmsg, end = str(twarn[0].message), "for more information."
    assert str(gwarn[0].message) == tmsg[: tmsg.index(end) + len(end)]


# ------------------------------------------------------------------- backward

BACKWARDS = [
    # No saved tensors: the graph survives a backward.
    "z = (x + 1).sum(); z.backward(); z.backward()",
    "z = (x - 1).mean(); z.backward(); z.backward()",
    "z = x.sum() + x.sum(); z.backward(); z.backward()",
    "z = x.view(3, 1).sum(); z.backward(); z.backward()",
    # retain_graph=True keeps saved tensors for a second pass.
    "z = (x * x).sum(); z.backward(retain_graph=True); z.backward()",
    "z = (x * 2).exp().sum(); z.backward(retain_graph=True); z.backward()",
    # a gradient for a non-scalar output
    "(x * y).backward(gradient=m.tensor([1.0, 0.5, -2.0]))",
    "(x.view(3, 1) * w).backward(m.ones(3, 3))",
]


@pytest.mark.parametrize("code", BACKWARDS)
def test_backward_variants(code):
    g, t = _both(code + "; out = [x.grad, y.grad]")
    for a, b in zip(g, t, strict=True):
        assert_same_values(a, b)


# ----------------------------------------------------------------- grad modes

GRAD_MODES = """
@m.no_grad()
def f(t): return t * 2
@m.set_grad_enabled(False)
def h(t): return t * 2
@m.enable_grad()
def k(t): return t * 2
with m.no_grad():
    a = x * 2
    with m.enable_grad():
        b = x * 2
    e = k(x)
    seen = [m.is_grad_enabled()]
with m.set_grad_enabled(False):
    c = x * 2
m.set_grad_enabled(False)
d = x * 2
m.set_grad_enabled(True)
out = seen + [(t.requires_grad, t.is_leaf) for t in (a, b, c, d, e, f(x), h(x))]
out.append(m.is_grad_enabled())
"""


def test_no_grad_enable_grad_set_grad_enabled():
    g, t = _both(GRAD_MODES)
    assert g == t
    assert g[1] == (False, True) and g[2] == (True, False) and g[-1] is True


@LIBS
def test_grad_mode_is_thread_local(m):
    seen = {}

    def worker():
        x = m.ones(2, requires_grad=True)
        seen["enabled"] = m.is_grad_enabled()
        seen["requires_grad"] = (x * 2).requires_grad

    with m.no_grad():
        th = threading.Thread(target=worker)
        th.start()
        th.join()
        assert not m.is_grad_enabled()
    assert seen == {"enabled": True, "requires_grad": True}


def test_inplace_update_of_leaf_under_no_grad_keeps_it_a_leaf():
    code = """
(x * x).sum().backward()
with m.no_grad():
    x -= 0.1 * x.grad
    x.add_(1.0)
    x[0] = 5.0
x.grad.zero_()
out = [x, x.is_leaf, x.requires_grad, x.grad_fn]
"""
    (gx, *g), (tx, *t) = _both(code)
    assert_same_values(gx, tx)
    assert g == t == [True, True, None]


# ------------------------------------------------------------- detach / .data


def test_detach_shares_storage_and_version_counter():
    code = """
z = x.exp()
d = z.detach()
out = [d.is_leaf, d.requires_grad, d.data_ptr() == z.data_ptr(), z._version]
d.zero_()
out += [z._version, d._version, z.tolist()]
u = x * 2
out += [u.detach_() is u, u.is_leaf, u.requires_grad, u.grad_fn]
"""
    g, t = _both(code)
    assert g == t
    assert g[4] == g[5] == 1 and g[6] == [0.0, 0.0, 0.0]


def test_data_shares_storage_without_version_tracking():
    code = """
z = x.exp()
z.data.zero_()
out = [z._version, z.data.requires_grad, z.data.is_leaf]
z.sum().backward()
x.data = m.tensor([4.0, 5.0, 6.0])
out += [x.is_leaf, x.requires_grad, x._version, x.grad, x]
"""
    g, t = _both(code)
    assert g[:6] == t[:6]
    for a, b in zip(g[6:], t[6:], strict=True):
        assert_same_values(a, b)
    # .data hides the change from autograd: the gradient silently becomes 0.
    assert to_np(g[6]).tolist() == [0.0, 0.0, 0.0]


# ------------------------------------------------------------- autograd.grad

AUTOGRAD_GRAD = """
z = m.tensor([1.0], requires_grad=True)
loss = (x * y * x).sum()
gx, gy = m.autograd.grad(loss, (x, y), retain_graph=True)
(g_out,) = m.autograd.grad(x * y, [x], grad_outputs=m.tensor([1.0, 2.0, 3.0]))
unused = m.autograd.grad(loss, [x, z], allow_unused=True)
out = [gx, gy, g_out, *unused, x.grad, y.grad, z.grad]
"""


def test_autograd_grad_does_not_touch_grad():
    g, t = _both(AUTOGRAD_GRAD)
    for a, b in zip(g, t, strict=True):
        assert_same_values(a, b)
    assert g[4] is None and g[5:] == [None, None, None]


# ------------------------------------------------------------------- gradcheck


def test_gradcheck_passes_on_correct_functions():
    x = G.tensor(np.linspace(0.2, 1.5, 6).reshape(2, 3), requires_grad=True)
    y = G.tensor(np.linspace(-1.0, 1.0, 3), requires_grad=True)
    assert x.dtype == y.dtype == G.float64
    assert G.autograd.gradcheck(lambda a, b: (a.sin() * b).sum(1) / a.sum(), (x, y))
    assert G.autograd.gradcheck(lambda a: (a @ a.t()).exp().mean(), (x,))


@LIBS
def test_gradcheck_detects_a_wrong_gradient(m):
    # The detached factor is a constant to autograd, so the analytic gradient
    # is x instead of 2x.
    def wrong_square(x):
        return x * x.detach()

    x = m.tensor([0.5, 1.5, -2.0], dtype=m.float64, requires_grad=True)
    error = sys.modules[m.__name__ + ".autograd.gradcheck"].GradcheckError
    with pytest.raises(error) as info:
        m.autograd.gradcheck(wrong_square, (x,))
    assert isinstance(info.value, RuntimeError)
    assert m.autograd.gradcheck(wrong_square, (x,), raise_exception=False) is False


# ------------------------------------------------------------------------ hooks

HOOKS = """
seen = []
z = x * x
z.register_hook(lambda g: seen.append(g.clone()))
z.register_hook(lambda g: g * 10)
hx = x.register_hook(lambda g: seen.append(g.clone()))
x.register_hook(lambda g: g + 1)
y.register_hook(lambda g: None)
(z + y * 5).sum().backward(retain_graph=True)
first = x.grad.clone()
hx.remove()
x.grad = None
z.sum().backward()
out = [len(seen), *seen, first, x.grad, y.grad]
"""


def test_hooks_on_leaves_and_non_leaves():
    g, t = _both(HOOKS)
    assert g[0] == t[0] == 3
    for a, b in zip(g[1:], t[1:], strict=True):
        assert_same_values(a, b)


# ----------------------------------------------------------------- deep graphs


@pytest.mark.parametrize("op", ["mul", "add"])
def test_deep_graph_backward_and_free(op):
    n = 100_000
    x = G.tensor(1.0, dtype=G.float64, requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0001 if op == "mul" else y + 0
    y.backward()
    assert_close(x.grad.item(), 1.0001**n if op == "mul" else 1.0, rtol=1e-9)
    del y  # frees 100,000 nodes in one go
    z = x
    for _ in range(n):
        z = z * 1.0001 if op == "mul" else z + 0
    del z  # a graph never run backward is freed as well
    assert x.grad is not None


# ------------------------------------------------------ in-place on non-leaves

NON_LEAF_INPLACE = [
    "z = x * 2; z += 1",
    "z = x.clone(); z[0] = 0",
    "z = x * 1; z.mul_(x)",
    "z = x.clone(); z[x > 1] = 1.0",
    "z = x * x; z[[0, 2]] = y[1:3]",
    "z = x.clone(); z[1:3] = x[:2] * y[:2]",
    "z = x + 0; z.sub_(x).add_(x * y).div_(2)",
    "z = x * 3; z.neg_().sin_().tanh_()",
    "z = x - 1.5; z.relu_()",
    "z = x * 2; z.clamp_(-1.0, 3.0)",
    "z = x + 1; z.pow_(2)",
    "z = x.clone(); z.mul_(z.sum())",
]


@pytest.mark.parametrize("code", NON_LEAF_INPLACE)
def test_inplace_on_non_leaf(code):
    tail = "; (z * m.tensor([1.0, 2.0, 3.0])).sum().backward()"
    g, t = _both(code + tail + "; out = [z, x.grad, y.grad, z.grad_fn, z.is_leaf]")
    for a, b in zip(g[:3], t[:3], strict=True):
        assert_same_values(a, b)
    assert_same_node_name(node_name(g[3]), node_name(t[3]))
    assert g[4] is t[4] is False


@pytest.mark.parametrize(
    "code, grad",
    [("z = x * 2; z += 1", [2, 2, 2]), ("z = x.clone(); z[0] = 0", [0, 1, 1])],
)
def test_inplace_on_non_leaf_examples(code, grad):
    assert to_np(_run(G, code + "; z.sum().backward(); out = x.grad")).tolist() == grad


# ---------------------------------------------------------- course identities

# program (leaving its results in ``out``): the course's values; torch must
# agree with gdlite too.
COURSE = {
    "x = m.tensor(2.0, requires_grad=True); y = x**2; y.backward()\n"
    "out = [y, x.grad]": [4, 4],
    "x = m.tensor(2.0, requires_grad=True); y = x**2 + 2*x + 1; y.backward()\n"
    "out = [y, x.grad]": [9, 6],
    "u, v = m.tensor(1.0, requires_grad=True), m.tensor(2.0, requires_grad=True)\n"
    "f = u*v + u**2; f.backward(); out = [f, u.grad, v.grad]": [3, 4, 1],
    "x = m.arange(4.0); x.requires_grad_(True); assert x.grad is None\n"
    "y = 2 * m.dot(x, x); y.backward(); out = [y, x.grad]": [28, [0, 4, 8, 12]],
    "x = m.arange(4.0, requires_grad=True); (2 * m.dot(x, x)).backward()\n"
    "x.grad.zero_(); x.sum().backward(); out = [x.grad]": [[1, 1, 1, 1]],
    "x = m.arange(4.0, requires_grad=True); u = (x * x).detach()\n"
    "(u * x).sum().backward(); out = [x.grad, u]": [[0, 1, 4, 9], [0, 1, 4, 9]],
    "x = m.arange(4.0, requires_grad=True); (x * x).sum().backward()\n"
    "(x * x).sum().backward(); out = [x.grad]": [[0, 4, 8, 12]],
    "x = m.linspace(-10, 10, 10, requires_grad=True)\n"
    "m.sum(x**2).backward(); out = [x.grad, x.grad - 2 * x]": [None, 0],
    "x = m.linspace(-3, 3, 100, requires_grad=True)\n"
    "m.relu(x).sum().backward(); out = [x.grad, x.grad.sum()]": [None, 50],
}


@pytest.mark.parametrize("code", list(COURSE))
def test_course_identities(code):
    g, t = _both(code)
    for a, b, e in zip(g, t, COURSE[code], strict=True):
        assert_same_values(a, b)
        if e is not None:
            assert_close(to_np(a), np.broadcast_to(e, a.shape), "float32")


def test_manual_sgd_matches_torch():
    def program(m):
        x = m.arange(-3, 3, 0.1).view(-1, 1)
        y = -3 * x + 1
        w = m.tensor(-15.0, requires_grad=True)
        b = m.tensor(-10.0, requires_grad=True)
        lr, losses = 0.1, []
        for _ in range(20):
            loss = m.mean((w * x + b - y) ** 2)
            losses.append(loss.item())
            loss.backward()
            with m.no_grad():
                w -= lr * w.grad
                b -= lr * b.grad
            w.grad.zero_()
            b.grad.zero_()
        return [w, b, m.tensor(losses)], (w.is_leaf, b.is_leaf, w.grad_fn)

    (g, gflags), (t, tflags) = run_both(program)
    for a, c in zip(g, t, strict=True):
        assert_same_values(a, c, rtol=1e-6, atol=0)
    assert gflags == tflags == (True, True, None)
    assert abs(g[0].item() + 3) < abs(-15 + 3)
