"""The project's small seeded generator, bit for bit as src/core/random.ts: a Weyl sequence
(state += 0x9e3779b9, uint32) read through murmur3's 32-bit finaliser. Its whole state is one
uint32, so a strategy state holding it is a plain number and a resumed run draws the same numbers
in both languages.
"""

from __future__ import annotations

_MASK = 0xFFFFFFFF
_WEYL_INCREMENT = 0x9E3779B9


def advance_random(state: int) -> int:
    """The state after ``state``."""
    return (state + _WEYL_INCREMENT) & _MASK


def uniform_of(state: int) -> float:
    """The uniform number in [0, 1) that a (just advanced) state stands for."""
    z = state & _MASK
    z = ((z ^ (z >> 16)) * 0x85EBCA6B) & _MASK
    z = ((z ^ (z >> 13)) * 0xC2B2AE35) & _MASK
    return ((z ^ (z >> 16)) & _MASK) / 4294967296


def next_random(state: int) -> tuple[float, int]:
    """One draw: the uniform in [0, 1) and the state to draw the next one from."""
    following = advance_random(state)
    return uniform_of(following), following
