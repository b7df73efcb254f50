"""Metrics of the eval message on cases small enough to count by hand (and see test/unit/python/metrics.test.ts)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gradcraft_studio.metrics import auc, evaluate_tasks, gauc, log_loss


def test_auc_counts_the_pairs_a_positive_wins_and_a_tie_as_one_half():
    # Positives 0.8 and 0.5 against negatives 0.5 and 0.1: wins 2 + (0.5 + 1) of 4 pairs.
    assert auc([1, 1, 0, 0], [0.8, 0.5, 0.5, 0.1]) == pytest.approx(3.5 / 4)
    assert math.isnan(auc([1, 1], [0.2, 0.3])), "one class: undefined"


def test_gauc_weights_users_by_their_rows_and_skips_users_with_one_class():
    labels = [1, 0, 0, 1, 0, 1, 1]
    scores = [0.9, 0.1, 0.6, 0.5, 0.4, 0.3, 0.2]
    users = [7, 7, 8, 8, 8, 9, 9]  # user 7: AUC 1 (2 rows); user 8: AUC 0.5 (3 rows); user 9: one class
    assert gauc(labels, scores, users) == pytest.approx((1 * 2 + 0.5 * 3) / 5)


def test_log_loss_clips_a_confident_miss():
    assert log_loss([1, 0], [0.5, 0.5]) == pytest.approx(math.log(2))
    assert log_loss([1], [0.0]) == pytest.approx(-math.log(1e-7))


def test_evaluate_tasks_takes_tensors_names_the_task_of_a_bad_label_and_reports_undefined_as_null():
    probabilities = torch.tensor([[0.9, 0.2], [0.1, 0.3], [0.6, 0.4]])
    labels = torch.tensor([[1.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    metrics = evaluate_tasks(["click", "like"], probabilities, labels)
    expected_logloss = -(math.log(0.9) + math.log(0.9) + math.log(0.6)) / 3
    assert metrics["tasks"][0] == {"task": "click", "auc": 1.0, "gauc": None, "logloss": pytest.approx(expected_logloss)}
    assert metrics["tasks"][1]["auc"] is None, "like has one class"
    assert metrics["mean"]["auc"] == 1.0, "means skip undefined values"
    with pytest.raises(ValueError, match="task like: label at index 1 is 2"):
        evaluate_tasks(["click", "like"], probabilities, np.array([[1, 0], [0, 2], [1, 0]]))
    with pytest.raises(ValueError, match=r"N×2 \(one column per task: click, like\)"):
        evaluate_tasks(["click", "like"], probabilities[:, :1], labels[:, :1])
