"""gdlite.plot loss curves, fits, autograd graphs and animations, headless."""

import io

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

torch = pytest.importorskip("torch")

import gdlite  # noqa: E402
import gdlite.plot as gp  # noqa: E402

RNG = np.random.default_rng(2)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def png_bytes(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def test_loss_curves_per_step_and_per_epoch():
    a, b = RNG.random(12) + 0.1, RNG.random(12) + 0.1
    tensors = [gdlite.tensor(v) for v in b]
    fig, ax, lines = gp.plot_loss_curves({"a": a, "b": tensors}, log=True)
    assert list(lines) == ["a", "b"] and len(ax.get_lines()) == 2
    np.testing.assert_array_equal(lines["b"].get_ydata(), b)
    np.testing.assert_array_equal(lines["a"].get_xdata(), np.arange(12))
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "step"
    _, ax, lines = gp.plot_loss_curves(a, per="epoch", steps_per_epoch=4)
    np.testing.assert_allclose(lines["loss"].get_ydata(), a.reshape(3, 4).mean(1))
    np.testing.assert_array_equal(lines["loss"].get_xdata(), [1, 2, 3])
    assert ax.get_yscale() == "linear"
    assert png_bytes(fig).startswith(b"\x89PNG")


def test_loss_curve_errors():
    with pytest.raises(ValueError, match="per must be"):
        gp.plot_loss_curves([1.0], per="batch")
    with pytest.raises(ValueError, match="whole number of epochs"):
        gp.plot_loss_curves([1.0] * 5, per="epoch", steps_per_epoch=2)
    with pytest.raises(ValueError, match="must be a scalar"):
        gp.plot_loss_curves({"x": [gdlite.ones(2)]})
    with pytest.raises(ValueError, match="1-D"):
        gp.plot_loss_curves({"x": np.zeros((2, 2))})


def line_model(w, b):
    model = gdlite.nn.Linear(1, 1)
    with gdlite.no_grad():
        model.weight.fill_(w)
        model.bias.fill_(b)
    return model


def test_fit_regression_line_is_the_models_prediction():
    x = RNG.random((20, 1))
    y = 1 + 2 * x[:, 0]
    fig, ax, art = gp.plot_fit(x, y, line_model(2.0, 1.0))
    gx, gy = art["prediction"].get_data()
    np.testing.assert_allclose(gy, 2 * gx + 1, rtol=1e-6)
    assert gx.min() == x.min() and gx.max() == x.max()
    np.testing.assert_array_equal(
        art["data"].get_offsets(), np.column_stack([x[:, 0], y])
    )
    assert png_bytes(fig).startswith(b"\x89PNG")


def test_fit_classification_1d_boundary_where_the_logit_changes_sign():
    x = np.linspace(-2, 2, 41)[:, None]
    y = (x[:, 0] > 0.5).astype(float)
    model = gdlite.nn.Sequential(line_model(3.0, -1.5), gdlite.nn.Sigmoid())
    _, _, art = gp.plot_fit(x, y, model)
    (line,) = art["boundary"]
    # sigmoid(3x - 1.5) = 0.5 at x = 0.5; the grid step bounds the error.
    assert abs(line.get_xdata()[0] - 0.5) <= 4 / 199
    gx, gy = art["prediction"].get_data()
    np.testing.assert_allclose(gy, 1 / (1 + np.exp(-(3 * gx - 1.5))), rtol=1e-5)


def test_fit_classification_2d_regions_and_boundary():
    X = RNG.standard_normal((40, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    model = gdlite.nn.Linear(2, 1)
    with gdlite.no_grad():
        model.weight.copy_(gdlite.tensor([[1.0, 1.0]]))
        model.bias.zero_()
    fig, ax, art = gp.plot_fit(X, y, model, resolution=50)
    assert len(art["boundary"].allsegs[0]) >= 1
    seg = art["boundary"].allsegs[0][0]
    # The boundary is the line x0 + x1 = 0, up to the grid's resolution.
    assert np.abs(seg.sum(axis=1)).max() < 0.3
    assert png_bytes(fig).startswith(b"\x89PNG")
    logits = gdlite.nn.Linear(2, 3)
    _, _, art = gp.plot_fit(X, RNG.integers(0, 3, 40), logits, resolution=30)
    assert "regions" in art


def test_fit_errors():
    with pytest.raises(ValueError, match="20 rows but y has 3"):
        gp.plot_fit(np.zeros((20, 1)), np.zeros(3), line_model(1, 0))
    with pytest.raises(ValueError, match="one or two columns"):
        gp.plot_fit(np.zeros((5, 3)), np.zeros(5), line_model(1, 0))
    with pytest.raises(ValueError, match="kind must be"):
        gp.plot_fit(np.zeros((5, 1)), np.zeros(5), line_model(1, 0), kind="other")


def expression(lib):
    w = lib.tensor([[0.5, -1.0]], requires_grad=True)
    b = lib.tensor(0.25, requires_grad=True)
    x = lib.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    loss = ((x @ w.t() + b).sigmoid() * b - 1).pow(2).mean()
    return loss, {"w": w, "b": b}


def test_graph_matches_torchs_graph():
    got = gp.graph_nodes(*expression(gdlite))
    want = gp.graph_nodes(*expression(torch))
    assert got == want
    labels = [label for _, label, _ in got[0]]
    assert "w\n(1, 2)" in labels and "b\n()" in labels
    fig, ax, art = gp.plot_graph(*expression(gdlite))
    assert [t.get_text() for t in art["nodes"].values()] == labels
    assert len(art["edges"]) == len(got[1])
    assert png_bytes(fig).startswith(b"\x89PNG")


def test_graph_of_a_leaf_is_one_node():
    w = gdlite.ones(2, 3, requires_grad=True)
    nodes, edges = gp.graph_nodes(w, {"w": w})
    assert nodes == [("out", "w\n(2, 3)", "leaf")] and edges == []


def test_animate_path_frames_html_and_gif(tmp_path):
    s = gp.loss_surface(lambda w, b: w * w + 2 * b * b, (-2, 2), (-2, 2), n=9)
    paths = {"a": RNG.random((30, 2)), "b": RNG.random((30, 2))}
    anim = gp.animate_path(s, paths, max_frames=10)
    html = anim.to_jshtml()
    assert "<script" in html
    lines = {ln.get_label(): ln for ln in anim.gdlite_fig.axes[0].get_lines()}
    np.testing.assert_array_equal(lines["a"].get_xydata(), paths["a"])  # last frame
    pytest.importorskip("PIL")
    out = gp.save_animation(anim, tmp_path / "paths.gif")
    assert out.endswith("paths.gif")
    assert (tmp_path / "paths.gif").read_bytes().startswith(b"GIF8")
    out = gp.save_animation(anim, tmp_path / "paths.mp4")
    assert out.endswith("paths.html") and "<script" in open(out).read()


def test_animate_fit_last_frame_is_the_last_row():
    x = RNG.random(10)
    path = np.array([[0.0, 0.0], [1.0, 0.5], [2.0, 1.0]])
    anim = gp.animate_fit(x, 2 * x + 1, path)
    anim.to_jshtml()
    line = anim.gdlite_fig.axes[0].get_lines()[0]
    gx, gy = line.get_data()
    np.testing.assert_allclose(gy, 2 * gx + 1)
    anim2 = gp.animate_fit(x, x, np.zeros((2, 3)), predict=lambda g, r: r.sum() + g)
    anim2.to_jshtml()


def test_animate_fit_on_given_axes_or_size():
    x = RNG.random(5)
    fig, ax = plt.subplots()
    anim = gp.animate_fit(x, x, np.zeros((2, 2)), ax=ax)
    assert anim.gdlite_fig is fig and len(ax.collections) == 1
    small = gp.animate_fit(x, x, np.zeros((2, 2)), figsize=(3, 2), dpi=50)
    assert tuple(small.gdlite_fig.get_size_inches()) == (3, 2)
    assert small.gdlite_fig.dpi == 50
    anim.to_jshtml(), small.to_jshtml()


def test_animation_errors():
    with pytest.raises(ValueError, match="same length.*a: 3, b: 4"):
        gp.animate_path(
            plt.subplots()[1], {"a": np.zeros((3, 2)), "b": np.zeros((4, 2))}
        )
    with pytest.raises(ValueError, match="empty"):
        gp.animate_path(plt.subplots()[1], np.zeros((0, 2)))
    with pytest.raises(ValueError, match="2 columns"):
        gp.animate_fit([1.0], [1.0], np.zeros((3, 3)))
    with pytest.raises(ValueError, match="2 values but y has 1"):
        gp.animate_fit([1.0, 2.0], [1.0], np.zeros((3, 2)))
