"""A live reader's bounded queue: training never waits for a reader (docs/protocol.md, "Flow control").

Each reader (stdout, every attached socket client) has its own queue, drained by its own thread.
When a reader falls behind and more than ``limit`` lines wait, the oldest waiting step that has a
newer step behind it is dropped and that newer step says how many were dropped before it
(``coalesced``). Every other message is always delivered, in order.
"""

from __future__ import annotations

import threading
from typing import Callable

from .protocol import encode


class _Item:
    __slots__ = ("line", "step", "coalesced")

    def __init__(self, line: str, step: dict | None) -> None:
        self.line = line
        self.step = step
        self.coalesced = 0

    def text(self) -> str:
        if self.step is None or self.coalesced == 0:
            return self.line
        return encode({**self.step, "coalesced": self.coalesced + self.step.get("coalesced", 0)})


class OutputQueue:
    """Lines in from the training thread; ``write`` called from this queue's own thread."""

    def __init__(
        self,
        write: Callable[[bytes], None],
        limit: int = 256,
        on_error: Callable[[BaseException], None] | None = None,
        name: str = "gradcraft-output",
    ) -> None:
        self._write = write
        self._limit = limit
        self._on_error = on_error
        self._items: list[_Item] = []
        self._carry = 0
        self._busy = False
        self._dead = False
        self._closing = False
        self._cond = threading.Condition()
        self.coalesced = 0
        self.written = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def closed(self) -> bool:
        return self._dead

    @property
    def queued(self) -> int:
        return len(self._items)

    def push(self, line: str, step: dict | None = None) -> None:
        with self._cond:
            if self._dead or self._closing:
                return
            item = _Item(line, step)
            if step is not None and self._carry:
                item.coalesced, self._carry = self._carry, 0
            self._items.append(item)
            if len(self._items) > self._limit:
                self._coalesce()
            self._cond.notify()

    def _coalesce(self) -> None:
        for i, item in enumerate(self._items):
            if item.step is None:
                continue
            for later in self._items[i + 1 :]:
                if later.step is not None:
                    later.coalesced += item.coalesced + 1
                    del self._items[i]
                    self.coalesced += 1
                    return
            return

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._items and not self._closing and not self._dead:
                    self._cond.wait()
                if self._dead or (self._closing and not self._items):
                    self._dead = True
                    self._cond.notify_all()
                    return
                batch, self._items = self._items, []
                self._busy = True
            try:
                self._write("".join(item.text() for item in batch).encode("utf-8"))
                self.written += len(batch)
            except BaseException as error:  # the reader is gone: stop writing to it
                self.kill()
                if self._on_error is not None:
                    self._on_error(error)
                return
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def flush(self, timeout: float) -> bool:
        """Waits until everything pushed so far is written (or the reader died); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._dead or (not self._items and not self._busy), timeout)

    def close(self, timeout: float = 2.0) -> None:
        """Writes what waits (up to ``timeout``), then stops the thread."""
        self.flush(timeout)
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout=0.5)

    def kill(self) -> None:
        """Stops writing at once; waiting lines are discarded."""
        with self._cond:
            self._dead = True
            self._items = []
            self._cond.notify_all()
