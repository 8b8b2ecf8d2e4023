"""gdlite.linalg: torch.linalg's vector norms.

``vector_norm`` is the reduction behind ``gdlite.norm`` (the same exact
kernel and LinalgVectorNormBackward0), with torch.linalg's checks and
``dtype=``. ``norm`` takes torch.linalg.norm's vector forms and the
Frobenius norm; other matrix norms are not implemented.
"""

from __future__ import annotations

from typing import Any

from . import _C
from ._reductions import _reduce, check_norm_identity

__all__ = ["norm", "vector_norm"]

_FLOATING = (_C.float32, _C.float64)


def _ord_number(ord: Any, name: str) -> float:
    if isinstance(ord, complex):
        raise RuntimeError(
            "linalg.vector_norm: Expected a non-complex scalar as the order of norm."
        )
    if isinstance(ord, bool) or not isinstance(ord, (int, float)):
        if hasattr(ord, "item") and getattr(ord, "ndim", 1) == 0:
            return float(ord.item())
        raise TypeError(
            f"{name}(): argument 'ord' (position 2) must be Number, not "
            f"{type(ord).__name__}"
        )
    return float(ord)


def _check_dtype(input: Any, dtype: Any) -> None:
    if not dtype.is_floating_point:
        raise RuntimeError(
            "linalg.vector_norm: dtype should be floating point or complex, but got "
            f"{dtype._scalar_name}"
        )
    if _C.promote_types(input.dtype, dtype) != dtype:
        raise RuntimeError(
            "linalg.vector_norm: the dtype of the input "
            f"({input.dtype._scalar_name}) should be convertible without narrowing "
            f"to the specified dtype ({dtype._scalar_name})"
        )


def _keepdim(name: str, keepdim: Any, keepdims: Any) -> Any:
    """keepdim, or NumPy's keepdims= in its place; torch refuses both."""
    if keepdims is None:
        return keepdim
    if keepdim is not None:
        raise TypeError(f"{name}() got an unexpected keyword argument 'keepdims'")
    return keepdims


def vector_norm(
    x: Any,
    ord: Any = 2,
    dim: Any = None,
    keepdim: Any = None,
    *,
    dtype: Any = None,
    keepdims: Any = None,
) -> Any:
    """The ``ord``-norm of ``x`` as a vector (flattened, or over ``dim``):
    ord 2 by default; 1, inf, -inf, 0 and any other real order."""
    keepdim = _keepdim("linalg_vector_norm", keepdim, keepdims)
    p = _ord_number(ord, "linalg_vector_norm")
    if x.dtype not in _FLOATING:
        raise RuntimeError(
            "linalg.vector_norm: Expected a floating point or complex tensor as "
            f"input. Got {x.dtype._scalar_name}"
        )
    check_norm_identity(x, p, ord, dim)
    if dtype is not None:
        _check_dtype(x, dtype)
        x = x.to(dtype)
    return _reduce("norm", x, dim, bool(keepdim), p)


def norm(
    A: Any,
    ord: Any = None,
    dim: Any = None,
    keepdim: Any = None,
    *,
    dtype: Any = None,
    keepdims: Any = None,
) -> Any:
    """torch.linalg.norm for vectors: ``dim`` an int, a 1-D input, or
    ``ord=None`` (the 2-norm of the flattened input, so the Frobenius norm of
    a matrix); ``ord='fro'`` over two dims. Other matrix norms raise."""
    keepdim = _keepdim("linalg_norm", keepdim, keepdims)
    if isinstance(dim, int) or (dim is not None and len(dim) == 1):
        if isinstance(ord, str):
            raise RuntimeError(
                f"linalg.matrix_norm: dim must be a 2-tuple. Got {_shown_dim(dim)}"
            )
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if isinstance(ord, str) or dim is not None or A.dim() != 1:
        return _matrix_norm(A, ord, dim, keepdim, dtype)
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


def _shown_dim(dim: Any) -> str:
    return str(dim) if isinstance(dim, int) else " ".join(str(d) for d in dim)


def _matrix_norm(A: Any, ord: Any, dim: Any, keepdim: Any, dtype: Any) -> Any:
    """The Frobenius norm (the 2-norm over two dims); the others are not
    implemented."""
    if A.dim() < 2:
        raise RuntimeError(
            "linalg.matrix_norm: The input tensor A must have at least 2 dimensions."
        )
    dim = (-2, -1) if dim is None else tuple(dim)
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {dim}")
    if ord != "fro":
        shown = ord if isinstance(ord, str) else f"{float(ord):g}"
        raise NotImplementedError(
            f"gdlite.linalg.norm: the matrix norm ord={shown} is not implemented"
        )
    return vector_norm(A, 2, dim, keepdim, dtype=dtype)
