"""Under torch.distributed, rank 0 alone streams, and every rank applies each command at the same step."""

from __future__ import annotations

import json
import os
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from hosts import AttachedHost

TASKS = ["click", "like"]


def train(rank: int, world: int, folder: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{folder}/rendezvous", rank=rank, world_size=world)
    from gradcraft_studio import Studio

    torch.manual_seed(rank)
    bottom = nn.Sequential(nn.Linear(4, 8), nn.Tanh())
    towers = nn.ModuleList(nn.Linear(8, 1) for _ in TASKS)
    model = nn.ModuleDict({"bottom": bottom, "towers": towers})
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    seen = []
    with Studio(model, shared=bottom, tasks=TASKS, optimizer=optimizer, runs_folder=f"{folder}/runs", stdio=False, name="ddp") as studio:
        while True:
            x, y = torch.randn(16, 4), torch.randint(0, 2, (16, 2)).float()
            h = bottom(x)
            logits = torch.cat([tower(h) for tower in towers], 1)
            studio.backward(nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="none").mean(0))
            optimizer.step()
            optimizer.zero_grad()
            seen.append([studio.step + 1, studio.balancer.strategy, optimizer.param_groups[0]["lr"]])
            time.sleep(0.005)
            if not studio.end_step():
                break
    with open(f"{folder}/rank{rank}.json", "w") as file:
        json.dump({"seen": seen, "run_dir": studio.run_dir}, file)
    dist.destroy_process_group()


def test_rank_0_streams_alone_and_every_rank_switches_at_the_same_step(tmp_path):
    folder = str(tmp_path)
    context = mp.start_processes(train, args=(2, folder), nprocs=2, join=False, start_method="spawn")
    runs = os.path.join(folder, "runs")
    deadline = time.monotonic() + 60
    while not (os.path.isdir(runs) and os.listdir(runs) and os.path.exists(os.path.join(runs, os.listdir(runs)[0], "link.json"))):
        assert time.monotonic() < deadline, "rank 0 never started listening"
        time.sleep(0.05)
    run_dir = os.path.join(runs, os.listdir(runs)[0])
    host = AttachedHost(run_dir)
    host.wait_for(lambda m: m["type"] == "step" and m["step"] >= 3)
    switched = host.send({"type": "set-strategy", "name": "pcgrad"})
    slower = host.send({"type": "set-hyperparameters", "learningRate": 0.05})
    paused = host.send({"type": "pause"})
    time.sleep(2.5)  # longer than the pause tick: the other rank waits in step with rank 0
    resumed = host.send({"type": "resume"})
    host.wait_for(lambda m: m["type"] == "step" and m["step"] > resumed["step"] + 2)
    host.send({"type": "stop"})
    while not context.join(timeout=60):
        pass
    host.close()

    ranks = [json.load(open(os.path.join(folder, f"rank{r}.json"))) for r in range(2)]
    assert ranks[0]["seen"] == ranks[1]["seen"], "both ranks used the same strategy and rate at every step"
    for step, strategy, lr in ranks[0]["seen"]:
        assert strategy == ("pcgrad" if step > switched["step"] else "gradcraft"), step
        assert lr == (0.05 if step > slower["step"] else 0.1), step
    assert paused["step"] == resumed["step"]
    assert ranks[1]["run_dir"] is None and os.listdir(runs) == [os.path.basename(run_dir)], "rank 1 records nothing"
    steps = [m for m in host.messages if m["type"] == "step"]
    assert len({m["step"] for m in steps}) == len(steps), "one step message per step: rank 0's alone"
