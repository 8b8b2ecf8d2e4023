"""Text rendering of tensor values, following PyTorch's printing rules.

Everything here works on NumPy arrays so that the Tensor type can delegate
``__repr__`` and ``__format__`` without this module knowing about it.  The
output matches ``repr(torch_tensor)`` with ``torch.`` spelled ``gdlite.``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = [
    "PRINT_OPTS",
    "PrintOptions",
    "format_scalar",
    "format_tensor",
    "get_printoptions",
    "printoptions",
    "set_printoptions",
    "tensor_repr",
]

_DTYPE_PREFIX = "gdlite."
_PREFIX_EXTRA = len(_DTYPE_PREFIX) - len("torch.")
# Dtypes that can be inferred from the printed values, so torch omits them
# (besides the default dtype, which set_default_dtype changes).
_IMPLIED_DTYPES = frozenset({"int64", "bool"})


_default_float = ["float32"]  # set by gdlite.set_default_dtype


def _default_dtype_name() -> str:
    return _default_float[0]


@dataclasses.dataclass
class PrintOptions:
    """Global print settings; the field names and defaults mirror torch."""

    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = PrintOptions()

_PROFILES: dict[str, dict[str, Any]] = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set the options used when printing tensors.

    Args:
        precision: Digits after the decimal point for floats (default 4).
        threshold: Element count above which output is summarised with
            ``...`` (default 1000).
        edgeitems: Items kept at each end of a summarised dimension
            (default 3).
        linewidth: Characters per line before wrapping (default 80).
        profile: ``"default"``, ``"short"`` or ``"full"``; applied first, so
            the other arguments override it.  Unknown names are ignored.
        sci_mode: Force scientific notation on (True) or off (False); None
            chooses automatically.  Like torch, every call resets this
            option, so omit it only if automatic selection is wanted.
    """
    if profile is not None and profile in _PROFILES:
        for name, value in _PROFILES[profile].items():
            setattr(PRINT_OPTS, name, value)
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """Return the current print options as keyword arguments for
    :func:`set_printoptions`."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """Temporarily apply :func:`set_printoptions` arguments in a block."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


def _kind(dtype_name: str) -> str:
    if dtype_name == "bool":
        return "bool"
    if dtype_name.startswith("float"):
        return "float"
    if dtype_name.startswith(("int", "uint")):
        return "int"
    raise ValueError(f"unsupported dtype for printing: {dtype_name!r}")


def _as_array(values: Any, dtype_name: str) -> np.ndarray:
    # Round through the named dtype so float32 tensors show float32 values
    # even if the caller hands over wider data. A tensor's own array passes
    # through without a copy: only the printed elements are ever read (a
    # summarised view of a huge expanded tensor costs nothing), and they
    # become Python floats (exact) when formatted, as torch formats them.
    _kind(dtype_name)
    return np.asarray(values, dtype=np.dtype(dtype_name))


class _Formatter:
    """Chooses one layout (int-like, fixed or scientific) and one column
    width for all elements that will be shown."""

    def __init__(self, flat: np.ndarray, kind: str) -> None:
        self.is_float = kind == "float"
        if self.is_float:
            flat = flat.astype(np.float64)  # only the printed elements
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        if not self.is_float:
            for value in flat.tolist():
                self.width = max(self.width, len(str(value)))
            return

        shown = flat[np.isfinite(flat) & (flat != 0)]
        if shown.size == 0:
            # Only zeros/nan/inf: torch keeps the defaults, even if
            # scientific notation was requested.
            return
        magnitude = np.abs(shown)
        lo, hi = float(magnitude.min()), float(magnitude.max())
        self.int_mode = bool(np.all(shown == np.ceil(shown)))
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        else:
            self.sci_mode = bool(PRINT_OPTS.sci_mode)

        prec = PRINT_OPTS.precision
        if self.sci_mode:
            lengths = (len(f"{v:.{prec}e}") for v in shown.tolist())
        elif self.int_mode:
            # One extra column for the trailing "." that marks a float.
            lengths = (len(f"{v:.0f}") + 1 for v in shown.tolist())
        else:
            lengths = (len(f"{v:.{prec}f}") for v in shown.tolist())
        # Non-finite values are not measured: torch lets them overflow.
        self.width = max(self.width, *lengths)

    def format(self, value: float) -> str:
        if not self.is_float:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:{self.width}.{PRINT_OPTS.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}"
            if math.isfinite(value):
                text += "."
        else:
            text = f"{value:.{PRINT_OPTS.precision}f}"
        return text.rjust(self.width)


def _summarized(arr: np.ndarray) -> np.ndarray:
    """Flattened elements that survive summarisation (they alone set the
    formatter's layout)."""
    edge = PRINT_OPTS.edgeitems
    if arr.ndim == 0:
        return arr.reshape(-1)
    n = arr.shape[0]
    if arr.ndim == 1:
        # With edgeitems == 0, arr[-0:] is the whole vector; torch does the
        # same, though nothing of it is printed.
        return np.concatenate((arr[:edge], arr[-edge:])) if n > 2 * edge else arr
    if not edge:
        return arr[:0].reshape(-1)
    rows = (*range(edge), *range(n - edge, n)) if n > 2 * edge else range(n)
    return np.concatenate([_summarized(arr[i]) for i in rows])


def _render_vector(
    arr: np.ndarray, indent: int, summarize: bool, fmt: _Formatter
) -> str:
    edge = PRINT_OPTS.edgeitems
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / (fmt.width + 2)))
    if summarize and not edge:
        items = ["..."]
    elif summarize and arr.shape[0] > 2 * edge:
        # The leading space in " ..." is torch's; it yields ",  ...,".
        items = [fmt.format(v) for v in arr[:edge].tolist()]
        items.append(" ...")
        items += [fmt.format(v) for v in arr[-edge:].tolist()]
    else:
        items = [fmt.format(v) for v in arr.tolist()]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _render(arr: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if arr.ndim == 0:
        return fmt.format(arr.item())
    if arr.ndim == 1:
        return _render_vector(arr, indent, summarize, fmt)
    edge = PRINT_OPTS.edgeitems
    n = arr.shape[0]
    if summarize and n > 2 * edge:
        parts = [_render(arr[i], indent + 1, summarize, fmt) for i in range(edge)]
        parts.append("...")
        parts += [
            _render(arr[i], indent + 1, summarize, fmt) for i in range(n - edge, n)
        ]
    else:
        parts = [_render(row, indent + 1, summarize, fmt) for row in arr]
    # Blocks of higher rank are separated by more blank lines.
    sep = "," + "\n" * (arr.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(parts) + "]"


def _add_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    pieces = [text]
    # torch measures the last line this way (two more than its length when
    # there is a single line); kept so wrapping decisions match.
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        # Measure "dtype=gdlite.x" as torch measures "dtype=torch.x" so line
        # breaks fall in the same places as in torch's output.
        width = len(suffix) - suffix.count(_DTYPE_PREFIX) * _PREFIX_EXTRA
        if last_line_len + width + 2 > PRINT_OPTS.linewidth:
            pieces.append(",\n" + " " * indent + suffix)
            last_line_len = indent + width
        else:
            pieces.append(", " + suffix)
            last_line_len += width + 2
    pieces.append(")")
    return "".join(pieces)


def tensor_repr(
    values: Any,
    dtype_name: str,
    *,
    requires_grad: bool = False,
    grad_fn_name: str | None = None,
    prefix: str = "tensor(",
) -> str:
    """Return the repr of a tensor holding ``values``, exactly as torch
    prints it (with ``gdlite.`` dtype names).

    Args:
        values: Array-like of the tensor's elements in their logical shape
            (0-d for scalars).  It is cast to ``dtype_name`` first.
        dtype_name: ``"float32"``, ``"float64"``, ``"int64"``, ``"int32"``,
            ``"bool"`` (``float16``, ``int8``, ``int16``, ``uint8`` also
            work).  Anything but float32, int64 and bool adds ``dtype=``.
        requires_grad: Adds ``requires_grad=True`` when ``grad_fn_name`` is
            None, as for leaf tensors in torch.
        grad_fn_name: Name of the producing backward node, e.g.
            ``"MulBackward0"``; adds ``grad_fn=<MulBackward0>``.
        prefix: Text before the values; its length sets the indentation
            of continuation lines.
    """
    arr = _as_array(values, dtype_name)
    indent = len(prefix)
    size = f"size={tuple(arr.shape)}"
    dtype = f"dtype={_DTYPE_PREFIX}{dtype_name}"
    suffixes = []
    if arr.size == 0:
        # NumPy-style: the shape is implied only for a 1-d empty tensor, and
        # no values exist to imply an integer dtype.
        if arr.ndim != 1:
            suffixes.append(size)
        if dtype_name != _default_dtype_name():
            suffixes.append(dtype)
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(size)
        if dtype_name not in _IMPLIED_DTYPES and dtype_name != _default_dtype_name():
            suffixes.append(dtype)
        summarize = arr.size > PRINT_OPTS.threshold
        flat = _summarized(arr) if summarize else arr.reshape(-1)
        body = _render(arr, indent, summarize, _Formatter(flat, _kind(dtype_name)))
    if grad_fn_name is not None:
        suffixes.append(f"grad_fn=<{grad_fn_name}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)


def format_scalar(value: float, dtype_name: str, format_spec: str) -> str:
    """Format a 0-d tensor's value as ``Tensor.__format__`` does.

    torch formats the Python number from ``item()``, so an empty spec gives
    ``str(float)`` (e.g. ``0.10000000149011612`` for float32 0.1), not the
    tensor repr.  ``value`` (a Python or NumPy bool, int or float) is first
    converted to ``dtype_name``, so bools format as bools and ints as ints.
    """
    return format(np.asarray(value, dtype=np.dtype(dtype_name)).item(), format_spec)


def format_tensor(values: Any, dtype_name: str, format_spec: str, **kwargs: Any) -> str:
    """Implement ``Tensor.__format__`` for a tensor of any rank.

    0-d tensors go through :func:`format_scalar`; otherwise an empty spec
    gives :func:`tensor_repr` (``kwargs`` are passed on) and any other spec
    raises ``TypeError`` with the message ``object.__format__`` uses.
    """
    arr = np.asarray(values)
    if arr.ndim == 0:
        return format_scalar(arr.item(), dtype_name, format_spec)
    if format_spec:
        raise TypeError("unsupported format string passed to Tensor.__format__")
    return tensor_repr(arr, dtype_name, **kwargs)
