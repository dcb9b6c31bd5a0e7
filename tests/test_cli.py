"""The command line as an operator uses it: exit codes, output, no tracebacks."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from conftest import Project
from fakes import dated, day
from nightly_batch.cli.main import main
from nightly_batch.core.jsonio import parse_json

Lead = Callable[..., dict[str, Any]]


def cli(project: Project, *arguments: str) -> int:
    return main(project.main_args(*arguments))


def test_run_once_prints_one_result_line_and_exits_0(
    project: Project, lead: Lead, capsys: pytest.CaptureFixture[str]
) -> None:
    """run-once prints the task's outcome on stdout and exits 0 on success."""
    project.write_state({"redditQueue": [lead("a", 0.9)], "pendingDocChanges": ["x.md"]})

    code = cli(project, "run-once", "nightly-batch")

    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("nightly-batch: ok in ")
    assert out.endswith(": nightly batch: synced 1 docs, marked 1 for draft\n")


def test_run_once_of_a_failing_task_exits_1(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """A task that fails (here: an unreadable digest) exits 1 with the reason."""
    project.digests.mkdir(parents=True)
    (project.digests / "digest-2099-01-01.json").write_text("{not json")

    code = cli(project, "run-once", "send-digest")

    err = capsys.readouterr().err
    assert code == 1
    assert "send-digest: failed after" in err
    assert "digest-2099-01-01.json: not valid JSON at line 1, column 2" in err


def test_unknown_task_is_a_usage_error(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """argparse refuses an unknown task with exit code 2 and the allowed names."""
    assert cli(project, "run-once", "reddit-sweep") == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'reddit-sweep'" in err
    assert "(choose from 'nightly-batch', 'send-digest', 'heartbeat')" in err  # not enum reprs


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["serve", "--port", "99999"], "argument --port: '99999' is not a port (0 to 65535)"),
        (["serve", "--port", "http"], "argument --port: 'http' is not a port (0 to 65535)"),
        (
            ["serve", "--host", "999.1.1.1", "--port", "0"],
            "the dashboard cannot listen on 999.1.1.1:0 (",
        ),
        (["alerts", "--since", "999999999999999999d"], "is longer than a hundred years"),
        (["alerts", "--since", "99999999d"], "is longer than a hundred years (36500d)."),
        (
            ["alerts", "silence", "--name", "task_failed", "--for", "9" * 21 + "d"],
            "is longer than a hundred years",
        ),
        (
            ["alerts", "silence", "--name", "task_failed", "--task", "nosuchtask", "--for", "1h"],
            "--task 'nosuchtask' matches no task; the tasks are nightly-batch, send-digest,",
        ),
    ],
)
def test_a_bad_value_is_one_sentence_and_exit_2(
    project: Project, capsys: pytest.CaptureFixture[str], arguments: list[str], said: str
) -> None:
    """Values that once ended in a traceback (OverflowError) or in uvicorn's exit 3."""
    assert cli(project, *arguments) == 2
    err = capsys.readouterr().err
    assert said in err
    assert "Traceback" not in err


def test_a_silence_may_name_an_alert_channel_for_its_task(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """alert_channel_failed is about an alert channel, whose name is its task."""
    code = cli(
        project,
        "alerts",
        "silence",
        "--name",
        "alert_channel_failed",
        "--task",
        "slack",
        "--for",
        "2h",
    )

    assert code == 0
    assert ": alert_channel_failed (slack) until " in capsys.readouterr().out


def test_serve_on_a_port_in_use_is_one_sentence_and_exit_2(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another program listens there: exit 2 naming the address, not uvicorn's exit 3
    (which is a fenced daemon's)."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]

        code = cli(project, "serve", "--port", str(port))

    err = capsys.readouterr().err
    assert code == 2
    assert f"the dashboard cannot listen on 127.0.0.1:{port} (Address already in use)." in err


def test_status_reports_runs_heartbeat_digest_and_queue(
    project: Project, lead: Lead, capsys: pytest.CaptureFixture[str]
) -> None:
    """status --json has the last run per task, heartbeat age, last digest, queue size."""
    project.write_state({"redditQueue": [lead("a", 0.9), lead("b", 0.2)]})
    for task in ("heartbeat", "nightly-batch", "send-digest"):
        cli(project, "run-once", task)
    capsys.readouterr()
    # Every command starts at the fake clock's instant and runs on at the real rate, so without
    # a step the heartbeat (written late in its run) could look newer than status's now.
    project.clock.advance(timedelta(minutes=1))

    code = cli(project, "status", "--json")

    status = parse_json(capsys.readouterr().out.encode())
    assert code == 0
    assert {task: run["result"] for task, run in status["tasks"].items()} == {
        "nightly-batch": "ok",
        "send-digest": "ok",
        "heartbeat": "ok",
    }
    assert status["heartbeat"]["ageSeconds"] >= 0
    assert status["queue"]["total"] == 2
    assert status["queue"]["selected"] == 1
    assert status["lastDigest"]["leads"] == 1
    assert [(d["channel"], d["status"]) for d in status["lastDigest"]["deliveries"]] == [
        ("log", "sent")
    ]


def test_status_before_anything_ran_creates_nothing(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fresh install's status says what has not happened yet and writes no file."""
    code = cli(project, "status")

    out = capsys.readouterr().out
    assert code == 0
    assert "nightly-batch  never run" in out
    assert "heartbeat: none yet" in out
    assert "last digest: none yet" in out
    assert not project.logs.exists()


def test_status_says_why_an_empty_digest_was_not_sent(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """An empty night with sendEmptyDigest false: not sent by design, said so, where status
    read "not sent: log not sent" as if a send were still to come."""
    project.write_state({"redditQueue": []})
    assert cli(project, "run-once", "nightly-batch") == 0
    assert cli(project, "run-once", "send-digest") == 0
    capsys.readouterr()

    assert cli(project, "status") == 0

    out = capsys.readouterr().out
    assert "(0 leads: not sent, as sendEmptyDigest is false)" in out
    assert "log not sent" not in out


def test_an_unreachable_postgresql_store_is_one_sentence_naming_the_cause(
    project: Project,
) -> None:
    """A server that refuses: libpq's reason in one line, not the pool's retries printed for
    10 s and then only its timeout."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    url = f"postgresql://nb:secretpw@127.0.0.1:{port}/nb"

    done = subprocess.run(
        project.cli("status"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "NIGHTLY_BATCH_DATABASE_URL": url},
    )

    assert done.returncode == 1
    said = (
        f"nightly-batch: postgresql://127.0.0.1:{port}/nb: the runtime store cannot be opened "
        f'(connection failed: connection to server at "127.0.0.1", port {port} failed: '
        "Connection refused)."
    )
    assert done.stderr.splitlines() == [said]


def test_status_shows_a_run_whose_process_died_as_interrupted(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run left 'running' by a killed process is reported as interrupted."""
    app = project.app()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    app.store.start_run(
        "nightly-batch", "schedule", dated("2026-11-28T23:00:00.000Z"), int(dead.stdout)
    )
    app.store.close()

    cli(project, "status", "--json")

    assert (
        parse_json(capsys.readouterr().out.encode())["tasks"]["nightly-batch"]["result"]
        == "interrupted"
    )


def test_digests_list_and_show(
    project: Project, lead: Lead, capsys: pytest.CaptureFixture[str]
) -> None:
    """digests list shows each date; digests show prints the leads or, with --json, the file."""
    project.write_state({"redditQueue": [lead("a", 0.9, question="Best <reverse> proxy?")]})
    cli(project, "run-once", "nightly-batch")
    capsys.readouterr()
    day = min(p.name for p in project.digests.glob("digest-*.json"))[7:17]

    assert cli(project, "digests", "list") == 0
    listing = capsys.readouterr().out
    assert cli(project, "digests", "show", day) == 0
    shown = capsys.readouterr().out
    assert cli(project, "digests", "show", day, "--json") == 0
    raw = capsys.readouterr().out

    assert f"{day}" in listing.splitlines()[1]
    assert "1 Reddit Leads Ready for Review" in shown
    assert (
        "[0.90] Best <reverse> proxy? r/selfhosted · 13 h ago "
        "https://www.reddit.com/r/selfhosted/comments/a/" in shown
    )
    assert parse_json(raw.encode())["redditQueue"][0]["id"] == "a"


@pytest.mark.parametrize(
    ("arguments", "code", "message"),
    [
        (
            ("digests", "show", "2026-13-01"),
            2,
            "DATE '2026-13-01' is not a date of the form YYYY-MM-DD.",
        ),
        # A date with no digest is the caller's mistake: a usage error, not a failed task (1).
        (("digests", "show", "2020-01-01"), 2, "there is no digest of 2020-01-01 in"),
    ],
)
def test_digests_show_errors_are_one_sentence(
    project: Project,
    capsys: pytest.CaptureFixture[str],
    arguments: tuple[str, ...],
    code: int,
    message: str,
) -> None:
    """A bad or unknown date is one sentence, no traceback."""
    assert cli(project, *arguments) == code
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_works_without_a_config(capsys: pytest.CaptureFixture[str], flag: str) -> None:
    """--help needs no config file and lists every command with its line."""
    assert main([flag]) == 0

    out = capsys.readouterr().out
    assert out.startswith("usage: nightly-batch [-h] [--config PATH] [-q | -v] COMMAND ...\n")
    assert re.search(r"^ +run-once +run one task now, as the daemon would$", out, re.MULTILINE)
    assert "  --config PATH  config file (default: $NIGHTLY_BATCH_CONFIG or\n" in out
    assert "--now" not in out  # the tests' clock option is never shown


def test_every_command_listed_by_help_has_its_own_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The commands --help names are the ones the parser knows: each answers COMMAND --help."""
    main(["--help"])
    listed = capsys.readouterr().out.split("commands:\n  COMMAND\n")[1].split("\n\n")[0]
    names = [
        line.split()[0]
        for line in listed.splitlines()
        if line.startswith("    ") and line[4] != " "
    ]

    assert len(names) == 11
    for name in names:
        assert main([name, "--help"]) == 0
        assert capsys.readouterr().out.startswith(f"usage: nightly-batch {name} ")


@pytest.mark.parametrize(
    ("arguments", "shown"),
    [
        (["run-once", "--help"], "{nightly-batch,send-digest,heartbeat}"),
        (["--config", "status", "schedule", "--help"], "--from ISO-TIME"),
        (["alerts", "silence", "--help"], "--for DURATION"),
        (["digests", "show", "--help"], "DATE"),
    ],
)
def test_each_command_has_its_own_help(
    capsys: pytest.CaptureFixture[str], arguments: list[str], shown: str
) -> None:
    """A command's --help shows its own arguments (a --config value named like a command is
    not taken for the command)."""
    assert main(arguments) == 0
    assert shown in capsys.readouterr().out


def test_an_unknown_command_lists_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    """A typo gets exit 2 and the list of commands."""
    assert main(["stauts"]) == 2
    assert "invalid choice: 'stauts' (choose from 'run', 'run-once'" in capsys.readouterr().err


def test_python_dash_m_runs_the_same_cli(project: Project) -> None:
    """`python -m nightly_batch` is the same command line, in a fresh process."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "nightly_batch",
            "check-config",
            "--config",
            str(project.config_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0
    assert parse_json(result.stdout.encode())["config"]["digestTimeZone"] == "UTC"


def test_the_tests_clock_option_is_checked_and_refused_by_run(
    project: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--now takes an ISO time with an offset; run refuses it; the variable form warns."""
    config = ["--config", str(project.config_path)]

    assert main(["status", "--now", "yesterday", *config]) == 2
    assert "--now 'yesterday' is not an ISO 8601 time with an offset" in capsys.readouterr().err
    assert main(["run", "--now", "2026-11-28T23:00:00Z", *config]) == 2
    assert "--now cannot be used with run" in capsys.readouterr().err

    monkeypatch.setenv("NIGHTLY_BATCH_TEST_NOW", "2026-11-28T23:00:00+00:00")
    assert main(["status", *config]) == 0
    assert (
        "warning: the clock starts at 2026-11-28T23:00:00+00:00 (NIGHTLY_BATCH_TEST_NOW is for tests only)"
        in capsys.readouterr().err
    )
    assert main(["run", *config]) == 2
    assert "NIGHTLY_BATCH_TEST_NOW cannot be used with run" in capsys.readouterr().err


def test_digests_show_never_hands_a_terminal_a_control_character(
    project: Project, lead: Lead, capsys: pytest.CaptureFixture[str]
) -> None:
    """An ANSI colour, an OSC window title and a forged line in a Reddit title reached the
    terminal raw; each control character is shown as \\xNN instead."""
    title = "\x1b[31mred\x1b[0m \x1b]0;owned\x07 fake\rline \x9b2J"
    project.write_state({"redditQueue": [lead("a", 0.9, question=title)]})
    assert cli(project, "run-once", "nightly-batch") == 0
    capsys.readouterr()

    assert cli(project, "digests", "show", day()) == 0

    out = capsys.readouterr().out
    assert "\\x1b[31mred\\x1b[0m \\x1b]0;owned\\x07 fake\\x0dline \\x9b2J" in out
    assert not any(ch in out for ch in "\x1b\x07\r\x9b")


def test_a_closed_pipe_ends_quietly(project: Project) -> None:
    """`schedule --count 1000 | head -1` ended in a BrokenPipe traceback (its output is larger
    than a pipe holds, so the writer meets the closed end)."""
    arguments = project.cli("schedule", "--count", "1000")
    reader = subprocess.Popen(["head", "-1"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert reader.stdin is not None
    writer = subprocess.run(arguments, stdout=reader.stdin, stderr=subprocess.PIPE, check=False)
    reader.stdin.close()
    reader.wait(timeout=60)

    assert writer.stderr.decode() == ""
    assert writer.returncode == 0


def test_status_check_fails_on_a_stale_heartbeat_or_an_error_alert(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """status exited 0 with critical alerts firing; --check exits 1 and says why, for a cron
    wrapper or a Nagios-style check."""
    assert cli(project, "status", "--check") == 1
    assert capsys.readouterr().err == "nightly-batch: check: no heartbeat recorded yet\n"

    assert cli(project, "run-once", "heartbeat") == 0
    capsys.readouterr()
    assert cli(project, "status", "--check") == 0
    assert capsys.readouterr().err == ""

    app = project.app()
    from nightly_batch.alerts.wiring import attach_alerting  # noqa: PLC0415

    attach_alerting(app)
    assert app.alerts is not None
    app.alerts.fire("low_disk", "-", "critical", "0.5% free")
    capsys.readouterr()  # the alert's own log line
    assert cli(project, "status", "--check") == 1
    assert capsys.readouterr().err == (
        "nightly-batch: check: critical alert low_disk (-): 0.5% free\n"
    )
