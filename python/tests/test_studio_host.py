"""A host that disappears, or a SIGTERM: the run goes on and is recorded, or ends cleanly."""

from __future__ import annotations

import os

from hosts import SpawnedTrainer


def test_a_host_that_disappears_mid_run_leaves_the_run_going_and_fully_recorded(tmp_path):
    trainer = SpawnedTrainer(tmp_path, epochs=2)
    trainer.wait_for(lambda m: m["type"] == "step")
    trainer.disappear()
    assert trainer.process.wait(60) == 0, trainer.process.stderr.read().decode()
    events = trainer.events()
    assert events[-1]["type"] == "done" and events[-1]["reason"] == "completed"
    steps = [m["step"] for m in events if m["type"] == "step"]
    assert steps == list(range(1, len(steps) + 1)) and len(steps) > 100, "every step is in the log"
    assert b"the host stopped reading the link" in trainer.process.stderr.read()


def test_a_host_that_disappears_while_the_run_is_paused_ends_it_cleanly(tmp_path):
    trainer = SpawnedTrainer(tmp_path, epochs=1000)
    trainer.wait_for(lambda m: m["type"] == "step")
    trainer.send({"type": "pause", "id": "p"})
    trainer.wait_for(lambda m: m["type"] == "paused")
    trainer.disappear()
    assert trainer.process.wait(60) == 0, trainer.process.stderr.read().decode()
    events = trainer.events()
    assert events[-1]["type"] == "done" and events[-1]["reason"] == "stopped"
    assert any(m["type"] == "log" and "the host is gone while the run was paused" in m["message"] for m in events)


def test_sigterm_ends_the_script_with_its_run_recorded_as_stopped(tmp_path):
    trainer = SpawnedTrainer(tmp_path, epochs=1000)
    trainer.wait_for(lambda m: m["type"] == "step")
    trainer.process.terminate()
    assert trainer.process.wait(60) == 128 + 15
    events = trainer.events()
    assert events[-1]["type"] == "done" and events[-1]["reason"] == "stopped"
    assert os.path.exists(os.path.join(trainer.messages[0]["runDir"], "summary.json"))
