"""Creating tensors: from data, from NumPy, filled, ranges and random draws."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from . import _C
from ._types import device as _device

float32, float64, int64, int32 = _C.float32, _C.float64, _C.int64, _C.int32
bool_ = _C.bool

_NP_DTYPES = {
    float32: np.float32,
    float64: np.float64,
    int64: np.int64,
    int32: np.int32,
    bool_: np.bool_,
}
_FROM_NP = {np.dtype(v): k for k, v in _NP_DTYPES.items()}


def get_default_dtype() -> Any:
    """The dtype Python floats become: gdlite.float32."""
    return float32


def _check_device(device: Any) -> None:
    if device is not None:
        _device(device)


def _with_grad(t: Any, requires_grad: bool) -> Any:
    if requires_grad:
        t.requires_grad = True
    return t


def _numpy_dtype_of(arr: np.ndarray) -> Any:
    try:
        return _FROM_NP[arr.dtype.newbyteorder("=")]
    except KeyError:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{arr.dtype.type.__name__}. "
            "The only "
            "supported types are: float64, float32, int64, int32, and bool."
        ) from None


def _infer_python_dtype(arr: np.ndarray) -> Any:
    """PyTorch's inference for Python data: floats give the default dtype."""
    kind = arr.dtype.kind
    if kind == "f":
        return float32
    if kind in "iu":
        return int64
    if kind == "b":
        return bool_
    if kind == "O":
        raise RuntimeError("Overflow when unpacking long")
    raise TypeError(f"new(): invalid data type '{type(arr.flat[0]).__name__}'")


def _as_array(data: Any) -> tuple[np.ndarray, Any]:
    """Data as a NumPy array plus the dtype PyTorch would infer for it."""
    from ._tensor import Tensor

    if isinstance(data, Tensor):
        return data.detach().numpy() if hasattr(
            data, "detach"
        ) else data.numpy(), data.dtype
    if isinstance(data, np.ndarray):
        return data, _numpy_dtype_of(data)
    if isinstance(data, np.generic):
        arr = np.asarray(data)
        return arr, _numpy_dtype_of(arr)
    try:
        arr = np.array(data)
    except ValueError as exc:
        raise ValueError(f"expected sequence of equal lengths ({exc})") from None
    if arr.dtype.kind == "U" or arr.dtype.kind == "S":
        raise TypeError(f"new(): invalid data type '{type(arr.flat[0]).__name__}'")
    holds_tensors = _holds_tensor(data)
    return arr, (_numpy_dtype_of(arr) if holds_tensors else _infer_python_dtype(arr))


def _holds_tensor(data: Any) -> bool:
    from ._tensor import Tensor

    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return isinstance(data, Tensor)


def tensor(
    data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Any:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, arrays).

    >>> gdlite.tensor([[1., 2.], [3., 4.]])
    tensor([[1., 2.],
            [3., 4.]])
    """
    _check_device(device)
    if isinstance(data, (bool, int, float)) and not isinstance(data, np.generic):
        inferred = (
            bool_
            if isinstance(data, bool)
            else int64
            if isinstance(data, int)
            else float32
        )
        return _with_grad(_C.full((), data, dtype or inferred), requires_grad)
    arr, inferred = _as_array(data)
    target = dtype if dtype is not None else inferred
    copy = np.array(arr, dtype=_NP_DTYPES[target], order="C", copy=True)
    return _with_grad(_C.from_numpy(copy), requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Any:
    """``data`` as a tensor, sharing memory with an ndarray or tensor when it can."""
    from ._tensor import Tensor

    _check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None or dtype == data.dtype else data.to(dtype)
    if isinstance(data, np.ndarray) and (
        dtype is None or _NP_DTYPES[dtype] == data.dtype
    ):
        return from_numpy(data)
    return tensor(data, dtype=dtype)


def from_numpy(ndarray: np.ndarray) -> Any:
    """A tensor sharing ``ndarray``'s memory: writes show on both sides."""
    if isinstance(ndarray, np.ndarray) and not ndarray.flags.writeable:
        warnings.warn(
            "The given NumPy array is not writable, and PyTorch does not support "
            "non-writable tensors. This means writing to this tensor will result in "
            "undefined behavior. You may want to copy the array to protect its data or "
            "make it writable before converting it to a tensor. This type of warning "
            "will be suppressed for the rest of this program.",
            UserWarning,
            stacklevel=2,
        )
    return _C.from_numpy(ndarray)


def _size_args(size: tuple[Any, ...]) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if isinstance(s, float):
            raise TypeError(
                "zeros(): argument 'size' must be tuple of ints, but found element of "
                "type float"
            )
    return tuple(int(s) for s in size)


def _filled(
    size: tuple[Any, ...], value: Any, dtype: Any, device: Any, rg: bool
) -> Any:
    _check_device(device)
    out = _C.full(_size_args(size), value, float32 if dtype is None else dtype)
    return _with_grad(out, rg)


def zeros(
    *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Any:
    """A tensor of zeros: ``gdlite.zeros(2, 3)`` or ``gdlite.zeros((2, 3))``."""
    return _filled(size, 0, dtype, device, requires_grad)


def ones(
    *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Any:
    """A tensor of ones."""
    return _filled(size, 1, dtype, device, requires_grad)


def empty(
    *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Any:
    """An uninitialised tensor."""
    return _filled(size, None, dtype, device, requires_grad)


def full(
    size: Any,
    fill_value: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Any:
    """A tensor filled with ``fill_value``; the dtype follows the value's kind."""
    if dtype is None:
        dtype = (
            bool_
            if isinstance(fill_value, bool)
            else (int64 if isinstance(fill_value, int) else float32)
        )
    return _filled(
        (size,) if isinstance(size, int) else tuple(size),
        fill_value,
        dtype,
        device,
        requires_grad,
    )


def _like(t: Any, value: Any, dtype: Any) -> Any:
    return _C.full(tuple(t.shape), value, t.dtype if dtype is None else dtype)


def zeros_like(input: Any, *, dtype: Any = None, device: Any = None) -> Any:
    """Zeros with ``input``'s shape and dtype."""
    _check_device(device)
    return _like(input, 0, dtype)


def ones_like(input: Any, *, dtype: Any = None, device: Any = None) -> Any:
    """Ones with ``input``'s shape and dtype."""
    _check_device(device)
    return _like(input, 1, dtype)


def full_like(
    input: Any, fill_value: Any, *, dtype: Any = None, device: Any = None
) -> Any:
    """``fill_value`` with ``input``'s shape and dtype."""
    _check_device(device)
    return _like(input, fill_value, dtype)


def empty_like(input: Any, *, dtype: Any = None, device: Any = None) -> Any:
    """Uninitialised, with ``input``'s shape and dtype."""
    _check_device(device)
    return _like(input, None, dtype)


def _number(x: Any) -> Any:
    return x.item() if hasattr(x, "item") and not isinstance(x, (int, float)) else x


def arange(
    start: Any,
    end: Any = None,
    step: Any = 1,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Any:
    """Values from ``start`` up to (not including) ``end`` by ``step``.

    Floating steps give PyTorch's exact values: ``arange(-1, 1, 0.1)[12]`` is 0.2.
    """
    _check_device(device)
    if end is None:
        start, end = 0, start
    start, end, step = _number(start), _number(end), _number(step)
    if dtype is None:
        dtype = (
            int64 if all(isinstance(v, int) for v in (start, end, step)) else float32
        )
    return _with_grad(_C.arange(start, end, step, dtype), requires_grad)


def linspace(
    start: Any,
    end: Any,
    steps: int,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Any:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    _check_device(device)
    out = _C.linspace(
        float(_number(start)),
        float(_number(end)),
        int(steps),
        float32 if dtype is None else dtype,
    )
    return _with_grad(out, requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None) -> Any:
    """The identity matrix (``n`` x ``m``)."""
    _check_device(device)
    m = n if m is None else m
    out = _C.full((n, m), 0, float32 if dtype is None else dtype)
    k = n if n < m else m
    if k:
        _C.as_strided(out, (k,), (m + 1,), 0).fill_(1)
    return out


# ---- random -----------------------------------------------------------------


class Generator:
    """The default generator handle that ``manual_seed`` returns."""

    def manual_seed(self, seed: int) -> Generator:
        _C.manual_seed(int(seed))
        return self

    def initial_seed(self) -> int:
        return _C.initial_seed()

    def __repr__(self) -> str:
        return f"<gdlite.Generator object at {id(self):#x}>"


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seeds the generator: later draws equal PyTorch's after the same seed."""
    return default_generator.manual_seed(seed)


def initial_seed() -> int:
    """The seed of the default generator."""
    return _C.initial_seed()


def rand(
    *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Any:
    """Uniform draws in [0, 1)."""
    out = _filled(size, None, dtype, device, False)
    _C.random_fill("uniform", out, 0.0, 1.0)
    return _with_grad(out, requires_grad)


def randn(
    *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Any:
    """Standard normal draws."""
    out = _filled(size, None, dtype, device, False)
    _C.random_fill("normal", out, 0.0, 1.0)
    return _with_grad(out, requires_grad)


def randint(*args: Any, size: Any = None, dtype: Any = None, device: Any = None) -> Any:
    """Integers in [low, high): ``randint(high, size)`` or ``(low, high, size)``."""
    _check_device(device)
    if size is None:
        *bounds, size = args
    else:
        bounds = list(args)
    low, high = (0, bounds[0]) if len(bounds) == 1 else bounds
    return _C.randint(
        int(low), int(high), tuple(size), int64 if dtype is None else dtype
    )


def randperm(n: int, *, dtype: Any = None, device: Any = None) -> Any:
    """A random permutation of 0..n-1."""
    _check_device(device)
    return _C.randperm(int(n), int64 if dtype is None else dtype)


def normal(
    mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, dtype: Any = None
) -> Any:
    """Normal draws: ``normal(mean, std, size)`` with numbers, or elementwise
    means and deviations from tensors (``normal(mean_t, std_t)``)."""
    from ._tensor import Tensor

    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        # PyTorch draws N(0, 1) of the output shape, then scales and shifts.
        ref = mean if isinstance(mean, Tensor) else std
        shape = _C.binary(_C.ops["add"], mean, std).shape if size is None else size
        out = _C.full(tuple(shape), None, ref.dtype if dtype is None else dtype)
        _C.random_fill("normal", out, 0.0, 1.0)
        _C.binary_(_C.ops["mul"], out, std)
        _C.binary_(_C.ops["add"], out, mean)
        return out
    if size is None:
        raise TypeError("normal() with number mean and std needs a size")
    out = _C.full(tuple(size), None, float32 if dtype is None else dtype)
    _C.random_fill("normal", out, float(mean), float(std))
    return out
