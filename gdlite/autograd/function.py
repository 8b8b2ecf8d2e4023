"""gdlite.autograd.Function: operations with a forward and a backward written
in Python, recorded in the graph as one node named ``<ClassName>Backward``.

>>> class Square(gdlite.autograd.Function):
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x * x
...     @staticmethod
...     def backward(ctx, grad):
...         (x,) = ctx.saved_tensors
...         return 2 * x * grad
>>> x = gdlite.tensor(3.0, requires_grad=True)
>>> Square.apply(x).backward()
>>> x.grad
tensor(6.)
"""

from __future__ import annotations

from typing import Any

from .. import _C
from .._grad_mode import no_grad

_FREED = (
    "Trying to backward through the graph a second time (or directly access saved "
    "tensors after they have already been freed). Saved intermediate values of the "
    "graph are freed when you call .backward() or autograd.grad(). Specify "
    "retain_graph=True if you need to backward through the graph a second time or "
    "if you need to access saved tensors after calling backward."
)


def _is_tensor(x: Any) -> bool:
    return isinstance(x, _C.TensorBase)


def _expandable(shape: tuple, to: tuple) -> bool:
    """Can a tensor of ``shape`` be expanded to ``to`` (torch's is_expandable_to)?"""
    if len(shape) > len(to):
        return False
    return all(s in (1, t) for s, t in zip(reversed(shape), reversed(to), strict=False))


def _shape_text(shape: tuple) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _modified_message(t: Any, version: int, output_nr: Any, name: str) -> str:
    """torch's message for a saved tensor changed in place since it was saved:
    it names the node that made it (this one for an output)."""
    if output_nr is None and t.grad_fn is not None:
        name, output_nr = t.grad_fn.name(), 0
    where = ""
    if output_nr is not None:
        where = f", which is output {output_nr} of {name.split('Backward')[0]},"
    return (
        "one of the variables needed for gradient computation has been modified by "
        f"an inplace operation: [{t.type()} {_shape_text(tuple(t.shape))}]{where} is "
        f"at version {t._version}; expected version {version} instead."
    )


class FunctionCtx:
    """What forward records for backward: saved tensors, flags, attributes."""

    def save_for_backward(self, *tensors: Any) -> None:
        for t in tensors:
            if t is not None and not _is_tensor(t):
                raise TypeError(
                    "save_for_backward can only save variables, but argument "
                    f"{tensors.index(t)} is of type {type(t).__name__}"
                )
        self.to_save = tensors

    def save_for_forward(self, *tensors: Any) -> None:
        self.saved_for_forward = tensors

    def mark_dirty(self, *args: Any) -> None:
        self.dirty_tensors = args

    def mark_non_differentiable(self, *args: Any) -> None:
        self.non_differentiable = args

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value


class BackwardCFunction(FunctionCtx):
    """The ctx of one ``apply``: also the node's state, reached through
    ``grad_fn`` as in torch."""

    def __init__(self, fn: type) -> None:
        self._fn = fn
        self._name = fn.__name__ + "Backward"
        self.materialize_grads = True
        self.to_save: tuple = ()
        self.dirty_tensors: tuple = ()
        self.non_differentiable: tuple = ()
        self._saved: list | None = []
        self._freed = False
        self._outputs: list = []  # (shape, dtype) of each output, None for others
        self._input_positions: list[int] = []
        self._input_shapes: list[tuple] = []
        self._n_args = 0

    @property
    def saved_tensors(self) -> tuple:
        return self._unpack(getattr(self, "_node", None))

    def _unpack(self, node: Any) -> tuple:
        if self._freed:
            raise RuntimeError(_FREED)
        out = []
        for entry in self._saved or ():
            if entry is None:
                out.append(None)
                continue
            t, version, output_nr = entry
            if t._version != version:
                raise RuntimeError(_modified_message(t, version, output_nr, self._name))
            if output_nr is not None:
                # a saved output: its data, with this node as its history when
                # backward builds a graph
                t = t.detach()
                if node is not None and _C.is_grad_enabled():
                    _C._function_set_output(node, output_nr, t)
            out.append(t)
        return tuple(out)

    def _run_backward(self, grads: tuple, retain_graph: bool, node: Any) -> tuple:
        grads = list(grads)
        for k, meta in enumerate(self._outputs):
            if grads[k] is None and meta is not None and self.materialize_grads:
                from .._creation import zeros

                grads[k] = zeros(meta[0], dtype=meta[1])
        self._node = node
        try:
            result = self._fn.backward(self, *grads)
        finally:
            self._node = None
        if not isinstance(result, tuple):
            result = (result,)
        n = self._n_args
        if len(result) < n or any(r is not None for r in result[n:]):
            raise RuntimeError(
                f"function {self._name} returned an incorrect number of gradients "
                f"(expected {n}, got {len(result)})"
            )
        grads_in = []
        for i, pos in enumerate(self._input_positions):
            g = result[pos]
            if g is not None and not _is_tensor(g):
                raise RuntimeError(
                    f"expected Variable or None (got {type(g).__name__})"
                )
            if g is not None and not _expandable(self._input_shapes[i], tuple(g.shape)):
                raise RuntimeError(
                    f"Function {self._name} returned an invalid gradient at index {i} "
                    f"- got {_shape_text(tuple(g.shape))} but expected shape "
                    f"compatible with {_shape_text(self._input_shapes[i])}"
                )
            grads_in.append(g)
        if not retain_graph:
            self._saved = None
            self._freed = True
        return tuple(grads_in)


class Function:
    """Base class of operations with a Python forward and backward: subclass
    it with static ``forward(ctx, *args)`` and ``backward(ctx, *grads)`` and
    call ``apply``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. "
            "Please use new-style autograd function with static forward method. "
            "(Example: https://pytorch.org/docs/stable/autograd.html"
            "#torch.autograd.Function)"
        )

    @staticmethod
    def forward(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: Any) -> Any:
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    vjp = backward

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        ctx = BackwardCFunction(cls)
        ctx.needs_input_grad = tuple(_is_tensor(a) and a.requires_grad for a in args)
        ctx._n_args = len(args)
        separate = cls.setup_context is not Function.setup_context
        with no_grad():
            if separate:
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, outputs)
            else:
                outputs = cls.forward(ctx, *args, **kwargs)
        record = _C.is_grad_enabled() and any(ctx.needs_input_grad)
        single = not isinstance(outputs, tuple)
        outs = [outputs] if single else list(outputs)
        if record:
            outs = _record(ctx, args, outs)
        else:
            ctx._saved = None
        return outs[0] if single else tuple(outs)


def _record(ctx: BackwardCFunction, args: tuple, outs: list) -> list:
    """The node of this call, its outputs attached, what forward saved kept."""
    positions = [i for i, a in enumerate(args) if _is_tensor(a)]
    inputs = [args[i] for i in positions]
    ctx._input_positions = positions
    ctx._input_shapes = [tuple(t.shape) for t in inputs]
    dirty = {id(t) for t in ctx.dirty_tensors}
    non_diff = {id(t) for t in ctx.non_differentiable}
    input_ids = {id(t) for t in inputs}
    for t in inputs:
        if id(t) in dirty and t.is_leaf and t.requires_grad:
            raise RuntimeError(
                "a leaf Variable that requires grad has been used in an in-place "
                "operation."
            )
    node = _C._function_node(ctx._name, inputs, max(len(outs), 1), ctx)
    output_of: dict[int, int] = {}
    for k, t in enumerate(outs):
        if not _is_tensor(t):
            ctx._outputs.append(None)
            continue
        ctx._outputs.append((tuple(t.shape), t.dtype))
        if id(t) in non_diff or not t.dtype.is_floating_point:
            continue
        if id(t) in input_ids and id(t) not in dirty:
            with no_grad():
                t = outs[k] = t.view_as(t)
        output_of[id(outs[k])] = k
        output_of.setdefault(id(t), k)
        _C._function_set_output(node, k, outs[k], id(t) in dirty)
    saved: list = []
    for t in ctx.to_save:
        if t is None:
            saved.append(None)
        elif id(t) in output_of:
            # an output is kept as its data only: the node must not own it
            saved.append((t.detach(), t._version, output_of[id(t)]))
        else:
            saved.append((t, t._version, None))
    ctx._saved = saved
    ctx.to_save = ()
    return outs


class InplaceFunction(Function):
    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace


def once_differentiable(fn: Any) -> Any:
    """Marks a backward as not differentiable twice; gdlite runs it as is."""
    return fn
