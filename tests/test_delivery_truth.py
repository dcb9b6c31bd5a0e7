"""One record of each morning's digest that every reader agrees on (issue 15): a re-run after
delivery sends only what is new, ambiguous stays ambiguous until the operator settles it, and
status, the alerts and the state file tell the same story as send-digest."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from conftest import Project
from fakes import EPOCH, RecordingChannel, dated, hours
from nightly_batch.cli.main import main
from nightly_batch.core.jsonio import parse_json
from nightly_batch.runtime.app import App
from nightly_batch.storage.status import gather_status
from nightly_batch.tasks.result import Resend, RunInfo
from nightly_batch.tasks.runner import run_task
from test_alerts import Alerting

Lead = Callable[..., dict[str, Any]]
DAY = dated("2026-11-28")


def story(project: Project, app: App) -> dict[str, Any]:
    """What status, the alerts and the state file say about the last digest, side by side."""
    status = gather_status(app.config, app.store, app.clock.now())
    digest = status["lastDigest"]
    firing = sorted(f"{a['name']} ({a['task']})" for a in status["alerts"])
    return {
        "delivery": digest["delivery"],
        "channels": {d["channel"]: d["status"] for d in digest["deliveries"]},
        "alerts": firing,
        "lastDigestNotificationAt": project.read_state().get("lastDigestNotificationAt"),
    }


def test_a_rerun_after_delivery_sends_only_the_new_leads_then_nothing_new(
    project: Project, lead: Lead
) -> None:
    """17:30 batch and send by hand, the 23:00 batch of the same date with two new leads: the
    next send-digest said "already delivered", posted nothing, and status said "not delivered"
    while digest_undelivered fired. Now a re-run that brings nothing new records "nothing new"
    without a message, and one with two new leads sends an update with only those two."""
    alerting = Alerting(project)
    app = alerting.app
    clock = project.clock
    clock.set(EPOCH - hours(5.5))  # 17:30 of the business date
    project.write_state({"redditQueue": [lead("a", 0.9), lead("b", 0.8)]})
    run_task(app, "nightly-batch", "manual")
    clock.advance(timedelta(minutes=1))
    assert run_task(app, "send-digest", "manual").ok
    first_sent = project.read_state()["lastDigestNotificationAt"]

    clock.advance(timedelta(minutes=14))
    run_task(app, "nightly-batch", "manual")  # again at 17:45, nothing new in the queue
    quiet = run_task(app, "send-digest", "manual")
    after_quiet = story(project, app)

    queue = project.read_state()["redditQueue"] + [lead("c", 0.95), lead("d", 0.85)]
    project.write_state({**project.read_state(), "redditQueue": queue})
    clock.set(EPOCH)  # the scheduled 23:00 batch: the same business date again
    run_task(app, "nightly-batch", "schedule")
    between = story(project, app)
    clock.advance(hours(7))
    update = run_task(app, "send-digest", "schedule")
    after_update = story(project, app)

    [full, sent_update] = project.channels["log"].sent
    assert [lead.id for lead in full.leads] == ["a", "b"]
    assert sorted(lead.id for lead in sent_update.leads) == ["c", "d"]
    assert quiet.message == "nothing new for log"
    assert after_quiet["delivery"] == "delivered"
    assert after_quiet["channels"] == {"log": "nothing-new"}
    assert sent_update.title == "🚀 2 new Reddit leads since 17:31"
    assert update.message == "update sent to log (2 new leads since 17:31)"
    assert between == {
        "delivery": "update owed",
        "channels": {"log": "update owed"},
        "alerts": [],
        "lastDigestNotificationAt": first_sent,  # nothing new notified nobody
    }
    assert after_update == {
        "delivery": "delivered",
        "channels": {"log": "sent"},
        "alerts": [],
        "lastDigestNotificationAt": dated("2026-11-29T06:00:00.000Z"),
    }


def test_ambiguous_stays_ambiguous_until_the_operator_confirms(
    project: Project, lead: Lead, capsys: pytest.CaptureFixture[str]
) -> None:
    """A read timeout: the next send-digest said "already delivered", exited 0 and sent a
    resolved notice while status said ambiguous. Now every reader says ambiguous, the alert
    names the channel and the commands, and `deliveries confirm` settles it everywhere."""
    alerting = Alerting(project)
    app = alerting.app
    project.write_state({"redditQueue": [lead("a", 0.9)]})
    run_task(app, "nightly-batch", "schedule")
    project.clock.advance(hours(7))
    project.channels["log"] = RecordingChannel("log", status="ambiguous", error="read timeout")

    first = run_task(app, "send-digest", "schedule")
    project.channels["log"] = RecordingChannel("log")
    second = run_task(app, "send-digest", "manual")

    where = f"--channel log --config {project.config_path}"  # runs as printed
    hint = (
        f"it may have arrived: `nightly-batch deliveries confirm {DAY} {where}` if it did, "
        f"`nightly-batch deliveries resend {DAY} {where}` if not"
    )
    assert first.message == second.message == f"log: ambiguous, {hint}"
    assert project.channels["log"].sent == []  # never resent by itself
    assert story(project, app) == {
        "delivery": "ambiguous",
        "channels": {"log": "ambiguous"},
        "alerts": ["delivery_ambiguous (send-digest)"],
        "lastDigestNotificationAt": None,
    }
    assert not [line for line in alerting.alert_lines() if "task_failed" in line]

    assert main(project.main_args("deliveries", "confirm", DAY, "--channel", "log")) == 0
    assert f"{DAY} on log: sent (confirmed by the operator at " in capsys.readouterr().out
    run_task(app, "heartbeat", "schedule")

    # The send's own time, not the confirm's, in the record and the state file alike.
    assert story(project, app)["lastDigestNotificationAt"] == dated("2026-11-29T06:00:00.000Z")
    assert story(project, app)["delivery"] == "delivered"
    assert story(project, app)["alerts"] == []
    assert [line.split(":")[0] for line in alerting.alert_lines()] == [
        "[WARNING] delivery_ambiguous (send-digest)",
        "[RESOLVED] delivery_ambiguous (send-digest)",
    ]


def test_an_ambiguous_delivery_that_did_not_arrive_is_resent_by_the_operator(
    project: Project, lead: Lead, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write_state({"redditQueue": [lead("a", 0.9)]})
    app = project.app()
    run_task(app, "nightly-batch", "schedule")
    project.channels["log"] = RecordingChannel("log", status="ambiguous", error="read timeout")
    run_task(app, "send-digest", "schedule")

    code = main(project.main_args("deliveries", "resend", DAY, "--channel", "log"))

    assert code == 0
    assert "send-digest: ok" in capsys.readouterr().out
    [record] = app.store.deliveries_on(DAY)
    assert (record.status, record.kind, record.attempts) == ("sent", "resend", 2)
    assert story(project, app)["delivery"] == "delivered"


def test_force_resends_deliberately_and_is_recorded_as_a_resend(
    project: Project, lead: Lead, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write_state({"redditQueue": [lead("a", 0.9)]})
    assert main(project.main_args("run-once", "nightly-batch")) == 0
    assert main(project.main_args("run-once", "send-digest")) == 0
    assert main(project.main_args("run-once", "send-digest")) == 0
    assert "was already delivered to log" in capsys.readouterr().out

    assert main(project.main_args("run-once", "send-digest", "--force", "--date", DAY)) == 0

    assert "digest notification sent (1 lead) to log" in capsys.readouterr().out
    app = project.app()
    [record] = app.store.deliveries_on(DAY)
    assert (record.status, record.kind, record.attempts) == ("sent", "resend", 2)
    [run] = [r for r in app.store.recent_runs(10, task="send-digest") if r.trigger == "force"]
    assert run.result == "ok"


@pytest.mark.parametrize(
    ("arguments", "sentence"),
    [
        (
            ("run-once", "send-digest", "--channel", "log"),
            "--channel and --date go with --force (a deliberate resend).",
        ),
        (
            ("run-once", "heartbeat", "--force"),
            "--force resends a digest: it goes with send-digest, not heartbeat.",
        ),
        (
            ("run-once", "send-digest", "--force", "--date", "28.11.2026"),
            "--date '28.11.2026' is not a date of the form YYYY-MM-DD.",
        ),
        (
            ("deliveries", "confirm", DAY, "--channel", "log"),
            (
                f"the delivery of {DAY} to log is not sent, not ambiguous: there is nothing "
                "to confirm."
            ),
        ),
        # A date with no digest, in each command that takes one.
        (
            ("run-once", "send-digest", "--force", "--date", "2020-01-01"),
            "there is no digest of 2020-01-01 in {digests}.",
        ),
        (
            ("deliveries", "resend", "2020-01-01", "--channel", "log"),
            "there is no digest of 2020-01-01 in {digests}.",
        ),
        (
            ("deliveries", "confirm", "2020-01-01", "--channel", "log"),
            "there is no digest of 2020-01-01 in {digests}.",
        ),
    ],
)
def test_resend_and_confirm_mistakes_are_one_sentence(
    project: Project,
    lead: Lead,
    capsys: pytest.CaptureFixture[str],
    arguments: tuple[str, ...],
    sentence: str,
) -> None:
    project.write_state({"redditQueue": [lead("a", 0.9)]})
    assert main(project.main_args("run-once", "nightly-batch")) == 0
    capsys.readouterr()

    assert main(project.main_args(*arguments)) == 2
    said = sentence.format(digests=project.digests)
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"nightly-batch: {said}"
    # A mistake of the caller's: no failed run recorded, no alert raised.
    store = project.app().store
    assert [run.task for run in store.recent_runs(10)] == ["nightly-batch"]
    assert store.alerts.all() == []


def test_status_json_tells_the_delivery_story(project: Project, lead: Lead) -> None:
    project.write_state({"redditQueue": [lead("a", 0.9)]})
    project.live_a_day()

    listed = project.cli("status", "--json")
    import subprocess  # noqa: PLC0415

    status = parse_json(subprocess.run(listed, capture_output=True, check=True).stdout)

    digest = status["lastDigest"]
    assert (digest["delivery"], digest["deliveredAt"]) == (
        "delivered",
        dated("2026-11-29T06:00:00.000Z"),
    )
    assert [(d["channel"], d["status"]) for d in digest["deliveries"]] == [("log", "sent")]


def test_an_older_dates_ambiguous_delivery_stays_alerted_after_the_next_digest(
    project: Project, lead: Lead
) -> None:
    """The next night's digest made the older date's ambiguity vanish from the alert (it
    resolved) while its record stayed ambiguous; now it fires until settled."""
    alerting = Alerting(project)
    app = alerting.app
    project.write_state({"redditQueue": [lead("a", 0.9)]})
    run_task(app, "nightly-batch", "schedule")
    project.clock.advance(hours(7))
    project.channels["log"] = RecordingChannel("log", status="ambiguous", error="read timeout")
    run_task(app, "send-digest", "schedule")
    project.channels["log"] = RecordingChannel("log")
    project.clock.advance(hours(17))
    run_task(app, "nightly-batch", "schedule")  # the next date's digest
    project.clock.advance(hours(1))
    run_task(app, "heartbeat", "schedule")

    assert "delivery_ambiguous (send-digest)" in story(project, app)["alerts"]
    assert not [line for line in alerting.alert_lines() if line.startswith("[RESOLVED]")]


def test_a_dead_update_is_sent_again_as_the_update_not_the_whole_digest(
    project: Project, lead: Lead
) -> None:
    """A process died mid-update (the newest record pending): the next send repeated every
    lead the channel had already seen; it sends only the new ones again."""
    project.clock.set(EPOCH - hours(2))  # 21:00: the re-run below stays on the same date
    app = project.app()
    project.write_state({"redditQueue": [lead("a", 0.9)]})
    run_task(app, "nightly-batch", "manual")
    run_task(app, "send-digest", "manual")
    queue = project.read_state()["redditQueue"] + [lead("b", 0.95)]
    project.write_state({**project.read_state(), "redditQueue": queue})
    project.clock.advance(timedelta(minutes=10))  # the same business date
    run_task(app, "nightly-batch", "manual")
    newest = parse_json((project.digests / f"digest-{DAY}.json").read_bytes())["batchId"]
    app.store.begin_delivery(newest, "log", DAY, f"digest-{DAY}.json", "2026-01-01", "update")

    run_task(app, "send-digest", "manual")

    assert [lead.id for lead in project.channels["log"].sent[-1].leads] == ["b"]


def test_a_failed_resend_leaves_the_earlier_delivery_standing(project: Project, lead: Lead) -> None:
    project.write_state({"redditQueue": [lead("a", 0.9)]})
    app = project.app()
    run_task(app, "nightly-batch", "manual")
    run_task(app, "send-digest", "manual")
    project.channels["log"] = RecordingChannel("log", status="transient", error="503")

    forced = run_task(app, "send-digest", "force", info=RunInfo("force", resend=Resend()))

    assert (forced.ok, forced.message) == (False, "every channel failed (log: transient: 503)")
    assert story(project, app)["delivery"] == "delivered"
    [record] = app.store.deliveries_on(DAY)
    assert (record.status, record.note) == ("sent", "a resend failed (transient)")


def test_resend_is_for_an_ambiguous_delivery_only(
    project: Project, lead: Lead, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write_state({"redditQueue": [lead("a", 0.9)]})
    assert main(project.main_args("run-once", "nightly-batch")) == 0
    assert main(project.main_args("run-once", "send-digest")) == 0
    capsys.readouterr()

    assert main(project.main_args("deliveries", "resend", DAY, "--channel", "log")) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"nightly-batch: the delivery of {DAY} to log is sent, not ambiguous: to send it "
        f"anyway, `nightly-batch run-once send-digest --force --date {DAY} --channel log`."
    )
