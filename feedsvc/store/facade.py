"""`Store`: the one storage object an entry point opens. It owns the engine and hands out sessions, so no caller
opens engines or builds session factories itself; queries stay module functions of this package (verb_noun,
session first)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from feedsvc.store.db import create_schema, make_engine, make_session_factory, write_transaction

if TYPE_CHECKING:
    from feedsvc.config import AppConfig


class Store:
    """An open database: `with store.transaction() as session: ...` for writes, `store.session()` for reads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.session_factory: sessionmaker[Session] = make_session_factory(engine)

    @classmethod
    def open(cls, url: str, base_dir: Path | None = None, *, migrate: bool = True) -> Store:
        """Open `url` (relative SQLite paths against `base_dir`); with `migrate`, bring the schema to head first.
        Raises StorageError with one actionable line when the database cannot be opened."""
        engine = make_engine(url, base_dir)
        if migrate:
            try:
                create_schema(engine)
            except BaseException:
                engine.dispose()
                raise
        return cls(engine)

    @classmethod
    def for_config(cls, cfg: AppConfig, *, migrate: bool = True) -> Store:
        return cls.open(cfg.database.url, cfg.base_dir, migrate=migrate)

    def session(self) -> Session:
        """A new session; use it as a context manager. The caller owns the transaction."""
        return self.session_factory()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed when the block ends, rolled back if it raises."""
        with write_transaction(self.session_factory) as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
