"""A channel's slice of the digest (`digestRoutes`): which leads it gets, and how its message
says so. Pure: built from the config's DigestRoute, applied to the digest's lead dicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nightly_batch.settings.routes_model import DigestRoute


def compared_name(value: Any) -> str | None:
    """A subreddit or tag as compared: case folded, without an `r/` in front."""
    if not isinstance(value, str):
        return None
    return value.strip().casefold().removeprefix("r/").removeprefix("/r/") or None


@dataclass(frozen=True, slots=True)
class RouteFilter:
    subreddits: frozenset[str] | None = None
    tags: frozenset[str] | None = None
    min_confidence: float | None = None

    @classmethod
    def of(cls, route: DigestRoute) -> RouteFilter:
        def names(values: list[str] | None) -> frozenset[str] | None:
            if values is None:
                return None
            return frozenset(found for value in values if (found := compared_name(value)))

        return cls(names(route.subreddits), names(route.tags), route.min_confidence)

    def keeps(self, lead: dict[str, Any]) -> bool:
        """Whether `lead` (as the digest lists it) belongs to this slice."""
        if self.subreddits is not None and not self._asked_in(lead) & self.subreddits:
            return False
        if self.tags is not None:
            given = lead.get("tags")
            tags = {
                compared_name(lead.get("tag")),
                *(map(compared_name, given) if isinstance(given, list) else ()),
            }
            if not tags & self.tags:
                return False
        if self.min_confidence is not None:
            confidence = lead.get("confidence")
            if (
                isinstance(confidence, bool)
                or not isinstance(confidence, int | float)
                or confidence < self.min_confidence
            ):
                return False
        return True

    @staticmethod
    def _asked_in(lead: dict[str, Any]) -> set[str | None]:
        """The lead's subreddit and those of the cross-posts grouped under it (`alsoIn`): a
        question asked in r/homelab reaches a homelab route wherever it is listed."""
        others = lead.get("alsoIn")
        found = {compared_name(lead.get("subreddit"))}
        if isinstance(others, list):
            found.update(
                compared_name(other.get("subreddit")) for other in others if isinstance(other, dict)
            )
        return found

    def describe(self) -> str:
        """ "from r/homelab or r/selfhosted, tagged priority, confidence 0.85 or more"."""
        parts = []
        if self.subreddits is not None:
            parts.append("from " + " or ".join(f"r/{name}" for name in sorted(self.subreddits)))
        if self.tags is not None:
            parts.append("tagged " + " or ".join(sorted(self.tags)))
        if self.min_confidence is not None:
            parts.append(f"confidence {self.min_confidence:g} or more")
        return ", ".join(parts) or "every lead"
