"""Step times on the GPU, side by side in one run: the plain equal-weighting step (one backward of
the summed losses) against the Balancer with EW and with GradCraft (τ 0.1, ε 1e-10), on the
wechat-like shape of docs/benchmarks.md (PLE with one shared and one expert per task, experts
[256, 128, 64], towers [32, 16], 10 categorical features, embedding 16, 6 tasks; no FM term),
Adam. Prints a table and writes bench.json to the folder given as the first argument."""

from __future__ import annotations

import copy
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import Tensor, nn

from gradcraft_studio import Balancer

VOCABULARIES = [20000, 100000, 2000, 50, 50, 10, 10, 100, 100, 1000]
DIM, TASKS, BATCH, WARMUP, STEPS = 16, 6, 2048, 5, 30


def mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU(), nn.Dropout(0.2)]
    return nn.Sequential(*layers)


class WechatPLE(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        width = DIM * len(VOCABULARIES)
        self.tables = nn.ModuleList(nn.Embedding(v, DIM) for v in VOCABULARIES)
        self.shared_expert = mlp([width, 256, 128, 64])
        self.experts = nn.ModuleList(mlp([width, 256, 128, 64]) for _ in range(TASKS))
        self.gates = nn.ModuleList(nn.Linear(width, 2) for _ in range(TASKS))
        self.towers = nn.ModuleList(nn.Sequential(mlp([64, 32, 16]), nn.Linear(16, 1)) for _ in range(TASKS))

    def forward(self, ids: Tensor) -> list[Tensor]:
        x = torch.cat([table(ids[:, i]) for i, table in enumerate(self.tables)], dim=1)
        shared = self.shared_expert(x)
        out = []
        for expert, gate, tower in zip(self.experts, self.gates, self.towers):
            mix = torch.softmax(gate(x), dim=1)
            out.append(tower(mix[:, :1] * expert(x) + mix[:, 1:] * shared).squeeze(1))
        return out


def main(out_dir: Path) -> None:
    device = torch.device("cuda")
    torch.manual_seed(0)
    base = WechatPLE()
    ids = torch.stack([torch.randint(0, v, (BATCH,)) for v in VOCABULARIES], dim=1).to(device)
    rates = torch.tensor([0.30, 0.20, 0.10, 0.03, 0.01, 0.01])
    labels = (torch.rand(BATCH, TASKS) < rates).float().to(device)
    bce = nn.functional.binary_cross_entropy_with_logits
    cases = {}
    for name in ("plain EW", "Balancer EW", "Balancer GradCraft"):
        model = copy.deepcopy(base).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)
        balancer = None
        if name != "plain EW":
            strategy = "ew" if name.endswith("EW") else "gradcraft"
            params = {"tau": 0.1, "eps": 1e-10} if strategy == "gradcraft" else None
            shared = [model.tables, model.shared_expert]
            balancer = Balancer(model, shared=shared, tasks=[str(t) for t in range(TASKS)], strategy=strategy, params=params)
        cases[name] = (model, optimizer, balancer)

    def step(model: nn.Module, optimizer: torch.optim.Optimizer, balancer: Balancer | None) -> None:
        optimizer.zero_grad(set_to_none=True)
        losses = [bce(logit, labels[:, t]) for t, logit in enumerate(model(ids))]
        if balancer is None:
            torch.stack(losses).sum().backward()
        else:
            balancer.backward(losses)
        optimizer.step()

    times: dict[str, list[float]] = {name: [] for name in cases}
    for i in range(WARMUP + STEPS):
        for name, (model, optimizer, balancer) in cases.items():  # interleaved: the same conditions
            torch.cuda.synchronize()
            started = time.perf_counter()
            step(model, optimizer, balancer)
            torch.cuda.synchronize()
            if i >= WARMUP:
                times[name].append(1000 * (time.perf_counter() - started))
    medians = {name: statistics.median(v) for name, v in times.items()}
    plain = medians["plain EW"]
    report = {
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "batch": BATCH,
        "steps": STEPS,
        "medianMs": medians,
        "ratioToPlainEW": {name: m / plain for name, m in medians.items()},
    }
    print(f"{report['device']}, torch {report['torch']}, batch {BATCH}, median of {STEPS} steps after {WARMUP}")
    for name, m in medians.items():
        print(f"  {name:<20} {m:8.2f} ms/step   {m / plain:5.2f}x plain EW")
    (out_dir / "bench.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
