"""gdlite.as_torch(): verbatim `import torch...` lines get gdlite's modules.
Each probe needs a fresh interpreter (the names stay taken for the rest of
the process), so each runs in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from probe_helpers import assert_clean, run_probe

VERBATIM_IMPORTS = """
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.init as init
import torch.optim as optim
from torch.optim import lr_scheduler
import torch.optim.lr_scheduler
import torch.utils
from torch.utils.data import Dataset, DataLoader, TensorDataset
import torch.autograd
import torchvision
from torchvision import transforms
import torchvision.transforms as T
"""


def test_verbatim_imports_are_gdlite_modules() -> None:
    out = assert_clean(
        run_probe(
            "import sys, gdlite\n"
            "gdlite.as_torch()\n"
            + VERBATIM_IMPORTS
            + """
assert torch is gdlite and nn is gdlite.nn and F is gdlite.nn.functional
assert init is gdlite.nn.init and optim is gdlite.optim
assert lr_scheduler is gdlite.optim.lr_scheduler is torch.optim.lr_scheduler
assert DataLoader is gdlite.utils.data.DataLoader and torch.utils is gdlite.utils
assert torch.autograd is gdlite.autograd
assert transforms is T is torchvision.transforms and transforms.Compose
# one module object per file: every torch name is the gdlite module itself
for name, module in list(sys.modules.items()):
    if name.startswith("torch.") and name != "torchvision":
        assert module is sys.modules["gdlite" + name[5:]], name
# modules gdlite imports lazily keep their own spec
import torch.plot
assert torch.plot is sys.modules["gdlite.plot"]
assert torch.plot.__spec__.name == "gdlite.plot"
print(sorted(k for k in sys.modules if k.partition(".")[0] == "torch")[:3])
"""
        )
    )
    assert out == "['torch', 'torch._C', 'torch._as_torch']\n"


def test_courses_data_pipeline_runs_on_gdlite() -> None:
    # with the real torch next to gdlite this collated to torch tensors
    out = assert_clean(
        run_probe(
            "import gdlite\ngdlite.as_torch()\n"
            + VERBATIM_IMPORTS
            + """
class Data(Dataset):
    def __init__(self):
        self.x = torch.arange(-3, 3, 1.0).view(-1, 1)
        self.y = 2 * self.x + 1
    def __getitem__(self, i):
        return self.x[i], self.y[i]
    def __len__(self):
        return len(self.x)

torch.manual_seed(0)
loader = DataLoader(Data(), batch_size=4, shuffle=True)
for xb, yb in loader:
    print(type(xb).__module__, xb.shape, yb.view(-1).tolist())
"""
        )
    )
    lines = out.splitlines()
    assert len(lines) == 2 and all(line.startswith("gdlite ") for line in lines)


def test_is_idempotent_and_one_line_form_agrees() -> None:
    code = """
        import sys
        import gdlite.as_torch_names
        import gdlite
        before = dict(sys.modules)
        paths = len(sys.meta_path)
        gdlite.as_torch()
        gdlite.as_torch()
        assert dict(sys.modules) == before and len(sys.meta_path) == paths
        import torch
        print(torch is gdlite)
    """
    assert assert_clean(run_probe(code)) == "True\n"


def test_never_implicit() -> None:
    code = """
        import gdlite, gdlite.nn, gdlite.utils.data, gdlite.transforms
        import torch
        import sys
        print(torch is gdlite, torch.__name__, "torchvision" in sys.modules)
    """
    assert assert_clean(run_probe(code)) == "False torch False\n"


@pytest.mark.parametrize(
    "first", ["import torch", "import torch.nn", "from torch.utils.data import Dataset"]
)
def test_refuses_after_real_torch(first: str) -> None:
    code = f"""
        {first}
        import sys, gdlite
        real = dict(sys.modules)
        try:
            gdlite.as_torch()
        except RuntimeError as exc:
            print(exc)
        assert dict(sys.modules) == real  # nothing changed
        import torch
        print(torch is gdlite)
    """
    out = assert_clean(run_probe(code)).splitlines()
    assert out[0].startswith("gdlite.as_torch(): the real torch is already imported")
    assert "(module 'torch' from " in out[0] and "fresh interpreter" in out[0]
    assert out[1] == "False"


def test_refuses_after_real_torchvision(tmp_path: Path) -> None:
    # torchvision is not installed here: a stand-in package plays it
    (tmp_path / "torchvision").mkdir()
    (tmp_path / "torchvision" / "__init__.py").write_text("")
    code = """
        import torchvision, gdlite
        try:
            gdlite.as_torch()
        except RuntimeError as exc:
            print(str(exc)[:59])
        import sys
        print("torch" in sys.modules)
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert assert_clean(proc) == (
        "gdlite.as_torch(): the real torchvision is already imported\nFalse\n"
    )


def test_unknown_torch_modules_fail_as_missing() -> None:
    gdlite_file = assert_clean(
        run_probe("import gdlite; print(gdlite.__file__)")
    ).strip()
    code = """
        import gdlite
        gdlite.as_torch()
        for line in ("import torch.distributions", "from torchvision import datasets"):
            try:
                exec(line)
            except ImportError as exc:
                print(type(exc).__name__, exc)
    """
    assert assert_clean(run_probe(code)) == (
        "ModuleNotFoundError No module named 'torch.distributions'\n"
        "ImportError cannot import name 'datasets' from 'torchvision' "
        f"({Path(gdlite_file).parent / '_as_torch.py'})\n"
    )
