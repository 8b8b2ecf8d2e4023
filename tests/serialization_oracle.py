"""Objects built the same way in gdlite and in PyTorch, for the save/load tests,
and a comparison of what one library loaded with what the other saved."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

import gdlite as G

DTYPES = ["float32", "float64", "int64", "int32", "uint8", "bool"]


def _values(dtype: str, n: int) -> np.ndarray:
    if dtype == "bool":
        return np.arange(n) % 3 == 0
    if dtype == "uint8":
        return (np.arange(n) * 37 % 256).astype(np.uint8)
    return (np.arange(n) * 1.5 - 4).astype(dtype)


def tensors(lib: Any) -> dict:
    """One tensor of every dtype, and the views that share memory."""
    out = {d: lib.tensor(_values(d, 6).tolist(), dtype=getattr(lib, d)) for d in DTYPES}
    base = lib.arange(12.0).reshape(3, 4)
    out.update(
        base=base,
        row=base[1],
        column=base[:, 2],
        transposed=base.t(),
        expanded=lib.arange(3.0).expand(2, 3),
        scalar=lib.tensor(2.5),
        empty=lib.zeros(0, 3),
        grad=lib.tensor([1.0, 2.0], requires_grad=True),
        parameter=lib.nn.Parameter(lib.ones(2, 2)),
        frozen=lib.nn.Parameter(lib.zeros(3), requires_grad=False),
    )
    return out


def trained(lib: Any, optimizer: str) -> tuple[Any, Any]:
    """A two-layer model and its optimizer after two steps, from fixed values."""
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 1))
    with lib.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(lib.tensor(np.linspace(-1, 1, p.numel()).reshape(p.shape) + i))
    if optimizer == "sgd":
        opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    else:
        opt = lib.optim.Adam(model.parameters(), lr=0.01)
    x = lib.tensor(np.linspace(0, 1, 15, dtype=np.float32).reshape(5, 3))
    for _ in range(2):
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()
    return model, opt


def checkpoint(lib: Any, optimizer: str = "adam") -> dict:
    """Godoy's checkpoint: epoch, model and optimizer state, losses."""
    model, opt = trained(lib, optimizer)
    return {
        "epoch": 2,
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": opt.state_dict(),
        "loss": [0.5, 0.25],
        "config": {"name": "run", "sizes": (3, 4, 1), "nested": {"lr": [0.1, None]}},
        "flags": (True, False, -7, 2**40, 1e-300, "ü"),
    }


OBJECTS: dict[str, Callable[[Any], Any]] = {
    "tensors": tensors,
    "tensor_alone": lambda lib: lib.arange(5, dtype=lib.int64),
    "view_alone": lambda lib: lib.arange(10.0)[3:7],
    "parameter_alone": lambda lib: lib.nn.Parameter(lib.full((2,), 3.0)),
    "module_state_dict": lambda lib: trained(lib, "sgd")[0].state_dict(),
    "sgd_state_dict": lambda lib: trained(lib, "sgd")[1].state_dict(),
    "adam_state_dict": lambda lib: trained(lib, "adam")[1].state_dict(),
    "checkpoint": checkpoint,
    "containers": lambda lib: [
        1,
        2.5,
        "s",
        b"\x00\xff",
        None,
        (1, (2, [3])),
        {"k": {}},
    ],
    "size_and_dtype": lambda lib: {"shape": lib.Size([2, 3]), "dtype": lib.float64},
}


def records(data: bytes) -> dict[str, bytes]:
    """The archive's records by name, without the archive's folder."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {i.filename.split("/", 1)[1]: z.read(i) for i in z.infolist()}


def _is_tensor(x: Any) -> bool:
    return isinstance(x, (torch.Tensor, G.Tensor))


def assert_same_object(got: Any, want: Any) -> None:
    """got (loaded by one library) equals want (saved by the other): the same
    container types and keys, tensors of equal dtype, shape, strides, offset,
    values, requires_grad and Parameter-ness."""
    if _is_tensor(want):
        assert _is_tensor(got), type(got)
        assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1]
        assert tuple(got.shape) == tuple(want.shape)
        assert tuple(got.stride()) == tuple(want.stride())
        assert got.storage_offset() == want.storage_offset()
        assert got.requires_grad == want.requires_grad
        assert type(got).__name__ == type(want).__name__  # Parameter or Tensor
        np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
        return
    if isinstance(want, (torch.dtype, G.dtype)):
        assert str(got).split(".")[1] == str(want).split(".")[1]
        return
    if isinstance(want, (torch.Size, G.Size)):
        assert type(got).__name__ == "Size" and tuple(got) == tuple(want)
        return
    assert type(got) is type(want), (type(got), type(want))
    if isinstance(want, dict):
        assert list(got) == list(want)
        for k in want:
            assert_same_object(got[k], want[k])
        assert_same_object(
            getattr(got, "_metadata", None), getattr(want, "_metadata", None)
        )
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want)
        for a, b in zip(got, want, strict=True):
            assert_same_object(a, b)
    else:
        assert got == want


def shared_pairs(obj: dict) -> list[tuple[str, str]]:
    """Names of the tensors of a flat dict that share memory."""
    names = [k for k, v in obj.items() if _is_tensor(v) and v.numel()]

    def storage(t: Any) -> Any:
        if isinstance(t, torch.Tensor):
            return t.untyped_storage().data_ptr()
        return t._storage_id()

    return [
        (a, b)
        for a in names
        for b in names
        if a < b and storage(obj[a]) == storage(obj[b])
    ]
