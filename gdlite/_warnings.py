"""Warnings PyTorch gives once per process (its TORCH_WARN_ONCE)."""

from __future__ import annotations

import os
import sys
import warnings

_issued: set[str] = set()

T_NOT_2D = (
    "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
    "deprecated and it will throw an error in a future release. Consider `x.mT` to "
    "transpose batches of matrices or `x.permute(*gdlite.arange(x.ndim - 1, -1, -1))` "
    "to reverse the dimensions of a tensor."
)
_IDENTITY = "This function is the identity in these cases."
_CONJ = "Consider using x.conj()."
ZERO_D = {
    "T": f"Tensor.T is deprecated on 0-D tensors. {_IDENTITY}",
    "mT": f"Tensor.mT is deprecated on 0-D tensors. {_IDENTITY}",
    "mH": f"Tensor.mH is deprecated on 0-D tensors. {_CONJ}",
    "H": f"Tensor.H is deprecated on 0-D tensors. {_CONJ}",
}
NOT_WRITABLE = (
    "The given NumPy array is not writable, and PyTorch does not support non-writable "
    "tensors. This means writing to this tensor will result in undefined behavior. You "
    "may want to copy the array to protect its data or make it writable before "
    "converting it to a tensor. This type of warning will be suppressed for the rest "
    "of this program."
)


def warn_once(message: str, stacklevel: int) -> None:
    """A UserWarning with ``message`` the first time only, whatever the warning
    filters did with it (torch counts the first time even if it was hidden).
    ``stacklevel`` counts from the caller of ``warn_once``."""
    if message in _issued:
        return
    _issued.add(message)
    warnings.warn(message, UserWarning, stacklevel=stacklevel + 1)


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_at_caller(message: str) -> None:
    """A UserWarning reported at the first frame outside gdlite, as torch's
    warnings from its C++ point at the user's line whatever path led there."""
    level, frame = 2, sys._getframe(1)  # level 1 is this function
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        level, frame = level + 1, frame.f_back
    warnings.warn(message, UserWarning, stacklevel=level)
