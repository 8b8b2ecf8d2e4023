"""gdlite.Tensor: the torch-shaped tensor class over the C base type."""

from __future__ import annotations

from typing import Any

from . import _C, _splitting, _tensor_function, _tensor_str, _warnings
from . import _functional as F
from ._data import fill_number
from ._tensor_convert import TensorConversions
from ._tensor_convert import _rebuild as _rebuild  # unpickles older pickles
from ._types import CPU, Size
from ._types import device as _device


def _axis_for_dim(name: str, dim: Any, axis: Any) -> Any:
    """NumPy's ``axis=`` for ``dim=``, refused beside it, as by PyTorch."""
    if dim is not None:
        raise TypeError(f"{name}() got an unexpected keyword argument 'axis'")
    return axis


def _shape_args(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return shape


class Tensor(TensorConversions, _C.TensorBase):
    """A strided n-dimensional array of one dtype, with PyTorch's API.

    >>> t = gdlite.tensor([[1., 2.], [3., 4.]])
    >>> (t @ t).sum()
    tensor(54.)
    """

    __array_priority__ = 1000

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _tensor_function.install(cls)

    def __new__(cls, *args: Any) -> Tensor:
        # torch.Tensor(data) copies data in the default dtype, Tensor(t)
        # aliases t (dtype, memory and autograd kept), Tensor(2, 3) is
        # uninitialised. A subclass gets an instance of itself.
        from ._creation import get_default_dtype, tensor

        if len(args) == 1 and isinstance(args[0], _C.TensorBase):
            out = _C.view("view", args[0], args[0]._shape)
            if cls is not Tensor:
                if out.grad_fn is None:
                    return _C.TensorBase._make_subclass(cls, out, out.requires_grad)
                out.__class__ = cls
            return out
        if len(args) == 1 and not isinstance(args[0], (int, Size)):
            out = tensor(args[0], dtype=get_default_dtype())
        elif args:
            out = _C.full(_shape_args(args), None, get_default_dtype())
        else:
            return _C.TensorBase.__new__(cls)
        return out if cls is Tensor else _C.TensorBase._make_subclass(cls, out)

    # ---- attributes ---------------------------------------------------------

    def size(self, dim: int | None = None) -> Any:
        """The shape, or the size of one dimension."""
        if dim is None:
            return self.shape
        if self.ndim == 0:
            raise IndexError(
                f"Dimension specified as {dim} but tensor has no dimensions"
            )
        return self._shape[self._wrap(dim)]

    def stride(self, dim: int | None = None) -> Any:
        """Element strides, or the stride of one dimension."""
        strides = self._strides()
        return strides if dim is None else strides[self._wrap(dim)]

    def _wrap(self, dim: int) -> int:
        n = self.ndim or 1
        if not -n <= dim < n:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                f"but got {dim})"
            )
        return dim % n if self.ndim else 0

    @property
    def device(self) -> _device:
        """Always the CPU."""
        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def T(self) -> Tensor:  # noqa: N802 - torch's name
        """All dimensions reversed."""
        if self.ndim != 2:
            message = _warnings.T_NOT_2D if self.ndim else _warnings.ZERO_D["T"]
            _warnings.warn_once(message, 2)
        return _C.view("permute", self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:  # noqa: N802 - torch's name
        """The last two dimensions swapped (a batch of matrices transposed)."""
        return self._matrix_transpose("mT")

    @property
    def mH(self) -> Tensor:  # noqa: N802 - torch's name
        """:attr:`mT` (no dtype here is complex)."""
        return self._matrix_transpose("mH")

    @property
    def H(self) -> Tensor:  # noqa: N802 - torch's name
        """The transpose of a matrix (no dtype here is complex)."""
        return self._matrix_transpose("H")

    def _matrix_transpose(self, name: str) -> Tensor:
        if not self.ndim:  # deprecated, and the tensor itself, in torch
            _warnings.warn_once(_warnings.ZERO_D[name], 3)
            return self
        if name == "H" and self.ndim != 2:
            batches = " For batches of matrices, consider using tensor.mH"
            raise RuntimeError(
                "tensor.H is only supported on matrices (2-D tensors). Got "
                f"{self.ndim}-D tensor.{batches if self.ndim > 2 else ''}"
            )
        if self.ndim < 2:
            raise RuntimeError(
                f"tensor.{name} is only supported on matrices or batches of matrices. "
                f"Got {self.ndim}-D tensor."
            )
        return _C.transpose(self, -2, -1)

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    # ---- printing -----------------------------------------------------------

    def __repr__(self) -> str:
        try:
            fn = self.grad_fn
            fn_name = None if fn is None else fn.name()
        except RuntimeError:  # a view whose history cannot be rebuilt
            fn_name = "Invalid"
        cls = type(self)
        plain = cls is Tensor or (
            cls.__name__ == "Parameter" and cls.__module__.startswith("gdlite.")
        )
        return _tensor_str.tensor_repr(
            self._numpy(),
            self.dtype._name,
            requires_grad=self.requires_grad,
            grad_fn_name=fn_name,
            prefix="tensor(" if plain else f"{cls.__name__}(",
        )

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        # As torch: a plain 0-d tensor formats its number (f"{loss:.4f}");
        # anything else is object's (str(self), grad_fn and all, and a
        # TypeError naming the class for a non-empty spec).
        if not self.ndim and type(self) is Tensor:
            return _tensor_str.format_scalar(self.item(), self.dtype._name, spec)
        return object.__format__(self, spec)

    # ---- autograd -----------------------------------------------------------

    def register_hook(self, hook: Any) -> Any:
        """Calls ``hook(grad)`` when this tensor's gradient is computed; a
        returned tensor replaces the gradient. The handle's ``remove()``
        unregisters it, even after the tensor itself is gone."""
        return self._add_hook(hook)

    # ---- iteration ----------------------------------------------------------

    def __iter__(self) -> Any:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __contains__(self, element: Any) -> bool:
        return bool(F.any(self == element))

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        """Slices along ``dim``, as views."""
        return _splitting.unbind(self, dim)

    def split(self, split_size: Any, dim: int = 0) -> tuple[Tensor, ...]:
        """Views of ``split_size`` elements along ``dim`` (the last one shorter
        if need be), or of each size in a list."""
        return _splitting.split(self, split_size, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        """At most ``chunks`` views along ``dim`` of equal size but the last."""
        return _splitting.chunk(self, chunks, dim)

    # ---- views --------------------------------------------------------------

    def view(self, *shape: Any) -> Tensor:
        """The same memory with another shape (-1 infers one dimension)."""
        return _C.view("view", self, _shape_args(shape))

    def view_as(self, other: Tensor) -> Tensor:
        return self.view(other._shape)

    def reshape(self, *shape: Any) -> Tensor:
        """Another shape: a view when strides allow, else a copy."""
        return _C.view("reshape", self, _shape_args(shape))

    def reshape_as(self, other: Tensor) -> Tensor:
        return self.reshape(other._shape)

    def expand(self, *sizes: Any) -> Tensor:
        """Size-1 dimensions repeated without copying (-1 keeps a size)."""
        return _C.view("expand", self, _shape_args(sizes))

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other._shape)

    def permute(self, *dims: Any) -> Tensor:
        """Dimensions reordered."""
        return _C.view("permute", self, _shape_args(dims))

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """Two dimensions swapped."""
        return _C.transpose(self, dim0, dim1)

    def t(self) -> Tensor:
        """Transpose of a tensor with at most 2 dimensions."""
        if self.ndim > 2:
            raise RuntimeError(
                f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D"
            )
        if self.ndim < 2:  # the same view, still named TBackward0
            return _C.transpose(self, 0, 0, _C.decompositions["T"])
        return _C.transpose(self, 0, 1, _C.decompositions["T"])

    def squeeze(self, dim: Any = None, *, axis: Any = None) -> Tensor:
        """Size-1 dimensions removed (all, or the given ones)."""
        if axis is not None:  # NumPy's name, as PyTorch accepts it
            dim = _axis_for_dim("squeeze", dim, axis)
        if dim is None:
            return _C.squeeze_all(self)
        if isinstance(dim, (tuple, list)):  # PyTorch's squeeze.dims overload
            return _C.view("squeeze", self, dim, _C.decompositions["SQUEEZE_DIMS"])
        return _C.view("squeeze", self, (dim,))

    def unsqueeze(self, dim: Any = None, *, axis: Any = None) -> Tensor:
        """A size-1 dimension inserted at ``dim``."""
        if axis is not None:
            dim = _axis_for_dim("unsqueeze", dim, axis)
        elif dim is None:
            raise TypeError(
                'unsqueeze() missing 1 required positional arguments: "dim"'
            )
        return _C.unsqueeze(self, dim)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Dimensions ``start_dim..end_dim`` merged into one."""
        if self.ndim == 0:
            return self.reshape(1)
        start, end = self._wrap(start_dim), self._wrap(end_dim)
        if start > end:
            raise RuntimeError(
                "flatten() has invalid args: start_dim cannot come after end_dim"
            )
        shape = self._shape
        merged = 1
        for s in shape[start : end + 1]:
            merged *= s
        return self.reshape(shape[:start] + (merged,) + shape[end + 1 :])

    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        """``length`` elements of dimension ``dim`` from ``start``, as a view."""
        if self.ndim == 0:
            raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
        d = self._wrap(dim)
        size = self._shape[d]
        if not -size <= start <= size:
            raise IndexError(
                f"start out of range (expected to be in range of [{-size}, {size}], "
                f"but got {start})"
            )
        if start < 0:
            start += size
        if length < 0:
            raise RuntimeError("narrow(): length must be non-negative.")
        if start + length > size:
            raise RuntimeError(
                f"start ({start}) + length ({length}) exceeds dimension size ({size})."
            )
        return _C.slice(self, d, start, start + length, 1)

    def select(self, dim: int, index: int) -> Tensor:
        return _C.select(self, dim, index)

    # ---- in-place -----------------------------------------------------------

    def fill_(self, value: Any) -> Tensor:
        """Sets every element to ``value``; returns self."""
        if type(value) is float:  # the common case; the core checks the range
            _C.fill_(self, value, False)
            return self
        if isinstance(value, _C.TensorBase):
            if value.dim() != 0:
                raise RuntimeError(
                    "fill_ only supports 0-dimension value tensor but got tensor with "
                    f"{value.dim()} dimensions."
                )
            if not self.dtype.is_floating_point:
                # A tensor value is cast unchecked, as PyTorch does.
                _C.copy_(self, value.detach())
                return self
            # A broadcast copy recorded as FillBackward3: the value's gradient
            # is the sum of self's.
            _C.copy_(self, value, _C.decompositions["FILL_TENSOR"])
            return self
        if hasattr(value, "item"):
            value = value.item()
        integral = isinstance(value, int)  # ints may wrap into uint8, floats not
        value = fill_number(value, self.dtype)
        if type(value) is int and self.dtype == _C.int64:
            # Exact beyond 2**53, where a double would round.
            _C.copy_(self, _C.full((), value, _C.int64))
        else:
            _C.fill_(self, float(value), integral)
        return self

    def copy_(self, src: Any) -> Tensor:
        """Copies ``src`` (broadcast, converted) into self; returns self."""
        if not isinstance(src, Tensor):
            from ._creation import tensor

            src = tensor(src)
        _C.copy_(self, src)
        return self

    def uniform_(
        self, a: float = 0.0, b: float = 1.0, *, generator: Any = None
    ) -> Tensor:
        """Fills with uniform draws in [a, b); returns self."""
        from ._random import _generator

        generator = _generator(generator, "uniform_")
        _C.random_fill("uniform", self, float(a), float(b), generator)
        return self

    def normal_(
        self, mean: float = 0.0, std: float = 1.0, *, generator: Any = None
    ) -> Tensor:
        """Fills with normal draws; returns self."""
        from ._random import _generator

        generator = _generator(generator, "normal_")
        _C.random_fill("normal", self, float(mean), float(std), generator)
        return self

    def bernoulli_(self, p: Any = 0.5, *, generator: Any = None) -> Tensor:
        """Fills with 0/1 draws, 1 with probability ``p`` (a float or a
        tensor broadcast to this shape); returns self."""
        from ._sampling import tensor_bernoulli_

        return tensor_bernoulli_(self, p, generator=generator)

    def bernoulli(self, *args: Any, generator: Any = None, **kwargs: Any) -> Tensor:
        """0/1 draws with probabilities self, or ``p`` everywhere."""
        from ._sampling import tensor_bernoulli

        return tensor_bernoulli(self, *args, generator=generator, **kwargs)

    def random_(self, *args: Any, **kwargs: Any) -> Tensor:
        """Integers: ``random_()``, ``random_(to)`` or ``random_(from, to)``,
        each with ``generator=``; returns self."""
        from ._random import tensor_random_

        return tensor_random_(self, args, kwargs)


def _attach_methods() -> None:
    """Operations defined once in _functional become Tensor methods too."""
    for name, (op, op_) in {**F.UNARY, **F.BINARY}.items():
        setattr(Tensor, name, op)
        setattr(Tensor, name + "_", op_)
    for name in (
        "add sub div add_ sub_ div_ round clamp clamp_ sum mean prod cumsum cumprod "
        "cumprod_ max min "
        "amax amin "
        "argmax argmin var std norm any all matmul mm mv dot bmm addmm isnan isinf "
        "isfinite "
        "softmax log_softmax"
    ).split():
        setattr(Tensor, name, getattr(F, name))
    for name, method in F.METHODS.items():
        setattr(Tensor, name, method)
    Tensor.clip, Tensor.clip_ = F.clamp, F.clamp_
    Tensor.absolute = F.UNARY["abs"][0]
    Tensor.multiply, Tensor.subtract, Tensor.divide = Tensor.mul, Tensor.sub, Tensor.div
    Tensor.true_divide = Tensor.div
    Tensor.greater, Tensor.less = Tensor.gt, Tensor.lt
    Tensor.greater_equal, Tensor.less_equal = Tensor.ge, Tensor.le
    Tensor.not_equal = Tensor.ne
    Tensor.equal = lambda self, other: bool(
        self.shape == other.shape and F.all(self == other)
    )
    Tensor.where = lambda self, condition, other: F.where(condition, self, other)


_attach_methods()
# Spelled as PyTorch spells it: torch._C._disabled_torch_function_impl.
_C._disabled_torch_function_impl = _tensor_function._disabled_torch_function_impl
_C.DisableTorchFunctionSubclass = _tensor_function.DisableTorchFunctionSubclass
_C.DisableTorchFunction = _tensor_function.DisableTorchFunction
Tensor.__torch_function__ = classmethod(_tensor_function.default_torch_function)
_tensor_function.register(Tensor)
# Printed and pickled as gdlite.Tensor, its public name.
Tensor.__module__ = "gdlite"
_C._set_tensor_class(Tensor)
