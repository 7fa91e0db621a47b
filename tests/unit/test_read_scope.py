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


def _connection_of(url):
    with db.session_scope(url) as session:
        return id(session.connection().connection.dbapi_connection)


def test_a_sqlite_database_keeps_its_connections_open_between_units_of_work(db_url):
    _client(db_url)
    assert len({_connection_of(db_url) for _ in range(3)}) == 1
    with db.read_scope(db_url) as session:
        assert session.get(Client, "riverside").name == "Riverside Health"
    with db.session_scope(db_url) as session:  # the read's connection, given back, writes again
        session.execute(sa.update(Client).where(Client.id == "riverside").values(name="Riverside Health System"))
    with db.read_scope(db_url) as session:
        assert session.get(Client, "riverside").name == "Riverside Health System"


def test_a_forked_child_opens_its_own_connections(db_url):
    import os

    _client(db_url)
    parents = _connection_of(db_url)
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # the child: a unit of work of its own, then gone
        try:
            ours = _connection_of(db_url)
            with db.session_scope(db_url) as session:
                name = session.get(Client, "riverside").name
            os.write(writing, f"{int(ours != parents)} {name}".encode())
        finally:
            os._exit(0)
    os.close(writing)
    said = os.read(reading, 200).decode()
    os.waitpid(child, 0)
    assert said == "1 Riverside Health"
    assert _connection_of(db_url) == parents  # the parent's pool is untouched
