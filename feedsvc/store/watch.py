"""DatabaseFile: notices when the SQLite file under a long-running process (the feed server) is deleted or
replaced — a restored backup, a `rm` — so the process can reopen it or say so, instead of serving the old,
unlinked file for ever. File identity is (device, inode); server databases have no file and never change here.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Literal

from feedsvc.config import database_setting
from feedsvc.errors import StorageError
from feedsvc.store.facade import Store
from feedsvc.store.probe import sqlite_file

log = logging.getLogger(__name__)
Change = Literal["gone", "replaced"]


class DatabaseFile:
    """The identity of the database file as opened; `change()` says whether the path still names it."""

    def __init__(self, url: str, base_dir: Path | None = None) -> None:
        self.path = sqlite_file(url, base_dir)
        self.identity = self._identity()

    def _identity(self) -> tuple[int, int] | None:
        if self.path is None:
            return None
        try:
            stat = os.stat(self.path)
        except OSError:
            return None
        return stat.st_dev, stat.st_ino

    def change(self) -> Change | None:
        """None while the path names the file we opened (or for server databases), else what happened."""
        if self.path is None:
            return None
        now = self._identity()
        if now is None:
            return "gone"
        return "replaced" if now != self.identity else None

    def accept(self) -> None:
        """The file now at the path is the one in use (after reopening it)."""
        self.identity = self._identity()


def reopen_replaced(url: str, base_dir: Path | None, watched: DatabaseFile) -> Store:
    """A Store on the file now at `watched.path`, once it has changed; StorageError (one line) when the file is
    gone or its schema is not current (nothing is migrated behind the admin's back)."""
    from feedsvc.store.db import schema_revision

    if watched.change() == "gone":
        raise StorageError(f"The database file {watched.path} was deleted or moved; restore it or restart with "
                           f"the right {database_setting()}.")
    store = Store.open(url, base_dir, migrate=False)
    try:
        current, head = schema_revision(store.engine)
    except Exception as exc:
        store.close()
        raise StorageError(f"The database file {watched.path} was replaced by one that cannot be read: "
                           f"{exc.__class__.__name__}") from None
    if current != head:
        store.close()
        raise StorageError(f"The database file {watched.path} was replaced by one at schema revision {current}; "
                           f"run `feedsvc db upgrade` (expected {head}).")
    watched.accept()
    log.warning("database file %s was replaced; reopened it", watched.path)
    return store
