"""The distribution ships every subpackage (gdlite.nn, gdlite.optim, ...):
a wheel built from pyproject.toml's package list must hold each directory
of the source tree that is a package."""

import pathlib
import re

from setuptools import find_packages

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_every_package_directory_is_distributed():
    # The [tool.setuptools.packages.find] table's include list (read with a
    # pattern: tomllib is not in every supported Python).
    pyproject = (ROOT / "pyproject.toml").read_text()
    table = pyproject.split("[tool.setuptools.packages.find]", 1)[1]
    listed = re.search(r"include = \[(.*?)\]", table).group(1)
    include = re.findall(r'"([^"]+)"', listed)
    shipped = set(find_packages(where=str(ROOT), include=include))
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "gdlite").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert on_disk and on_disk <= shipped, sorted(on_disk - shipped)
