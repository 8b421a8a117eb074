"""store/probe.py: whether a database URL can work, answered without creating anything."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from feedsvc.errors import StorageError
from feedsvc.store import Store
from feedsvc.store.probe import database_exists, probe_database, sqlite_file


def test_sqlite_file_and_database_exists(tmp_path: Path) -> None:
    assert sqlite_file("sqlite:///feeds.db", tmp_path) == tmp_path / "feeds.db"
    assert sqlite_file("sqlite://") is None and sqlite_file("postgresql+psycopg://u@h/db") is None
    assert not database_exists("sqlite:///feeds.db", tmp_path)
    assert database_exists("postgresql+psycopg://u@h/db")


def test_probe_reports_state_and_creates_nothing(tmp_path: Path) -> None:
    assert "not created yet" in probe_database("sqlite:///feeds.db", tmp_path)
    assert not (tmp_path / "feeds.db").exists()
    Store.open("sqlite:///feeds.db", tmp_path).close()
    assert probe_database("sqlite:///feeds.db", tmp_path).endswith("(schema up to date)")


def test_probe_says_why_a_url_cannot_work(tmp_path: Path) -> None:
    (tmp_path / "adir.db").mkdir()
    with pytest.raises(StorageError, match="is a directory"):
        probe_database("sqlite:///adir.db", tmp_path)
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(StorageError, match="not a writable folder"):
            probe_database(f"sqlite:///{locked / 'feeds.db'}")
    with pytest.raises(StorageError, match="Cannot open database"):
        probe_database("postgresql+psycopg://nobody@127.0.0.1:9/none")
