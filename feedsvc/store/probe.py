"""`probe_database(url, base_dir)`: will this database URL work? Answered without creating or changing anything.

`feedsvc check` uses it so a URL that cannot work (an unwritable folder, a driver that is not installed, a server
that refuses) fails there with one line, not later in a crawl; `status` uses `database_exists` so that looking
does not create a database file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from feedsvc.config import database_setting
from feedsvc.errors import StorageError
from feedsvc.store.revision import SCHEMA_HEAD, sqlite_revision

# A SQLite URL SQLAlchemy's make_url would read as exactly this path (nothing to unquote, no query): answered
# without importing SQLAlchemy, which the `feedsvc crawl` parent otherwise loads only for this look (~0.15 CPU-s,
# ~18 MiB held through the whole crawl).
_PLAIN_SQLITE = re.compile(r"sqlite(?:\+pysqlite)?:///([^?#%]+)")


def sqlite_file(url: str, base_dir: Path | None = None) -> Path | None:
    """The file a SQLite URL names (resolved against `base_dir`), or None for other databases and :memory:."""
    plain = _PLAIN_SQLITE.fullmatch(url)
    if plain is not None and plain[1] != ":memory:":
        path = Path(plain[1]).expanduser()
        return base_dir / path if base_dir is not None and not path.is_absolute() else path
    from sqlalchemy.engine import make_url

    from feedsvc.store.db import resolve_url

    parsed = make_url(resolve_url(url, base_dir))
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def database_exists(url: str, base_dir: Path | None = None) -> bool:
    """False only for a SQLite file that is not there yet (server databases are assumed to exist)."""
    path = sqlite_file(url, base_dir)
    return path is None or path.exists()


def probe_database(url: str, base_dir: Path | None = None) -> str:
    """One line saying what the database is and its schema state; StorageError (one line) when it cannot work."""
    path = sqlite_file(url, base_dir)
    if path is not None:
        if path.is_dir():
            raise StorageError(f"Cannot open database {url}: {path} is a directory. Fix {database_setting()}.")
        if not path.exists():
            folder = next((p for p in path.parents if p.exists()), Path("/"))
            if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
                raise StorageError(f"Cannot create database {path}: {folder} is not a writable folder. "
                                   f"Fix {database_setting()}, or make {folder} writable.")
            return f"{path} (not created yet; the first crawl or `feedsvc db upgrade` creates it)"
        if not os.access(path, os.R_OK | os.W_OK):
            raise StorageError(f"Cannot open database {path}: no read/write permission. Fix {database_setting()}, or fix its "
                               "permissions.")
        if sqlite_revision(path) == SCHEMA_HEAD:  # the common case, answered without SQLAlchemy and Alembic
            return f"{path} (schema up to date)"
    from sqlalchemy.exc import SQLAlchemyError

    from feedsvc.store.db import _first_line, schema_revision
    from feedsvc.store.facade import Store

    store = Store.open(url, base_dir, migrate=False)  # a missing driver fails here, as StorageError
    try:
        current, head = schema_revision(store.engine)
    except SQLAlchemyError as exc:
        raise StorageError(f"Cannot open database {url}: {exc.__class__.__name__}: {_first_line(exc)}. "
                           f"Fix {database_setting()} and check that the server is running.") from None
    finally:
        store.close()
    state = "up to date" if current == head else f"at revision {current or 'none'}, `feedsvc db upgrade` brings it to {head}"
    return f"{path or url} (schema {state})"
