"""What the dashboard pages show, gathered from the runtime store and the digest folder."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from nightly_batch.core.clock import iso_utc
from nightly_batch.core.tasks import task_names
from nightly_batch.errors import DigestError
from nightly_batch.rules.digest_layout import listed_total
from nightly_batch.rules.routes import compared_name
from nightly_batch.settings.config import Config
from nightly_batch.storage.digest_reader import DigestView
from nightly_batch.storage.digests import DigestFile, list_digests, read_digest_head
from nightly_batch.storage.port import RuntimeStore
from nightly_batch.web.charts import band_bars, stacked_bars, value_bars


class DigestHeads:
    """Digest heads (summary, batchId, ...) cached by file and modification time."""

    def __init__(self) -> None:
        self._cache: dict[Path, tuple[int, dict[str, Any]]] = {}

    def head(self, entry: DigestFile) -> dict[str, Any]:
        stamp = entry.path.stat().st_mtime_ns
        cached = self._cache.get(entry.path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            head = read_digest_head(entry.path)
        except DigestError as error:
            head = {"error": str(error)}
        self._cache[entry.path] = (stamp, head)
        return head


def digests(config: Config, heads: DigestHeads) -> list[dict[str, Any]]:
    rows = []
    for entry in list_digests(config.digests):
        head = heads.head(entry)
        summary = head.get("summary", {})
        rows.append(
            {
                "file": entry.path.name,
                "date": entry.day.isoformat(),
                "leads": listed_total(summary),
                "new": summary.get("markedForDraft", 0),
                "queue": summary.get("queueTotal", 0),
                "generated": head.get("generatedAt", ""),
                "error": head.get("error"),
            }
        )
    return rows


def history(store: RuntimeStore, now: datetime) -> dict[str, Any]:
    """Per task: success and failure bars over 30 and 90 days, and mean durations."""
    since = now - timedelta(days=90)
    rows = store.daily_results(iso_utc(since))
    days90 = [(since + timedelta(days=n + 1)).date().isoformat() for n in range(90)]
    tasks: dict[str, Any] = {}
    for task in task_names():
        ok = dict.fromkeys(days90, 0)
        bad = dict.fromkeys(days90, 0)
        durations: dict[str, float] = {}
        for day, name, result, count, mean in rows:
            if name != task or day not in ok:
                continue
            (ok if result == "ok" else bad)[day] += count
            if result == "ok":
                durations[day] = mean
        total_ok, total_bad = sum(ok.values()), sum(bad.values())
        last30 = days90[-30:]
        tasks[task] = {
            "chart30": stacked_bars(
                last30, [ok[d] for d in last30], [bad[d] for d in last30], f"{task}, last 30 days"
            ),
            "chart90": stacked_bars(
                days90, [ok[d] for d in days90], [bad[d] for d in days90], f"{task}, last 90 days"
            ),
            "runs": total_ok + total_bad,
            "failures": total_bad,
            "success_rate": f"{100 * total_ok / (total_ok + total_bad):.1f} %"
            if total_ok + total_bad
            else "-",
            "durations": value_bars(
                last30,
                [durations.get(day) for day in last30],
                f"{task}: mean duration of the successful runs, last 30 days",
                "s",
                slots=30,
            ),
        }
    return tasks


def _count(value: Any) -> int:
    return value if type(value) is int and value >= 0 else 0


def _sane(measured: dict[str, Any]) -> dict[str, Any]:
    """A digest's `precision` with every figure the page shows a number (a hand-edited or
    foreign digest may hold anything there), so one odd head never fails the page."""
    selected, drafted = _count(measured.get("selected")), _count(measured.get("drafted"))
    suggested = measured.get("suggestedThreshold")
    bands = []
    given = measured.get("bands")
    for band in given if isinstance(given, list) else []:
        if isinstance(band, dict):
            n, d = _count(band.get("selected")), _count(band.get("drafted"))
            bands.append(
                {
                    "band": str(band.get("band", "?")),
                    "selected": n,
                    "drafted": min(d, n),
                    "share": d / n if n else None,
                }
            )
    return {
        "windowDays": _count(measured.get("windowDays")),
        "selected": selected,
        "drafted": min(drafted, selected),
        "share": drafted / selected if selected else None,
        "bands": bands,
        "suggestedThreshold": suggested
        if isinstance(suggested, int | float) and not isinstance(suggested, bool)
        else None,
    }


# The digests the precision view charts the drafted share of, newest last.
PRECISION_DIGESTS = 30


def precision(config: Config, heads: DigestHeads) -> dict[str, Any]:
    """The newest digest's `precision` (bands charted) and the drafted share of each of the
    last PRECISION_DIGESTS digests, from their heads only."""
    rows = []
    for entry in list_digests(config.digests)[:PRECISION_DIGESTS]:
        measured = heads.head(entry).get("precision")
        if isinstance(measured, dict):
            rows.append({"date": entry.day.isoformat(), "file": entry.path.name, **_sane(measured)})
    rows.reverse()
    latest = rows[-1] if rows else None
    shares = [row.get("share") for row in rows]
    return {
        "latest": latest,
        "rows": rows,
        "bands": band_bars(
            latest.get("bands", []) if latest else [],
            "drafted of selected, per confidence band",
        ),
        "trend": value_bars(
            [row["date"] for row in rows],
            [100 * share if isinstance(share, int | float) else None for share in shares],
            "drafted share of the window's selections, per digest",
            "%",
            top=100.0,
        ),
    }


def alerts(store: RuntimeStore, now: datetime) -> dict[str, Any]:
    since = iso_utc(now - timedelta(days=7))
    return {
        "alerts": [asdict(alert) for alert in store.alerts.all(since=since)],
        "notifications": [asdict(n) for n in store.alerts.notifications(since=since)][-200:],
        "silences": [asdict(s) for s in store.alerts.silences(iso_utc(now))],
    }


# Leads on one page of a digest: a page stays small (tens of kilobytes of HTML) however many
# leads the digest lists.
PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class DigestPage:
    """One page of a digest's leads, with what the page's links need."""

    number: int
    leads: list[dict[str, Any]]
    first_rank: int
    has_next: bool
    subreddit: str | None

    def link(self, number: int) -> str:
        """The query string of page `number` with the same filter."""
        query = {"page": str(number), **({"subreddit": self.subreddit} if self.subreddit else {})}
        return "?" + urlencode(query)


def digest_page(view: DigestView, number: int, subreddit: str | None) -> DigestPage:
    """Page `number` (from 1) of the digest's leads, of the one subreddit if given; only the
    leads before and on the page are read, and only the page's are kept."""
    # Compared as digestRoutes compare them: any case, with or without `r/`.
    wanted = compared_name(subreddit)
    keep = (lambda lead: compared_name(lead.get("subreddit")) == wanted) if wanted else None
    offset = (number - 1) * PAGE_SIZE
    leads = list(view.leads(offset=offset, limit=PAGE_SIZE + 1, keep=keep))
    return DigestPage(number, leads[:PAGE_SIZE], offset + 1, len(leads) > PAGE_SIZE, subreddit)
