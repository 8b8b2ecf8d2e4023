"""The README's examples run, print what their comments say, and print the
same as the identical code under PyTorch."""

import os
import pathlib
import re
import subprocess
import sys

import pytest
from sanitizer import SANITIZED

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
# ```python blocks run under both libraries; ```py blocks use gdlite-only API.
EXAMPLES = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
GDLITE_ONLY = re.findall(r"```py\n(.*?)```", README.read_text(), re.S)

TO_TORCH = [
    ("import gdlite as torch", "import torch"),
    ("from gdlite import nn", "from torch import nn"),
    ("from gdlite.utils.data", "from torch.utils.data"),
]


def run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_example_prints_what_pytorch_prints(index):
    code = EXAMPLES[index]
    torch_code = code
    for ours, theirs in TO_TORCH:
        torch_code = torch_code.replace(ours, theirs)
    assert "gdlite" not in torch_code
    assert run(code) == run(torch_code)


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_example_comment_shows_the_printed_line(index):
    code = EXAMPLES[index]
    last_print = [line for line in code.splitlines() if line.startswith("print(")][-1]
    shown = last_print.split("#", 1)[1].strip()
    printed = run(code).strip().splitlines()[-1]
    prefix = shown.split("...")[0].rstrip(" ,")
    assert printed.startswith(prefix), (printed, shown)


@pytest.mark.parametrize("index", range(len(GDLITE_ONLY)))
def test_gdlite_only_example_prints_what_its_comment_says(index, tmp_path):
    if SANITIZED and "sweep(" in GDLITE_ONLY[index]:
        pytest.skip("a process-pool sweep forks: not safe under GCC 12's ASan")
    # A script file, not -c: process pools need importable functions.
    script = tmp_path / "example.py"
    script.write_text(GDLITE_ONLY[index])
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert done.returncode == 0, done.stderr
    code = GDLITE_ONLY[index]
    prints = [line.strip() for line in code.splitlines() if "print(" in line]
    if prints and "#" in prints[-1]:
        shown = prints[-1].split("#", 1)[1].strip()
        assert done.stdout.strip().splitlines()[-1] == shown
