"""Compare gdlite's tensor printing with torch's, which serves as the oracle."""

from __future__ import annotations

import contextlib
import importlib.util
import math
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# Load the module by path so these tests run even while the gdlite package
# itself cannot be imported.  A private name keeps it apart from any copy
# the package imports (print options are per module object).
_MODULE_PATH = Path(__file__).resolve().parents[1] / "gdlite" / "_tensor_str.py"
_spec = importlib.util.spec_from_file_location("_tensor_str_under_test", _MODULE_PATH)
ts = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = ts  # dataclasses looks the module up by name
_spec.loader.exec_module(ts)

DTYPES = ["float32", "float64", "int64", "int32", "bool"]
NAN, INF = math.nan, math.inf
HYPOTHESIS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def dtype_name(t: torch.Tensor) -> str:
    return str(t.dtype).removeprefix("torch.")


def expected(t: torch.Tensor) -> str:
    return repr(t).replace("torch.", "gdlite.")


def actual(t: torch.Tensor, **kwargs: object) -> str:
    grad_fn = t.grad_fn
    return ts.tensor_repr(
        t.detach().numpy(),
        dtype_name(t),
        requires_grad=t.requires_grad,
        grad_fn_name=None if grad_fn is None else type(grad_fn).__name__,
        **kwargs,
    )


def check(data: object, dtype: str | None = None) -> None:
    arr = np.asarray(data) if dtype is None else np.asarray(data, dtype=dtype)
    t = torch.from_numpy(np.array(arr))
    assert actual(t) == expected(t)


@contextlib.contextmanager
def both_printoptions(**kwargs: object) -> Iterator[None]:
    """Apply the same options to torch and gdlite, restoring both after."""
    with torch._tensor_str.printoptions(**kwargs), ts.printoptions(**kwargs):
        yield


@pytest.fixture(autouse=True)
def _default_printoptions() -> Iterator[None]:
    yield
    torch.set_printoptions(profile="default")
    ts.set_printoptions(profile="default")


# --------------------------------------------------------------- strategies


def float_elements(family: int, width: int) -> st.SearchStrategy[float]:
    """Values of one family, so that int-like, fixed and scientific layouts
    all occur instead of every array being a wild mixture."""
    return [
        st.integers(-(10**6), 10**6).map(float),
        st.floats(-10, 10, width=width),
        st.integers(-99999, 99999).map(lambda i: i / 100),
        st.floats(width=width),
        st.floats(-(2**-10), 2**-10, width=width),
        st.sampled_from([0.1, 1e-5, 1e8, 123456.789, 0.5, -2.5, 1e-4, 1e3]),
    ][family]


@st.composite
def arrays(draw: st.DrawFn, max_side: int = 5, max_dims: int = 4) -> np.ndarray:
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=max_dims, max_side=max_side))
    if dtype.startswith("float"):
        elements = float_elements(
            draw(st.integers(0, 5)), 32 if dtype == "float32" else 64
        )
        if draw(st.booleans()):
            elements = st.one_of(elements, st.sampled_from([0.0, -0.0, NAN, INF, -INF]))
    elif dtype == "bool":
        elements = st.booleans()
    else:
        info = np.iinfo(dtype)
        elements = st.one_of(
            st.integers(-1000, 1000), st.integers(int(info.min), int(info.max))
        )
    size = math.prod(shape)
    values = draw(st.lists(elements, min_size=size, max_size=size))
    return np.array(values, dtype=dtype).reshape(shape)


@st.composite
def large_arrays(draw: st.DrawFn) -> np.ndarray:
    """Arrays around and above the summarisation threshold, filled from a
    seeded NumPy generator (Hypothesis cannot draw thousands of values)."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(
        st.one_of(
            st.tuples(st.integers(990, 1100)),
            hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=40),
        )
    )
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    size = math.prod(shape)
    if dtype == "bool":
        values = rng.random(size) < draw(st.floats(0, 1))
    elif dtype.startswith("int"):
        bound = 10 ** draw(st.integers(0, 18 if dtype == "int64" else 9))
        values = rng.integers(-bound, bound, size, endpoint=True)
    else:
        values = rng.standard_normal(size) * 10.0 ** draw(st.integers(-8, 10))
        if draw(st.booleans()):
            values = np.round(values)
        for special in draw(st.lists(st.sampled_from([NAN, INF, -INF, 0.0]))):
            values[draw(st.integers(0, size - 1))] = special
    return values.astype(dtype).reshape(shape)


# ------------------------------------------------------------ random arrays


@HYPOTHESIS
@given(arrays())
def test_random_arrays(arr: np.ndarray) -> None:
    check(arr)


@HYPOTHESIS
@given(
    hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=3),
    st.sampled_from(DTYPES),
)
def test_random_shapes_including_empty(shape: tuple[int, ...], dtype: str) -> None:
    check(np.arange(math.prod(shape)).reshape(shape) % 7 - 3, dtype)


@settings(max_examples=60, deadline=None)
@given(large_arrays())
def test_random_large_arrays(arr: np.ndarray) -> None:
    check(arr)


@HYPOTHESIS
@given(
    arrays(max_side=12, max_dims=3),
    st.fixed_dictionaries(
        {},
        optional={
            "precision": st.integers(0, 10),
            "threshold": st.integers(0, 300),
            "edgeitems": st.integers(0, 5),
            "linewidth": st.integers(5, 160),
            "sci_mode": st.sampled_from([None, True, False]),
            "profile": st.sampled_from(["default", "short", "full"]),
        },
    ),
)
def test_random_printoptions(arr: np.ndarray, options: dict[str, object]) -> None:
    with both_printoptions(**options):
        check(arr)


@HYPOTHESIS
@given(
    arrays(max_side=8, max_dims=3).filter(lambda a: a.dtype.kind == "f"),
    st.sampled_from(["leaf", "mul", "sum", "neg"]),
)
def test_random_autograd_suffixes(arr: np.ndarray, op: str) -> None:
    x = torch.tensor(arr, requires_grad=True)
    t = {"leaf": x, "mul": x * 2, "sum": x.sum(), "neg": -x}[op]
    assert actual(t) == expected(t)


# ------------------------------------------------------- hand-picked values

EDGE_CASES = [
    # 0-d
    (3.5, "float32"),
    (0.0, "float32"),
    (-0.0, "float32"),
    (NAN, "float32"),
    (-INF, "float64"),
    (1e-5, "float32"),
    (1e8, "float32"),
    (1e9, "float32"),
    (7, "int64"),
    (-7, "int32"),
    (True, "bool"),
    # 1-d floats
    ([1.0, 2.0], "float64"),
    ([1.0, 2.0, 3.0], "float32"),
    ([0.1, 0.2, 0.3], "float32"),
    ([0.1], "float32"),
    ([1e-5], "float32"),
    ([1e8], "float32"),
    ([123456.789], "float32"),
    ([123456.789, 1.0], "float32"),
    ([1e-4, 1.0], "float32"),
    ([1e-4, 0.1], "float32"),
    ([1.0, 1000.0], "float32"),
    ([1.0, 1001.0], "float32"),
    ([1.5, 1500.0], "float32"),
    ([99999999.0], "float64"),
    ([100000001.0], "float64"),
    ([-1.5, 2.25, -3.125], "float32"),
    ([0.0, -0.0], "float32"),
    ([-0.0, 1.0], "float32"),
    ([0.0, NAN], "float32"),
    ([NAN, INF, -INF], "float32"),
    ([1.5, NAN, -INF], "float32"),
    ([1.0, -INF], "float32"),
    ([1e10, NAN, 1.0], "float64"),
    ([1e-10, INF], "float64"),
    ([3.4e38, -3.4e38], "float32"),
    ([1e-45, 1.0], "float32"),
    ([0.5, 1.5, 2.5], "float64"),
    ([123.456, -0.001], "float32"),
    # ints and bools
    ([1, -2, 300], "int64"),
    ([1, -2, 300], "int32"),
    ([2**63 - 1, -(2**63)], "int64"),
    ([True, False, True], "bool"),
    ([[True], [False]], "bool"),
    # 2-d and up
    ([[1.0, 2.0], [3.0, 4.0]], "float32"),
    ([[1e-8, 1.0], [NAN, 4.0]], "float64"),
    ([[[1, 2], [3, 4]], [[5, 6], [7, 8]]], "int64"),
    (np.arange(24).reshape(2, 3, 4) / 7, "float32"),
    (np.arange(48).reshape(2, 2, 3, 4) - 20, "int32"),
    (np.ones((1, 1, 1, 1, 1)), "float32"),
    # wrapping at linewidth 80
    (np.arange(30) * 1.5, "float32"),
    (np.arange(100) * 1000, "int64"),
    (np.arange(60).reshape(2, 30) / 3, "float64"),
    (np.arange(200).reshape(2, 5, 20) * 1e5, "float32"),
    # empty
    ([], "float32"),
    ([], "float64"),
    ([], "int64"),
    ([], "bool"),
    (np.zeros((2, 0)), "float32"),
    (np.zeros((0, 3)), "int64"),
    (np.zeros((2, 0, 3)), "int32"),
    (np.zeros((0,)), "int32"),
    # summarisation around the threshold
    (np.arange(1000), "int64"),
    (np.arange(1001), "int64"),
    (np.arange(1000) / 3, "float32"),
    (np.arange(1001) / 3, "float32"),
    (np.arange(1001) * 1e4, "float64"),
    (np.arange(2000).reshape(40, 50), "int32"),
    (np.arange(2000).reshape(2, 1000) / 7, "float32"),
    (np.arange(2000).reshape(1000, 2), "bool"),
    (np.arange(5000).reshape(10, 10, 50) - 2500, "int64"),
    (np.linspace(-1e6, 1e-6, 3000), "float64"),
    (np.r_[np.arange(1500), np.nan, np.inf], "float32"),
    (np.r_[1e-9, np.ones(500), 1e9, np.ones(600)], "float32"),
    (np.arange(1008).reshape(7, 144) % 3 == 0, "bool"),
]


@pytest.mark.parametrize(("data", "dtype"), EDGE_CASES)
def test_edge_cases(data: object, dtype: str) -> None:
    check(data, dtype)


@pytest.mark.parametrize(
    "options",
    [
        {"precision": 2},
        {"precision": 0},
        {"precision": 10},
        {"sci_mode": True},
        {"sci_mode": False},
        {"threshold": 5},
        {"threshold": 0},
        {"edgeitems": 1, "threshold": 10},
        {"edgeitems": 0},
        {"edgeitems": 0, "threshold": 10},
        {"linewidth": 20},
        {"linewidth": 1},
        {"linewidth": 200},
        {"profile": "short"},
        {"profile": "full"},
        {"profile": "full", "precision": 6},
    ],
)
@pytest.mark.parametrize(("data", "dtype"), EDGE_CASES[::3])
def test_edge_cases_with_printoptions(
    data: object, dtype: str, options: dict[str, object]
) -> None:
    with both_printoptions(**options):
        check(data, dtype)


def test_full_profile_prints_everything() -> None:
    with both_printoptions(profile="full"):
        check(np.arange(3000).reshape(30, 100), "int64")


def test_sci_mode_true_without_finite_nonzero_values() -> None:
    with both_printoptions(sci_mode=True):
        check([0.0, NAN, INF], "float32")
        check([0.0, 1.0], "float32")


# ----------------------------------------------------------------- suffixes


@pytest.mark.parametrize(
    "make",
    [
        lambda: torch.tensor([1.0, 2.0], requires_grad=True),
        lambda: torch.tensor(3.0, requires_grad=True),
        lambda: torch.tensor([1.0, 2.0], requires_grad=True) * 2,
        lambda: (torch.tensor([1.0, 2.0], requires_grad=True) * 2).sum(),
        lambda: torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True),
        lambda: torch.randn(3, 4, dtype=torch.float64, requires_grad=True),
        lambda: torch.randn(3, 4, dtype=torch.float64, requires_grad=True) + 1,
        lambda: torch.randn(40, 30, requires_grad=True) * 3,
        lambda: torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True),
        lambda: torch.zeros(0, requires_grad=True),
        lambda: torch.zeros(2, 0, dtype=torch.float64, requires_grad=True),
        lambda: torch.zeros(2, 0, dtype=torch.float64, requires_grad=True) * 2,
        lambda: torch.arange(8.0).requires_grad_() * 1.0,
        lambda: torch.full((9,), 1.23456, dtype=torch.float64).requires_grad_(),
        lambda: torch.full((10,), 1.23456, dtype=torch.float64).requires_grad_(),
        lambda: torch.full((11,), 1e9, dtype=torch.float64).requires_grad_() * 1,
    ],
)
def test_autograd_suffixes(make: object) -> None:
    t = make()
    assert actual(t) == expected(t)


@pytest.mark.parametrize("linewidth", [10, 30, 42, 43, 44, 60, 80])
def test_suffix_wrapping_with_linewidth(linewidth: int) -> None:
    t = torch.tensor([[1.5, 2.0], [3.0, 4.0]], dtype=torch.float64) * 1
    x = torch.tensor([1.5, 2.0], dtype=torch.float64, requires_grad=True)
    with both_printoptions(linewidth=linewidth):
        for case in (t, x, x * 2, torch.zeros(2, 0, dtype=torch.int32)):
            assert actual(case) == expected(case)
    with both_printoptions(linewidth=linewidth, edgeitems=0):
        assert actual(x * 2) == expected(x * 2)


def test_prefix_of_tensor_subclass() -> None:
    class MyTensor(torch.Tensor):
        pass

    for data in (torch.randn(3, 30), torch.tensor(2), torch.zeros(0, 2)):
        sub = data.as_subclass(MyTensor)
        got = ts.tensor_repr(data.numpy(), dtype_name(data), prefix="MyTensor(")
        assert got == expected(sub)


def test_values_are_rounded_to_the_named_dtype() -> None:
    assert ts.tensor_repr(np.array([0.1]), "float32") == "tensor([0.1000])"
    assert ts.tensor_repr([1, 2], "float64") == (
        "tensor([1., 2.], dtype=gdlite.float64)"
    )
    assert ts.tensor_repr(5, "int32") == "tensor(5, dtype=gdlite.int32)"


@pytest.mark.parametrize(
    ("data", "dtype"), [([1.0], "float16"), ([1, 2], "int8"), ([], "uint8")]
)
def test_other_numpy_dtypes(data: object, dtype: str) -> None:
    check(data, dtype)


def test_unsupported_dtype_is_rejected() -> None:
    with pytest.raises(ValueError, match="unsupported dtype"):
        ts.tensor_repr([1], "complex64")


# --------------------------------------------------------------- formatting

SCALARS = [
    (3.14159, "float32"),
    (0.1, "float32"),
    (0.1, "float64"),
    (-2.5, "float64"),
    (1e20, "float32"),
    (NAN, "float32"),
    (-INF, "float64"),
    (42, "int64"),
    (-7, "int32"),
    (True, "bool"),
    (False, "bool"),
]
SPECS = ["", ".2f", ".3e", "e", "g", ">12", "<8.1f", "+", "010.3f", "%", ",", "d"]


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize(("value", "dtype"), SCALARS)
def test_format_scalar(value: object, dtype: str, spec: str) -> None:
    t = torch.tensor(value, dtype=getattr(torch, dtype), requires_grad=False)
    try:
        want = format(t, spec)
    except ValueError as err:
        with pytest.raises(ValueError, match=str(err)):
            ts.format_scalar(value, dtype, spec)
    else:
        assert ts.format_scalar(value, dtype, spec) == want
        assert ts.format_tensor(t.numpy(), dtype, spec) == want


def test_format_of_0d_tensor_requiring_grad() -> None:
    t = torch.tensor(1.25, requires_grad=True) * 2
    assert ts.format_scalar(2.5, "float32", ".3f") == format(t, ".3f")


def test_format_tensor_nd() -> None:
    t = torch.tensor([[1.5, 2.0]], dtype=torch.float64)
    assert ts.format_tensor(t.numpy(), "float64", "") == expected(t)
    assert ts.format_tensor(t.numpy(), "float64", "") == format(t, "").replace(
        "torch.", "gdlite."
    )
    with pytest.raises(TypeError) as want:
        format(t, ".2f")
    with pytest.raises(TypeError, match=str(want.value)):
        ts.format_tensor(t.numpy(), "float64", ".2f")
    x = torch.tensor([1.0], requires_grad=True)
    got = ts.format_tensor(x.detach().numpy(), "float32", "", requires_grad=True)
    assert got == format(x, "").replace("torch.", "gdlite.")


# ------------------------------------------------------------ print options


@pytest.mark.parametrize(
    "calls",
    [
        [{}],
        [{"precision": 2}],
        [{"sci_mode": True}],
        [{"sci_mode": True}, {"precision": 3}],  # sci_mode resets to None
        [{"profile": "short"}],
        [{"profile": "full"}],
        [{"profile": "full", "edgeitems": 7, "linewidth": 100}],
        [{"threshold": 10, "edgeitems": 1}, {"profile": "default"}],
        [{"profile": "no-such-profile", "precision": 1}],
    ],
)
def test_printoptions_state(calls: list[dict[str, object]]) -> None:
    for kwargs in calls:
        torch.set_printoptions(**kwargs)
        ts.set_printoptions(**kwargs)
    assert ts.get_printoptions() == torch._tensor_str.get_printoptions()
    assert ts.PRINT_OPTS == ts.PrintOptions(**ts.get_printoptions())


def test_printoptions_context_restores() -> None:
    ts.set_printoptions(precision=6, sci_mode=False)
    before = ts.get_printoptions()
    with ts.printoptions(precision=1, edgeitems=0):
        assert ts.get_printoptions()["precision"] == 1
        assert ts.tensor_repr([1.25], "float32") == "tensor([1.2], size=(1,))"
    assert ts.get_printoptions() == before


def test_get_printoptions_returns_a_copy() -> None:
    opts = ts.get_printoptions()
    opts["precision"] = 99
    assert ts.PRINT_OPTS.precision == 4


# ------------------------------------------------------ through the package


@pytest.fixture(scope="class")
def gdlite() -> object:
    module = pytest.importorskip("gdlite")
    if not hasattr(module, "tensor"):
        pytest.skip("gdlite.tensor is not available yet")
    return module


class TestThroughGdlite:
    """End-to-end: gdlite's Tensor repr/format must equal torch's."""

    @pytest.mark.parametrize(
        ("data", "dtype"),
        [
            ([1.0, 2.0], None),
            ([1.0, 2.0], "float64"),
            ([1, 2, 3], None),
            ([1, 2, 3], "int32"),
            ([True, False], None),
            (3.5, None),
            (7, None),
            ([[0.1, -2.5], [NAN, INF]], None),
            ([[1e-5, 1e8]], None),
            ([], None),
            ([], "int64"),
            ([[], []], None),
            (list(range(1000)), None),
            (list(range(1001)), None),
            ([[i / 7 for i in range(40)] for _ in range(30)], "float64"),
        ],
    )
    def test_repr(self, gdlite: object, data: object, dtype: str | None) -> None:
        if dtype is None:
            got, want = gdlite.tensor(data), torch.tensor(data)
        else:
            got = gdlite.tensor(data, dtype=getattr(gdlite, dtype))
            want = torch.tensor(data, dtype=getattr(torch, dtype))
        assert repr(got) == expected(want)
        assert str(got) == expected(want)

    def test_requires_grad_and_grad_fn(self, gdlite: object) -> None:
        if not hasattr(gdlite, "no_grad"):
            pytest.skip("needs autograd (requires_grad and grad_fn)")
        data = [[1.5, 2.0, 3.0], [4.0, 5.0, 6.0]]
        x = gdlite.tensor(data, dtype=gdlite.float64, requires_grad=True)
        tx = torch.tensor(data, dtype=torch.float64, requires_grad=True)
        assert repr(x) == expected(tx)
        assert repr(x * 2) == expected(tx * 2)

    def test_format(self, gdlite: object) -> None:
        assert format(gdlite.tensor(3.14159), ".2f") == format(
            torch.tensor(3.14159), ".2f"
        )
        assert f"{gdlite.tensor(0.1)}" == f"{torch.tensor(0.1)}"
        assert f"{gdlite.tensor([1, 2])}" == expected(torch.tensor([1, 2]))
        with pytest.raises(TypeError):
            format(gdlite.tensor([1.0]), ".2f")

    def test_printoptions(self, gdlite: object) -> None:
        if not hasattr(gdlite, "set_printoptions"):
            pytest.skip("gdlite.set_printoptions is not available yet")
        data = [i / 3 for i in range(20)]
        try:
            gdlite.set_printoptions(precision=2, threshold=5, edgeitems=2)
            torch.set_printoptions(precision=2, threshold=5, edgeitems=2)
            assert repr(gdlite.tensor(data)) == expected(torch.tensor(data))
        finally:
            gdlite.set_printoptions(profile="default")
