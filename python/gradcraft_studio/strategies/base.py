"""The strategy contract: every balancing method is a weighting computed from the K×K Gram matrix
``G[i, j] = g_i·g_j`` of the task gradients on the shared parameters (plus, for loss-based methods,
the losses and the strategy's own state); the shared update is ``u = Σ_t weights[t]·g_t``. It is the
contract of src/core/strategy.ts, with the same names, parameters, defaults and state (states are
JSON-serialisable and use the TypeScript field names, so either implementation can continue the
other's run).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..definitions import STRATEGY_DEFINITIONS, parse_params
from ..linalg.gram import check_gram


@dataclass(frozen=True)
class ProjectionStats:
    """Statistics of projection methods, one entry per task."""

    #: How many tasks the task's (rescaled) gradient conflicted with.
    conflict_set_size: list[int]
    #: Norm of the correction added to the task's gradient by the projection.
    correction_norm: list[float]
    #: Magnitude scale factor applied to the task's gradient before projecting (1 when none).
    magnitude_scale: list[float]


@dataclass(frozen=True)
class StrategyResult:
    #: α, shape (K,): the shared update is Σ α_t g_t. Always finite.
    weights: NDArray[np.float64]
    #: Scale of each task's gradient on its own (task-specific) parameters; None means 1 for every
    #: task (gradient-manipulation methods leave towers alone; loss weightings weight them too).
    tower_weights: NDArray[np.float64] | None = None
    #: The state to pass to the next step (JSON-serialisable, never mutated in place).
    state: Any = None
    projection: ProjectionStats | None = None
    #: Degenerate situations met this step, e.g. "singular-conflict-system", "zero-gradient".
    flags: tuple[str, ...] = field(default_factory=tuple)


#: One step of a method on a checked float64 Gram matrix: (gram, losses, step, params, state).
StepFunction = Callable[[NDArray[np.float64], NDArray[np.float64], int, dict[str, Any], Any], StrategyResult]
InitFunction = Callable[[int, dict[str, Any]], Any]


def _stateless(k: int, params: dict[str, Any]) -> None:
    return None


class Strategy:
    """One balancing method. Texts, flags and parameter schema come from the shared definition
    (``definitions.STRATEGY_DEFINITIONS``); the arithmetic from the strategy's own module."""

    def __init__(self, name: str, step: StepFunction, init: InitFunction = _stateless) -> None:
        definition = STRATEGY_DEFINITIONS.get(name)
        if definition is None:
            raise ValueError(f'strategy "{name}" is not in the generated definitions: run node scripts/gen-python.mjs')
        self.name: str = name
        self.title: str = definition["title"]
        self.summary: str = definition["summary"]
        self.citation: str = definition["citation"]
        self.uses_losses: bool = definition["usesLosses"]
        self.loss_transform: Literal["log"] | None = definition["lossTransform"]
        #: The parameters' JSON Schema (what the protocol's ``hello`` publishes).
        self.params_schema: dict[str, Any] = definition["params"]
        self._step = step
        self._init = init

    def __repr__(self) -> str:
        return f"<Strategy {self.name}>"

    def parse_params(self, raw: Mapping[str, Any] | None) -> dict[str, Any]:
        """Defaults filled in; ValueError naming the parameter for an unknown name or bad value."""
        return parse_params(self.name, raw)

    def init(self, k: int, params: dict[str, Any]) -> Any:
        """Fresh state for K tasks (also used when switching to this strategy mid-run)."""
        return self._init(k, params)

    def step(
        self,
        gram: ArrayLike,
        losses: ArrayLike | None,
        step: int,
        params: dict[str, Any],
        state: Any,
    ) -> StrategyResult:
        """One step. The one place where a strategy is invoked, so the one place where its input
        is checked: a clear ValueError for a bad Gram matrix or loss, naming the task."""
        matrix = check_gram(gram, self.name)
        k = matrix.shape[0]
        if losses is None:
            if self.uses_losses:
                raise ValueError(f'{self.name}: needs one loss per task ({k}), got none (pass "losses")')
            values = np.ones(k)
        else:
            values = np.array(losses, dtype=np.float64).reshape(-1)
            if values.size != k:
                raise ValueError(f"{self.name}: needs one loss per task ({k}), got {values.size}")
            if self.uses_losses:
                for t in range(k):
                    if not np.isfinite(values[t]):
                        raise ValueError(f"{self.name}: the loss of task {t} is not finite ({values[t]})")
        result = self._step(matrix, values, step, params, state)
        bad = np.flatnonzero(~np.isfinite(result.weights))
        if bad.size:
            raise ValueError(f'strategy "{self.name}" returned a non-finite weight for task {int(bad[0])}')
        return result
