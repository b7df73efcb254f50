"""The attach transport: a local socket guarded by a token in the run folder (docs/protocol.md, "Attach").

While it listens, the run folder holds ``link.token`` (64 hex digits, mode 0600), ``link.json``
(where to connect) and, for a Unix socket, ``link.sock`` (mode 0600; in the temp folder when the
run folder's path is too long for a socket). All three are removed when the server closes. What a
client may do once connected (the writer role, the replay) is the link's decision
(``trainer.py``); this module moves bytes and lines.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sys
import tempfile
import threading
from typing import Callable

from .output import OutputQueue
from .protocol import MAX_LINE_CHARS, CommandReader, encode, message, protocol_version
from ..runfolder import FILES

# Unix socket paths are limited to about 107 bytes.
MAX_SOCKET_PATH = 100


class Client:
    """One connection: its own output queue; ``attached`` once its handshake was accepted."""

    def __init__(self, client_id: int, sock: socket.socket, queue_limit: int) -> None:
        self.id = client_id
        self.sock = sock
        self.attached = False
        self.writer = False
        #: Set by the link once the handshake is accepted (the same thread then reads its lines).
        self.reader: CommandReader | None = None
        self.queue = OutputQueue(sock.sendall, queue_limit, lambda _: self.close(), name=f"gradcraft-client-{client_id}")

    def refuse(self, reason: str) -> None:
        """The handshake failed: one error line, then the connection ends."""
        try:
            self.sock.sendall(encode(message("error", message=f"attach refused: {reason}", fatal=False)).encode())
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        self.queue.kill()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class SocketServer:
    """Listens on a Unix socket (or loopback TCP where there is none) and reads clients' lines.

    ``on_handshake(client, line)`` gets a client's first line (within ``handshake_timeout``);
    ``on_line(client, line)`` every later one; ``on_close(client)`` when it is gone.
    """

    def __init__(
        self,
        run_dir: str,
        on_handshake: Callable[[Client, str], None],
        on_line: Callable[[Client, str], None],
        on_close: Callable[[Client], None],
        transport: str = "auto",
        queue_limit: int = 256,
        handshake_timeout: float = 5.0,
    ) -> None:
        self.run_dir = run_dir
        self.token = secrets.token_hex(32)
        self._on_handshake = on_handshake
        self._on_line = on_line
        self._on_close = on_close
        self._queue_limit = queue_limit
        self._handshake_timeout = handshake_timeout
        self._clients: dict[int, Client] = {}
        self._next_id = 1
        self._closed = False
        self._token_path = os.path.join(run_dir, FILES["token"])
        self._info_path = os.path.join(run_dir, FILES["link_info"])
        # Owner-only from creation; chmod too in case the file existed with wider rights.
        fd = os.open(self._token_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(self.token)
        os.chmod(self._token_path, 0o600)
        self._socket_path: str | None = None
        self._listener, self.address = self._listen(transport)
        # The address appears whole (written aside, then renamed): a client polls for this file,
        # and the token it reads next is complete by then.
        partial = self._info_path + ".partial"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(json.dumps(self.address, indent=2) + "\n")
        os.replace(partial, self._info_path)
        self._thread = threading.Thread(target=self._accept_loop, name="gradcraft-listen", daemon=True)
        self._thread.start()

    def _listen(self, transport: str) -> tuple[socket.socket, dict]:
        if transport != "tcp" and hasattr(socket, "AF_UNIX") and sys.platform != "win32":
            path = os.path.join(self.run_dir, FILES["socket"])
            if len(path.encode()) > MAX_SOCKET_PATH:
                path = os.path.join(tempfile.gettempdir(), f"gradcraft-{secrets.token_hex(6)}.sock")
            try:
                if os.path.exists(path):
                    os.unlink(path)
                listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                listener.bind(path)
                os.chmod(path, 0o600)
                listener.listen(16)
                self._socket_path = path
                return listener, {"protocol": protocol_version(), "pid": os.getpid(), "transport": "unix", "path": path}
            except OSError:
                if transport == "unix":
                    raise
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        return listener, {"protocol": protocol_version(), "pid": os.getpid(), "transport": "tcp", "host": "127.0.0.1", "port": port}

    @property
    def clients(self) -> list[Client]:
        return list(self._clients.values())

    def _accept_loop(self) -> None:
        # A timeout rather than a blocking accept: closing a socket does not wake accept everywhere.
        self._listener.settimeout(0.2)
        while not self._closed:
            try:
                sock, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            sock.settimeout(None)
            client = Client(self._next_id, sock, self._queue_limit)
            self._next_id += 1
            self._clients[client.id] = client
            threading.Thread(target=self._read_client, args=(client,), name=f"gradcraft-read-{client.id}", daemon=True).start()

    def _read_client(self, client: Client) -> None:
        buffer = b""
        first = True
        client.sock.settimeout(self._handshake_timeout)
        try:
            while True:
                try:
                    chunk = client.sock.recv(65536)
                except socket.timeout:
                    client.refuse("no attach handshake in time")
                    return
                if not chunk:
                    return
                buffer += chunk
                while b"\n" in buffer:
                    raw, buffer = buffer.split(b"\n", 1)
                    line = raw.decode("utf-8", errors="replace").rstrip("\r")
                    if first:
                        first = False
                        client.sock.settimeout(None)
                        self._on_handshake(client, line)
                        if not client.attached:
                            return
                    else:
                        self._on_line(client, line)
                if len(buffer) > MAX_LINE_CHARS:
                    buffer = b""  # an oversized line is dropped whole
        except OSError:
            return
        finally:
            self._clients.pop(client.id, None)
            client.close()
            self._on_close(client)

    def close(self) -> None:
        """Stops listening, ends every client and removes the token, the address and the socket."""
        self._closed = True
        try:
            self._listener.close()
        except OSError:
            pass
        self._thread.join(timeout=1)
        for client in list(self._clients.values()):
            try:
                client.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for path in (self._token_path, self._info_path, self._socket_path):
            if path:
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
