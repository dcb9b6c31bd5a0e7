"""What makes two leads one question (issue 19): the Reddit post they are, by any URL form,
or one author's same-worded title. rules/duplicates groups by these keys.

Each runs for every selected lead of the night (half a million at a million leads, 50 %
selected), so the common forms take one match or one bytes translation, not a parse.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from typing import Any

# The hosts a Reddit post is reached by; `redd.it/<id>` is the short form.
REDDIT_DOMAIN = "reddit.com"
SHORT_HOST = "redd.it"
# A post id is base36; Reddit's "fullname" of a post prefixes it with t3_.
POST_ID = re.compile(r"^[0-9a-z]{1,16}$")
FULLNAME = re.compile(r"^t3_([0-9a-z]{1,16})$")
# A title of fewer words says too little to call two posts one question.
TITLE_WORDS_MIN = 3
# Not a person: posts under these names are never grouped by author and title.
NO_AUTHOR = frozenset({"", "[deleted]", "[removed]", "automoderator"})

# The common form, as Reddit's API and the sweeper write it, read by one match; every other
# form goes the long way (post_id_of), to the same id.
_CANONICAL = re.compile(
    r"https?://(?:www\.|old\.|new\.|np\.|m\.)?reddit\.com/r/[^/?#\s]+/comments/"
    r"(?:t3_)?([0-9a-zA-Z]{1,16})(?:[/?#]|$)"
)
canonical_post = _CANONICAL.match


def post_of(link: Any, url: Any, permalink: Any, lead_id: Any) -> str | None:
    """The post a lead is: the first of its link, url and permalink that names one, else its
    t3_ id (a sweeper's own id says nothing)."""
    for given in (link, url, permalink):
        if isinstance(given, str) and (post := post_id_of(given)) is not None:
            return post
    if isinstance(lead_id, str):
        match = FULLNAME.match(lead_id.strip().lower())
        return match[1] if match else None
    return None


def post_id_of(url: str) -> str | None:
    """The post id in any form of a Reddit post's URL: www., old., new., np., m., none; the
    redd.it short form; a bare path; any case, query string, fragment or trailing slash.

    A match or plain string operations, not urlsplit.
    """
    canonical = canonical_post(url)
    if canonical is not None:
        return canonical[1].lower()
    text = url.strip().lower()
    if text.startswith("/"):
        host, path = REDDIT_DOMAIN, text
    else:
        _, found, rest = text.partition("://")
        host, _, path = (rest if found else text).partition("/")
        host = host.rpartition("@")[2].partition(":")[0]
    segments = [
        segment for segment in path.partition("?")[0].partition("#")[0].split("/") if segment
    ]
    if host == SHORT_HOST:
        candidate = segments[0] if segments else ""
    elif host == REDDIT_DOMAIN or host.endswith("." + REDDIT_DOMAIN):
        # /r/<name>/comments/<id>, /user/<name>/comments/<id>, /comments/<id>, /gallery/<id>:
        # a subreddit or a user may itself be called "comments".
        after = 2 if segments[:1] in (["r"], ["user"], ["u"]) else 0
        if "comments" in segments[after:-1]:
            candidate = segments[segments.index("comments", after) + 1]
        elif len(segments) >= 2 and segments[0] == "gallery":
            candidate = segments[1]
        else:
            return None
    else:
        return None
    candidate = candidate.removeprefix("t3_")
    return candidate if POST_ID.match(candidate) else None


def author_of(author: Any) -> str | None:
    """The author as compared (case folded); None for no one in particular. isinstance, not
    type: the reference path reads an escaped string as a str subclass (json_literals)."""
    if not isinstance(author, str):
        return None
    who = author.strip().casefold()
    return None if who in NO_AUTHOR else who


def title_of(title: Any, question: Any) -> Any:
    """What a lead asks: its title, else its question."""
    return title if isinstance(title, str) and title.strip() else question


def title_words(title: Any) -> bytes | None:
    """A title's words, case folded, one space apart (punctuation is not part of a question's
    words: "back-up" reads as "back up"); None for a title too short to tell.

    An ASCII title (the common one) is folded and split as bytes, by one 256-entry table: a
    third of the time of the same through str.translate's per-character dict.
    """
    if not isinstance(title, str):
        return None
    if title.isascii():
        words = title.encode().translate(_ASCII_SPACES).split()
    else:
        # surrogatepass: a lone surrogate (JSON allows "\ud800") still has its own bytes.
        words = [
            word.encode("utf-8", "surrogatepass")
            for word in title.casefold().translate(_SPACES).split()
        ]
    return b" ".join(words) if len(words) >= TITLE_WORDS_MIN else None


def titles_words(titles: Sequence[Any]) -> list[bytes | None]:
    """title_words of each title (None stands for none), the words of a thousand ASCII titles
    worked out at once in C: joined by NUL, folded by one table, spaces collapsed, split.
    Titles that are not all ASCII text, or that hold a NUL themselves, go one by one."""
    try:
        text = "\x00".join(["" if title is None else title for title in titles])
    except TypeError:  # a title that is not text
        return [title_words(title) for title in titles]
    if not text.isascii() or text.count("\x00") != len(titles) - 1:
        return [title_words(title) for title in titles]
    folded = _SPACE_RUNS.sub(b" ", text.encode().translate(_ASCII_BLANKS)).split(b"\x00")
    # Collapsed and stripped, a title of three words or more has two spaces or more.
    return [words if (words := part.strip(b" ")).count(b" ") >= 2 else None for part in folded]


PUNCTUATION = (
    string.punctuation + "\u00bf\u00a1\u201c\u201d\u2018\u2019\u00ab\u00bb\u2026\u2013\u2014"
)
_SPACES = str.maketrans(dict.fromkeys(PUNCTUATION, " "))


def _ascii_table() -> bytes:
    """Lower case for A-Z, a space for ASCII punctuation and for the four separators (0x1C to
    0x1F) that str.split counts as white space and bytes.split does not."""
    table = bytearray(range(256))
    for code in range(ord("A"), ord("Z") + 1):
        table[code] = code + 32
    for code in (*string.punctuation.encode(), *range(0x1C, 0x20)):
        table[code] = ord(" ")
    return bytes(table)


_ASCII_SPACES = _ascii_table()
# The same, and every ASCII white space a space, so that runs of them collapse by one match.
_ASCII_BLANKS = _ASCII_SPACES.translate(bytes.maketrans(b"\t\n\x0b\x0c\r", b"     "))
_SPACE_RUNS = re.compile(b"  +")
