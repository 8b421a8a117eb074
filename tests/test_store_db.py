"""Schema creation: fresh databases are created, re-runs are no-ops, concurrent first starts both succeed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import IntegrityError

from feedsvc.errors import StorageError
from feedsvc.store.db import (
    create_schema,
    make_engine,
    make_session_factory,
    schema_revision,
    session_without_fk_checks,
)


def test_create_schema_is_idempotent(db_url: str) -> None:
    engine = make_engine(db_url)
    create_schema(engine)
    create_schema(engine)
    current, head = schema_revision(engine)
    assert current == head
    assert {"items", "sources", "crawl_runs", "related_links", "leases"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_concurrent_first_start_on_new_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    code = f"from feedsvc.store import Store; Store.open({url!r}); print('ok')"
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(5)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 5, [err for _, err in results]


def test_unwritable_sqlite_location_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError, match=r"Cannot open database .*Set \[database\] url"):
        make_engine(f"sqlite:///{blocker}/sub/feeds.db")


def test_relative_sqlite_path_resolves_against_config_folder(tmp_path: Path) -> None:
    engine = make_engine("sqlite:///data/feeds.db", base_dir=tmp_path)
    create_schema(engine)
    assert (tmp_path / "data" / "feeds.db").exists()
    engine.dispose()


def test_a_failed_commit_is_a_storage_error_in_one_line(tmp_path: Path) -> None:
    """A full disk fails at commit, where SQLite writes its WAL; a deferred foreign key is checked there too,
    which makes a real commit-time failure without filling a disk (tests/hostile/test_disk_full.py does that)."""
    from datetime import UTC, datetime

    from sqlalchemy import text
    from sqlalchemy.orm import sessionmaker

    from feedsvc.models import CrawlRun
    from feedsvc.store.db import write_transaction

    engine = make_engine(f"sqlite:///{tmp_path / 'f.db'}")
    create_schema(engine)
    factory = sessionmaker(engine)
    try:
        with pytest.raises(StorageError) as caught, write_transaction(factory) as session:
            session.execute(text("PRAGMA defer_foreign_keys = ON"))
            session.add(CrawlRun(source_id="nobody", started_at=datetime(2026, 1, 1, tzinfo=UTC), status="running",
                                 trigger="manual", listing_counts={}))
        assert str(caught.value) == "Database error on commit: FOREIGN KEY constraint failed"
        with factory() as session:
            assert session.execute(text("SELECT count(*) FROM crawl_runs")).scalar_one() == 0
    finally:
        engine.dispose()


def test_an_up_to_date_database_opens_without_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'feeds.db'}"
    engine = make_engine(url)
    create_schema(engine)
    engine.dispose()
    code = ("import sys; from feedsvc.store.db import create_schema, make_engine; "
            f"create_schema(make_engine({url!r})); print('alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def _foreign_keys(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("PRAGMA foreign_keys").scalar() or 0)


def test_a_session_without_fk_checks_gives_its_connection_back_with_them_on(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite: checks off inside the block, on again when the connection is pooled again, after a commit or an
    error in a transaction alike; a connection whose checks cannot be switched back on is discarded."""
    engine = make_engine(f"sqlite:///{tmp_path / 'fk.db'}", pool_size=1, max_overflow=0)  # one pooled connection
    create_schema(engine)
    factory = make_session_factory(engine)
    dangling = "INSERT INTO related_links VALUES (1, 2, 'computed', 0.5, 1, '2026-01-01 00:00:00')"
    with session_without_fk_checks(factory) as session:
        assert session.connection().exec_driver_sql("PRAGMA foreign_keys").scalar() == 0
        session.connection().exec_driver_sql(dangling)  # no such items: accepted, unchecked
        session.rollback()
    assert _foreign_keys(engine) == 1
    with pytest.raises(RuntimeError), session_without_fk_checks(factory) as session:
        session.connection().exec_driver_sql(dangling)
        raise RuntimeError("the rebuild failed mid-write")
    assert _foreign_keys(engine) == 1
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM related_links").scalar() == 0
        with pytest.raises(IntegrityError):
            connection.exec_driver_sql(dangling)
        first = connection.connection.dbapi_connection
    monkeypatch.setattr("feedsvc.store.db._switch_foreign_keys", lambda connection, on: not on)  # switching back on fails
    with session_without_fk_checks(factory):
        pass
    with engine.connect() as connection:
        assert connection.connection.dbapi_connection is not first  # a new connection, not the unchecked one
    assert _foreign_keys(engine) == 1
    engine.dispose()


def test_a_session_without_fk_checks_reads_and_writes_on_either_database(db_url: str) -> None:
    engine = make_engine(db_url)
    create_schema(engine)
    with session_without_fk_checks(make_session_factory(engine)) as session:
        assert session.connection().exec_driver_sql("SELECT count(*) FROM items").scalar() == 0
    engine.dispose()
