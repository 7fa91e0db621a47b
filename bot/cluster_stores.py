"""The stores `make cluster` runs on, made ready and made fresh: the billing
database and the tracker store on PostgreSQL (created when missing, the
billing schema migrated, the demo data loaded into an empty one), the Redis
lock store and the Celery broker on Redis.  Everything is idempotent:
`make cluster` prepares on every start; `make cluster-reset` drops first."""
from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from billing import db, seed


def shown(url: str) -> str:
    """A URL fit for a banner or a log: no password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url.split("@")[-1]


def _admin(url: str) -> tuple[sa.engine.Engine, str]:
    parsed = make_url(url)
    return sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", future=True), parsed.database


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database the URL names when it is missing; True if created."""
    if not url.startswith("postgresql"):
        return False
    admin, name = _admin(url)
    try:
        with admin.connect() as conn:
            if conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
                return False
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            return True
    except sa.exc.OperationalError as exc:
        raise SystemExit(f"PostgreSQL is not reachable for {shown(url)} ({exc.orig}): start it "
                         "(`pg_ctlcluster 15 main start`, as .ci/run does)") from exc
    finally:
        admin.dispose()


def drop_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    admin, name = _admin(url)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _redis(url: str):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=2)


def redis_urls(env: dict) -> list[str]:
    urls = []
    if env["LOCK_STORE_TYPE"] == "redis":
        urls.append(f"redis://{env['LOCK_STORE_HOST']}:{env['LOCK_STORE_PORT']}/{env['LOCK_STORE_DB']}")
    if env["OUTREACH_BROKER_URL"].startswith("redis"):
        urls.append(env["OUTREACH_BROKER_URL"])
    return urls


def check_redis(env: dict) -> None:
    import redis

    for url in redis_urls(env):
        try:
            _redis(url).ping()
        except redis.RedisError as exc:
            raise SystemExit(f"Redis is not reachable at {shown(url)} ({exc}): start it "
                             "(`redis-server --daemonize yes --bind 127.0.0.1`, as .ci/run does)") from exc


def prepare(env: dict) -> None:
    """Databases there, billing schema at its head, demo data in an empty billing database, Redis answering."""
    for url in (env["DATABASE_URL"], env["TRACKER_STORE_URL"]):
        ensure_database(url)
    db.migrate(env["DATABASE_URL"])
    with db.session_scope(env["DATABASE_URL"]) as session:
        if seed.database_is_empty(session):
            seed.load(session, seed.DEFAULT_DATA_FILE)
    db.get_engine(env["DATABASE_URL"]).dispose()
    check_redis(env)


def reset(env: dict) -> None:
    """Drop the cluster's databases and empty its Redis databases (locks, broker)."""
    if (env.get("SELFPAY_MODE") or "").lower() == "production":
        raise SystemExit("SELFPAY_MODE is production: make cluster-reset drops databases and will not run there")
    db.get_engine(env["DATABASE_URL"]).dispose()
    for url in (env["DATABASE_URL"], env["TRACKER_STORE_URL"]):
        drop_database(url)
    check_redis(env)
    for url in redis_urls(env):
        _redis(url).flushdb()


def running_programs(run_dir: Path) -> list[str]:
    """The programs whose pid file names a live process."""
    alive = []
    for pid_file in sorted(Path(run_dir).glob("*.pid")):
        try:
            os.kill(int(pid_file.read_text().strip()), 0)
        except (ValueError, ProcessLookupError):
            continue
        except PermissionError:
            pass
        alive.append(pid_file.stem)
    return alive
