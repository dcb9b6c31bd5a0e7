"""What a declared type allows, in words: "a whole number from 1 to 60", "true or false".

Error sentences and the generated docs/CONFIGURATION.md both say what a key allows by reading
the pydantic declaration (the annotation and its constraints), so the words follow the model.
"""

from __future__ import annotations

import json
import types
from collections.abc import Iterable
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from nightly_batch.settings.checks import Choices, Described, OneOrMany, either

_BOUNDS = ("ge", "gt", "le", "lt")


def unwrap(kind: Any) -> tuple[Any, list[Any]]:
    """The type under `Annotated[...]` and every constraint or marker found on the way."""
    extras: list[Any] = []
    while get_origin(kind) is Annotated:
        kind, *more = get_args(kind)
        extras.extend(more)
    flat: list[Any] = []
    for extra in extras:
        # Field(ge=...) inside Annotated arrives as a FieldInfo holding its constraints.
        flat.extend(extra.metadata if isinstance(extra, FieldInfo) else [extra])
    return kind, flat


def field_kind(field: FieldInfo) -> tuple[Any, list[Any]]:
    """A model field's type and constraints (pydantic keeps the top level's apart)."""
    kind, extras = unwrap(field.annotation)
    return kind, [*field.metadata, *extras]


def optional_inner(kind: Any) -> Any | None:
    """X for `X | None`, else None."""
    if get_origin(kind) in (Union, types.UnionType):
        others = [arg for arg in get_args(kind) if arg is not type(None)]
        if len(others) == 1 and len(others) < len(get_args(kind)):
            return others[0]
    return None


def describe(kind: Any, extras: Iterable[Any] = ()) -> str:
    """What one value of `kind` must be, for "<key> = <value> must be ..."."""
    return _words(kind, list(extras), many=False)


def plural(kind: Any, extras: Iterable[Any] = ()) -> str:
    """What several values of `kind` must be: "numbers from 0 to 1", "'error' or 'info'"."""
    return _words(kind, list(extras), many=True)


def _words(kind: Any, extras: list[Any], *, many: bool) -> str:
    kind, more = unwrap(kind)
    extras = [*extras, *more]
    inner = optional_inner(kind)
    if inner is not None:
        return _words(inner, extras, many=many) + (" or null" if many else ", or null")
    described = next((extra for extra in extras if isinstance(extra, Described)), None)
    if described is not None:
        return described.several if many else described.one
    listed = next((extra for extra in extras if isinstance(extra, Choices)), None)
    if get_origin(kind) is Literal or listed is not None:
        values = listed.values() if listed is not None else get_args(kind)
        choices = either(sorted(json.dumps(value) for value in values), "or")
        return choices if many else f"one of {choices}"
    if get_origin(kind) in (list, dict) or is_model(kind):
        return _container_words(kind, extras, many=many)
    several, one = _SIMPLE.get(kind, ("values of the documented form", "a documented value"))
    return (several if many else one) + bounds(extras)


def _container_words(kind: Any, extras: list[Any], *, many: bool) -> str:
    if get_origin(kind) is list and any(isinstance(extra, OneOrMany) for extra in extras):
        return f"{_words(get_args(kind)[0], [], many=many)}, or a list of them"
    if get_origin(kind) is list:
        return ("lists of " if many else "a list of ") + plural(get_args(kind)[0])
    if get_origin(kind) is dict:
        keys, values = get_args(kind)
        what = f"mapping {plural(keys)} to {plural(values)}"
    else:
        what = f"with the keys {either(model_keys(kind), 'and')}"
    return f"objects {what}" if many else f"an object {what}"


def is_model(kind: Any) -> bool:
    """A pydantic model class (a nested object of the config)."""
    return isinstance(kind, type) and issubclass(kind, BaseModel)


# (several, one) for the types whose words do not depend on what they hold.
_SIMPLE: dict[Any, tuple[str, str]] = {
    bool: ("true or false", "true or false"),
    int: ("whole numbers", "a whole number"),
    float: ("numbers", "a number"),
    str: ("strings", "a string"),
}


def bounds(extras: Iterable[Any]) -> str:
    """ " from 1 to 60", " greater than 0 and at most 744", or "" without a range."""
    found: dict[str, float] = {}
    for extra in extras:
        for name in _BOUNDS:
            if getattr(extra, name, None) is not None:
                found[name] = getattr(extra, name)
    if "ge" in found and "le" in found:
        return f" from {number(found['ge'])} to {number(found['le'])}"
    words = {"ge": "at least", "gt": "greater than", "le": "at most", "lt": "less than"}
    parts = [f"{words[name]} {number(found[name])}" for name in _BOUNDS if name in found]
    return " " + " and ".join(parts) if parts else ""


def model_keys(model: type[BaseModel]) -> list[str]:
    """The keys a model reads, under their aliases."""
    return [field.alias or name for name, field in model.model_fields.items() if not field.exclude]


def number(value: float) -> str:
    """A bound as a person writes it: 10,000 and 0.5."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"
