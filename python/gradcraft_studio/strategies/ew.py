"""Equal weighting: the mean of the task gradients, the baseline every paper compares with (EW in
GradCraft, Bai et al., KDD 2024; "average" in its official code)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .base import Strategy, StrategyResult


def _step(gram: NDArray[np.float64], losses: NDArray[np.float64], step: int, params: dict[str, Any], state: Any) -> StrategyResult:
    k = gram.shape[0]
    return StrategyResult(weights=np.full(k, 1 / k), state=state)


ew = Strategy("ew", _step)
