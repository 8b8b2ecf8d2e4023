"""gdlite: a small, fast, exact gradient-descent library with PyTorch's API.

>>> import gdlite as torch
>>> x = torch.arange(4.0)
>>> (x * x).sum()
tensor(14.)
"""

import os as _os

import scipy_openblas32 as _openblas  # noqa: F401 - loads the BLAS that _C links

if _os.environ.get("GDLITE_EXT_DIR"):
    # `make asan` builds a sanitized _C elsewhere; it is found first.
    __path__.insert(0, _os.environ["GDLITE_EXT_DIR"])

from . import _C, _functional, autograd, cuda
from . import _indexing as _indexing  # noqa: F401 - registers advanced indexing
from . import _mkl as _mkl  # noqa: F401 - opens MKL where it is installed
from ._as_torch import as_torch
from ._creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    get_default_dtype,
    linspace,
    logspace,
    ones,
    ones_like,
    set_default_dtype,
    tensor,
    zeros,
    zeros_like,
)
from ._functional import (
    add,
    addmm,
    all,
    allclose,
    amax,
    amin,
    any,
    argmax,
    argmin,
    argwhere,
    bincount,
    bmm,
    cat,
    clamp,
    cumprod,
    cumsum,
    div,
    dot,
    equal,
    gather,
    histc,
    index_select,
    is_tensor,
    isfinite,
    isinf,
    isnan,
    log_softmax,
    matmul,
    max,
    mean,
    meshgrid,
    min,
    mm,
    mv,
    nonzero,
    norm,
    numel,
    prod,
    round,
    scatter_add,
    softmax,
    stack,
    std,
    sub,
    sum,
    take_along_dim,
    unique,
    unique_consecutive,
    var,
    where,
)
from ._grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from ._legacy import (
    BoolTensor,
    ByteTensor,
    DoubleTensor,
    FloatTensor,
    IntTensor,
    LongTensor,
)
from ._memory_format import (
    channels_last,
    channels_last_3d,
    contiguous_format,
    memory_format,
    preserve_format,
)
from ._random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    normal,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    seed,
    set_rng_state,
)
from ._sampling import bernoulli, randint_like
from ._splitting import chunk, split, unbind
from ._tensor import Tensor
from ._tensor_functions import (
    clone,
    detach,
    flatten,
    is_floating_point,
    narrow,
    permute,
    reshape,
    select,
    squeeze,
    t,
    transpose,
    unsqueeze,
)
from ._tensor_str import get_printoptions, printoptions, set_printoptions
from ._types import Size, device, return_types, typename
from .autograd.anomaly_mode import (
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_anomaly_enabled,
)

dtype = _C.dtype
float32 = float = _C.float32
float64 = double = _C.float64
int64 = long = _C.int64
int32 = int = _C.int32
uint8 = _C.uint8
promote_types = _C.promote_types
bool = _C.bool

# Elementwise functions under their torch names (exp, log, mul, eq, ...).
globals().update(
    {
        name: op
        for name, (op, _) in {**_functional.UNARY, **_functional.BINARY}.items()
        if name not in ("add", "sub", "div")
    }
)
clip = clamp
concat = cat
divide = true_divide = div
multiply = _functional.BINARY["mul"][0]
subtract = sub
absolute = _functional.UNARY["abs"][0]
greater, less = _functional.BINARY["gt"][0], _functional.BINARY["lt"][0]
greater_equal, less_equal = _functional.BINARY["ge"][0], _functional.BINARY["le"][0]
not_equal = _functional.BINARY["ne"][0]


def _dispatching_public_ops() -> None:
    # Public ops route Tensor subclass arguments through __torch_function__
    # once a subclass that overrides it exists (until then they stay the plain
    # functions, at no cost); gdlite's own modules call the unwrapped ones.
    from . import _tensor_function

    modules = ("gdlite._functional", "gdlite._reductions", "gdlite._linalg")
    modules += ("gdlite._gathering", "gdlite._counting", "gdlite._sampling")
    modules += ("gdlite._splitting",)
    likes = ("zeros_like", "ones_like", "empty_like", "full_like")
    likes += ("rand_like", "randn_like")
    namespace = globals()
    names = [
        name
        for name, value in namespace.items()
        if (getattr(value, "__module__", None) in modules or name in likes)
        and not isinstance(value, type)
        and name != "is_tensor"
    ]
    _tensor_function.defer_public_functions(namespace, names)


_dispatching_public_ops()

from gdlite import optim  # noqa: E402 - needs the names above

__version__ = "0.1.0"

# Last: these subpackages are built on the names above.
from gdlite import backends, linalg, nn, overrides, utils  # noqa: E402
from gdlite._sweep import SweepResult, sweep  # noqa: E402
from gdlite.serialization import load, save  # noqa: E402 - built on nn
from gdlite.utils.dlpack import from_dlpack  # noqa: E402
