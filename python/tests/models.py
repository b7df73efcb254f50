"""Small multi-task recommenders of the three shapes the paper uses (Shared-Bottom, MMoE, PLE with
one level), with categorical embeddings: the test models of the Balancer's exactness tests."""

from __future__ import annotations

import os

import torch
from torch import Tensor, nn

#: Where the exactness tests run: the CPU, or GRADCRAFT_TEST_DEVICE (the GPU check sets "cuda").
DEVICE = torch.device(os.environ.get("GRADCRAFT_TEST_DEVICE", "cpu"))
FIELDS = [50, 30, 7]  # vocabulary sizes: user, item, a small context field (id 0 = padding)
DIM = 4


def mlp(sizes: list[int], dropout: float = 0.1) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU(), nn.Dropout(dropout)]
    return nn.Sequential(*layers)


class Embeddings(nn.Module):
    """One table per field; the item table is looked up twice (the item and the last item seen),
    as tables shared between features are; the context table pads id 0."""

    def __init__(self, sparse: bool = False) -> None:
        super().__init__()
        self.tables = nn.ModuleList(
            nn.Embedding(v, DIM, sparse=sparse, padding_idx=0 if i == 2 else None) for i, v in enumerate(FIELDS)
        )
        self.width = DIM * (len(FIELDS) + 1)

    def forward(self, ids: Tensor) -> Tensor:
        user, item, context, last_item = ids.unbind(1)
        looked = [self.tables[0](user), self.tables[1](item), self.tables[2](context), self.tables[1](last_item)]
        return torch.cat(looked, dim=1)


class SharedBottom(nn.Module):
    def __init__(self, tasks: int, sparse: bool = False) -> None:
        super().__init__()
        self.embeddings = Embeddings(sparse)
        self.bottom = mlp([self.embeddings.width, 16, 8])
        self.towers = nn.ModuleList(nn.Sequential(mlp([8, 4]), nn.Linear(4, 1)) for _ in range(tasks))

    def shared(self) -> list[nn.Module]:
        return [self.embeddings, self.bottom]

    def towers_of(self, z: Tensor) -> list[Tensor]:
        return [tower(z).squeeze(1) for tower in self.towers]

    def forward(self, ids: Tensor) -> list[Tensor]:
        return self.towers_of(self.bottom(self.embeddings(ids)))


class MMoE(nn.Module):
    def __init__(self, tasks: int, experts: int = 3, sparse: bool = False) -> None:
        super().__init__()
        self.embeddings = Embeddings(sparse)
        width = self.embeddings.width
        self.experts = nn.ModuleList(mlp([width, 12, 8]) for _ in range(experts))
        self.gates = nn.ModuleList(nn.Linear(width, experts) for _ in range(tasks))
        self.towers = nn.ModuleList(nn.Sequential(mlp([8, 4]), nn.Linear(4, 1)) for _ in range(tasks))

    def shared(self) -> list[nn.Module]:
        return [self.embeddings, self.experts]

    def forward(self, ids: Tensor) -> list[Tensor]:
        x = self.embeddings(ids)
        outputs = torch.stack([expert(x) for expert in self.experts], dim=1)  # B × E × 8
        logits = []
        for gate, tower in zip(self.gates, self.towers):
            mix = torch.softmax(gate(x), dim=1).unsqueeze(2)
            logits.append(tower((mix * outputs).sum(1)).squeeze(1))
        return logits


class PLE(nn.Module):
    """One extraction level: one shared expert plus one expert per task, a gate per task."""

    def __init__(self, tasks: int, sparse: bool = False) -> None:
        super().__init__()
        self.embeddings = Embeddings(sparse)
        width = self.embeddings.width
        self.shared_expert = mlp([width, 12, 8])
        self.task_experts = nn.ModuleList(mlp([width, 12, 8]) for _ in range(tasks))
        self.gates = nn.ModuleList(nn.Linear(width, 2) for _ in range(tasks))
        self.towers = nn.ModuleList(nn.Sequential(mlp([8, 4]), nn.Linear(4, 1)) for _ in range(tasks))

    def shared(self) -> list[nn.Module]:
        return [self.embeddings, self.shared_expert]

    def task_modules(self, t: int) -> list[nn.Module]:
        return [self.task_experts[t], self.gates[t], self.towers[t]]

    def forward(self, ids: Tensor) -> list[Tensor]:
        x = self.embeddings(ids)
        shared = self.shared_expert(x)
        logits = []
        for expert, gate, tower in zip(self.task_experts, self.gates, self.towers):
            mix = torch.softmax(gate(x), dim=1)
            z = mix[:, :1] * expert(x) + mix[:, 1:] * shared
            logits.append(tower(z).squeeze(1))
        return logits


def batch(size: int, tasks: int, seed: int) -> tuple[Tensor, Tensor]:
    """Random ids (with repeats, padding ids included) and binary labels, on DEVICE."""
    generator = torch.Generator().manual_seed(seed)
    columns = [torch.randint(0, v, (size,), generator=generator) for v in FIELDS]
    columns.append(torch.randint(0, FIELDS[1], (size,), generator=generator))
    labels = (torch.rand(size, tasks, generator=generator) < 0.4).float()
    return torch.stack(columns, dim=1).to(DEVICE), labels.to(DEVICE)


def task_losses(logits: list[Tensor], labels: Tensor) -> list[Tensor]:
    bce = nn.functional.binary_cross_entropy_with_logits
    return [bce(logit, labels[:, t]) for t, logit in enumerate(logits)]
