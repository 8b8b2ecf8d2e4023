"""A pickle reader that builds data and never runs code from the file.

It interprets the opcodes torch.save's protocol-2 pickles use, one at a time,
without recursion. GLOBAL may only name entries of an allow-list (the rebuild
functions and storage types of PyTorch's format, OrderedDict, torch.Size,
torch.device, the dtypes); REDUCE may only call what GLOBAL produced; BUILD
only sets an OrderedDict's attributes (a state dict's ``_metadata``). Anything
else is a ``pickle.UnpicklingError`` in the wording of torch's weights-only
loader. Strings and numbers are read only as far as the data goes.
"""

from __future__ import annotations

import io
import pickle
import struct
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

_BLOCKED_MODULES = ("sys", "os", "posix", "nt")
_MAX_PROTO = 5


class Refused:
    """An allow-list entry for a global that is safe but not supported: naming
    it is an error that says why, not the generic refusal."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


class Unpickler:
    """``allowed`` maps ``module.name`` to what GLOBAL pushes; ``callables`` are
    those of them REDUCE and NEWOBJ may call; ``persistent_load`` resolves
    BINPERSID ids."""

    def __init__(
        self,
        data: bytes,
        allowed: dict[str, Any],
        callables: tuple[Callable[..., Any], ...],
        persistent_load: Callable[[tuple], Any],
    ) -> None:
        self._file = io.BytesIO(data)
        self._allowed = allowed
        self._callables = callables
        self._persistent_load = persistent_load
        self._dispatch = {op[0]: fn for op, fn in self._table().items()}

    # -- reading ------------------------------------------------------------
    def _read(self, n: int) -> bytes:
        data = self._file.read(n)
        if len(data) != n:
            raise pickle.UnpicklingError("pickle data was truncated")
        return data

    def _readline(self) -> bytes:
        line = self._file.readline(4096)
        if not line.endswith(b"\n"):
            raise pickle.UnpicklingError("pickle data was truncated")
        return line[:-1]

    def load(self) -> Any:
        self._stack: list[Any] = []
        self._marks: list[list[Any]] = []
        self._memo: dict[int, Any] = {}
        self._done = False
        try:
            while not self._done:
                op = self._read(1)[0]
                handler = self._dispatch.get(op)
                if handler is None:
                    raise pickle.UnpicklingError(f"Unsupported operand {op}")
                handler(self)
        except pickle.UnpicklingError:
            raise
        except (
            IndexError,
            KeyError,
            TypeError,
            ValueError,
            struct.error,
            OverflowError,
            UnicodeDecodeError,
            RecursionError,
        ) as e:
            # Malformed data: a pop from an empty stack, a missing memo entry,
            # an unhashable key... never the file's own code.
            raise pickle.UnpicklingError(
                f"malformed pickle data: {type(e).__name__}: {e}"
            ) from None
        if len(self._stack) != 1:
            raise pickle.UnpicklingError(
                "malformed pickle data: STOP with an unbalanced stack"
            )
        return self._stack[0]

    # -- opcodes ------------------------------------------------------------
    def _pop_mark(self) -> list[Any]:
        items = self._stack
        self._stack = self._marks.pop()
        return items

    def _global(self) -> None:
        module = self._readline().decode("utf-8")
        name = self._readline().decode("utf-8")
        full = f"{module}.{name}"
        if module.split(".")[0] in _BLOCKED_MODULES:
            raise pickle.UnpicklingError(
                f"Trying to load unsupported GLOBAL {full} whose module {module} "
                "is blocked."
            )
        if full not in self._allowed:
            shown = full.removeprefix("builtins.") if module == "builtins" else full
            raise pickle.UnpicklingError(
                f"Unsupported global: GLOBAL {shown} was not an allowed global "
                "by default."
            )
        found = self._allowed[full]
        if type(found) is Refused:
            raise pickle.UnpicklingError(found.message)
        self._stack.append(found)

    def _call(self, func: Any, args: Any) -> Any:
        if not any(func is f for f in self._callables):
            raise pickle.UnpicklingError(
                f"Trying to call reduce for unrecognized function {func}"
            )
        if type(args) is not tuple:
            raise pickle.UnpicklingError(
                f"REDUCE arguments must be a tuple, got {type(args)}"
            )
        return func(*args)

    def _reduce(self) -> None:
        args = self._stack.pop()
        self._stack[-1] = self._call(self._stack[-1], args)

    def _newobj(self) -> None:
        args = self._stack.pop()
        self._stack[-1] = self._call(self._stack[-1], args)

    def _build(self) -> None:
        state = self._stack.pop()
        inst = self._stack[-1]
        if type(inst) is not OrderedDict:
            raise pickle.UnpicklingError(
                f"Can only build Tensor, Parameter, OrderedDict, but got {type(inst)}"
            )
        if type(state) is not dict or not all(type(k) is str for k in state):
            raise pickle.UnpicklingError(
                "an OrderedDict's state must be a dict of attributes"
            )
        inst.__dict__.update(state)

    def _append(self) -> None:
        item = self._stack.pop()
        target = self._stack[-1]
        if type(target) is not list:
            raise pickle.UnpicklingError(
                f"Can only append to lists, but got {type(target)}"
            )
        target.append(item)

    def _appends(self) -> None:
        items = self._pop_mark()
        target = self._stack[-1]
        if type(target) is not list:
            raise pickle.UnpicklingError(
                f"Can only extend lists, but got {type(target)}"
            )
        target.extend(items)

    def _set_target(self, opcode: str) -> dict:
        target = self._stack[-1]
        if type(target) not in (dict, OrderedDict):
            raise pickle.UnpicklingError(
                f"Can only {opcode} for dict, collections.OrderedDict, but got "
                f"{type(target)}"
            )
        return target

    def _setitem(self) -> None:
        value = self._stack.pop()
        key = self._stack.pop()
        self._set_target("SETITEM")[key] = value

    def _setitems(self) -> None:
        items = self._pop_mark()
        if len(items) % 2:
            raise pickle.UnpicklingError("SETITEMS needs key/value pairs")
        target = self._set_target("SETITEMS")
        for i in range(0, len(items), 2):
            target[items[i]] = items[i + 1]

    def _mark(self) -> None:
        self._marks.append(self._stack)
        self._stack = []

    def _tuple(self) -> None:
        items = tuple(self._pop_mark())
        self._stack.append(items)

    def _tuple_n(self, n: int) -> None:
        if len(self._stack) < n:
            raise pickle.UnpicklingError("stack underflow")
        items = tuple(self._stack[len(self._stack) - n :])
        del self._stack[len(self._stack) - n :]
        self._stack.append(items)

    def _unicode(self, size_format: str) -> None:
        (n,) = struct.unpack(size_format, self._read(struct.calcsize(size_format)))
        self._stack.append(str(self._read(n), "utf-8", "surrogatepass"))

    def _binstring(self) -> None:
        n = self._read(1)[0]
        self._stack.append(self._read(n).decode("ascii"))

    def _persid(self) -> None:
        pid = self._stack.pop()
        if type(pid) is not tuple or not pid or pid[0] != "storage":
            raise pickle.UnpicklingError("Only persistent_load of storage is allowed")
        self._stack.append(self._persistent_load(pid))

    def _get(self, size_format: str) -> None:
        (i,) = struct.unpack(size_format, self._read(struct.calcsize(size_format)))
        if i not in self._memo:
            raise pickle.UnpicklingError(f"Memo value not found at index {i}")
        self._stack.append(self._memo[i])

    def _put(self, size_format: str) -> None:
        (i,) = struct.unpack(size_format, self._read(struct.calcsize(size_format)))
        self._memo[i] = self._stack[-1]

    def _long1(self) -> None:
        n = self._read(1)[0]
        self._stack.append(int.from_bytes(self._read(n), "little", signed=True))

    def _proto(self) -> None:
        proto = self._read(1)[0]
        if proto > _MAX_PROTO:
            raise pickle.UnpicklingError(f"unsupported pickle protocol: {proto}")

    def _stop(self) -> None:
        if self._marks:
            raise pickle.UnpicklingError("malformed pickle data: STOP inside a MARK")
        self._done = True

    @staticmethod
    def _table() -> dict[bytes, Callable[[Unpickler], None]]:
        u = Unpickler

        def unpack(fmt: str) -> Callable[[Unpickler], None]:
            size = struct.calcsize(fmt)
            return lambda self: self._stack.append(
                struct.unpack(fmt, self._read(size))[0]
            )

        def const(value_of: Callable[[], Any]) -> Callable[[Unpickler], None]:
            return lambda self: self._stack.append(value_of())

        return {
            pickle.GLOBAL: u._global,
            pickle.REDUCE: u._reduce,
            pickle.NEWOBJ: u._newobj,
            pickle.BUILD: u._build,
            pickle.APPEND: u._append,
            pickle.APPENDS: u._appends,
            pickle.SETITEM: u._setitem,
            pickle.SETITEMS: u._setitems,
            pickle.MARK: u._mark,
            pickle.TUPLE: u._tuple,
            pickle.TUPLE1: lambda self: self._tuple_n(1),
            pickle.TUPLE2: lambda self: self._tuple_n(2),
            pickle.TUPLE3: lambda self: self._tuple_n(3),
            pickle.NONE: const(lambda: None),
            pickle.NEWFALSE: const(lambda: False),
            pickle.NEWTRUE: const(lambda: True),
            pickle.EMPTY_TUPLE: const(tuple),
            pickle.EMPTY_LIST: const(list),
            pickle.EMPTY_DICT: const(dict),
            pickle.EMPTY_SET: const(set),
            pickle.BININT: unpack("<i"),
            pickle.BININT1: unpack("<B"),
            pickle.BININT2: unpack("<H"),
            pickle.BINFLOAT: unpack(">d"),
            pickle.BINUNICODE: lambda self: self._unicode("<I"),
            pickle.SHORT_BINUNICODE: lambda self: self._unicode("<B"),
            pickle.SHORT_BINSTRING: u._binstring,
            pickle.BINPERSID: u._persid,
            pickle.BINGET: lambda self: self._get("<B"),
            pickle.LONG_BINGET: lambda self: self._get("<I"),
            pickle.BINPUT: lambda self: self._put("<B"),
            pickle.LONG_BINPUT: lambda self: self._put("<I"),
            pickle.LONG1: u._long1,
            pickle.PROTO: u._proto,
            pickle.STOP: u._stop,
        }
