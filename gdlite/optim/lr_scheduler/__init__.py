"""Learning-rate schedulers with the behaviour of ``torch.optim.lr_scheduler``.

Every scheduler rewrites ``group["lr"]`` of its optimizer's param groups. As
in PyTorch, ``step()`` applies the *chainable* rule (a factor on the group's
current lr, so several schedulers can drive one optimizer); the closed form of
the epoch index is used only by the deprecated ``step(epoch)``. Floating-point
expressions are evaluated in PyTorch's order, so the learning rates are the
same Python floats PyTorch computes.
"""

from ._base import EPOCH_DEPRECATION_WARNING as EPOCH_DEPRECATION_WARNING
from ._base import LRScheduler, _LRScheduler

# Used by schedulers written outside the library that override step().
from ._base import _enable_get_lr_call as _enable_get_lr_call
from ._base import _initial_mode as _initial_mode
from ._combine import ChainedScheduler, ReduceLROnPlateau, SequentialLR
from ._cyclic import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
from ._decay import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)

__all__ = [
    "LambdaLR",
    "MultiplicativeLR",
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "ExponentialLR",
    "SequentialLR",
    "CosineAnnealingLR",
    "ChainedScheduler",
    "ReduceLROnPlateau",
    "CyclicLR",
    "CosineAnnealingWarmRestarts",
    "OneCycleLR",
    "PolynomialLR",
    "LRScheduler",
]

# The classes are documented and pickled under this module's name.
for _cls in (_LRScheduler, *(globals()[_name] for _name in __all__)):
    _cls.__module__ = __name__
del _cls
