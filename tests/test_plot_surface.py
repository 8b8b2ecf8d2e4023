"""gdlite.plot surfaces, contours and paths: grids against NumPy, headless PNGs."""

import io

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import gdlite  # noqa: E402
import gdlite.plot as gp  # noqa: E402

RNG = np.random.default_rng(1)
X = RNG.random(30)
Y = 1 + 2 * X + 0.1 * RNG.standard_normal(30)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def mse(w, b):
    return ((w * gdlite.tensor(X) + b - gdlite.tensor(Y)) ** 2).mean()


def numpy_grid(w, b):
    W, B = np.meshgrid(w, b)
    return ((W[..., None] * X + B[..., None] - Y) ** 2).mean(-1)


def png_bytes(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def test_loss_surface_equals_numpy_and_marks_its_argmin():
    s = gp.loss_surface(mse, (-1, 4), (-2, 3), n=(31, 21))
    np.testing.assert_array_equal(s.w, np.linspace(-1, 4, 31))
    np.testing.assert_array_equal(s.b, np.linspace(-2, 3, 21))
    want = numpy_grid(s.w, s.b)
    np.testing.assert_allclose(s.Z, want, rtol=1e-12)
    i, j = np.unravel_index(np.argmin(want), want.shape)
    assert s.minimum[:2] == (s.w[j], s.b[i])
    assert s.names == ("w", "b")


def test_model_surface_holds_other_parameters_and_restores_them():
    model = gdlite.nn.Linear(1, 1)
    with gdlite.no_grad():
        model.weight.fill_(0.25)
        model.bias.fill_(-0.5)
    data = (
        model,
        gdlite.tensor(X[:, None], dtype=gdlite.float32),
        gdlite.tensor(Y[:, None], dtype=gdlite.float32),
        gdlite.nn.MSELoss(),
    )
    s = gp.loss_surface(data, (-1, 4), (-2, 3), n=11)
    np.testing.assert_allclose(s.Z, numpy_grid(s.w, s.b), rtol=1e-5)
    assert s.names == ("weight", "bias")
    assert (model.weight.item(), model.bias.item()) == (0.25, -0.5)
    # Only the bias varies; the weight stays at 0.25.
    s1 = gp.loss_surface(data, (-1, 4), (-2, 3), n=5, params=["bias", "weight"])
    assert s1.names == ("bias", "weight")
    np.testing.assert_allclose(s1.Z, numpy_grid(s1.b, s1.w).T, rtol=1e-5)


def test_contours_cover_the_range_and_mark_the_minimum():
    s = gp.loss_surface(mse, (-3, 5), (-3, 5), n=25)
    fig, ax, art = gp.plot_contours(s, levels=12)
    levels = art["contours"].levels
    assert len(levels) == 12
    assert levels[0] == pytest.approx(s.Z.min()) and levels[-1] == pytest.approx(
        s.Z.max()
    )
    want = numpy_grid(s.w, s.b)
    i, j = np.unravel_index(np.argmin(want), want.shape)
    np.testing.assert_array_equal(art["minimum"].get_xydata(), [[s.w[j], s.b[i]]])
    assert ax.get_xlabel() == "w" and ax.get_ylabel() == "b"
    assert png_bytes(fig).startswith(b"\x89PNG")


def test_contour_level_scales():
    Z = np.array([[1.0, 10.0], [100.0, 1000.0]])
    np.testing.assert_allclose(gp.contour_levels(Z, 4), [1, 10, 100, 1000])
    np.testing.assert_allclose(gp.contour_levels(Z, 3, "linear"), [1, 500.5, 1000])
    with pytest.raises(ValueError, match="scale"):
        gp.contour_levels(Z, 3, "cubic")


def test_surface_3d_from_a_loss_and_ranges():
    fig, ax, art = gp.plot_surface(mse, (-1, 4), (-2, 3), n=15)
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    assert isinstance(art["surface"], Poly3DCollection)
    want = numpy_grid(np.linspace(-1, 4, 15), np.linspace(-2, 3, 15))
    xs, ys, zs = art["minimum"].get_data_3d()
    assert zs[0] == pytest.approx(want.min())
    assert png_bytes(fig).startswith(b"\x89PNG")


def test_paths_on_contours_one_line_and_legend_entry_each():
    fig, ax, _ = gp.plot_contours(mse, (-1, 4), (-2, 3), n=15)
    a = RNG.random((7, 2))
    rec = gp.PathRecorder({"w": gdlite.tensor(0.0), "b": gdlite.tensor(1.0)})
    rec.record(0.0)
    rec.record(0.0)
    _, ax2, lines = gp.plot_paths(ax, {"A": a, "rec": rec})
    assert ax2 is ax and list(lines) == ["A", "rec"]
    np.testing.assert_array_equal(lines["A"].get_xydata(), a)
    np.testing.assert_array_equal(lines["rec"].get_xydata(), [[0, 1], [0, 1]])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "minimum",
        "A",
        "rec",
    ]
    assert png_bytes(fig).startswith(b"\x89PNG")


def test_paths_from_a_loss_frame_themselves():
    path = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 1.0]])
    fig, ax, lines = gp.plot_paths(mse, path)
    lo, hi = ax.get_xlim()
    assert lo < 0 and hi > 2
    np.testing.assert_array_equal(lines["path"].get_xydata(), path)


@pytest.mark.parametrize(
    "w_range, message",
    [
        ((1, 1), "low < high"),
        ((2, 1), "low < high"),
        ((0, np.inf), "finite"),
        ((0,), "pair"),
        ("ab", "pair"),
        (None, "pair"),
    ],
)
def test_malformed_ranges(w_range, message):
    with pytest.raises(ValueError, match=message):
        gp.loss_surface(mse, w_range, (0, 1))


def test_bad_losses_and_paths():
    with pytest.raises(ValueError, match="must return a scalar.*shape \\(30,\\)"):
        gp.loss_surface(lambda w, b: w * gdlite.tensor(X) + b, (0, 1), (0, 1), n=3)
    with pytest.raises(TypeError, match="must return a tensor"):
        gp.loss_surface(lambda w, b: 1.0, (0, 1), (0, 1), n=3)
    model = gdlite.nn.Linear(2, 1)
    spec = (model, gdlite.ones(3, 2), gdlite.ones(3, 1), gdlite.nn.MSELoss())
    with pytest.raises(ValueError, match="exactly two parameters, got 3"):
        gp.loss_surface(spec, (0, 1), (0, 1))
    with pytest.raises(ValueError, match="no parameter 'w'"):
        gp.loss_surface(spec, (0, 1), (0, 1), params=["w", "bias"])
    with pytest.raises(ValueError, match="3 columns"):
        gp.plot_paths(plt.subplots()[1], {"p": np.zeros((4, 3))})
    with pytest.raises(ValueError, match="at least 2"):
        gp.loss_surface(mse, (0, 1), (0, 1), n=1)
