"""gdlite computes on the CPU; this namespace answers course code that asks."""


def is_available() -> bool:
    """False: gdlite has no GPU backend."""
    return False


def device_count() -> int:
    """0: gdlite has no GPU backend."""
    return 0
