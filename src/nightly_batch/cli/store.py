"""`nightly-batch store migrate`: the one-host SQLite history into the PostgreSQL store."""

from __future__ import annotations

from pathlib import Path

from nightly_batch.errors import ConfigError
from nightly_batch.runtime.app import Settings


def migrate(settings: Settings, source: str | None) -> int:
    from nightly_batch.storage.store_migration import migrate_store  # noqa: PLC0415

    url = settings.environment.database_url
    if url is None:
        raise ConfigError(
            "store migrate copies into PostgreSQL: set NIGHTLY_BATCH_DATABASE_URL "
            "(docs/HIGH_AVAILABILITY.md) and run it again."
        )
    path = Path(source) if source else settings.config.database_path
    target, copied = migrate_store(path, url, settings.environment.node)
    listed = ", ".join(f"{table}: {count:,}" for table, count in copied.items())
    print(f"copied {path} into {target}: {listed}")
    return 0
