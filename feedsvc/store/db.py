"""Engine and schema internals behind `Store` (feedsvc/store/facade.py): engines with SQLite pragmas, migrations.

The schema is owned by Alembic (feedsvc/migrations); `create_schema` upgrades any database, new or old,
to the latest revision, so a fresh SQLite file needs no separate setup step.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from feedsvc.config import database_setting
from feedsvc.errors import StorageError
from feedsvc.store._base import storage_error
from feedsvc.store.revision import SCHEMA_HEAD
from feedsvc.store.search import register_sqlite_functions

MIGRATIONS_DIR = Path(__file__).parent.parent / "migrations"


def resolve_url(url: str, base_dir: Path | None = None) -> str:
    """Make a relative SQLite path relative to `base_dir` (the config file's folder), not the cwd."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"Invalid database url {url!r}: {exc}. Set {database_setting()}.") from None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return url
    path = Path(parsed.database).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return parsed.set(database=str(path)).render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # busy_timeout first: it waits instead of failing on a lock, the journal mode switch below included.
    # WAL lets the feed server read while a crawl writes.
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str, base_dir: Path | None = None, **kwargs: Any) -> Engine:
    """Create an engine; SQLite files get their folder created and WAL mode switched on."""
    resolved = resolve_url(url, base_dir)
    parsed = make_url(resolved)
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"Cannot open database {url}: cannot create {folder}: {exc}. Set {database_setting()}.") from None
    if backend == "postgresql" and parsed.drivername == "postgresql":
        # psycopg 3 is what we install; plain postgresql:// would look for psycopg2.
        resolved = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    try:
        engine = create_engine(resolved, pool_pre_ping=True, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise StorageError(f"Cannot open database {url}: {exc}. Set {database_setting()}.") from None
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "connect", register_sqlite_functions)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextlib.contextmanager
def write_transaction(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session in one transaction, committed when the block ends. A failed commit is a StorageError like a
    failed statement: on a full disk SQLite's WAL (and PostgreSQL's) is written at commit, so "database or
    disk is full" comes from the commit, after every store function returned."""
    with session_factory() as session:
        transaction = session.begin()
        try:
            yield session
        except BaseException:
            transaction.rollback()
            raise
        try:
            transaction.commit()
        except SQLAlchemyError as exc:
            # SQLite keeps the transaction open after some failed COMMITs (a deferred constraint): end it here.
            with contextlib.suppress(SQLAlchemyError):
                session.rollback()
            raise storage_error(exc, "on commit") from exc


@contextlib.contextmanager
def session_without_fk_checks(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose SQLite connection does not check foreign keys, for a bulk write whose caller checks its own
    ids instead (`feedsvc related --rebuild`: 900,000 links inserted in 4.1 s checked row by row against the wide
    items table, in 1.3 s unchecked). On PostgreSQL a plain session.

    SQLite switches the checks only outside a transaction, so they are switched off before the session's first
    statement, on a connection held here for the whole block, and on again after it (commit or rollback) before the
    connection goes back to the pool; a connection whose checks cannot be confirmed on is discarded instead. A
    caller writing ids must make sure they exist at commit: SQLite's write lock, taken by the transaction's first
    write, keeps other connections from deleting rows until then, so ids checked after that first write stay valid.
    """
    with session_factory() as probe:
        engine = probe.get_bind()
    if not isinstance(engine, Engine) or engine.dialect.name != "sqlite":  # (a factory bound to a connection: as is)
        with session_factory() as session:
            yield session
        return
    with engine.connect() as connection:
        _switch_foreign_keys(connection, False)
        try:
            with session_factory(bind=connection) as session:
                yield session
        finally:
            if not _switch_foreign_keys(connection, True):
                connection.invalidate()


def _switch_foreign_keys(connection: Any, on: bool) -> bool:
    """Switch SQLite's foreign-key checks on this connection; whether they are now as asked (a switch inside an
    open transaction is silently ignored)."""
    try:
        connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
        state = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
        connection.commit()  # ends the block SQLAlchemy began, so the session below begins and commits its own
    except SQLAlchemyError:
        return False
    return bool(state) == on


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def create_schema(engine: Engine) -> None:
    """Bring the database to the latest schema revision (creating it when new). Safe to call every start."""
    if _stored_revision(engine) == SCHEMA_HEAD:
        return
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = _alembic_config(engine)
    head = ScriptDirectory.from_config(cfg).get_current_head()

    def current_revision() -> str | None:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    try:
        # Processes starting together on a new database (a crawl child and the feed server) would race to
        # create it; one lock, taken before the first look, makes the second find the first's schema instead of
        # colliding with it (or with its journal-mode switch on a brand-new SQLite file).
        with _migration_lock(engine):
            if current_revision() != head:
                command.upgrade(cfg, "head")
    except SQLAlchemyError as exc:
        raise StorageError(f"Cannot open database {engine.url!r}: {exc.__class__.__name__}: {_first_line(exc)}. "
                           f"Check {database_setting()} and that the server is running.") from None


def _stored_revision(engine: Engine) -> str | None:
    """The revision Alembic recorded, read with one query; None when there is none or it cannot be read (the full
    path below then creates the schema, or reports why the database cannot be opened)."""
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return None


# Any fixed number: every feedsvc process agrees on it, so migrations of one PostgreSQL database never overlap.
_PG_MIGRATION_LOCK = 0x66656564  # "feed"


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """Hold a lock that serialises schema upgrades: a file lock beside a SQLite file, an advisory lock on PostgreSQL."""
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        try:
            lock_file = open(f"{database}.migrate-lock", "a+b")  # noqa: SIM115 - held across the yield
        except OSError:
            # A folder we cannot write to: nothing here can create or migrate the database either, so there is
            # no race to prevent; reading an existing one goes on, and a write fails with its own clear error.
            yield
            return
        with lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)
    elif engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_MIGRATION_LOCK})
                connection.commit()
    else:
        yield


def schema_revision(engine: Engine) -> tuple[str | None, str | None]:
    """(current revision, head revision) for `feedsvc db` status output."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision(), head


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else exc.__class__.__name__
