"""Shared pieces of the store modules (private to feedsvc/store/): dialect-neutral upserts and error wrapping."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from feedsvc.errors import StorageError

P = ParamSpec("P")
R = TypeVar("R")

# SQLite caps bound parameters per statement (32766 on modern builds, 999 on old ones); stay well below.
MAX_PARAMS_PER_STATEMENT = 900


def insert_for(session: Session, table: Any) -> Any:
    """An INSERT that supports on_conflict_* on both SQLite and PostgreSQL."""
    # Each dialect is imported when its database is used: PostgreSQL's costs a SQLite crawl ~4 MiB and 40 ms.
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    if name == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table)
    raise StorageError(f"Unsupported database backend {name!r}: use SQLite or PostgreSQL.")


def chunks(values: list[Any], size: int) -> list[list[Any]]:
    return [values[i : i + size] for i in range(0, len(values), size)] or [[]]


def wrap_exceptions(func: Callable[P, R]) -> Callable[P, R]:
    """Turn SQLAlchemy errors into StorageError with a one-line message; details stay in the cause."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except sa_exc.SQLAlchemyError as exc:
            raise storage_error(exc, f"in {func.__name__}") from exc

    return wrapper


def storage_error(exc: sa_exc.SQLAlchemyError, where: str) -> StorageError:
    """A one-line StorageError for `exc` ("Database error in store_items: database or disk is full")."""
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = detail[0] if detail else exc.__class__.__name__
    return StorageError(f"Database error {where}: {first}")
