"""Comparing gdlite.utils.data with torch.utils.data: batch structures
(container types, tensor dtypes, shapes and values) and generator states."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

import gdlite as G


def structure(x: Any) -> Any:
    """A library-neutral picture of a batch: containers by type name and
    content, tensors as (dtype, shape, values); other leaves as they are."""
    if isinstance(x, (G.Tensor, torch.Tensor)):
        dtype = repr(x.dtype).split(".")[-1]
        return ("tensor", dtype, tuple(x.shape), x.detach().numpy().tolist())
    if isinstance(x, Mapping):
        return (type(x).__name__, {k: structure(v) for k, v in x.items()})
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, tuple(structure(v) for v in x))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [structure(v) for v in x])
    if isinstance(x, np.ndarray):
        return ("ndarray", x.dtype.str, x.tolist())
    return x


def default_state_equal() -> bool:
    return bytes(G.get_rng_state().numpy()) == bytes(torch.get_rng_state().numpy())


def state_equal(g: G.Generator, t: torch.Generator) -> bool:
    return bytes(g.get_state().numpy()) == bytes(t.get_state().numpy())


def seeded_pair(seed: int) -> tuple[G.Generator, torch.Generator]:
    return G.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)
