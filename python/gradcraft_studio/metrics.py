"""AUC, GAUC and log loss of multi-task predictions, the same as ``src/core/metrics.ts``.

- AUC: the probability that a random positive outranks a random negative, ties counting one
  half (Mann-Whitney); NaN when the labels hold one class.
- GAUC: each user's AUC weighted by the user's number of rows; users whose rows hold one class are
  skipped; NaN when no user has both classes.
- Log loss: mean binary cross-entropy (natural log) of probabilities clipped to [1e-7, 1 - 1e-7].

Means over tasks skip the tasks whose value is undefined. Everything is sort-based, O(n log n).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

LOGLOSS_EPS = 1e-7


def _labels01(labels: np.ndarray) -> np.ndarray:
    bad = ~((labels == 0) | (labels == 1))
    if bad.any():
        index = int(np.argmax(bad))
        raise ValueError(f"label at index {index} is {labels.flat[index]}: labels must be 0 or 1")
    return labels == 1


def auc(labels: Any, scores: Any) -> float:
    """Area under the ROC curve; NaN when the labels hold only one class. Ties count one half."""
    y = _labels01(np.asarray(labels, dtype=np.float64).ravel())
    s = np.asarray(scores, dtype=np.float64).ravel()
    if y.shape != s.shape:
        raise ValueError(f"auc: {y.size} labels but {s.size} scores")
    if np.isnan(s).any():
        raise ValueError(f"score at index {int(np.argmax(np.isnan(s)))} is NaN")
    return _auc(y, s)


def _auc(positive: np.ndarray, scores: np.ndarray) -> float:
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    # Average ranks give ties one half: AUC = (sum of positive ranks - n_pos (n_pos + 1) / 2) / (n_pos n_neg).
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(scores.size, dtype=np.float64)
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], scores.size]
    average = (starts + ends + 1) / 2.0  # 1-based average rank of each run of equal scores
    ranks[order] = np.repeat(average, ends - starts)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def gauc(labels: Any, scores: Any, users: Any) -> float:
    """Per-user AUC weighted by the user's row count; users with one class skipped; NaN if none qualifies."""
    y = _labels01(np.asarray(labels, dtype=np.float64).ravel())
    s = np.asarray(scores, dtype=np.float64).ravel()
    u = np.asarray(users).ravel()
    if not (y.size == s.size == u.size):
        raise ValueError(f"gauc: {y.size} labels, {s.size} scores and {u.size} user ids")
    return _gauc(y, s, _user_groups(u))


def _user_groups(users: np.ndarray) -> list[np.ndarray]:
    order = np.argsort(users, kind="mergesort")
    sorted_users = users[order]
    cuts = np.flatnonzero(sorted_users[1:] != sorted_users[:-1]) + 1
    return np.split(order, cuts)


def _gauc(positive: np.ndarray, scores: np.ndarray, groups: list[np.ndarray]) -> float:
    weighted = 0.0
    weight = 0
    for rows in groups:
        if rows.size < 2:
            continue
        a = _auc(positive[rows], scores[rows])
        if not math.isnan(a):
            weighted += a * rows.size
            weight += rows.size
    return weighted / weight if weight > 0 else math.nan


def log_loss(labels: Any, probabilities: Any, eps: float = LOGLOSS_EPS) -> float:
    """Mean binary cross-entropy of probabilities clipped to [eps, 1 - eps]; NaN for no rows."""
    y = _labels01(np.asarray(labels, dtype=np.float64).ravel())
    p = np.asarray(probabilities, dtype=np.float64).ravel()
    if y.shape != p.shape:
        raise ValueError(f"log_loss: {y.size} labels but {p.size} probabilities")
    if y.size == 0:
        return math.nan
    if np.isnan(p).any():
        raise ValueError(f"probability at index {int(np.argmax(np.isnan(p)))} is NaN")
    p = np.clip(p, eps, 1 - eps)
    return float(-np.where(y, np.log(p), np.log1p(-p)).mean())


def _finite_mean(values: Sequence[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.nan


def _as_numpy(value: Any, name: str) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor, on whatever device
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    if array.dtype == object:
        raise ValueError(f"{name} must be numbers (an array, a tensor or nested lists)")
    return array


def evaluate_tasks(tasks: Sequence[str], probabilities: Any, labels: Any, users: Any = None) -> dict:
    """Per-task metrics of N×K probabilities and labels (``users``: N ids, for GAUC; None: no GAUC).

    Returns the ``eval`` message's ``tasks`` and ``mean`` (undefined values are None, as on the wire).
    """
    k = len(tasks)
    p = _as_numpy(probabilities, "probabilities").astype(np.float64)
    y = _as_numpy(labels, "labels").astype(np.float64)
    if p.ndim == 1 and k == 1:
        p, y = p[:, None], y.reshape(-1, 1)
    if p.ndim != 2 or p.shape[1] != k:
        raise ValueError(f"probabilities must be N×{k} (one column per task: {', '.join(tasks)}), got shape {tuple(p.shape)}")
    if y.shape != p.shape:
        raise ValueError(f"labels must have the shape of the probabilities {tuple(p.shape)}, got {tuple(y.shape)}")
    groups = None
    if users is not None:
        u = _as_numpy(users, "users").ravel()
        if u.size != p.shape[0]:
            raise ValueError(f"users must hold one id per row ({p.shape[0]}), got {u.size}")
        groups = _user_groups(u)
    rows: list[dict[str, Any]] = []
    for t, task in enumerate(tasks):
        try:
            positive = _labels01(y[:, t])
        except ValueError as error:
            raise ValueError(f"task {task}: {error}") from None
        if np.isnan(p[:, t]).any():
            raise ValueError(f"task {task}: probability at row {int(np.argmax(np.isnan(p[:, t])))} is NaN")
        rows.append(
            {
                "task": task,
                "auc": _auc(positive, p[:, t]),
                "gauc": _gauc(positive, p[:, t], groups) if groups is not None else math.nan,
                "logloss": log_loss(positive, p[:, t]),
            }
        )
    mean = {key: _finite_mean([row[key] for row in rows]) for key in ("auc", "gauc", "logloss")}
    nullable = lambda x: x if math.isfinite(x) else None  # noqa: E731
    return {
        "tasks": [{key: (nullable(v) if key != "task" else v) for key, v in row.items()} for row in rows],
        "mean": {key: nullable(v) for key, v in mean.items()},
    }
