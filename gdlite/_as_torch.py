"""gdlite under PyTorch's module names, so course code runs verbatim.

``import gdlite as torch`` covers ``torch.``-prefixed calls, but course cells
also write ``import torch.nn as nn`` or ``from torch.utils.data import
DataLoader``; those would import the real PyTorch next to gdlite.
:func:`as_torch` makes every such import give gdlite's module instead.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from typing import Any

__all__ = ["as_torch"]

_PACKAGE = __name__.rpartition(".")[0]  # "gdlite"
_ROOTS = ("torch", "torchvision")  # the top-level names taken over
_TORCHVISION_DOC = (
    "gdlite's stand-in for torchvision (registered by gdlite.as_torch()): "
    "only torchvision.transforms' generic transforms (Compose, Lambda)."
)


def _target(name: str) -> str | None:
    """The gdlite module standing for the torch-named module ``name``."""
    root, _, rest = name.partition(".")
    if root == "torch":
        return f"{_PACKAGE}.{rest}" if rest else _PACKAGE
    if root == "torchvision" and rest.partition(".")[0] == "transforms":
        return f"{_PACKAGE}.{rest}"
    return None


_VISION = types.ModuleType("torchvision", _TORCHVISION_DOC)
_VISION.__path__ = []  # a package: torchvision.transforms imports
_VISION.__file__ = __file__  # where ImportError says the stand-in comes from


def _is_ours(module: Any) -> bool:
    name = getattr(module, "__name__", "")
    ours = name == _PACKAGE or name.startswith(_PACKAGE + ".")
    return ours or module is _VISION


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports of torch-named modules not yet registered (gdlite's lazily
    imported ones): the gdlite module itself is registered under the torch
    name, never a second copy of it."""

    def __init__(self) -> None:
        self._specs: dict[str, Any] = {}

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        gd_name = _target(fullname)
        if gd_name is None or importlib.util.find_spec(gd_name) is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: Any) -> Any:
        module = importlib.import_module(_target(spec.name))
        self._specs[spec.name] = module.__spec__
        return module

    def exec_module(self, module: Any) -> None:
        # importlib stamped the torch name's spec on the module: it keeps its own
        module.__spec__ = self._specs.pop(module.__spec__.name)


_ALIAS = _Alias()


def _refuse_real_torch() -> None:
    # the top-level module first: it is the one to name
    for name, module in sorted(sys.modules.items(), key=lambda kv: "." in kv[0]):
        root = name.partition(".")[0]
        if root in _ROOTS and module is not None and not _is_ours(module):
            where = getattr(module, "__file__", None) or "an unknown location"
            raise RuntimeError(
                f"gdlite.as_torch(): the real {root} is already imported "
                f"(module {name!r} from {where}); torch names cannot be given to "
                "gdlite now. Call gdlite.as_torch() before anything imports "
                f"{root}, in a fresh interpreter (in Jupyter: restart the kernel)."
            )


def as_torch() -> None:
    """Makes ``torch`` and its submodules mean gdlite for the rest of the
    process, so course code written for PyTorch runs verbatim on gdlite.

    After ``import gdlite; gdlite.as_torch()``, ``import torch``, ``import
    torch.nn as nn``, ``import torch.nn.functional as F``, ``import
    torch.optim as optim``, ``from torch.optim import lr_scheduler``, ``from
    torch.utils.data import Dataset, DataLoader``, ``import torch.autograd``
    and ``from torchvision import transforms`` all give gdlite's modules
    (``torchvision`` offers ``transforms`` only). A torch module gdlite does
    not have fails to import as usual (``ModuleNotFoundError``).

    In Jupyter (or at the top of a script) the one-line form is::

        import gdlite.as_torch_names

    Nothing is renamed unless this is called: ``import gdlite`` alone leaves
    ``torch`` alone. Calling it again does nothing more. What gdlite prints
    still names gdlite (``dtype=gdlite.float64``, ``gdlite.Size([2])``).

    Raises:
        RuntimeError: the real PyTorch (or torchvision) is already imported
            in this process; both cannot be ``torch`` at once, so nothing is
            changed. Restart the interpreter and call this first.
    """
    _refuse_real_torch()
    _VISION.transforms = importlib.import_module(f"{_PACKAGE}.transforms")
    for name, module in list(sys.modules.items()):
        if name == _PACKAGE or name.startswith(_PACKAGE + "."):
            sys.modules["torch" + name[len(_PACKAGE) :]] = module
    sys.modules["torchvision"] = _VISION
    sys.modules["torchvision.transforms"] = _VISION.transforms
    if _ALIAS not in sys.meta_path:
        sys.meta_path.insert(0, _ALIAS)
