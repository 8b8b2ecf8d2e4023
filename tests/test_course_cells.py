"""The course-cell table: each cell of course_cells.py runs under PyTorch and,
verbatim, under ``gdlite.as_torch()``; the printed text must be the same byte
for byte once ``gdlite.`` is read as ``torch.`` (and object addresses, which
differ between any two runs, are blanked).

All cells run in one interpreter per library (the two at once; starting
PyTorch is most of the cost), each cell in a fresh namespace after the same
seeds, its output collected apart; a cell that raises prints its exception
as its output.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from course_cells import CELLS, KNOWN_GAPS, SHOWS_ERROR

RUNNER = r"""
import contextlib, importlib.util, io, json, random, sys, types, warnings
if sys.argv[1] == "gdlite":
    import gdlite
    gdlite.as_torch()
elif importlib.util.find_spec("torchvision") is None:
    # torchvision is not installed beside the oracle: the generic transforms
    # the cells use are plain Python, and gdlite's file (no gdlite import in
    # it) stands in for them
    spec = importlib.util.spec_from_file_location("torchvision.transforms", sys.argv[2])
    transforms = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(transforms)
    sys.modules["torchvision"] = types.ModuleType("torchvision")
    sys.modules["torchvision"].transforms = transforms
    sys.modules["torchvision.transforms"] = transforms
import numpy as np
import torch
warnings.simplefilter("ignore")  # stderr is not compared
results = {}
for name, code in json.load(sys.stdin):
    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            exec(compile(code, name, "exec"), {"__name__": "__main__"})
        except Exception as exc:
            print(f"Traceback: {type(exc).__name__}: {exc}")
    torch.set_printoptions(profile="default")
    results[name] = out.getvalue()
sys.__stdout__.write(json.dumps(results))
"""

TRANSFORMS = str(Path(__file__).resolve().parents[1] / "gdlite" / "transforms.py")
# torch's worker threads spin on a busy machine (a 300-epoch cell took a
# minute); the cells' tensors are far below the size (32k elements) at which
# torch splits a reduction between threads, so one thread prints the same.
THREADS = {"torch": {"OMP_NUM_THREADS": "1"}, "gdlite": {}}
ADDRESS = re.compile(r"0x[0-9a-fA-F]+")


def _normalise(text: str) -> str:
    return ADDRESS.sub("0x…", text.replace("gdlite.", "torch."))


@functools.cache
def _run_cells() -> tuple[dict[str, str], dict[str, str]]:
    """The printed output of every cell: (torch's, gdlite's)."""
    cells = json.dumps([(c.name, c.code) for c in CELLS])
    with tempfile.TemporaryDirectory(prefix="course-cells-") as scratch:
        procs = []
        for lib in ("torch", "gdlite"):
            # cells save files, d2l's next to their directory ('../data')
            work = Path(scratch, lib, "cwd")
            work.mkdir(parents=True)
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", RUNNER, lib, TRANSFORMS],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    cwd=work,
                    env={**env, **THREADS[lib]},
                )
            )
        outputs = []
        for proc in procs:
            out, err = proc.communicate(cells, timeout=600)
            assert proc.returncode == 0, err[-3000:]  # a crash is the finding
            outputs.append(json.loads(out))
    return outputs[0], outputs[1]


def _params() -> list:
    params = []
    for c in CELLS:
        reason = KNOWN_GAPS.get(c.name)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(c.name, marks=marks, id=c.name))
    return params


def test_cells_are_well_formed() -> None:
    names = [c.name for c in CELLS]
    assert len(set(names)) == len(names) >= 60
    assert set(KNOWN_GAPS) | SHOWS_ERROR <= set(names)
    for c in CELLS:
        compile(c.code, c.name, "exec")


@pytest.mark.parametrize("name", _params())
def test_cell_prints_as_torch(name: str) -> None:
    want, got = _run_cells()
    # the cell runs to its end under torch, unless it is there to fail
    assert want[name].strip(), "the cell prints nothing under torch"
    assert ("Traceback: " in want[name]) == (name in SHOWS_ERROR), want[name]
    assert _normalise(got[name]) == _normalise(want[name])
