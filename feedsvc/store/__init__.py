"""Every SQL statement in the project lives in this package, one module per table or concern.

Functions are verb_noun, take the session first, never commit (the caller owns the transaction), take
time as an argument (`at`), and raise StorageError instead of SQLAlchemy errors. Entry points open one
`Store` (engine and sessions) and pass it down.
"""

from feedsvc.store.facade import Store
from feedsvc.store.items import (
    count_items,
    get_item,
    get_item_by_url,
    item_ids_by_url,
    listing_memory,
    store_items,
)
from feedsvc.store.listing_pages import known_listing_pages, record_listing_pages
from feedsvc.store.meta import bump_data_version, data_version, get_meta, set_meta
from feedsvc.store.runs import (
    SourceHealth,
    finish_run,
    get_run,
    last_run_id,
    recent_runs,
    record_crawl_error,
    run_errors,
    runs_after,
    source_health,
    start_run,
    update_run_progress,
)
from feedsvc.store.sources import ensure_source, get_source, list_sources, set_next_run, sync_sources

__all__ = [
    "Store",
    "SourceHealth",
    "bump_data_version",
    "count_items",
    "data_version",
    "ensure_source",
    "finish_run",
    "get_item",
    "get_item_by_url",
    "get_meta",
    "get_run",
    "get_source",
    "item_ids_by_url",
    "known_listing_pages",
    "list_sources",
    "listing_memory",
    "last_run_id",
    "recent_runs",
    "runs_after",
    "record_listing_pages",
    "record_crawl_error",
    "run_errors",
    "set_meta",
    "set_next_run",
    "source_health",
    "start_run",
    "store_items",
    "sync_sources",
    "update_run_progress",
]
