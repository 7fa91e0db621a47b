"""billing.db.read_scope: a webhook's look-up reads while a writer holds
the billing database (on SQLite it neither waits for nor blocks writers),
and nothing done in it is kept."""
from __future__ import annotations

import threading
import time

import sqlalchemy as sa

from billing import db
from billing.models import Client


def _client(url):
    with db.session_scope(url) as session:
        session.add(Client(id="riverside", name="Riverside Health", phone_number="+15550100100", timezone="America/New_York",
                           policy={}))


def test_a_read_does_not_wait_for_a_writer_holding_the_database(db_url):
    _client(db_url)
    holding, release = threading.Event(), threading.Event()

    def writer():
        with db.session_scope(db_url) as session:
            session.execute(sa.update(Client).where(Client.id == "riverside").values(name="Riverside Health System"))
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    assert holding.wait(10)
    started = time.monotonic()
    try:
        with db.read_scope(db_url) as session:
            name = session.execute(sa.select(Client.name).where(Client.phone_number == "+15550100100")).scalar_one()
        waited = time.monotonic() - started
    finally:
        release.set()
        thread.join()
    assert name == "Riverside Health"  # what was committed, not the writer's unfinished change
    assert waited < 2


def test_nothing_done_in_a_read_scope_is_kept(db_url):
    _client(db_url)
    with db.read_scope(db_url) as session:
        session.execute(sa.update(Client).where(Client.id == "riverside").values(name="changed"))
    with db.session_scope(db_url) as session:
        assert session.get(Client, "riverside").name == "Riverside Health"
