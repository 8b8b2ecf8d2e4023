"""Composable transforms, as torchvision.transforms' generic ones.

Only the transforms that need no image library: ``Compose`` chains callables
(the course's datasets apply it to ``(x, y)`` samples) and ``Lambda`` wraps a
function. Reprs are torchvision's.

>>> double = Lambda(lambda s: s * 2)
>>> Compose([double, Lambda(lambda s: s + 1)])(5)
11
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["Compose", "Lambda"]


class Compose:
    """Applies ``transforms`` in order: ``Compose([f, g])(x) == g(f(x))``."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = transforms

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"{self.__class__.__name__}({lines}\n)"


class Lambda:
    """A user function as a transform."""

    def __init__(self, lambd: Callable[[Any], Any]) -> None:
        if not callable(lambd):
            raise TypeError(
                f"Argument lambd should be callable, got {type(lambd).__name__!r}"
            )
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"
