"""The Balancer's per-task gradients are exact: its Gram matrix and update equal what K separate
backward passes give, on Shared-Bottom, MMoE and PLE-shaped models with embedding tables (dense and
sparse, a padding row, a table looked up twice), to float32 precision."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from gradcraft_studio.balance import Balancer
from models import MMoE, PLE, SharedBottom, batch, task_losses

TASKS = ["click", "like", "follow"]


def separate_passes(model: nn.Module, losses: list[Tensor]) -> dict[int, list[np.ndarray]]:
    """Each parameter's gradient for each task, from one ordinary backward pass per task (float64)."""
    per_task: dict[int, list[np.ndarray]] = {id(p): [] for p in model.parameters()}
    for loss in losses:
        model.zero_grad(set_to_none=True)
        loss.backward(retain_graph=True)
        for p in model.parameters():
            grad = torch.zeros_like(p) if p.grad is None else p.grad.to_dense()
            per_task[id(p)].append(grad.detach().double().numpy().copy())
    model.zero_grad(set_to_none=True)
    return per_task


def shared_params(model: nn.Module) -> list[nn.Parameter]:
    return [p for m in model.shared() for p in m.parameters()]


def reference_gram(model: nn.Module, per_task: dict[int, list[np.ndarray]]) -> np.ndarray:
    rows = np.stack([np.concatenate([per_task[id(p)][t].ravel() for p in shared_params(model)]) for t in range(len(TASKS))])
    return rows @ rows.T


def close(actual: np.ndarray, expected: np.ndarray, scale: float) -> bool:
    """Equal to float32 precision: every entry within 1e-5 of the largest magnitude involved."""
    return bool(np.max(np.abs(actual - expected)) <= 1e-5 * scale)


MODELS = {"shared-bottom": SharedBottom, "mmoe": MMoE, "ple": PLE}


@pytest.mark.parametrize("shape", list(MODELS))
@pytest.mark.parametrize("sparse", [False, True], ids=["dense-tables", "sparse-tables"])
@pytest.mark.parametrize("strategy", ["ew", "gradcraft", "uw"])
def test_gram_and_update_equal_k_separate_backward_passes(shape: str, sparse: bool, strategy: str) -> None:
    torch.manual_seed(0)
    model = MODELS[shape](len(TASKS), sparse=sparse)
    towers = {name: model.task_modules(t) for t, name in enumerate(TASKS)} if shape == "ple" else None
    balancer = Balancer(model, shared=model.shared(), tasks=TASKS, strategy=strategy, towers=towers)
    ids, labels = batch(64, len(TASKS), seed=1)
    losses = task_losses(model(ids), labels)
    per_task = separate_passes(model, losses)

    report = balancer.backward(losses)

    expected_gram = reference_gram(model, per_task)
    assert report.skipped is None
    assert close(report.gram, expected_gram, np.abs(expected_gram).max())
    alpha = report.weights
    tower = np.ones(len(TASKS)) if report.tower_weights is None else report.tower_weights
    shared_ids = {id(p) for p in shared_params(model)}
    for name, p in model.named_parameters():
        grads = per_task[id(p)]
        weights = alpha if id(p) in shared_ids else tower
        expected = sum(w * g for w, g in zip(weights, grads))
        actual = np.zeros_like(expected) if p.grad is None else p.grad.to_dense().double().numpy()
        scale = max(np.abs(g).max() for g in grads) * max(1.0, np.abs(weights).max())
        assert close(actual, expected, scale), name
        if sparse and isinstance(p.grad, Tensor) and p.grad.is_sparse:
            assert p.grad.shape == p.shape


def test_the_padding_row_and_unlooked_rows_of_a_table_get_no_gradient() -> None:
    torch.manual_seed(0)
    model = SharedBottom(len(TASKS))
    balancer = Balancer(model, shared=model.shared(), tasks=TASKS, strategy="ew")
    ids, labels = batch(16, len(TASKS), seed=2)
    balancer.backward(task_losses(model(ids), labels))
    context = model.embeddings.tables[2].weight.grad
    assert torch.count_nonzero(context[0]) == 0
    users = model.embeddings.tables[0].weight.grad
    untouched = sorted(set(range(users.shape[0])) - set(ids[:, 0].tolist()))
    assert untouched and torch.count_nonzero(users[untouched]) == 0


def test_no_table_is_ever_an_input_of_the_batched_call(monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(0)
    model = PLE(len(TASKS))
    balancer = Balancer(model, shared=model.shared(), tasks=TASKS)
    calls: list[tuple[int, set[int]]] = []
    original = torch.autograd.grad

    def spy(outputs: Tensor, inputs: list[Tensor], **kwargs: object) -> tuple[Tensor | None, ...]:
        calls.append((id(outputs), {id(x) for x in inputs}))
        return original(outputs, inputs, **kwargs)

    monkeypatch.setattr(torch.autograd, "grad", spy)
    ids, labels = batch(32, len(TASKS), seed=3)
    balancer.backward(task_losses(model(ids), labels))
    assert len(calls) == 1
    tables = {id(t.weight) for t in model.embeddings.tables}
    assert not (calls[0][1] & tables)


def test_stacked_losses_give_the_same_step_as_a_list() -> None:
    reports = []
    for stacked in (False, True):
        torch.manual_seed(0)
        model = MMoE(len(TASKS))
        balancer = Balancer(model, shared=model.shared(), tasks=TASKS, strategy="gradcraft")
        ids, labels = batch(32, len(TASKS), seed=4)
        losses = task_losses(model(ids), labels)
        reports.append(balancer.backward(torch.stack(losses) if stacked else losses))
    np.testing.assert_allclose(reports[0].gram, reports[1].gram, rtol=1e-6)
    np.testing.assert_allclose(reports[0].weights, reports[1].weights, rtol=1e-6)


def test_db_mtl_balances_the_gradients_of_log_losses() -> None:
    torch.manual_seed(0)
    model = SharedBottom(len(TASKS))
    balancer = Balancer(model, shared=model.shared(), tasks=TASKS, strategy="db-mtl")
    ids, labels = batch(32, len(TASKS), seed=5)
    losses = task_losses(model(ids), labels)
    logs = separate_passes(model, [torch.log(loss + 1e-8) for loss in losses])
    report = balancer.backward(losses)
    expected = reference_gram(model, logs)
    assert close(report.gram, expected, np.abs(expected).max())
    np.testing.assert_allclose(report.losses, [loss.item() for loss in losses], rtol=1e-6)
