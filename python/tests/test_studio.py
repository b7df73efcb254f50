"""Studio without VS Code: the run folder it leaves, and bad input (docs/pytorch.md)."""

from __future__ import annotations

import json
import os

import pytest
import torch
from torch import nn

from gradcraft_studio import Studio
from gradcraft_studio.launch import ConfigError
from gradcraft_studio.link.protocol import Parsed, parse_trainer_message

TASKS = ["click", "like"]


class TwoTowers(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.bottom = nn.Sequential(nn.Linear(4, 8), nn.Tanh())
        self.towers = nn.ModuleList(nn.Linear(8, 1) for _ in TASKS)

    def forward(self, x):
        h = self.bottom(x)
        return torch.cat([tower(h) for tower in self.towers], 1)


def losses_of(model, x, y):
    return nn.functional.binary_cross_entropy_with_logits(model(x), y, reduction="none").mean(0)


@pytest.fixture
def setup(tmp_path, no_host):
    torch.manual_seed(0)
    model = TwoTowers()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    x, y = torch.randn(32, 4), torch.randint(0, 2, (32, 2)).float()
    return model, optimizer, x, y, str(tmp_path / "runs")


def studio_for(model, optimizer, runs, **options):
    return Studio(model, shared=model.bottom, tasks=TASKS, optimizer=optimizer, runs_folder=runs, listen=False, stdio=False, **options)


def events(run_dir):
    with open(os.path.join(run_dir, "events.ndjson")) as file:
        return [json.loads(line) for line in file]


def test_without_vs_code_it_writes_the_run_folder_that_replay_reads(setup):
    model, optimizer, x, y, runs = setup
    with studio_for(model, optimizer, runs, name="plain", strategy="gradcraft", params={"tau": 0.5}) as studio:
        for _ in range(3):
            studio.backward(losses_of(model, x, y))
            optimizer.step()
            optimizer.zero_grad()
            assert studio.end_step()
        with torch.no_grad():
            studio.evaluate("validation", torch.sigmoid(model(x)), y, users=torch.arange(32) % 4)
    run_dir = studio.run_dir
    assert sorted(os.listdir(run_dir)) == ["checkpoints", "config.json", "events.ndjson", "summary.json"]
    messages = events(run_dir)
    assert [m["type"] for m in messages] == ["hello", "config", "strategy-changed", "step", "step", "step", "eval", "done"]
    for m in messages:
        assert isinstance(parse_trainer_message(m), Parsed), m["type"]
    config = json.load(open(os.path.join(run_dir, "config.json")))
    assert config["name"] == "plain"
    assert config["strategy"] == {"name": "gradcraft", "params": messages[2]["params"]}
    assert config["training"]["learningRate"] == 0.01
    summary = json.load(open(os.path.join(run_dir, "summary.json")))
    assert summary == messages[-1]["summary"]
    assert summary["steps"] == 3 and summary["bestStep"] == 3
    assert [t["task"] for t in summary["splits"]["validation"]["tasks"]] == TASKS


def test_a_non_finite_loss_skips_the_step_naming_the_task_and_leaves_the_weights_unchanged(setup):
    model, optimizer, x, y, runs = setup
    with studio_for(model, optimizer, runs, max_non_finite_steps=3) as studio:
        studio.backward(losses_of(model, x, y))
        optimizer.step()
        optimizer.zero_grad()  # torch 1.13 leaves zero gradients: Adam would still move by momentum
        studio.end_step()
        before = [p.detach().clone() for p in model.parameters()]
        results = []
        for _ in range(3):
            losses = losses_of(model, x, y)
            studio.backward(torch.stack([losses[0], losses[1] * float("nan")]))
            optimizer.step()
            optimizer.zero_grad()
            results.append(studio.end_step())
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters())), "skipped steps move nothing"
    assert results == [True, True, False], "the third non-finite step in a row stops the run"
    messages = events(studio.run_dir)
    errors = [m for m in messages if m["type"] == "error"]
    assert [e["fatal"] for e in errors] == [False, False, True]
    assert all(e["task"] == 1 and "like" in e["message"] for e in errors)
    assert [m["step"] for m in messages if m["type"] == "step"] == [1]
    assert messages[-1]["type"] == "done" and messages[-1]["reason"] == "failed"


def test_an_exception_in_the_loop_ends_the_run_as_failed_with_its_folder_intact(setup):
    model, optimizer, x, y, runs = setup
    with pytest.raises(RuntimeError, match="data loader died"):
        with studio_for(model, optimizer, runs) as studio:
            studio.backward(losses_of(model, x, y))
            optimizer.step()
            studio.end_step()
            raise RuntimeError("data loader died")
    messages = events(studio.run_dir)
    assert messages[-2]["type"] == "error" and messages[-2]["fatal"] is True
    assert "RuntimeError: data loader died" in messages[-2]["message"]
    assert messages[-1] == {**messages[-1], "type": "done", "reason": "failed"}
    assert json.load(open(os.path.join(studio.run_dir, "summary.json")))["steps"] == 1


def test_a_task_loss_that_does_not_depend_on_the_shared_part_is_an_error_naming_the_task(setup):
    model, optimizer, x, y, runs = setup
    with pytest.raises(ValueError, match='task "like"'):
        with studio_for(model, optimizer, runs) as studio:
            click = losses_of(model, x, y)[0]
            like = model.towers[1](torch.randn(32, 8)).mean()  # skips the bottom
            studio.backward([click, like])
    assert events(studio.run_dir)[-1]["reason"] == "failed"


def test_bad_strategy_choices_are_refused_before_anything_is_written(setup):
    model, optimizer, _, _, runs = setup
    with pytest.raises(ValueError, match='unknown strategy "gradcrafts"'):
        studio_for(model, optimizer, runs, strategy="gradcrafts")
    with pytest.raises(ValueError, match="tau"):
        studio_for(model, optimizer, runs, strategy="gradcraft", params={"tau": 3})
    assert not os.path.exists(runs)


def test_a_config_file_overrides_the_scripts_choices_and_bad_ones_say_where(setup, tmp_path):
    model, optimizer, _, _, runs = setup
    config = tmp_path / "run.gradcraft.json"
    config.write_text(
        '{\n  // the editor allows comments\n  "name": "from-config",\n'
        '  "strategy": {"name": "pcgrad"},\n  "training": {"learningRate": 0.002, "evalEvery": 7}\n}\n'
    )
    with studio_for(model, optimizer, runs, config=str(config), strategy="ew") as studio:
        assert studio.balancer.strategy == "pcgrad"
        assert optimizer.param_groups[0]["lr"] == 0.002
        assert studio.eval_every == 7
    assert os.path.basename(studio.run_dir).endswith("-from-config")
    config.write_text('{\n  "name": "x",\n  "training": {"learningRate": 3}\n}\n')
    with pytest.raises(ConfigError, match=r"training\.learningRate: must be <= 1, got 3"):
        studio_for(model, optimizer, runs, config=str(config))
    config.write_text('{\n  "name": "x",,\n}\n')
    with pytest.raises(ConfigError, match=r"run\.gradcraft\.json:2:15: not valid JSON"):
        studio_for(model, optimizer, runs, config=str(config))
