"""Turns config mistakes into one readable sentence each, and spots likely misspelt keys.

msgspec stops at the first problem and says where it is (`- at $.confidenceWeights.keyword`);
the sentence names the key, shows the value from the file and says what the key allows, read
back from the same type declaration msgspec checked against.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec
import msgspec.inspect as types

_WHERE = re.compile(r" - at `(?:key` in `)?\$(?P<path>[^`]*)`$")
_MISSING = re.compile(r"Object missing required field `(?P<name>[^`]+)`")
_UNKNOWN = re.compile(r"Object contains unknown field `(?P<name>[^`]+)`")
# Our own checks (config_types, __post_init__) word their messages for this sentence.
_OWN_VERBS = ("is ", "must ", "names ")


def describe_validation_error(
    path: Path, raw: dict[str, Any], schema: type, error: msgspec.ValidationError
) -> str:
    """One sentence: the file, the key, the value and what is allowed."""
    message = str(error)
    where = _WHERE.search(message)
    location = where.group("path") if where else ""
    message = message[: where.start()] if where else message
    names = re.findall(r"\.([^.\[]+)", location)
    key = ".".join(names)
    missing = _MISSING.fullmatch(message)
    if missing:
        return f"{path}: {_join(key, missing.group('name'))} is required but missing."
    unknown = _UNKNOWN.fullmatch(message)
    if unknown:
        allowed = _struct_keys(_field_type(schema, names))
        return f"{path}: {key} has an unknown key {unknown.group('name')!r}; it takes {allowed}."
    if not names and message.split(" = ", 1)[0] in _keys(schema):
        return f"{path}: {message}."  # a check across the whole config, worded with its key
    shown = show_value(_value_at(raw, names))
    if message[:1].islower():  # one of ours, already in words
        verb = message if message.startswith(_OWN_VERBS) else f"is not allowed: {message}"
        return f"{path}: {key} = {shown} {verb}."
    return f"{path}: {key} = {shown} must be {_describe(_field_type(schema, names))}."


def _keys(schema: type) -> set[str]:
    return {field.encode_name for field in msgspec.structs.fields(schema)}


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _value_at(raw: Any, names: list[str]) -> Any:
    for name in names:
        if not isinstance(raw, dict) or name not in raw:
            return raw
        raw = raw[name]
    return raw


def _field_type(schema: type, names: list[str]) -> types.Type:
    kind: types.Type = types.type_info(schema)
    for name in names:
        if isinstance(kind, types.UnionType):  # `X | None`: look inside X
            kind = next(t for t in kind.types if not isinstance(t, types.NoneType))
        if not isinstance(kind, types.StructType):
            break
        kind = next(field.type for field in kind.fields if field.encode_name == name)
    return kind


def _struct_keys(kind: types.Type) -> str:
    if isinstance(kind, types.StructType):
        return _either([field.encode_name for field in kind.fields], "and")
    return "no other keys"


def _describe(kind: types.Type) -> str:
    """What a value of `kind` must be, in words: "a whole number from 1 to 60"."""
    if isinstance(kind, types.UnionType):
        return ", or ".join(_describe(t) for t in kind.types)
    if isinstance(kind, types.ListType | types.DictType | types.StructType | types.NoneType):
        return _container(kind)
    if isinstance(kind, types.CustomType):
        return "a path"
    plural = _plural(kind)
    if isinstance(kind, types.LiteralType):
        return f"one of {plural}"
    if isinstance(kind, types.IntType | types.FloatType | types.StrType):
        return "a " + plural.replace("numbers", "number", 1).replace("strings", "string", 1)
    return plural


def _container(kind: types.ListType | types.DictType | types.StructType | types.NoneType) -> str:
    if isinstance(kind, types.ListType) and isinstance(kind.item_type, types.LiteralType):
        return f"one of {_plural(kind.item_type)}, or a list of them"  # digestNotificationChannel
    if isinstance(kind, types.ListType):
        return f"a list of {_plural(kind.item_type)}"
    if isinstance(kind, types.DictType):
        return f"an object mapping {_plural(kind.key_type)} to {_plural(kind.value_type)}"
    if isinstance(kind, types.StructType):
        return f"an object with the keys {_struct_keys(kind)}"
    return "null"


_SIMPLE = {types.BoolType: "true or false", types.StrType: "strings"}


def _plural(kind: types.Type) -> str:
    if isinstance(kind, types.IntType | types.FloatType):
        noun = "whole numbers" if isinstance(kind, types.IntType) else "numbers"
        return noun + _bounds(kind)
    if isinstance(kind, types.LiteralType):
        return _either([repr(value) for value in kind.values], "or")
    if isinstance(kind, types.CustomType):  # only paths are decoded by our hook
        return "paths"
    return _SIMPLE.get(type(kind), "values of the documented form")


def _bounds(kind: types.IntType | types.FloatType) -> str:
    low = kind.ge if kind.ge is not None else kind.gt
    high = kind.le if kind.le is not None else kind.lt
    if kind.ge is not None and kind.le is not None:
        return f" from {_number(kind.ge)} to {_number(kind.le)}"
    parts = []
    if low is not None:
        parts.append(f"{'at least' if kind.ge is not None else 'greater than'} {_number(low)}")
    if high is not None:
        parts.append(f"{'at most' if kind.le is not None else 'less than'} {_number(high)}")
    return " " + " and ".join(parts) if parts else ""


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"


def _either(words: list[str], conjunction: str) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def show_value(value: Any) -> str:
    """A value as the sentence shows it: its repr, cut short."""
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
