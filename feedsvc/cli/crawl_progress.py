"""Crawl progress on the terminal: a compact live board of every source in a crawl, and the summary after it.

Used by `feedsvc crawl` and `feedsvc demo`. Fed with the crawler's progress events (feedsvc.scheduling.child);
a thousand sources stay one screen: a totals line, then the sources crawling now (and any that failed).
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from feedsvc.after_crawl import AfterCrawl
from feedsvc.cli.tables import Column, TextTable
from feedsvc.config import AppConfig
from feedsvc.scheduling.child import ChildOutcome, CrawlOutcome, run_child, run_shared
from feedsvc.status import RunStatus
from feedsvc.text import safe_text

COLOURS: dict[str, str] = {RunStatus.OK: "green", RunStatus.PARTIAL: "yellow", RunStatus.RUNNING: "cyan",
                           "queued": "dim"}
# Full summary tables up to this many sources; beyond, totals plus the sources that did not succeed.
FULL_SUMMARY_LIMIT = 50


@dataclass
class _Row:
    state: str = "queued"
    pages: int = 0
    cached: int = 0
    seen: int = 0
    new: int = 0
    errors: int = 0
    started: float | None = None
    finished: float | None = None


class CrawlBoard:
    """A live table of a crawl's sources; `on_event` takes the crawl child's events (from any thread).

    Totals and the sources worth a row (crawling now, or finished without success) are kept as events arrive:
    rich redraws four times a second, and a redraw that walked every source cost a 10,000-source crawl's
    parent more CPU than anything else it did.
    """

    def __init__(self, source_ids: Sequence[str], console: Console) -> None:
        self.rows = {source_id: _Row() for source_id in source_ids}
        self.console = console
        self.started = time.monotonic()
        self._tally: Counter[str] = Counter({"queued": len(self.rows)} if self.rows else {})
        self._pages = 0
        self._items = 0
        self._running: dict[str, None] = {}  # insertion-ordered sets
        self._troubled: dict[str, None] = {}
        self._live = Live(console=console, auto_refresh=True, refresh_per_second=4, transient=False,
                          get_renderable=self.render)

    def __enter__(self) -> CrawlBoard:
        self._live.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._live.__exit__(exc_type, exc, tb)

    def on_event(self, event: dict[str, Any]) -> None:
        source_id = str(event.get("source", ""))
        row = self.rows.get(source_id)
        if row is None:
            return
        kind = event.get("event")
        if kind == "crawling":
            row.started = time.monotonic()
            self._set_state(source_id, row, RunStatus.RUNNING)
        elif kind == "page":
            row.pages += 1
            self._pages += 1
            row.cached += int(bool(event.get("cached")))
        elif kind == "items":
            self._set_counts(row, int(event.get("seen", 0)), int(event.get("new", 0)), row.pages)
        elif kind == "error":
            row.errors += 1
        elif kind == "busy":
            row.finished = time.monotonic()
            self._set_state(source_id, row, RunStatus.BUSY)
        elif kind == "done":
            counts = event.get("counts") or {}
            self._set_counts(row, int(counts.get("items_seen", 0)), int(counts.get("items_new", 0)),
                             int(counts.get("pages", row.pages)))
            row.finished = time.monotonic()
            self._set_state(source_id, row, str(event.get("status", RunStatus.FAILED)))

    def _set_counts(self, row: _Row, seen: int, new: int, pages: int) -> None:
        self._items += seen - row.seen
        self._pages += pages - row.pages
        row.seen, row.new, row.pages = seen, new, pages

    def _set_state(self, source_id: str, row: _Row, state: str) -> None:
        self._tally[row.state] -= 1
        if not self._tally[row.state]:
            del self._tally[row.state]
        self._tally[state] += 1
        row.state = state
        self._running.pop(source_id, None)
        self._troubled.pop(source_id, None)
        if state == RunStatus.RUNNING:
            self._running[source_id] = None
        elif row.finished is not None and not _succeeded(state):
            self._troubled[source_id] = None

    def render(self) -> Group:
        head = Text.assemble(
            (f"{len(self.rows)} source(s) ", "bold"),
            " · ".join(f"{n} {state}" for state, n in sorted(self._tally.items())),
            f" · {self._pages} pages · {self._items} items · {time.monotonic() - self.started:.0f}s",
        )
        room = max(3, self.console.size.height - 6)
        if len(self.rows) <= room:  # everything fits: show every source, queued and finished too
            worth_a_row = list(self.rows)
        else:
            worth_a_row = list(itertools.islice(itertools.chain(self._running, self._troubled), room + 1))
        hidden = len(self._running) + len(self._troubled) - room if len(self.rows) > room else 0
        table = Table(box=None, padding=(0, 1), show_edge=False, header_style="dim")
        for column in ("source", "state", "pages", "items", "new", "errors", "time"):
            table.add_column(column, justify="left" if column in ("source", "state") else "right")
        now = time.monotonic()
        for source_id in worth_a_row[:room]:
            row = self.rows[source_id]
            colour = COLOURS.get(row.state, "red")
            took = "" if row.started is None else f"{(row.finished or now) - row.started:.0f}s"
            table.add_row(safe_text(source_id), f"[{colour}]{row.state}[/{colour}]", str(row.pages), str(row.seen),
                          str(row.new), str(row.errors), took)
        if hidden > 0:
            table.add_row(f"… {hidden} more", "", "", "", "", "", "")
        return Group(head, table)


def _succeeded(state: str) -> bool:
    return state in set(RunStatus) and RunStatus(state).succeeded


def crawl_with_board(cfg: AppConfig, source_ids: Sequence[str], console: Console, *, related: bool = True,
                     children: int | None = None, **options: Any) -> ChildOutcome:
    """run_child (options: now, timeout, source_timeout…) with the live board on `console`, then one after-crawl
    step for every run it finished (`related=False`: no related refresh). The sources are split between
    `children` crawl children (default: feedsvc.scheduling.child.crawl_children) by host, so sources sharing a
    host crawl in one child."""
    ids = list(dict.fromkeys(source_ids))
    with CrawlBoard(ids, console) as board:
        child = run_shared(cfg, ids, lambda share: run_child(cfg.path, share, on_event=board.on_event, **options),
                           children)
    after = AfterCrawl(cfg, related=related)
    after.add(child.finished)
    after.close()
    return child


def summary_table(outcomes: Sequence[CrawlOutcome]) -> TextTable:
    """One row per source: pages, not modified, items, new, errors, status (readable at 80 columns and piped)."""
    table = TextTable("Crawl summary", ["source"] + [
        Column(c, justify="right") for c in ("pages", "not modified", "items", "new", "errors")] + ["status"])
    for o in outcomes:
        c = o.counts
        colour = "green" if o.status == RunStatus.OK else "yellow" if o.status == RunStatus.PARTIAL else "red"
        cells = [str(v) for v in (c.pages, c.not_modified, c.items_seen, c.items_new, c.errors)] if c else ["-"] * 5
        table.add_row(o.source_id, *cells, Text(str(o.status), style=colour))
    return table


def print_summary(outcomes: Sequence[CrawlOutcome], out: Console, err: Console) -> None:
    """The summary table on `out` (totals only for a big crawl), then one line per source that did not
    succeed on `err`."""
    if len(outcomes) <= FULL_SUMMARY_LIMIT:
        summary_table(outcomes).print(out)
    else:
        by_status: dict[str, int] = {}
        for o in outcomes:
            by_status[o.status] = by_status.get(o.status, 0) + 1
        items = sum(o.counts.items_seen for o in outcomes if o.counts)
        new = sum(o.counts.items_new for o in outcomes if o.counts)
        out.print(f"Crawl summary: {len(outcomes)} sources, "
                  + ", ".join(f"{n} {s}" for s, n in sorted(by_status.items()))
                  + f"; {items} items ({new} new). `feedsvc status` lists every source.", highlight=False)
    for o in outcomes:
        if not o.succeeded:
            err.print(f"[red]{safe_text(o.source_id)}: {o.status}[/red] {safe_text(o.message)}", highlight=False)
