"""Suite-wide setup.

Each test runs with the objects that exist when it starts frozen out of the
cyclic garbage collector (gc.freeze), and thawed when it ends: tests that
measure memory call gc.collect() many times, and a full collection would
otherwise walk everything the session has imported and cached (PyTorch
included), which made them the slowest part of the suite. Garbage made during
a test is collected as before; what earlier tests left is collected once
thawed."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _collect_only_this_tests_objects() -> Iterator[None]:
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@pytest.fixture
def own_kernels():
    """gdlite's own math and product kernels: MKL switched off for the test."""
    import gdlite

    active = gdlite._C._mkl_state()[1]
    gdlite._C._mkl_enable(False)
    yield
    gdlite._C._mkl_enable(active)
