"""Memory of the autograd graph: a training loop keeps no objects or bytes,
a graph and its saved tensors are freed when the outputs go (or after a
backward that does not retain the graph), and reference counts of the tensors
handed to autograd come back to where they were.

Tensor storage lives on the C heap, so large tensors are tracked with glibc's
mallinfo2 (the process's own allocator statistics); Python-side objects with
gc.get_objects and tracemalloc."""

from __future__ import annotations

import gc
import sys
import tracemalloc
import weakref

import pytest
import torch
from c_heap import C_HEAP_BYTES, needs_heap

import gdlite as G

ITERATIONS = 2000
WARMUP = 200
BIG = 4_000_000  # float32 elements: 16 MB, far above allocator noise


def _make_params():
    w = G.randn(8, 4, requires_grad=True)
    b = G.zeros(4, requires_grad=True)
    x = G.randn(16, 8)
    return w, b, x


def _train_step(w, b, x):
    """One forward/backward/zero-grad step touching many node types."""
    h = (x @ w + b).relu()
    loss = (h.sigmoid() * h.exp().clamp(max=5.0)).mean() + (w**2).sum() * 1e-3
    loss = loss + h[:, [0, 2, 2]].sum() * 0.1 + h.max(1).values.std()
    loss.backward()
    with G.no_grad():
        w -= 0.01 * w.grad
        b -= 0.01 * b.grad
    w.grad.zero_()
    b.grad = None


def _hooked_step(w, b, x):
    h = x @ w
    h.register_hook(lambda g: g * 0.5)
    handle = w.register_hook(lambda g: None)
    G.autograd.grad((h + b).tanh().sum(), [w, b])
    handle.remove()


def _failing_step(w, b, x):
    y = (x @ w).exp()
    for fail in (lambda: y.backward(), lambda: G.autograd.grad(y.sum(), [x])):
        try:
            fail()
        except RuntimeError:
            pass
    z = (x @ w).exp()
    out = z.sum()
    z.add_(1)
    try:
        out.backward()
    except RuntimeError:
        pass
    loss = (x @ w).sum() * 2
    loss.backward()
    try:
        (w * w).sum().backward() or loss.backward()
    except RuntimeError:
        pass


LOOPS = {"train": _train_step, "hooks_and_grad": _hooked_step, "errors": _failing_step}


def _repeat(step, n, params):
    for _ in range(n):
        step(*params)


@pytest.mark.parametrize("name", list(LOOPS))
def test_no_growth_in_python_objects(name):
    params = _make_params()
    _repeat(LOOPS[name], WARMUP, params)
    gc.collect()
    before = len(gc.get_objects())
    _repeat(LOOPS[name], ITERATIONS, params)
    gc.collect()
    assert len(gc.get_objects()) - before < 10


@pytest.mark.parametrize("name", list(LOOPS))
def test_no_growth_in_traced_memory(name):
    params = _make_params()
    _repeat(LOOPS[name], WARMUP, params)
    tracemalloc.start()
    try:
        _repeat(LOOPS[name], WARMUP, params)
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        _repeat(LOOPS[name], ITERATIONS, params)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < ITERATIONS * 4


@needs_heap
@pytest.mark.parametrize("name", list(LOOPS))
def test_no_growth_in_c_heap(name):
    params = _make_params()
    _repeat(LOOPS[name], WARMUP, params)
    gc.collect()
    before = C_HEAP_BYTES()
    _repeat(LOOPS[name], ITERATIONS, params)
    gc.collect()
    # A leaked node or tensor header alone is larger than 8 bytes an iteration.
    assert C_HEAP_BYTES() - before < ITERATIONS * 8


# ----------------------------------------------------------- freeing graphs


def _graph_with_big_saved_tensors(x):
    """A graph whose nodes save tensors of BIG elements, and weak references
    to its intermediate Python tensors."""
    big = x.expand(BIG).exp()  # ExpBackward0 and MulBackward0 save it
    y = big * big  # not saved by anything
    root = y.sqrt()  # SqrtBackward0 saves its result
    out = root.mean()
    return out, [weakref.ref(t) for t in (big, y, root)]


@needs_heap
def test_deleting_the_output_frees_the_graph():
    x = G.tensor([0.5], requires_grad=True)
    gc.collect()
    base = C_HEAP_BYTES()
    out, refs = _graph_with_big_saved_tensors(x)
    gc.collect()
    held = C_HEAP_BYTES() - base
    assert held > 1.5 * BIG * 4  # big and root, saved by the graph
    assert all(r() is None for r in refs)  # Python wrappers are gone already
    node = weakref.ref(out)
    del out
    gc.collect()
    assert node() is None
    assert C_HEAP_BYTES() - base < BIG  # every BIG-element tensor is gone


@needs_heap
def test_backward_frees_saved_tensors_but_retain_graph_keeps_them():
    x = G.tensor([0.5], requires_grad=True)
    gc.collect()
    base = C_HEAP_BYTES()
    out, _ = _graph_with_big_saved_tensors(x)
    out.backward(retain_graph=True)
    gc.collect()
    assert C_HEAP_BYTES() - base > 1.5 * BIG * 4
    out.backward()
    gc.collect()
    # The output is still alive, but its graph no longer holds saved tensors.
    assert C_HEAP_BYTES() - base < BIG
    assert x.grad is not None
    del out
    gc.collect()
    assert C_HEAP_BYTES() - base < BIG


@needs_heap
def test_autograd_grad_frees_saved_tensors():
    x = G.tensor([0.5], requires_grad=True)
    gc.collect()
    base = C_HEAP_BYTES()
    out, _ = _graph_with_big_saved_tensors(x)
    (g,) = G.autograd.grad(out, [x])
    gc.collect()
    assert C_HEAP_BYTES() - base < BIG
    assert x.grad is None and g.shape == x.shape


def test_intermediate_tensors_are_freed_with_the_graph():
    x = G.randn(3, requires_grad=True)
    a = x * 2
    b = a.exp()
    c = b.sum()
    refs = [weakref.ref(t) for t in (a, b, c)]
    a.retain_grad()
    c.backward()
    del a, b, c
    gc.collect()
    assert [r() for r in refs] == [None, None, None]


@pytest.mark.parametrize("m", [G, torch], ids=["gdlite", "torch"])
def test_hook_closures_are_released(m):
    class Payload:
        pass

    x = m.ones(2, requires_grad=True)
    payload = Payload()
    ref = weakref.ref(payload)
    handle = x.register_hook(lambda g, p=payload: g)
    y = x * 2
    y.register_hook(lambda g, p=payload: g)
    del payload
    y.sum().backward()
    handle.remove()
    del y
    gc.collect()
    assert ref() is None


@pytest.mark.parametrize("m", [G, torch], ids=["gdlite", "torch"])
def test_leaf_hook_referring_to_its_tensor_is_collected(m):
    # A hook that closes over its own leaf makes a reference cycle; torch's
    # garbage collector sees through the hook and frees both.
    x = m.ones(2, requires_grad=True)
    x.register_hook(lambda g, x=x: g)
    ref = weakref.ref(x)
    del x
    gc.collect()
    assert ref() is None


# --------------------------------------------------------- reference counts

REFCOUNT_CASES = {
    "backward": lambda x, w, g: (x * w).sum().backward(),
    "backward_gradient": lambda x, w, g: (x * w).backward(g),
    "retained": lambda x, w, g: (x.exp() * w).sum().backward(retain_graph=True),
    "autograd_grad": lambda x, w, g: G.autograd.grad((x * w).sum(), [x]),
    "grad_outputs": lambda x, w, g: G.autograd.grad(x * w, (x,), grad_outputs=g),
    "views": lambda x, w, g: (x.t().reshape(-1)[::2] * 3).sum().backward(),
    "inplace_non_leaf": lambda x, w, g: (x * 1).mul_(w).sum().backward(),
    "index": lambda x, w, g: x[[0, 1, 1]].sum().backward(),
    "no_grad": lambda x, w, g: _no_grad(lambda: x * w),
    "hook": lambda x, w, g: x.register_hook(lambda t: t).remove(),
    "failing": lambda x, w, g: _swallow(lambda: (x * w).backward()),
}


def _no_grad(fn):
    with G.no_grad():
        return fn()


def _swallow(fn):
    try:
        fn()
    except RuntimeError:
        pass


@pytest.mark.parametrize("name", list(REFCOUNT_CASES))
def test_refcounts_back_to_baseline(name):
    x = G.randn(2, 2, requires_grad=True)
    w = G.randn(2, 2)
    g = G.ones(2, 2)
    REFCOUNT_CASES[name](x, w, g)  # the first run creates .grad
    gc.collect()
    tensors = [t for t in (x, w, g, x.grad) if t is not None]
    before = [sys.getrefcount(t) for t in tensors]
    for _ in range(5):
        REFCOUNT_CASES[name](x, w, g)
    gc.collect()
    assert [sys.getrefcount(t) for t in tensors] == before
