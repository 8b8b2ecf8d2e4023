"""DataLoader and samplers against torch.utils.data: batch orders, values,
lengths and generator states, under manual_seed and explicit generators.

Every case builds the same loader in both libraries from the same NumPy data
and compares whole epochs batch by batch, then the generators' states (so
later draws match too).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from data_oracle import default_state_equal, seeded_pair, state_equal, structure

import gdlite as G


def data(n: int, lib):
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = rng.integers(0, 100, n)
    return lib.utils.data.TensorDataset(lib.from_numpy(x), lib.from_numpy(y))


def epochs(make, count: int = 2, seed: int | None = 0):
    """Batches of `count` epochs of make(lib) in each library; the default
    generators are seeded alike first and compared at the end."""
    out = {}
    for lib in (torch, G):
        if seed is not None:
            lib.manual_seed(seed)
        loader = make(lib)
        out[lib] = [[structure(b) for b in loader] for _ in range(count)]
    assert out[G] == out[torch]
    assert default_state_equal()
    return out[G]


@pytest.mark.parametrize("n", [1, 7, 32, 100])
@pytest.mark.parametrize("batch_size", [1, 3, 32, 64])
@pytest.mark.parametrize("drop_last", [False, True])
def test_shuffled_loader_matches_torch_under_manual_seed(n, batch_size, drop_last):
    got = epochs(
        lambda lib: lib.utils.data.DataLoader(
            data(n, lib), batch_size=batch_size, shuffle=True, drop_last=drop_last
        ),
        seed=n * 1000 + batch_size,
    )
    assert len(got[0]) == (n // batch_size if drop_last else -(-n // batch_size))


@pytest.mark.parametrize("n", [5, 64])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sequential_loader_matches_torch(n, drop_last):
    epochs(
        lambda lib: lib.utils.data.DataLoader(
            data(n, lib), batch_size=16, drop_last=drop_last
        )
    )


@pytest.mark.parametrize("seed", [0, 7, 2**40 + 3])
def test_loader_with_explicit_generator_matches_and_spares_default(seed):
    gens = dict(zip((G, torch), seeded_pair(seed), strict=True))
    epochs(
        lambda lib: lib.utils.data.DataLoader(
            data(50, lib), batch_size=8, shuffle=True, generator=gens[lib]
        ),
        count=3,
    )
    assert state_equal(gens[G], gens[torch])


@pytest.mark.parametrize("num_samples", [1, 31, 32, 33, 100])
@pytest.mark.parametrize("with_generator", [False, True])
def test_random_sampler_with_replacement(num_samples, with_generator):
    gens = dict(zip((G, torch), seeded_pair(3), strict=True))

    def make(lib):
        ud = lib.utils.data
        ds = data(10, lib)
        gen = gens[lib] if with_generator else None
        sampler = ud.RandomSampler(ds, True, num_samples, generator=gen)
        return ud.DataLoader(ds, batch_size=6, sampler=sampler)

    epochs(make)
    assert state_equal(gens[G], gens[torch])


@pytest.mark.parametrize("num_samples", [3, 10, 17, 30])
def test_random_sampler_without_replacement_more_or_fewer_samples(num_samples):
    def make(lib):
        ud = lib.utils.data
        ds = data(10, lib)
        return ud.DataLoader(
            ds, batch_size=4, sampler=ud.RandomSampler(ds, num_samples=num_samples)
        )

    epochs(make)


@pytest.mark.parametrize("with_generator", [False, True])
def test_subset_random_sampler(with_generator):
    gens = dict(zip((G, torch), seeded_pair(11), strict=True))

    def make(lib):
        ud = lib.utils.data
        gen = gens[lib] if with_generator else None
        sampler = ud.SubsetRandomSampler([9, 2, 4, 4, 0, 7], generator=gen)
        return ud.DataLoader(data(10, lib), batch_size=4, sampler=sampler)

    epochs(make)
    assert state_equal(gens[G], gens[torch])


def test_samplers_listed_directly_match_torch():
    for lib in (torch, G):
        lib.manual_seed(5)
    for make in (
        lambda ud: ud.SequentialSampler(range(6)),
        lambda ud: ud.RandomSampler(range(9)),
        lambda ud: ud.RandomSampler(range(4), replacement=True, num_samples=70),
        lambda ud: ud.BatchSampler(ud.RandomSampler(range(11)), 4, False),
        lambda ud: ud.BatchSampler(range(11), 4, True),
        lambda ud: ud.BatchSampler([3, 1], 5, True),
    ):
        want, got = make(torch.utils.data), make(G.utils.data)
        assert list(got) == list(want)
        assert len(got) == len(want)
    assert default_state_equal()


def test_custom_sampler_batch_sampler_and_no_batching():
    def with_sampler(lib):
        return lib.utils.data.DataLoader(data(9, lib), batch_size=4, sampler=[8, 0, 3])

    def with_batch_sampler(lib):
        return lib.utils.data.DataLoader(
            data(9, lib), batch_sampler=[[8, 0], [3], [-1, 2, 2]]
        )

    def unbatched(lib):
        return lib.utils.data.DataLoader(data(6, lib), batch_size=None, shuffle=True)

    for make in (with_sampler, with_batch_sampler, unbatched):
        epochs(make)


def test_fast_path_equals_generic_path_and_torch():
    """A wrapping collate_fn takes the per-row path; both equal torch's."""
    ud = G.utils.data
    for lib in (G, torch):
        lib.manual_seed(1)
    ds = data(37, G)
    fast = [structure(b) for b in ud.DataLoader(ds, batch_size=5, shuffle=True)]
    want = [
        structure(b)
        for b in torch.utils.data.DataLoader(
            data(37, torch), batch_size=5, shuffle=True
        )
    ]
    G.manual_seed(1)
    generic = ud.DataLoader(
        ds, batch_size=5, shuffle=True, collate_fn=lambda b: ud.default_collate(b)
    )
    assert fast == [structure(b) for b in generic] == want


@pytest.mark.parametrize("dtype", ["float64", "int32", "bool", "uint8"])
def test_fast_path_keeps_dtype_and_trailing_shape(dtype):
    x = (np.arange(60).reshape(10, 3, 2) % 3).astype(dtype)

    def make(lib):
        ud = lib.utils.data
        ds = ud.TensorDataset(
            lib.from_numpy(x.copy()), lib.from_numpy(x[:, 0, 0].copy())
        )
        return ud.DataLoader(ds, batch_size=4, shuffle=True)

    epochs(make)


def test_subsets_from_random_split_load_as_torch():
    def make(lib):
        ud = lib.utils.data
        train, val = ud.random_split(data(40, lib), [0.8, 0.2])
        inner = ud.Subset(train, [5, 0, 31, 2, -1])
        return [
            ud.DataLoader(train, batch_size=16, shuffle=True),
            ud.DataLoader(val, batch_size=16),
            ud.DataLoader(inner, batch_size=2, shuffle=True),
        ]

    for lib in (torch, G):
        lib.manual_seed(42)
    want = [[structure(b) for b in loader] for loader in make(torch)]
    got = [[structure(b) for b in loader] for loader in make(G)]
    assert got == want
    assert default_state_equal()


def test_requires_grad_and_out_of_range_go_the_generic_way():
    def make(lib):
        ud = lib.utils.data
        x = lib.ones(6, 2, requires_grad=True)
        return ud.DataLoader(ud.TensorDataset(x), batch_size=4)

    for lib in (G, torch):
        batch = next(iter(make(lib)))[0]
        assert batch.requires_grad and batch.grad_fn is not None
    names = {next(iter(make(lib)))[0].grad_fn.name() for lib in (G, torch)}
    assert names == {"StackBackward0"}

    for lib in (G, torch):
        ud = lib.utils.data
        loader = ud.DataLoader(ud.TensorDataset(lib.arange(4)), batch_sampler=[[0, 9]])
        with pytest.raises(IndexError) as err:
            next(iter(loader))
        msgs = err.value.args
    assert msgs == ("index 9 is out of bounds for dimension 0 with size 4",)


def test_draws_between_batches_interleave_as_torch():
    """The sampler's seed is drawn at the first batch, after iter()'s base
    seed; chunked draws from an explicit generator happen mid-epoch."""
    out = {}
    for lib in (torch, G):
        lib.manual_seed(9)
        gen = lib.Generator().manual_seed(4)
        ds = data(10, lib)
        ud = lib.utils.data
        loaders = [
            ud.DataLoader(ds, batch_size=3, shuffle=True),
            ud.DataLoader(
                ds,
                batch_size=7,
                sampler=ud.RandomSampler(ds, num_samples=25, generator=gen),
            ),
            ud.DataLoader(
                ds,
                batch_size=5,
                sampler=ud.RandomSampler(ds, True, 70, generator=gen),
            ),
        ]
        seen = []
        for loader in loaders:
            it = iter(loader)
            seen.append(lib.rand(2).tolist())
            for batch in it:
                seen.append(structure(batch))
                seen.append(lib.randint(0, 1000, (2,), generator=gen).tolist())
                seen.append(lib.randn(1).tolist())
        out[lib] = seen
    assert out[G] == out[torch]
    assert default_state_equal()


def test_next_iter_and_len():
    for n, bs, drop in [(10, 3, False), (10, 3, True), (9, 3, True), (1, 5, True)]:
        lens = []
        for lib in (torch, G):
            lib.manual_seed(0)
            loader = lib.utils.data.DataLoader(
                data(n, lib), batch_size=bs, shuffle=True, drop_last=drop
            )
            first = structure(next(iter(loader))) if len(loader) else None
            lens.append((len(loader), first, len(iter(loader))))
        assert lens[0] == lens[1]
        assert default_state_equal()


def test_in_process_workers_take_indices_ahead_like_torch():
    """With workers PyTorch pulls prefetch_factor * num_workers batches of
    indices at iter(), so the sampler's seed is drawn before a later draw."""
    for kwargs in ({"num_workers": 1}, {"num_workers": 2, "prefetch_factor": 1}):
        seen = {}
        for lib in (torch, G):
            lib.manual_seed(3)
            loader = lib.utils.data.DataLoader(
                data(12, lib), batch_size=5, shuffle=True, **kwargs
            )
            it = iter(loader)
            after_iter = lib.rand(3).tolist()
            seen[lib] = ([structure(b) for b in it], after_iter)
        assert seen[G] == seen[torch]
        assert default_state_equal()


def test_persistent_workers_draw_one_base_seed():
    epochs(
        lambda lib: lib.utils.data.DataLoader(
            data(8, lib),
            batch_size=3,
            shuffle=True,
            num_workers=1,
            persistent_workers=True,
        ),
        count=3,
    )


def test_worker_options_are_accepted():
    calls = []
    ud = G.utils.data
    loader = ud.DataLoader(
        data(5, G),
        batch_size=2,
        num_workers=1,
        worker_init_fn=calls.append,
        prefetch_factor=4,
        timeout=3,
        multiprocessing_context="spawn",
    )
    assert [len(b[0]) for b in loader] == [2, 2, 1]
    assert ud.get_worker_info() is None
