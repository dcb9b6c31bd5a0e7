"""The task registry (core/tasks.py): every entry's handler resolves, and a task registered
there runs through the one runner and the command line like the built-in ones."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conftest import Project
from nightly_batch.cli.main import main
from nightly_batch.core.names import TASKS
from nightly_batch.core.tasks import REGISTRY, TaskSpec, register, unregister
from nightly_batch.errors import ConfigError
from nightly_batch.rules.jobs import daily_jobs
from nightly_batch.tasks.runner import handler_for, run_task


@pytest.fixture
def fake_task() -> Iterator[TaskSpec]:
    spec = register(
        TaskSpec(
            "fake-task",
            "fakes:fake_task",
            writes_history=False,
            schedule_key=None,
            max_runtime_minutes=2.0,
        )
    )
    yield spec
    unregister(spec.name)


def test_every_built_in_task_is_registered_and_its_handler_resolves() -> None:
    assert list(REGISTRY) == list(TASKS)
    for name in REGISTRY:
        assert callable(handler_for(name))


def test_the_daily_jobs_come_from_the_registry(project: Project) -> None:
    assert [job.task for job in daily_jobs(project.app().config)] == [
        "nightly-batch",
        "send-digest",
    ]


def test_a_registered_task_runs_through_the_runner(project: Project, fake_task: TaskSpec) -> None:
    app = project.app()

    outcome = run_task(app, fake_task.name, "manual")

    assert outcome.ok
    assert outcome.message == "fake task done"
    [run] = app.store.recent_runs(10, task="fake-task")
    assert (run.result, run.message) == ("ok", "fake task done")


def test_a_registered_task_is_a_choice_of_run_once(
    project: Project, fake_task: TaskSpec, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(project.main_args("run-once", fake_task.name)) == 0
    assert "fake-task: ok in " in capsys.readouterr().out


def test_an_unknown_task_is_a_one_sentence_error(project: Project) -> None:
    with pytest.raises(ConfigError) as raised:
        run_task(project.app(), "reddit-sweep", "manual")

    assert str(raised.value) == (
        "'reddit-sweep' is not a task: use one of nightly-batch, send-digest, heartbeat."
    )


def test_a_registered_tasks_maximum_runtime_is_the_default_the_config_overrides(
    project: Project, fake_task: TaskSpec
) -> None:
    assert project.app().config.max_runtime("fake-task") == 2.0
    assert project.app().config.max_runtime("send-digest") == 15.0
    project.write_config(maxRuntimeMinutes={"fake-task": 7})
    assert project.app().config.max_runtime("fake-task") == 7.0
