"""Tensors of many dimensions (up to 64, NumPy's limit), checked against torch.

Shapes keep few elements (mostly size-1 dims) so that 64-d tensors stay small;
the few dims of size 2 or 3 sit at both ends and in the middle, so that views,
broadcasting and reductions have real work across the whole dim range.
"""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

import gdlite

NDIMS = (17, 25, 64)


def shape_of(nd: int) -> list[int]:
    shape = [1] * nd
    shape[0], shape[nd // 2], shape[-1] = 2, 3, 2
    return shape


def data(shape: list[int], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def same(fn, *arrays: np.ndarray, grad: bool = False) -> None:
    """fn(lib, *tensors) gives the same values and shape in torch and gdlite;
    with grad, so do the gradients of its sum with respect to every input."""
    results = []
    for lib in (torch, gdlite):
        ts = [lib.tensor(a, requires_grad=grad) for a in arrays]
        out = fn(lib, *ts)
        if grad:
            out.sum().backward()
        grads = [t.grad.numpy() for t in ts] if grad else []
        results.append((list(out.shape), out.detach().numpy(), grads))
    (tshape, tval, tgrads), (gshape, gval, ggrads) = results
    assert gshape == tshape
    assert gval.dtype == tval.dtype
    np.testing.assert_allclose(gval, tval, rtol=1e-6, atol=1e-12)
    for gg, tg in zip(ggrads, tgrads, strict=True):
        assert gg.shape == tg.shape
        np.testing.assert_allclose(gg, tg, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("nd", NDIMS)
def test_creation(nd: int) -> None:
    shape = shape_of(nd)
    for name in ("zeros", "ones", "empty"):
        assert list(getattr(gdlite, name)(shape).shape) == list(
            getattr(torch, name)(shape).shape
        )
    gdlite.manual_seed(0)
    assert list(gdlite.rand(shape).shape) == shape
    same(lambda lib: lib.full(shape, 2.5))
    same(lambda lib, x: x, data(shape))


@pytest.mark.parametrize("nd", NDIMS)
def test_numpy_round_trip(nd: int) -> None:
    x = data(shape_of(nd))
    back = gdlite.from_numpy(x).numpy()
    assert back.shape == x.shape
    np.testing.assert_array_equal(back, x)
    # a non-contiguous view survives the trip as well
    t = gdlite.from_numpy(x).permute(*range(nd - 1, -1, -1))
    np.testing.assert_array_equal(t.numpy(), x.transpose())
    np.testing.assert_array_equal(np.asarray(t.contiguous()), x.transpose())


def test_unsqueeze_up_to_64() -> None:
    x = data([2, 3])
    results = []
    for lib in (torch, gdlite):
        t = lib.tensor(x)
        shapes = []
        for k in range(62):
            t = t.unsqueeze(k % (t.dim() + 1))
            shapes.append(list(t.shape))
        results.append((shapes, t.numpy()))
    (tshapes, tval), (gshapes, gval) = results
    assert gshapes == tshapes
    assert gval.ndim == 64
    np.testing.assert_array_equal(gval, tval)


@pytest.mark.parametrize("nd", NDIMS)
def test_stack_to_nd(nd: int) -> None:
    a, b = data(shape_of(nd - 1), 1), data(shape_of(nd - 1), 2)
    for dim in (0, nd // 2, nd - 1, -1):
        same(lambda lib, p, q, d=dim: lib.stack([p, q * 2], d), a, b, grad=True)


@pytest.mark.parametrize("nd", NDIMS)
def test_none_indexing(nd: int) -> None:
    x = data([2, 3, 2])
    k = nd - 3
    same(lambda lib, t: t[(None,) * k], x, grad=True)
    same(lambda lib, t: t[(..., *(None,) * k)], x, grad=True)
    same(
        lambda lib, t: t[(None, 1, *(None,) * (k - 1), slice(None), None)], x, grad=True
    )
    same(lambda lib, t: t[(None,) * k][(0,) * k], x, grad=True)


@pytest.mark.parametrize("nd", NDIMS)
def test_elementwise_and_where(nd: int) -> None:
    shape = shape_of(nd)
    a, b, c = data(shape, 1), data(shape[-3:], 2), data(shape, 3)
    same(lambda lib, p, q: p * q + p.exp() - q / 2, a, b, grad=True)
    same(lambda lib, p, q: (p - q) ** 2, a, c, grad=True)
    same(lambda lib, p, q: lib.where(p > q, p, q * 3), a, c, grad=True)
    same(lambda lib, p: p.relu().sigmoid() * 2.0, a, grad=True)


@pytest.mark.parametrize("nd", NDIMS)
def test_reductions(nd: int) -> None:
    x = data(shape_of(nd))
    dims = (0, nd // 2, nd - 1)
    same(lambda lib, t: t.sum(), x, grad=True)
    same(lambda lib, t: t.sum(dim=dims), x, grad=True)
    same(lambda lib, t: t.sum(dim=dims, keepdim=True), x, grad=True)
    same(lambda lib, t: t.mean(dim=(1, nd // 2)), x, grad=True)
    same(lambda lib, t: t.mean(dim=tuple(range(nd)), keepdim=True), x, grad=True)
    same(lambda lib, t: t.amax(dim=nd // 2, keepdim=True), x, grad=True)
    same(lambda lib, t: t.max(dim=-1).values, x, grad=True)


@pytest.mark.parametrize("nd", NDIMS)
def test_views_and_copies(nd: int) -> None:
    shape = shape_of(nd)
    x = data(shape)
    rev = tuple(range(nd - 1, -1, -1))
    same(lambda lib, t: t.permute(*rev), x, grad=True)
    same(lambda lib, t: t.permute(*rev).contiguous(), x, grad=True)
    same(lambda lib, t: t.permute(*rev).clone() * 2, x, grad=True)
    same(lambda lib, t: t.transpose(0, nd - 1), x, grad=True)
    same(lambda lib, t: t.view(12), x, grad=True)
    same(lambda lib, t: t.reshape(shape[::-1]), x, grad=True)
    same(lambda lib, t: t.permute(*rev).reshape(-1), x, grad=True)
    same(lambda lib, t: t.view(12).view(shape), x, grad=True)
    same(lambda lib, t: t.squeeze().unsqueeze(0), x, grad=True)
    same(lambda lib, t: t.flatten(), x, grad=True)
    small = data([1] * (nd - 1) + [2])
    same(lambda lib, t: t.expand([3] + [1] * (nd - 2) + [2]), small, grad=True)
    same(
        lambda lib, t: t.expand(*([2] + [-1] * (nd - 1))) * 1.5,
        data([1] * nd),
        grad=True,
    )


@pytest.mark.parametrize("nd", NDIMS)
def test_matmul_batch_dims(nd: int) -> None:
    batch = [1] * (nd - 2)
    batch[0], batch[-1] = 2, 3
    a, b = data(batch + [2, 4], 1), data([4, 3], 2)
    same(lambda lib, p, q: lib.matmul(p, q), a, b, grad=True)
    c = data([1] * (nd - 4) + [3, 4, 2], 3)
    same(lambda lib, p, q: p @ q, a, c, grad=True)


@pytest.mark.parametrize("nd", NDIMS)
def test_cat(nd: int) -> None:
    shape = shape_of(nd)
    a, b = data(shape, 1), data(shape, 2)
    for dim in (0, nd // 2, -1):
        same(lambda lib, p, q, d=dim: lib.cat([p, q, p], d), a, b, grad=True)


def test_deep_backward_graph_at_64() -> None:
    """A chain of ops on 64-d tensors: every node keeps its inputs' shapes."""
    x = data(shape_of(64))

    def chain(lib, t):
        y = t
        for k in range(10):
            y = (
                (y * 1.1 + t)
                .permute(*range(63, -1, -1))
                .contiguous()
                .permute(*range(63, -1, -1))
            )
            y = y.sum(dim=k, keepdim=True) + y
        return y

    same(chain, x, grad=True)


# Past 64 dims gdlite refuses with one message (torch goes on); each probe
# runs in its own interpreter so that a crash is reported, not suffered.
OVER_LIMIT = {
    "zeros": "gdlite.zeros([1] * 65)",
    "nested_list": "gdlite.tensor(eval('[' * 65 + '0' + ']' * 65))",
    "unsqueeze": "T.unsqueeze(0)",
    "unsqueeze_view": "T.permute(*range(63, -1, -1)).unsqueeze(-1)",
    "numpy_unsqueeze": "gdlite.from_numpy(np.zeros([1] * 64)).unsqueeze(3)",
    "none": "T[None]",
    "none_after": "T[0, ..., None, None]",
    "advanced_index": "T[gdlite.zeros([1, 1], dtype=gdlite.int64)]",
    "stack": "gdlite.stack([T, T], 5)",
    "view": "T.view([1] * 65)",
    "reshape": "T.reshape([1] * 65)",
    "expand": "T.expand([1] * 65)",
    "broadcast": "T * gdlite.ones([1] * 65)",
    "matmul": "gdlite.matmul(T, gdlite.ones([1] * 65))",
    "where": "gdlite.where(T > 0, T, gdlite.ones([1] * 65))",
    "cat": "gdlite.cat([T[None], T[None]])",
    "backward": "T.clone().requires_grad_().unsqueeze(0).sum().backward()",
}
PROBE = """
import json, sys
import numpy as np
import gdlite
T = gdlite.zeros([1] * 64)
try:
    eval(sys.argv[1])
    print(json.dumps(["ok", ""]))
except Exception as e:
    print(json.dumps([type(e).__name__, str(e)]))
"""


@pytest.mark.parametrize("name", sorted(OVER_LIMIT))
def test_past_64_dims_is_a_clean_error(name: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, OVER_LIMIT[name]],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    kind, message = json.loads(proc.stdout.strip().splitlines()[-1])
    assert kind == "RuntimeError", message
    assert message.startswith("gdlite supports at most 64 dimensions, got 65"), message


def test_torch_accepts_what_gdlite_refuses() -> None:
    """The limit is gdlite's own: torch goes past it (so no torch message to match)."""
    t = torch.zeros([1] * 64)
    assert t.unsqueeze(0).dim() == 65
    assert t[None].dim() == 65
