"""A real PostgreSQL for the tests: the server libpq's environment names (`pg_virtualenv` sets
PGHOST, PGPORT, PGUSER and PGPASSWORD; .ci/run runs the suite inside one), a fresh database
per test, dropped after it.

Without a server the PostgreSQL tests skip, except under CI=true, where they must run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest


def _admin_connection() -> object | None:
    if not (os.environ.get("PGHOST") or os.environ.get("PGPORT")):
        return None
    import psycopg  # noqa: PLC0415

    try:
        return psycopg.connect("", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError:
        return None


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of an empty database of its own on the test server."""
    import psycopg  # noqa: PLC0415
    from psycopg.conninfo import make_conninfo  # noqa: PLC0415

    admin = _admin_connection()
    if admin is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true: the PostgreSQL tests need a server (run inside pg_virtualenv)")
        pytest.skip("no PostgreSQL server (PGHOST unset or unreachable; see tests/pg.py)")
    assert isinstance(admin, psycopg.Connection)
    name = f"nb_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield make_conninfo("", dbname=name)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
