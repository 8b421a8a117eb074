"""The one rule for feed keywords (`q`, `exclude`): a word matches an item when it is a substring of the item's
title or summary after case folding both, done by the database for every feed kind.

Case folding is Unicode-aware on both backends: PostgreSQL's `lower()` (the database's ctype; C.UTF-8 and
ICU locales fold Greek, Cyrillic and the rest), and on SQLite a `feedsvc_fold()` function registered on each
connection (Python's `str.casefold`), because SQLite's own `lower()`/`LIKE` only fold ASCII. Scripts
without case (CJK) match as plain substrings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, func, literal, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction

from feedsvc.models import Item

SQLITE_FOLD = "feedsvc_fold"


class fold(GenericFunction[str]):  # noqa: N801 - SQL function names are lower case
    """Case-fold a text expression in the database."""

    type = String()
    inherit_cache = True


@compiles(fold)
def _fold_default(element: fold, compiler: Any, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(fold, "sqlite")
def _fold_sqlite(element: fold, compiler: Any, **kw: Any) -> str:
    return f"{SQLITE_FOLD}({compiler.process(element.clauses, **kw)})"


def _casefold(value: str | None) -> str | None:
    return None if value is None else value.casefold()


def register_sqlite_functions(dbapi_connection: Any, _record: Any) -> None:
    """Connect hook for SQLite engines: makes `feedsvc_fold` available to every statement."""
    dbapi_connection.create_function(SQLITE_FOLD, 1, _casefold, deterministic=True)


def _like_pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def matches_any(words: Sequence[str]) -> ColumnElement[bool]:
    """Title or summary contains any of `words`, case-folded on both sides by the same database function."""
    title = fold(Item.title)
    summary = fold(func.coalesce(Item.summary, ""))
    conditions = []
    for word in words:
        pattern = fold(literal(_like_pattern(word), String()))
        conditions.append(or_(title.like(pattern, escape="\\"), summary.like(pattern, escape="\\")))
    return or_(*conditions)
