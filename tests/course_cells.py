"""Course cells, written from the course material (IBM's PyTorch labs, d2l
chapters 2 and 3, fast.ai lesson 2, the CS6910 sigmoid neuron, Godoy's
chapters 0 to 3) in the courses' own style: short, importing ``torch`` the
way the courses do, printing what they print.

test_course_cells.py runs every cell under PyTorch and, verbatim, under
``gdlite.as_torch()``, and compares the printed text. ``KNOWN_GAPS`` names
the cells that differ today, with the reason (strict xfails).
"""

from __future__ import annotations

import textwrap
from typing import NamedTuple

import gdlite


class Cell(NamedTuple):
    group: str  # the course (the name's prefix)
    name: str
    code: str


CELLS: list[Cell] = []


def cell(group: str, name: str, code: str) -> None:
    CELLS.append(Cell(group, f"{group}_{name}", textwrap.dedent(code)))


# Cells that show an error by design (Godoy's narrative of mistakes): under
# torch they end in an exception, which gdlite must raise alike.
SHOWS_ERROR = {
    "godoy_update_mistakes",
    "godoy_update_in_place_outside_no_grad",
    "godoy_numpy_of_requires_grad",
}

# Cells that differ today, and why (the test marks them strict xfail).
KNOWN_GAPS: dict[str, str] = {
    "printing_version": "gdlite.__version__ is gdlite's own version",
}
if not gdlite.backends.mkl.is_available():
    # Without MKL gdlite's float32 sqrt is correctly rounded; torch's is MKL's.
    KNOWN_GAPS["d2l_gd_2d_optimizers"] = (
        "Adagrad's update rounds differently from torch's in the last bit from "
        "the 5th step, with the same gradients and state: torch's float32 sqrt "
        "is MKL's, 1 ulp from the nearest float for ~16% of inputs; after 20 "
        "steps the 6th decimal printed differs"
    )


# The cells themselves, one module per course (each calls cell()).
import course_cells_d2l  # noqa: E402, F401
import course_cells_godoy  # noqa: E402, F401
import course_cells_ibm  # noqa: E402, F401
import course_cells_ibm_models  # noqa: E402, F401
import course_cells_small  # noqa: E402, F401
