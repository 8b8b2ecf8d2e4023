"""Running a probe that could crash the interpreter in a fresh one."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run_probe(code: str) -> subprocess.CompletedProcess[str]:
    """Runs code in a fresh interpreter; a crash shows as a signal exit."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_clean(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout
