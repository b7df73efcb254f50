"""Bad input to the Balancer: a clear error or a skipped step naming the task, nothing applied."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch
from torch import Tensor

from gradcraft_studio.balance import Balancer
from models import SharedBottom, batch, task_losses

TASKS = ["click", "like", "follow"]


class NanGradient(torch.autograd.Function):
    """Identity forward, NaN backward: a finite loss with a non-finite gradient."""

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        (x,) = args
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        (grad,) = grads
        return torch.full_like(grad, math.nan)


def make(strategy: str = "uw") -> tuple[SharedBottom, Balancer, Tensor, Tensor]:
    torch.manual_seed(0)
    model = SharedBottom(len(TASKS))
    balancer = Balancer(model, shared=model.shared(), tasks=TASKS, strategy=strategy)
    ids, labels = batch(32, len(TASKS), seed=7)
    return model, balancer, ids, labels


def nothing_applied(model: SharedBottom) -> bool:
    return all(p.grad is None for p in model.parameters())


def test_a_non_finite_loss_skips_the_step_naming_the_task_leaving_no_gradient_and_the_state() -> None:
    model, balancer, ids, labels = make()
    state = balancer.state_dict()["state"]
    losses = task_losses(model(ids), labels)
    losses[1] = losses[1] * math.inf
    for p in model.parameters():
        p.grad = torch.zeros_like(p)  # what zero_grad(set_to_none=False) leaves
    report = balancer.backward(losses)
    assert report.skipped is not None and '"like"' in report.skipped and "loss" in report.skipped
    assert report.skipped_task == 1
    assert nothing_applied(model)
    assert balancer.state_dict()["state"] == state
    # The next step trains again.
    report = balancer.backward(task_losses(model(ids), labels))
    assert report.skipped is None and report.step == 2
    assert not nothing_applied(model)


def test_a_non_finite_shared_gradient_skips_the_step_naming_the_task() -> None:
    model, balancer, ids, labels = make()
    z = model.bottom(model.embeddings(ids))
    losses = task_losses([tower(z).squeeze(1) for tower in model.towers], labels)
    # A finite loss whose gradient is not: d log(x)/dx = 1/x overflows float32 at x = 1e-45.
    losses[2] = losses[2] + 1e-3 * torch.log(torch.tensor(1e-45) + 0 * z.sum())
    assert all(torch.isfinite(loss) for loss in losses)
    report = balancer.backward(losses)
    assert report.skipped_task == 2
    assert report.skipped == 'task "follow": its gradient of the shared parameters is not finite: step skipped'
    assert nothing_applied(model)


class NanInBackward(torch.nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return NanGradient.apply(x)


def test_a_non_finite_gradient_in_the_shared_modules_skips_the_step_for_every_task_saying_so() -> None:
    # In the batched pass through the shared modules a NaN of one task (here of all) reaches every
    # task, so no single culprit can be named.
    torch.manual_seed(0)
    model = SharedBottom(len(TASKS))
    model.bottom.append(NanInBackward())
    balancer = Balancer(model, shared=model.shared(), tasks=TASKS)
    ids, labels = batch(32, len(TASKS), seed=7)
    report = balancer.backward(task_losses(model(ids), labels))
    assert report.skipped == (
        "every task's gradient of the shared parameters is not finite (click, like, follow): step skipped"
    )
    assert report.skipped_task is None
    assert nothing_applied(model)


def test_a_non_finite_tower_gradient_skips_the_step_naming_the_task() -> None:
    model, balancer, ids, labels = make()
    losses = task_losses(model(ids), labels)
    weight = model.towers[0][-1].weight
    losses[0] = losses[0] + 1e-3 * torch.log(torch.tensor(1e-45) + 0 * weight.sum())
    report = balancer.backward(losses)
    assert report.skipped_task == 0
    assert report.skipped == 'task "click": its gradient of its own parameters is not finite: step skipped'
    assert nothing_applied(model)


def test_a_loss_that_does_not_reach_the_shared_parameters_is_an_error_naming_the_task() -> None:
    model, balancer, ids, labels = make()
    z = model.bottom(model.embeddings(ids))
    logits = [tower(z.detach() if t == 1 else z).squeeze(1) for t, tower in enumerate(model.towers)]
    with pytest.raises(ValueError, match='task "like": its loss does not depend on the shared parameters'):
        balancer.backward(task_losses(logits, labels))
    assert nothing_applied(model)


def test_a_loss_that_stops_reaching_the_shared_parameters_later_is_caught_by_its_zero_gradient() -> None:
    model, balancer, ids, labels = make("ew")
    balancer.backward(task_losses(model(ids), labels))
    model.zero_grad(set_to_none=True)
    z = model.bottom(model.embeddings(ids))
    logits = [tower(z.detach() if t == 2 else z).squeeze(1) for t, tower in enumerate(model.towers)]
    with pytest.raises(ValueError, match='task "follow": its loss does not depend'):
        balancer.backward(task_losses(logits, labels))


def test_a_constant_loss_is_an_error_naming_the_task() -> None:
    model, balancer, ids, labels = make()
    losses = task_losses(model(ids), labels)
    losses[2] = torch.tensor(0.5)
    with pytest.raises(ValueError, match='task "follow": its loss does not depend on the shared parameters'):
        balancer.backward(losses)


def test_the_wrong_number_of_losses_is_an_error_listing_the_tasks() -> None:
    model, balancer, ids, labels = make()
    with pytest.raises(ValueError, match=r"expected 3 task losses \(click, like, follow\), got 2"):
        balancer.backward(task_losses(model(ids), labels)[:2])


def test_bad_strategies_and_parameters_are_refused_and_the_current_one_stays() -> None:
    _, balancer, _, _ = make("gradcraft")
    with pytest.raises(ValueError, match='unknown strategy "gradcraftt"'):
        balancer.set_strategy("gradcraftt")
    with pytest.raises(ValueError, match='strategy "gradcraft": parameter "tau": must be <= 1, got 2'):
        balancer.set_strategy("gradcraft", {"tau": 2})
    with pytest.raises(ValueError, match='unknown parameter "beta" for strategy "gradcraft"'):
        balancer.set_strategy("gradcraft", {"beta": 1})
    assert balancer.strategy == "gradcraft" and balancer.params == {"tau": 1, "eps": 0, "projection": "global"}


def test_towers_must_name_tasks_and_not_hold_shared_parameters() -> None:
    model = SharedBottom(len(TASKS))
    with pytest.raises(ValueError, match='towers: "view" is not a task'):
        Balancer(model, shared=model.shared(), tasks=TASKS, towers={"view": model.towers[0]})
    with pytest.raises(ValueError, match=r'towers\["click"\]: holds a parameter that is also in shared'):
        Balancer(model, shared=model.shared(), tasks=TASKS, towers={"click": model.bottom})


def test_a_switch_starts_a_fresh_state_new_parameters_may_carry_it_and_state_dict_resumes_a_run() -> None:
    model, balancer, ids, labels = make("uw")
    balancer.backward(task_losses(model(ids), labels))
    saved = balancer.state_dict()
    assert saved["strategy"] == "uw" and saved["step"] == 1
    assert saved["state"]["moments"]["t"] == 1
    model.zero_grad(set_to_none=True)
    following = balancer.backward(task_losses(model(ids), labels))

    balancer.close()
    resumed = Balancer(model, shared=model.shared(), tasks=TASKS, strategy="ew")
    resumed.load_state_dict(saved)
    model.zero_grad(set_to_none=True)
    again = resumed.backward(task_losses(model(ids), labels))
    np.testing.assert_array_equal(again.weights, following.weights)
    assert again.step == following.step == 2

    balancer = resumed
    balancer.set_strategy("uw", {"lr": 0.01}, carry_state=True)
    assert balancer.state_dict()["state"]["moments"]["t"] == 2 and balancer.params["lr"] == 0.01
    balancer.set_strategy("uw")
    assert balancer.state_dict()["state"]["moments"]["t"] == 0
    balancer.set_strategy("dwa", carry_state=True)
    assert balancer.state_dict()["state"]["windowSteps"] == 0


def test_a_second_balancer_on_the_same_model_is_refused_until_the_first_is_closed() -> None:
    model, balancer, _, _ = make()
    with pytest.raises(ValueError, match="another Balancer is attached to it"):
        Balancer(model, shared=model.shared(), tasks=TASKS)
    balancer.close()
    Balancer(model, shared=model.shared(), tasks=TASKS).close()


def test_outputs_dropped_without_a_backward_do_not_keep_their_graphs() -> None:
    # An evaluation loop that forgot torch.no_grad: each forward's cut dies with its outputs.
    model, balancer, ids, labels = make("ew")
    for _ in range(5):
        task_losses(model(ids), labels)
    assert len(balancer._boundary.cuts) <= 1
    report = balancer.backward(task_losses(model(ids), labels))
    assert report.skipped is None
