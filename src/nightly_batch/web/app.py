"""The read-only dashboard: overview, digests, one digest, precision, run history, alerts.

Server-rendered (Jinja2 with autoescape, so Reddit text is always text), no JavaScript, no
external assets, readable on a phone. Only files inside `digestDir` whose names are exactly
`digest-YYYY-MM-DD.json` are ever served. An optional DASHBOARD_TOKEN guards every page for use
behind a reverse proxy (`Authorization: Bearer <token>`, or HTTP basic with the token as the
password).
"""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from nightly_batch import __version__
from nightly_batch.core.clock import Clock, SystemClock
from nightly_batch.errors import DigestError
from nightly_batch.rules.freshness import age_text, lead_time
from nightly_batch.rules.message import build_message, shown_confidence, shown_subreddit
from nightly_batch.settings.config import Config
from nightly_batch.storage.digest_reader import open_digest
from nightly_batch.storage.port import RuntimeStore
from nightly_batch.storage.status import gather_status
from nightly_batch.web import data as dashboard_data
from nightly_batch.web.data import digest_page
from nightly_batch.web.times import when

DIGEST_NAME = re.compile(r"^digest-\d{4}-\d{2}-\d{2}\.json$")


def _authorized(request: Request, token: str) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return hmac.compare_digest(value.strip(), token)
    if scheme.lower() == "basic":
        try:
            _, _, password = base64.b64decode(value.strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(password, token)
    return False


def _confidence(value: Any, threshold: Any = None) -> str:
    """A confidence as messages show it: 0.90, or as many places as keep it on its side of
    the threshold."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    limit = float(threshold) if isinstance(threshold, int | float) else None
    return shown_confidence(float(value), limit)


def _count_text(value: Any) -> str:
    """A count as "1,234"; anything else as it is (a digest may be hand-edited)."""
    if type(value) is int:
        return f"{value:,}"
    return "-" if value is None else str(value)


class Dashboard:
    """The pages, each a method; `app` is the ASGI application.

    The handlers are plain functions on purpose: they read files and the store, and Starlette
    runs a plain handler in its thread pool, so a slow disk never stalls the event loop (and
    with it /metrics and every other request). The store is the process's one store, used
    read-only.
    """

    def __init__(
        self, config: Config, store: RuntimeStore, clock: Clock, node: str | None = None
    ) -> None:
        self.config = config
        self.store = store
        self.node = node
        self.clock = clock
        self.heads = dashboard_data.DigestHeads()
        self.templates = Environment(
            loader=PackageLoader("nightly_batch.web", "templates"),
            autoescape=select_autoescape(default=True),
        )
        # Times as a person reads them (web/times), each told at the moment the page is made.
        self.templates.filters["when"] = lambda value: when(value, self.clock.now(), config.zone)
        self.templates.filters["age"] = self._age
        self.templates.filters["confidence"] = _confidence
        self.templates.filters["count"] = _count_text
        self.templates.filters["subreddit"] = lambda value: shown_subreddit(value) or ""

    def _age(self, item: Any) -> str:
        """How long ago a lead was posted (else queued); "" when it does not say."""
        posted = lead_time(item) if isinstance(item, dict) else None
        return age_text(posted, self.clock.now()) if posted is not None else ""

    def render(self, template: str, request: Request, **context: Any) -> HTMLResponse:
        html = self.templates.get_template(template).render(
            request=request, version=__version__, zone=self.config.digest_time_zone, **context
        )
        return HTMLResponse(html)

    def overview(self, request: Request) -> Response:
        return self.render(
            "overview.html",
            request,
            status=gather_status(self.config, self.store, self.clock.now(), self.node),
        )

    def digests(self, request: Request) -> Response:
        return self.render(
            "digests.html", request, digests=dashboard_data.digests(self.config, self.heads)
        )

    def digest(self, request: Request) -> Response:
        name = request.path_params["name"]
        path = self.config.digests / name
        # Only our own file names, directly inside digestDir: "..", slashes and anything
        # encoded never match, so nothing else on the disk can be reached.
        if not DIGEST_NAME.match(name) or not path.is_file():
            return PlainTextResponse("no such digest\n", status_code=404)
        if request.query_params.get("format") == "json":
            return StreamingResponse(_chunks(path), media_type="application/json")
        try:
            page = max(int(request.query_params.get("page", "1")), 1)
        except ValueError:
            return PlainTextResponse("page must be a whole number from 1\n", status_code=400)
        subreddit = request.query_params.get("subreddit") or None
        try:
            view = open_digest(path)
            shown = digest_page(view, page, subreddit)
            message = build_message(
                {**view.head, "redditQueue": []}, name, None, total=view.total()
            )
            after = view.after_leads()
        except DigestError as error:
            return PlainTextResponse(f"{error}\n", status_code=500)
        return self.render(
            "digest.html",
            request,
            digest={**view.head, **after},
            page=shown,
            message=message,
            name=name,
        )

    def precision(self, request: Request) -> Response:
        return self.render(
            "precision.html", request, **dashboard_data.precision(self.config, self.heads)
        )

    def runs(self, request: Request) -> Response:
        return self.render(
            "runs.html", request, tasks=dashboard_data.history(self.store, self.clock.now())
        )

    def alerts(self, request: Request) -> Response:
        return self.render(
            "alerts.html", request, **dashboard_data.alerts(self.store, self.clock.now())
        )


def _chunks(path: Path) -> Iterator[bytes]:
    """The file a megabyte at a time (a 1M-lead night's digest is 480 MB), all of it from the
    version opened here: a re-run that replaces it meanwhile is not mixed in."""
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            yield chunk


def create_dashboard(
    config: Config,
    store: RuntimeStore,
    *,
    token: str | None = None,
    clock: Clock | None = None,
    node: str | None = None,
) -> Starlette:
    """The dashboard as an ASGI app; `node` names this host among those sharing a store."""
    pages = Dashboard(config, store, clock or SystemClock(), node)
    app = Starlette(
        routes=[
            Route("/", pages.overview),
            Route("/digests", pages.digests),
            Route("/digests/{name}", pages.digest),
            Route("/precision", pages.precision),
            Route("/runs", pages.runs),
            Route("/alerts", pages.alerts),
        ]
    )
    if token:

        async def guard(request: Request, call_next: RequestResponseEndpoint) -> Response:
            if not _authorized(request, token):
                return PlainTextResponse(
                    "a token is required\n",
                    status_code=401,
                    headers={"WWW-Authenticate": 'Basic realm="nightly-batch"'},
                )
            return await call_next(request)

        app.add_middleware(BaseHTTPMiddleware, dispatch=guard)
    return app
