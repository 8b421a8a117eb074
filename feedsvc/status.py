"""What a crawl run reports: its status, the kinds of page errors it records and its counts. Plain values with no
SQLAlchemy, so a process that only launches crawls and reads their progress (the `feedsvc crawl` parent, the
scheduler's launcher) imports them without the database code; feedsvc/models.py stores them in its columns."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class RunStatus(StrEnum):
    """The one crawl status: what a run row holds (crawl_runs.status, sources.last_status: running | ok | partial |
    failed | aborted) and, for a crawl that left no verdict of its own, how it ended as its launcher (scheduler,
    CLI, crawl nodes) saw it. `succeeded` is the one success test."""

    RUNNING = "running"
    OK = "ok"  # every page fetched and every listing found
    PARTIAL = "partial"  # items stored, but some pages or listings failed
    FAILED = "failed"  # nothing usable came back
    ABORTED = "aborted"  # stopped (shutdown, lost lease) or died; its run is closed and the next run completes it
    # Only launchers say these: the crawl gave no verdict of its own.
    CONFIG = "config"  # the config is broken: retrying cannot help
    BUSY = "busy"  # another process holds the source's lease
    TIMEOUT = "timeout"
    CRASHED = "crashed"
    SKIPPED = "skipped"  # the source left the config before its turn came
    CANCELLED = "cancelled"  # the scheduler was shutting down before it began; retried after a restart
    ERROR = "error"  # the job itself raised (database down, a bug)

    @property
    def succeeded(self) -> bool:
        return self in (RunStatus.OK, RunStatus.PARTIAL)


class ErrorKind(StrEnum):
    """What went wrong with one page of a crawl (crawl_errors.kind): the crawler records these, the store, the
    front page and `feedsvc status` read them. HEALED and ROBOTS are warnings, not errors of the run."""

    DNS = "dns"
    CONNECTION = "connection"
    TIMEOUT = "timeout"
    HTTP = "http"
    REDIRECT = "redirect"
    FETCH = "fetch"  # any other failed request
    CONTENT = "content"  # not an HTML page
    SELECTOR = "selector"  # a listing's block was not found
    EMPTY = "empty"  # a listing's block was found but gave no entries all crawl (the message says why)
    LIMIT = "limit"  # a listing had more entries than max_items_per_listing
    PARSE = "parse"  # extraction raised
    PIPELINE = "pipeline"  # an item could not be processed or stored
    ROBOTS = "robots"  # robots.txt forbade pages (a warning)
    OFFSITE = "offsite"  # a link outside the source's hosts (counted, not recorded)
    HEALED = "healed"  # a listing's block was found again by what it held (a warning)


@dataclass(frozen=True, slots=True)
class RunCounts:
    pages: int = 0
    not_modified: int = 0
    items_seen: int = 0
    items_new: int = 0
    errors: int = 0
    listing_counts: dict[str, int] = field(default_factory=dict)
