"""PyTorch's file format: ``gdlite.save`` writes it, ``gdlite.load`` reads it
without running code from the file."""

from ._reader import load
from ._writer import save

__all__ = ["load", "save"]
