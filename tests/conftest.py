"""Shared fixtures: billing databases on SQLite and PostgreSQL, loaded
with the demo data from ../shared/data."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from billing import db, seed

pytest_plugins = ["tests.servers"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
DEMO_FILE = SHARED_DATA / "demo_accounts.yml"
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _postgres_database():
    """A fresh, empty PostgreSQL database for one test; dropped after."""
    import sqlalchemy as sa

    name = f"selfpay_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({exc.orig}); the billing tests run on both "
            "databases: start it (.ci/run does) or set TEST_POSTGRES_ADMIN_URL"
        )
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    return admin, name, url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """An empty billing database with the schema, on each engine."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'billing.db'}"
        db.migrate(url)
        yield url
        db.get_engine(url).dispose()
        return
    import sqlalchemy as sa

    admin, name, url = _postgres_database()
    db.migrate(url)
    yield url
    db.get_engine(url).dispose()
    db._engines.pop(url, None)
    db._sessionmakers.pop(url, None)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def seeded_url(db_url):
    """The demo data loaded into an empty database."""
    with db.session_scope(db_url) as session:
        seed.load(session, DEMO_FILE)
    return db_url


@pytest.fixture
def seeded_sqlite(tmp_path, monkeypatch):
    """A seeded SQLite database that billing.db uses by default (DATABASE_URL)."""
    url = f"sqlite:///{tmp_path / 'selfpay.db'}"
    db.migrate(url)
    with db.session_scope(url) as session:
        seed.load(session, DEMO_FILE)
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    db.get_engine(url).dispose()
