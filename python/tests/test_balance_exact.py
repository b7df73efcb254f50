"""The Balancer's per-task gradients are exact: its Gram matrix and update equal what K separate
backward passes give, on Shared-Bottom, MMoE and PLE-shaped models with embedding tables (dense and
sparse, a padding row, a table looked up twice), to float32 precision. On the CPU, or on
GRADCRAFT_TEST_DEVICE (python/gpu_check/run.sh sets "cuda")."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from gradcraft_studio.balance import Balancer
from models import DEVICE, MMoE, PLE, SharedBottom, batch, task_losses

TASKS = ["click", "like", "follow"]


def separate_passes(model: nn.Module, losses: list[Tensor]) -> dict[str, list[np.ndarray]]:
    """Each parameter's gradient for each task, from one ordinary backward pass per task (float64),
    by parameter name. ``model`` is a copy no Balancer is attached to."""
    per_task: dict[str, list[np.ndarray]] = {name: [] for name, _ in model.named_parameters()}
    for loss in losses:
        model.zero_grad(set_to_none=True)
        loss.backward(retain_graph=True)
        for name, p in model.named_parameters():
            grad = torch.zeros_like(p) if p.grad is None else p.grad.to_dense()
            per_task[name].append(grad.detach().double().cpu().numpy().copy())
    model.zero_grad(set_to_none=True)
    return per_task


def twin(
    model: nn.Module, ids: Tensor, labels: Tensor, transform: Callable[[Tensor], Tensor] | None = None
) -> dict[str, list[np.ndarray]]:
    """The per-task gradients of a copy of ``model`` on the same batch, with the same dropout masks
    (the seed is set before both forward passes)."""
    reference = copy.deepcopy(model)
    torch.manual_seed(99)
    losses = task_losses(reference(ids), labels)
    if transform is not None:
        losses = [transform(loss) for loss in losses]
    return separate_passes(reference, losses)


def shared_names(model: nn.Module) -> list[str]:
    ids = {id(p) for m in model.shared() for p in m.parameters()}  # type: ignore[operator]
    return [name for name, p in model.named_parameters() if id(p) in ids]


def reference_gram(model: nn.Module, per_task: dict[str, list[np.ndarray]]) -> np.ndarray:
    names = shared_names(model)
    rows = np.stack([np.concatenate([per_task[name][t].ravel() for name in names]) for t in range(len(TASKS))])
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
    model = MODELS[shape](len(TASKS), sparse=sparse).to(DEVICE)
    towers = {name: model.task_modules(t) for t, name in enumerate(TASKS)} if shape == "ple" else None
    ids, labels = batch(64, len(TASKS), seed=1)
    per_task = twin(model, ids, labels)
    balancer = Balancer(model, shared=model.shared(), tasks=TASKS, strategy=strategy, towers=towers)
    torch.manual_seed(99)
    report = balancer.backward(task_losses(model(ids), labels))

    expected_gram = reference_gram(model, per_task)
    assert report.skipped is None
    assert close(report.gram, expected_gram, np.abs(expected_gram).max())
    alpha = report.weights
    tower = np.ones(len(TASKS)) if report.tower_weights is None else report.tower_weights
    shared = set(shared_names(model))
    for name, p in model.named_parameters():
        grads = per_task[name]
        weights = alpha if name in shared else tower
        expected = sum(w * g for w, g in zip(weights, grads))
        actual = np.zeros_like(expected) if p.grad is None else p.grad.to_dense().double().cpu().numpy()
        scale = max(np.abs(g).max() for g in grads) * max(1.0, np.abs(weights).max())
        assert close(actual, expected, scale), name
        if sparse and isinstance(p.grad, Tensor) and p.grad.is_sparse:
            assert p.grad.shape == p.shape


def test_shared_parameters_given_as_bare_tensors_take_the_batched_pass_and_are_exact(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No module to cut: one batched call from the K losses through the whole graph.
    torch.manual_seed(0)
    model = PLE(len(TASKS)).to(DEVICE)
    ids, labels = batch(48, len(TASKS), seed=9)
    per_task = twin(model, ids, labels)
    shared = [*model.embeddings.parameters(), *model.shared_expert.parameters()]
    balancer = Balancer(model, shared=shared, tasks=TASKS, strategy="gradcraft")
    calls: list[bool] = []
    original = torch.autograd.grad

    def spy(outputs: Tensor, inputs: list[Tensor], **kwargs: Any) -> tuple[Tensor | None, ...]:
        calls.append(bool(kwargs.get("is_grads_batched")))
        return original(outputs, inputs, **kwargs)

    monkeypatch.setattr(torch.autograd, "grad", spy)
    torch.manual_seed(99)
    report = balancer.backward(task_losses(model(ids), labels))
    assert calls == [True]
    expected = reference_gram(model, per_task)
    assert close(report.gram, expected, np.abs(expected).max())
    for name, p in model.named_parameters():
        weights = report.weights if name.startswith(("embeddings", "shared_expert")) else np.ones(len(TASKS))
        grads = per_task[name]
        expected_grad = sum(w * g for w, g in zip(weights, grads))
        scale = max(np.abs(g).max() for g in grads) * max(1.0, np.abs(weights).max())
        assert p.grad is not None
        assert close(p.grad.to_dense().double().cpu().numpy(), expected_grad, scale), name


def test_the_padding_row_and_unlooked_rows_of_a_table_get_no_gradient() -> None:
    torch.manual_seed(0)
    model = SharedBottom(len(TASKS)).to(DEVICE)
    balancer = Balancer(model, shared=model.shared(), tasks=TASKS, strategy="ew")
    ids, labels = batch(16, len(TASKS), seed=2)
    balancer.backward(task_losses(model(ids), labels))
    context = model.embeddings.tables[2].weight.grad
    assert torch.count_nonzero(context[0]) == 0
    users = model.embeddings.tables[0].weight.grad
    untouched = sorted(set(range(users.shape[0])) - set(ids[:, 0].tolist()))
    assert untouched and torch.count_nonzero(users[untouched]) == 0


def test_ple_takes_one_plain_call_per_task_and_one_batched_call_and_never_a_table(monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(0)
    model = PLE(len(TASKS)).to(DEVICE)
    balancer = Balancer(model, shared=model.shared(), tasks=TASKS)
    calls: list[tuple[bool, set[int]]] = []
    original = torch.autograd.grad

    def spy(outputs: Tensor, inputs: list[Tensor], **kwargs: Any) -> tuple[Tensor | None, ...]:
        calls.append((bool(kwargs.get("is_grads_batched")), {id(x) for x in inputs}))
        return original(outputs, inputs, **kwargs)

    monkeypatch.setattr(torch.autograd, "grad", spy)
    for step in range(2):
        ids, labels = batch(32, len(TASKS), seed=3 + step)
        balancer.backward(task_losses(model(ids), labels))
    assert [batched for batched, _ in calls] == [False, False, False, True] * 2
    tables = {id(t.weight) for t in model.embeddings.tables}
    assert all(not (inputs & tables) for _, inputs in calls)
    # The batched call reaches the shared expert, not the task experts.
    task_expert = {id(p) for p in model.task_experts.parameters()}
    assert not (calls[3][1] & task_expert)


def test_a_plain_backward_through_an_attached_balancer_is_refused_naming_the_fix() -> None:
    torch.manual_seed(0)
    model = SharedBottom(len(TASKS)).to(DEVICE)
    balancer = Balancer(model, shared=model.shared(), tasks=TASKS)
    ids, labels = batch(16, len(TASKS), seed=6)
    torch.stack(task_losses(model(ids), labels)).sum().backward()
    with pytest.raises(RuntimeError, match=r"loss.backward\(\) while a Balancer is attached"):
        balancer.backward(task_losses(model(ids), labels))
    balancer.close()
    model.zero_grad(set_to_none=True)
    torch.stack(task_losses(model(ids), labels)).sum().backward()
    assert all(p.grad is not None for p in model.bottom.parameters())


def test_chained_shared_modules_are_balanced_exactly() -> None:
    # The bottom's first half and second half listed as two shared modules: one feeds the other.
    torch.manual_seed(0)
    model = SharedBottom(len(TASKS)).to(DEVICE)
    first, second = model.bottom[:1], model.bottom[1:]
    ids, labels = batch(32, len(TASKS), seed=8)
    model.eval()
    per_task = twin(model, ids, labels)
    balancer = Balancer(model, shared=[model.embeddings, first, second], tasks=TASKS, strategy="ew")
    report = balancer.backward(task_losses(model.towers_of(second(first(model.embeddings(ids)))), labels))
    expected = reference_gram(model, per_task)
    assert close(report.gram, expected, np.abs(expected).max())


def test_stacked_losses_give_the_same_step_as_a_list() -> None:
    reports = []
    for stacked in (False, True):
        torch.manual_seed(0)
        model = MMoE(len(TASKS)).to(DEVICE)
        balancer = Balancer(model, shared=model.shared(), tasks=TASKS, strategy="gradcraft")
        ids, labels = batch(32, len(TASKS), seed=4)
        losses = task_losses(model(ids), labels)
        reports.append(balancer.backward(torch.stack(losses) if stacked else losses))
    np.testing.assert_allclose(reports[0].gram, reports[1].gram, rtol=1e-6)
    np.testing.assert_allclose(reports[0].weights, reports[1].weights, rtol=1e-6)


def test_db_mtl_balances_the_gradients_of_log_losses() -> None:
    torch.manual_seed(0)
    model = SharedBottom(len(TASKS)).to(DEVICE)
    ids, labels = batch(32, len(TASKS), seed=5)
    logs = twin(model, ids, labels, lambda loss: torch.log(loss + 1e-8))
    balancer = Balancer(model, shared=model.shared(), tasks=TASKS, strategy="db-mtl")
    torch.manual_seed(99)
    losses = task_losses(model(ids), labels)
    report = balancer.backward(losses)
    expected = reference_gram(model, logs)
    assert close(report.gram, expected, np.abs(expected).max())
    np.testing.assert_allclose(report.losses, [loss.item() for loss in losses], rtol=1e-6)


def test_a_bfloat16_model_keeps_its_dtype_and_gets_its_gram_matrix_in_float32() -> None:
    grams = {}
    for dtype in (torch.float32, torch.bfloat16):
        torch.manual_seed(0)
        model = SharedBottom(len(TASKS)).to(DEVICE).to(dtype)
        model.eval()
        balancer = Balancer(model, shared=model.shared(), tasks=TASKS, strategy="gradcraft")
        ids, labels = batch(64, len(TASKS), seed=10)
        report = balancer.backward(task_losses(model(ids), labels.to(dtype)))
        assert report.skipped is None
        assert {p.grad.dtype for p in model.parameters() if p.grad is not None} == {dtype}
        grams[dtype] = report.gram
    # bfloat16 keeps about 3 significant digits through the forward and backward passes.
    scale = np.abs(grams[torch.float32]).max()
    assert np.max(np.abs(grams[torch.bfloat16] - grams[torch.float32])) <= 0.05 * scale
