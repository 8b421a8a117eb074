"""store/facade.py: `Store` opens and migrates a database, commits transactions and rolls back on errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedsvc.errors import StorageError
from feedsvc.store import Store
from feedsvc.store.meta import bump_data_version, data_version


def test_transaction_commits_and_rolls_back(tmp_path: Path) -> None:
    with Store.open("sqlite:///feeds.db", tmp_path) as store:
        with store.transaction() as session:
            bump_data_version(session)
        with pytest.raises(RuntimeError), store.transaction() as session:
            bump_data_version(session)
            raise RuntimeError("boom")
        with store.session() as session:
            assert data_version(session) == 1  # the first bump kept, the second rolled back
    assert (tmp_path / "feeds.db").is_file()  # relative SQLite paths resolve against base_dir


def test_a_database_that_cannot_be_opened_is_one_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError):
        Store.open(f"sqlite:///{blocker}/sub/feeds.db")
