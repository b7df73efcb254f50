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
import weakref
from typing import Any

import torch
from torch import Tensor, nn

MISUSE = (
    "the model's outputs were back-propagated with loss.backward() while a Balancer is attached: "
    "the shared parameters got no gradient. Call Balancer.backward(losses) instead, or "
    "Balancer.close() to detach it"
)


class Cut:
    """One cut: the shared module's own output (its graph reaches the shared parameters) and the
    detached copy (a leaf) the rest of the model consumed. The leaf is held weakly: the graph
    built on it keeps it alive, so a cut whose outputs were dropped unused (an evaluation without
    ``torch.no_grad``) dies with them instead of keeping its graph."""

    def __init__(self, original: Tensor, leaf: Tensor) -> None:
        self.original = original
        self._leaf = weakref.ref(leaf)

    @property
    def alive(self) -> bool:
        return self._leaf() is not None

    @property
    def leaf(self) -> Tensor:
        leaf = self._leaf()
        assert leaf is not None, "a cut taken for a step is alive (its losses hold it)"
        return leaf


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
        #: True while the Balancer's own passes run: a gradient reaching a cut otherwise is a misuse.
        self.balancing = False
        self._misused = False
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
        self.cuts = [cut for cut in self.cuts if cut.alive]
        leaf = output.detach().requires_grad_(True)
        leaf.register_hook(self._reached)
        self.cuts.append(Cut(output, leaf))
        # A non-leaf stand-in, so that in-place operations downstream (ReLU(inplace=True)) stay legal.
        return leaf.clone()

    def _reached(self, grad: Tensor) -> None:
        if not self.balancing:
            self._misused = True

    def check(self) -> None:
        """Refuses to go on after a plain ``loss.backward()`` went through a cut."""
        if self._misused:
            self._misused = False
            self.cuts = []
            raise RuntimeError(MISUSE)

    def take(self) -> list[Cut]:
        self.check()
        taken, self.cuts = [cut for cut in self.cuts if cut.alive], []
        return taken

    def close(self) -> None:
        for hook in self._hooks:
            hook.remove()
        self._hooks = []
        self.cuts = []
