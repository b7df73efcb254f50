"""The wire rules a trainer applies to the host's commands (docs/protocol.md, "Versions")."""

from __future__ import annotations

import json
import math

import pytest

from gradcraft_studio import PROTOCOL_VERSION
from gradcraft_studio.link.protocol import CommandReader, Parsed, Rejected, encode, parse_command, parse_trainer_message


def command(**fields):
    return {"v": "1.0", "id": "h-1", **fields}


def test_a_valid_command_parses_with_its_defaults_filled():
    parsed = parse_command(command(type="set-strategy", name="pcgrad"))
    assert isinstance(parsed, Parsed)
    assert parsed.value["params"] == {}
    assert parsed.newer_minor is False
    evaluate = parse_command(command(type="evaluate"))
    assert evaluate.value["split"] == "validation"


def test_a_newer_minor_is_read_and_its_unknown_fields_are_dropped_and_named():
    parsed = parse_command({**command(type="pause"), "v": "1.7", "urgency": "high"})
    assert isinstance(parsed, Parsed)
    assert parsed.newer_minor is True
    assert parsed.dropped_fields == ["urgency"]
    assert "urgency" not in parsed.value


def test_another_major_is_refused_naming_both_versions():
    parsed = parse_command({**command(type="pause"), "v": "2.0"})
    assert isinstance(parsed, Rejected) and parsed.kind == "version" and parsed.id == "h-1"
    assert f"protocol version 2.0 is newer than this reader ({PROTOCOL_VERSION})" in parsed.reason


@pytest.mark.parametrize(
    "fields, why",
    [
        ({"type": "set-hyperparameters", "learningRate": 2}, "learningRate: must be <= 1, got 2"),
        ({"type": "set-hyperparameters", "learningRate": "fast"}, "learningRate: must be a number"),
        ({"type": "set-hyperparameters"}, "nothing to change"),
        ({"type": "set-strategy"}, "name: is required"),
        ({"type": "evaluate", "split": "holdout"}, "split: must be one of"),
        ({"type": "rewind"}, 'unknown command type "rewind"'),
    ],
)
def test_a_command_that_cannot_be_accepted_is_rejected_saying_which_field_and_why(fields, why):
    parsed = parse_command(command(**fields))
    assert isinstance(parsed, Rejected)
    assert parsed.id == "h-1", "the id is kept, so the sender gets a refused ack"
    assert why in parsed.reason


def test_lines_that_are_not_commands_are_malformed():
    for value in ([], "pause", {"v": "1.0"}, {"type": "pause"}, {"type": "pause", "v": "one"}):
        parsed = parse_command(value)
        assert isinstance(parsed, Rejected) and parsed.kind == "malformed", value


def test_the_reader_reports_each_kind_of_problem_once_and_refuses_what_has_an_id():
    accepted, refused, notes = [], [], []
    reader = CommandReader(accepted.append, lambda *args: refused.append(args), notes.append)
    for line in ["not json", "{oops", json.dumps(command(type="rewind")), json.dumps(command(type="rewind", id="h-2"))]:
        reader.line(line)
    reader.line(json.dumps({**command(type="pause", id="h-3"), "v": "1.3", "extra": 1}))
    reader.line(json.dumps({**command(type="resume", id="h-4"), "v": "1.3"}))
    reader.line("")
    assert [c["id"] for c in accepted] == ["h-3", "h-4"]
    assert refused == [("h-1", "rewind", 'unknown command type "rewind"'), ("h-2", "rewind", 'unknown command type "rewind"')]
    assert len([n for n in notes if "not JSON" in n]) == 1
    assert len([n for n in notes if "rewind" in n]) == 1
    assert len([n for n in notes if "newer than this reader" in n]) == 1
    assert any('"pause" field extra is not known to this reader' in n for n in notes)


def test_encoding_refuses_what_json_cannot_carry():
    assert encode({"a": 1}) == '{"a":1}\n'
    with pytest.raises(ValueError):
        encode({"loss": math.nan})


def test_the_trainer_messages_schema_is_the_typescript_one():
    step = {
        "v": "1.0",
        "type": "step",
        "step": 1,
        "epoch": 0,
        "wallMs": 1,
        "losses": [0.5],
        "norms": [1],
        "cosines": [1],
        "weights": [1],
        "conflictingPairs": 0,
        "updateNorm": 1,
        "updateCosines": [1],
        "conflictsWithUpdate": False,
        "strategy": "ew",
        "learningRate": 0.001,
        "stepTimeMs": 3,
    }
    assert isinstance(parse_trainer_message(step), Parsed)
    broken = parse_trainer_message({**step, "norms": [-1]})
    assert isinstance(broken, Rejected) and "norms[0]: must be >= 0, got -1" in broken.reason
