"""Opens the runtime store the settings name: the one place that picks an implementation.

Callers get a `storage.port.RuntimeStore`: SQLite in `logsDir` on one host, PostgreSQL when
`NIGHTLY_BATCH_DATABASE_URL` is set (two hosts, docs/HIGH_AVAILABILITY.md).
"""

from __future__ import annotations

from nightly_batch.settings.config import Config
from nightly_batch.settings.environment import Environment
from nightly_batch.storage.digests import ensure_directory
from nightly_batch.storage.port import RuntimeStore


def open_store(config: Config, environment: Environment) -> RuntimeStore:
    """The runtime store, created (with its tables, and `logsDir`) if it does not exist yet:
    a silence set before the daemon's first start is kept, not refused."""
    ensure_directory(config.logs_dir)
    url = environment.database_url
    if url is not None:
        from nightly_batch.storage.postgres import PostgresStore  # noqa: PLC0415

        return PostgresStore(url, environment.node)
    from nightly_batch.storage.sqlite import SqliteStore  # noqa: PLC0415  (sqlite3 is not free)

    return SqliteStore(config.database_path)


def open_existing_store(config: Config, environment: Environment) -> RuntimeStore | None:
    """The runtime store if the daemon has made one; None on a fresh install, so a command
    that only reads creates nothing (a PostgreSQL store is shared, so it is opened)."""
    if environment.database_url is None and not config.database_path.exists():
        return None
    return open_store(config, environment)


def describe_store(config: Config, environment: Environment) -> str:
    """Which store the settings name, without a password (check-config prints it); raises
    StoreError for a database URL that cannot be read."""
    url = environment.database_url
    if url is None:
        return f"sqlite {config.database_path}"
    from nightly_batch.storage.postgres_schema import connection_string, described  # noqa: PLC0415

    connection_string(url, environment.node)
    return f"{described(url)} (node {environment.node})"
