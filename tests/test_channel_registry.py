"""The channel registry (core/channels.py): every entry's factory resolves, and a channel
registered there is accepted by the config, reads its own variable, keeps to its hosts and
delivers through send-digest and check-config like the built-in ones."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import respx

from conftest import Project
from fakes import dated
from nightly_batch.cli.main import main
from nightly_batch.core.channels import REGISTRY, ChannelSpec, register, unregister
from nightly_batch.core.jsonio import parse_json
from nightly_batch.core.names import ChannelName
from nightly_batch.delivery.factory import factory_of
from nightly_batch.errors import ConfigError
from nightly_batch.settings.config import load_config
from nightly_batch.settings.environment import Environment

PAGER_URL = "https://pager.example/hook/PAGERSECRET42"


@pytest.fixture
def pager() -> Iterator[ChannelSpec]:
    spec = register(
        ChannelSpec(
            "pager",
            "fakes:build_pager",
            variables=("PAGER_URL",),
            hosts={"webhook": ("pager.example",)},
        )
    )
    yield spec
    unregister(spec.name)


def test_every_built_in_channel_is_registered_and_its_factory_resolves() -> None:
    assert list(REGISTRY) == list(ChannelName)
    for spec in REGISTRY.values():
        assert callable(factory_of(spec))


def test_every_built_in_variable_is_declared_so_it_is_documented_and_validated() -> None:
    for spec in REGISTRY.values():
        for variable in spec.variables:
            assert variable in Environment.model_fields, (spec.name, variable)


def test_the_config_accepts_a_registered_channel_and_names_it_among_the_choices(
    project: Project, pager: ChannelSpec
) -> None:
    project.write_config(digestNotificationChannel=["pager", "log"])
    assert load_config(project.config_path)[0].digest_notification_channel == ["pager", "log"]

    project.write_config(digestNotificationChannel="sms")
    with pytest.raises(ConfigError) as raised:
        load_config(project.config_path)
    assert (
        'digestNotificationChannel = "sms" must be one of "discord", "email", "log", "pager", '
        '"slack" or "webhook", or a list of them.' in str(raised.value)
    )


@respx.mock
def test_a_registered_channel_delivers_the_digest_with_its_own_variable(
    project: Project,
    pager: ChannelSpec,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    route = respx.post(PAGER_URL).respond(200)
    project.write_config(digestNotificationChannel="pager")
    project.write_state(
        {
            "redditQueue": [
                {"id": "a", "score": 0.9, "queuedAt": dated("2026-11-28T20:00:00Z")},
            ]
        }
    )
    monkeypatch.setenv("PAGER_URL", PAGER_URL)

    assert main(project.main_args("run-once", "nightly-batch")) == 0
    assert main(project.main_args("run-once", "send-digest")) == 0

    [call] = route.calls
    assert parse_json(call.request.content)["text"].startswith("🚀 1 Reddit Leads")
    out, err = capsys.readouterr()
    assert "send-digest: ok" in out
    assert "PAGERSECRET42" not in out + err  # an undeclared variable is treated as a secret


def test_check_config_masks_a_registered_channels_variable_and_holds_it_to_its_hosts(
    project: Project,
    pager: ChannelSpec,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project.write_config(digestNotificationChannel="pager")
    monkeypatch.setenv("PAGER_URL", PAGER_URL)

    assert main(["check-config", "--config", str(project.config_path)]) == 0
    out = capsys.readouterr().out
    assert "https://pager.example/*** (set)" in out
    assert "PAGERSECRET42" not in out

    monkeypatch.setenv("PAGER_URL", "https://pager.example.evil.test/hook/PAGERSECRET42")
    assert main(["check-config", "--config", str(project.config_path)]) == 2
    err = capsys.readouterr().err
    assert "PAGER_URL points at pager.example.evil.test, which is not one of pager.example" in err
    assert "PAGERSECRET42" not in err
