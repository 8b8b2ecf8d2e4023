"""The autograd graph of a tensor, drawn with matplotlib (no graphviz needed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _node_name(fn: Any) -> str:
    name = getattr(fn, "name", None)
    return name() if callable(name) else type(fn).__name__


def _shape(t: Any) -> str:
    return "(" + ", ".join(str(int(d)) for d in t.shape) + ")"


def graph_nodes(tensor: Any, params: Mapping[str, Any] | None = None):
    """The graph behind ``tensor`` as (nodes, edges).

    ``nodes`` is a list of ``(key, label, kind)`` with kind "output", "op" or
    "leaf"; ``edges`` a list of ``(from_key, to_key)`` pointing from inputs
    towards the output, as gradients flow back along them. The walk is
    iterative (no recursion limit) and visits every node once.

    Example: ``graph_nodes(((w * x).sum()))[0][1][1] == "SumBackward0"``
    """
    names = {id(t): n for n, t in (params or {}).items()}
    root = tensor.grad_fn
    out_label = f"output\n{_shape(tensor)}"
    nodes: list = [("out", out_label, "output")]
    edges: list = []
    if root is None:
        nodes[0] = (
            "out",
            f"{names.get(id(tensor), 'tensor')}\n{_shape(tensor)}",
            "leaf",
        )
        return nodes, edges
    keys: dict = {}

    def key_of(fn: Any) -> Any:
        return fn  # node objects compare equal when they wrap the same graph node

    def visit(fn: Any) -> tuple[Any, bool]:
        k = key_of(fn)
        if k in keys:
            return keys[k], False
        index = len(nodes)
        keys[k] = index
        var = getattr(fn, "variable", None)
        if var is not None:
            label = f"{names.get(id(var), 'leaf')}\n{_shape(var)}"
            nodes.append((index, label, "leaf"))
        else:
            nodes.append((index, _node_name(fn), "op"))
        return index, True

    first, _ = visit(root)
    edges.append((first, "out"))
    stack = [root]
    while stack:
        fn = stack.pop()
        here = keys[key_of(fn)]
        for nxt, _ in getattr(fn, "next_functions", ()):
            if nxt is None:
                continue
            there, new = visit(nxt)
            if (there, here) not in edges:
                edges.append((there, here))
            if new:
                stack.append(nxt)
    return nodes, edges


def plot_graph(
    tensor: Any, params: Mapping[str, Any] | None = None, *, ax: Any = None
) -> tuple[Any, Any, dict]:
    """Draw the autograd graph of ``tensor`` as torchviz's ``make_dot`` does.

    Operations are named by their ``grad_fn`` (``MulBackward0``...), leaves
    (``AccumulateGrad``) show their shape and, if ``params`` maps names to
    tensors, their name; the output is at the top. Returns
    ``(fig, ax, {"nodes": {label_key: Text}, "edges": [FancyArrowPatch]})``.

    Example::

        loss = ((w * x + b - y) ** 2).mean()
        fig, ax, art = gdlite.plot.plot_graph(loss, {"w": w, "b": b})
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch

    nodes, edges = graph_nodes(tensor, params)
    # Depth = longest distance from the output, so every edge points upwards.
    depth = {"out": 0}
    order = [n[0] for n in nodes]
    changed = True
    while changed:
        changed = False
        for a, b in edges:
            if b in depth and depth.get(a, -1) < depth[b] + 1:
                depth[a] = depth[b] + 1
                changed = True
    layers: dict = {}
    for key in order:
        layers.setdefault(depth.get(key, 0), []).append(key)
    pos = {}
    for d, keys in layers.items():
        for i, key in enumerate(keys):
            pos[key] = (i - (len(keys) - 1) / 2, -d)
    width = max(len(k) for k in layers.values())
    if ax is None:
        fig, ax = plt.subplots(
            figsize=(max(4, 2.2 * width), max(3, 1.2 * (len(layers) + 1)))
        )
    else:
        fig = ax.figure
    styles = {"output": "#c6e5ff", "op": "#eeeeee", "leaf": "#d9f2d0"}
    texts = {}
    for key, label, kind in nodes:
        x, y = pos[key]
        texts[key] = ax.text(
            x,
            y,
            label,
            ha="center",
            va="center",
            fontsize=9,
            bbox={"boxstyle": "round", "fc": styles[kind], "ec": "k"},
        )
    arrows = []
    for a, b in edges:
        arrow = FancyArrowPatch(
            pos[a], pos[b], arrowstyle="-|>", mutation_scale=12, shrinkA=14, shrinkB=14
        )
        ax.add_patch(arrow)
        arrows.append(arrow)
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    ax.set_axis_off()
    return fig, ax, {"nodes": texts, "edges": arrows}
