"""Utilities under torch.utils's names: ``gdlite.utils.data``,
``gdlite.utils.hooks``."""

from . import data, hooks

__all__ = ["data", "hooks"]
