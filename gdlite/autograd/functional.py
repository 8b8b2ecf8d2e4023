"""gdlite.autograd.functional: Jacobians, Hessians and their products with
vectors, computed by reverse mode (one backward per output element, or the
double-backward trick for products), with torch's signatures and checks.

>>> def f(x):
...     return (x**3).sum()
>>> gdlite.autograd.functional.hessian(f, gdlite.tensor([1.0, 2.0]))
tensor([[ 6.,  0.],
        [ 0., 12.]])
"""

from __future__ import annotations

from typing import Any

from .. import _C
from .._creation import zeros_like
from .._grad_mode import enable_grad

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]

_STRICT_INDEPENDENT = {
    "back": "The output of the user-provided function is independent of input {i}. "
    "This is not allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} "
    "in the grad_outputs when using the double backward trick to compute forward "
    "mode gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of "
    "input {i}. This is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of "
    "entry {i} in the grad_jacobian. This is not allowed in strict mode as it prevents "
    "from using the double backward trick to replace forward mode AD.",
}

_NEEDS_GRAD = {
    "hessian": "The hessian of the user-provided function with respect to input {i} is "
    "independent of the input. This is not allowed in strict mode. You should ensure "
    "that your function is thrice differentiable and that the hessian depends on the "
    "inputs.",
    "jacobian": "While computing the hessian, found that the jacobian of the "
    "user-provided function with respect to input {i} is independent of the input. "
    "This is not allowed in strict mode. You should ensure that your function is twice "
    "differentiable and that the jacobian depends on the inputs (this would be "
    "violated by a linear function for example).",
    "grad_inputs": "The gradient with respect to input {i} is independent of the "
    "inputs of the user-provided function. This is not allowed in strict mode.",
    "outputs": "Output {i} of the user-provided function does not require gradients. "
    "The outputs must be computed in a differentiable manner from the input when "
    "running in strict mode.",
}


def _tensors(value: Any, what: str, caller: str) -> tuple[bool, tuple]:
    """(was it a tuple, the tensors as a tuple), refusing anything else."""
    is_tuple = isinstance(value, tuple)
    items = value if is_tuple else (value,)
    for i, el in enumerate(items):
        if not isinstance(el, _C.TensorBase):
            where = f"value at index {i}" if is_tuple else f"given {what}"
            raise TypeError(
                f"The {what} given to {caller} must be either a Tensor or a tuple of "
                f"Tensors but the {where} has type {type(el)}."
            )
    return is_tuple, items


def _unpack(res: Any, out_tuple: bool, in_tuple: bool | None = None) -> Any:
    """Results nested by (outputs, inputs), unwrapped where the caller gave a
    single tensor rather than a tuple."""
    if in_tuple is not None and not in_tuple:
        res = tuple(el[0] for el in res)
    return res if out_tuple else res[0]


def _prepare(inputs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """Inputs as the function sees them: views keeping history when a graph
    is wanted, else fresh leaves."""
    return tuple(
        x.view_as(x)
        if create_graph and x.requires_grad
        else x.detach().requires_grad_(need_graph)
        for x in inputs
    )


def _finish(values: tuple, create_graph: bool) -> tuple:
    if values and not isinstance(values[0], _C.TensorBase):
        return tuple(_finish(v, create_graph) for v in values)
    return values if create_graph else tuple(v.detach() for v in values)


def _check_requires_grad(values: tuple, kind: str, strict: bool) -> None:
    if not strict:
        return
    for i, v in enumerate(values):
        if v is None:
            raise RuntimeError(_STRICT_INDEPENDENT["back"].format(i=i))
        if not v.requires_grad:
            raise RuntimeError(_NEEDS_GRAD[kind].format(i=i))


def _grad(
    outputs: tuple,
    inputs: tuple,
    grad_outputs: tuple | None = None,
    create_graph: bool = False,
    retain_graph: bool | None = None,
) -> tuple:
    """autograd.grad over the outputs that require grad (None for every input
    when none does), unused inputs giving None."""
    from . import grad

    grad_outputs = grad_outputs or (None,) * len(outputs)
    pairs = [
        (o, g)
        for o, g in zip(outputs, grad_outputs, strict=True)
        if o is not None and o.requires_grad
    ]
    if not pairs:
        return (None,) * len(inputs)
    return grad(
        tuple(o for o, _ in pairs),
        inputs,
        tuple(g for _, g in pairs),
        allow_unused=True,
        create_graph=create_graph,
        retain_graph=retain_graph,
    )


def _zeros_for_missing(
    grads: tuple, refs: tuple, strict: bool, create_graph: bool, stage: str
) -> tuple:
    out = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_STRICT_INDEPENDENT[stage].format(i=i))
            g = zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(
                f"The {what} of the user-provided function is independent of input "
                f"{i}. This is not allowed in strict mode when create_graph=True."
            )
        out.append(g)
    return tuple(out)


def _check_v(v: tuple, other: tuple, other_is_tuple: bool) -> None:
    if len(v) != len(other):
        if other_is_tuple:
            raise RuntimeError(
                f"v is a tuple of invalid length: should be {len(other)} but got "
                f"{len(v)}."
            )
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, other, strict=True)):
        if a.size() != b.size():
            prefix = f"Entry {i} in " if other_is_tuple else ""
            raise RuntimeError(
                f"{prefix}v has invalid size: should be {b.size()} but got {a.size()}."
            )


def _default_v(outputs: tuple, v: Any, caller: str) -> tuple:
    if v is not None:
        return _tensors(v, "v", caller)[1]
    if len(outputs) != 1 or outputs[0].nelement() != 1:
        raise RuntimeError(
            "The vector v can only be None if the user-provided function returns a "
            "single Tensor with a single element."
        )
    return (None,)


def jacobian(
    func: Any,
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
) -> Any:
    """The Jacobian of ``func`` at ``inputs``: for each output and input, a
    tensor of shape ``output.shape + input.shape``. ``vectorize`` computes the
    same numbers the same way (one backward per output element)."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If '
            'your function has more outputs than inputs, "forward-mode" tends to be '
            'more performant. Otherwise, prefer to use "reverse-mode".'
        )
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "gdlite.autograd.functional.jacobian: `create_graph=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please '
                'either set `create_graph=False` or `strategy="reverse-mode"`.'
            )
        if strict:
            raise RuntimeError(
                "gdlite.autograd.functional.jacobian: `strict=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please '
                'either set `strict=False` or `strategy="reverse-mode"`.'
            )
        if not vectorize:
            raise NotImplementedError(
                "Computing Jacobian using forward-AD or forward-over-reverse Hessian "
                "isonly implemented for `vectorize=True`."
            )
    with enable_grad():
        in_tuple, inputs = _tensors(inputs, "inputs", "jacobian")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        out_tuple, outputs = _tensors(
            func(*inputs), "outputs of the user-provided function", "jacobian"
        )
        _check_requires_grad(outputs, "outputs", strict)
        if vectorize and strict:
            raise RuntimeError(
                "gdlite.autograd.functional.jacobian: `strict=True` and "
                "`vectorized=True` are not supported together. Please either set "
                "`strict=False` or `vectorize=False`."
            )
        result = []
        for i, out in enumerate(outputs):
            rows: list[list] = [[] for _ in inputs]
            flat = out.reshape(-1)
            for j in range(out.nelement()):
                row = _grad(
                    (flat[j],), inputs, retain_graph=True, create_graph=create_graph
                )
                for k, (g, x) in enumerate(zip(row, inputs, strict=True)):
                    if g is None:
                        if strict:
                            raise RuntimeError(
                                f"Output {i} of the user-provided function is "
                                f"independent of input {k}. This is not allowed in "
                                "strict mode."
                            )
                        g = zeros_like(x)
                    elif strict and create_graph and not g.requires_grad:
                        raise RuntimeError(
                            "The jacobian of the user-provided function is "
                            f"independent of input {i}. This is not allowed in "
                            "strict mode when create_graph=True."
                        )
                    rows[k].append(g)
            result.append(
                tuple(
                    _stack(r, x).view(out.size() + x.size())
                    for r, x in zip(rows, inputs, strict=True)
                )
            )
        return _unpack(_finish(tuple(result), create_graph), out_tuple, in_tuple)


def _stack(rows: list, like: Any) -> Any:
    from .._creation import zeros

    if not rows:  # an output with no elements
        return zeros((0, *like.shape), dtype=like.dtype)
    from .. import stack

    return stack(rows, dim=0)


def hessian(
    func: Any,
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
) -> Any:
    """The Hessian of a function returning one element: for each pair of
    inputs, a tensor of shape ``input_i.shape + input_j.shape``."""
    in_tuple, inputs = _tensors(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode".'
        )

    def single_output(*xs: Any) -> Any:
        out = func(*xs)
        is_tuple, outs = _tensors(
            out, "outputs of the user-provided function", "hessian"
        )
        _check_requires_grad(outs, "outputs", strict)
        if is_tuple or not isinstance(out, _C.TensorBase):
            raise RuntimeError(
                "The function given to hessian should return a single Tensor"
            )
        if out.nelement() != 1:
            raise RuntimeError(
                "The Tensor returned by the function given to hessian should contain "
                "a single element"
            )
        return out.squeeze()

    def gradient(*xs: Any) -> Any:
        if outer_jacobian_strategy == "forward-mode":
            xs = tuple(x.requires_grad_(True) for x in xs)
        jac = jacobian(single_output, xs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(
        gradient,
        inputs,
        create_graph=create_graph,
        strict=strict,
        vectorize=vectorize,
        strategy=outer_jacobian_strategy,
    )
    return _unpack(res, in_tuple, in_tuple)


def vjp(
    func: Any,
    inputs: Any,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple:
    """(func(inputs), v^T J): the vector-Jacobian product."""
    with enable_grad():
        in_tuple, inputs = _tensors(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        out_tuple, outputs = _tensors(
            func(*inputs), "outputs of the user-provided function", "vjp"
        )
        _check_requires_grad(outputs, "outputs", strict)
        v = _default_v(outputs, v, "vjp")
        if v[0] is not None:
            _check_v(v, outputs, out_tuple)
        grads = _grad(outputs, inputs, v, create_graph=create_graph)
        result = _zeros_for_missing(grads, inputs, strict, create_graph, "back")
    outputs = _finish(outputs, create_graph)
    result = _finish(result, create_graph)
    return _unpack(outputs, out_tuple), _unpack(result, in_tuple)


def jvp(
    func: Any,
    inputs: Any,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple:
    """(func(inputs), J v): the Jacobian-vector product, by the double-backward
    trick."""
    with enable_grad():
        in_tuple, inputs = _tensors(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        if v is not None:
            v = _tensors(v, "v", "jvp")[1]
            _check_v(v, inputs, in_tuple)
        elif len(inputs) != 1 or inputs[0].nelement() != 1:
            raise RuntimeError(
                "The vector v can only be None if the input to the user-provided "
                "function is a single Tensor with a single element."
            )
        out_tuple, outputs = _tensors(
            func(*inputs), "outputs of the user-provided function", "jvp"
        )
        _check_requires_grad(outputs, "outputs", strict)
        seeds = tuple(zeros_like(o).requires_grad_(True) for o in outputs)
        grads = _grad(outputs, inputs, seeds, create_graph=True)
        _check_requires_grad(grads, "grad_inputs", strict)
        grads2 = _grad(grads, seeds, v, create_graph=create_graph)
        result = _zeros_for_missing(grads2, outputs, strict, create_graph, "back_trick")
    outputs = _finish(outputs, create_graph)
    result = _finish(result, create_graph)
    return _unpack(outputs, out_tuple), _unpack(result, out_tuple)


def _hessian_product(
    func: Any, inputs: Any, v: Any, create_graph: bool, strict: bool, caller: str
) -> tuple:
    with enable_grad():
        in_tuple, inputs = _tensors(inputs, "inputs", caller)
        inputs = _prepare(inputs, create_graph, need_graph=True)
        if v is not None:
            v = _tensors(v, "v", caller)[1]
            _check_v(v, inputs, in_tuple)
        elif len(inputs) != 1 or inputs[0].nelement() != 1:
            raise RuntimeError(
                "The vector v can only be None if the input to the user-provided "
                "function is a single Tensor with a single element."
            )
        out_tuple, outputs = _tensors(
            func(*inputs), "outputs of the user-provided function", caller
        )
        _check_requires_grad(outputs, "outputs", strict)
        if out_tuple or not isinstance(outputs[0], _C.TensorBase):
            raise RuntimeError(
                f"The function given to {caller} should return a single Tensor"
            )
        if outputs[0].nelement() != 1:
            raise RuntimeError(
                f"The Tensor returned by the function given to {caller} should "
                "contain a single element"
            )
        jac = _grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        if caller == "vhp":
            grads = _grad(jac, inputs, v, create_graph=create_graph)
            result = _zeros_for_missing(
                grads, inputs, strict, create_graph, "double_back"
            )
        else:
            seeds = tuple(zeros_like(x).requires_grad_(True) for x in inputs)
            double = _grad(jac, inputs, seeds, create_graph=True)
            _check_requires_grad(jac, "hessian", strict)
            grads = _grad(double, seeds, v, create_graph=create_graph)
            result = _zeros_for_missing(
                grads, inputs, strict, create_graph, "double_back_trick"
            )
    outputs = _finish(outputs, create_graph)
    result = _finish(result, create_graph)
    return _unpack(outputs, False), _unpack(result, in_tuple)


def vhp(
    func: Any,
    inputs: Any,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple:
    """(func(inputs), v^T H): a vector-Hessian product."""
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(
    func: Any,
    inputs: Any,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple:
    """(func(inputs), H v): a Hessian-vector product (double-backward trick)."""
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")
