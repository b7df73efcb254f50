"""What only a GPU can show (run by python/gpu_check/run.sh on a machine with CUDA; never part of
the CPU suite): one copy leaves the device per step and nothing else waits for it."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

from gradcraft_studio import Balancer
from models import MMoE, PLE, SharedBottom, batch, task_losses

TASKS = ["click", "like", "follow"]

if not torch.cuda.is_available():
    pytest.fail("the GPU check needs CUDA: torch.cuda.is_available() is False", pytrace=False)


def synchronisations(step: object) -> list[str]:
    """Messages of the synchronising CUDA operations ``step()`` performs."""
    torch.cuda.synchronize()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            step()  # type: ignore[operator]
        finally:
            torch.cuda.set_sync_debug_mode("default")
    return [str(w.message) for w in caught if "synchroniz" in str(w.message).lower()]


@pytest.mark.parametrize("model_class", [SharedBottom, MMoE, PLE], ids=["shared-bottom", "mmoe", "ple"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense-tables", "sparse-tables"])
@pytest.mark.parametrize("strategy", ["gradcraft", "uw"])
def test_one_copy_leaves_the_device_per_step(model_class: type, sparse: bool, strategy: str) -> None:
    torch.manual_seed(0)
    model = model_class(len(TASKS), sparse=sparse).cuda()
    balancer = Balancer(model, shared=model.shared(), tasks=TASKS, strategy=strategy)
    for step in range(3):
        ids, labels = batch(256, len(TASKS), seed=step)
        ids, labels = ids.cuda(), labels.cuda()
        losses = task_losses(model(ids), labels)
        model.zero_grad(set_to_none=True)
        found = synchronisations(lambda: balancer.backward(losses))
        if step > 0:  # the first step also learns the model's structure
            assert len(found) == 1, found
    assert all(p.grad is None or p.grad.is_cuda for p in model.parameters())


def test_a_non_finite_loss_on_the_gpu_skips_the_step_naming_the_task() -> None:
    torch.manual_seed(0)
    model = PLE(len(TASKS)).cuda()
    balancer = Balancer(model, shared=model.shared(), tasks=TASKS)
    ids, labels = batch(64, len(TASKS), seed=1)
    losses = task_losses(model(ids.cuda()), labels.cuda())
    losses[2] = losses[2] * math.nan
    report = balancer.backward(losses)
    assert report.skipped_task == 2 and '"follow"' in (report.skipped or "")
    assert all(p.grad is None for p in model.parameters())


def test_a_whole_studio_step_adds_no_synchronisation_to_the_balancers_one_copy(tmp_path) -> None:
    """backward (with clipping), the optimizer and end_step (the step message, the run folder):
    the link works on the host copy the Balancer already made."""
    from gradcraft_studio import Studio

    torch.manual_seed(0)
    model = PLE(len(TASKS)).cuda()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    with Studio(
        model, shared=model.shared(), tasks=TASKS, optimizer=optimizer, clip_norm=1.0,
        runs_folder=str(tmp_path), stdio=False, listen=False,
    ) as studio:
        for step in range(3):
            ids, labels = batch(256, len(TASKS), seed=step)
            losses = task_losses(model(ids.cuda()), labels.cuda())

            def whole_step() -> None:
                studio.backward(losses)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                studio.end_step()

            found = synchronisations(whole_step)
            if step > 0:
                assert len(found) == 1, found
        assert studio.step == 3
