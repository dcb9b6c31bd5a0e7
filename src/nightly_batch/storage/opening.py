"""Opens the runtime store the config names: the one place that picks an implementation.

Callers get a `storage.port.RuntimeStore`; today that is SQLite in `logsDir`, and a second
store (PostgreSQL for two hosts) is chosen here.
"""

from __future__ import annotations

from nightly_batch.settings.config import Config
from nightly_batch.storage.digests import ensure_directory
from nightly_batch.storage.port import RuntimeStore


def open_store(config: Config) -> RuntimeStore:
    """The runtime store, created (with its tables, and `logsDir`) if it does not exist yet:
    a silence set before the daemon's first start is kept, not refused."""
    from nightly_batch.storage.sqlite import SqliteStore  # noqa: PLC0415  (sqlite3 is not free)

    ensure_directory(config.logs_dir)
    return SqliteStore(config.database_path)


def open_existing_store(config: Config) -> RuntimeStore | None:
    """The runtime store if the daemon has made one; None on a fresh install, so a command
    that only reads creates nothing."""
    return open_store(config) if config.database_path.exists() else None
