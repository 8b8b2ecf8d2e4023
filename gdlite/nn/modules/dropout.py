"""Dropout."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from .module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """In training mode, zeroes each element with probability ``p`` and
    scales the others by ``1 / (1 - p)``; the identity in eval mode.

    The mask is PyTorch's under the same seed where its CPU bernoulli_ uses
    the generator directly (non-Intel CPUs, or builds without MKL); on Intel
    CPUs with MKL, PyTorch draws from MKL's own stream instead."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(
                f"dropout probability has to be between 0 and 1, but got {p}"
            )
        self.p = p
        self.inplace = inplace

    def forward(self, input: Any) -> Any:
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
