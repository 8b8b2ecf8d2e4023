"""What the suite needs to know when it runs under the sanitizer build.

GCC 12's AddressSanitizer runtime takes no allocator locks around fork(): a
forked child whose parent had another thread inside malloc at that moment
(pytest-xdist's I/O thread, PyTorch's or OpenBLAS's pools, a Dask cluster's
event loop) waits forever on its first allocation. Tests whose code forks a
process that goes on running Python (process-pool sweeps) are skipped there;
the plain suite runs them. subprocess is unaffected: its child only execs.
ThreadSanitizer's runtime is no friend of fork() in a threaded process either.
"""

from __future__ import annotations

import os

import pytest

SANITIZED = "libasan" in os.environ.get("LD_PRELOAD", "")
THREAD_SANITIZED = "libtsan" in os.environ.get("LD_PRELOAD", "")

needs_fork = pytest.mark.skipif(
    SANITIZED or THREAD_SANITIZED,
    reason="fork() is not safe under GCC 12's ASan and TSan runtimes",
)
