"""The Python strategies and the TypeScript core (src/core/strategies, run through tsx by
run_ts_core.ts) give the same weights, tower weights, flags, state and step diagnostics on the same
sequences of random Gram matrices, stateful strategies over several steps included."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import numpy as np
import pytest

from conftest import IN_CI, REPO_ROOT
from gradcraft_studio import STRATEGIES, diagnose

# Every strategy, with parameter variants that reach their other branches.
VARIANTS: list[tuple[str, dict[str, Any]]] = [
    ("ew", {}),
    ("single", {"task": 1}),
    ("gradcraft", {}),
    ("gradcraft", {"tau": 0.1, "eps": 1e-10}),
    ("gradcraft", {"tau": 0.5, "eps": 1e-3, "projection": "local"}),
    ("pcgrad", {"seed": 7}),
    ("pcgrad", {"reduction": "sum", "denominatorEps": 1e-8}),
    ("pcgrad-plus", {"tau": 0.5, "eps": 0.01, "seed": 3}),
    ("mgda", {}),
    ("mgda", {"normalization": "l2"}),
    ("cagrad", {}),
    ("cagrad", {"c": 0.8, "rescale": 2}),
    ("imtl-g", {}),
    ("aligned-mtl", {}),
    ("gradvac", {"beta": 0.3, "seed": 11}),
    ("db-mtl", {"betaSigma": 0.5}),
    ("uw", {}),
    ("uw", {"optimizer": "sgd", "lr": 0.1}),
    ("dwa", {"window": 2}),
    ("gradnorm", {}),
    ("gradnorm", {"initialLoss": 0.693147, "optimizer": "sgd"}),
    ("nash-mtl", {}),
    ("nash-mtl", {"maxNorm": 0, "updateWeightsEvery": 2}),
    ("upgrad", {}),
    ("upgrad", {"regEps": 0}),
]
STEPS = 6


def gram_sequence(k: int, d: int, seed: int) -> list[dict[str, Any]]:
    """Gradients that drift from step to step, with norms spread over two decades and conflicts;
    d < k gives rank-deficient Gram matrices."""
    rng = np.random.default_rng(seed)
    grads = rng.normal(size=(k, d)) * rng.uniform(0.1, 10, size=(k, 1))
    steps = []
    for _ in range(STEPS):
        grads = grads + 0.3 * rng.normal(size=(k, d)) * np.linalg.norm(grads, axis=1, keepdims=True) / np.sqrt(d)
        losses = rng.uniform(0.05, 2, size=k)
        steps.append({"gram": (grads @ grads.T).tolist(), "losses": losses.tolist()})
    return steps


def python_run(name: str, params: dict[str, Any], k: int, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    strategy = STRATEGIES[name]
    parsed = strategy.parse_params(params)
    state = strategy.init(k, parsed)
    out = []
    for index, s in enumerate(steps):
        result = strategy.step(s["gram"], s["losses"], index + 1, parsed, state)
        state = result.state
        tower = None if result.tower_weights is None else result.tower_weights.tolist()
        d = diagnose(s["gram"], result.weights)
        diagnostics = {
            "norms": d.norms,
            "cosines": [c for row in d.cosines for c in row],
            "conflictingPairs": d.conflicting_pairs,
            "updateNorm": d.update_norm,
            "updateCosines": d.update_cosines,
            "conflictsWithUpdate": d.conflicts_with_update,
        }
        out.append(
            {
                "weights": result.weights.tolist(),
                "towerWeights": tower,
                "flags": list(result.flags),
                "state": state,
                "diagnostics": diagnostics,
            }
        )
    return out


def typescript_run(cases: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    node = shutil.which("node")
    tsx = REPO_ROOT / "node_modules" / "tsx"
    if node is None or not tsx.exists():
        reason = "the cross-implementation test needs node and the repository's node_modules (npm ci)"
        if IN_CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    completed = subprocess.run(
        [node, "--import", "tsx", str(REPO_ROOT / "python" / "tests" / "run_ts_core.ts")],
        input=json.dumps({"cases": cases}),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)["results"]


def same(a: Any, b: Any, tolerance: float, path: str, scale: float | None = None) -> list[str]:
    """Structural equality with numbers within ``tolerance`` relative to the largest magnitude of
    the list they are in (as the conformance rule: a value near zero by cancellation is compared
    at the scale of its neighbours)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{path}: keys {sorted(a)} != {sorted(b)}"]
        return [problem for key in a for problem in same(a[key], b[key], tolerance, f"{path}.{key}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: length {len(a)} != {len(b)}"]
        numbers = [abs(x) for x in a + b if isinstance(x, (int, float)) and not isinstance(x, bool)]
        inner = max(numbers) if numbers else None
        return [p for i, (x, y) in enumerate(zip(a, b)) for p in same(x, y, tolerance, f"{path}[{i}]", inner)]
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        if a == b or abs(a - b) <= tolerance * (scale if scale is not None else max(abs(a), abs(b))):
            return []
        return [f"{path}: {a!r} (python) != {b!r} (typescript)"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def test_python_and_typescript_strategies_agree_on_random_gram_sequences() -> None:
    cases: list[dict[str, Any]] = []
    for v, (name, params) in enumerate(VARIANTS):
        for k, d in ((2, 5), (3, 40), (4, 3), (6, 50)):
            cases.append({"strategy": name, "params": params, "k": k, "steps": gram_sequence(k, d, seed=100 * v + k)})
    expected = typescript_run(cases)
    problems = []
    for case, reference in zip(cases, expected):
        ours = python_run(case["strategy"], case["params"], case["k"], case["steps"])
        for step, (mine, theirs) in enumerate(zip(ours, reference)):
            where = f"{case['strategy']} {json.dumps(case['params'])} k={case['k']} step {step + 1}"
            # Flags are compared as sets: the order they are met in is not part of the contract.
            mine = {**mine, "flags": sorted(mine["flags"])}
            theirs = {**theirs, "flags": sorted(theirs["flags"])}
            # The update's norm is Σ α_t g_t after cancellation: where it cancels to rounding noise
            # (Nash-MTL's ridge answer for a singular Gram matrix) only its size is comparable.
            bound = sum(abs(a) * n for a, n in zip(theirs["weights"], theirs["diagnostics"]["norms"]))
            if theirs["diagnostics"]["updateNorm"] < 1e-6 * bound:
                for side in (mine, theirs):
                    side["diagnostics"] = {**side["diagnostics"], "updateCosines": None}
                    side["diagnostics"]["updateNorm"] = side["diagnostics"]["updateNorm"] < 1e-6 * bound
            # To 1e-9: both cores do the same float64 arithmetic in a different summation order.
            problems += same(mine, theirs, 1e-9, where)
    assert {c["strategy"] for c in cases} == set(STRATEGIES)
    assert problems == []
