"""Tensor operations in PyTorch's signatures.

Each function takes the tensor first, so the same object serves as
``gdlite.exp(t)`` and as the method ``t.exp()``. Argument handling lives here;
the work is one call into the C core.
"""

from __future__ import annotations

import builtins
import math
import warnings
from collections.abc import Sequence
from typing import Any

from . import _C
from ._types import return_types

OPS = _C.ops
builtins_any = builtins.any  # this module defines its own any()

_UNARY = (
    "neg abs exp log log1p sqrt square reciprocal sin cos tan sinh cosh tanh "
    "sigmoid relu sign floor ceil logical_not bitwise_not"
).split()
_BINARY = (
    "add sub mul div floor_divide remainder pow maximum minimum eq ne lt le gt ge "
    "logical_and logical_or logical_xor bitwise_and bitwise_or bitwise_xor"
).split()


def _dims(dim: Any) -> tuple[int, ...] | None:
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        return tuple(int(d) for d in dim)
    return (int(dim),)


# ---- elementwise ------------------------------------------------------------


def _make_unary(name: str) -> Any:
    code = OPS[name]

    def op(input: Any) -> Any:
        return _C.unary(code, input)

    def op_(self: Any) -> Any:
        _C.unary_(code, self)
        return self

    op.__name__, op_.__name__ = name, name + "_"
    op.__doc__ = f"Elementwise {name}: ``gdlite.{name}(t)`` or ``t.{name}()``."
    op_.__doc__ = f"In-place {name}; returns the tensor."
    return op, op_


def _make_binary(name: str) -> Any:
    code = OPS[name]

    def op(input: Any, other: Any) -> Any:
        return _C.binary(code, input, other)

    def op_(self: Any, other: Any) -> Any:
        _C.binary_(code, self, other)
        return self

    op.__name__, op_.__name__ = name, name + "_"
    op.__doc__ = f"Elementwise {name} with broadcasting and type promotion."
    op_.__doc__ = f"In-place {name}; returns the tensor."
    return op, op_


UNARY = {name: _make_unary(name) for name in _UNARY}
BINARY = {name: _make_binary(name) for name in _BINARY}


def _scaled(input: Any, other: Any, alpha: Any) -> Any:
    """alpha * other in the dtype the sum will have, as PyTorch scales."""
    if alpha == 1:
        return other
    dtype = _C.binary(OPS["add"], input, other).dtype
    if isinstance(alpha, float) and not dtype.is_floating_point:
        raise RuntimeError(
            "For integral input tensors, argument alpha must not be a floating point "
            "number."
        )
    if not isinstance(other, _C.TensorBase):
        return other * alpha
    return _C.binary(OPS["mul"], _C.to_dtype(other, dtype), _C.full((), alpha, dtype))


def add(input: Any, other: Any, *, alpha: Any = 1) -> Any:
    """``input + alpha * other``, broadcast. Example: ``gdlite.add(a, b, alpha=2)``."""
    return _C.binary(OPS["add"], input, _scaled(input, other, alpha))


def _has_bool(*operands: Any) -> bool:
    return builtins_any(
        isinstance(x, bool) or getattr(x, "dtype", None) == _C.bool for x in operands
    )


def sub(input: Any, other: Any, *, alpha: Any = 1) -> Any:
    """``input - alpha * other``, broadcast."""
    if alpha != 1 and not _has_bool(input, other):  # bools: PyTorch's refusal
        other = _scaled(input, other, alpha)
    return _C.binary(OPS["sub"], input, other)


_ROUNDING = {None: "div", "floor": "floor_divide", "trunc": "trunc_divide"}


def _rounding_op(rounding_mode: str | None) -> int:
    if rounding_mode not in _ROUNDING:
        raise RuntimeError(
            "div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
            f"found '{rounding_mode}'"
        )
    return OPS[_ROUNDING[rounding_mode]]


def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Any:
    """True division; ``rounding_mode`` 'floor' or 'trunc' rounds the quotient."""
    return _C.binary(_rounding_op(rounding_mode), input, other)


def add_(self: Any, other: Any, *, alpha: Any = 1) -> Any:
    """In-place ``self += alpha * other``; returns self."""
    _C.binary_(OPS["add"], self, _scaled(self, other, alpha))
    return self


def sub_(self: Any, other: Any, *, alpha: Any = 1) -> Any:
    """In-place ``self -= alpha * other``; returns self."""
    if alpha != 1 and not _has_bool(self, other):  # bools: PyTorch's refusal
        other = _scaled(self, other, alpha)
    _C.binary_(OPS["sub"], self, other)
    return self


def div_(self: Any, other: Any, *, rounding_mode: str | None = None) -> Any:
    """In-place division; returns self."""
    _C.binary_(_rounding_op(rounding_mode), self, other)
    return self


def round(input: Any, *, decimals: int = 0) -> Any:  # noqa: A001 - torch's name
    """Rounds half to even, optionally at ``decimals`` places."""
    if decimals == 0:
        return _C.unary(OPS["round"], input)
    scale = 10.0**decimals
    return _C.unary(OPS["round"], input * scale) / scale


def _clamp_dtype(input: Any, min: Any, max: Any) -> Any:  # noqa: A002
    dtype = input.dtype
    for bound in (min, max):
        if bound is not None:
            dtype = _C.binary(OPS["add"], _C.full((), 0, dtype), bound).dtype
    return dtype


def clamp(input: Any, min: Any = None, max: Any = None) -> Any:  # noqa: A002
    """Limits values to ``[min, max]``; either bound may be None or a tensor.
    Alias: ``clip``."""
    if min is None and max is None:
        raise RuntimeError(
            "torch.clamp: At least one of 'min' or 'max' must not be None"
        )
    if any_tensor_bound(min, max):
        # Elementwise bounds: max(input, min) then min(., max), NaN kept.
        out = input
        if min is not None:
            out = _C.binary(OPS["maximum"], out, min)
        if max is not None:
            out = _C.binary(OPS["minimum"], out, max)
        return out
    dtype = _clamp_dtype(input, min, max)
    if dtype != input.dtype:
        input = _C.to_dtype(input, dtype)
    return _C.clamp(input, min, max, False)


def any_tensor_bound(*bounds: Any) -> bool:
    return builtins_any(isinstance(b, _C.TensorBase) and b.numel() != 1 for b in bounds)


def clamp_(self: Any, min: Any = None, max: Any = None) -> Any:  # noqa: A002
    """In-place clamp; returns self."""
    dtype = _clamp_dtype(self, min, max)
    if dtype != self.dtype:
        raise RuntimeError(
            f"result type {dtype._scalar_name} can't be cast to the desired output "
            f"type {self.dtype._cxx_name}"
        )
    if any_tensor_bound(min, max):
        self.copy_(clamp(self, min, max))
    else:
        _C.clamp(self, min, max, True)
    return self


def where(condition: Any, input: Any, other: Any) -> Any:
    """Elements of ``input`` where ``condition`` holds, else of ``other``."""
    return _C.where(condition, input, other)


def isnan(input: Any) -> Any:
    """Bool tensor: which elements are NaN."""
    return input != input


def isinf(input: Any) -> Any:
    """Bool tensor: which elements are +inf or -inf."""
    return abs(input) == math.inf


def isfinite(input: Any) -> Any:
    """Bool tensor: which elements are neither NaN nor infinite."""
    return (input == input) & (abs(input) != math.inf)


# ---- reductions -------------------------------------------------------------


def _reduce(name: str, input: Any, dim: Any, keepdim: bool, param: float = 0.0) -> Any:
    dims = _dims(dim)
    if dims == ():
        dims = None
    return _C.reduce(OPS[name], input, dims, keepdim, param)


def sum(
    input: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
) -> Any:  # noqa: A001
    """Sum over all elements or over ``dim`` (int or tuple)."""
    if dtype is not None:
        input = input.to(dtype)
    return _reduce("sum", input, dim, keepdim)


def mean(
    input: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
) -> Any:
    """Mean over all elements or over ``dim``; floating dtypes only."""
    if dtype is not None:
        if not dtype.is_floating_point:
            raise RuntimeError(
                "mean(): could not infer output dtype. Optional dtype must be either a "
                f"floating point or complex dtype. Got: {dtype._scalar_name}"
            )
        input = input.to(dtype)
    return _reduce("mean", input, dim, keepdim)


def prod(
    input: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
) -> Any:
    """Product over all elements or along one ``dim``."""
    if dtype is not None:
        input = input.to(dtype)
    return _reduce("prod", input, dim, keepdim)


def cumsum(input: Any, dim: int, *, dtype: Any = None) -> Any:
    """Cumulative sum along ``dim``; integers and bools give int64.

    Example: ``gdlite.tensor([1., 2., 3.]).cumsum(0)`` is ``tensor([1., 3., 6.])``.
    """
    if dtype is not None:
        input = input.to(dtype)
    return _C.scan(OPS["cumsum"], input, int(dim))


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
    values, indices = _C.reduce_index(OPS[name], input, int(dim), keepdim)
    return getattr(return_types, name)(values, indices)


def max(input: Any, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """Largest element; with ``dim``, (values, indices) along it."""
    return _extreme("max", input, dim, keepdim)


def min(input: Any, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """Smallest element; with ``dim``, (values, indices) along it."""
    return _extreme("min", input, dim, keepdim)


def amax(input: Any, dim: Any = (), keepdim: bool = False) -> Any:
    """Largest values over ``dim`` (all dims by default)."""
    _check_nonempty("amax", input, dim)
    return _reduce("max", input, dim, keepdim)


def amin(input: Any, dim: Any = (), keepdim: bool = False) -> Any:
    """Smallest values over ``dim`` (all dims by default)."""
    _check_nonempty("amin", input, dim)
    return _reduce("min", input, dim, keepdim)


def _arg_extreme(name: str, input: Any, dim: int | None, keepdim: bool) -> Any:
    if input.dtype == _C.bool:
        raise RuntimeError(f"{name}(): does not support bool input")
    _check_nonempty(name, input, dim)
    if dim is None:
        out = _reduce(name, input, None, False)
        return out.reshape([1] * input.dim()) if keepdim else out
    return _C.reduce_index(OPS[name], input, int(dim), keepdim)[1]


def argmax(input: Any, dim: int | None = None, keepdim: bool = False) -> Any:
    """Index of the largest element (flat, or along ``dim``)."""
    return _arg_extreme("argmax", input, dim, keepdim)


def argmin(input: Any, dim: int | None = None, keepdim: bool = False) -> Any:
    """Index of the smallest element (flat, or along ``dim``)."""
    return _arg_extreme("argmin", input, dim, keepdim)


def _correction(unbiased: Any, correction: Any) -> float:
    if correction is not None:
        return float(correction)
    return 1.0 if unbiased is None or unbiased else 0.0


def var(
    input: Any,
    dim: Any = None,
    unbiased: Any = None,
    keepdim: bool = False,
    *,
    correction: Any = None,
) -> Any:
    """Variance (unbiased by default: ``correction=1``)."""
    if isinstance(dim, bool):  # var(unbiased) positional form
        dim, unbiased = None, dim
    return _reduce("var", input, dim, keepdim, _correction(unbiased, correction))


def std(
    input: Any,
    dim: Any = None,
    unbiased: Any = None,
    keepdim: bool = False,
    *,
    correction: Any = None,
) -> Any:
    """Standard deviation (unbiased by default: ``correction=1``)."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return _reduce("std", input, dim, keepdim, _correction(unbiased, correction))


def norm(input: Any, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Any:
    """Vector p-norm (2 by default; 'fro', 1, inf, -inf, 0 and other p)."""
    if p == "fro" or p is None:
        p = 2.0
    if isinstance(p, str):
        raise RuntimeError(f"gdlite.norm: p='{p}' is not supported")
    return _reduce("norm", input, dim, keepdim, float(p))


def _logical_result(result: Any, input: Any) -> Any:
    # PyTorch keeps uint8 for any/all of uint8 input (its pre-bool behaviour).
    return result.to(_C.uint8) if input.dtype == _C.uint8 else result


def any(input: Any, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """True where any element (over ``dim``) is nonzero."""
    return _logical_result(_reduce("sum", input != 0, dim, keepdim) > 0, input)


def all(input: Any, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """True where every element (over ``dim``) is nonzero."""
    return _logical_result(_reduce("sum", input == 0, dim, keepdim) == 0, input)


# ---- linear algebra ---------------------------------------------------------


def matmul(input: Any, other: Any) -> Any:
    """Matrix product with PyTorch's 1-D, 2-D and batched broadcasting rules."""
    return _C.matmul(input, other)


def mm(input: Any, mat2: Any) -> Any:
    """Product of two matrices."""
    if input.dim() != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.dim() != 2:
        raise RuntimeError("mat2 must be a matrix")
    return _C.matmul(input, mat2)


def mv(input: Any, vec: Any) -> Any:
    """Matrix times vector."""
    if input.dim() != 2 or vec.dim() != 1:
        raise RuntimeError(
            f"vector + matrix @ vector expected, got 1, {input.dim()}, {vec.dim()}"
        )
    return _C.matmul(input, vec)


def dot(input: Any, tensor: Any) -> Any:
    """Inner product of two 1-D tensors."""
    if input.dim() != 1 or tensor.dim() != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {input.dim()}D and {tensor.dim()}D tensors"
        )
    return _C.matmul(input, tensor)


def bmm(input: Any, mat2: Any) -> Any:
    """Batched product of two 3-D tensors."""
    if input.dim() != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.dim() != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(
            "Expected size for first two dimensions of batch2 tensor to be: "
            f"[{input.shape[0]}, {input.shape[2]}] but got: "
            f"[{mat2.shape[0]}, {mat2.shape[1]}]."
        )
    return _C.matmul(input, mat2, False, _C.decompositions["BMM"])


# ---- joining ----------------------------------------------------------------


def cat(tensors: Sequence[Any], dim: int = 0) -> Any:
    """Concatenates along an existing dimension. Alias: ``concat``."""
    return _C.cat(tensors, dim)


def stack(tensors: Sequence[Any], dim: int = 0) -> Any:
    """Stacks equal-shaped tensors along a new dimension."""
    if len(tensors) == 0:
        raise RuntimeError("stack expects a non-empty TensorList")
    return _C.stack(tensors, dim)


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Any, ...]:
    """Coordinate grids from 1-D tensors ('ij' by default, or 'xy')."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the "
            "indexing argument.",
            UserWarning,
            stacklevel=2,
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(
            'torch.meshgrid: indexing must be one of "xy" or "ij", but received: '
            f"{indexing}"
        )
    for t in tensors:
        if t.dtype != tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
        if t.dim() > 1:
            raise RuntimeError(
                "torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: "
                f"{t!r}"
            )
    swap = indexing == "xy" and len(tensors) >= 2
    ts = list(tensors)
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = [t.numel() for t in ts]
    grids = []
    for i, t in enumerate(ts):
        view = [1] * len(ts)
        view[i] = -1
        grids.append(t.reshape(view).expand(shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


# ---- comparisons of whole tensors --------------------------------------------


def allclose(
    input: Any,
    other: Any,
    rtol: float = 1e-05,
    atol: float = 1e-08,
    equal_nan: bool = False,
) -> bool:
    """Whether every ``|input - other| <= atol + rtol * |other|``."""
    close = abs(input - other) <= atol + rtol * abs(other)
    if equal_nan:
        close = close | (isnan(input) & isnan(other))
    return bool(all(close))


def equal(input: Any, other: Any) -> bool:
    """Same shape and same values."""
    return bool(tuple(input.shape) == tuple(other.shape) and all(input == other))


def is_tensor(obj: Any) -> bool:
    """Whether ``obj`` is a gdlite tensor."""
    return isinstance(obj, _C.TensorBase)


def numel(input: Any) -> int:
    """Number of elements of ``input``."""
    return input.numel()


# ---- gathering along dims ----------------------------------------------------


def _need_tensor(fn: str, name: str, position: int, value: Any) -> None:
    if not isinstance(value, _C.TensorBase):
        raise TypeError(
            f"{fn}(): argument '{name}' (position {position}) must be Tensor, not "
            f"{type(value).__name__}"
        )


def index_select(input: Any, dim: int, index: Any) -> Any:
    """Slices of ``input`` along ``dim`` at ``index`` (a 1-D int tensor).

    Example: ``gdlite.index_select(x, 0, gdlite.tensor([2, 0]))``."""
    _need_tensor("index_select", "index", 3, index)
    return _C.index_select(input, dim, index)


def gather(input: Any, dim: int, index: Any, *, sparse_grad: bool = False) -> Any:
    """``out[i][j] = input[index[i][j]][j]`` for ``dim=0`` (and so on).

    Example: ``gdlite.gather(x, 1, gdlite.tensor([[0], [2]]))``."""
    _need_tensor("gather", "index", 3, index)
    return _C.gather(input, dim, index)


def scatter_add(input: Any, dim: int, index: Any, src: Any) -> Any:
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim``."""
    _need_tensor("scatter_add", "index", 3, index)
    _need_tensor("scatter_add", "src", 4, src)
    return _C.scatter_add(input, dim, index, src, False)


def _index_select_method(self: Any, dim: int, index: Any) -> Any:
    _need_tensor("index_select", "index", 2, index)
    return _C.index_select(self, dim, index)


def _gather_method(
    self: Any, dim: int, index: Any, *, sparse_grad: bool = False
) -> Any:
    _need_tensor("gather", "index", 2, index)
    return _C.gather(self, dim, index)


def _scatter_add_method(self: Any, dim: int, index: Any, src: Any) -> Any:
    _need_tensor("scatter_add", "index", 2, index)
    _need_tensor("scatter_add", "src", 3, src)
    return _C.scatter_add(self, dim, index, src, False)


def _take_along_dim_method(self: Any, indices: Any, dim: int | None = None) -> Any:
    if not isinstance(indices, _C.TensorBase):
        raise TypeError(
            "take_along_dim(): argument 'indices' (position 1) must be Tensor, not "
            f"{type(indices).__name__}"
        )
    return take_along_dim(self, indices, dim)


def scatter_add_(self: Any, dim: int, index: Any, src: Any) -> Any:
    """In place: ``self[index[i][j]][j] += src[i][j]`` (dim 0); returns self."""
    _need_tensor("scatter_add_", "index", 2, index)
    _need_tensor("scatter_add_", "src", 3, src)
    _C.scatter_add(self, dim, index, src, True)
    return self


def _broadcast_pair(a: list[int], b: list[int]) -> list[int]:
    """PyTorch's infer_size, with its message."""
    n = builtins.max(len(a), len(b))
    out = []
    for i in range(n):
        sa = a[len(a) - n + i] if len(a) - n + i >= 0 else 1
        sb = b[len(b) - n + i] if len(b) - n + i >= 0 else 1
        if sa != sb and sa != 1 and sb != 1:
            raise RuntimeError(
                f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) "
                f"at non-singleton dimension {i}"
            )
        out.append(sa if sb == 1 else sb)
    return out


def take_along_dim(input: Any, indices: Any, dim: int | None = None) -> Any:
    """Values of ``input`` at ``indices`` along ``dim``, broadcasting the other
    dims (as NumPy's take_along_axis); flat without ``dim``."""
    _need_tensor("take_along_dim", "indices", 2, indices)
    if dim is None:
        return _C.gather(input.view(-1), 0, indices.view(-1))
    if input.dim() != indices.dim():
        raise RuntimeError(
            "gdlite.take_along_dim(): input and indices should have the same number of "
            f"dimensions, but got {input.dim()} dimensions for input, and "
            f"{indices.dim()} dimensions for indices"
        )
    if indices.dtype != _C.int64:
        raise RuntimeError(
            "gdlite.take_along_dim(): dtype of indices should be Long but got "
            f"{indices.dtype._scalar_name}"
        )
    if input.dim() == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    n = input.dim()
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but "
            f"got {dim})"
        )
    dim %= n
    self_sizes, index_sizes = list(input.shape), list(indices.shape)
    self_sizes[dim] = indices.shape[dim]
    index_sizes[dim] = input.shape[dim]
    indices = indices.expand(_broadcast_pair(self_sizes, list(indices.shape)))
    input = input.expand(_broadcast_pair(index_sizes, list(input.shape)))
    return _C.gather(input, dim, indices)


# Tensor methods: PyTorch counts argument positions from the first after self.
METHODS = {
    "index_select": _index_select_method,
    "gather": _gather_method,
    "scatter_add": _scatter_add_method,
    "scatter_add_": scatter_add_,
    "take_along_dim": _take_along_dim_method,
}
