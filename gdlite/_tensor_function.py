"""The ``__torch_function__`` protocol for subclasses of gdlite.Tensor.

Nothing here runs until the first subclass that overrides
``__torch_function__`` is defined (nn.Parameter, which sets it to
``_C._disabled_torch_function_impl``, does not count). Then :func:`_enable`
wraps the public functions (``gdlite.exp``, ``gdlite.cat``,
``nn.functional.relu``, ...) and Tensor's own methods with
:func:`public_function`, whose fast path only compares argument types, and
registers :func:`slot_dispatch` with the C operator and indexing slots, which
call it when an operand is not a plain tensor. Each such subclass gets
wrappers for Tensor's remaining special methods (``__getitem__``, ``__neg__``,
...) and its tensor-valued properties. Where an
argument overrides ``__torch_function__``, :func:`dispatch` calls
``type(arg).__torch_function__(func, types, args, kwargs)`` for the
overloaded arguments, subclasses before their bases, else left to right,
until one does not return NotImplemented. Tensor's own ``__torch_function__``
(:func:`default_torch_function`) runs the op with dispatch disabled and makes
tensor results instances of the most derived subclass, wherever it was among
the arguments, as in PyTorch.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from . import _C

_state = threading.local()


def _disabled_depth() -> int:
    return getattr(_state, "depth", 0)


class DisableTorchFunctionSubclass:
    """Within it, ops on Tensor subclasses run as on plain tensors (their
    ``__torch_function__`` is not called)."""

    def __enter__(self) -> None:
        _state.depth = _disabled_depth() + 1

    def __exit__(self, *exc: Any) -> None:
        _state.depth -= 1


# gdlite has no torch-function modes: disabling subclasses disables all.
DisableTorchFunction = DisableTorchFunctionSubclass


def _disabled_torch_function_impl(
    func: Any, types: Any, args: Any = (), kwargs: Any = None
) -> Any:
    """What subclasses such as nn.Parameter set as ``__torch_function__`` to
    get plain Tensor results: the op runs as on a plain tensor."""
    with DisableTorchFunctionSubclass():
        return func(*args, **(kwargs or {}))


def _torch_function_of(cls: type) -> Any:
    """cls's ``__torch_function__`` as written in its class body."""
    for klass in cls.__mro__:
        impl = klass.__dict__.get("__torch_function__")
        if impl is not None:
            return getattr(impl, "__func__", impl)
    return None


def _is_overloaded(obj: Any) -> bool:
    cls = type(obj)
    return (
        cls is not _tensor_class
        and isinstance(obj, _C.TensorBase)
        and _torch_function_of(cls) is not _disabled_torch_function_impl
    )


def overloaded_args(args: Any, kwargs: Any = None) -> list[Any]:
    """The arguments (and items of list or tuple arguments) whose type
    overrides ``__torch_function__``, one per type, in calling order:
    subclasses before their bases, otherwise left to right."""
    found: list[Any] = []

    def visit(obj: Any) -> None:
        if not _is_overloaded(obj):
            return
        cls = type(obj)
        if any(type(f) is cls for f in found):
            return
        for i, f in enumerate(found):
            if issubclass(cls, type(f)):
                found.insert(i, obj)
                return
        found.append(obj)

    for arg in (*args, *(kwargs or {}).values()):
        if isinstance(arg, (list, tuple)):
            for item in arg:
                visit(item)
        else:
            visit(arg)
    return found


class _DispatchFailed(TypeError):
    """Every ``__torch_function__`` returned NotImplemented."""


def _qualified_name(func: Any) -> str:
    qualname = getattr(func, "__qualname__", getattr(func, "__name__", repr(func)))
    if qualname.startswith(("Tensor.", "TensorBase.")):
        return "gdlite.Tensor." + qualname.split(".", 1)[1]
    return "gdlite." + qualname


def handle_torch_function(
    func: Any, relevant_args: Any, *args: Any, **kwargs: Any
) -> Any:
    """Calls the ``__torch_function__`` of the overloaded ``relevant_args``
    with ``func(*args, **kwargs)``, as torch.overrides does."""
    overloaded = overloaded_args(relevant_args)
    types = tuple(type(a) for a in overloaded)
    for arg in overloaded:
        result = type(arg).__torch_function__(func, types, args, kwargs)
        if result is not NotImplemented:
            return result
    lines = "".join(f"  - tensor subclass {t}\n" for t in types)
    raise _DispatchFailed(
        f"Multiple dispatch failed for '{_qualified_name(func)}'; all "
        f"__torch_function__ handlers returned NotImplemented:\n\n{lines}"
    )


def has_torch_function(relevant_args: Any) -> bool:
    """Whether any of ``relevant_args`` overrides ``__torch_function__``."""
    return _disabled_depth() == 0 and bool(overloaded_args(relevant_args))


def dispatch(func: Any, args: tuple, kwargs: dict) -> Any:
    """``func(*args, **kwargs)``, through ``__torch_function__`` when an
    argument overrides it and dispatch is not disabled."""
    if _disabled_depth() or not overloaded_args(args, kwargs):
        return func(*args, **kwargs)
    return handle_torch_function(func, (*args, *kwargs.values()), *args, **kwargs)


def _convert(ret: Any, cls: type) -> Any:
    if isinstance(ret, _C.TensorBase):
        return ret if isinstance(ret, cls) else ret.as_subclass(cls)
    if isinstance(ret, (tuple, list)) and any(
        isinstance(r, _C.TensorBase) for r in ret
    ):
        items = [_convert(r, cls) for r in ret]
        if type(ret) in (tuple, list):
            return type(ret)(items)
        return type(ret)(*items)  # named results: return_types.max(values, indices)
    return ret


def default_torch_function(
    cls: type, func: Any, types: Any, args: Any = (), kwargs: Any = None
) -> Any:
    """Tensor.__torch_function__: runs ``func`` as on plain tensors, then
    makes tensor results (also inside tuples and lists) instances of cls.
    NotImplemented when some overloaded type is not a base of cls."""
    if not all(issubclass(cls, t) for t in types):
        return NotImplemented
    with DisableTorchFunctionSubclass():
        ret = func(*args, **(kwargs or {}))
        if cls is _tensor_class:
            return ret
        return _convert(ret, cls)


def public_function(func: Any) -> Any:
    """func as a public op: plain arguments go straight to func."""
    plain = _PLAIN_TYPES

    @functools.wraps(func)
    def public(*args: Any, **kwargs: Any) -> Any:
        for arg in args:
            if type(arg) not in plain:
                break
        else:
            if not kwargs:
                return func(*args)
            for arg in kwargs.values():
                if type(arg) not in plain:
                    break
            else:
                return func(*args, **kwargs)
        if _disabled_depth() or not overloaded_args(args, kwargs):
            return func(*args, **kwargs)
        return handle_torch_function(public, (*args, *kwargs.values()), *args, **kwargs)

    return public


# Argument types that never override __torch_function__ (gdlite.Tensor is
# added by register).
_PLAIN_TYPES = {int, float, bool, type(None), str, _C.dtype}
_tensor_class: type = _C.TensorBase


def register(tensor_class: type) -> None:
    """Makes tensor_class (gdlite.Tensor) the class whose instances are plain."""
    global _tensor_class
    _tensor_class = tensor_class
    _PLAIN_TYPES.add(tensor_class)


# Public names that are not ops on tensors, or whose wrapping would change
# what they are.
_NOT_DISPATCHED = frozenset(
    "__new__ __init__ __init_subclass__ __torch_function__ __getattribute__ "
    "__getattr__ __setattr__ __delattr__ __dir__ __sizeof__ __reduce__ "
    "__reduce_ex__ __getstate__ __setstate__ __hash__ __deepcopy__ __copy__ "
    "__array__ __array_wrap__ __class_getitem__ __subclasshook__ __str__ "
    "__iter__ __format__ __bool__ __len__ __index__ __int__ __float__ "
    "as_subclass".split()
)
# Operators, which the C slots dispatch (slot_dispatch), as the Tensor
# methods PyTorch's handlers see them call; a reflected operator passes the
# tensor first. Slots not named here are seen as themselves.
_SLOT_METHODS = {
    "__add__": "add",
    "__radd__": "add",
    "__sub__": "sub",
    "__mul__": "mul",
    "__rmul__": "mul",
    "__truediv__": "div",
    "__mod__": "remainder",
    "__pow__": "pow",
    "__matmul__": "matmul",
    "__rand__": "bitwise_and",
    "__ror__": "bitwise_or",
    "__rxor__": "bitwise_xor",
    "__lt__": "lt",
    "__le__": "le",
    "__gt__": "gt",
    "__ge__": "ge",
    "__ne__": "ne",
    "__iadd__": "add_",
    "__isub__": "sub_",
    "__imul__": "mul_",
    "__itruediv__": "div_",
    "__ifloordiv__": "floor_divide_",
    "__imod__": "remainder_",
    "__ipow__": "pow_",
}
_SLOTS = frozenset(
    f"__{p}{name}__"
    for name in "add sub mul truediv floordiv mod pow matmul and or xor".split()
    for p in ("", "r", "i")
) | frozenset("__eq__ __ne__ __lt__ __le__ __gt__ __ge__".split())

_method_table: dict[str, Any] | None = None


def _methods(tensor_class: type) -> dict[str, Any]:
    """Tensor's public methods and operators, by name (computed once)."""
    global _method_table
    if _method_table is None:
        table: dict[str, Any] = {}
        for klass in reversed(tensor_class.__mro__[:-1]):  # not object
            for name, value in klass.__dict__.items():
                private = name.startswith("_") and not name.endswith("__")
                if private or name in _NOT_DISPATCHED or not callable(value):
                    continue
                if isinstance(value, (staticmethod, classmethod, type)):
                    continue
                table[name] = getattr(tensor_class, name)
        _method_table = table
    return _method_table


def _wrap_method(name: str, func: Any) -> Any:
    def method(*args: Any, **kwargs: Any) -> Any:
        return dispatch(func, args, kwargs)

    method.__name__ = name
    method.__qualname__ = "Tensor." + name
    method.__doc__ = getattr(func, "__doc__", None)
    method.__wrapped__ = func  # type: ignore[attr-defined]
    return method


_deferred_public: list[tuple[dict, list[str]]] = []


def defer_public_functions(namespace: dict, names: list[str]) -> None:
    """Marks namespace[name] as public ops, wrapped by public_function when
    the first Tensor subclass that overrides ``__torch_function__`` is made:
    programs without one keep calling the plain functions."""
    _deferred_public.append((namespace, names))


def _wrap_public_functions() -> None:
    while _deferred_public:
        namespace, names = _deferred_public.pop()
        wrapped: dict[int, Any] = {}
        for name in names:
            value = namespace[name]
            if id(value) not in wrapped:  # aliases stay one object
                wrapped[id(value)] = public_function(value)
            namespace[name] = wrapped[id(value)]


def slot_dispatch(name: str, x: Any, y: Any) -> Any:
    """What the C operator (or indexing) slot ``name`` of ``x`` calls when an operand's
    class may override ``__torch_function__``: ``(result,)`` through the
    handlers, or None when the slot computes the result itself (no operand
    overrides it, or dispatch is disabled). A right operand that is the
    tensor dispatches its reflected operator, as Python would call it;
    ``__setitem__`` passes ``(key, value)`` as y."""
    if _disabled_depth():
        return None
    if name == "__setitem__":  # y: (key, value)
        args = (x, *y)
    else:
        if not isinstance(x, _C.TensorBase):
            name, x, y = "__r" + name[2:], y, x
        args = (x, y)
    if not overloaded_args(args):
        return None
    func = getattr(_tensor_class, _SLOT_METHODS.get(name, name))
    if name not in _SLOTS:  # __getitem__
        return (handle_torch_function(func, args, *args),)
    try:
        return (handle_torch_function(func, args, *args),)
    except TypeError:  # as PyTorch's operators: Python tries the other operand
        return (NotImplemented,)


def _wrap_tensor_methods() -> None:
    """Tensor's own public methods dispatch on their arguments, as
    ``plain.add(sub)`` does in PyTorch (a plain self with plain arguments
    keeps to the fast path of public_function)."""
    for name, func in _methods(_tensor_class).items():
        if name.startswith("__"):
            continue  # operators: the C slots dispatch; others take only self
        method = public_function(func)
        method.__name__ = name
        method.__qualname__ = "Tensor." + name
        setattr(_tensor_class, name, method)


# Tensor-valued properties, which dispatch as methods do (gradients, as in
# PyTorch's get_default_nowrap_functions, stay plain).
_PROPERTIES = ("T", "mT", "H", "mH", "data")


def _dispatching_property(name: str) -> property:
    descriptor = next(
        k.__dict__[name] for k in _tensor_class.__mro__ if name in k.__dict__
    )
    getter = descriptor.__get__

    def get(self: Any) -> Any:
        return dispatch(getter, (self,), {})

    setter = getattr(descriptor, "__set__", None)
    if isinstance(descriptor, property) and descriptor.fset is None:
        setter = None
    return property(get, setter, doc=descriptor.__doc__)


_enabled = False


def _enable() -> None:
    """Once: what the first subclass that overrides ``__torch_function__``
    turns on (programs without one never pay for dispatch)."""
    global _enabled
    if _enabled:
        return
    _enabled = True
    _methods(_tensor_class)  # the unwrapped methods, before wrapping
    _wrap_public_functions()
    _wrap_tensor_methods()
    _C._set_torch_function_hook(slot_dispatch, _disabled_torch_function_impl)


def install(cls: type) -> None:
    """Gives a new Tensor subclass the dispatching methods and properties,
    leaving those it (or a base below Tensor) defines itself."""
    if _torch_function_of(cls) is _disabled_torch_function_impl:
        _PLAIN_TYPES.add(cls)  # as plain as Tensor for dispatch
        return
    _enable()
    own = cls.__mro__[: cls.__mro__.index(_tensor_class)]
    for name, func in _methods(_tensor_class).items():
        # Other methods are Tensor's own dispatching wrappers, so a handler
        # sees Tensor.add itself for sub.add(1) as for plain.add(sub).
        if not name.startswith("__") or name in _SLOTS:
            continue
        if not any(name in klass.__dict__ for klass in own):
            setattr(cls, name, _wrap_method(name, func))
    for name in _PROPERTIES:
        if not any(name in klass.__dict__ for klass in own):
            setattr(cls, name, _dispatching_property(name))
