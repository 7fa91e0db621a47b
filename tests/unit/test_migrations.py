"""The Alembic migrations build exactly the schema the models describe,
on SQLite and PostgreSQL: a model change without its migration fails here."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from billing import db
from billing.models import Base
import billing.gateway  # noqa: F401  (the sandbox tables)


def test_migrations_match_the_models(db_url):
    with db.get_engine(db_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = [d for d in compare_metadata(context, Base.metadata)
                       if not (isinstance(d, tuple) and d[0] == "remove_table" and d[1].name == "alembic_version")]
    assert differences == []
