"""Schema creation: fresh databases are created, re-runs are no-ops, concurrent first starts both succeed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from feedsvc.errors import StorageError
from feedsvc.store.db import create_schema, make_engine, schema_revision


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
