"""Hosts for tests: the extension's two ways to reach a Studio (docs/protocol.md, "Transports")."""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pytorch" / "minimal.py"


def wait_for(messages: list[dict], predicate, timeout: float = 60.0) -> dict:
    """The first message that satisfies ``predicate``, as soon as it has arrived."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in list(messages):
            if predicate(message):
                return message
        time.sleep(0.02)
    raise AssertionError(f"timed out; last messages: {[m['type'] for m in messages[-10:]]}")


class AttachedHost:
    """A client of a listening Studio's socket, with the run folder's token."""

    def __init__(self, run_dir: str, write: bool = True, replay="all") -> None:
        with open(os.path.join(run_dir, "link.json")) as file:
            address = json.load(file)
        with open(os.path.join(run_dir, "link.token")) as file:
            token = file.read().strip()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(address["path"])
        self.messages: list[dict] = []
        self._ids = itertools.count(1)
        self._write({"type": "attach", "token": token, "write": write, "replay": replay})
        threading.Thread(target=self._read, daemon=True).start()
        self.attached = self.wait_for(lambda m: m["type"] in ("attached", "error"))

    def _write(self, body: dict) -> None:
        self.sock.sendall((json.dumps({"v": "1.0", **body}) + "\n").encode())

    def _read(self) -> None:
        with self.sock.makefile("rb") as lines:
            for line in lines:
                self.messages.append(json.loads(line))

    def wait_for(self, predicate, timeout: float = 60.0) -> dict:
        return wait_for(self.messages, predicate, timeout)

    def send(self, command: dict, timeout: float = 60.0) -> dict:
        """Sends a command and returns its ack."""
        command_id = f"t-{next(self._ids)}"
        self._write({**command, "id": command_id})
        return self.wait_for(lambda m: m["type"] == "ack" and m["id"] == command_id, timeout)

    def close(self) -> None:
        self.sock.close()


class SpawnedTrainer:
    """The minimal example spawned as the extension spawns it (GRADCRAFT_PROTOCOL=stdio)."""

    def __init__(self, tmp_path: Path, epochs: int) -> None:
        config = tmp_path / "run.gradcraft.json"
        config.write_text(json.dumps({"name": "spawned", "training": {"epochs": epochs}}))
        env = {**os.environ, "GRADCRAFT_PROTOCOL": "stdio", "GRADCRAFT_CONFIG": str(config), "GRADCRAFT_RUNS_FOLDER": str(tmp_path / "runs")}
        env.pop("GRADCRAFT_LISTEN", None)
        self.process = subprocess.Popen(
            [sys.executable, str(EXAMPLE)], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin, self.stdout = self.process.stdin, self.process.stdout
        self.messages: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for line in self.stdout:
                self.messages.append(json.loads(line))
        except ValueError:  # our end was closed under the reader
            pass

    def wait_for(self, predicate, timeout: float = 60.0) -> dict:
        return wait_for(self.messages, predicate, timeout)

    def send(self, command: dict) -> None:
        self.stdin.write((json.dumps({"v": "1.0", **command}) + "\n").encode())
        self.stdin.flush()

    def disappear(self) -> None:
        """The host is gone: both pipes closed on our side."""
        self.stdin.close()
        self.stdout.close()

    def events(self) -> list[dict]:
        run_dir = self.messages[0]["runDir"]
        with open(os.path.join(run_dir, "events.ndjson")) as file:
            return [json.loads(line) for line in file]
