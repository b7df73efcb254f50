"""The messages a Studio writes, built from what the Balancer reports (docs/protocol.md, field tables)."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any, Sequence

import numpy as np
import torch

from .definitions import STRATEGY_DEFINITIONS, parse_params
from .diagnostics import diagnose
from .link.protocol import message


def iso_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def backend(device: torch.device, world_size: int, dist_backend: str | None) -> dict:
    """hello's backend: what computes, and in one line why not something faster."""
    if device.type == "cuda":
        name = "torch-cuda"
        reason = f"PyTorch {torch.__version__} on {torch.cuda.get_device_name(device)}"
    else:
        name = f"torch-{device.type}"
        why = "the model is on the CPU" if torch.cuda.is_available() else "no CUDA device"
        reason = f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads: {why}"
    if world_size > 1:
        reason += f"; {world_size} ranks ({dist_backend})"
    return {"name": name, "reason": reason}


def strategy_infos() -> list[dict]:
    """hello's strategies: each one's texts, parameter schema and defaults, from the shared definitions."""
    infos = []
    for name, definition in STRATEGY_DEFINITIONS.items():
        info = {"name": name, "title": definition["title"], "summary": definition["summary"]}
        if definition.get("citation"):
            info["citation"] = definition["citation"]
        info["paramsSchema"] = definition["params"]
        info["defaults"] = parse_params(name, {})
        infos.append(info)
    return infos


def hello(
    tasks: Sequence[str],
    run_dir: str | None,
    device: torch.device,
    world_size: int,
    dist_backend: str | None,
    version: str,
) -> dict:
    return message(
        "hello",
        trainer={"name": "gradcraft-studio (PyTorch)", "version": version},
        backend=backend(device, world_size, dist_backend),
        tasks=list(tasks),
        strategies=strategy_infos(),
        runDir=run_dir,
        startedAt=iso_now(),
        pid=os.getpid(),
    )


def _floats(values: Any) -> list[float]:
    return [float(x) for x in np.asarray(values, dtype=np.float64).ravel()]


def step(report: Any, *, step: int, epoch: float, wall_ms: float, strategy: str, learning_rate: float, step_ms: float) -> dict:
    """One applied step's message from a BalanceReport."""
    fields = {
        "step": step,
        "epoch": float(epoch),
        "wallMs": float(wall_ms),
        "losses": _floats(report.losses),
    }
    d = diagnose(report.gram, report.weights)
    fields.update(
        norms=d.norms,
        cosines=[c for row in d.cosines for c in row],
        weights=_floats(report.weights),
    )
    if report.tower_weights is not None:
        fields["towerWeights"] = _floats(report.tower_weights)
    if report.projection is not None:
        p = report.projection
        fields["projection"] = {
            "conflictSetSize": [int(x) for x in p.conflict_set_size],
            "correctionNorm": _floats(p.correction_norm),
            "magnitudeScale": _floats(p.magnitude_scale),
        }
    fields.update(
        conflictingPairs=d.conflicting_pairs,
        updateNorm=d.update_norm,
        updateCosines=d.update_cosines,
        conflictsWithUpdate=d.conflicts_with_update,
        flags=list(report.flags),
        strategy=strategy,
        learningRate=float(learning_rate),
        stepTimeMs=float(step_ms),
    )
    return message("step", **fields)
