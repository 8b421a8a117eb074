"""feedsvc/store/revision.py: SCHEMA_HEAD follows the migrations; a SQLite file's revision is read, never created."""

from __future__ import annotations

from pathlib import Path

from feedsvc.store.db import create_schema, make_engine, schema_revision
from feedsvc.store.revision import SCHEMA_HEAD, sqlite_revision


def test_schema_head_names_the_newest_migration(tmp_path: Path) -> None:
    """SCHEMA_HEAD lets an up-to-date database open without Alembic: a new migration must move it too."""
    engine = make_engine(f"sqlite:///{tmp_path / 'feeds.db'}")
    create_schema(engine)
    assert schema_revision(engine) == (SCHEMA_HEAD, SCHEMA_HEAD)
    engine.dispose()
    assert sqlite_revision(tmp_path / "feeds.db") == SCHEMA_HEAD


def test_a_missing_or_foreign_file_has_no_revision_and_is_not_created(tmp_path: Path) -> None:
    assert sqlite_revision(tmp_path / "none.db") is None
    assert not (tmp_path / "none.db").exists()
    (tmp_path / "notes.db").write_text("not a database", encoding="utf-8")
    assert sqlite_revision(tmp_path / "notes.db") is None
