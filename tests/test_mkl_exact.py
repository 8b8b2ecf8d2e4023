"""With Intel MKL loaded, the functions and products PyTorch takes from MKL
give PyTorch's bits: exp, log, tanh, sin, cos, tan and sqrt (and their
gradients), dot, mv and matrix products (and theirs), and the optimizers
whose steps take a square root. Oracle: torch 2.13 in the same process."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import gdlite

pytestmark = pytest.mark.skipif(
    not gdlite.backends.mkl.is_available(),
    reason="MKL is installed on x86-64 Linux only",
)

FUNCTIONS = ["exp", "log", "tanh", "sin", "cos", "tan", "sqrt"]
DTYPES = [np.float32, np.float64]


def bits_equal(got: np.ndarray, want: np.ndarray) -> bool:
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape or got.dtype != want.dtype:
        return False
    u = {4: np.uint32, 8: np.uint64}[got.dtype.itemsize]
    nan = np.isnan(got) & np.isnan(want)
    return bool(np.all((got.view(u) == want.view(u)) | nan))


def inputs(name: str, dtype, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lo, hi = {"log": (0, 50), "sqrt": (0, 1e6), "exp": (-100, 100)}.get(name, (-50, 50))
    x = rng.uniform(lo, hi, n)
    edges = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-310, -1.0, 1.0, 1e30]
    return np.concatenate([x, edges]).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", FUNCTIONS)
def test_functions_give_torchs_bits(name, dtype):
    # 100,009 elements: split across the worker pool in ATen's chunks.
    x = inputs(name, dtype, 100_000, seed=1)
    with np.errstate(all="ignore"):
        want = getattr(torch, name)(torch.from_numpy(x)).numpy()
        got = getattr(gdlite, name)(gdlite.from_numpy(x)).numpy()
    assert bits_equal(got, want)
    # strided and transposed inputs go through a buffer, as ATen's loop does
    m = x[: 300 * 301].reshape(300, 301)
    with np.errstate(all="ignore"):
        want = getattr(torch, name)(torch.from_numpy(m).t()[::2]).numpy()
        got = getattr(gdlite, name)(gdlite.from_numpy(m).t()[::2]).numpy()
    assert bits_equal(got, want)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_gradients_give_torchs_bits(name, dtype):
    x = np.abs(inputs(name, dtype, 3000, seed=2)[:3000]) + 0.5
    g = np.random.default_rng(3).normal(size=x.shape).astype(dtype)
    t = torch.tensor(x, requires_grad=True)
    getattr(torch, name)(t).backward(torch.tensor(g))
    a = gdlite.tensor(x, requires_grad=True)
    getattr(gdlite, name)(a).backward(gdlite.tensor(g))
    assert bits_equal(a.grad.numpy(), t.grad.numpy())


def test_half_power_is_mkls_sqrt_and_minus_half_is_not():
    x = np.random.default_rng(4).uniform(0, 100, 10_000).astype(np.float32)
    for e in (0.5, -0.5):
        want = (torch.from_numpy(x) ** e).numpy()
        assert bits_equal((gdlite.from_numpy(x) ** e).numpy(), want), e


def layouts(lib, x: np.ndarray, transposed: bool):
    """x as a contiguous tensor, or as a transposed matrix / strided vector."""
    if transposed and x.ndim == 2:
        return lib.tensor(x.T.copy()).t()
    if transposed:
        return lib.tensor(np.repeat(x, 2))[::2]
    return lib.tensor(x)


PRODUCT_SHAPES = [((k,), (k,)) for k in (1, 2, 7, 100, 5000, 100_003)]
PRODUCT_SHAPES += [((m, k), (k,)) for m, k in ((1, 1), (5, 3), (60, 1), (33, 100))]
PRODUCT_SHAPES += [((k,), (k, n)) for k, n in ((1, 1), (3, 5), (100, 17))]
PRODUCT_SHAPES += [
    ((m, k), (k, n))
    for m, k, n in ((1, 1, 1), (2, 2, 2), (60, 1, 1), (60, 2, 1), (3, 4, 5),
                    (16, 16, 16), (64, 64, 64), (100, 30, 7), (257, 129, 65))
]  # fmt: skip
# Products MKL would split across its threads that run on one thread here
# (at most 64 terms, both result dims from 8, up to 2**19 multiply-adds: an
# MLP's layers), at the rule's edges, and just past them.
PRODUCT_SHAPES += [
    ((m, k), (k, n))
    for m, k, n in ((32, 64, 128), (128, 32, 64), (8, 64, 1024), (100, 64, 50),
                    (9, 64, 700), (64, 65, 64), (7, 64, 1024), (8, 64, 1025))
]  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("sa", "sb"), PRODUCT_SHAPES)
def test_products_and_their_gradients_give_torchs_bits(sa, sb, dtype):
    rng = np.random.default_rng(len(sa) * 1000 + sa[0])
    a, b = rng.normal(size=sa).astype(dtype), rng.normal(size=sb).astype(dtype)
    for ta in (False, True):
        for tb in (False, True):
            at, bt = layouts(torch, a, ta), layouts(torch, b, tb)
            ag, bg = layouts(gdlite, a, ta), layouts(gdlite, b, tb)
            at.requires_grad_(), bt.requires_grad_()
            ag.requires_grad_(), bg.requires_grad_()
            want, got = at @ bt, ag @ bg
            assert bits_equal(got.detach().numpy(), want.detach().numpy())
            # mm's backward takes column-major products for column-major
            # inputs, mv's a transposed mv: each sums in its own order
            g = rng.normal(size=want.shape).astype(dtype)
            want.backward(torch.tensor(g))
            got.backward(gdlite.tensor(g))
            assert bits_equal(ag.grad.numpy(), at.grad.numpy())
            assert bits_equal(bg.grad.numpy(), bt.grad.numpy())


# Batched products: torch folds the batch into one mm or mv (a 3-D @ 2-D, or
# a 2-D @ 3-D whose small operand requires grad), squeezes a batch of one
# that requires grad, or runs bmm on both operands expanded to the batch
# (ATen's loop below 400 multiply-adds, else MKL's batch gemm); the
# gradients go back through the same steps.
BATCHED_SHAPES = [
    ((3, m, k), (k, n)) for m, k, n in ((2, 3, 4), (10, 10, 10), (20, 30, 1))
] + [
    ((m, k), (3, k, n)) for m, k, n in ((2, 3, 4), (10, 10, 10), (1, 64, 7))
] + [
    ((4, 5, 7), (4, 7, 3)), ((4, 16, 9), (4, 9, 8)), ((1, 5, 7), (4, 7, 3)),
    ((4, 5, 7), (1, 7, 3)), ((7,), (3, 7, 4)), ((3, 5, 7), (7,)),
    ((2, 3, 10, 10), (3, 10, 10)), ((3, 1, 8, 9), (2, 9, 8)), ((2, 3, 4), (4,)),
]  # fmt: skip


def batched_layouts(lib, x: np.ndarray, transposed: bool):
    """x as given, or a transposed view of its last two dims."""
    if transposed and x.ndim >= 2:
        return lib.tensor(np.swapaxes(x, -1, -2).copy()).transpose(-1, -2)
    return lib.tensor(x)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("sa", "sb"), BATCHED_SHAPES)
def test_batched_products_and_their_gradients_give_torchs_bits(sa, sb, dtype):
    rng = np.random.default_rng(sum(sa) * 100 + sum(sb))
    a, b = rng.normal(size=sa).astype(dtype), rng.normal(size=sb).astype(dtype)
    for ta in (False, True):
        for tb in (False, True):
            for grads in ((True, True), (True, False), (False, True)):
                at, bt = batched_layouts(torch, a, ta), batched_layouts(torch, b, tb)
                ag, bg = batched_layouts(gdlite, a, ta), batched_layouts(gdlite, b, tb)
                at.requires_grad_(grads[0]), bt.requires_grad_(grads[1])
                ag.requires_grad_(grads[0]), bg.requires_grad_(grads[1])
                want, got = at @ bt, ag @ bg
                case = (ta, tb, grads)
                assert bits_equal(got.detach().numpy(), want.detach().numpy()), case
                assert type(got.grad_fn).__name__ == type(want.grad_fn).__name__, case
                g = rng.normal(size=want.shape).astype(dtype)
                want.backward(torch.tensor(g))
                got.backward(gdlite.tensor(g))
                for gx, tx, on in ((ag, at, grads[0]), (bg, bt, grads[1])):
                    if on:
                        assert bits_equal(gx.grad.numpy(), tx.grad.numpy()), case


def test_fold_decision_of_large_operands_sees_requires_grad():
    # Large calls run on private aliases of their inputs; torch's choice to
    # fold (the small operand requires grad) must still see the flag.
    rng = np.random.default_rng(5)
    a = rng.normal(size=(120, 300, 4)).astype(np.float32)
    b = rng.normal(size=(4, 2)).astype(np.float32)
    at = torch.tensor(a).transpose(0, 1)  # not foldable without a copy
    ag = gdlite.tensor(a).transpose(0, 1)
    bt, bg = torch.tensor(b).requires_grad_(), gdlite.tensor(b).requires_grad_()
    want, got = at @ bt, ag @ bg
    assert bits_equal(got.detach().numpy(), want.detach().numpy())
    want.sum().backward(), got.sum().backward()
    assert bits_equal(bg.grad.numpy(), bt.grad.numpy())


SECOND_ORDER_SHAPES = [
    ((5, 7), (7,)), ((60, 30), (30,)), ((4, 6, 7), (7,)), ((7,), (7, 5)),
    ((30,), (30, 60)), ((7,), (7,)), ((6, 7), (7, 5)), ((3, 6, 7), (7, 5)),
]  # fmt: skip


def second_order(lib, arrays, dtype):
    """The first gradients of a @ b (with a graph) and the gradients of a
    weighted sum of them, for a, b and the first backward's seed."""
    xs = [lib.tensor(x, requires_grad=True) for x in arrays]
    y = xs[0] @ xs[1]
    seed = np.linspace(-1, 1, y.numel()).reshape(tuple(y.shape)).astype(dtype)
    go = lib.tensor(seed, requires_grad=True)
    grads = lib.autograd.grad(y, xs, go, create_graph=True)
    total = sum(
        (
            g * lib.tensor(np.linspace(0.5, 2, g.numel()).astype(dtype)).view(g.shape)
        ).sum()
        for g in grads
    )
    again = lib.autograd.grad(total, [*xs, go], materialize_grads=True)
    names = [type(g.grad_fn).__name__ for g in grads]
    return [t.detach().numpy() for t in (*grads, *again)], names


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("sa", "sb"), SECOND_ORDER_SHAPES)
def test_second_derivatives_of_products_give_torchs_bits(sa, sb, dtype):
    # mv's gradient for the matrix is grad.ger(vec), which torch computes as
    # grad.reshape(-1, 1) * vec: a MulBackward0 whose own gradients are sums
    rng = np.random.default_rng(len(sa) * 100 + sa[0])
    arrays = [rng.normal(size=sa).astype(dtype), rng.normal(size=sb).astype(dtype)]
    got, got_names = second_order(gdlite, arrays, dtype)
    want, want_names = second_order(torch, arrays, dtype)
    assert got_names == want_names
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert bits_equal(g, w), i


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_layer_gives_torchs_bits(dtype):
    # addmm: the bias is gemm's C, with beta 1
    rng = np.random.default_rng(5)
    x = rng.normal(size=(50, 3)).astype(dtype)
    w, b = rng.normal(size=(4, 3)).astype(dtype), rng.normal(size=4).astype(dtype)
    want = torch.nn.functional.linear(torch.tensor(x), torch.tensor(w), torch.tensor(b))
    got = gdlite.nn.functional.linear(
        gdlite.tensor(x), gdlite.tensor(w), gdlite.tensor(b)
    )
    assert bits_equal(got.numpy(), want.numpy())


OPTIMIZERS = [
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.01}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "maximize": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.9}),
    ("Adadelta", {"lr": 1.0}),
    ("NAdam", {"lr": 0.01}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("name", "kw"), OPTIMIZERS)
def test_optimizer_steps_give_torchs_bits(name, kw, dtype):
    # 300 elements: the loops take their roots in blocks of 128; the strided
    # parameter takes the general path.
    rng = np.random.default_rng(6)
    start = rng.normal(size=(300, 2)).astype(dtype)
    grads = rng.normal(size=(25, 300)).astype(dtype)
    runs = []
    for lib in (torch, gdlite):
        p = lib.tensor(start).t()[0].detach().requires_grad_()
        q = lib.tensor(start[:, 0].copy(), requires_grad=True)
        opt = getattr(lib.optim, name)([p, q], **kw)
        for g in grads:
            opt.zero_grad()
            p.grad = lib.tensor(g)
            q.grad = lib.tensor(g)
            opt.step()
        runs.append((p.detach().numpy().copy(), q.detach().numpy().copy()))
    assert bits_equal(runs[1][0], runs[0][0])
    assert bits_equal(runs[1][1], runs[0][1])


@pytest.mark.parametrize(
    ("name", "kw"),
    OPTIMIZERS + [("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True})],
)
def test_optimizer_steps_on_a_large_parameter_give_torchs_bits(name, kw):
    # 200,000 elements: the step runs in ATen's chunks on the worker pool
    rng = np.random.default_rng(8)
    start = rng.normal(size=200_000).astype(np.float32)
    grads = rng.normal(size=(3, 200_000)).astype(np.float32)
    runs = []
    for lib in (torch, gdlite):
        p = lib.tensor(start, requires_grad=True)
        opt = getattr(lib.optim, name)([p], **kw)
        for g in grads:
            p.grad = lib.tensor(g)
            opt.step()
        runs.append(p.detach().numpy().copy())
    assert bits_equal(runs[1], runs[0])


def test_adam_on_many_small_parameters_gives_torchs_bits():
    # Small contiguous parameters share one MKL call for their roots; sizes
    # up to and past the batch's room, both dtypes, a strided one between
    # them, and a parameter without a gradient.
    rng = np.random.default_rng(7)
    sizes = [1, 3, 10, 256, 257, 40, 7, 128, 255, 2, 90, 300, 5] * 4
    dtypes = [np.float32, np.float64, np.float32]
    starts = [rng.normal(size=n).astype(dtypes[i % 3]) for i, n in enumerate(sizes)]
    grads = [
        [rng.normal(size=x.size).astype(x.dtype) for x in starts] for _ in range(6)
    ]
    runs = []
    for lib in (torch, gdlite):
        ps = [lib.tensor(x, requires_grad=True) for x in starts]
        ps[5] = lib.tensor(np.repeat(starts[5], 2))[::2].detach().requires_grad_()
        opt = lib.optim.Adam(ps, lr=0.01)
        for gs in grads:
            opt.zero_grad()
            for i, (p, g) in enumerate(zip(ps, gs, strict=True)):
                p.grad = None if i == 9 else lib.tensor(g)
            opt.step()
        runs.append([p.detach().numpy().copy() for p in ps])
    for got, want in zip(runs[1], runs[0], strict=True):
        assert bits_equal(got, want)


def test_switching_mkl_off_gives_the_own_kernels(own_kernels):
    # The own float32 sqrt is correctly rounded, which MKL's is not for ~17%
    # of inputs: switched off, gdlite gives the nearest float everywhere.
    x = np.random.default_rng(7).uniform(0, 1e6, 100_000).astype(np.float32)
    got = gdlite.sqrt(gdlite.from_numpy(x)).numpy()
    assert bits_equal(got, np.sqrt(x.astype(np.float64)).astype(np.float32))
    assert not bits_equal(got, torch.sqrt(torch.from_numpy(x)).numpy())


def run_child(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_gdlite_mkl_0_keeps_mkl_out():
    r = run_child(
        "import gdlite; print(gdlite.backends.mkl.is_available())", GDLITE_MKL="0"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


def test_a_bad_mkl_path_is_a_clear_error():
    r = run_child("import gdlite", GDLITE_MKL="/nonexistent/libmkl_rt.so.2")
    assert r.returncode == 0, r.stderr  # a named file that is not there: skipped
    r = run_child("import gdlite", GDLITE_MKL=sys.executable)
    assert r.returncode != 0
    assert "cannot load MKL" in r.stderr


def test_products_work_in_a_forked_child():
    # MKL's OpenMP threads do not survive fork(); the child runs MKL on one
    # thread and must neither hang nor crash.
    code = (
        "import os, numpy as np, gdlite\n"
        "a = gdlite.from_numpy(np.ones(200_000, np.float32))\n"
        "print(float(a @ a))\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os._exit(0 if float(a @ a) == 200000.0 else 3)\n"
        "_, status = os.waitpid(pid, 0)\n"
        "print(os.waitstatus_to_exitcode(status))\n"
    )
    r = run_child(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["200000.0", "0"]
