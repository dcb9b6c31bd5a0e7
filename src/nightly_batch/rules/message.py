"""The digest as a message: what every channel renders, each within its own limits."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from nightly_batch.rules.freshness import age_text, lead_time
from nightly_batch.rules.message_notes import left_out_line, near_miss_intro, precision_line


@dataclass(frozen=True, slots=True)
class Lead:
    """One selected lead, as a notification shows it."""

    id: str
    title: str
    link: str | None
    subreddit: str | None
    confidence: float | None
    # The digest's threshold, so a confidence is shown to the places that decide it.
    threshold: float | None = None
    # How long ago it was posted (else queued) at send time: "9 h ago".
    age: str | None = None
    # The other subreddits the same question was asked in (the digest's `alsoIn`).
    also_in: tuple[str, ...] = ()

    @property
    def confidence_text(self) -> str | None:
        """0.90, or 0.7519 where two places would read 0.75 under "scored above 0.75"."""
        if self.confidence is None:
            return None
        return shown_confidence(self.confidence, self.threshold)


def shown_confidence(value: float, threshold: float | None) -> str:
    """`value` with the fewest places (at least 2) that leave it on its side of `threshold`."""
    for places in range(2, 7):
        text = f"{value:.{places}f}"
        if threshold is None or ((float(text) > threshold) == (value > threshold)):
            return text
    return f"{value:.6f}"


@dataclass(frozen=True, slots=True)
class DigestMessage:
    """A digest ready to send; `leads` are in the digest's order (newest selection first)."""

    title: str
    summary: str
    leads: tuple[Lead, ...]
    digest_file: str
    digest_date: str
    batch_id: str
    url: str | None
    # How many leads the digest (or the update) holds: `leads` is only the first of them, as
    # many as any channel shows, so a 250,000-lead digest is never held whole.
    total: int = 0
    # The lines below the leads: the near misses (newest first), the measured precision and
    # what was left out (rules/message_notes).
    near_misses: tuple[Lead, ...] = ()
    near_miss_count: int = 0
    precision: str | None = None
    left_out: str | None = None

    @property
    def near_miss_line(self) -> tuple[str, Lead] | None:
        """("3 near misses, best 0.73: ", the best of them), for a channel to link its title."""
        scored = [lead for lead in self.near_misses if lead.confidence is not None]
        if not scored:
            return None
        best = max(scored, key=lambda lead: lead.confidence or 0.0)
        return near_miss_intro(self.near_miss_count, best.confidence_text or ""), best

    @property
    def unlisted(self) -> int:
        """The leads beyond `leads`, which every channel counts in its "+N more" line."""
        return max(self.total - len(self.leads), 0)


# The most leads any channel lists (the e-mail: 200); a message carries no more than these.
MESSAGE_LEADS_MAX = 200


# Bidirectional controls (embeddings, overrides, isolates, marks): a Reddit title holding
# U+202E would show the rest of the line, the confidence and the link text reversed in every
# channel. They are removed from untrusted text before any channel sees it.
BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.translate(BIDI_CONTROLS)
    return value if value.strip() else None


REDDIT = "https://www.reddit.com"


def _link(item: dict[str, Any]) -> str | None:
    """The lead's link: `link`, else `url`, else Reddit's `permalink` (a path on reddit.com);
    None when there is none, and the lead is listed without one, never dropped."""
    for key in ("link", "url"):
        found = _text(item.get(key))
        if found:
            return found
    permalink = _text(item.get("permalink"))
    if permalink and permalink.startswith("/"):
        return REDDIT + permalink
    return permalink


def shown_subreddit(value: Any) -> str | None:
    """A subreddit's name as shown after "r/": without the `r/` a sweeper may have kept."""
    name = _text(value)
    if name is None:
        return None
    bare = name.strip()
    for prefix in ("/r/", "r/"):
        if bare[: len(prefix)].casefold() == prefix:
            bare = bare[len(prefix) :]
            break
    return bare or None


def _also_in(item: dict[str, Any]) -> tuple[str, ...]:
    others = item.get("alsoIn")
    if not isinstance(others, list):
        return ()
    found = (shown_subreddit(other.get("subreddit")) for other in others if isinstance(other, dict))
    return tuple(dict.fromkeys(name for name in found if name))


def lead_of(item: dict[str, Any], threshold: float | None, now: datetime | None = None) -> Lead:
    """One lead of a digest as messages show it; `threshold` is the digest's, `now` the send
    time its age is told from."""
    confidence = item.get("confidence")
    posted = lead_time(item) if now is not None else None
    return Lead(
        id=str(item.get("id", "")),
        title=_text(item.get("question")) or _text(item.get("title")) or "(untitled lead)",
        link=_link(item),
        subreddit=shown_subreddit(item.get("subreddit")),
        confidence=float(confidence) if isinstance(confidence, int | float) else None,
        threshold=threshold,
        age=age_text(posted, now) if posted is not None and now is not None else None,
        also_in=_also_in(item),
    )


def _unlisted(suppressed: Any) -> str:
    """Why selected leads are not listed, by the reasons the digest counts (a digest from
    before the counts: both)."""
    counts = suppressed if isinstance(suppressed, dict) else {}
    duplicate, stale = counts.get("duplicate"), counts.get("stale")
    reasons = []
    if duplicate or not counts:
        reasons.append("repeat a listed question")
    if stale or not counts:
        reasons.append("are older than maxLeadAgeHours")
    return " or ".join(reasons) or "are not listed"


def _left_out(summary: Any, route: str | None) -> str | None:
    line = left_out_line(summary) if isinstance(summary, dict) else None
    if line is not None and route is not None:  # a slice: the counts are the whole digest's
        line = line.replace("Left out:", "Left out of the whole digest:", 1)
    return line


def build_message(
    digest: dict[str, Any],
    digest_file: str,
    app_url: str | None,
    total: int | None = None,
    now: datetime | None = None,
    route: str | None = None,
) -> DigestMessage:
    """The message for a digest; the "View digest" link only when APP_URL is set.

    `digest["redditQueue"]` may hold only the first leads (at least MESSAGE_LEADS_MAX of them,
    as a streaming reader gives them) when `total` says how many the digest lists. With
    `route` (a channel's slice, described: rules/routes), they are the slice's and `total`
    counts the slice.
    """
    summary = digest.get("summary", {})
    threshold = summary.get("threshold", 0.75)
    decides = float(threshold) if isinstance(threshold, int | float) else None
    items = [item for item in digest.get("redditQueue", []) if isinstance(item, dict)]
    leads = tuple(lead_of(item, decides, now) for item in items[:MESSAGE_LEADS_MAX])
    near = [item for item in digest.get("nearMisses") or [] if isinstance(item, dict)]
    total = len(items) if total is None else total
    selected = summary.get("selectedTotal", total)
    ready = total  # the leads listed: grouped duplicates and stale leads are not
    text = (
        f"The nightly sweep holds {summary.get('queueTotal', 0)} leads; {selected} scored above "
        f"{threshold} and are ready for drafting ({summary.get('markedForDraft', 0)} new tonight)."
    )
    if route is not None:
        text += f" This channel gets the {ready} of them {route}."
    elif isinstance(selected, int) and ready < selected:
        text += f" {ready} are listed: the others {_unlisted(summary.get('suppressed'))}."
    url = f"{app_url.rstrip('/')}/digests/{digest_file}" if app_url else None
    return DigestMessage(
        title=f"🚀 {ready} Reddit Leads Ready for Review",
        summary=text,
        leads=leads,
        digest_file=digest_file,
        digest_date=str(digest.get("digestDate", "")),
        batch_id=str(digest["batchId"]),
        url=url,
        total=total,
        near_misses=tuple(lead_of(item, decides, now) for item in near),
        near_miss_count=len(near),
        precision=precision_line(digest.get("precision")),
        left_out=_left_out(summary, route),
    )


def update_message(
    message: DigestMessage, new: tuple[Lead, ...], since: str, count: int | None = None
) -> DigestMessage:
    """The message for a channel that had an earlier version of the date: only its new leads
    (`new`: the first of them; `count`: how many there are)."""
    count = len(new) if count is None else count
    leads = "lead" if count == 1 else "leads"
    return replace(
        message,
        title=f"🚀 {count} new Reddit {leads} since {since}",
        summary=(
            f"The nightly batch ran again for {message.digest_date}: {count} new {leads} since "
            f"the digest sent at {since} ({message.total:,} ready in all)."
        ),
        leads=new[:MESSAGE_LEADS_MAX],
        total=count,
    )
