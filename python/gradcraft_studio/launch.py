"""How a training script learns where it runs: spawned by VS Code, or started in a terminal.

The extension starts a Python trainer named by a config's ``"trainer": {"command": [...]}`` with
these environment variables (docs/pytorch.md); a script started anywhere else has none of them:

- ``GRADCRAFT_PROTOCOL=stdio``: speak the live link on stdout/stdin (the extension reads it);
- ``GRADCRAFT_CONFIG``: the ``*.gradcraft.json`` the run was started from;
- ``GRADCRAFT_RUNS_FOLDER``: where to create the run folder (the Runs view lists that folder);
- ``GRADCRAFT_LISTEN=1``: also serve the token-guarded socket, so other clients can attach.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any, Mapping

DEFAULT_RUNS_FOLDER = os.path.join(".gradcraft", "runs")


@dataclass(frozen=True)
class Launch:
    stdio: bool
    listen: bool | None
    runs_folder: str | None
    config_path: str | None


def from_environment(env: Mapping[str, str] = os.environ) -> Launch:
    listen = env.get("GRADCRAFT_LISTEN")
    return Launch(
        stdio=env.get("GRADCRAFT_PROTOCOL") == "stdio",
        listen=None if listen is None else listen not in ("", "0", "false"),
        runs_folder=env.get("GRADCRAFT_RUNS_FOLDER") or None,
        config_path=env.get("GRADCRAFT_CONFIG") or None,
    )


class ConfigError(ValueError):
    """A config file that cannot be read, with the place (file:line:column or field path) and why."""


def _strip_comments(text: str) -> str:
    """JSON with // and /* */ comments (what the editor allows in *.gradcraft.json) as plain JSON.

    Comments become spaces of the same length, so line and column numbers stay right.
    """
    pattern = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*[\s\S]*?\*/')

    def blank(match: re.Match) -> str:
        token = match.group(0)
        if token.startswith('"'):
            return token
        return re.sub(r"[^\n]", " ", token)

    return pattern.sub(blank, text)


def read_config(path: str, schema: Mapping[str, Any] | None = None) -> dict:
    """A ``*.gradcraft.json`` file as a dict; ``schema``: the training config's JSON Schema to check."""
    from .definitions import check_value

    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the config: {error.strerror}") from None
    try:
        value = json.loads(_strip_comments(text))
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: a config is a JSON object")
    if schema is not None:
        try:
            check_value(schema, value)
        except ValueError as error:
            raise ConfigError(f"{path}: invalid config: {error}") from None
    return value
