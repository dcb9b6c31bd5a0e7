"""Duplicate grouping: the Reddit URL forms of one post, one person's one question, and the
properties that make grouping safe to run every night (idempotent, order-independent)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nightly_batch.rules.duplicates import group_leads
from nightly_batch.rules.lead_facts import dict_leads
from nightly_batch.rules.lead_keys import (
    PUNCTUATION,
    author_of,
    post_id_of,
    title_words,
    titles_words,
)

NOW = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "post"),
    [
        ("https://www.reddit.com/r/selfhosted/comments/1abc2d/which_proxy/", "1abc2d"),
        ("https://reddit.com/r/selfhosted/comments/1abc2d/which_proxy", "1abc2d"),
        ("https://old.reddit.com/r/selfhosted/comments/1abc2d/", "1abc2d"),
        ("https://new.reddit.com/r/selfhosted/comments/1abc2d/which_proxy/", "1abc2d"),
        ("https://np.reddit.com/r/selfhosted/comments/1abc2d/x/", "1abc2d"),
        ("https://m.reddit.com/r/selfhosted/comments/1abc2d", "1abc2d"),
        ("http://www.reddit.com/r/selfhosted/comments/1abc2d/", "1abc2d"),
        ("https://WWW.Reddit.COM/r/SelfHosted/comments/1ABC2D/Which_Proxy/", "1abc2d"),
        ("https://www.reddit.com/r/selfhosted/comments/1abc2d/x/?utm_source=share&ref=x", "1abc2d"),
        ("https://www.reddit.com/r/selfhosted/comments/1abc2d/x/#comments", "1abc2d"),
        ("https://www.reddit.com/r/selfhosted/comments/1abc2d/x/kq1z9yb/", "1abc2d"),  # a comment
        ("https://www.reddit.com/comments/1abc2d", "1abc2d"),
        ("https://www.reddit.com/user/someone/comments/1abc2d/x/", "1abc2d"),
        ("https://www.reddit.com/gallery/1abc2d", "1abc2d"),
        ("https://redd.it/1abc2d", "1abc2d"),
        ("https://redd.it/1ABC2D/", "1abc2d"),
        ("redd.it/1abc2d", "1abc2d"),
        ("www.reddit.com/r/selfhosted/comments/1abc2d/", "1abc2d"),
        ("/r/selfhosted/comments/1abc2d/which_proxy/", "1abc2d"),  # Reddit's permalink
        ("  https://redd.it/1abc2d  ", "1abc2d"),
        ("https://www.reddit.com/r/selfhosted/comments/t3_1abc2d/", "1abc2d"),
        ("https://www.reddit.com/r/comments/comments/1abc2d/", "1abc2d"),  # r/comments exists
        ("https://www.reddit.com/user/comments/comments/1abc2d/x/", "1abc2d"),
        ("HTTPS://WWW.REDDIT.COM/R/X/COMMENTS/1ABC2D", "1abc2d"),
        # Not one post: another site, a subreddit, a user, no id, a bad id, nonsense.
        ("https://example.com/r/selfhosted/comments/1abc2d/", None),
        ("https://notreddit.com/r/x/comments/1abc2d/", None),
        ("https://www.reddit.com/r/selfhosted/", None),
        ("https://www.reddit.com/user/someone/", None),
        ("https://www.reddit.com/r/selfhosted/comments/", None),
        ("https://www.reddit.com/r/selfhosted/comments/not-an-id!/", None),
        ("https://redd.it/", None),
        ("http://[::1", None),
        ("", None),
    ],
)
def test_every_url_form_of_a_post_gives_its_id(url: str, post: str | None) -> None:
    assert post_id_of(url) == post


def test_a_lead_is_keyed_by_its_link_url_permalink_else_its_t3_id() -> None:
    def post(item: dict[str, Any]) -> str | None:
        return dict_leads([item], with_times=False).posts[0]

    assert post({"link": "https://example.com/x", "url": "https://redd.it/ab12"}) == "ab12"
    assert post({"permalink": "/r/a/comments/ab12/x/"}) == "ab12"
    assert post({"id": "T3_AB12"}) == "ab12"
    assert post({"id": "ab12"}) is None  # not a fullname: a sweeper's own id says nothing
    assert post({"link": 7, "id": None}) is None


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        (("u/asker", "How do I back up my VPS?"), ("U/Asker", "how do i back up my vps"), True),
        (("u/asker", "How do I back up my VPS?"), ("u/asker", "How do I back-up my VPS"), True),
        (("u/asker", "How do I back up my VPS?"), ("u/asker", "How do I back up my NAS?"), False),
        (("u/asker", "How do I back up?"), ("u/other", "How do I back up?"), False),
        (("[deleted]", "How do I back up?"), ("[deleted]", "How do I back up?"), None),
        (("AutoModerator", "Weekly thread here"), ("automoderator", "Weekly thread here"), None),
        (("u/asker", "Help?"), ("u/asker", "Help?"), None),  # too few words to say
    ],
)
def test_one_person_asking_one_question_is_one_lead(
    first: tuple[str, str], second: tuple[str, str], same: bool | None
) -> None:
    leads = [{"author": author, "title": title} for author, title in (first, second)]

    grouped = group_leads(dict_leads(leads, with_times=False), NOW)

    assert grouped.duplicate == (1 if same else 0)
    if same is None:  # no one in particular, or too few words to tell: never grouped
        assert title_words(first[1]) is None or author_of(first[0]) is None


# Titles as a sweeper might write them: ASCII and not, with punctuation, separators, controls.
TITLES = st.text(
    alphabet=st.sampled_from(
        [*"aZ9 -?.\t\n\x1c\x1f\x0b\x00_/'", "\u00e9", "\u00df", "\u2014", "\u3000", "\ud800"]
    ),
    max_size=40,
)


@given(title=TITLES)
def test_the_bytes_fast_way_gives_every_title_the_words_of_the_plain_definition(
    title: str,
) -> None:
    """An ASCII title is folded and split as bytes: it must give the words that case folding,
    punctuation as spaces and str.split give, which a non-ASCII title still goes through."""
    as_spaces = str.maketrans(PUNCTUATION, " " * len(PUNCTUATION))
    words = title.casefold().translate(as_spaces).split()

    expected = " ".join(words).encode("utf-8", "surrogatepass") if len(words) >= 3 else None
    assert title_words(title) == expected


@given(
    titles=st.lists(
        st.one_of(TITLES, st.text(alphabet="aZ9 -?.\t\x1f", max_size=40), st.none(), st.just(7)),
        max_size=12,
    )
)
def test_titles_worked_out_together_have_the_words_each_has_alone(titles: list[Any]) -> None:
    """titles_words joins ASCII titles by NUL and folds them at once: each title must come out
    with its own words, whatever its neighbours (NULs, non-ASCII, no text, no title)."""
    assert titles_words(titles) == [title_words(title) for title in titles]


def test_cross_posts_are_listed_once_at_the_first_with_the_others_in_also_in() -> None:
    leads = [
        {"id": "a", "subreddit": "selfhosted", "link": "https://www.reddit.com/r/s/comments/p1/"},
        {"id": "b", "subreddit": "homelab", "link": "https://redd.it/P1"},
        {"id": "c", "subreddit": "docker", "author": "u/x", "title": "Which proxy for docker?"},
        {
            "id": "d",
            "subreddit": "linux",
            "author": "u/x",
            "title": "which proxy for Docker",
            "link": "https://old.reddit.com/r/linux/comments/p2/",
        },
        {"id": "e", "subreddit": "devops", "link": "https://www.reddit.com/comments/p2"},
        {"id": "f", "subreddit": "python"},
    ]

    grouped = group_leads(dict_leads(leads, with_times=True), NOW)

    assert grouped.kept == [0, 2, 5]
    assert grouped.also_in == {
        0: [{"subreddit": "homelab", "id": "b"}],
        # d by title, e by d's post: one question, transitively
        2: [{"subreddit": "linux", "id": "d"}, {"subreddit": "devops", "id": "e"}],
    }
    assert grouped.duplicate == 3
    assert grouped.selected == 6


def test_a_question_is_one_author_s_same_words() -> None:
    """Titles are compared one author at a time: the same words by another author are another
    person's question."""
    leads = [
        {"id": "a", "author": "u/x", "title": "How do I back up my VPS?"},
        {"id": "b", "author": "u/x", "title": "Why is my cron job silent?"},
        {"id": "c", "author": "u/x", "title": "why is my cron-job silent"},
        {"id": "d", "author": "U/X ", "title": "How do I back up my VPS"},
        {"id": "e", "author": "u/y", "title": "How do I back up my VPS"},
        {"id": "f", "author": "u/y", "title": "Which proxy for two domains?"},
    ]

    assert groups(leads) == {
        frozenset({"a", "d"}),
        frozenset({"b", "c"}),
        frozenset({"e"}),
        frozenset({"f"}),
    }


def test_leads_older_than_the_limit_are_left_out_before_grouping() -> None:
    leads: list[dict[str, Any]] = [
        {"id": "old", "queuedAt": "2026-11-26T22:59:59Z", "link": "https://redd.it/p1"},
        {"id": "edge", "queuedAt": "2026-11-26T23:00:00Z", "link": "https://redd.it/p1"},
        {"id": "posted", "created_utc": NOW.timestamp() - 3600, "queuedAt": "2026-01-01T00:00:00Z"},
        {"id": "timeless"},
    ]

    grouped = group_leads(dict_leads(leads, with_times=True), NOW, max_age_hours=48)

    assert grouped.stale == 1  # older than 48 h; exactly 48 h is kept
    assert grouped.kept == [1, 2, 3]  # the post time wins over the queue time; no time: kept
    assert grouped.duplicate == 0  # the stale copy of p1 groups nothing
    assert group_leads(dict_leads(leads, with_times=True), NOW).stale == 0  # off by default


POSTS = st.sampled_from(
    ["https://redd.it/p1", "https://old.reddit.com/r/a/comments/P1/", "/r/b/comments/p2/", None]
)
PEOPLE = st.sampled_from(
    [
        ("u/a", "How do I back up?"),
        ("u/a", "how do i BACK UP"),
        ("u/b", "Why is cron silent?"),
        None,
    ]
)
LEADS = st.lists(st.tuples(POSTS, PEOPLE), max_size=12).map(
    lambda drawn: [
        {
            "id": f"l{number}",
            **({"link": post} if post else {}),
            **({"author": person[0], "title": person[1]} if person else {}),
        }
        for number, (post, person) in enumerate(drawn)
    ]
)


def groups(leads: list[dict[str, Any]]) -> set[frozenset[str]]:
    """The groups as sets of lead ids: what must not depend on the order."""
    grouped = group_leads(dict_leads(leads, with_times=True), NOW)
    return {
        frozenset([leads[top]["id"], *(other["id"] for other in grouped.also_in.get(top, []))])
        for top in grouped.kept
    }


@given(leads=LEADS, data=st.data())
def test_grouping_does_not_depend_on_the_order_of_the_queue(
    leads: list[dict[str, Any]], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(leads))
    assert groups(shuffled) == groups(leads)


@given(leads=LEADS)
def test_grouping_the_grouped_digest_again_changes_nothing(leads: list[dict[str, Any]]) -> None:
    grouped = group_leads(dict_leads(leads, with_times=True), NOW)
    listed = [leads[position] for position in grouped.kept]

    again = group_leads(dict_leads(listed, with_times=True), NOW)

    assert again.kept == list(range(len(listed)))
    assert again.duplicate == 0
    assert grouped.selected == len(leads)  # every lead is listed or grouped under one


@given(
    leads=LEADS,
    stamps=st.lists(st.sampled_from(["2026-11-27T23:00:00Z", "2026-11-28T23:00:00Z"]), max_size=12),
    old=st.lists(st.booleans(), max_size=12),
    data=st.data(),
)
def test_leads_given_in_another_order_with_the_digest_s_group_as_in_it(
    leads: list[dict[str, Any]], stamps: list[str], old: list[bool], data: st.DataObject
) -> None:
    """The fast path groups the leads in queue order and tells group_leads the digest's
    (`order`): the lead each group is listed at, what its alsoIn names and in which order, and
    the order of the listing, must be those of the same leads given in the digest's order."""
    count = len(leads)
    stamps = (stamps + ["2026-11-28T23:00:00Z"] * count)[:count]
    for lead, too_old in zip(leads, old + [False] * count, strict=False):
        lead["queuedAt"] = "2026-11-01T00:00:00Z" if too_old else "2026-11-28T22:00:00Z"
    read_at = data.draw(st.permutations(range(count)))  # read_at[i]: the digest position read i-th
    order = sorted(range(count), key=read_at.__getitem__)  # the digest's, as read positions

    listed = group_leads(dict_leads(leads, with_times=True), NOW, 48, stamps)
    read = group_leads(
        dict_leads([leads[at] for at in read_at], with_times=True),
        NOW,
        48,
        [stamps[at] for at in read_at],
        order,
    )

    assert [read_at[position] for position in read.kept] == listed.kept
    assert {read_at[top]: others for top, others in read.also_in.items()} == listed.also_in
    assert (read.duplicate, read.stale) == (listed.duplicate, listed.stale)


# Few of each, so that leads share posts, authors and words in every combination: the same
# words by two people, one person's two questions, a title too short, no one in particular.
KEYS = st.fixed_dictionaries(
    {},
    optional={
        "link": st.sampled_from(["https://redd.it/p1", "/r/a/comments/P1/", "https://redd.it/p2"]),
        "author": st.sampled_from(["u/a", "U/A ", "u/b", "[deleted]", "u/c"]),
        "title": st.sampled_from(
            ["How do I back up?", "how do i BACK-UP", "Why is cron silent?", "Help me?"]
        ),
    },
)


@given(leads=st.lists(KEYS, max_size=16))
def test_groups_are_the_leads_joined_by_a_shared_post_or_one_author_s_same_words(
    leads: list[dict[str, Any]],
) -> None:
    """Grouping against its definition, pair by pair: two leads are one question when they
    are one post, or one person asked both in the same words; a group is every lead joined so,
    listed at its first lead in the digest's order (all selected at once)."""
    for number, lead in enumerate(leads):
        lead["id"] = f"l{number}"
    facts = dict_leads(leads, with_times=False)
    group_of = list(range(len(leads)))  # each lead's group, as its first lead (a naive union)
    for later in range(len(leads)):
        for earlier in range(later):
            same_post = (
                facts.posts[later] is not None and facts.posts[later] == facts.posts[earlier]
            )
            same_words = (
                facts.authors[later] is not None
                and facts.authors[later] == facts.authors[earlier]
                and facts.titles[later] is not None
                and facts.titles[later] == facts.titles[earlier]
            )
            if same_post or same_words:
                merged, kept = sorted((group_of[later], group_of[earlier]))[::-1]
                group_of = [kept if group == merged else group for group in group_of]

    grouped = group_leads(facts, NOW)

    expected = {
        top: [leads[at]["id"] for at, group in enumerate(group_of) if group == top]
        for top in set(group_of)
    }
    listed = {
        top: [leads[top]["id"], *(other["id"] for other in grouped.also_in.get(top, []))]
        for top in grouped.kept
    }
    assert listed == expected
