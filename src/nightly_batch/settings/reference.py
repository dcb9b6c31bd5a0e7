"""docs/CONFIGURATION.md's tables of keys and variables, written from the models.

`python -m nightly_batch.settings.reference docs/CONFIGURATION.md` rewrites the tables between
their markers and leaves the prose around them alone; tests/test_config_docs.py fails when the
file differs from what the models say, so a key cannot be added without its documentation.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from nightly_batch.settings.allowed import describe, field_kind
from nightly_batch.settings.config_model import Config
from nightly_batch.settings.environment import Environment, describe_allowed, is_secret

KEYS_START = "<!-- keys: written from settings/config_model.py by settings/reference.py -->"
KEYS_END = "<!-- end of keys -->"
VARIABLES_START = (
    "<!-- variables: written from settings/environment.py by settings/reference.py -->"
)
VARIABLES_END = "<!-- end of variables -->"


def keys_table() -> str:
    """One row per config key: its default, what it allows and what it means."""
    rows = ["| key | default | allowed | meaning |", "| --- | --- | --- | --- |"]
    for name, field in Config.model_fields.items():
        if field.exclude:  # configPath: load_config's, not a key of the file
            continue
        kind, extras = field_kind(field)
        rows.append(
            f"| `{field.alias or name}` | {_default(field)} | {_cell(describe(kind, extras))} "
            f"| {_cell(field.description or '')} |"
        )
    return "\n".join(rows)


def variables_table() -> str:
    """One row per environment variable; each also accepts `NAME_FILE`."""
    rows = ["| variable | default | allowed | meaning |", "| --- | --- | --- | --- |"]
    for name, field in Environment.model_fields.items():
        allowed = describe_allowed(name)
        if is_secret(field.annotation):
            allowed += " (a secret: masked by check-config, redacted from logs)"
        rows.append(
            f"| `{name}` | {_default(field)} | {_cell(allowed)} | {_cell(field.description or '')} |"
        )
    return "\n".join(rows)


def _default(field: FieldInfo) -> str:
    # Our default factories take no arguments, so the empty validated data is never read.
    value = field.get_default(call_default_factory=True, validated_data={})
    if value is PydanticUndefined:
        return "(required)"
    if value is None:
        return "none"
    return f"`{json.dumps(_plain(value))}`"


def _plain(value: Any) -> Any:
    """A default as an operator would write it: 12 rather than 12.0."""
    if isinstance(value, BaseModel):
        return _plain(value.model_dump(mode="json", by_alias=True))
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(document: str) -> str:
    """The document with both tables rewritten from the models."""
    document = _replace_between(document, KEYS_START, KEYS_END, keys_table())
    return _replace_between(document, VARIABLES_START, VARIABLES_END, variables_table())


def _replace_between(document: str, start: str, end: str, table: str) -> str:
    before, found, rest = document.partition(start)
    if not found or end not in rest:
        raise ValueError(f"the document lacks the markers {start!r} and {end!r}")
    return f"{before}{start}\n{table}\n{end}{rest.partition(end)[2]}"


def main(arguments: list[str]) -> int:
    """Rewrite the tables of the named document in place."""
    if len(arguments) != 1:
        sys.stderr.write(
            "usage: python -m nightly_batch.settings.reference docs/CONFIGURATION.md\n"
        )
        return 2
    path = Path(arguments[0])
    path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
