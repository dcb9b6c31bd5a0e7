"""A registry of named entries: the shape both extension points share (tasks, channels)."""

from __future__ import annotations

from typing import Protocol, TypeVar


class Named(Protocol):
    @property
    def name(self) -> str: ...


Entry = TypeVar("Entry", bound=Named)


class Registry(dict[str, Entry]):
    """Entries by name, in the order they were registered (what listings show)."""

    def register(self, entry: Entry) -> Entry:
        """Add `entry` (a test or a plug-in registers its own this way); returns it."""
        self[entry.name] = entry
        return entry

    def unregister(self, name: str) -> None:
        self.pop(name, None)

    def names(self) -> tuple[str, ...]:
        return tuple(str(name) for name in self)
