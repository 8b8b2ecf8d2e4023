"""Finds Intel MKL and hands it to the C core at import.

PyTorch's x86-64 CPU build computes exp, log, tanh, sin, cos, tan and sqrt
and its matrix, matrix-vector and dot products with Intel MKL, whose results
are not correctly rounded; calling the same routines is the only way to give
its bits. The ``mkl`` wheel (a dependency on x86-64 Linux) installs
``libmkl_rt.so.2`` into the environment's ``lib`` folder. Without it gdlite
computes these itself (correctly rounded math, OpenBLAS products).

``GDLITE_MKL=0`` in the environment keeps MKL out; ``GDLITE_MKL=<path>``
names the library.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

from gdlite import _C

_LIBRARY = "libmkl_rt.so.2"


def _candidates() -> Iterator[Path]:
    """Where the mkl wheel puts its library: the environment's lib folder,
    then wherever its installed files say (a --user install, say)."""
    yield Path(sys.prefix) / "lib" / _LIBRARY
    try:
        from importlib import metadata

        files = metadata.files("mkl") or ()
    except metadata.PackageNotFoundError:
        return
    for f in files:
        if f.name == _LIBRARY:
            yield Path(f.locate()).resolve()


def load() -> None:
    """Opens MKL if it is there and wanted; otherwise leaves the core as it is."""
    setting = os.environ.get("GDLITE_MKL", "")
    if setting == "0" or not sys.platform.startswith("linux"):
        return
    paths = [Path(setting)] if setting and setting != "1" else _candidates()
    for path in paths:
        if path.is_file():
            _C._mkl_load(os.fspath(path))
            return


load()
