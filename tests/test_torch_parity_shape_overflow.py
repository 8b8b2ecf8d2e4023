"""Shape and dim arguments outside int64 raise what PyTorch raises: an int
list argument fails to unpack with a TypeError naming the function, the
argument and the 1-based position; an int argument raises ValueError.
PyTorch's message goes on with a C++ stack trace inside the quotes, so the
comparison is of everything before it."""

from __future__ import annotations

from typing import Any

import pytest
import torch

import gdlite as G

TRACE_START = "\nException raised from"

CASES = {
    "zeros_2_64": lambda L: L.zeros(2**64),
    "zeros_2_63": lambda L: L.zeros(2**63),
    "zeros_below_int64": lambda L: L.zeros(-(2**63) - 1),
    "zeros_second": lambda L: L.zeros(5, 2**64),
    "ones_tuple": lambda L: L.ones((2, 2**70)),
    "ones_list": lambda L: L.ones([2, 2**70]),
    "ones_varargs": lambda L: L.ones(2, 2**70),
    "empty_2_63": lambda L: L.empty(2**63),
    "empty_2_64": lambda L: L.empty(2**64),
    "full": lambda L: L.full((2**64,), 1.0),
    "rand": lambda L: L.rand(2**64),
    "randn": lambda L: L.randn(2**63),
    "randint": lambda L: L.randint(0, 3, (2**64,)),
    "view": lambda L: L.ones(2).view(2**64),
    "view_2_63": lambda L: L.ones(2).view(2**63),
    "view_tuple": lambda L: L.ones(2).view((2**64,)),
    "view_negative": lambda L: L.ones(2).view(-(2**64)),
    "reshape": lambda L: L.ones(2).reshape(2**64),
    "expand": lambda L: L.ones(2).expand(2**63),
    "expand_lead": lambda L: L.ones(2).expand(2**63, 2),
    "permute": lambda L: L.ones(2).permute(2**64),
    "squeeze": lambda L: L.ones(2).squeeze(2**64),
    "sum_dim": lambda L: L.ones(2).sum(2**64),
    "select": lambda L: L.ones(2)[2**64],
    "tensor": lambda L: L.tensor([2**64]),
}


def _error(lib: Any, fn: Any) -> BaseException:
    with pytest.raises(Exception) as info:
        fn(lib)
    return info.value


@pytest.mark.parametrize("name", sorted(CASES))
def test_out_of_int64_shape_matches_torch(name: str) -> None:
    want = _error(torch, CASES[name])
    got = _error(G, CASES[name])
    assert type(got) is type(want)
    text = str(want)
    if TRACE_START in text:  # the quoted error ends where the trace begins
        text = text[: text.index(TRACE_START)] + '"'
    assert str(got) == text.replace("torch.", "gdlite.")


def test_int64_edges_still_reach_the_size_checks() -> None:
    # 2**63 - 1 fits int64: both refuse it later, for its size
    for fn in (lambda L: L.zeros(2**63 - 1), lambda L: L.ones(2).view(2**63 - 1)):
        want, got = _error(torch, fn), _error(G, fn)
        assert type(got) is type(want)
