"""Hostile inputs, fuzzed: state files, config files, digest files, environment values.

Whatever the bytes, a command answers with one sentence and an exit code, never a traceback,
and a file it could not use is left exactly as it was.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Project
from fakes import dated
from nightly_batch.cli.main import main
from nightly_batch.core.jsonio import parse_json
from nightly_batch.errors import ConfigError
from nightly_batch.settings.config import load_config
from nightly_batch.settings.environment import PLAIN_NAMES, SECRET_NAMES, read_environment
from nightly_batch.tasks.runner import run_task

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
JSON_VALUES = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
VALID_STATE = json.dumps(
    {"redditQueue": [{"id": "a", "score": 9}, {"id": "b", "score": 0.2}], "taskHistory": []}
).encode()


def state_bytes() -> st.SearchStrategy[bytes]:
    """Broken, odd and enormous state files."""
    return st.one_of(
        st.integers(0, len(VALID_STATE) - 1).map(lambda cut: VALID_STATE[:cut]),  # truncated
        st.dictionaries(
            st.sampled_from(["redditQueue", "pendingDocChanges", "taskHistory", "x"]),
            JSON_VALUES,
            max_size=4,
        ).map(lambda d: json.dumps(d).encode()),
        st.lists(JSON_VALUES, max_size=5).map(
            lambda items: json.dumps({"redditQueue": items}).encode()
        ),
        st.integers(1, 50_000).map(
            lambda depth: b'{"redditQueue": ' + b"[" * depth + b"]" * depth + b"}"
        ),
        st.just(
            b'{"redditQueue": [{"id": "a", "score": 9, "score": "x"}], "redditQueue": []}'
        ),  # duplicate keys
        st.binary(max_size=64),  # anything, invalid UTF-8 included
        st.just(b'{"redditQueue": [{"id": "a", "score": 1e400}], "big": 1' + b"0" * 5000 + b"}"),
        st.just(
            b'{"redditQueue": [{"id": "' + b"x" * 2_000_000 + b'", "score": 8}]}'
        ),  # a huge string
        st.just(
            b'{"redditQueue": [{"id": "a", "score": NaN}, {"id": "\\ud800", "score": Infinity}]}'
        ),
    )


@FUZZ
@given(data=state_bytes())
def test_any_state_file_gives_a_sentence_and_stays_intact_or_becomes_valid(
    project: Project, data: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    """nightly-batch over any state: exit 0 with a valid new state, or 1/2 with the file untouched."""
    project.state_path.write_bytes(data)

    code = main(["run-once", "nightly-batch", "--config", str(project.config_path)])

    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    if code == 0:
        # msgspec, not json.loads: a 5,000-digit integer the sweeper wrote is kept as it was.
        assert isinstance(parse_json(project.state_path.read_bytes()), dict)
    else:
        assert code in (1, 2)
        assert project.state_path.read_bytes() == data
        assert err.splitlines()[-1].startswith("nightly-batch: failed after")


@FUZZ
@given(
    values=st.dictionaries(
        st.sampled_from(
            [
                "digestNotificationChannel",
                "digestTimeZone",
                "nightlyBatchSchedule",
                "draftScoreThreshold",
                "confidenceWeights",
                "taskHistoryLimit",
                "keywordScoreMax",
                "digestMaxAgeHours",
                "alertRepeatMinutes",
                "maxRuntimeMinutes",
                "metricsPort",
                "allowedWebhookHosts",
                "logLevel",
                "catchUpHours",
                "stateFile",
                "digestDir",
                "heartbeatMinutes",
                "digestFallbackChannel",
                "sendEmptyDigest",
                "dashboardPort",
            ]
        ),
        JSON_VALUES,
        max_size=5,
    )
)
def test_any_config_values_give_a_config_error_or_a_config(
    project: Project, values: dict[str, Any]
) -> None:
    """load_config either accepts the values or says why in a ConfigError: nothing else escapes."""
    project.write_config(**values)

    problem = None
    try:
        load_config(project.config_path)
    except ConfigError as error:
        problem = str(error)

    if problem is not None:  # one sentence that names the file
        assert problem.startswith(f"{project.config_path}: ")
        assert problem.endswith(".")
        assert "\n" not in problem


@FUZZ
@given(
    environ=st.dictionaries(
        st.sampled_from([*SECRET_NAMES, *PLAIN_NAMES]), st.text(max_size=30), max_size=6
    )
)
def test_any_environment_values_give_a_config_error_or_an_environment(
    environ: dict[str, str],
) -> None:
    """Every variable's value is checked or passed through; only ConfigError may be raised."""
    problem = None
    try:
        read_environment(environ)
    except ConfigError as error:
        problem = str(error)

    assert problem is None or problem.endswith(".")


@FUZZ
@given(data=state_bytes())
def test_send_digest_over_any_digest_file_never_crashes(project: Project, data: bytes) -> None:
    """A broken digest fails send-digest with a sentence naming the file; nothing is sent."""
    project.digests.mkdir(parents=True, exist_ok=True)
    (project.digests / dated("digest-2026-11-28.json")).write_bytes(data)
    app = project.app()

    outcome = run_task(app, "send-digest", "manual")

    assert "Traceback" not in outcome.message
    if not outcome.ok:
        assert dated("digest-2026-11-28.json") in outcome.message
    app.store.close()
