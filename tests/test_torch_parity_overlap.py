"""Writes into tensors whose elements share memory (expand), against
PyTorch: fill_ and zero_ write one value everywhere and are accepted; ops
whose result depends on the order of writes are refused; advanced setitem
warns that it is deprecated and writes."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
import torch
from torch_oracle import both

import gdlite as G


def _expanded(lib: Any) -> Any:
    return lib.zeros(1, 3).expand(2, 3)


WRITES = {
    "fill_": lambda x, L: x.fill_(1.5),
    "zero_": lambda x, L: x.zero_(),
    "setitem_int": lambda x, L: x.__setitem__(0, 1.0),
    "setitem_ellipsis": lambda x, L: x.__setitem__(Ellipsis, 3.0),
    "setitem_slice": lambda x, L: x.__setitem__((slice(None), 0), 5.0),
    "add_": lambda x, L: x.add_(1),
    "iadd": lambda x, L: x.__iadd__(1),
    "mul_": lambda x, L: x.mul_(2),
    "copy_": lambda x, L: x.copy_(L.ones(2, 3)),
    "clamp_": lambda x, L: x.clamp_(min=1),
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_write_into_expanded_tensor(name: str) -> None:
    def run(lib: Any) -> Any:
        x = _expanded(lib)
        WRITES[name](x, lib)
        return x.contiguous()

    both(run)


ADVANCED = {
    "list": lambda x, L: x.__setitem__([0, 1], 1.0),
    "mask": lambda x, L: x.__setitem__(L.tensor([True, False]), 1.0),
    "full_mask": lambda x, L: x.__setitem__(L.ones(2, 3, dtype=L.bool), 2.0),
}


@pytest.mark.parametrize("name", sorted(ADVANCED))
def test_advanced_setitem_on_expanded_tensor_warns(name: str) -> None:
    results = []
    for lib in (torch, G):
        x = _expanded(lib)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ADVANCED[name](x, lib)
        messages = [str(w.message) for w in caught if w.category is UserWarning]
        results.append((x.tolist(), messages))
    (want, want_msgs), (got, got_msgs) = results
    assert got == want
    assert len(got_msgs) == 1 and want_msgs
    # PyTorch adds where in its C++ sources the warning was triggered (and, for
    # a mask, a second warning from the masked_fill_ it runs underneath)
    assert want_msgs[0].startswith(got_msgs[0] + " (Triggered internally at")
