"""Where the loop owns an action, VS Code's command calls the script's callback (docs/pytorch.md)."""

from __future__ import annotations

import os
import threading
import time

import torch

from gradcraft_studio import Studio
from hosts import AttachedHost
from test_studio import TASKS, TwoTowers, losses_of


def test_checkpoint_and_evaluate_commands_call_the_scripts_callbacks_and_a_failing_one_is_refused(tmp_path, no_host):
    torch.manual_seed(0)
    model = TwoTowers()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(32, 4), torch.randint(0, 2, (32, 2)).float()
    saved: list[int] = []
    fail = threading.Event()

    def on_checkpoint(step: int, folder: str) -> None:
        if fail.is_set():
            with open(os.path.join(folder, "half-written"), "w") as file:
                file.write("x")
            raise OSError("disk full")
        saved.append(step)
        torch.save(model.state_dict(), os.path.join(folder, "weights.pt"))

    def on_evaluate(split: str):
        with torch.no_grad():
            return torch.sigmoid(model(x)), y, torch.arange(32) % 4

    studio = Studio(
        model, shared=model.bottom, tasks=TASKS, optimizer=optimizer, runs_folder=str(tmp_path), stdio=False,
        listen=True, on_checkpoint=on_checkpoint, on_evaluate=on_evaluate, name="callbacks",
    )

    def train() -> None:
        with studio:
            while True:
                studio.backward(losses_of(model, x, y))
                optimizer.step()
                optimizer.zero_grad()
                time.sleep(0.005)
                if not studio.end_step():
                    break

    loop = threading.Thread(target=train)
    loop.start()
    run_dir = studio.run_dir
    assert run_dir is not None
    host = AttachedHost(run_dir)
    try:
        host.wait_for(lambda m: m["type"] == "step" and m["step"] >= 2)
        saved_ack = host.send({"type": "checkpoint"})
        assert saved_ack["ok"] is True, saved_ack
        path = saved_ack["result"]["path"]
        assert path == f"checkpoints/step-{saved_ack['step']}" and saved == [saved_ack["step"]]
        assert os.listdir(os.path.join(run_dir, path)) == ["weights.pt"]
        evaluated = host.send({"type": "evaluate", "split": "validation"})
        assert evaluated["ok"] is True, evaluated
        scored = host.wait_for(lambda m: m["type"] == "eval" and m["split"] == "validation" and m["step"] == evaluated["step"])
        assert [t["task"] for t in scored["tasks"]] == TASKS and scored["tasks"][0]["gauc"] is not None

        fail.set()
        refused = host.send({"type": "checkpoint"})
        assert refused["ok"] is False and refused["error"] == "OSError: disk full"
        after = host.wait_for(lambda m: m["type"] == "step" and m["step"] > refused["step"])
        assert after, "the run goes on"
        host.send({"type": "stop"})
    finally:
        loop.join(60)
    assert not loop.is_alive()
    # Closed on the loop's thread (not the main one): done and summary.json are still written.
    done = host.wait_for(lambda m: m["type"] == "done")
    assert done["reason"] == "stopped" and os.path.exists(os.path.join(run_dir, "summary.json"))
    assert sorted(os.listdir(os.path.join(run_dir, "checkpoints"))) == [f"step-{saved_ack['step']}"], (
        "a failed checkpoint leaves no folder behind"
    )
    host.close()
