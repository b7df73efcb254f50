"""Host commands at a step boundary: each takes effect before the next step and is acknowledged.

The same rules as the built-in trainer (docs/protocol.md, "Commands and acks"): commands apply in
the order received, each gets exactly one ``ack`` with the step at which it took effect, and a
refused one (an unknown strategy, a value out of range, an action the script has no callback for)
changes nothing. Under torch.distributed, rank 0 reads the commands and broadcasts them on a CPU
(gloo) group, so every rank applies the same commands at the same step and no device waits.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, List, Tuple

import torch

from .definitions import parse_params
from .link.protocol import message

if TYPE_CHECKING:
    from .studio import Studio

# How often a paused rank 0 tells the other ranks it is still paused (a collective has a timeout).
PAUSE_TICK_S = 1.0


Outcome = Tuple[dict, List[Tuple[str, dict]]]


class CommandRefused(Exception):
    """A command that cannot be applied; its message is the refused ack's error."""


class Boundary:
    def __init__(self, studio: "Studio", group: Any = None) -> None:
        self.studio = studio
        self.group = group  # the control group under torch.distributed, else None
        self.paused = False
        self.paused_at = 0.0

    # --- sharing the commands between ranks ---

    def _share(self, commands: list[dict]) -> list[dict]:
        if self.group is None:
            return commands
        import torch.distributed as dist

        payload = json.dumps(commands).encode() if self.studio.rank == 0 else b""
        size = torch.tensor([len(payload)], dtype=torch.int64)
        dist.broadcast(size, src=0, group=self.group)
        if size.item() == 0:
            return []
        data = torch.frombuffer(bytearray(payload), dtype=torch.uint8) if payload else torch.empty(int(size.item()), dtype=torch.uint8)
        dist.broadcast(data, src=0, group=self.group)
        return json.loads(bytes(data.tolist()).decode()) if self.studio.rank != 0 else commands

    def _collect(self) -> list[dict]:
        """Rank 0: the commands received since the last boundary (while paused: waits for one)."""
        link = self.studio.link
        if link is None:
            return []
        if not self.paused:
            return link.take_commands()
        command = link.next_command(timeout=PAUSE_TICK_S)
        if command is not None:
            return [command]
        if not link.can_receive_commands:
            # Nobody is left who could resume this run: end it cleanly rather than wait forever.
            return [{"type": "stop", "id": None, "reason": "the host is gone while the run was paused"}]
        return []

    def run(self) -> None:
        """Applies every pending command (on every rank); returns when not paused or stopping."""
        while True:
            for command in self._share(self._collect() if self.studio.rank == 0 else []):
                self._apply(command)
            if not self.paused or self.studio.stop_requested:
                return

    # --- applying one command ---

    def _apply(self, command: dict) -> None:
        """Applies one command: acknowledged first, then the messages that report its effect."""
        handler = getattr(self, "_" + command["type"].replace("-", "_"), None)
        step = self.studio.step
        try:
            if handler is None:
                raise CommandRefused(f'unknown command "{command["type"]}"')
            result, effects = handler(command)
        except (CommandRefused, ValueError, TypeError) as error:
            self._ack(command, False, step, error=str(error))
            return
        except Exception as error:  # a user's callback failed: refuse, and the run goes on
            self._ack(command, False, step, error=f"{type(error).__name__}: {error}")
            return
        self._ack(command, True, step, result=result)
        source = {"commandId": command["id"]} if command.get("id") is not None else {}
        for kind, fields in effects:
            self.studio._send(message(kind, step=step, **fields, **source))

    def _ack(self, command: dict, ok: bool, step: int, result: Any = None, error: str | None = None) -> None:
        if command.get("id") is not None and self.studio.link is not None:
            self.studio.link.ack(command, ok, step, result=result, error=error)

    # Each handler changes the run and returns (the ack's result, [(message type, fields)...]).

    def _set_strategy(self, command: dict) -> Outcome:
        balancer = self.studio.balancer
        previous = {"name": balancer.strategy, "params": balancer.params}
        carry = bool(command.get("carryState")) and command["name"] == balancer.strategy
        balancer.set_strategy(command["name"], command.get("params") or {}, carry_state=carry)
        current = {"name": balancer.strategy, "params": balancer.params}
        changed = {**current, "previous": previous, "stateCarried": carry, "reason": "command"}
        return {**current, "stateCarried": carry}, [("strategy-changed", changed)]

    def _set_hyperparameters(self, command: dict) -> Outcome:
        studio = self.studio
        wanted = [key for key in ("learningRate", "l2") if key in command]
        if wanted and studio.optimizer is None:
            raise CommandRefused(f"{' and '.join(wanted)} cannot change: this script did not give Studio(...) its optimizer")
        balancer = studio.balancer
        new_params = None
        if command.get("strategyParams"):
            # Checked before anything changes: a refused command leaves the run as it was.
            new_params = parse_params(balancer.strategy, {**balancer.params, **command["strategyParams"]})
        changes = []
        for key, group_key in (("learningRate", "lr"), ("l2", "weight_decay")):
            if key in command and command[key] != studio.hyperparameter(group_key):
                changes.append({"name": key, "from": studio.hyperparameter(group_key), "to": command[key]})
                studio.set_hyperparameter(group_key, command[key])
        if "clipNorm" in command and command["clipNorm"] != studio.clip_norm:
            changes.append({"name": "clipNorm", "from": studio.clip_norm, "to": command["clipNorm"]})
            studio.clip_norm = command["clipNorm"]
        if "evalEvery" in command and command["evalEvery"] != studio.eval_every:
            changes.append({"name": "evalEvery", "from": studio.eval_every, "to": command["evalEvery"]})
            studio.eval_every = command["evalEvery"]
        if new_params is not None:
            old = balancer.params
            balancer.set_strategy(balancer.strategy, new_params, carry_state=True)
            for key, value in balancer.params.items():
                if json.dumps(value) != json.dumps(old.get(key)):
                    changes.append({"name": f"strategy.{key}", "from": old.get(key), "to": value})
        return {"changes": changes}, ([("hyper-changed", {"changes": changes})] if changes else [])

    def _pause(self, command: dict) -> Outcome:
        if self.paused:
            return {"paused": True}, []
        self.paused = True
        self.paused_at = time.monotonic()
        return {"paused": True}, [("paused", {})]

    def _resume(self, command: dict) -> Outcome:
        if not self.paused:
            return {"paused": False, "note": "the run was not paused"}, []
        self.paused = False
        return {"paused": False}, [("resumed", {"pausedMs": (time.monotonic() - self.paused_at) * 1000})]

    def _stop(self, command: dict) -> Outcome:
        self.studio.request_stop("stopped", command.get("reason"))
        return {"stopping": True}, []

    def _checkpoint(self, command: dict) -> Outcome:
        return {"path": self.studio.checkpoint("requested")}, []

    def _evaluate(self, command: dict) -> Outcome:
        split = command.get("split", "validation")
        self.studio.run_evaluation(split)
        return {"split": split}, []
