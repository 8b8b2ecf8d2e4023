"""Threads: big kernels let other threads run, and nothing shared breaks.

Each probe runs in its own interpreter: a crash there is the failure, and the
parent sees it as a non-zero exit code.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sanitizer import needs_fork

import gdlite


def run_probe(code, timeout=300):
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_threads_share_a_leaf_in_big_ops():
    # Four threads record nodes on the same leaf with 65,536-element
    # operands (big enough for the kernels to let other threads run).
    out = run_probe(
        """
        import threading
        import numpy as np
        import gdlite
        rng = np.random.default_rng(0)
        a_np = rng.standard_normal((256, 256)).astype(np.float32)
        a = gdlite.tensor(a_np)
        w = gdlite.ones(256, 256, requires_grad=True)
        errors = []
        def work():
            try:
                for _ in range(25):
                    y = w * a
                    y.sum().backward()
            except Exception as e:
                errors.append(repr(e))
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        expected = np.zeros_like(a_np)
        for _ in range(100):
            expected += a_np
        assert np.array_equal(w.grad.numpy(), expected)
        print("ok")
        """
    )
    assert out.strip() == "ok"


@pytest.mark.parametrize(
    "expr",
    [
        "x * 2.0 + y",
        "(x @ y).sum()",
        "x.sum(0) + y.mean(1)",
        "x.max(1).values + x.to(gdlite.float64).sum()",
        "gdlite.where(x > 0, x, y).contiguous()",
        "x.t().clone()",
        # Sums this large split across the core's own worker threads.
        "big.sum() + big.sum(0).mean() + big.t().sum(1).sum()",
        # Transcendental functions this large run their chunks on threads.
        "big.exp() + big.sigmoid() + big.double().sin().float()",
    ],
)
def test_threads_running_big_kernels_get_the_serial_result(expr):
    out = run_probe(
        f"""
        import threading
        import numpy as np
        import gdlite
        rng = np.random.default_rng(1)
        x = gdlite.tensor(rng.standard_normal((300, 300)).astype(np.float32))
        y = gdlite.tensor(rng.standard_normal((300, 300)).astype(np.float32))
        big = gdlite.tensor(rng.standard_normal((1024, 2048)).astype(np.float32))
        want = ({expr}).numpy()
        results, errors = [], []
        def work():
            try:
                for _ in range(10):
                    results.append(({expr}).numpy())
            except Exception as e:
                errors.append(repr(e))
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        assert len(results) == 40
        assert all(np.array_equal(r, want) for r in results)
        print("ok")
        """
    )
    assert out.strip() == "ok"


@needs_fork
def test_forked_child_runs_big_kernels_without_the_parents_workers():
    # The parent's worker pool is up; a forked child has none of its threads
    # and must start its own (or run alone), not wait for the parent's.
    out = run_probe(
        """
        import os
        import numpy as np
        import gdlite
        x = gdlite.rand(300000)
        want = x.exp().numpy()
        for _ in range(3):
            pid = os.fork()
            if pid == 0:
                same = np.array_equal(x.exp().numpy(), want)
                same = same and np.array_equal(x.sin().numpy(), x.sin().numpy())
                os._exit(0 if same else 3)
            _, status = os.waitpid(pid, 0)
            assert os.WEXITSTATUS(status) == 0
        assert np.array_equal(x.exp().numpy(), want)
        print("ok")
        """
    )
    assert out.strip() == "ok"


def test_other_threads_run_during_a_big_kernel():
    # With a one-second switch interval the interpreter never preempts the
    # main thread between the two reads of `ticks`: the counting thread can
    # only run there if the kernel itself lets go of the GIL.
    out = run_probe(
        """
        import sys, threading, time
        import gdlite
        sys.setswitchinterval(1.0)
        x = gdlite.ones(1200, 1200, dtype=gdlite.float64)
        stop = threading.Event()
        ticks = [0]
        def count():
            while not stop.is_set():
                ticks[0] += 1
        t = threading.Thread(target=count)
        t.start()
        time.sleep(0.05)
        before = ticks[0]
        y = x @ x  # a long BLAS call, long enough under load too
        during = ticks[0] - before
        stop.set()
        t.join()
        print(during)
        """
    )
    assert int(out) > 0


def test_short_lived_threads_leave_no_cached_blocks():
    # Each thread caches freed tensor headers and small storages; they must
    # be released when the thread ends.
    out = run_probe(
        """
        import threading, resource, gc
        import gdlite
        def work():
            xs = [gdlite.ones(3) * i for i in range(200)]
            del xs
        def spawn(n):
            for _ in range(n):
                t = threading.Thread(target=work)
                t.start()
                t.join()
        spawn(200)
        gc.collect()
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        spawn(3000)
        gc.collect()
        grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
        print(grown_kb)
        """
    )
    # 3,000 threads caching 64 headers and 64 small storages each would keep
    # over 100 MB; released caches keep the peak where it was.
    assert int(out) < 20_000


def test_grad_mode_is_per_thread():
    # no_grad in one thread does not turn off recording in another.
    results = {}

    def worker(name, disable):
        w = gdlite.ones(3, requires_grad=True)
        if disable:
            with gdlite.no_grad():
                results[name] = (w * 2).requires_grad
        else:
            results[name] = (w * 2).requires_grad

    import threading

    threads = [
        threading.Thread(target=worker, args=("off", True)),
        threading.Thread(target=worker, args=("on", False)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {"off": False, "on": True}
    assert np.array_equal((gdlite.ones(2) * 3).numpy(), np.full(2, 3, np.float32))


SWAPPED_DATA_OPS = [
    "f.double()",
    "f + f",
    "f * 2",
    "f.exp()",
    "f.t().clone()",
    "f.t() * f.t()",
    "f.to(G.int32)",
    "f.sum()",
    "f.sum(0)",
    "f.var()",
    "f.norm()",
    "f.max()",
    "f.argmax()",
    "f.prod()",
    "f.cumsum(0)",
    "f.sigmoid()",
    "f ** 2.5",
    "f.softmax(0)",
    "f @ f",
    "G.nn.functional.mse_loss(f, f)",
    "f.mul_(2)",
    "G.empty(2048, 2048).copy_(f)",
]


@pytest.mark.parametrize("expr", SWAPPED_DATA_OPS)
def test_op_survives_another_thread_replacing_its_inputs_data(expr):
    # The op releases the GIL in its loop; the other thread, waiting for it,
    # then gives f new data, which drops f's only reference to its first
    # storage. The op must still read (and write) memory it holds.
    out = run_probe(
        f"""
        import sys, threading
        import gdlite as G
        sys.setswitchinterval(1.0)  # the swap runs only while the op lets go
        for _ in range(3):
            f = G.ones(2048, 2048)
            go = threading.Event()
            def swap():
                go.wait()
                f.data = G.zeros(3)
            t = threading.Thread(target=swap)
            t.start()
            go.set()
            {expr}
            t.join()
        print("ok")
        """
    )
    assert out.strip() == "ok"
