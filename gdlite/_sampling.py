"""randint_like and Bernoulli draws with PyTorch's CPU streams.

torch's CPU bernoulli compares one uniform draw per element with p, in the
order of the output's memory: with a float p (``bernoulli_(0.5)``, ``bernoulli(x,
0.3)``) a 53-bit uniform from a 64-bit draw, compared in double; with a
tensor p, a uniform of p's own dtype (24 bits from a 32-bit draw for
float32, 53 bits for float64), compared in that dtype. Those uniforms are
exactly what ``rand`` draws, so the values and the generator's state after the
call equal torch's. On Intel CPUs torch's float-p form uses MKL's own stream
instead (VSL's MCG31 seeded from one draw), which is not reproduced.
"""

from __future__ import annotations

from typing import Any

from . import _C
from ._creation import _check_device, _like, _with_grad
from ._grad_mode import is_grad_enabled
from ._random import _GEN, _invalid_combination, _long

_RANGE_MESSAGE = (
    "Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error "
    "message be improved?  If so, please report an enhancement request to PyTorch.)"
)
_LIKE_OPTS = (
    "gdlite.memory_format memory_format = None, gdlite.dtype dtype = None, "
    "gdlite.layout layout = None, gdlite.device device = None, "
    "bool pin_memory = False, bool requires_grad = False"
)
_RANDINT_LIKE_SIGNATURES = [
    f"Tensor input, {bounds}, *, {gen}{_LIKE_OPTS}"
    for bounds in ("int low, int high", "Tensor high", "int high")
    for gen in (f"{_GEN}, ", "")
]
_BERNOULLI_SIGNATURES = [
    f"Tensor input, *, {_GEN} = None, Tensor out = None",
    f"Tensor input, float p, *, {_GEN} = None",
]
_BERNOULLI__SIGNATURES = [
    f"Tensor p, *, {_GEN} = None",
    f"float p = 0.5, *, {_GEN} = None",
]
_BERNOULLI_METHOD_SIGNATURES = [f"*, {_GEN} = None", f"float p, *, {_GEN} = None"]


def randint_like(
    input: Any,
    *args: Any,
    low: Any = None,
    high: Any = None,
    generator: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    memory_format: Any = None,
) -> Any:
    """Integers in [low, high) with ``input``'s shape and dtype:
    ``randint_like(x, high)`` or ``randint_like(x, low, high)``."""
    _check_device(device)
    given = {"low": low, "high": high, "generator": generator}
    shown = {k: v for k, v in given.items() if v is not None}
    named = {k: v for k, v in shown.items() if k != "generator"}
    names = ("low", "high") if len(args) + len(named) == 2 else ("high",)
    bound = dict(zip(names, args, strict=False))
    try:
        if len(args) > 2 or set(bound) & set(named):
            raise TypeError
        if generator is not None and not isinstance(generator, _C.Generator):
            raise TypeError
        bound.update(named)
        if set(bound) != set(names):
            raise TypeError
        hi = bound["high"]
        if hasattr(hi, "dim"):  # a tensor bound: 0-dim, as an int
            if hi.dim() != 0:
                raise RuntimeError("high must be a scalar tensor and on CPU")
            hi = int(hi.item())
        lo, hi = _long(bound.get("low", 0)), _long(hi)
    except TypeError:
        raise _invalid_combination(
            "randint_like", (input, *args), shown, _RANDINT_LIKE_SIGNATURES
        ) from None
    # torch's empty_like(input).random_(low, high): drawn in memory order
    out = _like("randint_like", input, None, dtype, device, False, memory_format)
    _C.random_(out, lo, hi, generator)
    return _with_grad(out, requires_grad)


def _memory_order(t: Any) -> tuple[list[int], list[int]]:
    """t's dims from the largest stride to the smallest, and the inverse
    permutation. torch fills a tensor in its memory's order (and gives a
    ``*_like`` result the strides of its input), so draws for a transposed
    tensor are made for the permuted shape and permuted back."""
    order = sorted(range(t.dim()), key=lambda d: -t.stride(d))
    return order, sorted(range(t.dim()), key=lambda i: order[i])


def _uniforms(shape: tuple[int, ...], dtype: Any, generator: Any) -> Any:
    """One uniform per element, drawn in row-major order."""
    u = _C.full(shape, None, dtype)
    _C.random_fill("uniform", u, 0.0, 1.0, generator)
    return u


def _check_p_tensor(p: Any) -> None:
    if not p.dtype.is_floating_point:
        raise NotImplementedError(
            f"\"bernoulli_tensor_cpu_p_\" not implemented for '{p.dtype._scalar_name}'"
        )
    if p.numel() and not bool(((p >= 0) & (p <= 1)).all()):
        raise RuntimeError(_RANGE_MESSAGE)


def _scalar_p(p: Any) -> float:
    p = float(p)
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
    return p


def _draws(shape: tuple[int, ...], p: Any, generator: Any) -> Any:
    """True where the element's uniform is below p (a tensor of shape, or a
    float)."""
    if hasattr(p, "dtype"):
        return _uniforms(shape, p.dtype, generator) < p.detach()
    return _uniforms(shape, _C.float64, generator) < p


def _is_number(p: Any) -> bool:
    return isinstance(p, (int, float)) and not hasattr(p, "dim")


def _bernoulli_p(
    args: tuple[Any, ...], kwargs: dict[str, Any], generator: Any
) -> tuple[Any, dict[str, Any] | None]:
    """bernoulli's optional float p, positional or named; with the keywords
    to show in torch's message when the call fits neither signature."""
    p = args[0] if args else kwargs.get("p")
    if (
        len(args) > 1
        or set(kwargs) - {"p"}
        or (args and kwargs)
        or (generator is not None and not isinstance(generator, _C.Generator))
        or (p is not None and not _is_number(p))
    ):
        shown = dict(kwargs)
        if generator is not None:
            shown["generator"] = generator
        return p, shown
    return p, None


def bernoulli(
    input: Any, *args: Any, generator: Any = None, out: Any = None, **kwargs: Any
) -> Any:
    """``bernoulli(input)``: 0/1 draws, 1 with probability ``input`` per
    element; ``bernoulli(input, p)``: probability ``p`` everywhere. The
    result has ``input``'s shape and dtype."""
    p, shown = _bernoulli_p(args, kwargs, generator)
    if shown is not None:
        raise _invalid_combination(
            "bernoulli", (input, *args), shown, _BERNOULLI_SIGNATURES
        )
    shape = tuple(input.shape)
    if p is None:
        _check_p_tensor(input)
        result = _draws(shape, input, generator).to(input.dtype)
    else:
        result = _draws(shape, _scalar_p(p), generator).to(input.dtype)
    if out is not None:
        return out.copy_(result)
    return result


def tensor_bernoulli_(self: Any, p: Any = 0.5, *, generator: Any = None) -> Any:
    """Fills with 0/1 draws, 1 with probability ``p`` (a float, or a tensor
    broadcast to this one's shape); returns self."""
    is_tensor = hasattr(p, "dim")
    if (generator is not None and not isinstance(generator, _C.Generator)) or not (
        is_tensor or _is_number(p)
    ):
        shown = {} if generator is None else {"generator": generator}
        raise _invalid_combination("bernoulli_", (p,), shown, _BERNOULLI__SIGNATURES)
    if self.requires_grad and self.is_leaf and is_grad_enabled():
        # autograd's check comes before the kernel's
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )
    if is_tensor:
        p = p.expand(tuple(self.shape))  # torch broadcasts before checking p
        _check_p_tensor(p)
    else:
        p = _scalar_p(p)
    order, inverse = _memory_order(self)
    shape = tuple(self.shape[d] for d in order)
    if is_tensor:
        p = p.permute(order)
    values = _draws(shape, p, generator)
    return self.copy_(values if order == sorted(order) else values.permute(inverse))


def tensor_bernoulli(
    self: Any, *args: Any, generator: Any = None, **kwargs: Any
) -> Any:
    """``x.bernoulli()`` draws with probabilities x; ``x.bernoulli(p)`` with
    probability p everywhere."""
    _, shown = _bernoulli_p(args, kwargs, generator)
    if shown is not None:
        raise _invalid_combination(
            "bernoulli", args, shown, _BERNOULLI_METHOD_SIGNATURES
        )
    return bernoulli(self, *args, generator=generator, **kwargs)
