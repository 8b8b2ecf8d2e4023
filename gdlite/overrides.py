"""gdlite.overrides: the __torch_function__ helpers of torch.overrides."""

from ._tensor_function import handle_torch_function as handle_torch_function
from ._tensor_function import has_torch_function as has_torch_function
