"""The `taskHistory` entries nightly-batch and send-digest add to the shared state."""

from __future__ import annotations

import uuid
from typing import Any

from nightly_batch.errors import StateError
from nightly_batch.rules.shapes import State


def owned_list(state: State, key: str, path: object) -> list[Any]:
    """A list-valued key of the state; a missing key is empty, any other type is a StateError.

    Replacing a malformed value would lose what another program wrote there, so it stops the run.
    """
    value = state.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise StateError(
            f"{path}: '{key}' must be a list, not {type(value).__name__}; the file was left untouched."
        )
    return value


def append_history(
    state: State, *, task: str, handled_at: str, ok: bool, message: str, limit: int, path: object
) -> None:
    """Add one entry `{id, type, handledAt, result, message}`, keeping the newest `limit`."""
    history = owned_list(state, "taskHistory", path)
    history.append(
        {
            "id": str(uuid.uuid4()),
            "type": task,
            "handledAt": handled_at,
            "result": "ok" if ok else "error",
            "message": message,
        }
    )
    state["taskHistory"] = history[-limit:]
