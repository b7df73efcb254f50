"""Every strategy we ship, by name, in the order of src/core/strategies/index.ts."""

from __future__ import annotations

from collections.abc import Mapping

from .aligned_mtl import aligned_mtl
from .base import ProjectionStats, Strategy, StrategyResult
from .cagrad import cagrad
from .db_mtl import db_mtl
from .dwa import dwa
from .ew import ew
from .gradcraft import gradcraft
from .gradnorm import gradnorm
from .gradvac import gradvac
from .imtl_g import imtl_g
from .mgda import mgda
from .nash_mtl import nash_mtl
from .pcgrad import pcgrad
from .pcgrad_plus import pcgrad_plus
from .single import single
from .upgrad import upgrad
from .uw import uw

STRATEGIES: Mapping[str, Strategy] = {
    s.name: s
    for s in (
        ew,
        gradcraft,
        single,
        pcgrad,
        pcgrad_plus,
        mgda,
        cagrad,
        imtl_g,
        aligned_mtl,
        gradvac,
        db_mtl,
        uw,
        dwa,
        gradnorm,
        nash_mtl,
        upgrad,
    )
}


def find_strategy(name: str) -> Strategy | None:
    return STRATEGIES.get(name)


def require_strategy(name: str) -> Strategy:
    """The strategy called ``name``; a ValueError listing the known names otherwise."""
    found = STRATEGIES.get(name)
    if found is None:
        raise ValueError(f'unknown strategy "{name}" (known: {", ".join(STRATEGIES)})')
    return found


__all__ = ["STRATEGIES", "ProjectionStats", "Strategy", "StrategyResult", "find_strategy", "require_strategy"]
