"""Turns config mistakes into one readable sentence each, and spots likely misspelt keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")


def describe_validation_error(path: Path, error: ValidationError) -> str:
    """One sentence per problem: the file, the key, the value and what is allowed."""
    sentences = []
    for problem in error.errors(include_url=False):
        key = ".".join(str(part) for part in problem["loc"] if not isinstance(part, int))
        message = problem["msg"]
        for prefix in _PYDANTIC_PREFIXES:
            message = message.removeprefix(prefix)
        message = message[0].lower() + message[1:] if message else message
        if problem["type"] == "missing":
            sentences.append(f"{path}: {key} is required but missing.")
        elif problem["type"] == "literal_error":
            sentences.append(
                f"{path}: {key} = {_show(problem['input'])} is not allowed: {message}."
            )
        else:
            sentences.append(f"{path}: {key} = {_show(problem['input'])} {_verb(message)}.")
    return "\n".join(sentences)


def _verb(message: str) -> str:
    # Our validators say "is not a known ...", "must be ..."; pydantic says "input should be ...".
    if message.startswith(("is ", "must ", "names ")):
        return message
    return f"is not allowed: {message}"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def near_miss_warnings(path: Path, raw: dict[str, Any], known: set[str]) -> list[str]:
    """Warn about unknown keys within a small edit distance of one of ours (likely typos)."""
    warnings = []
    for key in raw:
        if key in known:
            continue
        best = min(known, key=lambda ours: edit_distance(key.lower(), ours.lower()))
        distance = edit_distance(key.lower(), best.lower())
        if distance <= max(1, min(2, len(best) // 5)):
            warnings.append(f"{path}: unknown key '{key}' is ignored; did you mean '{best}'?")
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
