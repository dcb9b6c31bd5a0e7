"""Config and environment: readable sentences for every bad value, secrets masked."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from conftest import Project
from nightly_batch.cli.main import main
from nightly_batch.core.jsonio import parse_json
from nightly_batch.errors import ConfigError
from nightly_batch.settings.config import load_config
from nightly_batch.settings.environment import read_environment


def test_the_shipped_default_config_is_valid() -> None:
    """config/orchestrator_config.json works as it is: log channel, UTC, the original schedules."""
    path = Path(__file__).parent.parent / "config" / "orchestrator_config.json"

    config, warnings = load_config(path)

    assert warnings == []
    assert config.digest_notification_channel == ["log"]
    assert config.digest_time_zone == "UTC"
    assert (config.nightly_batch_schedule, config.morning_notification_schedule) == (
        "0 23 * * *",
        "0 6 * * *",
    )
    assert config.state_file == path.parent.parent / "orchestrator_state.json"


@pytest.mark.parametrize(
    ("key", "value", "sentence"),
    [
        (
            "nightlyBatchSchedule",
            "0 25 * * *",
            'nightlyBatchSchedule = "0 25 * * *" is not a valid cron expression (bad hour).',
        ),
        (
            "nightlyBatchSchedule",
            "@daily",
            'nightlyBatchSchedule = "@daily" is not a cron expression of five fields (minute hour day month weekday).',
        ),
        (
            "morningNotificationSchedule",
            "0 6 * * * *",
            'morningNotificationSchedule = "0 6 * * * *" is not a cron expression of five fields',
        ),
        (
            "digestTimeZone",
            "Mars/Olympus",
            'digestTimeZone = "Mars/Olympus" is not a known IANA time zone (for example "UTC" or "Europe/Berlin").',
        ),
        (
            "digestTimeZone",
            "../../etc/passwd",
            'digestTimeZone = "../../etc/passwd" is not a known IANA time zone',
        ),
        (
            "digestNotificationChannel",
            "sms",
            'digestNotificationChannel = "sms" must be one of "discord", "email", "log", "slack" or "webhook", or a list of them.',
        ),
        (
            "digestNotificationChannel",
            [],
            "digestNotificationChannel = [] must name at least one channel: slack, discord, email, webhook or log.",
        ),
        (
            "digestNotificationChannel",
            ["log", "log"],
            'digestNotificationChannel = ["log", "log"] names a channel twice.',
        ),
        ("draftScoreThreshold", 1.5, "draftScoreThreshold = 1.5 must be a number from 0 to 1."),
        ("draftScoreThreshold", -0.1, "draftScoreThreshold = -0.1 must be a number from 0 to 1."),
        (
            "draftScoreThreshold",
            "high",
            'draftScoreThreshold = "high" must be a number from 0 to 1.',
        ),
        (
            "confidenceWeights",
            {"keyword": 0.5, "model": 0.6},
            "keyword + model must sum to 1, not 0.5 + 0.6.",
        ),
        ("confidenceWeights", {"keyword": 0.3}, "keyword + model must sum to 1, not 0.3 + 0.6."),
        (
            "taskHistoryLimit",
            0,
            "taskHistoryLimit = 0 must be a whole number from 1 to 10,000.",
        ),
        (
            "keywordScoreMax",
            0,
            "keywordScoreMax = 0 must be a number greater than 0 and at most 1,000,000.",
        ),
        (
            "digestMaxAgeHours",
            "soon",
            'digestMaxAgeHours = "soon" must be a number greater than 0 and at most 744.',
        ),
        (
            "confidenceWeights",
            {"keyword": 2, "model": -1},
            "confidenceWeights.keyword = 2 must be a number from 0 to 1.",
        ),
        (
            "confidenceWeights",
            {"keyword": 0.5, "modell": 0.5},
            'confidenceWeights has an unknown key "modell"; it takes keyword and model.',
        ),
        (
            "alertRepeatMinutes",
            {"urgent": 5},
            (
                'alertRepeatMinutes = {"urgent": 5} must be an object mapping "critical", '
                '"error", "info" or "warning" to numbers from 0 to 525,600.'
            ),
        ),
        ("stateFile", 5, "stateFile = 5 must be a path (a non-empty string)."),
        ("metricsPort", 0, "metricsPort = 0 must be a whole number from 1 to 65,535, or null."),
        ("heartbeatMinutes", 2.5, "heartbeatMinutes = 2.5 must be a whole number from 1 to 60."),
        ("sendEmptyDigest", "perhaps", 'sendEmptyDigest = "perhaps" must be true or false.'),
        (
            "logLevel",
            "loud",
            'logLevel = "loud" must be one of "debug", "error", "info" or "warning".',
        ),
        (
            "digestNotificationChannel",
            ["slack", "sms"],
            'digestNotificationChannel[1] = "sms" must be one of "discord", "email", "log", "slack" or "webhook".',
        ),
        (
            "alertRepeatMinutes",
            {"info": -1},
            "alertRepeatMinutes.info = -1 must be a number from 0 to 525,600.",
        ),
        ("heartbeatMinutes", True, "heartbeatMinutes = true must be a whole number from 1 to 60."),
        ("draftScoreThreshold", "NaN", 'draftScoreThreshold = "NaN" must be a number from 0 to 1.'),
        ("digestTimeZone", 5, "digestTimeZone = 5 must be an IANA time zone name."),
        ("stateFile", "", 'stateFile = "" must be a path (a non-empty string).'),
        (
            "confidenceWeights",
            3,
            "confidenceWeights = 3 must be an object with the keys keyword and model.",
        ),
    ],
)
def test_each_bad_value_is_one_sentence_with_key_value_and_what_is_allowed(
    project: Project, key: str, value: Any, sentence: str
) -> None:
    """An invalid value names the file, the key and the value, and says what is allowed."""
    project.write_config(**{key: value})

    with pytest.raises(ConfigError) as raised:
        load_config(project.config_path)

    assert str(raised.value).startswith(f"{project.config_path}: ")
    assert sentence in str(raised.value)
    assert "\n" not in str(raised.value)


def test_several_mistakes_are_one_sentence_each_on_one_line(project: Project) -> None:
    """pydantic reports every mistake; each gets its sentence, the first five on the line."""
    project.write_config(heartbeatMinutes=0, logLevel="loud")

    with pytest.raises(ConfigError) as raised:
        load_config(project.config_path)

    assert str(raised.value) == (
        f"{project.config_path}: heartbeatMinutes = 0 must be a whole number from 1 to 60. "
        'logLevel = "loud" must be one of "debug", "error", "info" or "warning".'
    )

    project.write_config(digestNotificationChannel=["sms"] * 7)

    with pytest.raises(ConfigError) as raised:
        load_config(project.config_path)

    assert str(raised.value).count(" must be one of ") == 5
    assert str(raised.value).endswith('"webhook". 2 more mistakes not shown.')


def test_an_integer_too_long_to_print_is_described_by_its_length(project: Project) -> None:
    """Python refuses str() of an integer past 4,300 digits; the sentence gives its size."""
    project.config_path.write_text(
        '{"stateFile": "../s.json", "logsDir": "../logs", "taskHistoryLimit": 1' + "0" * 4200 + "}"
    )

    with pytest.raises(ConfigError) as raised:
        load_config(project.config_path)

    assert str(raised.value) == (
        f"{project.config_path}: taskHistoryLimit = <a whole number of about 4,200 digits> "
        "must be a whole number from 1 to 10,000."
    )


def test_numbers_and_booleans_written_as_strings_are_accepted(project: Project) -> None:
    """ "5", 5.0 and "true" mean what they say, as operators (and the original) wrote them."""
    project.write_config(heartbeatMinutes="7", taskHistoryLimit=20.0, sendEmptyDigest="true")

    config, _ = load_config(project.config_path)

    assert (config.heartbeat_minutes, config.task_history_limit) == (7, 20)
    assert config.send_empty_digest is True


def test_a_missing_required_key_is_named(project: Project) -> None:
    """stateFile and logsDir have no default: their absence is said plainly."""
    project.config_path.write_text('{"logsDir": "../logs"}')

    with pytest.raises(ConfigError, match=r"stateFile is required but missing\.$"):
        load_config(project.config_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"logsDir": "../logs",}', "the config file is not valid JSON at line 1, column 23"),
        (b"[1]", "the config file must hold a JSON object of keys and values."),
        (b'{"a": "\xff"}', "the config file is not valid UTF-8 at byte 7."),
    ],
)
def test_an_unreadable_config_file_is_one_sentence(
    project: Project, content: bytes, message: str
) -> None:
    """Broken JSON, a non-object and bad bytes each get one sentence with the position."""
    project.config_path.write_bytes(content)

    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(project.config_path)


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    """A config path that does not exist is named in the error."""
    with pytest.raises(ConfigError, match=r"nope\.json: the config file does not exist\."):
        load_config(tmp_path / "nope.json")


def test_unknown_keys_are_accepted_and_near_misses_get_a_warning(project: Project) -> None:
    """Keys of other programs pass silently; a likely misspelling of ours is pointed out."""
    project.write_config(digestTimezone="Europe/Berlin", draftScoreTreshold=0.8, rssConfigPath="x")

    config, warnings = load_config(project.config_path)

    assert config.digest_time_zone == "UTC"
    assert warnings == [
        f'{project.config_path}: unknown key "digestTimezone" is ignored; did you mean "digestTimeZone"?',
        f'{project.config_path}: unknown key "draftScoreTreshold" is ignored; did you mean "draftScoreThreshold"?',
    ]


def test_relative_paths_resolve_against_the_config_file_not_the_cwd(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same config gives the same paths whatever directory the command starts in."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    config, _ = load_config(project.config_path)

    assert config.state_file == tmp_path / "orchestrator_state.json"
    assert config.logs_dir == tmp_path / "logs"
    assert config.digests == tmp_path / "logs" / "digests"


def test_an_unusable_directory_is_refused(project: Project, tmp_path: Path) -> None:
    """A directory that cannot be created (a file is in the way) names the key and the reason."""
    (tmp_path / "blocker").write_text("a file, not a directory")
    project.write_config(digestDir="../blocker/digests")

    with pytest.raises(ConfigError) as raised:
        load_config(project.config_path)

    assert str(raised.value) == (
        f"{project.config_path}: digestDir = '{tmp_path}/blocker/digests' is not usable: "
        f"'{tmp_path}/blocker' is not a directory."
    )


def test_a_state_file_in_a_directory_not_there_yet_is_said_then_made(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """check-config warns (a typo would leave the batch reading an empty queue there), and
    the first run makes the directory, where run-once once failed at the lock file."""
    project.write_config(stateFile="../nodir/s.json")

    assert main(["check-config", "--config", str(project.config_path)]) == 0
    assert (
        f"warning: stateFile's directory {project.root}/nodir does not exist yet: the first run "
        "makes it, and until the sweeper writes there the queue is empty."
    ) in capsys.readouterr().err
    assert main(project.main_args("run-once", "nightly-batch")) == 0
    assert (project.root / "nodir").is_dir()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_directory_is_refused(project: Project, tmp_path: Path) -> None:
    """A directory without write permission is refused at load time."""
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    project.write_config(logsDir="../locked")

    with pytest.raises(ConfigError, match="is not writable by this user"):
        load_config(project.config_path)


def test_secrets_come_from_the_environment_or_a_file(tmp_path: Path) -> None:
    """NAME and NAME_FILE both work; the file's trailing newline is dropped."""
    secret_file = tmp_path / "discord"
    secret_file.write_text("https://discord.com/api/webhooks/1/abc\n")

    environment = read_environment(
        {
            "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/xyz",
            "DISCORD_WEBHOOK_URL_FILE": str(secret_file),
        }
    )

    assert environment.get("SLACK_WEBHOOK_URL") == "https://hooks.slack.com/services/T0/B0/xyz"
    assert environment.get("DISCORD_WEBHOOK_URL") == "https://discord.com/api/webhooks/1/abc"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"EMAIL_PROVIDER": "postmark"},
            'EMAIL_PROVIDER = "postmark" is not allowed: use one of sendgrid, mailgun, smtp.',
        ),
        (
            {"ALERTS_ENABLED": "maybe"},
            'ALERTS_ENABLED = "maybe" is not allowed: use true or false.',
        ),
        (
            {"ALERT_SEVERITY_THRESHOLD": "loud"},
            'ALERT_SEVERITY_THRESHOLD = "loud" is not allowed: use one of info, warning, error, critical.',
        ),
        (
            # Once read past the settings, and a level logging has not silently ignored.
            {"NIGHTLY_BATCH_LOG_LEVEL": "trace"},
            (
                'NIGHTLY_BATCH_LOG_LEVEL = "trace" is not allowed: use one of debug, info, '
                "warning, error."
            ),
        ),
        (
            {"SMTP_URL": "smtp://a", "SMTP_URL_FILE": "/x"},
            "SMTP_URL and SMTP_URL_FILE are both set; set only one of them.",
        ),
        (
            {"EMAIL_API_KEY_FILE": "/nonexistent/key"},
            "EMAIL_API_KEY_FILE = '/nonexistent/key' cannot be read (No such file or directory).",
        ),
    ],
)
def test_bad_environment_values_are_one_sentence(environ: dict[str, str], message: str) -> None:
    """Each bad variable is named with its value and what is allowed."""
    with pytest.raises(ConfigError) as raised:
        read_environment(environ)

    assert str(raised.value) == message


def test_every_bad_variable_is_named_and_secrets_never_show_in_the_model() -> None:
    """Two refused variables give two sentences; the model's repr hides the secrets it holds."""
    with pytest.raises(ConfigError) as raised:
        read_environment({"EMAIL_PROVIDER": "PostMark", "ALERTS_ENABLED": "maybe"})

    assert str(raised.value) == (
        'EMAIL_PROVIDER = "PostMark" is not allowed: use one of sendgrid, mailgun, smtp. '
        'ALERTS_ENABLED = "maybe" is not allowed: use true or false.'
    )

    environment = read_environment(
        {"SMTP_URL": "smtps://mailer:hunter22@mail.example.com:465", "EMAIL_PROVIDER": "SMTP"}
    )

    assert "hunter22" not in repr(environment) + str(environment)
    assert environment.get("SMTP_URL") == "smtps://mailer:hunter22@mail.example.com:465"
    assert environment.get("EMAIL_PROVIDER") == "smtp"
    assert environment.get("EMAIL_FROM") is None


def test_alerts_enabled_false_really_reads_as_disabled() -> None:
    """ALERTS_ENABLED=false turns alerting off (the original ignored it)."""
    assert read_environment({"ALERTS_ENABLED": "false"}).alerts_enabled is False
    assert read_environment({}).alerts_enabled is True


def test_check_config_prints_effective_config_with_secrets_masked(
    project: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """check-config shows resolved paths and which secrets are set, never their values."""
    monkeypatch.setenv(
        "SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T000/B000/SECRETTOKEN"
    )
    monkeypatch.setenv("SMTP_URL", "smtps://mailer:hunter22@mail.example.com:465")
    monkeypatch.setenv("EMAIL_API_KEY", "SG.abcdefghijkl.mnopqrstuvwxyz")
    monkeypatch.setenv("APP_URL", "https://leads.example.com")

    code = main(["check-config", "--config", str(project.config_path)])

    out, err = capsys.readouterr()
    shown = parse_json(out.encode())
    assert code == 0
    assert shown["config"]["stateFile"] == str(project.state_path)
    assert shown["config"]["digestDir"] == str(project.digests)
    assert shown["environment"] == {
        "SLACK_WEBHOOK_URL": "https://hooks.slack.com/*** (set)",
        "EMAIL_API_KEY": "*** (set)",
        "SMTP_URL": "smtps://mail.example.com:465/*** (set)",  # the port kept, the login not
        "APP_URL": "https://leads.example.com",
    }
    for secret in ("SECRETTOKEN", "hunter22", "mnopqrstuvwxyz"):
        assert secret not in out + err
    # No alert channel is set here: valid, but check-config says nobody would be told.
    assert err == (
        "nightly-batch: warning: alerts go only to the log: set SLACK_ERROR_WEBHOOK, "
        "ALERT_EMAIL_TO, ALERT_WEBHOOK_URL, ALERT_SMS_TO or ALERTMANAGER_URL to be told.\n"
        f"nightly-batch: {project.config_path} is valid.\n"
    )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql://nightly:hunter22@db.internal:5433/leads",
            "postgresql://db.internal:5433/leads (node vps-1)",
        ),
        (
            "host=db.internal dbname=leads password=hunter22",
            "postgresql://db.internal/leads (node vps-1)",
        ),
    ],
)
def test_check_config_names_the_postgresql_store_without_its_password(
    project: Project,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    shown: str,
) -> None:
    monkeypatch.setenv("NIGHTLY_BATCH_DATABASE_URL", url)
    monkeypatch.setenv("NIGHTLY_BATCH_NODE", "vps-1")

    code = main(["check-config", "--config", str(project.config_path)])

    out, err = capsys.readouterr()
    assert code == 0
    assert parse_json(out.encode())["store"] == shown
    assert "hunter22" not in out + err


def test_a_database_url_that_is_no_url_is_one_sentence_and_no_secret(
    project: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not even Python's URL parser can read it ("[" opens an IPv6 host): one sentence."""
    monkeypatch.setenv("NIGHTLY_BATCH_DATABASE_URL", "postgresql://nightly:hunter22@[db")

    code = main(["check-config", "--config", str(project.config_path)])

    out, err = capsys.readouterr()
    assert code == 2
    assert err == (
        "nightly-batch: NIGHTLY_BATCH_DATABASE_URL is not a PostgreSQL connection URL "
        "(postgresql://user:password@host:5432/database).\n"
    )
    assert "hunter22" not in out


def test_bad_config_exits_2_with_one_line_and_no_traceback(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every command refuses a bad config with exit code 2 and one sentence on stderr."""
    project.write_config(draftScoreThreshold=2)

    code = main(["run-once", "nightly-batch", "--config", str(project.config_path)])

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err == (
        f"nightly-batch: {project.config_path}: draftScoreThreshold = 2 must be a number from 0 to 1.\n"
    )
    assert not project.logs.exists()


def test_config_path_from_environment_variable(
    project: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """NIGHTLY_BATCH_CONFIG names the config when --config is not given."""
    monkeypatch.setenv("NIGHTLY_BATCH_CONFIG", str(project.config_path))

    code = main(["check-config"])

    assert code == 0
    assert str(project.config_path) in capsys.readouterr().out


def test_check_config_reports_every_problem_in_one_run(
    project: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three channels missing their variables, a plain-http ping URL and a state file that is
    not JSON: check-config named one channel per run and said "valid" for the state."""
    project.write_config(digestNotificationChannel=["slack", "discord", "email"])
    monkeypatch.setenv("HEARTBEAT_PING_URL", "http://hc-ping.example/uuid-secret")
    project.state_path.write_text("not json at all")

    code = main(["check-config", "--config", str(project.config_path)])

    err = capsys.readouterr().err
    assert code == 2
    for sentence in (
        "the slack channel needs SLACK_WEBHOOK_URL",
        "the discord channel needs DISCORD_WEBHOOK_URL.",
        "the email channel needs EMAIL_FROM, the sender address.",
        (
            "HEARTBEAT_PING_URL must use https (plain http only for hosts in allowedWebhookHosts): "
            "http://hc-ping.example/..."
        ),
        f"{project.state_path}: the state file does not hold a JSON object.",
    ):
        assert sentence in err, sentence
    assert "uuid-secret" not in err
    assert len(err.strip().splitlines()) == 1  # one line of sentences


def test_check_config_warns_about_an_open_dashboard(
    project: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project.write_config(dashboardPort=8080, dashboardHost="0.0.0.0")  # noqa: S104
    monkeypatch.setenv("SLACK_ERROR_WEBHOOK", "https://hooks.slack.com/services/T/B/X")

    assert main(["check-config", "--config", str(project.config_path)]) == 0

    assert capsys.readouterr().err.splitlines()[0] == (
        "nightly-batch: warning: the dashboard listens on 0.0.0.0, beyond this host, without "
        "DASHBOARD_TOKEN: anyone who can reach it reads the leads."
    )
