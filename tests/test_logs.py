"""Logging: JSON lines in the log file, readable console lines, secrets never written."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pytest

from conftest import Project
from nightly_batch.cli.main import main
from nightly_batch.core.jsonio import parse_json
from nightly_batch.observability.events import get_logger
from nightly_batch.observability.redact import Redactor
from nightly_batch.observability.setup import configure_logging
from nightly_batch.runtime.app import App
from nightly_batch.tasks.result import RunInfo, TaskResult
from nightly_batch.tasks.runner import run_task

SECRET_URL = "https://hooks.slack.com/services/T0AAAA/B0BBBB/zzSECRETzz"


def read_lines(path: Path) -> list[dict[str, object]]:
    return [parse_json(line.encode()) for line in path.read_text().splitlines()]


def test_file_gets_json_lines_and_console_gets_plain_lines(tmp_path: Path) -> None:
    """Each event is one JSON object in the file and one key=value line on a non-terminal."""
    console = io.StringIO()
    configure_logging(log_file=tmp_path / "orchestrator.log", console=console)

    get_logger("t").info("task.finished", task="nightly-batch", duration_s=0.25, result="ok")

    [line] = read_lines(tmp_path / "orchestrator.log")
    assert line["event"] == "task.finished"
    assert line["level"] == "info"
    assert line["duration_s"] == 0.25
    assert str(line["timestamp"]).endswith("Z")
    assert console.getvalue().startswith("level=info event=task.finished task=nightly-batch ")


def test_secrets_are_redacted_from_events_tracebacks_and_library_logs(tmp_path: Path) -> None:
    """Known secret values and credential shapes never reach the file or the console."""
    console = io.StringIO()
    log_file = tmp_path / "orchestrator.log"
    configure_logging(
        level="debug",
        log_file=log_file,
        console=console,
        redactor=Redactor([SECRET_URL, "hunter22"]),
    )
    log = get_logger("t")

    log.debug("posting", url=SECRET_URL, nested={"smtp": "smtp://bob:hunter22@mail.example.com"})
    try:
        raise RuntimeError(f"POST {SECRET_URL} failed; Authorization: Bearer abc.def.ghi")
    except RuntimeError:
        log.exception("delivery.crashed")
    logging.getLogger("somelib").warning("calling %s with xoxb-1234-5678-abcdef", SECRET_URL)
    logging.getLogger("httpx").info("HTTP Request: POST %s", SECRET_URL)

    written = log_file.read_text() + console.getvalue()
    for secret in ("zzSECRETzz", "hunter22", "abc.def.ghi", "xoxb-1234"):
        assert secret not in written
    assert "Traceback" in log_file.read_text()
    assert "HTTP Request" not in written  # httpx's INFO lines carry full URLs: silenced
    assert read_lines(log_file)[-1]["message"] == "calling *** with xox-***"
    assert [line["event"] for line in read_lines(log_file)] == [
        "posting",
        "delivery.crashed",
        "library.log",
    ]


def test_run_once_writes_the_log_file_in_logs_dir(project: Project) -> None:
    """A CLI run logs its task events as JSON lines to logsDir/orchestrator.log."""
    main(["run-once", "heartbeat", "--config", str(project.config_path)])

    events = [line["event"] for line in read_lines(project.logs / "orchestrator.log")]
    assert events == ["task.started", "task.finished"]


def test_events_inside_a_run_carry_its_task_and_run_id(project: Project) -> None:
    """What a task logs, through our loggers or a library's, is found by the run's id."""
    app = project.app()
    configure_logging(log_file=project.logs / "orchestrator.log", console=io.StringIO())

    def handler(_app: App, _run: RunInfo) -> TaskResult:
        get_logger("nightly_batch.somewhere").info("inside.the_run", lead="a")
        logging.getLogger("somelib").warning("a library speaks")
        return TaskResult("done")

    outcome = run_task(app, "heartbeat", "manual", handler=handler)
    get_logger("t").info("after.the_run")

    lines = {str(line["event"]): line for line in read_lines(project.logs / "orchestrator.log")}
    assert lines["library.log"]["message"] == "a library speaks"
    for event in ("task.started", "inside.the_run", "library.log", "task.finished"):
        assert (lines[event]["task"], lines[event]["run_id"]) == ("heartbeat", outcome.run_id)
    assert lines["inside.the_run"]["lead"] == "a"
    assert "run_id" not in lines["after.the_run"]


def test_redactor_masks_credential_shapes_it_was_not_told_about() -> None:
    """Webhook paths, bot tokens, SendGrid keys and URL passwords are masked by shape."""
    redactor = Redactor()

    text = redactor.text(
        "https://discord.com/api/webhooks/123/tok_en https://hooks.slack.com/services/T/B/x "
        "SG.aaaaaaaaaa.bbbbbbbbbb smtps://u:p4ss@h:465 key-0123456789abcdef0123"
    )

    assert text == (
        "https://discord.com/api/webhooks/*** https://hooks.slack.com/services/*** "
        "SG.*** smtps://u:***@h:465 key-***"
    )


def test_the_log_file_is_reopened_after_logrotate_moves_it(tmp_path: Path) -> None:
    """logrotate renames the file; the next event goes to a fresh orchestrator.log."""
    log_file = tmp_path / "orchestrator.log"
    configure_logging(log_file=log_file, console=io.StringIO())
    log = get_logger("t")
    log.info("before.rotation")

    log_file.rename(tmp_path / "orchestrator.log.1")
    log.info("after.rotation")

    assert [line["event"] for line in read_lines(tmp_path / "orchestrator.log.1")] == [
        "before.rotation"
    ]
    assert [line["event"] for line in read_lines(log_file)] == ["after.rotation"]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_columns_and_the_traceback_on_its_own_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At a terminal: time, padded level and event, the fields, then the traceback as is."""
    monkeypatch.setenv("NO_COLOR", "1")
    console = Terminal()
    configure_logging(console=console)
    log = get_logger("t")

    log.info("task.finished", task="heartbeat", duration_s=0.5)
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("task.crashed", task="heartbeat")

    lines = console.getvalue().splitlines()
    assert lines[0].endswith("Z [info    ] task.finished            task=heartbeat duration_s=0.5")
    assert lines[1].endswith("Z [error   ] task.crashed             task=heartbeat")
    assert lines[2] == "Traceback (most recent call last):"
    assert lines[-1] == "ValueError: boom"


def test_console_values_read_as_logfmt_not_as_python_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a pipe and at a terminal: bare words, double quotes around spaces, JSON for containers."""
    monkeypatch.setenv("NO_COLOR", "1")
    for console in (io.StringIO(), Terminal()):
        configure_logging(console=console)

        get_logger("t").info("task.finished", message="heartbeat ok", counts={"sent": 2}, ok=True)

        line = console.getvalue()
        assert 'message="heartbeat ok" counts="{\\"sent\\":2}" ok=true' in line
        assert "'" not in line


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_a_terminal_is_in_colour_unless_no_color_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """Colour at a terminal, the same text without it under NO_COLOR, none on a pipe."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    coloured, pipe = Terminal(), io.StringIO()
    for console in (coloured, pipe):
        configure_logging(console=console)
        get_logger("t").warning("alert.firing", alert="task_failed")
    monkeypatch.setenv("NO_COLOR", "1")
    plain = Terminal()
    configure_logging(console=plain)
    get_logger("t").warning("alert.firing", alert="task_failed")

    assert ANSI.search(coloured.getvalue())
    assert not ANSI.search(plain.getvalue())
    assert not ANSI.search(pipe.getvalue())
    strip = ANSI.sub("", coloured.getvalue())
    assert strip.split(" ", 1)[1] == plain.getvalue().split(" ", 1)[1]  # after the timestamp


def test_quiet_and_verbose_change_the_console_and_not_the_log_file(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """-q: no info lines on the console; -v: debug lines too; the file keeps its level."""
    project.state_path.write_text('{"redditQueue": [{"id": "nan", "score": NaN}]}')
    config = ["--config", str(project.config_path)]

    assert main(["run-once", "heartbeat", "-q", *config]) == 0
    quiet = capsys.readouterr().err
    assert main(["run-once", "nightly-batch", "--verbose", *config]) == 0
    verbose = capsys.readouterr().err
    assert main(["-q", "run-once", "nightly-batch", *config]) == 0
    warnings_only = capsys.readouterr().err

    assert "task.finished" not in quiet
    assert "batch.reference_path" in verbose  # a debug line: the NaN took the dict path
    assert "task.finished" in verbose
    assert "lead.invalid" in warnings_only  # a warning still shows under -q
    assert "task.finished" not in warnings_only
    logged = [line["event"] for line in read_lines(project.logs / "orchestrator.log")]
    assert logged.count("task.finished") == 3
    assert "batch.reference_path" not in logged


def test_library_records_become_events_and_uvicorn_access_lines_requests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uvicorn's sentences are a `message`, not an event name; its access line has fields."""
    # A server an earlier test made with access_log=False detached uvicorn's access logger.
    monkeypatch.setattr(logging.getLogger("uvicorn.access"), "propagate", True)
    configure_logging(log_file=tmp_path / "orchestrator.log", console=io.StringIO())

    logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:50000", "GET", "/digests?page=2", "1.1", 200
    )

    started, request = read_lines(tmp_path / "orchestrator.log")
    assert started["event"] == "library.log"
    assert started["library"] == "uvicorn.error"
    assert started["message"] == "Started server process [42]"
    assert request["event"] == "http.request"
    assert (request["method"], request["path"], request["status"]) == (
        "GET",
        "/digests?page=2",
        200,
    )
