"""Alembic environment: runs migrations on the engine billing.db hands over."""
from alembic import context

from billing.db import get_engine
from billing.models import Base
import billing.gateway  # noqa: F401  (the sandbox vault table)

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or get_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
