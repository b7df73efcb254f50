"""Strategy parameters come from the shared definition (generated from the zod schemas) and are
parsed as zod parses them: defaults filled in, bad values refused naming the parameter."""

from __future__ import annotations

from typing import Any

import pytest

from gradcraft_studio import PROTOCOL_VERSION, STRATEGIES
from gradcraft_studio.definitions import STRATEGY_DEFINITIONS, parse_params


def test_every_generated_strategy_has_an_implementation_and_no_other() -> None:
    assert list(STRATEGIES) == list(STRATEGY_DEFINITIONS)
    assert len(STRATEGIES) == 16
    assert PROTOCOL_VERSION.count(".") == 1


def test_texts_and_flags_come_from_the_definition() -> None:
    assert STRATEGIES["gradcraft"].title == "GradCraft"
    assert STRATEGIES["uw"].uses_losses is True
    assert STRATEGIES["db-mtl"].loss_transform == "log"
    assert STRATEGIES["ew"].loss_transform is None


def test_defaults_are_filled_in_and_optional_parameters_stay_absent() -> None:
    assert parse_params("gradcraft", None) == {"tau": 1, "eps": 0, "projection": "global"}
    assert parse_params("pcgrad", {"seed": 3}) == {"seed": 3, "reduction": "mean", "denominatorEps": 0}
    assert parse_params("gradnorm", {}) == {"alpha": 1.5, "lr": 0.01, "optimizer": "adam"}


def test_values_are_checked_as_the_schema_says() -> None:
    assert parse_params("single", {"task": 2.0}) == {"task": 2}
    assert parse_params("cagrad", {"rescale": 2})["rescale"] == 2
    assert parse_params("pcgrad", {"orders": [[1, 0], [0, 1]]})["orders"] == [[1, 0], [0, 1]]
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("gradcraft", {"tau": 1.5}, 'parameter "tau": must be <= 1, got 1.5'),
        ("gradcraft", {"tau": True}, 'parameter "tau": must be a number, got true'),
        ("gradcraft", {"eps": float("nan")}, 'parameter "eps": must be a finite number'),
        ("gradcraft", {"projection": "sideways"}, 'parameter "projection": must be one of "global", "local"'),
        ("single", {"task": 1.5}, 'parameter "task": must be an integer, got 1.5'),
        ("uw", {"lr": 0}, 'parameter "lr": must be > 0, got 0'),
        ("cagrad", {"rescale": 3}, 'parameter "rescale": must be one of 0, 1, 2, got 3'),
        ("pcgrad", {"orders": [[0, -1]]}, 'parameter "orders.0.1": must be >= 0, got -1'),
        ("gradcraft", {"beta": 1}, 'unknown parameter "beta" for strategy "gradcraft" (known: tau, eps, projection)'),
        ("ew", {"tau": 1}, 'unknown parameter "tau" for strategy "ew" (known: none)'),
        ("gradcraftt", {}, 'unknown strategy "gradcraftt"'),
    ]
    for name, raw, message in cases:
        with pytest.raises(ValueError) as caught:
            parse_params(name, raw)
        assert message in str(caught.value), (name, raw, str(caught.value))
