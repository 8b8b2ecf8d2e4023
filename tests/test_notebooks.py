"""Execute every notebook in notebooks/ and check what it produced.

The notebooks check their own numbers: each `# Check:` cell recomputes the
results independently (NumPy, closed forms) and raises if gdlite got them
wrong, so a wrong number makes the execution below fail. This file also
checks the notebooks are stored clean and that the expected text and figures
came out.
"""

import json
import os
import sys
from pathlib import Path

import nbclient
import nbformat
import pytest
from ipykernel.kernelspec import install as install_kernelspec
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
KERNEL_NAME = "python3"
CELL_TIMEOUT = 120  # seconds per cell

# Text each notebook must print (exact substrings of its stdout) and the
# least number of figures (PNG images) it must display.
EXPECTED = {
    "01_tensors.ipynb": {
        "stdout": [
            "type() of the integer tensor: gdlite.LongTensor",
            "standard deviation: tensor(1.1547)",
            "dot(u, v) = tensor(7)",
            "tensor([[0, 2],\n        [0, 2]])",
            "tensor([[ 58,  64],\n        [139, 154]])",
        ],
        "figures": 1,
    },
    "02_derivatives_and_gradient_descent.ipynb": {
        "stdout": [
            "dy/dx at x = 2: tensor(4.)",
            "sum of the ReLU derivatives: tensor(50.)",
            "gradient: tensor([ 0.,  4.,  8., 12.])",
            "eta 0.2: epoch 10, x: 0.060466",
            "epoch 20, x1: -0.057646, x2: -0.000073",
            "after 100 epochs: w  -2.99",
        ],
        "figures": 4,
    },
}


def _runs_this_python(argv0):
    """True if a kernelspec's argv[0] starts the interpreter running the tests."""
    # jupyter_client replaces a bare "python", "python3" or "python3.X" by
    # sys.executable. Symlinks are not resolved on purpose: a venv's python
    # is a symlink whose target does not see the venv's packages.
    major, minor = sys.version_info[:2]
    bare = {"python", f"python{major}", f"python{major}.{minor}"}
    return argv0 in bare or os.path.abspath(argv0) == os.path.abspath(sys.executable)


def _python3_argv():
    try:
        return KernelSpecManager().get_kernel_spec(KERNEL_NAME).argv
    except NoSuchKernel:
        return None


@pytest.fixture(scope="module")
def kernel_for_this_python(tmp_path_factory):
    """Make the "python3" kernel run sys.executable, whatever Jupyter config exists.

    If the python3 kernelspec found first (user or system config) starts another
    interpreter, a kernelspec for sys.executable is installed in a temporary
    prefix that JUPYTER_PATH puts first.
    """
    with pytest.MonkeyPatch.context() as mp:
        argv = _python3_argv()
        if not argv or not _runs_this_python(argv[0]):
            prefix = tmp_path_factory.mktemp("jupyter-prefix")
            install_kernelspec(kernel_name=KERNEL_NAME, prefix=str(prefix))
            mp.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
            argv = _python3_argv()
        assert argv and _runs_this_python(argv[0]), argv
        yield


def _run(path):
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name=KERNEL_NAME,
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    return nb


def _outputs(nb):
    return [
        out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
    ]


def test_notebooks_found():
    assert {path.name for path in NOTEBOOKS} >= set(EXPECTED)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_stored_clean(path):
    raw = json.loads(path.read_text(encoding="utf-8"))
    nb = nbformat.reads(json.dumps(raw), as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == KERNEL_NAME
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: outputs not cleared"
            assert cell.execution_count is None, f"{path.name}: execution count"
    sources = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    assert any(src.startswith("# Check:") for src in sources), "no check cells"
    assert any("import gdlite as torch" in src for src in sources)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_runs(path, kernel_for_this_python):
    nb = _run(path)
    outputs = _outputs(nb)
    assert not [out for out in outputs if out.output_type == "error"]
    stdout = "".join(
        out.text
        for out in outputs
        if out.output_type == "stream" and out.name == "stdout"
    )
    figures = [
        out
        for out in outputs
        if out.output_type in ("display_data", "execute_result")
        and "image/png" in out.data
    ]
    expected = EXPECTED.get(path.name, {"stdout": [], "figures": 0})
    assert stdout or figures, f"{path.name} printed and displayed nothing"
    for text in expected["stdout"]:
        assert text in stdout, f"{path.name}: {text!r} not printed"
    assert len(figures) >= expected["figures"], f"{path.name}: too few figures"
