"""``gdlite.backends.cudnn``: the flags PyTorch's cuDNN backend exposes.

There is no cuDNN here; reproducibility recipes that set ``deterministic``
and ``benchmark`` run unchanged, and gdlite's CPU results are deterministic
either way."""

enabled = True
deterministic = False
benchmark = False
allow_tf32 = True


def is_available() -> bool:
    """False: gdlite has no cuDNN."""
    return False


def version() -> None:
    """None, as PyTorch reports when cuDNN is unavailable."""
    return None
