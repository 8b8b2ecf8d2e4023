"""gdlite.Generator against torch.Generator: streams, state bytes, seeds.

Every draw is compared with torch's from a generator in the same state; the
state layout is compared byte for byte with torch's get_state().
"""

from __future__ import annotations

import copy
import pickle
import struct
import subprocess
import sys
import threading

import numpy as np
import pytest
import torch

import gdlite as gd

HAS_UINT8 = hasattr(gd, "uint8")


def pair(seed: int | None = None):
    g, t = gd.Generator(), torch.Generator()
    if seed is not None:
        g.manual_seed(seed)
        t.manual_seed(seed)
    return g, t


def torch_state(t: torch.Generator) -> bytes:
    return bytes(t.get_state().numpy())


def assert_same(got, expected: torch.Tensor) -> None:
    a, b = got.numpy(), expected.numpy()
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)


def raises_like(torch_call, gd_call, match_type=True):
    with pytest.raises(Exception) as want:
        torch_call()
    with pytest.raises(Exception) as got:
        gd_call()
    if match_type:
        assert type(got.value) is type(want.value)
    assert str(got.value) == str(want.value).replace("torch.", "gdlite.")
    return got.value


# ---- the object -------------------------------------------------------------


def test_fresh_generator_seed_and_stream_match_torch():
    g, t = pair()
    assert g.initial_seed() == t.initial_seed()
    assert_same(gd.rand(5, generator=g), torch.rand(5, generator=t))
    assert gd.Generator()._get_state_bytes() == torch_state(torch.Generator())


def test_manual_seed_returns_the_generator_and_device():
    g = gd.Generator(device="cpu")
    assert g.manual_seed(3) is g
    assert g.device == gd.device("cpu")
    assert gd.Generator("cpu").device.type == "cpu"
    assert isinstance(gd.default_generator, gd.Generator)
    assert gd.manual_seed(5) is gd.default_generator
    with pytest.raises(AttributeError):
        g.device = "cpu"


def test_non_cpu_device_is_refused():
    with pytest.raises(RuntimeError):
        torch.Generator(device="cuda")
    with pytest.raises(RuntimeError):
        gd.Generator(device="cuda")


@pytest.mark.parametrize(
    "seed", [0, 1, 2**32, 2**63, 2**64 - 1, -1, -(2**63), -(2**31)]
)
def test_manual_seed_accepted(seed):
    g, t = pair(seed)
    assert g.initial_seed() == t.initial_seed()
    assert g._get_state_bytes() == torch_state(t)
    gd.manual_seed(seed)
    torch.manual_seed(seed)
    assert gd.initial_seed() == torch.initial_seed()
    assert_same(gd.randn(3), torch.randn(3))


@pytest.mark.parametrize("seed", [2**64, -(2**63) - 1, 2**100])
def test_manual_seed_overflow(seed):
    raises_like(
        lambda: torch.Generator().manual_seed(seed),
        lambda: gd.Generator().manual_seed(seed),
    )
    raises_like(lambda: torch.manual_seed(seed), lambda: gd.manual_seed(seed))


@pytest.mark.parametrize("seed", [1.5, True, "3", None, np.int64(4), [1]])
def test_manual_seed_argument_types(seed):
    raises_like(
        lambda: torch.Generator().manual_seed(seed),
        lambda: gd.Generator().manual_seed(seed),
    )


@pytest.mark.parametrize("seed", [1.5, True, "3", np.int64(4)])
def test_module_manual_seed_converts_with_int(seed):
    torch.manual_seed(seed)
    gd.manual_seed(seed)
    assert gd.initial_seed() == torch.initial_seed()
    assert_same(gd.rand(4), torch.rand(4))


def test_seed_is_nondeterministic_and_reproducible():
    g = gd.Generator()
    s1 = g.seed()
    assert g.initial_seed() == s1
    first = gd.rand(4, generator=g)
    s2 = g.seed()
    assert s1 != s2  # 64-bit seeds from /dev/urandom
    t = torch.Generator().manual_seed(s1)
    assert_same(first, torch.rand(4, generator=t))
    assert isinstance(gd.seed(), int) and gd.initial_seed() < 2**64


def test_offset_is_refused_as_torch_does():
    raises_like(
        lambda: torch.Generator().get_offset(), lambda: gd.Generator().get_offset()
    )
    raises_like(
        lambda: torch.Generator().set_offset(1), lambda: gd.Generator().set_offset(1)
    )


# ---- draws with generator= ----------------------------------------------------

DRAWS = [
    ("rand 5", lambda m, g: m.rand(5, generator=g)),
    ("rand 37 f64", lambda m, g: m.rand(37, dtype=m.float64, generator=g)),
    ("randn 3", lambda m, g: m.randn(3, generator=g)),
    ("randn 4x9", lambda m, g: m.randn(4, 9, generator=g)),
    ("randn 20 f64", lambda m, g: m.randn(20, dtype=m.float64, generator=g)),
    ("randint", lambda m, g: m.randint(-3, 10, (7,), generator=g)),
    ("randint wide", lambda m, g: m.randint(0, 2**40, (3,), generator=g)),
    ("randint high", lambda m, g: m.randint(5, (4,), generator=g)),
    ("randperm", lambda m, g: m.randperm(10, generator=g)),
    ("normal nums", lambda m, g: m.normal(1.0, 2.0, size=(5,), generator=g)),
    ("normal t,t", lambda m, g: m.normal(m.zeros(17), m.ones(17), generator=g)),
    ("normal t,n", lambda m, g: m.normal(m.arange(4.0), 0.5, generator=g)),
    ("normal n,t", lambda m, g: m.normal(2.0, m.ones(3) * 3, generator=g)),
    ("uniform_", lambda m, g: m.zeros(6).uniform_(-1, 1, generator=g)),
    ("normal_", lambda m, g: m.zeros(2, 9).normal_(3, 2, generator=g)),
    ("normal_ col", lambda m, g: m.zeros(40, 2)[:, 0].normal_(generator=g)),
    ("random_", lambda m, g: m.zeros(4, dtype=m.int64).random_(generator=g)),
    ("random_ to", lambda m, g: m.zeros(4).random_(100, generator=g)),
    ("random_ ft", lambda m, g: m.zeros(4, dtype=m.int32).random_(-5, 5, generator=g)),
]


@pytest.mark.parametrize("name, draw", DRAWS, ids=[d[0] for d in DRAWS])
def test_draw_with_generator_leaves_default_alone(name, draw):
    torch.manual_seed(7)
    gd.manual_seed(7)
    assert_same(gd.randn(3), torch.randn(3))  # a normal is cached by default
    g, t = pair(123)
    for _ in range(2):
        assert_same(draw(gd, g), draw(torch, t))
        assert_same(draw(gd, None), draw(torch, None))
    assert g._get_state_bytes() == torch_state(t)
    assert_same(gd.randn(5), torch.randn(5))  # the default's stream goes on


def test_dataloader_style_fresh_generator():
    g = gd.Generator()
    g.manual_seed(0)
    t = torch.Generator()
    t.manual_seed(0)
    assert_same(gd.randperm(10, generator=g), torch.randperm(10, generator=t))
    # a seed drawn from the default generator, as DataLoader does
    torch.manual_seed(1)
    gd.manual_seed(1)
    s_t = int(torch.empty((), dtype=torch.int64).random_().item())
    s_g = int(gd.zeros((), dtype=gd.int64).random_().item())
    assert s_g == s_t
    g.manual_seed(s_g)
    t.manual_seed(s_t)
    assert_same(gd.randperm(100, generator=g), torch.randperm(100, generator=t))


@pytest.mark.parametrize(
    "call",
    [
        lambda m, g: m.zeros(3).uniform_(generator=g),
        lambda m, g: m.zeros(3).normal_(generator=g),
    ],
)
def test_generator_of_wrong_type_message(call):
    raises_like(lambda: call(torch, 5), lambda: call(gd, 5))


@pytest.mark.parametrize(
    "call",
    [
        lambda m, g: m.rand(3, generator=g),
        lambda m, g: m.randn(2, 3, generator=g),
        lambda m, g: m.rand(2, 3, dtype=m.float64, generator=g),
        lambda m, g: m.randperm(3, dtype=m.float32, generator=g),
        lambda m, g: m.randint(0, 3, (2,), generator=g),
        lambda m, g: m.randperm(3, generator=g),
        lambda m, g: m.normal(0.0, 1.0, (2,), generator=g),
        lambda m, g: m.normal(m.zeros(2), 1.0, generator=g),
        lambda m, g: m.normal(m.zeros(2), m.ones(2), generator=g),
        lambda m, g: m.zeros(3).random_(generator=g),
        lambda m, g: m.zeros(3).random_(1, 4, generator=g),
    ],
)
def test_generator_of_wrong_type_lists_the_signatures(call):
    raises_like(lambda: call(torch, "g"), lambda: call(gd, "g"))


# ---- state bytes --------------------------------------------------------------


def advance(m, g) -> None:
    """Draws that leave torch's generator mid-state with a cached normal."""
    m.rand(700, generator=g)
    m.randn(3, generator=g)


@pytest.mark.parametrize("seed", [0, 42, 2**64 - 1])
def test_state_bytes_equal_torch(seed):
    g, t = pair(seed)
    assert g._get_state_bytes() == torch_state(t)
    advance(gd, g)
    advance(torch, t)
    assert g._get_state_bytes() == torch_state(t)
    assert len(g._get_state_bytes()) == 5056


def test_state_from_torch_restores_in_gdlite_and_back():
    _, t = pair(99)
    advance(torch, t)
    saved = t.get_state()
    g = gd.Generator()
    assert g._set_state_bytes(bytes(saved.numpy())) is g
    assert g.initial_seed() == t.initial_seed()
    assert_same(gd.randn(5, generator=g), torch.randn(5, generator=t))
    # and a gdlite state restores in torch
    mine = g._get_state_bytes()
    t2 = torch.Generator().set_state(
        torch.frombuffer(bytearray(mine), dtype=torch.uint8)
    )
    assert_same(gd.randn(20, generator=g), torch.randn(20, generator=t2))
    assert_same(gd.randperm(9, generator=g), torch.randperm(9, generator=t2))


def test_float_normal_cache_round_trips():
    # torch keeps a float normal cache in its state; gdlite carries it along.
    state = bytearray(torch_state(torch.Generator().manual_seed(1)))
    state[5048:5052] = struct.pack("<f", 1.25)
    state[5052] = 1
    g = gd.Generator()._set_state_bytes(bytes(state))
    assert g._get_state_bytes() == bytes(state)


def patched(field_offset: int, fmt: str, value: int, base: bytes) -> bytes:
    out = bytearray(base)
    struct.pack_into(fmt, out, field_offset, value)
    return bytes(out)


# (offset, format): left, seeded, next of torch's CPUGeneratorImplState.
FIELDS = {"left": (8, "<i"), "seeded": (12, "<i"), "next": (16, "<Q")}
PATCHES = [
    ("left", 0),
    ("left", -3),
    ("left", 625),
    ("left", 624),
    ("left", 1),
    ("left", 300),
    ("seeded", 0),
    ("seeded", 2),
    ("next", 625),
    ("next", 2**40),
    ("next", 2**32 + 5),
    ("next", 0),
    ("next", 624),
]


@pytest.mark.parametrize("field, value", PATCHES)
def test_set_state_validation_matches_torch(field, value):
    base = torch_state(torch.Generator().manual_seed(5))
    off, fmt = FIELDS[field]
    state = patched(off, fmt, value, base)
    if field == "next" and value == 624:
        state = patched(8, "<i", 1, state)  # left 1: regenerate on next draw
    t = torch.Generator()
    try:
        t.set_state(torch.frombuffer(bytearray(state), dtype=torch.uint8))
    except RuntimeError as e:
        with pytest.raises(RuntimeError) as got:
            gd.Generator()._set_state_bytes(state)
        assert str(got.value) == str(e)
        return
    g = gd.Generator()._set_state_bytes(state)
    assert g._get_state_bytes() == torch_state(t)
    assert_same(gd.rand(1000, generator=g), torch.rand(1000, generator=t))


def test_state_reading_past_the_array_is_refused():
    # torch accepts left + next > 625 and then reads past its state array;
    # gdlite refuses such a state instead.
    base = torch_state(torch.Generator().manual_seed(5))
    state = patched(16, "<Q", 600, patched(8, "<i", 100, base))
    with pytest.raises(RuntimeError, match="Invalid mt19937 state"):
        gd.Generator()._set_state_bytes(state)


@pytest.mark.parametrize("size", [0, 4, 5055, 5057])
def test_set_state_size_message(size):
    with pytest.raises(RuntimeError) as want:
        torch.Generator().set_state(torch.zeros(size, dtype=torch.uint8))
    with pytest.raises(RuntimeError) as got:
        gd.Generator()._set_state_bytes(bytes(size))
    assert str(got.value) == str(want.value)


def test_set_state_refuses_non_tensors():
    raises_like(
        lambda: torch.Generator().set_state(b"x"),
        lambda: gd.Generator().set_state(b"x"),
    )
    raises_like(lambda: torch.set_rng_state([1, 2]), lambda: gd.set_rng_state([1, 2]))


@pytest.mark.skipif(HAS_UINT8, reason="gdlite.uint8 exists")
def test_get_state_without_uint8_says_why():
    for call in (gd.Generator().get_state, gd.get_rng_state):
        with pytest.raises(NotImplementedError, match="uint8"):
            call()
    with pytest.raises(NotImplementedError, match="uint8"):
        gd.Generator().set_state(gd.zeros(5056))


@pytest.mark.skipif(not HAS_UINT8, reason="gdlite has no uint8 dtype yet")
def test_get_state_is_torchs_byte_tensor():
    g, t = pair(17)
    advance(gd, g)
    advance(torch, t)
    state = g.get_state()
    assert state.dtype == gd.uint8 and tuple(state.shape) == (5056,)
    assert bytes(state.numpy()) == torch_state(t)
    g2 = gd.Generator().set_state(state)
    assert_same(gd.randn(4, generator=g2), torch.randn(4, generator=t))
    gd.manual_seed(3)
    saved = gd.get_rng_state()
    first = gd.rand(3).numpy()
    gd.set_rng_state(saved)
    np.testing.assert_array_equal(gd.rand(3).numpy(), first)
    with pytest.raises(TypeError, match="ByteTensor"):
        g.set_state(gd.zeros(5056))


def test_clone_pickle_and_deepcopy_continue_the_stream():
    g, t = pair(11)
    advance(gd, g)
    advance(torch, t)
    for other in (g.clone_state(), pickle.loads(pickle.dumps(g)), copy.deepcopy(g)):
        assert other is not g
        assert other.initial_seed() == 11
        assert other._get_state_bytes() == g._get_state_bytes()
    clone = g.clone_state()
    assert_same(gd.randn(3, generator=clone), torch.randn(3, generator=t))
    assert g._get_state_bytes() != clone._get_state_bytes()


# ---- draws hold the GIL ---------------------------------------------------------


def test_threads_sharing_a_generator_consume_whole_draws():
    # Each draw runs with the GIL held, so concurrent draws interleave whole:
    # together they take exactly the values of one sequential stream.
    g = gd.Generator().manual_seed(8)
    results: list[float] = []

    def work() -> None:
        for _ in range(500):
            results.append(float(gd.rand(1, generator=g).item()))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    want = torch.rand(2000, generator=torch.Generator().manual_seed(8)).numpy()
    np.testing.assert_array_equal(np.sort(np.float32(results)), np.sort(want))
    t = torch.Generator().manual_seed(8)
    torch.rand(2000, generator=t)
    assert g._get_state_bytes() == torch_state(t)


def test_generator_outlives_its_last_reference_safely():
    code = (
        "import gc, gdlite as gd\n"
        "g = gd.Generator().manual_seed(1)\n"
        "x = gd.zeros(50)\n"
        "x.normal_(generator=g)\n"
        "c = g.clone_state(); del g; gc.collect()\n"
        "print(float(gd.rand(1, generator=c).item()))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    t = torch.Generator().manual_seed(1)
    torch.zeros(50).normal_(generator=t)
    assert float(r.stdout) == float(torch.rand(1, generator=t).item())
