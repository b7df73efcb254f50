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


_TYPES = {
    "number": "a number",
    "integer": "an integer",
    "string": "a string",
    "boolean": "true or false",
    "array": "an array",
    "object": "an object",
    "null": "null",
}


def _is(kind: str, value: Any) -> bool:
    if kind in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
        return kind == "number" or float(value).is_integer()
    return {
        "string": lambda: isinstance(value, str),
        "boolean": lambda: isinstance(value, bool),
        "array": lambda: isinstance(value, (list, tuple)),
        "object": lambda: isinstance(value, Mapping),
        "null": lambda: value is None,
    }.get(kind, lambda: False)()


def _check(schema: Mapping[str, Any], value: Any, path: list[str | int]) -> Any:
    """Validates one value against a JSON Schema node (the subset zod's toJSONSchema writes);
    returns it normalised: ints as int, objects with their properties' defaults filled in."""
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        failures: list[_Invalid] = []
        for branch in branches:
            try:
                return _check(branch, value, path)
            except _Invalid as invalid:
                failures.append(invalid)
        # A branch that failed inside the value (its type matched) says what is wrong there.
        deepest = max(failures, key=lambda f: len(f.path))
        if len(deepest.path) > len(path):
            raise deepest
        options = ", ".join(_describe(b.get("const", b.get("type"))) for b in branches)
        raise _Invalid(path, f"must be one of {options}, got {_describe(value)}")
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        unknown = [k for k in kinds if k not in _TYPES]
        if unknown:
            raise _Invalid(path, f"has schema type {unknown[0]!r}, which this package cannot check: regenerate it")
        if not any(_is(k, value) for k in kinds):
            if isinstance(value, float) and not math.isfinite(value) and {"number", "integer"} & set(kinds):
                raise _Invalid(path, f"must be a finite number, got {value}")
            raise _Invalid(path, f"must be {' or '.join(_TYPES[k] for k in kinds)}, got {_describe(value)}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "integer" in (kind if isinstance(kind, list) else [kind]):
            value = int(value)
        if "minimum" in schema and value < schema["minimum"]:
            raise _Invalid(path, f"must be >= {schema['minimum']}, got {value}")
        if "maximum" in schema and value > schema["maximum"]:
            raise _Invalid(path, f"must be <= {schema['maximum']}, got {value}")
        if "exclusiveMinimum" in schema and not value > schema["exclusiveMinimum"]:
            raise _Invalid(path, f"must be > {schema['exclusiveMinimum']}, got {value}")
        if "exclusiveMaximum" in schema and not value < schema["exclusiveMaximum"]:
            raise _Invalid(path, f"must be < {schema['exclusiveMaximum']}, got {value}")
    elif isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            raise _Invalid(path, f"must have at least {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            raise _Invalid(path, f"must have at most {schema['maxLength']} characters")
    elif isinstance(value, (list, tuple)):
        if "minItems" in schema and len(value) < schema["minItems"]:
            raise _Invalid(path, f"must have at least {schema['minItems']} entries, got {len(value)}")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            raise _Invalid(path, f"must have at most {schema['maxItems']} entries, got {len(value)}")
        items = schema.get("items", {})
        value = [_check(items, item, [*path, i]) for i, item in enumerate(value)]
    elif isinstance(value, Mapping):
        value = _check_object(schema, value, path)
    if "const" in schema and value != schema["const"]:
        raise _Invalid(path, f"must be {_describe(schema['const'])}, got {_describe(value)}")
    if "enum" in schema and value not in schema["enum"]:
        options = ", ".join(_describe(option) for option in schema["enum"])
        raise _Invalid(path, f"must be one of {options}, got {_describe(value)}")
    return value


def _check_object(schema: Mapping[str, Any], value: Mapping[str, Any], path: list[str | int]) -> dict[str, Any]:
    properties: Mapping[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    checked: dict[str, Any] = {}
    for key, item in value.items():
        if key in properties:
            checked[key] = _check(properties[key], item, [*path, key])
        elif extra is False:
            known = ", ".join(properties) if properties else "none"
            raise _Invalid([*path, key], f"is not a known field (known: {known})")
        else:
            checked[key] = _check(extra, item, [*path, key]) if isinstance(extra, Mapping) else item
    for key in schema.get("required", []):
        if key not in checked:
            raise _Invalid([*path, key], "is required")
    for key, prop in properties.items():
        if key not in checked and "default" in prop:
            checked[key] = prop["default"]
    return checked


def field_path(path: list[str | int]) -> str:
    """``training.learningRate``, ``losses[2]``: a field as the protocol's readers name it."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def check_value(schema: Mapping[str, Any], value: Any) -> Any:
    """``value`` checked against a generated JSON Schema and normalised (defaults filled in);
    ValueError "field.path: why" otherwise."""
    try:
        return _check(schema, value, [])
    except _Invalid as invalid:
        where = field_path(invalid.path)
        raise ValueError(f"{where}: {invalid.message}" if where else invalid.message) from None


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
