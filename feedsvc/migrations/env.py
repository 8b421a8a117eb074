"""Alembic environment: runs on the engine handed in by feedsvc.store.db (never reads alembic.ini)."""

from __future__ import annotations

from alembic import context

from feedsvc.models import Base

# APScheduler keeps its own job table in our database; it is not ours to migrate.
_FOREIGN_TABLES = {"apscheduler_jobs"}


def _include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    return not (type_ == "table" and name in _FOREIGN_TABLES)


def run_migrations() -> None:
    engine = context.config.attributes["engine"]
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            include_object=_include_object,
        )
        context.run_migrations()


run_migrations()
