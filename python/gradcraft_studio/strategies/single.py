"""Single task: the update is one chosen task's gradient (the "Single" rows of the GradCraft paper,
where each task trains alone; here the other towers still train on their own gradients)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .base import Strategy, StrategyResult


def _step(gram: NDArray[np.float64], losses: NDArray[np.float64], step: int, params: dict[str, Any], state: Any) -> StrategyResult:
    k = gram.shape[0]
    task = params["task"]
    if task >= k:
        raise ValueError(f"single: task {task} does not exist (there are {k} tasks)")
    weights = np.zeros(k)
    weights[task] = 1
    return StrategyResult(weights=weights, state=state, flags=() if gram[task, task] > 0 else ("zero-gradient",))


single = Strategy("single", _step)
