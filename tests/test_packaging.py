"""The distribution ships every subpackage (gdlite.nn, gdlite.optim, ...):
a wheel built from pyproject.toml's package list must hold each directory
of the source tree that is a package."""

import pathlib
import tomllib

from setuptools import find_packages

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_every_package_directory_is_distributed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    include = config["packages"]["find"]["include"]
    shipped = set(find_packages(where=str(ROOT), include=include))
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "gdlite").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert on_disk and on_disk <= shipped, sorted(on_disk - shipped)
