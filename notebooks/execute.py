"""Execute the notebooks in place, so they are stored with their outputs.

    python notebooks/execute.py               # every notebook in this folder
    python notebooks/execute.py 04_*.ipynb    # some of them

Each notebook runs top to bottom in a fresh kernel of the interpreter running
this script (the project's .venv under `make notebooks`), with the notebook's
folder as the working directory. Plots use Jupyter's own inline backend, so
the stored figures are what a learner sees. Used by `make notebooks` and by
tests/test_notebooks.py.
"""

import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

import nbclient
import nbformat
from ipykernel.kernelspec import install as install_kernelspec
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

NOTEBOOK_DIR = Path(__file__).resolve().parent
KERNEL_NAME = "python3"
CELL_TIMEOUT = 120  # seconds per cell


def notebooks():
    """The course notebooks, in their order."""
    return sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def _runs_this_python(argv0):
    """True if a kernelspec's argv[0] starts the interpreter running this code."""
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


@contextlib.contextmanager
def kernel_for_this_python():
    """Make the "python3" kernel run sys.executable, whatever Jupyter config exists.

    If the python3 kernelspec found first (user or system config) starts another
    interpreter, a kernelspec for sys.executable is installed in a temporary
    prefix that JUPYTER_PATH puts first for the duration of the block.
    """
    argv = _python3_argv()
    if argv and _runs_this_python(argv[0]):
        yield
        return
    saved = os.environ.get("JUPYTER_PATH")
    with tempfile.TemporaryDirectory(prefix="gdlite-kernel-") as prefix:
        install_kernelspec(kernel_name=KERNEL_NAME, prefix=prefix)
        os.environ["JUPYTER_PATH"] = os.path.join(prefix, "share", "jupyter")
        try:
            argv = _python3_argv()
            assert argv and _runs_this_python(argv[0]), argv
            yield
        finally:
            if saved is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = saved


def execute(path):
    """Run one notebook top to bottom; return the executed notebook node."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name=KERNEL_NAME,
        timeout=CELL_TIMEOUT,
        record_timing=False,  # keeps stored notebooks free of timestamps
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    return nb


def main(argv):
    paths = [Path(arg).resolve() for arg in argv] or notebooks()
    with kernel_for_this_python():
        for path in paths:
            start = time.perf_counter()
            nb = execute(path)
            nbformat.write(nb, path)
            print(f"{path.name}: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
