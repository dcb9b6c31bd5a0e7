"""digestRoutes: each channel its own slice of the digest, with its own delivery record; a
config without routes delivers as before (the rest of the suite)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import respx

from conftest import Project
from fakes import EPOCH, at, dated, hours
from nightly_batch.errors import ConfigError
from nightly_batch.rules.routes import RouteFilter
from nightly_batch.settings.config import load_config
from nightly_batch.settings.routes_model import DigestRoute
from nightly_batch.storage.delivery_state import delivery_of
from nightly_batch.tasks.runner import run_task

Lead = Callable[..., dict[str, Any]]
DAY = dated("2026-11-28")


def queue(lead: Lead) -> list[dict[str, Any]]:
    return [
        lead("a", 9.5, subreddit="selfhosted", tag="priority"),
        lead("b", 8, subreddit="HomeLab", tag="draft"),
        lead("c", 8.8, subreddit="homelab", tags=["vps", "Priority"]),
        lead("d", 0.1, subreddit="homelab"),
    ]


def test_each_channel_gets_its_slice_and_its_own_record(project: Project, lead: Lead) -> None:
    project.write_config(
        digestNotificationChannel=["log", "slack", "email"],
        digestRoutes={
            "slack": {"subreddits": ["r/homelab"]},
            "email": {"tags": ["priority"], "minConfidence": 0.9},
        },
    )
    project.write_state({"redditQueue": queue(lead)})
    app = project.app()
    run_task(app, "nightly-batch", "schedule")
    project.clock.advance(hours(7))

    outcome = run_task(app, "send-digest", "schedule")

    sent = {name: channel.sent[0] for name, channel in project.channels.items()}
    assert [item.id for item in sent["log"].leads] == ["a", "c", "b"]
    assert [item.id for item in sent["slack"].leads] == ["c", "b"]
    assert [item.id for item in sent["email"].leads] == ["a"]  # c's 0.88 is below 0.9
    assert sent["slack"].title == "🚀 2 Reddit Leads Ready for Review"
    assert sent["slack"].summary.endswith(
        "3 scored above 0.75 and are ready for drafting (3 new tonight). "
        "This channel gets the 2 of them from r/homelab."
    )
    assert sent["email"].summary.endswith(
        "This channel gets the 1 of them tagged priority, confidence 0.9 or more."
    )
    assert sent["log"].summary.endswith("(3 new tonight).")  # no route: the whole digest
    assert outcome.message == (
        "digest notification sent (3 leads) to log; digest notification sent (2 leads) to "
        "slack; digest notification sent (1 lead) to email"
    )
    delivery = delivery_of(app.store, DAY, sent["log"].batch_id, ["log", "slack", "email"])
    assert {name: str(one.state) for name, one in delivery.channels.items()} == {
        "log": "sent",
        "slack": "sent",
        "email": "sent",
    }


def test_a_route_that_takes_no_lead_is_recorded_with_nothing_sent(
    project: Project, lead: Lead
) -> None:
    project.write_config(
        digestNotificationChannel=["log", "slack"],
        digestRoutes={"slack": {"subreddits": ["docker"]}},
    )
    project.write_state({"redditQueue": queue(lead)})
    app = project.app()
    run_task(app, "nightly-batch", "schedule")
    project.clock.advance(hours(7))

    outcome = run_task(app, "send-digest", "schedule")

    assert "slack" not in project.channels or not project.channels["slack"].sent
    assert outcome.message == ("digest notification sent (3 leads) to log; nothing new for slack")
    record = app.store.delivery(project.channels["log"].sent[0].batch_id, "slack")
    assert record is not None
    assert str(record.status) == "nothing-new"
    assert record.note == "no lead of this digest is in the channel's route (digestRoutes)"
    again = run_task(app, "send-digest", "schedule")  # settled: never retried, never alerted
    assert again.message.endswith("was already delivered to log, slack")


def test_an_update_after_a_rerun_carries_only_the_slices_new_leads(
    project: Project, lead: Lead
) -> None:
    project.write_config(
        digestNotificationChannel=["log", "slack"],
        digestRoutes={"slack": {"subreddits": ["homelab"]}},
    )
    clock = project.clock
    clock.set(EPOCH - hours(5.5))
    project.write_state({"redditQueue": queue(lead)})
    app = project.app()
    run_task(app, "nightly-batch", "manual")
    clock.advance(timedelta(minutes=1))
    run_task(app, "send-digest", "manual")
    state = project.read_state()
    state["redditQueue"] += [
        lead("e", 9, subreddit="selfhosted"),
        lead("f", 9, subreddit="homelab"),
    ]
    project.write_state(state)
    clock.set(EPOCH)
    run_task(app, "nightly-batch", "schedule")
    clock.advance(hours(7))

    outcome = run_task(app, "send-digest", "schedule")

    update = project.channels["slack"].sent[1]
    assert [item.id for item in update.leads] == ["f"]
    assert sorted(item.id for item in project.channels["log"].sent[1].leads) == ["e", "f"]
    assert "update sent to slack (1 new lead since 17:31)" in outcome.message


@respx.mock
def test_the_slice_is_what_slack_receives(project: Project, lead: Lead) -> None:
    webhook = "https://hooks.slack.com/services/T0/B0/secret"
    project.write_config(
        digestNotificationChannel=["slack"], digestRoutes={"slack": {"minConfidence": 0.9}}
    )
    route = respx.post(webhook).respond(200, text="ok")
    project.write_state({"redditQueue": queue(lead)})
    app = project.app({"SLACK_WEBHOOK_URL": webhook}, real_channels=True)
    run_task(app, "nightly-batch", "schedule")
    project.clock.set(at(dated("2026-11-29T07:00:00Z")))

    run_task(app, "send-digest", "schedule")

    text = route.calls.last.request.content.decode()
    assert "Question a?" in text
    assert "Question b?" not in text
    assert "Question c?" not in text  # 0.88: below the route's 0.9
    assert "This channel gets the 1 of them confidence 0.9 or more." in text


@pytest.mark.parametrize(
    ("routes", "sentence"),
    [
        (
            {"discord": {"tags": ["x"]}},
            (
                "digestRoutes has a route for 'discord', which is neither in "
                "digestNotificationChannel nor digestFallbackChannel: add the channel there, or "
                "remove its route."
            ),
        ),
        (
            {"log": {"subreddit": ["x"]}},
            (
                'digestRoutes.log has an unknown key "subreddit"; it takes subreddits, tags and '
                "minConfidence."
            ),
        ),
        (
            {"log": {"subreddits": []}},
            (
                "digestRoutes.log.subreddits = [] must name at least one (leave the key out to take "
                "every lead)."
            ),
        ),
        (
            {"log": {"minConfidence": 1.5}},
            "digestRoutes.log.minConfidence = 1.5 must be a number from 0 to 1, or null.",
        ),
        (
            {"pager": {}},
            (
                'digestRoutes = {"pager": {}} must be an object mapping "discord", "email", "log", '
                '"slack" or "webhook" to objects with the keys subreddits, tags and minConfidence.'
            ),
        ),
    ],
)
def test_a_wrong_route_is_one_sentence(
    project: Project, routes: dict[str, Any], sentence: str
) -> None:
    project.write_config(digestRoutes=routes)

    with pytest.raises(ConfigError) as raised:
        load_config(project.config_path)

    assert sentence in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_route_filter_compares_names_as_people_write_them() -> None:
    route = RouteFilter.of(
        DigestRoute.model_validate({"subreddits": ["r/SelfHosted", "/r/homelab"], "tags": ["VPS"]})
    )

    assert route.keeps({"subreddit": "selfhosted", "tag": "vps"})
    assert route.keeps({"subreddit": "r/HomeLab", "tags": ["x", "Vps"]})
    assert not route.keeps({"subreddit": "selfhosted", "tag": "draft"})
    assert not route.keeps({"subreddit": None, "tag": "vps"})
    assert not route.keeps({"subreddit": "docker", "tag": "vps"})
    floor = RouteFilter.of(DigestRoute.model_validate({"minConfidence": 0.8}))
    assert floor.keeps({"confidence": 0.8})
    assert not floor.keeps({"confidence": 0.79})
    assert not floor.keeps({"confidence": True})
    assert not floor.keeps({})
    assert RouteFilter().describe() == "every lead"


def test_a_heartbeat_retries_an_owed_routed_delivery_with_its_slice(
    project: Project, lead: Lead
) -> None:
    """Slack failed for the moment at send time; the heartbeat's retry sends its slice, not
    the whole digest."""
    project.write_config(
        digestNotificationChannel=["log", "slack"],
        digestRoutes={"slack": {"subreddits": ["homelab"]}},
    )
    project.write_state({"redditQueue": queue(lead)})
    app = project.app()
    run_task(app, "nightly-batch", "schedule")
    project.clock.advance(hours(7))
    slack = project.channel("slack", app)
    slack.status, slack.error = "transient", "HTTP 503"
    run_task(app, "send-digest", "schedule")
    slack.status, slack.error = "delivered", None

    project.clock.advance(timedelta(minutes=6))
    retried = run_task(app, "heartbeat", "schedule")

    assert retried.message == "heartbeat ok; retried owed deliveries: slack sent"
    first, second = slack.sent
    assert [item.id for item in first.leads] == [item.id for item in second.leads] == ["c", "b"]
    assert second.total == 2


def test_a_route_reaches_a_question_grouped_under_another_subreddit(
    project: Project, lead: Lead
) -> None:
    """Asked in r/selfhosted and r/homelab, listed under r/selfhosted: a homelab route gets
    it, with the slice's own near misses and the whole digest's left-out counts said so."""
    project.write_config(
        digestNotificationChannel=["log", "slack"],
        digestRoutes={"slack": {"subreddits": ["homelab"]}},
    )
    project.write_state(
        {
            "redditQueue": [
                lead("a", 9.5, subreddit="selfhosted", link="https://redd.it/p1"),
                lead("b", 8, subreddit="homelab", link="https://www.reddit.com/comments/p1"),
                lead("n1", 0.7, subreddit="homelab"),
                lead("n2", 0.72, subreddit="docker"),
            ]
        }
    )
    app = project.app()
    run_task(app, "nightly-batch", "schedule")
    project.clock.advance(hours(7))

    run_task(app, "send-digest", "schedule")

    slice_ = project.channels["slack"].sent[0]
    assert [(item.id, item.also_in) for item in slice_.leads] == [("a", ("homelab",))]
    assert [item.id for item in slice_.near_misses] == ["n1"]
    assert slice_.left_out == "Left out of the whole digest: 2 below the threshold, 1 duplicates."
    assert [item.id for item in project.channels["log"].sent[0].near_misses] == ["n2", "n1"]
