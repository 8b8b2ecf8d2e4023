"""Reductions in PyTorch's signatures: sum, mean, prod, cumsum, cumprod, max/min and
their arg forms, var/std, norm, any/all (the functions and the methods)."""

from __future__ import annotations

import builtins
import math
from typing import Any

from . import _C, _warnings
from ._types import return_types

OPS = _C.ops


def _dim_or_axis(name: str, dim: Any, axis: Any, unset: Any = None) -> Any:
    """PyTorch accepts NumPy's ``axis=`` for ``dim=`` (d2l writes
    ``y_hat.argmax(axis=1)``), but not both."""
    if axis is unset:
        return dim
    if dim is not unset:
        raise TypeError(f"{name}() got an unexpected keyword argument 'axis'")
    return axis


class _DefaultFalse:
    """keepdim's default: false, yet told apart from an explicit False, since
    torch refuses keepdim= and keepdims= together whatever their values."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "False"


KEEPDIM = _DefaultFalse()

# torch's complaint when keepdim= and keepdims= are both given, which depends
# on the overloads its parser tried: (with a dim, without one).
_UNEXPECTED = "{}() got an unexpected keyword argument 'keepdims'"
_MISSING_DIM = '{}() missing 1 required positional arguments: "dim"'
# (its list of the overloads, and the order of the keywords as called, are
# not reproduced)
_INVALID = "{}() received an invalid combination of arguments - got (Tensor, {})"
_BOTH_KEEPDIMS = {
    "sum": (_UNEXPECTED, _MISSING_DIM),
    "prod": (_UNEXPECTED, _MISSING_DIM),
    "mean": (_UNEXPECTED, _INVALID),
    "max": (_UNEXPECTED, _INVALID),
    "min": (_UNEXPECTED, _INVALID),
    "var": (_INVALID, _INVALID),
    "std": (_INVALID, _INVALID),
    "any": (_INVALID, _INVALID),
    "all": (_INVALID, _INVALID),
}


def _numpy_keywords(
    name: str, dim: Any, keepdim: Any, axis: Any, keepdims: Any, unset: Any = None
) -> tuple[Any, Any]:
    """dim and keepdim, given NumPy's ``axis=`` or ``keepdims=`` (callers
    test for those first: most calls have neither)."""
    given_axis = axis is not unset
    dim = _dim_or_axis(name, dim, axis, unset)
    if keepdims is not None:
        if keepdim is not KEEPDIM:
            form = _BOTH_KEEPDIMS.get(name, (_UNEXPECTED, _UNEXPECTED))[dim is unset]
            if form is _UNEXPECTED and given_axis:
                # torch's parser then complains of the other NumPy name
                raise TypeError(f"{name}() got an unexpected keyword argument 'axis'")
            got = "keepdims=bool, keepdim=bool" + ("" if dim is unset else ", dim=int")
            raise TypeError(form.format(name, got))
        keepdim = keepdims
    return dim, keepdim


def _dims(dim: Any) -> tuple[int, ...] | None:
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        return tuple(int(d) for d in dim)
    return (int(dim),)


# ---- reductions -------------------------------------------------------------


def _reduce(name: str, input: Any, dim: Any, keepdim: bool, param: float = 0.0) -> Any:
    dims = _dims(dim)
    if dims == ():
        dims = None
    # the default's stand-in is passed as a plain bool: the core's parse of
    # it would call its Python __bool__
    keep = False if keepdim is KEEPDIM else keepdim
    return _C.reduce(OPS[name], input, dims, keep, param)


def sum(
    input: Any,
    dim: Any = None,
    keepdim: bool = KEEPDIM,
    *,
    dtype: Any = None,
    axis: Any = None,
    keepdims: Any = None,
) -> Any:  # noqa: A001
    """Sum over all elements or over ``dim`` (int or tuple)."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _numpy_keywords("sum", dim, keepdim, axis, keepdims)
    if dtype is not None:
        input = input.to(dtype)
    return _reduce("sum", input, dim, keepdim)


def mean(
    input: Any,
    dim: Any = None,
    keepdim: bool = KEEPDIM,
    *,
    dtype: Any = None,
    axis: Any = None,
    keepdims: Any = None,
) -> Any:
    """Mean over all elements or over ``dim``; floating dtypes only."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _numpy_keywords("mean", dim, keepdim, axis, keepdims)
    if dtype is not None:
        if not dtype.is_floating_point:
            raise RuntimeError(
                "mean(): could not infer output dtype. Optional dtype must be either a "
                f"floating point or complex dtype. Got: {dtype._scalar_name}"
            )
        input = input.to(dtype)
    return _reduce("mean", input, dim, keepdim)


def prod(
    input: Any,
    dim: Any = None,
    keepdim: bool = KEEPDIM,
    *,
    dtype: Any = None,
    axis: Any = None,
    keepdims: Any = None,
) -> Any:
    """Product over all elements or along one ``dim``."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _numpy_keywords("prod", dim, keepdim, axis, keepdims)
    if dtype is not None:
        input = input.to(dtype)
    return _reduce("prod", input, dim, keepdim)


def cumsum(input: Any, dim: Any = None, *, dtype: Any = None, axis: Any = None) -> Any:
    """Cumulative sum along ``dim``; integers and bools give int64.

    Example: ``gdlite.tensor([1., 2., 3.]).cumsum(0)`` is ``tensor([1., 3., 6.])``.
    """
    dim = _dim_or_axis("cumsum", dim, axis)
    if dim is None:
        raise TypeError('cumsum() missing 1 required positional arguments: "dim"')
    if dtype is not None:
        input = input.to(dtype)
    return _C.scan(OPS["cumsum"], input, int(dim))


def cumprod(input: Any, dim: Any = None, *, dtype: Any = None) -> Any:
    """Cumulative product along ``dim``; integers and bools give int64 unless
    ``dtype`` says otherwise.

    Example: ``gdlite.tensor([1., 2., 3.]).cumprod(0)`` is ``tensor([1., 2., 6.])``.
    """
    if dim is None:
        raise TypeError('cumprod() missing 1 required positional arguments: "dim"')
    if (
        dtype is not None
        and not dtype.is_floating_point
        and input.requires_grad
        and _C.is_grad_enabled()
    ):
        raise RuntimeError(f"Autograd not support dtype: {dtype._scalar_name}")
    return _C.scan(OPS["cumprod"], input, int(dim), dtype)


def cumprod_(self: Any, dim: Any = None, *, dtype: Any = None) -> Any:
    """In-place cumulative product along ``dim``, in ``self``'s dtype; returns self."""
    if dim is None:
        raise TypeError('cumprod_() missing 1 required positional arguments: "dim"')
    if dtype is not None and dtype != self.dtype:
        raise RuntimeError(
            f"Bad in-place call: input tensor dtype {self.dtype._cxx_name} and output "
            f"tensor dtype {dtype._cxx_name} should match"
        )
    _C.scan(OPS["cumprod"], self, int(dim), self.dtype, True)
    return self


def _check_nonempty(name: str, input: Any, dim: Any) -> None:
    """PyTorch's errors for max-like reductions over nothing."""
    if input.numel() != 0:
        return
    if dim is None or dim == ():
        if name in ("argmax", "argmin"):
            raise IndexError(
                f"{name}(): Expected reduction dim to be specified for "
                "input.numel() == 0."
            )
        raise RuntimeError(
            f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
            "Specify the reduction dim with the 'dim' argument."
        )
    for d in dim if isinstance(dim, (tuple, list)) else (dim,):
        if input.ndim and input.shape[d] == 0:
            # max(dim) and argmax name the dim wrapped; amax/amin as given.
            shown = d if name in ("amax", "amin") else d % input.ndim
            raise IndexError(
                f"{name}(): Expected reduction dim {shown} to have non-zero size."
            )


def _extreme(name: str, input: Any, dim: Any, keepdim: bool) -> Any:
    if dim is not None and not isinstance(dim, int) and hasattr(dim, "dtype"):
        # max(a, b): elementwise, as PyTorch's overload
        return _C.binary(OPS["maximum" if name == "max" else "minimum"], input, dim)
    _check_nonempty(name, input, dim)
    if dim is None:
        return _reduce(name, input, None, False)
    keep = False if keepdim is KEEPDIM else keepdim
    values, indices = _C.reduce_index(OPS[name], input, int(dim), keep)
    return getattr(return_types, name)(values, indices)


def max(  # noqa: A001
    input: Any,
    dim: Any = None,
    keepdim: bool = KEEPDIM,
    *,
    axis: Any = None,
    keepdims: Any = None,
) -> Any:
    """Largest element; with ``dim``, (values, indices) along it."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _numpy_keywords("max", dim, keepdim, axis, keepdims)
    return _extreme("max", input, dim, keepdim)


def min(  # noqa: A001
    input: Any,
    dim: Any = None,
    keepdim: bool = KEEPDIM,
    *,
    axis: Any = None,
    keepdims: Any = None,
) -> Any:
    """Smallest element; with ``dim``, (values, indices) along it."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _numpy_keywords("min", dim, keepdim, axis, keepdims)
    return _extreme("min", input, dim, keepdim)


def amax(
    input: Any,
    dim: Any = (),
    keepdim: bool = KEEPDIM,
    *,
    axis: Any = (),
    keepdims: Any = None,
) -> Any:
    """Largest values over ``dim`` (all dims by default)."""
    _check_nonempty("amax", input, dim)
    if axis != () or keepdims is not None:
        dim, keepdim = _numpy_keywords("amax", dim, keepdim, axis, keepdims, ())
    return _reduce("max", input, dim, keepdim)


def amin(
    input: Any,
    dim: Any = (),
    keepdim: bool = KEEPDIM,
    *,
    axis: Any = (),
    keepdims: Any = None,
) -> Any:
    """Smallest values over ``dim`` (all dims by default)."""
    _check_nonempty("amin", input, dim)
    if axis != () or keepdims is not None:
        dim, keepdim = _numpy_keywords("amin", dim, keepdim, axis, keepdims, ())
    return _reduce("min", input, dim, keepdim)


def _arg_extreme(name: str, input: Any, dim: int | None, keepdim: bool) -> Any:
    if input.dtype == _C.bool:
        raise RuntimeError(f"{name}(): does not support bool input")
    _check_nonempty(name, input, dim)
    if dim is None:
        out = _reduce(name, input, None, False)
        return out.reshape([1] * input.dim()) if keepdim else out
    keep = False if keepdim is KEEPDIM else keepdim
    return _C.reduce_index(OPS[name], input, int(dim), keep)[1]


def argmax(
    input: Any,
    dim: int | None = None,
    keepdim: bool = KEEPDIM,
    *,
    axis: Any = None,
    keepdims: Any = None,
) -> Any:
    """Index of the largest element (flat, or along ``dim``)."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _numpy_keywords("argmax", dim, keepdim, axis, keepdims)
    return _arg_extreme("argmax", input, dim, keepdim)


def argmin(
    input: Any,
    dim: int | None = None,
    keepdim: bool = KEEPDIM,
    *,
    axis: Any = None,
    keepdims: Any = None,
) -> Any:
    """Index of the smallest element (flat, or along ``dim``)."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _numpy_keywords("argmin", dim, keepdim, axis, keepdims)
    return _arg_extreme("argmin", input, dim, keepdim)


def _correction(unbiased: Any, correction: Any) -> float:
    if correction is not None:
        return float(correction)
    return 1.0 if unbiased is None or unbiased else 0.0


def _check_dof(name: str, input: Any, out: Any, correction: float) -> None:
    """torch's warning when the correction leaves no degrees of freedom."""
    if input.numel() // builtins.max(out.numel(), 1) - correction <= 0:
        _warnings.warn_at_caller(
            f"{name}(): degrees of freedom is <= 0. Correction should be strictly "
            "less than the reduction factor (input numel divided by output numel)."
        )


def var(
    input: Any,
    dim: Any = None,
    unbiased: Any = None,
    keepdim: bool = KEEPDIM,
    *,
    correction: Any = None,
    axis: Any = None,
    keepdims: Any = None,
) -> Any:
    """Variance (unbiased by default: ``correction=1``)."""
    if isinstance(dim, bool):  # var(unbiased) positional form
        dim, unbiased = None, dim
    if axis is not None or keepdims is not None:
        dim, keepdim = _numpy_keywords("var", dim, keepdim, axis, keepdims)
    correction = _correction(unbiased, correction)
    out = _reduce("var", input, dim, keepdim, correction)
    _check_dof("var", input, out, correction)
    return out


def std(
    input: Any,
    dim: Any = None,
    unbiased: Any = None,
    keepdim: bool = KEEPDIM,
    *,
    correction: Any = None,
    axis: Any = None,
    keepdims: Any = None,
) -> Any:
    """Standard deviation (unbiased by default: ``correction=1``)."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if axis is not None or keepdims is not None:
        dim, keepdim = _numpy_keywords("std", dim, keepdim, axis, keepdims)
    correction = _correction(unbiased, correction)
    out = _reduce("std", input, dim, keepdim, correction)
    _check_dof("std", input, out, correction)
    return out


def check_norm_identity(input: Any, p: float, ord: Any, dim: Any) -> None:
    """torch's refusal of a negative or infinite order over nothing: such a
    norm has no value for an empty reduction."""
    if input.numel() != 0 or not (p < 0 or p == math.inf):
        return
    shown = str(ord) if isinstance(ord, int) else f"{p:g}"
    dims = _dims(dim)
    if not dims:
        raise RuntimeError(
            f"linalg.vector_norm cannot compute the {shown} norm on an empty tensor "
            "because the operation does not have an identity"
        )
    for d in dims:
        if -input.dim() <= d < input.dim() and input.shape[d] == 0:
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {shown} norm on the dimension "
                f"{d}because this dimension is empty and the operation does not "
                "have an identity"
            )


def norm(input: Any, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Any:
    """Vector p-norm (2 by default; 'fro', 1, inf, -inf, 0 and other p)."""
    if p == "fro" or p is None:
        p = 2.0
    if isinstance(p, str):
        raise RuntimeError(f"gdlite.norm: p='{p}' is not supported")
    if input.dtype.is_floating_point:
        check_norm_identity(input, float(p), p, dim)
    return _reduce("norm", input, dim, keepdim, float(p))


def _logical_result(result: Any, input: Any) -> Any:
    # PyTorch keeps uint8 for any/all of uint8 input (its pre-bool behaviour).
    return result.to(_C.uint8) if input.dtype == _C.uint8 else result


def any(  # noqa: A001
    input: Any,
    dim: Any = None,
    keepdim: bool = KEEPDIM,
    *,
    axis: Any = None,
    keepdims: Any = None,
) -> Any:
    """True where any element (over ``dim``) is nonzero."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _numpy_keywords("any", dim, keepdim, axis, keepdims)
    return _logical_result(_reduce("sum", input != 0, dim, keepdim) > 0, input)


def all(  # noqa: A001
    input: Any,
    dim: Any = None,
    keepdim: bool = KEEPDIM,
    *,
    axis: Any = None,
    keepdims: Any = None,
) -> Any:
    """True where every element (over ``dim``) is nonzero."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _numpy_keywords("all", dim, keepdim, axis, keepdims)
    return _logical_result(_reduce("sum", input == 0, dim, keepdim) == 0, input)
