"""A digest on disk as a message, read through the streaming reader (storage/digest_reader):
the head and the first leads only, with the count of the rest; for a channel with a route
(`digestRoutes`), its slice."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from nightly_batch.rules.message import MESSAGE_LEADS_MAX, DigestMessage, build_message
from nightly_batch.rules.routes import RouteFilter
from nightly_batch.settings.routes_model import DigestRoute
from nightly_batch.storage.digest_reader import DigestView

Keep = Callable[[dict[str, Any]], bool]


def message_of(
    view: DigestView, app_url: str | None, now: datetime, route: RouteFilter | None = None
) -> DigestMessage:
    """The message every channel renders: at most MESSAGE_LEADS_MAX leads, and the total;
    each lead's age told at `now`, the send time. With `route`, only its slice: counting it
    streams the whole digest once (a lead at a time, never held)."""
    if route is None:
        digest = {**view.head, "redditQueue": list(view.leads(limit=MESSAGE_LEADS_MAX))}
        return build_message(digest, view.path.name, app_url, total=view.total(), now=now)
    first: list[dict[str, Any]] = []
    count = 0
    for lead in view.leads(keep=route.keeps):
        count += 1
        if len(first) < MESSAGE_LEADS_MAX:
            first.append(lead)
    # The slice's own near misses only; the left-out counts are the whole digest's (said so).
    near = [card for card in view.head.get("nearMisses") or [] if isinstance(card, dict)]
    digest = {**view.head, "redditQueue": first, "nearMisses": [c for c in near if route.keeps(c)]}
    return build_message(
        digest, view.path.name, app_url, total=count, now=now, route=route.describe()
    )


class ChannelMessages:
    """The message of one digest for each channel: the whole digest's, or its route's slice
    (each slice read once, when a channel first needs it)."""

    def __init__(
        self,
        view: DigestView,
        app_url: str | None,
        now: datetime,
        routes: Mapping[str, DigestRoute],
    ) -> None:
        self.view, self.app_url, self.now = view, app_url, now
        self.routes = {name: RouteFilter.of(route) for name, route in routes.items()}
        self.whole = message_of(view, app_url, now)
        self._sliced: dict[str, DigestMessage] = {}

    def of(self, channel: str) -> DigestMessage:
        route = self.routes.get(channel)
        if route is None:
            return self.whole
        if channel not in self._sliced:
            self._sliced[channel] = message_of(self.view, self.app_url, self.now, route)
        return self._sliced[channel]

    def keep(self, channel: str) -> Keep | None:
        """The channel's filter over leads; None when it gets every lead."""
        route = self.routes.get(channel)
        return route.keeps if route is not None else None
