"""The command line: `nightly-batch COMMAND` and `python -m nightly_batch COMMAND`.

Only this module turns errors into exit codes: 0 ok, 1 a task failed, 2 a configuration or
usage error. It imports each command's modules only when that command runs, so `--help` and
`status` stay quick.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nightly_batch.cli.parser import build_parser

if TYPE_CHECKING:
    from nightly_batch.core.clock import Clock
    from nightly_batch.runtime.app import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        arguments = build_parser().parse_args(argv)
    except SystemExit as stop:  # --help (0) or a usage error argparse has printed (2)
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    # Imported once the command line parsed: --help loads nothing but the grammar.
    from nightly_batch.cli.terminal import TerminalSafe, closed_pipe  # noqa: PLC0415
    from nightly_batch.errors import ConfigError, NightlyBatchError, StateError  # noqa: PLC0415

    stdout, stderr = sys.stdout, sys.stderr
    if stdout.isatty():
        sys.stdout = TerminalSafe(stdout)
    if stderr.isatty():
        sys.stderr = TerminalSafe(stderr)
    try:
        return _dispatch(arguments)
    except BrokenPipeError:
        return closed_pipe()
    except (ConfigError, StateError) as error:
        print(f"nightly-batch: {error}", file=sys.stderr)
        return EXIT_USAGE
    except NightlyBatchError as error:
        print(f"nightly-batch: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    finally:
        sys.stdout, sys.stderr = stdout, stderr


def _settings(arguments: argparse.Namespace) -> Settings:
    from nightly_batch.runtime.app import load_settings  # noqa: PLC0415
    from nightly_batch.settings.config import config_path_from  # noqa: PLC0415

    settings = load_settings(config_path_from(getattr(arguments, "config", None), os.environ))
    for warning in settings.warnings:
        print(f"nightly-batch: warning: {warning}", file=sys.stderr)
    return settings


def _clock(arguments: argparse.Namespace) -> Clock:
    """The real clock, or for tests one that starts at the hidden `--now` instant."""
    from nightly_batch.core.clock import ShiftedClock, SystemClock  # noqa: PLC0415
    from nightly_batch.errors import ConfigError  # noqa: PLC0415

    # NIGHTLY_BATCH_TEST_NOW does the same for commands a test runs as printed in the docs.
    source, text = "--now", getattr(arguments, "now", None)
    if text is None and os.environ.get("NIGHTLY_BATCH_TEST_NOW"):
        source, text = "NIGHTLY_BATCH_TEST_NOW", os.environ["NIGHTLY_BATCH_TEST_NOW"]
    if not text:
        return SystemClock()
    if arguments.command == "run":
        raise ConfigError(
            f"{source} cannot be used with run: the daemon's scheduler keeps real time."
        )
    from datetime import datetime  # noqa: PLC0415

    try:
        start = datetime.fromisoformat(text)
    except ValueError:
        start = None
    if start is None or start.tzinfo is None:
        raise ConfigError(
            f"{source} {text!r} is not an ISO 8601 time with an offset, such as "
            "2026-11-28T23:00:00Z."
        )
    if source != "--now":
        # Set by accident in an operator's shell it would date every record falsely: say so.
        print(
            f"nightly-batch: warning: the clock starts at {text} ({source} is for tests only).",
            file=sys.stderr,
        )
    return ShiftedClock(start)


def _dispatch(arguments: argparse.Namespace) -> int:
    settings = _settings(arguments)
    clock = _clock(arguments)
    command = arguments.command
    resending = command == "deliveries" and arguments.deliveries_command == "resend"
    if command in ("run", "run-once", "test-notify", "serve") or resending:
        app = _start(settings, clock, getattr(arguments, "console_level", None))
        try:
            return _serve_or_run(app, command, arguments)
        finally:
            app.close()
    readers = {
        "check-config": lambda: _check_config(settings),
        "status": lambda: _status(settings, clock, as_json=arguments.json, check=arguments.check),
        "alerts": lambda: _alerts(settings, clock, arguments),
        "schedule": lambda: _schedule(
            settings, clock, arguments.start, arguments.count, as_json=arguments.json
        ),
        "digests": lambda: _digests(settings, clock, arguments),
        "deliveries": lambda: _confirm(settings, clock, arguments),
        "store": lambda: _store(settings, arguments),
    }
    return readers[command]()


def _store(settings: Settings, arguments: argparse.Namespace) -> int:
    from nightly_batch.cli.store import migrate  # noqa: PLC0415

    return migrate(settings, arguments.source)


def _serve_or_run(app: Any, command: str, arguments: argparse.Namespace) -> int:
    if command == "serve":
        from nightly_batch.web.server import serve  # noqa: PLC0415

        serve(app, arguments.host, arguments.port)
        return EXIT_OK
    if command == "test-notify":
        return _test_notify(app, arguments.channel)
    if command in ("run-once", "deliveries"):
        from nightly_batch.cli.deliveries import (  # noqa: PLC0415
            parse_date,
            require_ambiguous,
            require_digest,
            run_info,
        )
        from nightly_batch.cli.run_once import run_once  # noqa: PLC0415
        from nightly_batch.tasks.result import Resend, RunInfo  # noqa: PLC0415

        if command == "deliveries":  # resend: a forced send-digest of that date and channel
            day = parse_date(arguments.date)
            require_ambiguous(app.config, app.environment, day, arguments.channel)
            return run_once(
                app, "send-digest", RunInfo("force", resend=Resend(arguments.channel, day))
            )
        info = run_info(arguments)
        # On two hosts the task first brings the other host's digests here: it looks itself.
        if (
            info.resend is not None
            and info.resend.day is not None
            and not app.store.shared_by_hosts
        ):
            require_digest(app.config, info.resend.day)
        return run_once(app, arguments.task, info)
    return _run(app)


def _confirm(settings: Settings, clock: Clock, arguments: argparse.Namespace) -> int:
    from nightly_batch.cli.deliveries import confirm  # noqa: PLC0415

    return confirm(
        settings.config, settings.environment, clock.now(), arguments.date, arguments.channel
    )


def _alerts(settings: Settings, clock: Clock, arguments: argparse.Namespace) -> int:
    from nightly_batch.cli import alerts as alerts_command  # noqa: PLC0415

    now = clock.now()
    if arguments.alerts_command == "silence":
        return alerts_command.silence(
            settings.config,
            settings.environment,
            now,
            name=arguments.name,
            task=arguments.task,
            duration=arguments.duration,
            reason=arguments.reason,
        )
    if arguments.alerts_command == "unsilence":
        return alerts_command.unsilence(settings.config, settings.environment, arguments.id)
    return alerts_command.list_alerts(
        settings.config, settings.environment, now, arguments.since, as_json=arguments.json
    )


def _digests(settings: Settings, clock: Clock, arguments: argparse.Namespace) -> int:
    from nightly_batch.cli.digests import list_command, show_command  # noqa: PLC0415

    if arguments.digests_command == "list":
        return list_command(settings.config, settings.environment)
    return show_command(
        settings.config,
        arguments.date,
        clock.now(),
        as_json=arguments.json,
        limit=arguments.limit,
        offset=arguments.offset,
    )


def _start(settings: Settings, clock: Clock, console_level: str | None) -> Any:
    from nightly_batch.alerts.wiring import attach_alerting  # noqa: PLC0415
    from nightly_batch.cli.terminal import stricter  # noqa: PLC0415
    from nightly_batch.delivery.factory import build_channel  # noqa: PLC0415
    from nightly_batch.observability.setup import configure_logging  # noqa: PLC0415
    from nightly_batch.runtime.app import build_app  # noqa: PLC0415

    app = build_app(settings, build_channel, clock)
    level = settings.environment.NIGHTLY_BATCH_LOG_LEVEL or settings.config.log_level
    configure_logging(
        level=level,
        log_file=settings.config.log_file,
        redactor=app.redactor,
        console=getattr(sys.stderr, "raw", sys.stderr),
        # -q and -v change the console only: the log file keeps the configured level. -q
        # never makes the console louder than that level.
        console_level=stricter(console_level, level),
    )
    attach_alerting(app)
    return app


def _run(app: Any) -> int:
    import faulthandler  # noqa: PLC0415
    import signal  # noqa: PLC0415

    from nightly_batch.daemon.sdnotify import SystemdNotifier  # noqa: PLC0415
    from nightly_batch.daemon.service import run_daemon  # noqa: PLC0415

    # The handlers only set the stop event; the main thread does the shutdown.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: app.stop.set())
    # Every thread's stack on SIGABRT (systemd's watchdog kill) and on demand with SIGUSR1.
    faulthandler.enable(all_threads=True)
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    return int(run_daemon(app, SystemdNotifier()))


def _schedule(
    settings: Settings, clock: Clock, start: str | None, count: int, *, as_json: bool
) -> int:
    from nightly_batch.cli.schedule import parse_from, render, upcoming  # noqa: PLC0415
    from nightly_batch.core.jsonio import to_text  # noqa: PLC0415
    from nightly_batch.errors import ConfigError  # noqa: PLC0415

    if not 1 <= count <= 1000:
        raise ConfigError(f"--count {count} is not allowed: use a number from 1 to 1000.")
    config = settings.config
    rows = upcoming(config, parse_from(start, clock.now()), count)
    if as_json:
        payload = {"timeZone": config.digest_time_zone, "fires": rows}
        sys.stdout.write(to_text(payload, indent=True) + "\n")
    else:
        print(render(rows, config.digest_time_zone))
    return EXIT_OK


def _test_notify(app: Any, channel: str | None) -> int:
    from nightly_batch.cli.notify import test_notify  # noqa: PLC0415

    code, lines = test_notify(app, channel)
    for line in lines:
        print(line, file=sys.stdout if code == 0 else sys.stderr)
    return code


def _check_config(settings: Settings) -> int:
    from nightly_batch.cli.check_config import check_config  # noqa: PLC0415

    return check_config(settings)


def _status(settings: Settings, clock: Clock, *, as_json: bool, check: bool = False) -> int:
    from nightly_batch.core.jsonio import to_text  # noqa: PLC0415
    from nightly_batch.storage.opening import open_existing_store  # noqa: PLC0415
    from nightly_batch.storage.status import gather_status, render_status  # noqa: PLC0415

    store = open_existing_store(settings.config, settings.environment)
    try:
        status = gather_status(settings.config, store, clock.now(), settings.environment.node)
    finally:
        if store is not None:
            store.close()
    if as_json:
        sys.stdout.write(to_text(status, indent=True) + "\n")
    else:
        print(render_status(status))
    from nightly_batch.storage.status import health_problems  # noqa: PLC0415

    problems = health_problems(status) if check else []
    for problem in problems:
        print(f"nightly-batch: check: {problem}", file=sys.stderr)
    return EXIT_FAILED if problems else EXIT_OK
