"""The state file stays one that every program sharing it can read.

The sweeper and the reply drafter are JavaScript programs: every state, backup and digest the
daemon writes is parsed by Node's own JSON.parse here, not by our parser. And what other programs
wrote comes back as they wrote it: number and string literals byte for byte, non-ASCII as UTF-8,
the file's indentation kept; NaN and Infinity (Python's json writes them; they are not JSON) come
back as null, as JSON.stringify writes them.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Project
from nightly_batch.cli.main import main
from nightly_batch.core.json_literals import indent_of
from nightly_batch.tasks.runner import run_task

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="Node.js is missing (.ci/run installs it)")
OWNED = {"confidence", "confidenceBreakdown", "selectedForDraft", "selectedAt"}
NON_FINITE = ("NaN", "Infinity", "-Infinity")


def node_parses(*paths: Path) -> None:
    """Every file parses with Node's JSON.parse (the test fails with Node's message if not)."""
    assert NODE is not None
    script = (
        "const fs = require('fs');"
        "for (const f of process.argv.slice(1)) {"
        "  try { JSON.parse(fs.readFileSync(f, 'utf8')); }"
        "  catch (e) { console.error(f + ': ' + e.message); process.exitCode = 1; } }"
    )
    result = subprocess.run(
        [NODE, "-e", script, *map(str, paths)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


# Every JSON token (and Python's NaN and Infinity), read by a pattern, not by our parser.
TOKEN = re.compile(
    r'"(?:[^"\\]|\\.)*"|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?'
    r"|true|false|null|NaN|-?Infinity"
)


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


# The state is generated as text, from literals in the forms other writers use, so that the test
# knows each literal's exact bytes (a Python value would not say how it was written).
STRING_PARTS = st.sampled_from(
    [
        "a",
        "lead ",
        "café",
        "🚀",
        "中文",
        "\\u00e9",
        "\\ud83d\\ude80",
        "\\ud800",
        "\\/",
        "\\n",
        '\\"',
        "\\\\",
        "\\u0000",
        "NaN",
        "2.50",
    ]
)
STRINGS = st.lists(STRING_PARTS, max_size=4).map(lambda parts: '"' + "".join(parts) + '"')
NUMBERS = st.one_of(
    st.sampled_from(
        ["2.50", "1E5", "1e999", "-1e999", "0.10", "7.5e-1", "-0", "1.0", "3.14159265358979323846"]
    ),
    st.integers(-(10**25), 10**25).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)
SCORES = st.sampled_from(["0.9", "0.90", "5", "12.50", "1e999", "NaN", "Infinity", "0.2", '"9"'])
LITERALS = st.one_of(STRINGS, NUMBERS, st.sampled_from(["true", "false", "null", "NaN"]))


@dataclass
class Text:
    """A JSON text being generated, and every literal it holds."""

    indent: str | None
    separators: tuple[str, str]
    literals: list[str] = field(default_factory=list)

    def literal(self, text: str) -> str:
        self.literals.append(text)
        return text

    def container(self, opening: str, items: list[str], closing: str, depth: int) -> str:
        if not items:
            return opening + closing
        if self.indent is None:
            return opening + self.separators[0].join(items) + closing
        inner = "\n" + self.indent * (depth + 1)
        return opening + inner + ("," + inner).join(items) + "\n" + self.indent * depth + closing

    def member(self, key: str, value: str) -> str:
        colon = self.separators[1] if self.indent is None else ": "
        return self.literal(key) + colon + value


LAYOUTS = st.sampled_from(
    [
        (None, (",", ":")),
        (None, (", ", ": ")),
        ("  ", (",", ":")),
        ("    ", (",", ":")),
        ("\t", (",", ":")),
    ]
)


@st.composite
def state_texts(draw: st.DrawFn) -> tuple[str, Text]:
    indent, separators = draw(LAYOUTS)
    text = Text(indent, separators)
    leads = []
    for number in range(draw(st.integers(0, 6))):
        members = [
            text.member('"id"', text.literal(f'"lead-{number}"')),
            text.member('"score"', text.literal(draw(SCORES))),
        ]
        # Unique as a reader sees them: "🚀a" and "\ud83d\ude80a" are one name, and of a
        # name written twice every reader (JSON.parse too) keeps only the last.
        keys = draw(st.lists(STRINGS, max_size=3, unique_by=json.loads))
        reserved = {"id", "score", "llmScore", "modelScore", "tags", *OWNED}
        members += [
            text.member(key, text.literal(draw(LITERALS)))
            for key in keys
            if json.loads(key) not in reserved
        ]
        if draw(st.booleans()):
            # Touched by an earlier batch with another rule: the lead goes through dicts, and
            # this member is ours to rewrite.
            members.append('"confidence":0.5')
        if draw(st.booleans()):
            tags = [text.literal(draw(STRINGS)) for _ in range(draw(st.integers(0, 2)))]
            members.append(text.member('"tags"', text.container("[", tags, "]", 3)))
        leads.append(text.container("{", members, "}", 2))
    top = [text.member('"redditQueue"', text.container("[", leads, "]", 1))]
    top.append(text.member('"sweeperNote"', text.literal(draw(LITERALS))))
    body = text.container("{", top, "}", 0)
    return body + draw(st.sampled_from(["", "\n"])), text


@needs_node
@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(generated=state_texts())
def test_every_written_state_keeps_the_literals_and_parses_in_node(
    project: Project, generated: tuple[str, Text]
) -> None:
    """Any literal, any layout: the batch's state and digest parse with JSON.parse, and every
    literal other programs wrote is still there, byte for byte, in the file's own layout."""
    source, text = generated
    data = source.encode()
    project.state_path.write_bytes(data)

    outcome = run_task(project.app(), "nightly-batch", "manual")

    assert outcome.ok, outcome.message
    written = project.state_path.read_bytes()
    digests = sorted(project.digests.glob("digest-*.json"))
    node_parses(project.state_path, *digests)
    theirs = Counter(literal for literal in text.literals if literal not in NON_FINITE)
    missing = theirs - Counter(tokens(written.decode()))
    assert not missing, f"literals rewritten or lost: {dict(missing)}"
    assert indent_of(written) == text.indent
    assert written.endswith(b"}\n") == source.endswith("\n")


@needs_node
def test_a_1e999_score_and_a_nan_come_back_as_json_node_reads(project: Project) -> None:
    """The issue's file: one `1e999`, `2.50`, raw UTF-8, an indented layout, a NaN."""
    source = (
        "{\n"
        '  "redditQueue": [\n'
        '    {"id": "big", "score": 1e999, "title": "café 🚀"},\n'
        '    {"id": "ok", "score": 0.90, "price": 2.50, "title": "\\u00e9 kept escaped"},\n'
        '    {"id": "nan", "score": NaN}\n'
        "  ],\n"
        '  "sweeperNote": "naïve"\n'
        "}\n"
    )
    project.state_path.write_text(source, encoding="utf-8")

    outcome = run_task(project.app(), "nightly-batch", "manual")

    assert outcome.ok
    written = project.state_path.read_text(encoding="utf-8")
    node_parses(project.state_path, *project.digests.glob("digest-*.json"))
    for kept in ('"score": 1e999', '"title": "café 🚀"', '"price": 2.50', '"score": 0.90'):
        assert kept in written, kept
    assert '"\\u00e9 kept escaped"' in written
    assert '"sweeperNote": "naïve"' in written
    assert '"score": null' in written  # NaN, as JSON.stringify writes it
    assert "Infinity" not in written
    assert "NaN" not in written
    assert written.startswith('{\n  "redditQueue": [\n    {\n      "id": "big",')
    digest = next(project.digests.glob("digest-*.json")).read_text(encoding="utf-8")
    assert '"score":0.90' in digest  # the selected lead, copied with its literals


def test_a_task_run_rewrites_only_the_keys_it_owns(project: Project) -> None:
    """After send-digest, every member but taskHistory and the delivery stamp is byte for byte
    what the sweeper wrote, the queue's odd spacing included."""
    queue = '[ {"id": "a",  "score": 0.90, "n": 1E5} ,{"id":"b","score":2.50} ]'
    source = '{"redditQueue": ' + queue + ', "note": "\\u00e9", "taskHistory": []}'
    project.state_path.write_text(source)

    run_task(project.app(), "send-digest", "manual")

    written = project.state_path.read_text()
    assert written.startswith('{"redditQueue": ' + queue + ', "note": "\\u00e9", "taskHistory": [')
    assert json.loads(written)["taskHistory"][-1]["type"] == "send-digest"


def test_a_lead_that_is_not_utf8_is_one_sentence_and_the_file_stays(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """msgspec skips inside leads without checking their text: the dict path must not crash."""
    data = b'{"redditQueue":[{"id":"x\xff","score":9,"confidence":0.5}]}'
    project.state_path.write_bytes(data)

    code = main(project.main_args("run-once", "nightly-batch"))

    err = capsys.readouterr().err
    assert code == 2
    assert "not valid UTF-8 at byte" in err
    assert "Traceback" not in err
    assert project.state_path.read_bytes() == data


def test_a_lead_read_only_as_the_digest_is_written_leaves_the_old_digest_and_no_part_file(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """The fast path copies a selected lead's bytes until it must parse the lead (it carries a
    breakdown of its own), halfway through writing the digest: that digest is abandoned, the
    reference path says why, and the day's digest and the state are as they were."""
    assert main(project.main_args("run-once", "nightly-batch")) == 0  # the day's first digest
    [digest] = project.digests.glob("*.json")
    before = digest.read_bytes()
    good = b'{"id":"a","score":9}'
    drafted = (
        b'{"id":"y","score":9,"confidence":0.9,"selectedForDraft":true,'
        b'"selectedAt":"2026-11-27T23:00:00.000Z","confidenceBreakdown":{},"note":"\xff"}'
    )
    data = b'{"redditQueue":[' + b",".join([good] * 1500 + [drafted]) + b"]}"
    project.state_path.write_bytes(data)

    code = main(project.main_args("run-once", "nightly-batch"))

    assert code == 2
    assert "not valid UTF-8 at byte" in capsys.readouterr().err
    assert project.state_path.read_bytes() == data
    assert digest.read_bytes() == before
    assert sorted(path.name for path in project.digests.iterdir()) == [digest.name]


def test_a_byte_order_mark_is_refused_before_anything_is_written(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """JSON forbids it and JSON.parse fails on it: one sentence, the file as it was."""
    data = b'\xef\xbb\xbf{"redditQueue": []}'
    project.state_path.write_bytes(data)

    code = main(project.main_args("run-once", "nightly-batch"))

    assert code == 2
    assert "starts with a UTF-8 byte-order mark" in capsys.readouterr().err
    assert project.state_path.read_bytes() == data


@needs_node
def test_a_tab_indented_state_keeps_its_tabs_at_every_level(project: Project) -> None:
    """The queue, its leads and their nested values come back indented by tabs only."""
    state = {"redditQueue": [{"id": "a", "score": 0.9, "tags": ["x", {"k": [1]}]}], "n": 1}
    project.state_path.write_text(json.dumps(state, indent="\t") + "\n")

    assert run_task(project.app(), "nightly-batch", "manual").ok

    written = project.state_path.read_text()
    node_parses(project.state_path)
    layout = [line[: len(line) - len(line.lstrip())] for line in written.splitlines()]
    assert all(set(indent) <= {"\t"} for indent in layout), written
    assert '\n\t\t\t"tags": [\n\t\t\t\t"x",\n\t\t\t\t{\n\t\t\t\t\t"k": [' in written
