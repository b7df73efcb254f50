"""Which task losses reach the shared parameters: a walk of the autograd graph (its structure
outlives the backward pass while the losses are referenced), used to name a task whose loss does
not depend on the shared parameters instead of reporting a zero gradient."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from torch import Tensor


def reaches(root: Tensor, parameters: Iterable[Tensor], nodes: Iterable[Any]) -> bool:
    """True when ``root``'s graph reaches one of ``parameters`` (leaves) or ``nodes`` (e.g. the
    grad_fn of an embedding lookup's output)."""
    if root.grad_fn is None:
        return False
    leaf_ids = {id(p) for p in parameters}
    targets = {id(n) for n in nodes}
    # Keeps every visited node referenced: a wrapper that died could hand its id to a new one.
    seen: dict[int, Any] = {}
    stack = [root.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen[id(node)] = node
        if id(node) in targets:
            return True
        variable = getattr(node, "variable", None)
        if variable is not None and id(variable) in leaf_ids:
            return True
        stack.extend(child for child, _ in node.next_functions)
    return False

