"""Builds gdlite._C: the C core (csrc/core) and its CPython binding (csrc/py).

Matmul links the OpenBLAS that scipy-openblas32 ships (the one NumPy's wheels
use); the package imports scipy_openblas32 before _C so the library is loaded.
Set GDLITE_SANITIZE=1 for an ASan+UBSan build, GDLITE_SANITIZE=thread for a
ThreadSanitizer build.
"""

import os
from glob import glob

import numpy
import scipy_openblas32
from setuptools import Extension, setup

warnings = [
    "-std=c11",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wshadow",
    "-Wstrict-prototypes",
    "-Wmissing-prototypes",
    # Exact results: no contraction of a*b+c behind the source's back.
    "-ffp-contract=off",
    "-fno-strict-aliasing",
]
# Python.h and NumPy's headers trip some of the stricter warnings.
binding_relaxed = ["-Wno-missing-field-initializers", "-Wno-cast-function-type"]
sanitize = os.environ.get("GDLITE_SANITIZE") == "1"
thread_sanitize = os.environ.get("GDLITE_SANITIZE") == "thread"
extra_compile = warnings + binding_relaxed + ["-O3"]
extra_link = [f"-Wl,-rpath,{scipy_openblas32.get_lib_dir()}"]
if not (sanitize or thread_sanitize):
    # One shared object whose only export is PyInit__C: calls between the
    # core's files are direct and, with link-time optimisation, inlined (the
    # per-op plumbing of small tensors is mostly such calls). The link step
    # compiles, so it gets the same flags.
    extra_compile += ["-fvisibility=hidden", "-flto=auto"]
    extra_link += extra_compile
if thread_sanitize:
    # Free lists stay on: they are per thread, and their release at thread
    # exit is part of what this build checks.
    extra_compile += ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=thread"]
    extra_link += ["-fsanitize=thread"]
if sanitize:
    extra_compile += [
        "-O1",
        "-g",
        "-fno-omit-frame-pointer",
        "-fsanitize=address,undefined",
        "-DGD_SANITIZE",  # no free lists: every use after free reaches ASan
    ]
    extra_link += ["-fsanitize=address,undefined"]

sources = sorted(glob("csrc/core/*.c")) + sorted(glob("csrc/py/*.c"))

setup(
    ext_modules=[
        Extension(
            "gdlite._C",
            sources=sources,
            include_dirs=[
                "csrc/core",
                "csrc/py",
                numpy.get_include(),
                scipy_openblas32.get_include_dir(),
            ],
            library_dirs=[scipy_openblas32.get_lib_dir()],
            # dl: MKL is opened at run time where it is installed (csrc/core/mkl.c)
            libraries=[scipy_openblas32.get_library(), "dl"],
            define_macros=[("BLAS_SYMBOL_PREFIX", "scipy_")],
            extra_compile_args=extra_compile,
            extra_link_args=extra_link,
            depends=sorted(glob("csrc/*/*.h")) + sorted(glob("csrc/core/*.def")),
        )
    ],
)
