"""GradCraft Studio for PyTorch: per-task gradients of the shared parameters, the K×K Gram matrix,
GradCraft and its 15 peers as weightings of it, and the live link to VS Code (docs/pytorch.md)."""

from .balance import Balancer, BalanceReport
from .definitions import PROTOCOL_VERSION
from .diagnostics import StepDiagnostics, diagnose
from .strategies import STRATEGIES, ProjectionStats, Strategy, StrategyResult, find_strategy, require_strategy
from .studio import Studio

__all__ = [
    "PROTOCOL_VERSION",
    "BalanceReport",
    "Balancer",
    "StepDiagnostics",
    "diagnose",
    "STRATEGIES",
    "ProjectionStats",
    "Strategy",
    "StrategyResult",
    "Studio",
    "find_strategy",
    "require_strategy",
]
