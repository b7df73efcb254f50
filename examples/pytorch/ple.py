"""The paper's model in PyTorch: PLE with DeepFM's linear and FM terms (GradCraft, KDD 2024).

One PLE level (Tang et al., RecSys 2020): one shared expert and one expert per task, each an MLP
[256, 128, 64]; each task's gate mixes its own expert and the shared one with a softmax computed
from the input (no gate MLP); each task's tower is an MLP [32, 16] with one output. As in the
paper's code, every task's logit also gets DeepFM's first-order (linear) term and its second-order
FM term over the feature embeddings (dimension 16), which all tasks share.

Shared by all tasks (``model.shared``): the embedding tables, the linear term's weights and the
shared expert. Each task's own part (``model.towers[t]``): its expert, its gate and its tower.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


def mlp(sizes: Sequence[int], dropout: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU(), nn.Dropout(dropout)]
    return nn.Sequential(*layers)


class PLE(nn.Module):
    def __init__(
        self,
        vocabularies: Sequence[int],
        tasks: int,
        embedding_dim: int = 16,
        experts: Sequence[int] = (256, 128, 64),
        towers: Sequence[int] = (32, 16),
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        self.embeddings = nn.ModuleList(nn.Embedding(v, embedding_dim) for v in vocabularies)
        self.linear = nn.ModuleList(nn.Embedding(v, 1) for v in vocabularies)
        width = embedding_dim * len(vocabularies)
        self.shared_expert = mlp([width, *experts], dropout)
        self.task_experts = nn.ModuleList(mlp([width, *experts], dropout) for _ in range(tasks))
        self.gates = nn.ModuleList(nn.Linear(width, 2) for _ in range(tasks))
        self.task_towers = nn.ModuleList(
            nn.Sequential(mlp([experts[-1], *towers], dropout), nn.Linear(towers[-1], 1)) for _ in range(tasks)
        )
        for table in [*self.embeddings, *self.linear]:
            nn.init.normal_(table.weight, std=1e-2)

    @property
    def shared(self) -> list[nn.Module]:
        """What every task trains: the embeddings, the linear term and the shared expert."""
        return [self.embeddings, self.linear, self.shared_expert]

    @property
    def towers(self) -> list[list[nn.Module]]:
        """What only task t trains: its expert, its gate and its tower."""
        return [[e, g, t] for e, g, t in zip(self.task_experts, self.gates, self.task_towers)]

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids: N×F category indices, one column per feature → N×K logits."""
        return torch.cat(self.task_logits(ids), 1)

    def task_logits(self, ids: torch.Tensor) -> list[torch.Tensor]:
        """Each task's N×1 logits, apart: a loss from one of them back-propagates through that
        task's own expert and tower only (columns of one concatenated output would reach all)."""
        vectors = torch.stack([table(ids[:, f]) for f, table in enumerate(self.embeddings)], 1)  # N×F×E
        linear = sum(table(ids[:, f]) for f, table in enumerate(self.linear))  # N×1
        # FM: ½ Σ_e [(Σ_f v_fe)² − Σ_f v_fe²], the pairwise interactions in O(F·E).
        fm = 0.5 * (vectors.sum(1).square() - vectors.square().sum(1)).sum(1, keepdim=True)
        x = vectors.flatten(1)
        shared = self.shared_expert(x)
        logits = []
        for expert, gate, tower in zip(self.task_experts, self.gates, self.task_towers):
            mix = torch.softmax(gate(x), 1)  # N×2: the task's own expert, then the shared one
            h = mix[:, :1] * expert(x) + mix[:, 1:] * shared
            logits.append(tower(h) + linear + fm)
        return logits
