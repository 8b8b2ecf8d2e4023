"""Utilities under torch.utils's names: ``gdlite.utils.data``,
``gdlite.utils.dlpack``, ``gdlite.utils.hooks``."""

from . import data, dlpack, hooks

__all__ = ["data", "dlpack", "hooks"]
