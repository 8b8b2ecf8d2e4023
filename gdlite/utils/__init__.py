"""Utilities under torch.utils's names: ``gdlite.utils.data``."""

from . import data

__all__ = ["data"]
