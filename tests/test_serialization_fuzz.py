"""Mutation fuzzing of gdlite.load: thousands of damaged copies of valid files
(written by gdlite.save and by torch.save) each either load or raise
RuntimeError / pickle.UnpicklingError, quickly. Half the mutations hit the
pickle and are re-zipped with valid CRCs, so they reach the unpickler and the
tensor builders rather than stopping at the checksum. The loop runs in a
fresh interpreter (a crash is the finding); `gd_asan_test` runs it under the
sanitizers, whose environment the child inherits."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import torch

import gdlite as G

CASES_PER_SEED = 1500

PROBE = r"""
import io, json, pickle, random, sys, time, zipfile
import gdlite

INTERESTING = [0, 1, 2, 3, 6, 7, 63, 64, 127, 128, 255, 2**31 - 1, 2**32 - 1]


def rezip(records):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in records.items():
            z.writestr(name, data)
    return out.getvalue()


def mutate_bytes(rng, data):
    data = bytearray(data)
    kind = rng.randrange(6)
    if kind == 0:  # flip bits
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif kind == 1:  # an interesting byte
        data[rng.randrange(len(data))] = rng.choice(INTERESTING) & 0xFF
    elif kind == 2:  # a little-endian 32-bit field
        at = rng.randrange(max(1, len(data) - 4))
        data[at : at + 4] = (rng.choice(INTERESTING) & 0xFFFFFFFF).to_bytes(4, "little")
    elif kind == 3:  # truncate
        del data[rng.randrange(len(data)) :]
    elif kind == 4:  # delete a span
        at = rng.randrange(len(data))
        del data[at : at + rng.randint(1, 16)]
    else:  # duplicate a span
        at = rng.randrange(len(data))
        data[at:at] = data[at : at + rng.randint(1, 16)]
    return bytes(data)


def mutant(rng, seed, records):
    if rng.random() < 0.5:
        return mutate_bytes(rng, seed)
    recs = dict(records)
    name = rng.choice([n for n in recs if n.endswith("data.pkl")] * 3 + list(recs))
    if recs[name]:
        recs[name] = mutate_bytes(rng, recs[name])
    return rezip(recs)


def main():
    count = int(sys.argv[1])
    failures, outcomes, slowest = [], {}, 0.0
    for index, path in enumerate(sys.argv[2:]):
        seed = open(path, "rb").read()
        with zipfile.ZipFile(io.BytesIO(seed)) as z:
            records = {i.filename: z.read(i) for i in z.infolist()}
        gdlite.load(io.BytesIO(seed))  # the seed itself loads
        rng = random.Random(index)
        for case in range(count):
            data = mutant(rng, seed, records)
            start = time.perf_counter()
            try:
                gdlite.load(io.BytesIO(data))
                kind = "loaded"
            except (RuntimeError, pickle.UnpicklingError) as e:
                kind = type(e).__name__
            except Exception as e:
                kind = type(e).__name__
                failures.append([path, case, kind, str(e)[:300]])
            slowest = max(slowest, time.perf_counter() - start)
            outcomes[kind] = outcomes.get(kind, 0) + 1
    print(json.dumps({"failures": failures, "outcomes": outcomes, "slowest": slowest}))


main()
"""


def _seed_files(folder):
    ours = {
        "w": G.arange(12.0).reshape(3, 4),
        "model": G.nn.Linear(3, 2).state_dict(),
        "ints": G.arange(5, dtype=G.int32),
        "mask": G.tensor([True, False]),
        "meta": {"epoch": 3, "loss": [0.5, 0.25], "name": "run"},
    }
    G.save(ours, folder / "gdlite.pt")
    ours["w"] = ours["w"][1]
    theirs = {
        "w": torch.arange(12.0).reshape(3, 4)[1:],
        "p": torch.nn.Parameter(torch.ones(2)),
        "bytes": torch.arange(4, dtype=torch.uint8),
        "meta": ({"lr": 0.1}, (1, 2)),
    }
    torch.save(theirs, folder / "torch.pt")
    buf = io.BytesIO()
    G.save(G.tensor([1.0, 2.0]), buf)
    (folder / "small.pt").write_bytes(buf.getvalue())
    return [folder / "gdlite.pt", folder / "torch.pt", folder / "small.pt"]


def test_mutated_files_load_or_raise_cleanly(tmp_path):
    seeds = _seed_files(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(CASES_PER_SEED), *map(str, seeds)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.splitlines()[-1])
    assert report["failures"] == []
    outcomes = report["outcomes"]
    assert sum(outcomes.values()) == CASES_PER_SEED * len(seeds)
    # The mutations reach every stage: some still load, both refusals occur.
    assert outcomes.get("loaded", 0) > 0
    assert outcomes.get("RuntimeError", 0) > 0
    assert outcomes.get("UnpicklingError", 0) > 0
    assert report["slowest"] < 5.0
