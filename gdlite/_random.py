"""Random numbers with PyTorch's CPU streams: generators, draws, random_.

gdlite.Generator is torch.Generator's CPU half, implemented in C: manual_seed,
seed, initial_seed, get_state/set_state in torch's byte layout, clone_state.
get_state/set_state need gdlite.uint8; until it exists they raise
NotImplementedError and _get_state_bytes/_set_state_bytes carry the state.
"""

from __future__ import annotations

from typing import Any

from . import _C, _creation
from ._creation import _check_device, _filled, _size_args, _with_grad, int64

Generator = _C.Generator
default_generator = _C.default_generator


def _generator(
    generator: Any, name: str, args: tuple[Any, ...] = (), **given: Any
) -> Any:
    """``generator=`` checked as torch's argument parser does: functions with
    several signatures list them, single-signature methods name the argument.
    ``args`` and ``given`` are what the caller passed, for the message."""
    if generator is None or isinstance(generator, Generator):
        return generator
    if name in _SIGNATURES:
        # torch lists keywords in its signature's order: generator first.
        shown = {"generator": generator}
        shown.update((k, v) for k, v in given.items() if v is not None)
        raise _invalid_combination(name, args, shown, _SIGNATURES[name])
    raise TypeError(
        f"{name}(): argument 'generator' must be gdlite.Generator, not "
        f"{type(generator).__name__}"
    )


def manual_seed(seed: Any) -> Any:
    """Seeds the default generator and returns it; later draws equal PyTorch's
    after the same seed.

    >>> gdlite.manual_seed(42)  # doctest: +ELLIPSIS
    <gdlite._C.Generator object at ...>
    """
    return default_generator.manual_seed(int(seed))


def seed() -> int:
    """Seeds the default generator nondeterministically; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed of the default generator."""
    return default_generator.initial_seed()


def get_rng_state() -> Any:
    """The default generator's state (torch's 5056-byte uint8 tensor)."""
    return default_generator.get_state()


def set_rng_state(new_state: Any) -> None:
    """Restores the default generator from ``get_rng_state()`` (or torch's)."""
    default_generator.set_state(new_state)


def rand(
    *args: Any,
    size: Any = None,
    generator: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Any:
    """Uniform draws in [0, 1). Sizes as ``zeros`` takes them, ``size=`` too."""
    size = _size_or_refuse("rand", args, size)
    generator = _generator(generator, "rand", size, dtype=dtype)
    out = _filled(size, None, dtype, device, False, "rand")
    _C.random_fill("uniform", out, 0.0, 1.0, generator)
    return _with_grad(out, requires_grad)


def randn(
    *args: Any,
    size: Any = None,
    generator: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Any:
    """Standard normal draws. Sizes as ``zeros`` takes them, ``size=`` too."""
    size = _size_or_refuse("randn", args, size)
    generator = _generator(generator, "randn", size, dtype=dtype)
    out = _filled(size, None, dtype, device, False, "randn")
    _C.random_fill("normal", out, 0.0, 1.0, generator)
    return _with_grad(out, requires_grad)


def _drawn_like(
    kind: str,
    input: Any,
    generator: Any,
    dtype: Any,
    device: Any,
    name: str,
    memory_format: Any,
) -> Any:
    """*_like draws: input's shape, laid out as ``memory_format`` says
    (input's layout by default), filled in memory order as torch fills."""
    _check_device(device)
    generator = _generator(generator, name)
    out = _creation._like(name, input, None, dtype, device, False, memory_format)
    _C.random_fill(kind, out, 0.0, 1.0, generator)
    return out


def rand_like(
    input: Any,
    *,
    generator: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    memory_format: Any = None,
) -> Any:
    """Uniform draws in [0, 1) with ``input``'s shape, dtype and layout."""
    out = _drawn_like(
        "uniform", input, generator, dtype, device, "rand_like", memory_format
    )
    return _with_grad(out, requires_grad)


def randn_like(
    input: Any,
    *,
    generator: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    memory_format: Any = None,
) -> Any:
    """Standard normal draws with ``input``'s shape, dtype and layout."""
    out = _drawn_like(
        "normal", input, generator, dtype, device, "randn_like", memory_format
    )
    return _with_grad(out, requires_grad)


def _size_or_refuse(name: str, args: tuple[Any, ...], size: Any) -> tuple[Any, ...]:
    """rand's and randn's sizes: positional, or ``size=`` alone."""
    if size is None:
        return args
    if not args and not isinstance(size, (tuple, list)):
        raise TypeError(
            f"{name}(): argument 'size' must be tuple of ints, not "
            f"{type(size).__name__}"
        )
    if args:
        raise _invalid_combination(name, args, {"size": size}, _SIGNATURES[name])
    return (size,)


def randint(
    *args: Any,
    low: Any = None,
    high: Any = None,
    size: Any = None,
    generator: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Any:
    """Integers in [low, high): ``randint(high, size)`` or ``(low, high, size)``."""
    _check_device(device)
    given = {"low": low, "high": high, "size": size, "generator": generator}
    shown = {k: v for k, v in given.items() if v is not None}
    try:
        if generator is not None and not isinstance(generator, Generator):
            raise TypeError
        named = {k: v for k, v in shown.items() if k != "generator"}
        names = (
            ("low", "high", "size") if len(args) + len(named) == 3 else ("high", "size")
        )
        bound = dict(zip(names, args, strict=False))
        if set(bound) & set(named):
            raise TypeError
        bound.update(named)
        if set(bound) != set(names) or not isinstance(bound["size"], (tuple, list)):
            raise TypeError
        lo, hi = _long(bound.get("low", 0)), _long(bound["high"])
    except TypeError:
        raise _invalid_combination(
            "randint", args, shown, _RANDINT_SIGNATURES
        ) from None
    shape = _size_args((bound["size"],), "randint")
    out = _C.randint(lo, hi, shape, int64 if dtype is None else dtype, generator)
    return _with_grad(out, requires_grad)


def randperm(
    n: int,
    *,
    generator: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Any:
    """A random permutation of 0..n-1."""
    _check_device(device)
    generator = _generator(generator, "randperm", (n,), dtype=dtype)
    try:
        n = _long(n)
    except TypeError:
        raise TypeError(
            f"randperm(): argument 'n' (position 1) must be int, not {type(n).__name__}"
        ) from None
    out = _C.randperm(n, int64 if dtype is None else dtype, generator)
    return _with_grad(out, requires_grad)


def _check_tensor_std(std: Any) -> None:
    # min() >= 0 fails for a NaN as well as for a negative element.
    if std.numel() and not bool((std.detach() >= 0).all()):
        raise RuntimeError("normal expects all elements of std >= 0.0")


def normal(
    mean: Any = 0.0,
    std: Any = 1.0,
    size: Any = None,
    *,
    generator: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Any:
    """Normal draws: ``normal(mean, std, size)`` with numbers, or elementwise
    means and deviations from tensors (``normal(mean_t, std_t)``)."""
    from ._tensor import Tensor

    _check_device(device)
    generator = _generator(
        generator, "normal", (mean, std) + (() if size is None else (size,))
    )
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        # The tensor forms take no dtype, device or requires_grad.
        extra = {"dtype": dtype, "device": device, "requires_grad": requires_grad}
        extra = {k: v for k, v in extra.items() if v not in (None, False)}
        if extra:
            args = (mean, std) + (() if size is None else (size,))
            raise _invalid_combination("normal", args, extra, _SIGNATURES["normal"])
        ref = mean if isinstance(mean, Tensor) else std
        shape = _C.binary(_C.ops["add"], mean, std).shape if size is None else size
        out = _C.full(tuple(shape), None, ref.dtype if dtype is None else dtype)
        if isinstance(std, Tensor):
            # PyTorch draws N(0, 1) of the output shape, scales, then shifts.
            _check_tensor_std(std)
            _C.random_fill("normal", out, 0.0, 1.0, generator)
            _C.binary_(_C.ops["mul"], out, std)
        else:
            # A number std scales inside the draw (N(0, std)), then the shift.
            _C.random_fill("normal", out, 0.0, float(std), generator)
        _C.binary_(_C.ops["add"], out, mean)
        return _with_grad(out, requires_grad)
    if size is None:
        raise TypeError("normal() with number mean and std needs a size")
    out = _C.full(
        _size_args((size,), "normal"),
        None,
        _creation.get_default_dtype() if dtype is None else dtype,
    )
    _C.random_fill("normal", out, float(mean), float(std), generator)
    return _with_grad(out, requires_grad)


def _long(value: Any) -> int:
    """An int argument as torch's parser takes it: no bools or floats (a bare
    TypeError, for the caller's message), int64's range."""
    if isinstance(value, (bool, float)) or not hasattr(value, "__index__"):
        raise TypeError
    v = value.__index__()
    if not -(2**63) <= v < 2**63:
        raise ValueError("Overflow when unpacking long long")
    return v


def _type_name(value: Any) -> str:
    name = type(value).__name__
    return f"gdlite.{name}" if name in ("dtype", "device", "Generator") else name


def _invalid_combination(
    name: str, args: tuple[Any, ...], kwargs: dict[str, Any], signatures: list[str]
) -> TypeError:
    got = [_type_name(a) for a in args]
    got += [f"{k}={_type_name(v)}" for k, v in kwargs.items()]
    shown = ", ".join(got) + (", " if kwargs and not args else "")
    return TypeError(
        f"{name}() received an invalid combination of arguments - got ({shown}), "
        "but expected one of:\n" + "".join(f" * ({sig})\n" for sig in signatures)
    )


_GEN = "gdlite.Generator generator"
_OPTS = (
    "Tensor out = None, gdlite.dtype dtype = None, gdlite.layout layout = None, "
    "gdlite.device device = None, bool pin_memory = False, bool requires_grad = False"
)
_RANDINT_SIGNATURES = [
    f"int high, tuple of ints size, *, {_GEN}, {_OPTS}",
    f"int high, tuple of ints size, *, {_OPTS}",
    f"int low, int high, tuple of ints size, *, {_GEN}, {_OPTS}",
    f"int low, int high, tuple of ints size, *, {_OPTS}",
]
_RANDOM_SIGNATURES = [
    f"*, {_GEN} = None",
    f"int from, int to, *, {_GEN} = None",
    f"int to, *, {_GEN} = None",
]


_SIGNATURES = {
    "rand": [
        f"tuple of ints size, *, {_GEN}, {_OPTS}",
        f"tuple of ints size, *, {_OPTS}",
    ],
    "randn": [
        f"tuple of ints size, *, {_GEN}, {_OPTS}",
        f"tuple of ints size, *, {_OPTS}",
    ],
    "randperm": [f"int n, *, {_GEN}, {_OPTS}", f"int n, *, {_OPTS}"],
    "normal": [
        f"Tensor mean, Tensor std, *, {_GEN} = None, Tensor out = None",
        f"Tensor mean, float std = 1, *, {_GEN} = None, Tensor out = None",
        f"float mean, Tensor std, *, {_GEN} = None, Tensor out = None",
        f"float mean, float std, tuple of ints size, *, {_GEN} = None, {_OPTS}",
    ],
}


def _random_signature_error(args: tuple[Any, ...], kwargs: dict[str, Any]) -> TypeError:
    return _invalid_combination("random_", args, kwargs, _RANDOM_SIGNATURES)


def tensor_random_(t: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Tensor.random_ in its three forms: (), (to) and (from, to)."""
    shown = dict(kwargs)
    generator = kwargs.pop("generator", None)
    if generator is not None and not isinstance(generator, Generator):
        if len(args) == 2:  # only (from, to) takes two: torch names the argument
            _generator(generator, "random_")
        raise _random_signature_error(args, shown)
    bound: dict[str, Any] = {}
    if len(args) == 1:
        bound = {"to": args[0]}
    elif len(args) == 2:
        bound = {"from": args[0], "to": args[1]}
    if len(args) > 2 or set(kwargs) - {"from", "to"} or set(kwargs) & set(bound):
        raise _random_signature_error(args, shown)
    bound.update(kwargs)
    try:
        if not bound:
            _C.random_(t, None, None, generator)
        elif "from" in bound:
            if "to" not in bound:
                raise TypeError
            to = bound["to"]
            _C.random_(
                t,
                _long(bound["from"]),
                None if to is None else _long(to),
                generator,
            )
        else:
            _C.random_(t, 0, _long(bound["to"]), generator)
    except TypeError as e:
        if str(e):
            raise
        raise _random_signature_error(args, shown) from None
    return t
