"""The schema revision this code expects (`SCHEMA_HEAD`), and a SQLite file's own, read without SQLAlchemy or
Alembic: the `feedsvc crawl` parent checks the database before its child starts and needs neither until after."""

from __future__ import annotations

import sqlite3
from pathlib import Path

# The newest migration's revision (tests/test_store_revision.py checks it against Alembic's head): a database
# already there is opened without importing Alembic and reading every migration script (~0.1 CPU-s per process).
SCHEMA_HEAD = "0004"


def sqlite_revision(path: Path) -> str | None:
    """The revision Alembic recorded in the SQLite file at `path`, opened read-only (never created); None when
    there is none or the file cannot be read that way (callers then take the full path, which says why)."""
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except (sqlite3.Error, ValueError):
        return None
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    finally:
        connection.close()
    return str(row[0]) if row else None
