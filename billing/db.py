"""Engine and sessions for the billing database.

``DATABASE_URL`` picks the database (PostgreSQL in production); the
default is a SQLite file under ``var/`` of the project.

A SQLite file's connections are pooled (SQLAlchemy 1.4 would open one for
every session and close it after: the pragmas set again each time, and the
last close checkpointing the write-ahead log, milliseconds of every action
call); a forked child does not use its parent's.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.pool import QueuePool
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from selfpay import settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'selfpay.db'}"

# a SQLite file's connections kept open between sessions (create_engine's keywords; Rasa's SQLite stores use them too)
SQLITE_FILE_POOL = {"poolclass": QueuePool, "pool_size": 4, "max_overflow": -1}
_engines: dict[str, Engine] = {}
_sessionmakers: dict[str, sessionmaker] = {}


def database_url() -> str:
    return settings.get("DATABASE_URL")


def get_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    engine = _engines.get(url)
    if engine is None:
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            a_file = bool(path) and path != ":memory:"
            if a_file:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            pooled = SQLITE_FILE_POOL if a_file else {}
            engine = create_engine(url, future=True, connect_args={"check_same_thread": False, "timeout": 30}, **pooled)
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        else:
            engine = create_engine(url, future=True, pool_pre_ping=True, pool_size=10, max_overflow=10)
        _engines[url] = engine
    return engine


def _sqlite_pragmas(dbapi_connection, _record):
    # SQLAlchemy, not the driver, starts transactions (see _sqlite_begin):
    # the driver's own handling turns a first SAVEPOINT into a transaction
    # that its RELEASE commits
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


READ_ONLY = "selfpay_read_only"


def _sqlite_begin(conn):
    # take the write lock at the start: two writers wait their turn (busy
    # timeout) instead of one failing when it upgrades a stale read; a
    # read_scope takes none (in WAL mode a reader never waits for a writer)
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


def sessions(url: str | None = None) -> sessionmaker:
    url = url or database_url()
    maker = _sessionmakers.get(url)
    if maker is None:
        maker = sessionmaker(bind=get_engine(url), future=True, expire_on_commit=False)
        _sessionmakers[url] = maker
    return maker


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A unit of work: committed when the block ends, rolled back on error."""
    session = sessions(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def read_scope(url: str | None = None) -> Iterator[Session]:
    """A unit of work that only reads (a webhook's look-ups: which client a
    number belongs to, the reminder a caller answers): on SQLite it does not
    wait for, or hold up, the writers; nothing done in it is kept."""
    session = sessions(url)()
    try:
        session.connection(execution_options={READ_ONLY: True})
        yield session
    finally:
        session.rollback()
        session.close()


def migrate(url: str | None = None) -> None:
    """Bring the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url or database_url())
    cfg.attributes["engine"] = get_engine(url)
    command.upgrade(cfg, "head")


def _forget_the_parents_connections() -> None:
    for engine in _engines.values():
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_the_parents_connections)


def dispose_all() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
    _sessionmakers.clear()
