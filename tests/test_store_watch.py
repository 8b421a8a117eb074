"""store/watch.py: the SQLite file under a long-running process deleted or replaced is noticed, and a replacement
is reopened only when its schema is current."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from feedsvc.errors import StorageError
from feedsvc.store import Store
from feedsvc.store.meta import bump_data_version, data_version
from feedsvc.store.watch import DatabaseFile, reopen_replaced

URL = "sqlite:///feeds.db"


def test_replaced_file_is_reopened_and_a_deleted_one_is_an_error(tmp_path: Path) -> None:
    Store.open(URL, tmp_path).close()
    watched = DatabaseFile(URL, tmp_path)
    assert watched.change() is None
    backup = tmp_path / "backup.db"
    with Store.open(f"sqlite:///{backup}") as other, other.transaction() as session:
        for _ in range(3):  # marks the backup: a fresh database would say 0
            bump_data_version(session)
    shutil.copy(backup, tmp_path / "new.db")
    (tmp_path / "new.db").replace(tmp_path / "feeds.db")  # a restored backup: another inode at the same path
    assert watched.change() == "replaced"
    with reopen_replaced(URL, tmp_path, watched) as store, store.session() as session:
        assert data_version(session) == 3
    assert watched.change() is None
    (tmp_path / "feeds.db").unlink()
    assert watched.change() == "gone"
    with pytest.raises(StorageError, match="was deleted or moved"):
        reopen_replaced(URL, tmp_path, watched)


def test_a_replacement_with_an_old_schema_is_refused(tmp_path: Path) -> None:
    Store.open(URL, tmp_path).close()
    watched = DatabaseFile(URL, tmp_path)
    with sqlite3.connect(tmp_path / "other.db") as db:  # a SQLite file without our schema
        db.execute("CREATE TABLE t (x)")
    (tmp_path / "other.db").replace(tmp_path / "feeds.db")
    assert watched.change() == "replaced"
    with pytest.raises(StorageError, match="feedsvc db upgrade"):
        reopen_replaced(URL, tmp_path, watched)
    assert DatabaseFile("postgresql+psycopg://u@h/db").change() is None  # server databases have no file
