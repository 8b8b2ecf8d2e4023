"""``gdlite.backends.mkl``: whether Intel MKL computes what PyTorch's MKL does.

With MKL loaded (the ``mkl`` wheel on x86-64 Linux), exp, log, tanh, sin,
cos, tan, sqrt and the matrix, matrix-vector and dot products call the same
MKL routines as PyTorch's CPU build, so they give its bits."""

from gdlite import _C


def is_available() -> bool:
    """True when gdlite found and loaded MKL (see ``gdlite._mkl``)."""
    return _C._mkl_state()[0]
