"""The live link's wire format, read from the TypeScript definitions (``_generated/protocol.json``).

One JSON object per line, each with ``v`` (the writer's protocol version) and ``type``. The
version rules and the field checks are the ones ``docs/protocol.md`` states: a reader of 1.x reads
any 1.y (fields it does not know are dropped and noted once), refuses another major, and answers
a command it cannot accept that carries an ``id`` with a refused ``ack`` so its sender need not
wait for a timeout.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Callable

from ..definitions import check_value

MAX_LINE_CHARS = 4 * 1024 * 1024
# Distinct unknown types and fields named per stream before the reader stops naming them.
MAX_DETAILED_NOTES = 32


@lru_cache(maxsize=1)
def definitions() -> dict:
    """Every message and command of the protocol as JSON Schema, generated from the TypeScript."""
    text = resources.files("gradcraft_studio").joinpath("_generated", "protocol.json").read_text("utf-8")
    return json.loads(text)


def protocol_version() -> str:
    return definitions()["version"]


def encode(message: dict) -> str:
    """One line of NDJSON. NaN and infinities are not JSON: a writer must say null instead."""
    return json.dumps(message, separators=(",", ":"), allow_nan=False, ensure_ascii=False) + "\n"


def message(kind: str, **fields: Any) -> dict:
    """A trainer → host message stamped with this package's protocol version."""
    return {"v": protocol_version(), "type": kind, **fields}


def check_version(v: Any) -> tuple[bool, str | None, bool]:
    """(readable, why not, malformed): the version rule applied to a line's ``v``."""
    ours = protocol_version()
    if not isinstance(v, str):
        return False, f'missing protocol version "v" (this reader speaks {ours})', True
    match = re.fullmatch(r"(\d+)\.(\d+)", v)
    if not match:
        return False, f'protocol version "{v}" is not MAJOR.MINOR', True
    major, our_major = int(match.group(1)), int(ours.split(".")[0])
    if major > our_major:
        return False, f"protocol version {v} is newer than this reader ({ours}): update GradCraft Studio to read it", False
    if major < our_major:
        return False, f"protocol version {v} is older than this reader ({ours}) and no longer supported", False
    return True, None, False


@dataclass
class Rejected:
    """A line the reader did not accept. ``kind``: malformed, version, unknown-type or invalid."""

    kind: str
    reason: str
    type: str | None = None
    id: str | None = None


@dataclass
class Parsed:
    value: dict
    newer_minor: bool
    dropped_fields: list[str] = field(default_factory=list)


def _known_fields(schema: dict) -> set[str] | None:
    if schema.get("additionalProperties", True) is not False and "properties" not in schema:
        return None  # a record: any key
    return set(schema.get("properties", {}))


def _drop_unknown(schema: dict, value: Any, path: str, dropped: list[str]) -> Any:
    """``value`` without the fields ``schema`` does not define (a newer writer's additions)."""
    if isinstance(value, dict) and schema.get("type") == "object":
        known = _known_fields(schema)
        properties = schema.get("properties", {})
        kept = {}
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if known is not None and key not in known:
                dropped.append(where)
            else:
                kept[key] = _drop_unknown(properties[key], item, where, dropped) if key in properties else item
        return kept
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_drop_unknown(schema["items"], item, f"{path}[]", dropped) for item in value]
    return value


def parse(value: Any, schemas: dict, what: str) -> Parsed | Rejected:
    """Checks a decoded JSON value against one family of schemas (commands, messages). Never raises."""
    if not isinstance(value, dict):
        return Rejected("malformed", f"a {what} must be a JSON object")
    kind = value.get("type")
    if not isinstance(kind, str):
        return Rejected("malformed", f'a {what} needs a string "type"')
    command_id = value.get("id") if isinstance(value.get("id"), str) and value.get("id") else None
    readable, why, malformed = check_version(value.get("v"))
    if not readable:
        return Rejected("malformed" if malformed else "version", why or "", kind, command_id)
    if kind not in schemas:
        return Rejected("unknown-type", f'unknown {what} type "{kind}"', kind, command_id)
    schema = schemas[kind]
    dropped: list[str] = []
    cleaned = _drop_unknown(schema, value, "", dropped)
    try:
        filled = check_value(schema, cleaned)
    except ValueError as error:
        return Rejected("invalid", f'invalid "{kind}" {what}: {error}', kind, command_id)
    newer = int(value["v"].split(".")[1]) > int(protocol_version().split(".")[1])
    return Parsed(filled, newer, dropped)


def parse_command(value: Any) -> Parsed | Rejected:
    """A host → trainer command, checked against its generated schema."""
    parsed = parse(value, definitions()["commands"], "command")
    if isinstance(parsed, Parsed) and parsed.value["type"] == "set-hyperparameters":
        changes = ("learningRate", "l2", "clipNorm", "evalEvery", "strategyParams")
        if not any(key in parsed.value for key in changes):
            return Rejected(
                "invalid",
                'invalid "set-hyperparameters" command: nothing to change: give at least one of '
                "learningRate, l2, clipNorm, evalEvery, strategyParams",
                "set-hyperparameters",
                parsed.value["id"],
            )
    return parsed


def parse_trainer_message(value: Any) -> Parsed | Rejected:
    """A trainer → host message (what this package writes), checked against its generated schema."""
    return parse(value, definitions()["messages"], "message")


class CommandReader:
    """Reads one stream of command lines: each problem is reported once per kind (unknown types and
    fields once each), and an unacceptable command that carries an id is handed to ``refuse``."""

    def __init__(
        self,
        on_command: Callable[[dict], None],
        refuse: Callable[[str, str | None, str], None],
        report: Callable[[str], None],
    ) -> None:
        self._on_command = on_command
        self._refuse = refuse
        self._report = report
        self._noted: set[str] = set()
        self._detailed = 0
        self.line_number = 0

    def _note(self, key: str, text: str, detailed: bool = False) -> None:
        if key in self._noted:
            return
        if detailed:
            if self._detailed == MAX_DETAILED_NOTES:
                self._detailed += 1
                self._report(f"line {self.line_number}: more unknown types and fields follow; no longer naming them")
            if self._detailed > MAX_DETAILED_NOTES:
                return
            self._detailed += 1
        self._noted.add(key)
        self._report(f"line {self.line_number}: {text}")

    def line(self, text: str) -> None:
        self.line_number += 1
        if not text.strip():
            return
        if len(text) > MAX_LINE_CHARS:
            self._note("oversized", f"a line of {len(text)} characters is longer than {MAX_LINE_CHARS} and was dropped")
            return
        try:
            value = json.loads(text)
        except ValueError:
            self._note("malformed", "not JSON: line skipped")
            return
        if isinstance(value, dict) and value.get("type") == "incompatible":
            # A host of another major refuses this trainer once, with the version it speaks.
            self._report(f"the host speaks protocol {value.get('v')}: {value.get('reason')}")
            return
        parsed = parse_command(value)
        if isinstance(parsed, Rejected):
            if parsed.kind == "unknown-type":
                self._note(f"unknown-type:{parsed.type}", parsed.reason, detailed=True)
            else:
                self._note(parsed.kind, parsed.reason)
            if parsed.id is not None:
                self._refuse(parsed.id, parsed.type, parsed.reason)
            return
        if parsed.newer_minor:
            self._note("newer-minor", f"the host writes protocol {value['v']}, newer than this reader ({protocol_version()})")
        for name in parsed.dropped_fields:
            self._note(
                f"field:{parsed.value['type']}:{name}",
                f'"{parsed.value["type"]}" field {name} is not known to this reader (protocol {protocol_version()}) and was ignored',
                detailed=True,
            )
        self._on_command(parsed.value)


def finite_or_none(x: float) -> float | None:
    """Metrics that are undefined (one class in a split) travel as null."""
    return float(x) if x is not None and math.isfinite(x) else None
