"""The boundary between the shared modules and the task-specific code.

A forward hook on each shared module replaces its output by a detached copy that requires grad
(a cut), and keeps the original. The per-task pass above the cut then runs once per task through
that task's own code only (a tower, a PLE task expert, a gate), and the batched pass starts at the
cut and runs through the shared modules only: each layer is traversed K times only where the K
task gradients really differ (docs/architecture.md, "Balancer").

While a Balancer is attached, the model's outputs reach the shared parameters only through its
``backward``: ``loss.backward()`` would leave them without gradient, which the next forward or
``Balancer.backward`` reports instead of letting it pass silently.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

MISUSE = (
    "the model's outputs were back-propagated with loss.backward() while a Balancer is attached: "
    "the shared parameters got no gradient. Call Balancer.backward(losses) instead, or "
    "Balancer.close() to detach it"
)


@dataclass
class Cut:
    #: The shared module's own output (its graph reaches the shared parameters).
    original: Tensor
    #: The detached copy the rest of the model consumed.
    leaf: Tensor


def boundary_modules(shared: Iterable[nn.Module]) -> list[nn.Module]:
    """The shared modules whose outputs are cut: containers that are never called themselves
    (ModuleList, ModuleDict) stand for their children; embedding tables (and modules of tables
    only) are handled through their lookups; a module inside another one is covered by the outer
    cut."""
    found: list[nn.Module] = []

    def visit(module: nn.Module) -> None:
        tables = {id(m.weight) for m in module.modules() if isinstance(m, nn.Embedding)}
        own = [p for p in module.parameters() if p.requires_grad and id(p) not in tables]
        if isinstance(module, (nn.ModuleList, nn.ModuleDict)):
            for child in module.children():
                visit(child)
        elif own:
            # A module of tables only (embedding lookups and concatenation) is not cut: its rows
            # are differentiated directly, and a cut there would only chain into the next module.
            found.append(module)

    for module in shared:
        visit(module)
    inner = {id(m) for outer in found for m in outer.modules() if m is not outer}
    unique: dict[int, nn.Module] = {}
    for module in found:
        if id(module) not in inner:
            unique.setdefault(id(module), module)
    return list(unique.values())


class Boundary:
    def __init__(self, modules: list[nn.Module]) -> None:
        self.cuts: list[Cut] = []
        self._hooks = [m.register_forward_hook(self._hook) for m in modules]

    def _hook(self, module: nn.Module, inputs: Any, output: Any) -> Any:
        if not torch.is_grad_enabled():
            return None
        if isinstance(output, Tensor):
            return self._cut(output)
        if isinstance(output, (tuple, list)):
            return type(output)(self._cut(x) if isinstance(x, Tensor) else x for x in output)
        return None

    def _cut(self, output: Tensor) -> Tensor:
        if not output.requires_grad:
            return output
        self.check()
        leaf = output.detach().requires_grad_(True)
        self.cuts.append(Cut(output, leaf))
        # A non-leaf stand-in, so that in-place operations downstream (ReLU(inplace=True)) stay legal.
        return leaf.clone()

    def check(self) -> None:
        """Refuses to go on after a plain ``loss.backward()`` went through a cut."""
        if any(cut.leaf.grad is not None for cut in self.cuts):
            self.cuts = []
            raise RuntimeError(MISUSE)

    def take(self) -> list[Cut]:
        self.check()
        taken, self.cuts = self.cuts, []
        return taken

    def close(self) -> None:
        for hook in self._hooks:
            hook.remove()
        self._hooks = []
        self.cuts = []
