"""``import gdlite.as_torch_names``: :func:`gdlite.as_torch` as one import
line, for the first cell of a notebook. See that function."""

from gdlite import as_torch

as_torch()
