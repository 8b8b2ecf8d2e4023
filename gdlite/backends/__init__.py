"""Backend switches course code sets (``torch.backends.cudnn.deterministic =
True``): gdlite runs on the CPU only, so they are plain settable flags."""

from gdlite.backends import cudnn, mkl

__all__ = ["cudnn", "mkl"]
