"""The main demo (`make demo`) fits the line NumPy's least squares finds."""

import re

import numpy as np

import gdlite
from gdlite import demo


def test_demo_fits_the_least_squares_line(capsys):
    demo.main()
    out = capsys.readouterr().out
    w, b = map(float, re.search(r"fitted w = (\S+), b = (\S+) ", out).groups())
    # The same data, drawn again, and the line NumPy fits to it.
    gdlite.manual_seed(0)
    x = gdlite.arange(-3, 3, 0.1).view(-1, 1)
    y = -3 * x + 1 + 0.1 * gdlite.randn(x.shape)
    slope, intercept = np.polyfit(x.numpy().ravel(), y.numpy().ravel(), 1)
    assert abs(w - slope) < 1e-3
    assert abs(b - intercept) < 1e-3
