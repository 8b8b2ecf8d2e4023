"""prod, norm, var/std, cumsum and the losses' reductions give PyTorch's bits:
same accumulation type, same order for each size, layout and dim, same split
across threads above 32768 elements. Compared bit for bit with torch."""

import itertools
import warnings

import numpy as np
import pytest
import torch

import gdlite

DTYPES = [np.float32, np.float64]
SIZES = [*range(1, 130), 255, 256, 257, 1000, 4097, 32767, 32768, 32769, 100000]


def same_bits(g, t) -> bool:
    a = np.atleast_1d(np.ascontiguousarray(g.detach().numpy()))
    b = np.atleast_1d(np.ascontiguousarray(t.detach().numpy()))
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    return np.array_equal(a.view(np.uint8), b.view(np.uint8))


def sample(rng, shape, dtype, dist):
    if dist == "normal":
        x = rng.standard_normal(shape)
    elif dist == "near_one":  # products that neither vanish nor overflow
        x = 1 + rng.standard_normal(shape) * 0.01
    else:  # large dynamic range, both signs
        x = rng.standard_normal(shape) * np.exp(rng.uniform(-8, 8, shape))
    return x.astype(dtype)


def check(x, fn, *more):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degrees of freedom <= 0
        g = fn(gdlite, gdlite.from_numpy(x), *(gdlite.from_numpy(m) for m in more))
        t = fn(torch, torch.from_numpy(x), *(torch.from_numpy(m) for m in more))
    assert same_bits(g, t), (x.shape, x.dtype, g, t)


NORMS = [2, 1, 3, 0.5, 0, float("inf"), -float("inf")]
WHOLE = {
    **{f"norm{p}": (lambda m, t, p=p: t.norm(p=p)) for p in NORMS},
    "norm": lambda m, t: t.norm(),
    "var": lambda m, t: t.var(),
    "std": lambda m, t: t.std(),
    "var_biased": lambda m, t: t.var(unbiased=False),
    "std_correction2": lambda m, t: t.std(correction=2),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(WHOLE))
def test_all_elements(dtype, name):
    rng = np.random.default_rng(1)
    for n in SIZES:
        check(sample(rng, (n,), dtype, "normal"), WHOLE[name])
    check(sample(rng, (10**6 + 3,), dtype, "wide"), WHOLE[name])


SHAPES = [
    (3, 4),
    (1000, 37),
    (37, 1000),
    (1, 50),
    (50, 1),
    (5, 17, 33),
    (17, 1, 5),
    (2, 3, 20000),
    (40000, 3),
    (3, 40000),
    (4, 5, 6, 7),
]


def all_dim_tuples(nd):
    return [d for r in range(1, nd + 1) for d in itertools.combinations(range(nd), r)]


def dim_ops(dims, keepdim):
    fro = dims is None or isinstance(dims, int) or len(dims) <= 2  # else torch raises
    return [
        lambda m, t: t.norm(dim=dims, keepdim=keepdim) if fro else t.norm(2, dims),
        lambda m, t: t.norm(p=2, dim=dims, keepdim=keepdim),
        lambda m, t: t.norm(p=1, dim=dims, keepdim=keepdim),
        lambda m, t: t.norm(p=3, dim=dims, keepdim=keepdim),
        lambda m, t: t.var(dim=dims, keepdim=keepdim),
        lambda m, t: t.std(dim=dims, correction=0, keepdim=keepdim),
    ]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_dims(dtype, shape):
    rng = np.random.default_rng(sum(shape))
    x = sample(rng, shape, dtype, "wide")
    for dims in all_dim_tuples(len(shape)):
        for keepdim in (False, True):
            for fn in dim_ops(dims, keepdim):
                check(x, fn)


VIEWS = [
    lambda t: t.transpose(0, -1),
    lambda t: t[..., ::2],
    lambda t: t[::3],
    lambda t: t.permute(*reversed(range(t.dim())))[..., 1:],
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_views(dtype, shape):
    rng = np.random.default_rng(shape[-1])
    x = sample(rng, shape, dtype, "normal")
    for view in VIEWS:
        for fn in dim_ops(None, False):
            check(x, lambda m, t, view=view, fn=fn: fn(m, view(t)))
        for d in range(len(shape)):
            for fn in dim_ops(d, d % 2 == 0):
                check(x, lambda m, t, view=view, fn=fn: fn(m, view(t)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_prod_all_elements(dtype):
    rng = np.random.default_rng(2)
    for n in [*SIZES, 10**6 + 3]:
        x = sample(rng, (n,), dtype, "near_one")
        check(x, lambda m, t: t.prod())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_prod_dims_and_views(dtype, shape):
    rng = np.random.default_rng(sum(shape) + 7)
    x = sample(rng, shape, dtype, "near_one")
    for view in [lambda t: t, *VIEWS]:
        check(x, lambda m, t, view=view: view(t).prod())
        for d in range(len(shape)):
            for keepdim in (False, True):
                check(
                    x,
                    lambda m, t, view=view, d=d, k=keepdim: view(t).prod(d, keepdim=k),
                )
    check(x, lambda m, t: t.expand(3, *shape).prod(0))
    check(x, lambda m, t: t.unsqueeze(-1).expand(*shape, 70).prod(-1))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(100000,), (37, 1000), (5, 17, 33)], ids=str)
def test_cumsum(dtype, shape):
    rng = np.random.default_rng(len(shape))
    x = sample(rng, shape, dtype, "wide")
    for view in [lambda t: t, *VIEWS]:
        for d in range(len(shape)):
            check(x, lambda m, t, view=view, d=d: view(t).cumsum(d))


LOSSES = {
    "mse": lambda m, a, b, r: m.nn.functional.mse_loss(a, b, reduction=r),
    "l1": lambda m, a, b, r: m.nn.functional.l1_loss(a, b, reduction=r),
    "huber": lambda m, a, b, r: m.nn.functional.huber_loss(a, b, reduction=r),
    "smooth_l1": lambda m, a, b, r: m.nn.functional.smooth_l1_loss(
        a, b, reduction=r, beta=0.5
    ),
    "mse_module": lambda m, a, b, r: m.nn.MSELoss(reduction=r)(a, b),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_regression_losses(dtype, name, reduction):
    rng = np.random.default_rng(4)
    for shape in [(1,), (3,), (17,), (100, 1), (64, 10), (40000,), (300, 300)]:
        a, b = sample(rng, shape, dtype, "normal"), sample(rng, shape, dtype, "normal")
        check(a, lambda m, x, y: LOSSES[name](m, x, y, reduction), b)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_classification_losses(dtype, reduction):
    rng = np.random.default_rng(5)
    for n, c in [(1, 2), (8, 3), (64, 10), (1000, 7)]:
        logits = sample(rng, (n, c), dtype, "normal")
        target = rng.integers(0, c, n)
        log_probs = np.log(np.exp(logits) / np.exp(logits).sum(1, keepdims=True))
        log_probs = log_probs.astype(dtype)

        def nll(m, x, t):
            return m.nn.functional.nll_loss(x, t, reduction=reduction)

        check(log_probs, nll, target)
        # cross_entropy's reduction over the same log-softmax values
        lsm = torch.log_softmax(torch.from_numpy(logits), 1).numpy()
        check(lsm, nll, target)


@pytest.mark.parametrize("dtype", DTYPES)
def test_large(dtype):
    """Large enough (over 2^20 elements) for the work to be shared by threads."""
    rng = np.random.default_rng(6)
    x = sample(rng, (1100, 1001), dtype, "wide")
    for dims in [None, 0, 1]:
        for fn in dim_ops(dims, False):
            check(x, fn)
    check(x, lambda m, t: t.t().norm(p=1))
    y = sample(rng, (1100, 1001), dtype, "near_one")
    for fn in [lambda m, t: t.prod(), lambda m, t: t.prod(0), lambda m, t: t.prod(1)]:
        check(y, fn)


GRADS = {
    "norm": lambda t: t.norm(),
    "norm1": lambda t: t.norm(p=1),
    "norm3": lambda t: t.norm(p=3),
    "norm0.5": lambda t: t.norm(p=0.5),
    "norm_inf": lambda t: t.norm(p=float("inf")),
    "norm_rows": lambda t: t.reshape(-1, 4).norm(dim=1).sum(),
    "var": lambda t: t.var(),
    "std": lambda t: t.std(),
    "var_cols": lambda t: t.reshape(-1, 4).var(0).sum(),
    "prod": lambda t: t.prod(),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(GRADS))
def test_gradients(dtype, name):
    """The backward rules use these forward results, so gradients match too."""
    rng = np.random.default_rng(8)
    for n in [4, 8, 12, 64, 100, 1000]:
        dist = "near_one" if name == "prod" else "normal"
        x = sample(rng, (n,), dtype, dist)
        g = gdlite.from_numpy(x).requires_grad_()
        t = torch.from_numpy(x.copy()).requires_grad_()
        GRADS[name](g).backward()
        GRADS[name](t).backward()
        assert same_bits(g.grad, t.grad), (name, n)
