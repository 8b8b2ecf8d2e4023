"""gdlite.plot: one-call figures for gradient descent (needs matplotlib).

Record a path while training (:class:`PathRecorder`, :func:`track`), draw a
loss surface and its contours (:func:`loss_surface`, :func:`plot_surface`,
:func:`plot_contours`), paths on them (:func:`plot_paths`), several optimizers
from one start (:func:`compare_optimizers`), loss curves
(:func:`plot_loss_curves`), a model's fit (:func:`plot_fit`), the autograd
graph (:func:`plot_graph`), sweeps (:func:`plot_sweep_curves`,
:func:`plot_sweep_final`) and animations (:func:`animate_path`,
:func:`animate_fit`, :func:`save_animation`). Every drawing function returns
the matplotlib objects so they can be restyled, and none selects a backend:
headless runs set ``MPLBACKEND=Agg``.

Example::

    import gdlite, gdlite.plot as gp
    x = gdlite.tensor([0.5, 2.5]); y = gdlite.tensor([0.2, 0.9])
    def loss(w, b):
        return 0.5 * ((gdlite.sigmoid(w * x + b) - y) ** 2).sum()
    res = gp.compare_optimizers(loss, (-2.0, -2.0),
                                {"SGD": ("SGD", {"lr": 1.0}),
                                 "Adam": ("Adam", {"lr": 0.1})},
                                steps=300, w_range=(-6, 6), b_range=(-6, 6))
    res.fig.savefig("paths.png")
"""

from ._animate import animate_fit, animate_path, save_animation
from ._curves import plot_loss_curves
from ._fit import plot_fit
from ._graph import graph_nodes, plot_graph
from ._paths import Comparison, compare_optimizers, plot_paths, resolve_optimizer
from ._record import PathRecorder, track
from ._surface import Surface, contour_levels, loss_surface, plot_contours, plot_surface
from ._sweep import plot_sweep_curves, plot_sweep_final

__all__ = [
    "Comparison",
    "PathRecorder",
    "Surface",
    "animate_fit",
    "animate_path",
    "compare_optimizers",
    "contour_levels",
    "graph_nodes",
    "loss_surface",
    "plot_contours",
    "plot_fit",
    "plot_graph",
    "plot_loss_curves",
    "plot_paths",
    "plot_surface",
    "plot_sweep_curves",
    "plot_sweep_final",
    "resolve_optimizer",
    "save_animation",
    "track",
]
