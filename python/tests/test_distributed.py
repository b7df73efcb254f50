"""Under torch.distributed the Balancer balances the global batch: 2 ranks (gloo, CPU, started
with torch.multiprocessing) give the Gram matrix and the update that 1 process gives on the same
global batch, for a stateful strategy over several steps, with tables that each rank looks up
differently and local batches of different sizes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from gradcraft_studio.balance import Balancer
from models import PLE, batch, task_losses

TASKS = ["click", "like", "follow"]
STEPS = 3


def build() -> PLE:
    torch.manual_seed(0)
    model = PLE(len(TASKS))
    model.eval()  # no dropout: both runs see the same network
    return model


def parts(step: int, sizes: tuple[int, int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    ids, labels = (x.cpu() for x in batch(sum(sizes), len(TASKS), seed=20 + step))  # gloo: CPU
    return [(ids[: sizes[0]], labels[: sizes[0]]), (ids[sizes[0] :], labels[sizes[0] :])]


def run(model: PLE, balancer: Balancer, losses_of: object) -> list[dict[str, np.ndarray]]:
    """STEPS steps of plain SGD; the Gram matrix, weights and every gradient of each step."""
    out = []
    for step in range(STEPS):
        model.zero_grad(set_to_none=True)
        report = balancer.backward(losses_of(step))  # type: ignore[operator]
        record = {"gram": report.gram, "weights": report.weights, "losses": report.losses}
        for name, p in model.named_parameters():
            assert p.grad is not None
            record[name] = p.grad.to_dense().numpy().copy()
        with torch.no_grad():
            for p in model.parameters():
                p.sub_(0.1 * p.grad.to_dense())  # type: ignore[union-attr]
        out.append(record)
    return out


SIZES = {"equal-halves": (24, 24), "unequal-halves": (30, 18)}


def rank_main(rank: int, init_file: str, out_dir: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    try:
        torch.set_num_threads(1)
        for case, sizes in SIZES.items():
            rank_case(rank, sizes, Path(out_dir) / f"{case}-rank{rank}.npz")
    finally:
        dist.destroy_process_group()


def rank_case(rank: int, sizes: tuple[int, int], out: Path) -> None:
    model = build()
    if rank == 1:
        # A different start on rank 1: the Balancer begins from rank 0's parameters.
        with torch.no_grad():
            for p in model.parameters():
                p.add_(1.0)
    balancer = Balancer(model, shared=model.shared(), tasks=TASKS, strategy="pcgrad")

    def local(step: int) -> list[torch.Tensor]:
        ids, labels = parts(step, sizes)[rank]
        return task_losses(model(ids), labels)

    records = run(model, balancer, local)
    np.savez(out, **{f"{i}/{key}": v for i, r in enumerate(records) for key, v in r.items()})


@pytest.fixture(scope="module")
def two_ranks() -> dict[str, dict[str, np.ndarray]]:
    """Both cases run by 2 ranks in one process group; each rank's records by case."""
    if not dist.is_available():
        pytest.fail("torch.distributed is not available in this torch build")
    with tempfile.TemporaryDirectory() as out_dir:
        mp.spawn(rank_main, args=(os.path.join(out_dir, "init"), out_dir), nprocs=2, join=True)
        return {
            f"{case}-rank{r}": dict(np.load(Path(out_dir) / f"{case}-rank{r}.npz")) for case in SIZES for r in range(2)
        }


@pytest.mark.parametrize("case", list(SIZES))
def test_two_ranks_give_the_gram_matrix_and_update_of_one_process_on_the_global_batch(
    case: str, two_ranks: dict[str, dict[str, np.ndarray]]
) -> None:
    sizes = SIZES[case]
    ranks = [two_ranks[f"{case}-rank{r}"] for r in range(2)]
    model = build()
    balancer = Balancer(model, shared=model.shared(), tasks=TASKS, strategy="pcgrad")

    def global_losses(step: int) -> list[torch.Tensor]:
        # DDP's global objective: the mean over ranks of each rank's mean loss.
        halves = [task_losses(model(ids), labels) for ids, labels in parts(step, sizes)]
        return [(a + b) / 2 for a, b in zip(*halves)]

    expected = run(model, balancer, global_losses)
    for step, record in enumerate(expected):
        for key, value in record.items():
            scale = max(1e-12, float(np.abs(value).max()))
            for r, got in enumerate(ranks):
                actual = got[f"{step}/{key}"]
                assert np.max(np.abs(actual - value)) <= 1e-5 * scale, f"rank {r} step {step + 1} {key}"
