"""Matrix products in PyTorch's signatures: matmul, mm, mv, dot, bmm, addmm."""

from __future__ import annotations

from typing import Any

from . import _C

# ---- linear algebra ---------------------------------------------------------


def matmul(input: Any, other: Any) -> Any:
    """Matrix product with PyTorch's 1-D, 2-D and batched broadcasting rules."""
    return _C.matmul(input, other)


def mm(input: Any, mat2: Any) -> Any:
    """Product of two matrices."""
    if input.dim() != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.dim() != 2:
        raise RuntimeError("mat2 must be a matrix")
    return _C.matmul(input, mat2)


def addmm(input: Any, mat1: Any, mat2: Any, *, beta: Any = 1, alpha: Any = 1) -> Any:
    """``beta * input + alpha * (mat1 @ mat2)``, input broadcast to the result:
    one recorded op (AddmmBackward0), as nn.Linear uses it."""
    return _C.addmm(input, mat1, mat2, beta, alpha)


def mv(input: Any, vec: Any) -> Any:
    """Matrix times vector."""
    if input.dim() != 2 or vec.dim() != 1:
        raise RuntimeError(
            f"vector + matrix @ vector expected, got 1, {input.dim()}, {vec.dim()}"
        )
    return _C.matmul(input, vec)


def dot(input: Any, tensor: Any) -> Any:
    """Inner product of two 1-D tensors."""
    if input.dim() != 1 or tensor.dim() != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {input.dim()}D and {tensor.dim()}D tensors"
        )
    return _C.matmul(input, tensor)


def bmm(input: Any, mat2: Any) -> Any:
    """Batched product of two 3-D tensors."""
    if input.dim() != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.dim() != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(
            "Expected size for first two dimensions of batch2 tensor to be: "
            f"[{input.shape[0]}, {input.shape[2]}] but got: "
            f"[{mat2.shape[0]}, {mat2.shape[1]}]."
        )
    return _C.matmul(input, mat2, False, _C.decompositions["BMM"])
