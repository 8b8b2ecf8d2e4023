"""set_default_dtype and the CPU-only backend flags, against torch."""

import numpy as np
import pytest
import torch

import gdlite


@pytest.fixture(params=["float64", "float32"])
def default_dtype(request):
    """Both libraries with the same default dtype, restored afterwards."""
    name = request.param
    torch.set_default_dtype(getattr(torch, name))
    gdlite.set_default_dtype(getattr(gdlite, name))
    yield name
    torch.set_default_dtype(torch.float32)
    gdlite.set_default_dtype(gdlite.float32)


CREATIONS = {
    "tensor_floats": lambda m: m.tensor([1.0, 2.5]),
    "tensor_scalar": lambda m: m.tensor(1.5),
    "tensor_empty": lambda m: m.tensor([]),
    "tensor_ints": lambda m: m.tensor([1, 2]),
    "tensor_np32": lambda m: m.tensor(np.array([1.0], np.float32)),
    "as_tensor": lambda m: m.as_tensor([1.0]),
    "Tensor_data": lambda m: m.Tensor([1, 2]),
    "Tensor_size": lambda m: m.Tensor(2, 3),
    "zeros": lambda m: m.zeros(2),
    "ones": lambda m: m.ones(2, 2),
    "empty": lambda m: m.empty(3),
    "full_float": lambda m: m.full((2,), 1.5),
    "full_int": lambda m: m.full((2,), 3),
    "arange_float": lambda m: m.arange(0, 1, 0.25),
    "arange_int": lambda m: m.arange(4),
    "linspace": lambda m: m.linspace(0, 1, 5),
    "eye": lambda m: m.eye(2),
    "rand": lambda m: m.rand(2),
    "randn": lambda m: m.randn(2),
    "normal": lambda m: m.normal(0.0, 1.0, size=(2,)),
    "int_tensor_times_float": lambda m: m.tensor([1, 2]) * 1.5,
    "int_tensor_div": lambda m: m.tensor([1, 2]) / 2,
    "float32_tensor_times_float": lambda m: m.ones(2, dtype=m.float32) * 1.5,
    "linear": lambda m: m.nn.Linear(2, 1).weight,
    "float_method": lambda m: m.ones(1, dtype=m.int64).float(),
    "exp_of_ints": lambda m: m.exp(m.tensor([1, 2])),
    "sigmoid_of_ints": lambda m: m.sigmoid(m.tensor([1, 2])),
}


@pytest.mark.parametrize("case", sorted(CREATIONS))
def test_creation_follows_the_default_dtype(default_dtype, case):
    ours, theirs = CREATIONS[case](gdlite), CREATIONS[case](torch)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "gdlite.")


def test_values_are_computed_in_the_default_dtype(default_dtype):
    torch.manual_seed(3)
    gdlite.manual_seed(3)
    ours = gdlite.rand(5) * 0.1 + gdlite.tensor([1, 2, 3, 4, 5]) / 3
    theirs = torch.rand(5) * 0.1 + torch.tensor([1, 2, 3, 4, 5]) / 3
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_get_default_dtype_reports_the_setting(default_dtype):
    assert gdlite.get_default_dtype() is getattr(gdlite, default_dtype)


@pytest.mark.parametrize("bad", ["int64", "bool", "uint8", "string", "none"])
def test_only_floating_dtypes_are_accepted(bad):
    def call(m):
        special = {"string": "float", "none": None}
        value = special[bad] if bad in special else getattr(m, bad)
        with pytest.raises(Exception) as info:
            m.set_default_dtype(value)
        return info

    ours, theirs = call(gdlite), call(torch)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)
    assert gdlite.get_default_dtype() is gdlite.float32


def test_cudnn_flags_are_settable_as_in_torch():
    flags = ("deterministic", "benchmark", "enabled")
    for name in flags:
        assert getattr(gdlite.backends.cudnn, name) == getattr(
            torch.backends.cudnn, name
        )
    gdlite.backends.cudnn.deterministic = True
    gdlite.backends.cudnn.benchmark = False
    try:
        assert gdlite.backends.cudnn.deterministic is True
        assert gdlite.backends.cudnn.is_available() is False
        assert gdlite.cuda.is_available() is torch.cuda.is_available() is False
    finally:
        gdlite.backends.cudnn.deterministic = False


def test_device_and_module_to_device():
    device = gdlite.device("cuda" if gdlite.cuda.is_available() else "cpu")
    model = gdlite.nn.Linear(1, 1).to(device)
    x = gdlite.ones(3, 1).to(device)
    assert str(device) == str(torch.device("cpu"))
    assert model(x).shape == (3, 1)
    assert next(model.parameters()).device == device


def test_printing_follows_the_default_dtype():
    """The dtype suffix is left out for the default dtype, whichever it is."""
    import torch

    made = []
    for lib in (gdlite, torch):
        lib.set_default_dtype(lib.float64)
        try:
            made.append(
                "\n".join(
                    str(t).replace("torch.", "gdlite.")
                    for t in (
                        lib.tensor(-2.0, requires_grad=True),
                        lib.tensor([0.5, 2.5], dtype=lib.float32),
                        lib.nn.Parameter(lib.ones(2)),
                        lib.zeros(0, dtype=lib.float32),
                        lib.zeros(0),
                        lib.tensor([1, 2]),
                    )
                )
            )
        finally:
            lib.set_default_dtype(lib.float32)
    assert made[0] == made[1]
    assert str(gdlite.tensor([0.5], dtype=gdlite.float64)).endswith("float64)")
