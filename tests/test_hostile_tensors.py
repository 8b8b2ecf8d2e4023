"""Hostile tensors: printing huge expanded tensors, deepcopy of views, and
Tensor subclasses, against PyTorch; probes that could crash the interpreter
run in a subprocess."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from probe_helpers import assert_clean, run_probe
from torch_oracle import both

import gdlite as G

# ---- 6. printing huge expanded tensors ---------------------------------------

HUGE = {
    "ones": "m.ones(1).expand(10**9)",
    "int64": "m.arange(3).reshape(3, 1).expand(3, 4 * 10**8)",
    "bool": "m.tensor([True, False]).reshape(2, 1).expand(2, 5 * 10**8)",
    "sci": "m.tensor([1e-5, 3.0, 1e5], dtype=m.float64).reshape(3, 1, 1)"
    ".expand(3, 10**4, 10**5)",
    "grad": "m.ones(1, requires_grad=True).expand(10**9)",
    "nonfinite": "m.tensor([float('nan'), float('inf'), -2.5]).expand(10**8, 3)",
}


@pytest.mark.parametrize("expr", HUGE.values(), ids=list(HUGE))
def test_repr_of_huge_expanded_tensor(expr: str) -> None:
    # The tensors cost no memory; printing must not materialise them.
    out = assert_clean(
        run_probe(
            f"""
            import resource, gdlite as m
            t = {expr}
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            text = repr(t) + "|" + str(t) + "|" + format(t)
            grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
            print(grew)
            print(text, end="")
            """
        )
    )
    grew_kib, text = out.split("\n", 1)
    assert int(grew_kib) < 50_000
    want = repr(eval(expr, {"m": torch}))  # noqa: S307 - an expression from this file
    assert text == "|".join([want.replace("torch.", "gdlite.")] * 3)


# ---- 7. deepcopy keeps storage sharing ----------------------------------------


def _deepcopy_probe(m: Any) -> list[Any]:
    import copy

    x = m.arange(12.0)
    parts = [x, x[2:5], x.view(3, 4).t(), m.ones(3, 1).expand(3, 4), x[::3]]
    copied = copy.deepcopy({"parts": parts, "again": parts[1]})
    cx, cv, ct, ce, cs = copied["parts"]
    cx[3] = 100.0  # writes through the copied base show in every copied view
    cv[0] = -7.0
    facts: list[Any] = [copied["again"] is cv]
    for c in copied["parts"]:
        facts += [c.tolist(), c.stride(), c.storage_offset(), c.shape]
    facts += [x.tolist(), ce.tolist()]  # the originals are untouched
    return facts


def test_deepcopy_keeps_views_sharing() -> None:
    assert repr(_deepcopy_probe(G)) == repr(_deepcopy_probe(torch)).replace(
        "torch.", "gdlite."
    )


def test_deepcopy_of_a_leaf_with_grad_and_attributes() -> None:
    import copy

    def probe(m: Any) -> list[Any]:
        p = m.ones(2, requires_grad=True)
        p.grad = m.full((2,), 3.0)
        p.tag = {"name": [1, 2]}
        q, tag = copy.deepcopy([p, p.tag])
        q.grad[0] = 5.0
        return [
            q.requires_grad,
            q.is_leaf,
            q.grad.tolist(),
            p.grad.tolist(),
            q.tag == p.tag,
            q.tag is tag,
            q.tag is p.tag,
        ]

    assert probe(G) == probe(torch)
    both(lambda m: copy.deepcopy(m.ones(2, requires_grad=True) * 2))


# ---- 8. Tensor subclasses -------------------------------------------------------


def _describe(x: Any) -> str:
    if isinstance(x, (torch.Tensor, G.Tensor)):
        return f"{type(x).__name__}:{x!r}:{x.requires_grad}:{x.is_leaf}"
    return repr(x)


def _subclass_facts(m: Any) -> list[str]:
    class MyT(m.Tensor):
        pass

    class Param(m.Tensor):
        __torch_function__ = m._C._disabled_torch_function_impl

    leaf = m.ones(2, requires_grad=True)
    base = m.zeros(3)
    sub = m.Tensor._make_subclass(MyT, base)
    sub[0] = 5.0  # shares memory and the version counter
    p = m.Tensor._make_subclass(Param, m.ones(2), True)
    made = [
        MyT([1.0, 2.0]),
        MyT([1, 2]),
        MyT(m.ones(2)),
        MyT(m.ones(2, dtype=m.int64)),
        MyT(2, 3).shape,
        type(MyT(2, 3)).__name__,
        MyT(),
        m.Tensor._make_subclass(MyT, leaf),
        m.Tensor._make_subclass(MyT, leaf * 2),
        m.Tensor._make_subclass(MyT, leaf * 2, True),
        base,
        base._version,
        p,
        p + 1,
        p.sum(),
        p[0],
        m.exp(p),
        p.detach(),
        p.clone(),
        p.data,
        isinstance(p, m.Tensor),
    ]
    return [_describe(x) for x in made]


def test_subclass_construction_and_make_subclass() -> None:
    want = [w.replace("torch.", "gdlite.") for w in _subclass_facts(torch)]
    assert _subclass_facts(G) == want


def _subclass_error(m: Any, case: str) -> Any:
    class MyT(m.Tensor):
        pass

    if case == "int_requires_grad":
        return m.Tensor._make_subclass(MyT, m.ones(2, dtype=m.int64), True)
    if case == "not_a_type":
        return m.Tensor._make_subclass(3, m.ones(2))
    if case == "not_a_tensor_class":
        return m.Tensor._make_subclass(int, m.ones(2))
    if case == "not_a_tensor":
        return m.Tensor._make_subclass(MyT, [1.0])
    import copy

    return copy.deepcopy(MyT([1.0]))


@pytest.mark.parametrize(
    "case",
    [
        "int_requires_grad",
        "not_a_type",
        "not_a_tensor_class",
        "not_a_tensor",
        "deepcopy",
    ],
)
def test_subclass_refusals(case: str) -> None:
    both(lambda m: _subclass_error(m, case))


def test_parameter_like_subclass_trains() -> None:
    class Param(G.Tensor):
        __torch_function__ = G._C._disabled_torch_function_impl

    w = G.Tensor._make_subclass(Param, G.tensor([1.0, -2.0]), True)
    loss = (w * w).sum()
    loss.backward()
    tw = torch.tensor([1.0, -2.0], requires_grad=True)
    (tw * tw).sum().backward()
    assert type(loss) is G.Tensor
    assert w.grad.tolist() == tw.grad.tolist()
