"""The command line's grammar: every command, its help line and its arguments."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from nightly_batch.core.channels import channel_names
from nightly_batch.core.tasks import REGISTRY

DESCRIPTION = "Scores the Reddit-lead queue every night and delivers the digest in the morning."
CONFIG_HELP = (
    "config file (default: $NIGHTLY_BATCH_CONFIG or config/orchestrator_config.json); "
    "relative paths inside it resolve against the file's own directory"
)


def _run_once_arguments(parser: argparse.ArgumentParser, _: argparse.ArgumentParser) -> None:
    parser.add_argument("task", choices=[str(name) for name in REGISTRY])
    parser.add_argument(
        "--force",
        action="store_true",
        help="send-digest only: resend deliberately, even to channels that have it",
    )
    parser.add_argument(
        "--channel", choices=channel_names(), help="with --force: only this channel"
    )
    parser.add_argument(
        "--date", metavar="DATE", help="with --force: the digest of this date (YYYY-MM-DD)"
    )


def _deliveries_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(
        dest="deliveries_command", required=True, metavar="confirm|resend"
    )
    for name, summary in (
        ("confirm", "an ambiguous delivery did arrive: record it as sent"),
        ("resend", "an ambiguous delivery did not arrive: send it again"),
    ):
        action = actions.add_parser(name, parents=[common], help=summary, formatter_class=_fit)
        action.add_argument("date", metavar="DATE", help="business date, YYYY-MM-DD")
        action.add_argument("--channel", required=True, choices=channel_names())


def _serve_arguments(parser: argparse.ArgumentParser, _: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument("--port", type=_port, default=8080, help="port (default 8080)")


def _alerts_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since", default="24h", help="how far back (30m, 24h, 7d); firing ones always"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    actions = parser.add_subparsers(dest="alerts_command", metavar="silence|unsilence")
    mute = actions.add_parser(
        "silence", parents=[common], help="mute notifications for a while", formatter_class=_fit
    )
    mute.add_argument(
        "--name", required=True, help="alert name, * wildcards allowed (task_failed, *)"
    )
    mute.add_argument("--task", default="*", help="task, * wildcards allowed (default: any)")
    mute.add_argument("--for", dest="duration", required=True, help="how long (30m, 2h, 1d)")
    mute.add_argument("--reason", default="maintenance", help="why (shown in alerts)")
    unmute = actions.add_parser(
        "unsilence", parents=[common], help="end a silence now", formatter_class=_fit
    )
    unmute.add_argument("id", help="the silence id")


def _notify_arguments(parser: argparse.ArgumentParser, _: argparse.ArgumentParser) -> None:
    parser.add_argument("--channel", choices=channel_names(), help="only this one")


def _schedule_arguments(parser: argparse.ArgumentParser, _: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from",
        dest="start",
        metavar="ISO-TIME",
        help="start here instead of now (no offset: local)",
    )
    parser.add_argument("--count", type=int, default=3, metavar="N", help="fires per job (1-1000)")
    parser.add_argument("--json", action="store_true", help="print JSON")


def _status_arguments(parser: argparse.ArgumentParser, _: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when an error or critical alert fires or the heartbeat is not fresh "
        "(for cron wrappers and Nagios-style checks)",
    )


def _json_argument(parser: argparse.ArgumentParser, _: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")


def _digests_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    which = parser.add_subparsers(dest="digests_command", required=True, metavar="list|show")
    which.add_parser(
        "list", parents=[common], help="the digests, newest first", formatter_class=_fit
    )
    show = which.add_parser("show", parents=[common], help="one digest", formatter_class=_fit)
    show.add_argument("date", metavar="DATE", help="business date, YYYY-MM-DD")
    show.add_argument("--json", action="store_true", help="print the file itself")
    show.add_argument(
        "--limit", type=_count, default=100, metavar="N", help="show N leads (default 100)"
    )
    show.add_argument(
        "--offset", type=_count, default=0, metavar="N", help="skip the first N leads"
    )


def _store_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    which = parser.add_subparsers(dest="store_command", required=True, metavar="migrate")
    migrate = which.add_parser(
        "migrate",
        parents=[common],
        help="copy this host's SQLite history into the PostgreSQL store "
        "(NIGHTLY_BATCH_DATABASE_URL), which must be empty",
        formatter_class=_fit,
    )
    migrate.add_argument(
        "--from",
        dest="source",
        metavar="PATH",
        help="the SQLite store (default: nightly_batch.db in logsDir)",
    )


AddArguments = Callable[[argparse.ArgumentParser, argparse.ArgumentParser], None]
# Each command: its line in --help, and what adds its own arguments.
COMMANDS: dict[str, tuple[str, AddArguments | None]] = {
    "run": ("run the daemon (SIGTERM or Ctrl-C stops it)", None),
    "run-once": ("run one task now, as the daemon would", _run_once_arguments),
    "check-config": ("validate and print the effective config, secrets masked", None),
    "serve": ("serve the read-only dashboard", _serve_arguments),
    "alerts": ("alerts, their notifications, silences", _alerts_arguments),
    "test-notify": ("send a short test message through each channel", _notify_arguments),
    "schedule": ("the next fire times of each job, local and UTC", _schedule_arguments),
    "status": ("last runs, heartbeat, last digest", _status_arguments),
    "digests": ("list or show digests", _digests_arguments),
    "deliveries": ("settle an ambiguous delivery: confirm or resend it", _deliveries_arguments),
    "store": ("move the runtime store to PostgreSQL for two hosts", _store_arguments),
}


def _fit(prog: str) -> argparse.HelpFormatter:
    """argparse's formatter at the terminal's width, found without importing shutil."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 80
    return argparse.HelpFormatter(prog, width=max(columns - 2, 40))


def _count(text: str) -> int:
    """A whole number from 0, for --limit and --offset (a usage error otherwise: exit 2)."""
    try:
        number = int(text)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (0 or more)")
    return number


def _port(text: str) -> int:
    """A TCP port, 0 (any free one) to 65535."""
    try:
        number = int(text)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:  # the largest TCP port
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0 to 65535)")
    return number


def build_parser() -> argparse.ArgumentParser:
    """The whole grammar: every command with its own arguments and help, argparse's own."""
    common = argparse.ArgumentParser(add_help=False, formatter_class=_fit)
    common.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help=CONFIG_HELP,
    )
    loudness = common.add_mutually_exclusive_group()
    loudness.add_argument(
        "-q",
        "--quiet",
        action="store_const",
        const="warning",
        dest="console_level",
        default=argparse.SUPPRESS,
        help="print only warnings and errors to the console (the log file is unchanged)",
    )
    loudness.add_argument(
        "-v",
        "--verbose",
        action="store_const",
        const="debug",
        dest="console_level",
        default=argparse.SUPPRESS,
        help="print debug lines to the console too",
    )
    # For tests only, so never shown: the command's clock starts at this instant (ISO 8601
    # with an offset) and runs at the real rate, so a test's data and the command share a
    # timeline. Refused by `run`, whose scheduler keeps the real time.
    common.add_argument(
        "--now", metavar="ISO-TIME", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    parser = argparse.ArgumentParser(
        prog="nightly-batch",
        description=DESCRIPTION,
        epilog="'nightly-batch COMMAND --help' shows a command's own options.",
        parents=[common],
        formatter_class=_fit,
    )
    commands = parser.add_subparsers(
        dest="command", required=True, title="commands", metavar="COMMAND"
    )
    for name, (summary, add_arguments) in COMMANDS.items():
        command = commands.add_parser(
            name, parents=[common], help=summary, description=summary, formatter_class=_fit
        )
        if add_arguments is not None:
            add_arguments(command, common)
    return parser
