"""Every SQL statement in the project lives in this package, one module per table or concern.

One way in:
- `from feedsvc.store import Store`: the one storage object (engine and sessions, store/facade.py) an entry
  point opens and passes down. It is the only name this package itself exports.
- Everything else is imported by name from the module that defines it, never through an alias:
  `from feedsvc.store.items import store_items`, `from feedsvc.store.runs import start_run`. Engine, schema and
  Alembic pieces live in `feedsvc.store.db` (`make_engine`, `create_schema`, `schema_revision`).
- `store/_base.py` holds the helpers the store modules share (StorageError wrapping, chunking); nothing
  outside this package imports it.
tests/test_architecture.py enforces this.

Functions are verb_noun, take the session first, never commit (the caller owns the transaction), take
time as an argument (`at`), and raise StorageError instead of SQLAlchemy errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from feedsvc.store.facade import Store

__all__ = ["Store"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so that importing one light store module (feedsvc.store.probe for a SQLite file)
    # does not load SQLAlchemy and every table: the `feedsvc crawl` parent needs neither until its crawl ends.
    if name == "Store":
        from feedsvc.store.facade import Store

        return Store
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
