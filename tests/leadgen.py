"""Realistic shared states: queue items shaped like the original sweeper's, about 430 bytes each.

Used by the tests and by bench/. A quarter of the leads score above the default threshold.
"""

from __future__ import annotations

import random
from typing import Any

from fakes import dated

SUBREDDITS = ("selfhosted", "homelab", "devops", "sysadmin", "python", "docker", "linux")
KEYWORDS = ("reverse proxy", "backup", "monitoring", "uptime", "cron", "alerting", "vps", "nginx")
WORDS = (
    "how",
    "do",
    "I",
    "keep",
    "my",
    "home",
    "server",
    "from",
    "going",
    "down",
    "when",
    "the",
    "backup",
    "job",
    "fails",
    "at",
    "night",
    "without",
    "anyone",
    "noticing",
    "until",
    "morning",
)


def make_lead(rng: random.Random, index: int) -> dict[str, Any]:
    """One queued lead; 25% have a keyword sum above 7.5 (confidence > 0.75)."""
    above = rng.random() < 0.25
    score = rng.randint(8, 15) if above else rng.randint(5, 7)
    lead: dict[str, Any] = {
        "id": f"t3_{index:07x}",
        "subreddit": rng.choice(SUBREDDITS),
        "question": " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 14))).capitalize()
        + "?",
        "link": f"https://www.reddit.com/r/selfhosted/comments/{index:07x}/a_question_about_servers/",
        "queuedAt": f"2026-11-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:14:07.512Z",
        "tag": "priority" if score >= 9 else "draft",
        "pillar": "reliability",
        "feedId": f"feed-{rng.randint(1, 9)}",
        "author": f"u/user{rng.randint(1, 99999)}",
        "ctaVariant": rng.choice(("a", "b")),
        "matchedKeywords": rng.sample(KEYWORDS, 2),
        "score": score,
        "entryContent": "I run a few services on a small VPS &amp; want a nightly job that tells me.",
    }
    return lead


def make_state(count: int, seed: int = 7) -> dict[str, Any]:
    """A state with `count` leads plus the keys other programs keep there."""
    rng = random.Random(seed)
    return {
        "redditQueue": [make_lead(rng, index) for index in range(count)],
        "pendingDocChanges": [f"docs/page-{i}.md" for i in range(3)],
        "rssSeenIds": [f"t3_seen{i}" for i in range(400)],
        "approvals": {"appr-1": {"status": "pending"}},
        "taskHistory": [],
        "updatedAt": dated("2026-11-28T22:00:00.000Z"),
        "sweeperCursor": {"lastRun": dated("2026-11-28T21:55:00.000Z"), "pages": 12},
    }


def make_state_bytes(count: int, seed: int = 7) -> bytes:
    """The JSON of `make_state(count)`-like state, built fast enough for a million leads.

    A thousand distinct leads are encoded once and repeated with fresh ids (in `id`, in the
    link and in the author's name, so no two are one post or one person's one question), so
    the queue has the same mix (a quarter above the threshold) at any size.
    """
    import msgspec  # noqa: PLC0415

    rng = random.Random(seed)
    patterns = [msgspec.json.encode(make_lead(rng, 0)) for _ in range(1000)]
    marker, post, author = b'"id":"t3_0000000"', b"/comments/0000000/", b'"author":"u/user'
    items = b",".join(
        patterns[index % 1000]
        .replace(marker, b'"id":"t3_%07x"' % index)
        .replace(post, b"/comments/%07x/" % index)
        .replace(author, b'"author":"u/%07x-user' % index)
        for index in range(count)
    )
    rest = msgspec.json.encode(
        {key: value for key, value in make_state(0).items() if key != "redditQueue"}
    )
    return b'{"redditQueue":[' + items + b"]," + rest[1:]


def reviewed_queue(lead: Any) -> list[dict[str, Any]]:
    """A queue a month into use, for the dashboard's views: earlier selections in each band
    (some drafted since, enough for a suggested threshold), tonight's leads with a cross-post,
    and near misses. `lead` is the tests' lead fixture."""
    queue = []
    bands = ((9.5, 30, 25), (8.5, 25, 15), (7.8, 20, 4))  # (score, selected, drafted)
    for score, selected, drafted in bands:
        for number in range(selected):
            earlier = {
                "confidence": score / 10,
                "selectedForDraft": True,
                "selectedAt": dated(f"2026-11-{1 + number % 25:02d}T23:00:00.000Z"),
            }
            if number < drafted:
                earlier["draftRecordId"] = f"draft-{score}-{number}"
            queue.append(lead(f"e{score}-{number}", score, **earlier))
    queue += [
        lead("x1", 9.2, question="Which reverse proxy for two domains?", author="u/asker"),
        lead(
            "x2",
            9.1,
            subreddit="homelab",
            question="Which reverse proxy for two domains",
            author="u/asker",
        ),
        lead("n1", 0.72, question="Is a cron job enough for nightly backups?", subreddit="linux"),
        lead("n2", 0.7, question="Monitoring a VPS without a SaaS?", subreddit="sysadmin"),
    ]
    return queue
