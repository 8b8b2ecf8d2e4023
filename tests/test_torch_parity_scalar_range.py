"""Python numbers written into integer tensors (fill_, full, item and index
assignment): ints wrap into uint8 from -255 as in PyTorch, floats must fit,
NaN never does. Each form against torch."""

import numpy as np
import pytest
import torch

import gdlite


def _assign(index, value):
    def run(lib):
        x = lib.zeros(3, dtype=lib.uint8)
        x[index(lib) if callable(index) else index] = value
        return x

    return run


CASES = {
    "fill_float_negative": lambda lib: lib.zeros(3, dtype=lib.uint8).fill_(-1.0),
    "fill_float_minus_255": lambda lib: lib.zeros(3, dtype=lib.uint8).fill_(-255.0),
    "fill_float_fraction": lambda lib: lib.zeros(3, dtype=lib.uint8).fill_(-0.5),
    "fill_float_above": lambda lib: lib.zeros(3, dtype=lib.uint8).fill_(255.5),
    "fill_float_in_range": lambda lib: lib.zeros(3, dtype=lib.uint8).fill_(255.0),
    "fill_int_wraps": lambda lib: lib.zeros(3, dtype=lib.uint8).fill_(-1),
    "fill_nan": lambda lib: lib.zeros(3, dtype=lib.uint8).fill_(float("nan")),
    "fill_np_float64": lambda lib: lib.zeros(3, dtype=lib.uint8).fill_(np.float64(-1)),
    "fill_np_float32": lambda lib: lib.zeros(3, dtype=lib.uint8).fill_(np.float32(-1)),
    "fill_int64_nan": lambda lib: lib.zeros(2, dtype=lib.int64).fill_(float("nan")),
    "full_float_negative": lambda lib: lib.full((2,), -1.0, dtype=lib.uint8),
    "full_int_wraps": lambda lib: lib.full((2,), -1, dtype=lib.uint8),
    "full_np_float32": lambda lib: lib.full((2,), np.float32(-1), dtype=lib.uint8),
    "full_np_int64_wraps": lambda lib: lib.full((2,), np.int64(-1), dtype=lib.uint8),
    "full_like_float_negative": lambda lib: lib.full_like(
        lib.zeros(2, dtype=lib.uint8), -1.0
    ),
    "item_float_negative": _assign(0, -1.0),
    "item_int_wraps": _assign(0, -1),
    "item_int_above": _assign(0, 300),
    "slice_float_negative": _assign(slice(None), -1.0),
    "list_float_negative": _assign([0], -1.0),
    "list_int_wraps": _assign([0], -1),
    "list_nan": _assign([0], float("nan")),
    "slice_and_list_float_negative": _assign((slice(None), [0]), -1.0),
    "mask_float_negative": _assign(lambda lib: lib.tensor([True, False, True]), -1.0),
    "mask_float_in_range": _assign(lambda lib: lib.tensor([True, False, True]), 7.0),
}


def _outcome(make, lib):
    try:
        return make(lib).tolist()
    except Exception as e:  # the outcome compared is the exception
        return type(e).__name__, str(e).replace("torch", "gdlite")


@pytest.mark.parametrize("case", sorted(CASES))
def test_number_into_integer_tensor_matches_torch(case):
    assert _outcome(CASES[case], gdlite) == _outcome(CASES[case], torch)
