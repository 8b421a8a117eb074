"""Test databases: a fresh SQLite file, or a fresh schema on the PostgreSQL at FEEDSVC_TEST_DATABASE_URL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.support.services import unavailable

PG_ENV = "FEEDSVC_TEST_DATABASE_URL"


def postgres_base_url() -> str:
    """The PostgreSQL URL to test against, or skip with the reason."""
    url = os.environ.get(PG_ENV)
    if not url:
        unavailable(f"PostgreSQL tests need {PG_ENV}=postgresql+psycopg://user@host/db (.ci/run sets it)")
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # any connection failure means: skip, and say why
        unavailable(f"PostgreSQL at {PG_ENV} is unreachable: {str(exc).splitlines()[0]}")
    return url


@contextmanager
def postgres_schema_url() -> Iterator[str]:
    """A URL whose search_path is a brand-new schema, dropped afterwards; tests never see each other's rows."""
    base = postgres_base_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    parsed = make_url(base)
    url = parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def database_url(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'feedsvc.store.db'}"
    else:
        with postgres_schema_url() as url:
            yield url
