"""gdlite.save writes PyTorch's file as torch.save does, torch.load reads it,
and gdlite.load reads torch.save's files: every dtype, views and aliases,
Parameters, state dicts, optimizer states and checkpoint dicts."""

from __future__ import annotations

import io
import pathlib
import pickle
import re
import zipfile

import numpy as np
import pytest
import torch
from serialization_oracle import OBJECTS, assert_same_object, records, shared_pairs

import gdlite as G


def saved(lib, obj, name="ckpt.pt", tmp=None):
    path = (tmp or pathlib.Path(".")) / name
    lib.save(obj, path)
    return path.read_bytes()


@pytest.mark.parametrize("kind", sorted(OBJECTS))
def test_archive_is_torchs_byte_for_byte(kind, tmp_path):
    (tmp_path / "g").mkdir()
    (tmp_path / "t").mkdir()
    ours = saved(G, OBJECTS[kind](G), tmp=tmp_path / "g")
    theirs = saved(torch, OBJECTS[kind](torch), tmp=tmp_path / "t")
    with (
        zipfile.ZipFile(io.BytesIO(ours)) as a,
        zipfile.ZipFile(io.BytesIO(theirs)) as b,
    ):
        layout = [(i.filename, i.header_offset, i.file_size) for i in a.infolist()]
        assert layout == [
            (i.filename, i.header_offset, i.file_size) for i in b.infolist()
        ]
        ident = a.getinfo("ckpt/.data/serialization_id")
    got, want = records(ours), records(theirs)
    assert got.pop("data.pkl") == want.pop("data.pkl")
    got_id, want_id = (
        got.pop(".data/serialization_id"),
        want.pop(".data/serialization_id"),
    )
    assert re.fullmatch(rb"\d{40}", got_id)
    for name in want:
        if name.startswith("data/") and kind.endswith(("state_dict", "checkpoint")):
            # Trained values: equal to float32 tolerance, not in every bit.
            a, b = (
                np.frombuffer(got[name], np.float32),
                np.frombuffer(want[name], np.float32),
            )
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        else:
            assert got[name] == want[name], name
    # The whole file is torch's, byte for byte, but for the random id (and its CRC).
    assert len(ours) == len(theirs)
    if not kind.endswith(("state_dict", "checkpoint")):
        crc = ident.CRC.to_bytes(4, "little")
        with zipfile.ZipFile(io.BytesIO(theirs)) as b:
            their_id = b.getinfo("ckpt/.data/serialization_id")
            their_crc = their_id.CRC.to_bytes(4, "little")
        start = ident.header_offset
        assert ours[:start] == theirs[:start]
        assert (
            ours[start:].replace(crc, their_crc).replace(got_id, want_id)
            == theirs[start:]
        )


@pytest.mark.parametrize("kind", sorted(OBJECTS))
def test_torch_loads_what_gdlite_saved(kind, tmp_path):
    obj = OBJECTS[kind](G)
    G.save(obj, tmp_path / "ckpt.pt")
    assert_same_object(torch.load(tmp_path / "ckpt.pt", weights_only=True), obj)


@pytest.mark.parametrize("kind", sorted(OBJECTS))
def test_gdlite_loads_what_torch_saved(kind, tmp_path):
    obj = OBJECTS[kind](torch)
    torch.save(obj, tmp_path / "ckpt.pt")
    assert_same_object(G.load(tmp_path / "ckpt.pt"), obj)
    assert_same_object(G.load(tmp_path / "ckpt.pt", weights_only=False), obj)


def test_gdlite_reads_its_own_files(tmp_path):
    obj = OBJECTS["checkpoint"](G)
    G.save(obj, tmp_path / "c.pt")
    again = G.load(tmp_path / "c.pt")
    want = torch.load(tmp_path / "c.pt", weights_only=True)
    assert_same_object(again, want)


def test_memory_shared_when_saved_is_shared_when_loaded(tmp_path):
    ours = OBJECTS["tensors"](G)
    G.save(ours, tmp_path / "g.pt")
    torch.save(OBJECTS["tensors"](torch), tmp_path / "t.pt")
    by_torch = torch.load(tmp_path / "g.pt", weights_only=True)
    by_gdlite = G.load(tmp_path / "t.pt")
    want = shared_pairs(torch.load(tmp_path / "t.pt", weights_only=True))
    assert ("base", "row") in want
    assert shared_pairs(ours) == want
    assert shared_pairs(by_torch) == want
    assert shared_pairs(by_gdlite) == want

    # One record per storage, not per tensor.
    def count(path):
        return sum(n.startswith("data/") for n in records(path.read_bytes()))

    storages = {t._storage_id() for t in ours.values()}
    assert count(tmp_path / "g.pt") == count(tmp_path / "t.pt") == len(storages)
    # Writes through one view show in the others, as with torch.
    by_gdlite["base"][1, 2] = 100.0
    assert by_gdlite["row"][2].item() == 100.0
    assert by_gdlite["transposed"][2, 1].item() == 100.0


def test_tied_parameters_stay_tied(tmp_path):
    for lib in (G, torch):
        model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Linear(2, 2))
        model[1].weight = model[0].weight
        lib.save(model.state_dict(), tmp_path / f"{lib.__name__}.pt")
    for by in (G.load, lambda p: torch.load(p, weights_only=True)):
        for name in ("gdlite", "torch"):
            sd = by(tmp_path / f"{name}.pt")
            assert ("0.weight", "1.weight") in shared_pairs(sd)
            assert list(sd._metadata) == ["", "0", "1"]


def test_state_dicts_load_into_the_other_librarys_modules(tmp_path):
    model, opt = OBJECTS["checkpoint"].__globals__["trained"](G, "adam")
    G.save({"m": model.state_dict(), "o": opt.state_dict()}, tmp_path / "g.pt")
    ck = torch.load(tmp_path / "g.pt", weights_only=True)
    tmodel = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)
    )
    tmodel.load_state_dict(ck["m"])
    topt = torch.optim.Adam(tmodel.parameters(), lr=0.01)
    topt.load_state_dict(ck["o"])
    assert topt.state_dict()["state"][0]["step"].item() == 2.0
    torch.save({"m": tmodel.state_dict(), "o": topt.state_dict()}, tmp_path / "t.pt")
    back = G.load(tmp_path / "t.pt")
    model.load_state_dict(back["m"])
    opt.load_state_dict(back["o"])
    assert_same_object(opt.state_dict(), topt.state_dict())


@pytest.mark.parametrize(
    "name", ["ckpt.pt", "a.b.pt", "noext", "x.tar.gz", "ünï.pt", "dir/x.pt", "x."]
)
def test_archive_folder_is_named_as_torch_names_it(name, tmp_path):
    (tmp_path / "g" / "dir").mkdir(parents=True)
    (tmp_path / "t" / "dir").mkdir(parents=True)
    G.save(G.ones(1), str(tmp_path / "g" / name))
    torch.save(torch.ones(1), str(tmp_path / "t" / name))
    names = [zipfile.ZipFile(tmp_path / d / name).namelist() for d in ("g", "t")]
    assert names[0] == names[1]


def test_unnamable_file_is_refused_as_torch_refuses(tmp_path):
    with pytest.raises(RuntimeError) as want:
        torch.save(torch.ones(1), str(tmp_path / ".hidden"))
    with pytest.raises(RuntimeError, match="invalid file name") as got:
        G.save(G.ones(1), str(tmp_path / ".hidden"))
    assert str(want.value).endswith(str(got.value))


def test_file_objects_and_paths(tmp_path):
    t = G.arange(4.0)
    buf = io.BytesIO()
    G.save(t, buf)
    assert (
        records(buf.getvalue()).keys()
        == records(_torch_bytes(torch.arange(4.0))).keys()
    )
    assert (
        zipfile.ZipFile(io.BytesIO(buf.getvalue())).namelist()[0].startswith("archive/")
    )
    buf.seek(0)
    assert torch.equal(torch.load(buf, weights_only=True), torch.arange(4.0))
    with open(tmp_path / "f.pt", "wb") as f:
        G.save(t, f)
    with open(tmp_path / "f.pt", "rb") as f:
        assert G.equal(G.load(f), t)
    for p in (tmp_path / "f.pt", str(tmp_path / "f.pt")):
        assert G.equal(G.load(p), t)
    buf = io.BytesIO(_torch_bytes(torch.arange(4.0)))
    assert G.equal(G.load(buf), t)


def _torch_bytes(obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


@pytest.mark.parametrize("bad", [3, object()])
def test_save_to_a_non_file_is_refused_as_torch_refuses(bad):
    with pytest.raises(Exception) as want:
        torch.save(torch.ones(1), bad)
    with pytest.raises(type(want.value)) as got:
        G.save(G.ones(1), bad)
    assert str(got.value) == str(want.value)


def _with_location(data: bytes, location: str) -> bytes:
    """torch's file with every storage tagged ``location`` instead of 'cpu'."""
    recs = records(data)
    loc = location.encode()
    recs["data.pkl"] = recs["data.pkl"].replace(
        b"X\x03\x00\x00\x00cpu", b"X" + len(loc).to_bytes(4, "little") + loc
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, value in recs.items():
            z.writestr("archive/" + name, value)
    return out.getvalue()


@pytest.mark.parametrize(
    "map_location",
    [
        None,
        "cpu",
        "device",
        {"cpu": "cpu"},
        {"cuda:0": "cpu"},
        lambda storage, location: storage,
        lambda storage, location: None,
    ],
)
def test_map_location_forms_as_in_torch(map_location):
    for location in ("cpu", "cuda:0"):
        data = _with_location(_torch_bytes({"w": torch.arange(3.0)}), location)
        forms = (map_location, map_location)
        if map_location == "device":
            forms = (torch.device("cpu"), G.device("cpu"))
        try:
            want = torch.load(
                io.BytesIO(data), map_location=forms[0], weights_only=True
            )
        except RuntimeError as e:
            with pytest.raises(RuntimeError) as got:
                G.load(io.BytesIO(data), map_location=forms[1])
            assert str(got.value) == str(e).replace("torch.", "gdlite.")
            continue
        got = G.load(io.BytesIO(data), map_location=forms[1])
        assert_same_object(got, want)
    # A real torch.device works as gdlite's map_location too.
    assert G.equal(
        G.load(io.BytesIO(data), map_location=torch.device("cpu"))["w"], G.arange(3.0)
    )


def test_map_location_callable_replaces_storages():
    data = _torch_bytes({"a": torch.arange(4.0), "b": torch.arange(4.0)[1:]})
    got = G.load(io.BytesIO(data), map_location=lambda s, loc: s * 2)
    want = torch.load(
        io.BytesIO(data), map_location=lambda s, loc: s, weights_only=True
    )
    np.testing.assert_array_equal(got["b"].numpy(), want["b"].numpy() * 2)


class Custom:
    pass


def test_weights_only_refuses_other_globals_as_torch_does(tmp_path):
    torch.save({"obj": Custom(), "w": torch.ones(1)}, tmp_path / "c.pt")
    with pytest.raises(pickle.UnpicklingError) as want:
        torch.load(tmp_path / "c.pt", weights_only=True)
    with pytest.raises(pickle.UnpicklingError) as got:
        G.load(tmp_path / "c.pt")
    phrase = (
        f"Unsupported global: GLOBAL {__name__}.Custom was not an allowed global "
        "by default."
    )
    assert phrase in str(want.value)
    assert phrase in str(got.value)
    assert str(got.value).startswith("Weights only load failed.")
    loaded = G.load(tmp_path / "c.pt", weights_only=False)
    assert isinstance(loaded["obj"], Custom) and G.equal(loaded["w"], G.ones(1))


def test_legacy_torch_files_get_a_clear_error(tmp_path):
    torch.save(torch.ones(2), tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    assert torch.load(tmp_path / "old.pt", weights_only=True).tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="legacy format.*zip-based format"):
        G.load(tmp_path / "old.pt")


def test_non_seekable_file_is_refused():
    class Pipe(io.RawIOBase):
        def readable(self):
            return True

        def seekable(self):
            return False

    with pytest.raises(RuntimeError, match="seekable"):
        G.load(Pipe())


def test_records_are_aligned_so_torch_can_memory_map_them(tmp_path):
    obj = OBJECTS["tensors"](G)
    G.save(obj, tmp_path / "g.pt")
    with zipfile.ZipFile(tmp_path / "g.pt") as z:
        data = (tmp_path / "g.pt").read_bytes()
        for info in z.infolist():
            extra = int.from_bytes(
                data[info.header_offset + 28 : info.header_offset + 30], "little"
            )
            start = info.header_offset + 30 + len(info.filename) + extra
            assert start % 64 == 0, info.filename
    mapped = torch.load(tmp_path / "g.pt", mmap=True, weights_only=True)
    assert_same_object(mapped, obj)


def test_whole_modules_need_weights_only_false(tmp_path):
    model = G.nn.Sequential(G.nn.Linear(2, 3), G.nn.ReLU())
    G.save(model, tmp_path / "m.pt")
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL gdlite.nn.modules"):
        G.load(tmp_path / "m.pt")
    again = G.load(tmp_path / "m.pt", weights_only=False)
    assert repr(again) == repr(model)
    assert_same_object(again.state_dict(), model.state_dict())


def test_dtypes_gdlite_lacks_are_named(tmp_path):
    torch.save({"h": torch.ones(2, dtype=torch.float16)}, tmp_path / "h.pt")
    with pytest.raises(pickle.UnpicklingError, match="dtype torch.float16 cannot be"):
        G.load(tmp_path / "h.pt")


def test_byteorder_record_moved_last_as_torch_moves_it(tmp_path):
    (tmp_path / "g").mkdir()
    (tmp_path / "t").mkdir()
    G.save(G.arange(3.0), tmp_path / "g" / "a.pt", _disable_byteorder_record=True)
    torch.save(
        torch.arange(3.0), tmp_path / "t" / "a.pt", _disable_byteorder_record=True
    )
    ours, theirs = (records((tmp_path / d / "a.pt").read_bytes()) for d in "gt")
    assert list(ours) == list(theirs)
    assert G.equal(G.load(tmp_path / "t" / "a.pt"), G.arange(3.0))
    with pytest.raises(ValueError, match="zip-based"):
        G.save(G.ones(1), tmp_path / "x.pt", _use_new_zipfile_serialization=False)
