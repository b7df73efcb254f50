"""Started by VS Code under torchrun, every rank shares the host's stdout: only rank 0 writes the link there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

RANK = r"""
import sys, torch, torch.distributed as dist
from torch import nn
dist.init_process_group("gloo", init_method=sys.argv[1], rank=int(sys.argv[2]), world_size=2)
from gradcraft_studio import Studio
torch.manual_seed(0)
bottom, tower = nn.Linear(4, 4), nn.Linear(4, 2)
with Studio(nn.Sequential(bottom, tower), shared=bottom, tasks=["a", "b"], listen=False, max_steps=2) as studio:
    print("a print from rank", dist.get_rank())
    while True:
        out = tower(bottom(torch.randn(8, 4)))
        studio.backward([out[:, 0].square().mean(), out[:, 1].square().mean()])
        if not studio.end_step():
            break
dist.destroy_process_group()
"""


def test_only_rank_0_writes_to_stdout_and_the_other_ranks_prints_go_to_stderr(tmp_path, no_host):
    package = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "GRADCRAFT_PROTOCOL": "stdio", "GRADCRAFT_RUNS_FOLDER": str(tmp_path / "runs")}
    env["PYTHONPATH"] = package + os.pathsep + env.get("PYTHONPATH", "")
    init = f"file://{tmp_path}/rendezvous"
    ranks = [
        subprocess.Popen(
            [sys.executable, "-c", RANK, init, str(rank)], env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        for rank in range(2)
    ]
    (out0, err0), (out1, err1) = (rank.communicate(timeout=120) for rank in ranks)
    assert [rank.returncode for rank in ranks] == [0, 0], (err0.decode(), err1.decode())
    messages = [json.loads(line) for line in out0.decode().splitlines()]
    assert messages[0]["type"] == "hello" and messages[-1]["type"] == "done"
    assert out1 == b"", "rank 1 wrote nothing where the host reads the link"
    assert b"a print from rank 1" in err1 and b"a print from rank 0" in err0
