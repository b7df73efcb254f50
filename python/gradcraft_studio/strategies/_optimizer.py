"""The small optimizers that loss-weighting strategies use on their own K parameters (UW's
log-variances, GradNorm's weights), as optimizerStep in src/core/strategies/uw.ts. Moments are a
JSON-serialisable dict {"m": [K], "v": [K], "t": updates so far}."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def fresh_moments(k: int) -> dict[str, Any]:
    return {"m": [0.0] * k, "v": [0.0] * k, "t": 0}


def optimizer_step(
    optimizer: str, lr: float, x: Sequence[float], gradient: Sequence[float], moments: dict[str, Any]
) -> tuple[list[float], dict[str, Any]]:
    """One Adam (Kingma & Ba 2015; β1 0.9, β2 0.999, ε 1e-8 as torch) or plain SGD step on ``x``;
    returns new lists, leaving the inputs alone."""
    if optimizer == "sgd":
        return [value - lr * float(gradient[i]) for i, value in enumerate(x)], moments
    t = int(moments["t"]) + 1
    correction1 = 1 - 0.9**t
    correction2 = 1 - 0.999**t
    m: list[float] = []
    v: list[float] = []
    following: list[float] = []
    for i, value in enumerate(x):
        g = float(gradient[i])
        m.append(0.9 * moments["m"][i] + 0.1 * g)
        v.append(0.999 * moments["v"][i] + 0.001 * g * g)
        following.append(value - (lr * (m[i] / correction1)) / (math.sqrt(v[i] / correction2) + 1e-8))
    return following, {"m": m, "v": v, "t": t}
