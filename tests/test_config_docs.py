"""docs/CONFIGURATION.md says what the models say: every key and variable, its default, its range."""

from __future__ import annotations

import re
from pathlib import Path

from nightly_batch.settings.config_model import KNOWN_KEYS, Config
from nightly_batch.settings.environment import Environment
from nightly_batch.settings.reference import render

DOC = Path(__file__).parent.parent / "docs" / "CONFIGURATION.md"


def documented_rows() -> dict[str, list[str]]:
    """The tables' rows by their first cell, `key` or `VARIABLE`."""
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        found = re.fullmatch(r"\| `([^`]+)` \| (.*) \|", line)
        if found:
            rows[found.group(1)] = found.group(2).split(" | ")
    return rows


def test_the_tables_are_as_the_models_write_them() -> None:
    """Regenerate with `python -m nightly_batch.settings.reference docs/CONFIGURATION.md`."""
    text = DOC.read_text(encoding="utf-8")

    assert render(text) == text


def test_every_key_and_variable_is_documented_with_its_default_and_meaning() -> None:
    """No key without a row, no row without a default and a description in the model."""
    rows = documented_rows()
    variables = set(Environment.model_fields)

    assert set(rows) == set(KNOWN_KEYS) | variables
    assert all(len(cells) == 3 and all(cells) for cells in rows.values())
    assert rows["heartbeatMinutes"][:2] == ["`5`", "a whole number from 1 to 60"]
    assert rows["stateFile"][0] == "(required)"
    for model in (Config, Environment):
        undescribed = [
            name
            for name, field in model.model_fields.items()
            if not field.exclude and not field.description
        ]
        assert undescribed == []
