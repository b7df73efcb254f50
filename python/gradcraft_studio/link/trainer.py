"""The trainer's end of the live link (docs/protocol.md): the same behaviour as ``gradcraft train``.

Every message goes to the event log (every step kept), to stdout when a host spawned this
process (``stdio``), and to every attached socket client. Readers other than the log have bounded
queues drained by their own threads, so a slow or vanished host never slows training. Commands
come from stdin (the process that spawned the trainer holds the writer role while its pipe is
open) or from the one socket client holding the writer role; the training loop takes them at a
step boundary and acknowledges each.
"""

from __future__ import annotations

import hmac
import json
import os
import sys
import threading
import time
from typing import Callable

from ..runfolder import FILES, EventLog
from .output import OutputQueue
from .protocol import CommandReader, encode, message, parse
from .server import Client, SocketServer


def _default_report(text: str) -> None:
    sys.stderr.write(f"gradcraft-studio: {text}\n")
    sys.stderr.flush()


class TrainerLink:
    """``send`` every message; ``take_commands`` at each step boundary (``next_command`` while
    paused); ``ack`` once a command took effect or was refused; ``close`` at the end."""

    def __init__(
        self,
        run_dir: str | None = None,
        *,
        stdio: bool = False,
        listen: bool = False,
        transport: str = "auto",
        queue_limit: int = 256,
        handshake_timeout: float = 5.0,
        report: Callable[[str], None] = _default_report,
    ) -> None:
        self.run_dir = run_dir
        self._report = report
        self._lock = threading.RLock()
        self._commands: list[dict] = []
        self._command_ready = threading.Condition(self._lock)
        self._closed = False
        self._last_step = 0
        self._preamble: dict[str, str] = {}
        self.host_gone = False
        self._log = EventLog(os.path.join(run_dir, FILES["events"])) if run_dir else None
        self._stdout: OutputQueue | None = None
        self._saved_stdout_fd: int | None = None
        self.stdin_open = False
        if stdio:
            self._own_stdout(queue_limit)
            self._read_stdin()
        self.server: SocketServer | None = None
        if listen:
            if not run_dir:
                raise ValueError("listening needs a run folder (for the token and the address)")
            self.server = SocketServer(
                run_dir,
                self._handshake,
                self._client_line,
                lambda client: None,
                transport=transport,
                queue_limit=queue_limit,
                handshake_timeout=handshake_timeout,
            )

    # --- output ---

    def _own_stdout(self, queue_limit: int) -> None:
        """The link owns fd 1; anything else printed (print(), C libraries) goes to stderr."""
        sys.stdout.flush()
        link_fd = os.dup(1)
        self._saved_stdout_fd = os.dup(1)
        os.dup2(2, 1)

        def write(data: bytes) -> None:
            view = memoryview(data)
            while view:
                view = view[os.write(link_fd, view) :]

        def gone(error: BaseException) -> None:
            self.host_gone = True
            self._report(f"the host stopped reading the link ({error}); the run goes on and is recorded in {self.run_dir}")

        self._stdout = OutputQueue(write, queue_limit, gone, name="gradcraft-stdout")
        self._stdout_link_fd = link_fd

    def send(self, msg: dict) -> None:
        """Writes one message to the event log and every reader."""
        line = encode(msg)
        kind = msg["type"]
        step = msg if kind == "step" else None
        with self._lock:
            if self._closed:
                raise ValueError("the trainer link is closed")
            if self._log is not None:
                self._log.append(line, important=step is None)
            if step is not None:
                self._last_step = msg["step"]
            if kind in ("hello", "config", "strategy-changed"):
                self._preamble[kind] = line
            if self._stdout is not None:
                self._stdout.push(line, step)
            if self.server is not None:
                for client in self.server.clients:
                    if client.attached:
                        client.queue.push(line, step)

    # --- commands ---

    def _read_stdin(self) -> None:
        self.stdin_open = True
        reader = CommandReader(self._receive, self._refuse_on_stream, lambda text: self._report(f"link (stdin, {text})"))

        # Raw reads of a duplicate of fd 0: a thread blocked inside sys.stdin's buffered reader
        # holds its lock, and the interpreter aborts at exit when it finds that lock taken.
        fd = os.dup(0)

        def run() -> None:
            pending = b""
            try:
                while True:
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        break
                    pending += chunk
                    *lines, pending = pending.split(b"\n")
                    for raw in lines:
                        reader.line(raw.decode("utf-8", errors="replace").rstrip("\r"))
            except OSError:
                pass
            with self._lock:
                self.stdin_open = False
                self._command_ready.notify_all()

        threading.Thread(target=run, name="gradcraft-stdin", daemon=True).start()

    def _refusal(self, command_id: str, kind: str | None, error: str) -> dict:
        ack = message("ack", id=command_id, ok=False, step=self._last_step, error=error)
        if kind:
            ack = {**ack, "command": kind}
        return ack

    def _refuse_on_stream(self, command_id: str, kind: str | None, error: str) -> None:
        with self._lock:
            if not self._closed:
                self.send(self._refusal(command_id, kind, error))

    def _receive(self, command: dict) -> None:
        with self._lock:
            if self._closed:
                return
            self._commands.append(command)
            self._command_ready.notify_all()

    def take_commands(self) -> list[dict]:
        """Commands received since the last call, oldest first."""
        with self._lock:
            taken, self._commands = self._commands, []
            return taken

    @property
    def can_receive_commands(self) -> bool:
        """True while someone could still send a command (stdin open, or a socket to attach to)."""
        return self.stdin_open or self.server is not None

    def next_command(self, timeout: float | None = None) -> dict | None:
        """The next command (a paused loop waits here); None on timeout, or when none can come."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while not self._commands:
                if self._closed or not self.can_receive_commands:
                    return None
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._command_ready.wait(remaining if remaining is not None else 0.5)
            return self._commands.pop(0)

    def ack(self, command: dict, ok: bool, step: int, result=None, error: str | None = None) -> dict:
        """Acknowledges a command to every reader (and the event log)."""
        ack = message("ack", id=command["id"], command=command["type"], ok=ok, step=step)
        if result is not None:
            ack["result"] = result
        if error is not None:
            ack["error"] = error
        self.send(ack)
        return ack

    # --- socket clients ---

    def _handshake(self, client: Client, line: str) -> None:
        from .protocol import definitions  # the attach request's schema

        try:
            value = json.loads(line)
        except ValueError:
            value = None
        parsed = parse(value, {"attach": definitions()["attach"]}, "handshake")
        if not hasattr(parsed, "value"):
            client.refuse(parsed.reason)
            return
        request = parsed.value
        if self.server is None or not hmac.compare_digest(str(request["token"]).encode(), self.server.token.encode()):
            client.refuse("wrong token")
            return
        read_only = None
        with self._lock:
            if request.get("write"):
                if self.stdin_open:
                    read_only = "the process that started the trainer holds the writer role (its stdin)"
                elif any(c.writer for c in self.server.clients):
                    read_only = "another client holds the writer role"
                else:
                    client.writer = True
            # Under the lock that send() takes: the replay read now and the live messages that
            # follow it have no gap and no duplicate between them.
            text, count = self._replay(request.get("replay", "all"))
            attached = message("attached", writer=client.writer, runDir=self.run_dir or "", replayed=count)
            if read_only:
                attached = {**attached, "readOnlyReason": read_only}
            client.queue.push(encode(attached))
            if text:
                client.queue.push(text)
            client.attached = True
        self._report(f"a client attached ({'writer' if client.writer else 'read-only'})")
        client.reader = CommandReader(
            lambda command: self._client_command(client, command),
            lambda command_id, kind, error: client.queue.push(encode(self._refusal(command_id, kind, error))),
            lambda text: self._report(f"link (client-{client.id}, {text})"),
        )

    def _client_line(self, client: Client, line: str) -> None:
        if client.reader is not None:
            client.reader.line(line)

    def _client_command(self, client: Client, command: dict) -> None:
        if not client.writer:
            refusal = self._refusal(
                command["id"],
                command["type"],
                "this client is read-only: another party holds the writer role (attach with write: true when it is free)",
            )
            client.queue.push(encode(refusal))
            return
        self._receive(command)

    def _replay(self, mode) -> tuple[str, int]:
        if mode == "none":
            return "", 0
        if self._log is not None:
            with open(self._log.path, encoding="utf-8") as file:
                text = file.read()
        else:
            text = "".join(self._preamble.values())
        text = text[: text.rfind("\n") + 1]
        lines = text.splitlines()
        if isinstance(mode, int) and len(lines) > mode:
            tail = lines[len(lines) - mode :] if mode > 0 else []
            head = [line.rstrip("\n") for line in self._preamble.values() if line.rstrip("\n") not in tail]
            lines = head + tail
        return ("\n".join(lines) + "\n" if lines else ""), len(lines)

    # --- end ---

    def close(self, flush_timeout: float = 2.0) -> None:
        """Flushes the readers (up to ``flush_timeout``), closes the socket, the log and stdout."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._command_ready.notify_all()
        deadline = time.monotonic() + flush_timeout
        if self._stdout is not None:
            self._stdout.close(max(0.0, deadline - time.monotonic()))
        if self.server is not None:
            for client in self.server.clients:
                client.queue.close(max(0.0, deadline - time.monotonic()))
            self.server.close()
        if self._log is not None:
            self._log.close()
        if self._saved_stdout_fd is not None:
            sys.stdout.flush()
            os.dup2(self._saved_stdout_fd, 1)
            os.close(self._saved_stdout_fd)
            os.close(self._stdout_link_fd)
            self._saved_stdout_fd = None
