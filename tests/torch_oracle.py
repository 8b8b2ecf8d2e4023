"""Comparing gdlite with PyTorch, the oracle of the API tests: the same
tensor (dtype, shape, values and printed form), or the same error (type and
message, with 'torch.' spelled 'gdlite.')."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import gdlite as G


def expected_repr(x: Any) -> str:
    return repr(x).replace("torch.", "gdlite.")


def assert_same(got: Any, want: torch.Tensor, check_repr: bool = True) -> None:
    assert isinstance(got, G.Tensor)
    assert repr(got.dtype) == expected_repr(want.dtype)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    if check_repr:
        assert repr(got) == expected_repr(want)


def same_error(fn: Callable[[Any], Any]) -> None:
    """fn(torch) and fn(G) raise the same exception type and message."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as want:
            fn(torch)
    with pytest.raises(Exception) as got:
        fn(G)
    assert type(got.value) is type(want.value)
    assert str(got.value) == str(want.value).replace("torch.", "gdlite.")


def both(fn: Callable[[Any], Any]) -> None:
    """fn(G) matches fn(torch): the same value, or the same error."""
    try:
        want = fn(torch)
    except Exception as exc:
        with pytest.raises(type(exc)) as got:
            fn(G)
        assert str(got.value) == str(exc).replace("torch.", "gdlite.")
        return
    got = fn(G)
    if isinstance(want, torch.Tensor):
        assert_same(got, want)
    else:
        assert expected_repr(got) == expected_repr(want)
