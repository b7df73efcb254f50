"""The strategy definitions shared with the TypeScript core, and parameter parsing against them.

``_generated/strategies.json`` is written by ``scripts/gen-python.mjs`` from the zod schemas of
``src/core/strategies`` (one definition for both languages; never edit it by hand). It holds each
strategy's texts, flags and parameter JSON Schema, and the protocol version. ``parse_params``
applies the schema as zod does: unknown names and bad values are errors naming the parameter,
missing ones take their defaults.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from importlib import resources
from typing import Any


def _load() -> dict[str, Any]:
    text = resources.files("gradcraft_studio").joinpath("_generated/strategies.json").read_text("utf-8")
    return json.loads(text)


_DEFINITIONS = _load()

#: Protocol version "MAJOR.MINOR" of src/protocol/messages.ts.
PROTOCOL_VERSION: str = _DEFINITIONS["protocolVersion"]

#: Each strategy's definition by name, in the registry order of src/core/strategies/index.ts:
#: ``name, title, summary, citation, usesLosses, lossTransform, params`` (a JSON Schema object).
STRATEGY_DEFINITIONS: dict[str, dict[str, Any]] = {s["name"]: s for s in _DEFINITIONS["strategies"]}


class _Invalid(Exception):
    def __init__(self, path: list[str | int], message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def _describe(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (str, list, dict, bool)) or value is None else repr(value)


def _check(schema: Mapping[str, Any], value: Any, path: list[str | int]) -> Any:
    """Validates one value against a JSON Schema node; returns it normalised (ints as int)."""
    if "anyOf" in schema:
        for branch in schema["anyOf"]:
            try:
                return _check(branch, value, path)
            except _Invalid:
                continue
        options = ", ".join(_describe(b.get("const", b.get("type"))) for b in schema["anyOf"])
        raise _Invalid(path, f"must be one of {options}, got {_describe(value)}")
    kind = schema.get("type")
    if kind in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Invalid(path, f"must be a number, got {_describe(value)}")
        if not math.isfinite(value):
            raise _Invalid(path, f"must be a finite number, got {value}")
        if kind == "integer":
            if not float(value).is_integer():
                raise _Invalid(path, f"must be an integer, got {value}")
            value = int(value)
        if "minimum" in schema and value < schema["minimum"]:
            raise _Invalid(path, f"must be >= {schema['minimum']}, got {value}")
        if "maximum" in schema and value > schema["maximum"]:
            raise _Invalid(path, f"must be <= {schema['maximum']}, got {value}")
        if "exclusiveMinimum" in schema and not value > schema["exclusiveMinimum"]:
            raise _Invalid(path, f"must be > {schema['exclusiveMinimum']}, got {value}")
        if "exclusiveMaximum" in schema and not value < schema["exclusiveMaximum"]:
            raise _Invalid(path, f"must be < {schema['exclusiveMaximum']}, got {value}")
    elif kind == "string":
        if not isinstance(value, str):
            raise _Invalid(path, f"must be a string, got {_describe(value)}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise _Invalid(path, f"must be true or false, got {_describe(value)}")
    elif kind == "array":
        if not isinstance(value, (list, tuple)):
            raise _Invalid(path, f"must be an array, got {_describe(value)}")
        items = schema.get("items", {})
        value = [_check(items, item, [*path, i]) for i, item in enumerate(value)]
    elif kind is not None:
        raise _Invalid(path, f"has schema type {kind!r}, which this package cannot check: regenerate it")
    if "const" in schema and value != schema["const"]:
        raise _Invalid(path, f"must be {_describe(schema['const'])}, got {_describe(value)}")
    if "enum" in schema and value not in schema["enum"]:
        options = ", ".join(_describe(option) for option in schema["enum"])
        raise _Invalid(path, f"must be one of {options}, got {_describe(value)}")
    return value


def parse_params(name: str, raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validates ``raw`` against strategy ``name``'s parameter schema and fills in the defaults.

    Raises ValueError naming the strategy and the parameter, as ``parseStrategyParams`` in
    src/core/combine.ts does.
    """
    definition = STRATEGY_DEFINITIONS.get(name)
    if definition is None:
        raise ValueError(f'unknown strategy "{name}" (known: {", ".join(STRATEGY_DEFINITIONS)})')
    raw = {} if raw is None else raw
    if not isinstance(raw, Mapping):
        raise ValueError(f'strategy "{name}": parameters must be an object, got {_describe(raw)}')
    properties: dict[str, Any] = definition["params"].get("properties", {})
    for key in raw:
        if key not in properties:
            known = ", ".join(properties) if properties else "none"
            raise ValueError(f'unknown parameter "{key}" for strategy "{name}" (known: {known})')
    parsed: dict[str, Any] = {}
    for key, schema in properties.items():
        if key in raw and raw[key] is not None:
            try:
                parsed[key] = _check(schema, raw[key], [key])
            except _Invalid as invalid:
                where = ".".join(str(part) for part in invalid.path)
                raise ValueError(f'strategy "{name}": parameter "{where}": {invalid.message}') from None
        elif "default" in schema:
            parsed[key] = schema["default"]
    return parsed
