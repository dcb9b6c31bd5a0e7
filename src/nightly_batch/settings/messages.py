"""Turns config mistakes into one readable sentence each, and spots likely misspelt keys.

A sentence is built from the fields of `ValidationError.errors()`, never from pydantic's
English: `loc` names the key (and finds its declaration, which says what the key allows),
`input` and the file give the value, `type` picks the form of the sentence, and our own checks
put their words in `ctx`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from nightly_batch.settings.allowed import (
    describe,
    field_kind,
    is_model,
    model_keys,
    optional_inner,
    unwrap,
)
from nightly_batch.settings.checks import OWN_CHECK, either

# Enough for every mistake of a hand-edited file; a generated one may have hundreds.
MOST_SENTENCES = 5
_PLAIN_KEY = re.compile(r"[A-Za-z][\w-]*")
_ABSENT = object()


def describe_validation_error(
    path: Path, raw: dict[str, Any], model: type[BaseModel], error: ValidationError
) -> str:
    """One sentence per mistake, on one line after the file: the key, the value, what is allowed."""
    problems = error.errors(include_url=False)
    sentences = [_sentence(raw, model, problem) for problem in problems[:MOST_SENTENCES]]
    left = len(problems) - MOST_SENTENCES
    if left > 0:
        sentences.append(f"{left} more {'mistake' if left == 1 else 'mistakes'} not shown.")
    return f"{path}: {' '.join(sentences)}"


def _sentence(raw: dict[str, Any], model: type[BaseModel], problem: ErrorDetails) -> str:
    kind = problem["type"]
    if kind == "extra_forbidden":  # a nested object of ours with a key it does not take
        parent = _locate(raw, model, problem["loc"][:-1])
        taken = model_keys(_bare(parent.kind)) if is_model(_bare(parent.kind)) else []
        return (
            f"{parent.key} has an unknown key {json.dumps(str(problem['loc'][-1]))}; "
            f"it takes {either(taken, 'and') or 'no other keys'}."
        )
    place = _locate(raw, model, problem["loc"])
    if kind == "missing":
        return f"{place.key} is required but missing."
    # The value as the file holds it at the key: pydantic's input can be a part of it (the
    # refused key of a mapping) or the single channel wrapped in a list.
    value = show_value(problem["input"] if place.value is _ABSENT else place.value)
    if kind == OWN_CHECK:
        return f"{place.key} = {value} {problem.get('ctx', {})['reason']}."
    if place.kind is None:
        return f"{place.key} = {value} is not allowed."
    return f"{place.key} = {value} must be {describe(place.kind, place.extras)}."


@dataclass(frozen=True)
class _Place:
    key: str  # as the operator reads it: confidenceWeights.keyword, digestNotificationChannel[1]
    kind: Any  # the declared type there, None if nothing is declared
    extras: list[Any]  # its constraints and markers
    value: Any  # the value the file holds there, _ABSENT if it holds none


def _locate(raw: Any, model: type[BaseModel], loc: tuple[int | str, ...]) -> _Place:
    """Follow an error's location through the declarations and the file together."""
    if "[key]" in loc:  # a refused key of a mapping: the sentence is about the whole mapping
        loc = loc[: loc.index("[key]") - 1]
    key, extras, value = "", list[Any](), raw
    kind: Any = model
    for part in loc:
        here = _bare(kind)
        if isinstance(part, int):
            if not isinstance(value, list):  # one item written without its list (OneOrMany)
                break
            key += f"[{part}]"
            kind, extras = (get_args(here)[0] if get_origin(here) is list else None), []
            value = value[part] if 0 <= part < len(value) else _ABSENT
            continue
        if is_model(here):
            key += f".{part}" if key else part
            field = next((f for n, f in here.model_fields.items() if (f.alias or n) == part), None)
            kind, extras = field_kind(field) if field else (None, [])
        else:
            key += f".{part}" if _PLAIN_KEY.fullmatch(part) else f"[{json.dumps(part)}]"
            kind, extras = (get_args(here)[1] if get_origin(here) is dict else None), []
        value = value.get(part, _ABSENT) if isinstance(value, dict) else _ABSENT
    return _Place(key or "the config file", kind, extras, value)


def _bare(kind: Any) -> Any:
    """The type to step into: without Annotated's extras and without `| None`."""
    kind = unwrap(kind)[0]
    return unwrap(optional_inner(kind) or kind)[0]


# How much of a wrong value a sentence shows: enough to recognise it, never a whole file.
_DEPTH, _ITEMS, _CHARACTERS = 3, 6, 60


def show_value(value: Any) -> str:
    """A value as the sentence shows it: as JSON (the file's own notation, not Python's), cut
    short; safe for any JSON: deep nesting, long strings, 5000-digit integers."""
    text = _as_json(value, 0)
    return text if len(text) <= 80 else text[:77] + "..."


def _as_json(value: Any, level: int) -> str:  # noqa: PLR0911  (one return per JSON type)
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        # str() of an integer of more than 4,300 digits raises, so say how long it is instead.
        if value.bit_length() > 128:
            return f"<a whole number of about {int(value.bit_length() * 0.30103):,} digits>"
        return str(value)
    if isinstance(value, float):
        return json.dumps(value)  # NaN and Infinity as the file wrote them
    if isinstance(value, str):
        cut = value if len(value) <= _CHARACTERS else value[: _CHARACTERS - 3] + "..."
        return json.dumps(cut, ensure_ascii=False)
    if isinstance(value, list | tuple):
        if level >= _DEPTH:
            return "[...]"
        items = [_as_json(item, level + 1) for item in value[:_ITEMS]]
        return "[" + ", ".join(items + (["..."] if len(value) > _ITEMS else [])) + "]"
    if isinstance(value, dict):
        if level >= _DEPTH:
            return "{...}"
        pairs = [
            f"{json.dumps(str(key), ensure_ascii=False)}: {_as_json(item, level + 1)}"
            for key, item in list(value.items())[:_ITEMS]
        ]
        return "{" + ", ".join(pairs + (["..."] if len(value) > _ITEMS else [])) + "}"
    return json.dumps(str(value), ensure_ascii=False)


def near_miss_warnings(path: Path, raw: dict[str, Any], known: set[str]) -> list[str]:
    """Warn about unknown keys within a small edit distance of one of ours (likely typos)."""
    warnings = []
    for key in raw:
        if key in known:
            continue
        best = min(known, key=lambda ours: edit_distance(key.lower(), ours.lower()))
        distance = edit_distance(key.lower(), best.lower())
        if distance <= max(1, min(2, len(best) // 5)):
            warnings.append(
                f"{path}: unknown key {json.dumps(key)} is ignored; did you mean {json.dumps(best)}?"
            )
    return warnings


def edit_distance(left: str, right: str) -> int:
    """Levenshtein distance (insertions, deletions and substitutions each cost 1)."""
    previous = list(range(len(right) + 1))
    for i, left_char in enumerate(left, start=1):
        current = [i]
        for j, right_char in enumerate(right, start=1):
            current.append(
                min(
                    previous[j] + 1,
                    current[j - 1] + 1,
                    previous[j - 1] + (left_char != right_char),
                )
            )
        previous = current
    return previous[-1]
