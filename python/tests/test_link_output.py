"""Readers never slow training; the run folder is written so that readers see whole lines."""

from __future__ import annotations

import json
import os
import re
import threading
from datetime import datetime, timezone

import pytest

from gradcraft_studio.link.output import OutputQueue
from gradcraft_studio.link.protocol import encode
from gradcraft_studio.runfolder import EventLog, RunFolderBusy, create_run_dir, run_dir_name, write_json


def step(n: int) -> dict:
    return {"v": "1.0", "type": "step", "step": n}


def test_a_slow_reader_gets_intermediate_steps_coalesced_and_everything_else_in_order():
    gate = threading.Event()
    written: list[bytes] = []

    def slow(data: bytes) -> None:
        gate.wait(5)
        written.append(data)

    queue = OutputQueue(slow, limit=4)
    queue.push(encode(step(0)), step(0))  # in flight while the rest queues up
    for n in range(1, 11):
        queue.push(encode(step(n)), step(n))
        if n == 5:
            queue.push(encode({"v": "1.0", "type": "ack", "id": "a"}))
    gate.set()
    assert queue.flush(5)
    lines = [json.loads(line) for chunk in written for line in chunk.decode().splitlines()]
    assert [m["type"] for m in lines].count("ack") == 1, "an ack is never dropped"
    steps = [m for m in lines if m["type"] == "step"]
    assert steps[-1]["step"] == 10, "the newest step always arrives"
    # `coalesced` says how many steps were dropped just before each: nothing is lost silently.
    seen = [m["step"] for m in steps]
    for previous, current in zip(steps, steps[1:]):
        assert current["step"] - current.get("coalesced", 0) - 1 == previous["step"], seen
    assert queue.coalesced == 10 + 1 - len(steps)
    queue.close()


def test_a_reader_that_fails_is_dropped_and_reported_once():
    errors = []

    def broken(data: bytes) -> None:
        raise BrokenPipeError("the host is gone")

    queue = OutputQueue(broken, on_error=errors.append)
    queue.push("a\n")
    queue.flush(2)
    queue.push("b\n")  # after the failure: ignored, never raises into the training loop
    assert queue.closed
    assert [type(e) for e in errors] == [BrokenPipeError]


def test_run_folders_are_named_by_time_and_never_reused(tmp_path):
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert run_dir_name("my run/1", at) == "20260102-030405-my_run_1"
    first = create_run_dir(str(tmp_path), "x", at)
    second = create_run_dir(str(tmp_path), "x", at)
    assert os.path.basename(second) == "20260102-030405-x-2"
    assert os.path.isdir(os.path.join(first, "checkpoints"))


def test_the_event_log_cuts_a_torn_last_line_and_keeps_a_second_writer_out(tmp_path):
    path = str(tmp_path / "events.ndjson")
    with open(path, "w") as file:
        file.write('{"a":1}\n{"b":')  # a writer died inside its last line
    log = EventLog(path)
    assert log.repaired_bytes == len('{"b":')
    with pytest.raises(RunFolderBusy, match="another process"):
        EventLog(path)
    log.append('{"c":2}\n', important=True)
    log.close()
    assert open(path).read() == '{"a":1}\n{"c":2}\n'
    EventLog(path).close()  # free again once closed


def test_json_files_are_replaced_whole_and_readable_by_everyone(tmp_path):
    path = str(tmp_path / "summary.json")
    write_json(path, {"steps": 1})
    write_json(path, {"steps": 2})
    assert json.load(open(path)) == {"steps": 2}
    assert os.stat(path).st_mode & 0o777 == 0o644
    assert [name for name in os.listdir(tmp_path) if re.match(r"\.tmp-", name)] == []
    with pytest.raises(ValueError):
        write_json(path, {"loss": float("nan")})
    assert json.load(open(path)) == {"steps": 2}, "a failed write leaves the old file"
