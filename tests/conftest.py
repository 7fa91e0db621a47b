"""Shared fixtures: billing databases on SQLite and PostgreSQL, loaded
with the demo data from ../shared/data."""
from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest

from billing import db, seed
from connectors import wiring

# the test process is a composition root too: the desk and action code it
# calls tells patients through billing's port, with the real senders
wiring.install()

pytest_plugins = ["tests.servers"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
DEMO_FILE = SHARED_DATA / "demo_accounts.yml"
# The moment the demo scenarios are told at: statements out in October and
# November 2026, most balances due in December.  Every test, and the real
# servers the integration tests start, read the clock (billing.clock)
# through SELFPAY_NOW set to this, so no test depends on the day it runs
# nor on a SELFPAY_NOW in the caller's environment; a test about another
# moment sets its own (tests/unit/test_clock.py).
DEMO_NOW = "2026-11-28T15:00:00Z"
# when the clock stood at DEMO_NOW: the real servers and the tests that talk
# to them keep one time (billing.clock, SELFPAY_NOW_SINCE)
DEMO_SINCE = str(time.time())
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(autouse=True)
def demo_clock(request, monkeypatch):
    """Every test runs at the demo's moment unless it sets another; one
    that talks to the real servers keeps their time."""
    monkeypatch.setenv("SELFPAY_NOW", DEMO_NOW)
    if "assistant" in request.fixturenames:
        monkeypatch.setenv("SELFPAY_NOW_SINCE", DEMO_SINCE)
    else:
        monkeypatch.delenv("SELFPAY_NOW_SINCE", raising=False)
    return DEMO_NOW


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
