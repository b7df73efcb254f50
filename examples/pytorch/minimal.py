"""A two-task MLP on synthetic data, balanced by GradCraft and followed live in VS Code.

    /usr/bin/python3 examples/pytorch/minimal.py            # a terminal: records .gradcraft/runs/…
    GradCraft: Start Training → minimal.gradcraft.json      # VS Code: the run streams to the panel

Two tasks ("click" and "like") share a bottom MLP and each has its own tower; their labels come
from partly opposed directions of the features, so their gradients conflict. Under 30 s on a CPU.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import nn

try:
    from gradcraft_studio import Studio
except ImportError:  # a clone of the repository without `pip install ./python`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
    from gradcraft_studio import Studio

TASKS = ["click", "like"]


def synthetic(rows: int, features: int, generator: torch.Generator):
    """Features, two binary labels driven by directions with cosine −0.8, and a user id per row."""
    x = torch.randn(rows, features, generator=generator)
    base = torch.randn(features, generator=generator)
    other = torch.randn(features, generator=generator)
    other -= (other @ base) / (base @ base) * base  # orthogonal to base
    directions = torch.stack([base, -0.8 * base + 0.6 * other * base.norm() / other.norm()], 1)
    logits = x @ directions / features**0.5 * 2 + torch.tensor([0.0, -1.5])
    labels = torch.bernoulli(torch.sigmoid(logits), generator=generator)
    users = torch.randint(0, 200, (rows,), generator=generator)
    return x, labels, users


class TwoTaskMLP(nn.Module):
    def __init__(self, features: int) -> None:
        super().__init__()
        self.bottom = nn.Sequential(nn.Linear(features, 32), nn.ReLU(), nn.Linear(32, 8), nn.ReLU())
        self.towers = nn.ModuleList(nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1)) for _ in TASKS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(self.task_logits(x), 1)  # N×K logits

    def task_logits(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Each task's logits apart, so that its loss reaches its own tower only."""
        shared = self.bottom(x)
        return [tower(shared) for tower in self.towers]


def main() -> None:
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(7)
    x, y, users = synthetic(12_000, 16, generator)
    train, valid, test = slice(0, 9_000), slice(9_000, 10_500), slice(10_500, 12_000)
    model = TwoTaskMLP(x.shape[1])
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

    def predict(split: str):
        part = {"validation": valid, "test": test, "train": train}[split]
        with torch.no_grad():
            model.eval()
            probabilities = torch.sigmoid(model(x[part]))
            model.train()
        return probabilities, y[part], users[part]

    with Studio(
        model,
        shared=model.bottom,
        towers={task: tower for task, tower in zip(TASKS, model.towers)},
        tasks=TASKS,
        strategy="gradcraft",
        optimizer=optimizer,
        on_evaluate=predict,
        eval_every=40,
        name="minimal",
    ) as studio:
        batches = torch.split(torch.randperm(9_000, generator=generator), 128)
        for indices in studio.loop(batches, epochs=studio.config.get("training", {}).get("epochs", 4)):
            labels = y[indices]
            losses = [  # one scalar per task, each from its own output
                nn.functional.binary_cross_entropy_with_logits(logits.squeeze(1), labels[:, t])
                for t, logits in enumerate(model.task_logits(x[indices]))
            ]
            studio.backward(losses)
            optimizer.step()
            optimizer.zero_grad()
        studio.evaluate("test", *predict("test"))
        print(f"done after {studio.step} steps; run folder {studio.run_dir}", file=sys.stderr)


if __name__ == "__main__":
    main()
