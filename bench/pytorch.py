"""The PyTorch package's training step on the wechat-like shape, side by side in one process.

    /usr/bin/python3 bench/pytorch.py [--steps 10] [--warmup 2] [--threads 2] [--json]

PLE with DeepFM's linear and FM terms (examples/pytorch/ple.py): 10 categorical features with
vocabularies [20000, 100000, 2000, 50, 50, 10, 10, 100, 100, 1000], embedding 16, experts
[256, 128, 64], towers [32, 16], dropout 0.2, 6 tasks at positive rates 0.30/0.20/0.10/0.03/0.01/0.01,
batch 2048 of uniform ids, pre-built batches, Adam lr 1e-3 with L2 1e-5 as weight decay. Three
configurations, each with its own copy of the model and optimizer, are stepped in turn (one step
of each per round), so that a busy machine slows them alike:

- ``ew / plain``: the mean of the task losses, one ``backward()``: what a PyTorch user runs today;
- ``ew / studio``: equal weighting through the package (per-task gradients and Gram matrix, for the
  panel), ``Studio.backward`` + ``end_step`` recording to a run folder;
- ``gradcraft / studio``: GradCraft (τ = 0.1, ε = 1e-10) through the same path.

The live link's share is the time of ``end_step`` (the step message built, appended to the event
log and handed to a reader) against the whole step. docs/benchmarks.md has the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "pytorch"))
sys.path.insert(0, str(ROOT / "python"))

from ple import PLE  # noqa: E402

from gradcraft_studio import Studio  # noqa: E402

VOCABULARIES = [20000, 100000, 2000, 50, 50, 10, 10, 100, 100, 1000]
TASKS = ["effective_view", "long_view", "complete_view", "like", "follow", "forward"]
RATES = [0.30, 0.20, 0.10, 0.03, 0.01, 0.01]
BATCH = 2048
# The official GradCraft training step on this shape (2 threads), from the reference measurements.
OFFICIAL_GRADCRAFT_MS = {"AMD EPYC": 2172, "Intel Xeon": 2332}


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def batches(count: int, generator: torch.Generator) -> list[tuple[torch.Tensor, torch.Tensor]]:
    out = []
    for _ in range(count):
        ids = torch.stack([torch.randint(0, v, (BATCH,), generator=generator) for v in VOCABULARIES], 1)
        labels = (torch.rand(BATCH, len(TASKS), generator=generator) < torch.tensor(RATES)).float()
        out.append((ids, labels))
    return out


def task_losses(model: PLE, ids: torch.Tensor, labels: torch.Tensor) -> list[torch.Tensor]:
    """Each task's loss from its own output (docs/pytorch.md: columns of one N×K output would
    make each task's backward run through every tower)."""
    return [
        nn.functional.binary_cross_entropy_with_logits(logits.squeeze(1), labels[:, t])
        for t, logits in enumerate(model.task_logits(ids))
    ]


class Plain:
    name, scope = "ew", "plain"

    def __init__(self, model: PLE) -> None:
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)
        self.link_ms: list[float] = []

    def step(self, ids, labels) -> None:
        torch.stack(task_losses(self.model, ids, labels)).mean().backward()
        self.optimizer.step()
        self.optimizer.zero_grad()


class ThroughStudio:
    scope = "studio"

    def __init__(self, model: PLE, strategy: str, params: dict, runs: str) -> None:
        self.name = strategy
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)
        self.studio = Studio(
            model, shared=model.shared, tasks=TASKS, strategy=strategy, params=params, optimizer=self.optimizer,
            runs_folder=runs, name=f"bench-{strategy}", listen=False, stdio=False,
        )
        self.link_ms: list[float] = []

    def step(self, ids, labels) -> None:
        self.studio.backward(task_losses(self.model, ids, labels))
        self.optimizer.step()
        self.optimizer.zero_grad()
        started = time.perf_counter()
        self.studio.end_step()
        self.link_ms.append((time.perf_counter() - started) * 1000)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(1)
    data = batches(4, generator)
    runs = tempfile.mkdtemp(prefix="gradcraft-bench-pytorch-")

    def fresh() -> PLE:
        torch.manual_seed(0)
        return PLE(VOCABULARIES, len(TASKS))

    configs = [
        Plain(fresh()),
        ThroughStudio(fresh(), "ew", {}, runs),
        ThroughStudio(fresh(), "gradcraft", {"tau": 0.1, "eps": 1e-10}, runs),
    ]
    times: dict[int, list[float]] = {i: [] for i in range(len(configs))}
    # CPU time of the process (all its threads) beside wall time: on a shared machine the wall
    # time grows with the other processes' load, the CPU time much less.
    cpu_times: dict[int, list[float]] = {i: [] for i in range(len(configs))}
    load_before = os.getloadavg()
    for round_ in range(args.warmup + args.steps):
        for i, config in enumerate(configs):
            ids, labels = data[round_ % len(data)]
            started, cpu_started = time.perf_counter(), time.process_time()
            config.step(ids, labels)
            elapsed = (time.perf_counter() - started) * 1000
            if round_ >= args.warmup:
                times[i].append(elapsed)
                cpu_times[i].append((time.process_time() - cpu_started) * 1000)
            elif config.link_ms:
                config.link_ms.pop()
    load_after = os.getloadavg()
    for config in configs[1:]:
        config.studio.close()

    baseline = statistics.median(times[0])
    cpu_baseline = statistics.median(cpu_times[0])
    cpu = cpu_model()
    official = next((ms for kind, ms in OFFICIAL_GRADCRAFT_MS.items() if kind in cpu), None)
    rows = []
    for i, config in enumerate(configs):
        median = statistics.median(times[i])
        row = {
            "strategy": config.name,
            "path": config.scope,
            "medianMs": round(median, 1),
            "p10Ms": round(percentile(times[i], 0.1), 1),
            "p90Ms": round(percentile(times[i], 0.9), 1),
            "vsPlainEw": round(median / baseline, 3),
            "cpuMs": round(statistics.median(cpu_times[i]), 1),
            "cpuVsPlainEw": round(statistics.median(cpu_times[i]) / cpu_baseline, 3),
        }
        if config.link_ms:
            row["linkMs"] = round(statistics.median(config.link_ms), 3)
            row["linkShare"] = round(statistics.median(config.link_ms) / median, 5)
        rows.append(row)
    gradcraft = rows[2]["medianMs"]
    report = {
        "cpu": cpu,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "loadAverage": {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in load_after]},
        "steps": args.steps,
        "warmup": args.warmup,
        "rows": rows,
        "officialGradcraftMs": official,
        "speedupVsOfficial": round(official / gradcraft, 2) if official else None,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"PyTorch step, wechat-like PLE, batch {BATCH}: {cpu}, {report['threads']} torch threads, torch {report['torch']}")
    print(f"load average before {report['loadAverage']['before']}, after {report['loadAverage']['after']}; {args.steps} steps after {args.warmup} warm-up, one of each configuration per round")
    print(
        f"{'strategy':<10} {'path':<7} {'median ms':>10} {'p10-p90':>15} {'vs plain EW':>12}"
        f" {'CPU ms':>8} {'CPU vs EW':>10} {'link ms':>8} {'link share':>10}"
    )
    for row in rows:
        link = f"{row['linkMs']:>8.3f} {row['linkShare'] * 100:>9.3f}%" if "linkMs" in row else f"{'':>8} {'':>10}"
        print(
            f"{row['strategy']:<10} {row['path']:<7} {row['medianMs']:>10.1f} {row['p10Ms']:>7.1f}-{row['p90Ms']:<7.1f}"
            f" {row['vsPlainEw']:>11.2f}x {row['cpuMs']:>8.1f} {row['cpuVsPlainEw']:>9.2f}x {link}"
        )
    if official:
        print(f"official GradCraft step on a {cpu.split()[0]} machine of this kind: {official} ms -> {report['speedupVsOfficial']}x faster")
    else:
        print("official GradCraft step: measured on AMD EPYC (2172 ms) and Intel Xeon (2332 ms) machines; compare on the same kind")


if __name__ == "__main__":
    main()
