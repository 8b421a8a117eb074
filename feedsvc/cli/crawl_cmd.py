"""`feedsvc preview | crawl | export | status`: crawling from the command line. Never imports scrapy: crawls run
as child processes (feedsvc.scheduling.child), the preview as `python -m crawler.run --preview`.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from rich.console import Console

from feedsvc.cli.crawl_progress import crawl_with_board, print_summary
from feedsvc.cli.tables import Column, TextTable
from feedsvc.config import AppConfig, load_config, parse_now
from feedsvc.errors import ConfigError
from feedsvc.text import plain_text, safe_text


def register(subparsers: Any) -> None:
    from feedsvc.cli import add_config_option

    preview = subparsers.add_parser("preview", help="fetch a source live and show what each listing extracts")
    preview.add_argument("source", help="source id")
    preview.add_argument("--url", help="inspect this page (listings and article extraction) instead of the start URL")
    add_config_option(preview)
    preview.set_defaults(func=run_preview_command)

    crawl = subparsers.add_parser("crawl", help="crawl sources now (all enabled ones by default)")
    crawl.add_argument("sources", nargs="*", metavar="SOURCE", help="source ids (default: every enabled source)")
    crawl.add_argument("--now", help="crawl clock, ISO 8601 (reproducible date parsing)")
    crawl.add_argument("--timeout", type=float, default=None, help="stop a source's crawl after this many seconds")
    crawl.add_argument("--no-related", action="store_true",
                       help="skip the related-items refresh after the crawl (rebuild later: feedsvc related --rebuild)")
    crawl.add_argument("--redis", metavar="URL", default=None,
                       help="queue the sources for the crawl nodes (`feedsvc worker`) sharing this Redis and wait")
    add_config_option(crawl)
    crawl.set_defaults(func=run_crawl_command)

    export = subparsers.add_parser("export", help="write stored items as JSON lines or CSV")
    export.add_argument("--source", help="only this source's items")
    export.add_argument("--listing", help="only items seen in this listing")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    export.add_argument("--with-text", action="store_true",
                        help="add each article's text (from its fetched page; empty for items only listed)")
    add_config_option(export)
    export.set_defaults(func=run_export)

    status = subparsers.add_parser("status", help="last crawl of each source, counts, problems, next run")
    add_config_option(status)
    status.set_defaults(func=run_status)


def _config_path(args: argparse.Namespace) -> str:
    from feedsvc.config import default_config_path

    return str(args.config or default_config_path())


def run_preview_command(args: argparse.Namespace) -> int:
    cfg = load_config(_config_path(args))
    cfg.source(args.source)  # unknown source: a clear error before starting Scrapy
    cmd = [sys.executable, "-m", "crawler.run", args.source, "--config", cfg.path, "--preview"]
    if args.url:
        cmd += ["--url", args.url]
    return subprocess.call(cmd)


def run_crawl_command(args: argparse.Namespace) -> int:
    cfg = load_config(_config_path(args))
    now = parse_now(args.now)
    ids = list(dict.fromkeys(args.sources)) if args.sources else [s.id for s in cfg.sources if s.enabled]
    for source_id in ids:
        cfg.source(source_id)
    if not ids:
        raise ConfigError(f"{cfg.path}: no enabled sources to crawl. Add a [[sources]] entry (see config.example.toml).")
    from feedsvc.store.probe import probe_database

    probe_database(cfg.database.url, cfg.base_dir)  # a database that cannot work: one line and exit 2, not N crawls
    console = Console(stderr=True)
    if args.redis:
        return _crawl_on_nodes(cfg, ids, args, now, console)
    # All sources in one crawler process, `[crawl] concurrent_sources` at a time; --timeout limits each source.
    child = crawl_with_board(cfg, ids, console, now=now, related=not args.no_related,
                             source_timeout=args.timeout, timeout=_batch_timeout(cfg, len(ids), args.timeout))
    print_summary(child.outcomes, Console(), console)
    return 0 if all(o.succeeded for o in child.outcomes) else 1


def _crawl_on_nodes(cfg: AppConfig, ids: list[str], args: argparse.Namespace, now: datetime | None,
                    console: Console) -> int:
    from feedsvc.cli.crawl_progress import CrawlBoard
    from feedsvc.scheduling.queue import crawl_on_nodes

    with CrawlBoard(ids, console) as board:
        outcomes = crawl_on_nodes(cfg, args.redis, ids, now=now,
                                  timeout=_batch_timeout(cfg, len(ids), args.timeout), on_event=board.on_event)
    print_summary(outcomes, Console(), console)
    return 0 if all(o.succeeded for o in outcomes) else 1


def _batch_timeout(cfg: AppConfig, sources: int, per_source: float | None) -> float | None:
    """A whole-batch backstop when each source has a limit: one limit per wave of concurrent sources."""
    if per_source is None:
        return None
    return per_source * -(-sources // cfg.crawl.concurrent_sources) + 30.0


def _iso(value: datetime | None, zone: str = "UTC") -> str | None:
    return value.astimezone(ZoneInfo(zone)).isoformat() if value else None


def export_record(row: Any, with_text: bool = False) -> dict[str, Any]:
    record = {
        "url": row.url,
        "title": row.title,
        "published": _iso(row.published, row.timezone),
        "date_text": row.date_text,
        "source": row.source,
        "listings": [{"listing": r.listing, "kind": r.kind, "rank": r.rank} for r in row.listings],
        "first_seen": _iso(row.first_seen),
        "last_seen": _iso(row.last_seen),
        "summary": row.summary,
    }
    if with_text:
        record["text"] = plain_text(row.content) if row.content else None
    return record


EXPORT_FIELDS = ("url", "title", "published", "date_text", "source", "listings", "first_seen", "last_seen", "summary")
TEXT_FIELD = "text"  # `--with-text`: the article's text, last so the default columns keep their places


def run_export(args: argparse.Namespace) -> int:
    from feedsvc.store import Store
    from feedsvc.store.export import iter_export_rows

    cfg = load_config(_config_path(args))
    count = 0
    with ExitStack() as stack:
        store = stack.enter_context(Store.for_config(cfg))
        out: IO[str] = (stack.enter_context(open(args.output, "w", encoding="utf-8", newline=""))
                        if args.output else sys.stdout)
        session = stack.enter_context(store.session())
        write = _writer(out, args.format, (*EXPORT_FIELDS, TEXT_FIELD) if args.with_text else EXPORT_FIELDS)
        for row in iter_export_rows(session, args.source, args.listing, with_content=args.with_text):
            write(export_record(row, args.with_text))
            count += 1
    if args.output:
        Console(stderr=True).print(f"wrote {count} item(s) to {args.output}")
    return 0


def _writer(out: IO[str], fmt: str, fields: tuple[str, ...]) -> Any:
    if fmt == "jsonl":
        return lambda record: out.write(json.dumps(record, ensure_ascii=False) + "\n")
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()

    def write(record: dict[str, Any]) -> None:
        row = {**record, "listings": json.dumps(record["listings"], ensure_ascii=False)}
        writer.writerow({key: _csv_cell(value) if isinstance(value, str) else value for key, value in row.items()})

    return write


def run_status(args: argparse.Namespace) -> int:
    from feedsvc.store import Store
    from feedsvc.store.health import DIED, health
    from feedsvc.store.probe import database_exists
    from feedsvc.store.websub import hub_summaries
    from feedsvc.websub.announce import status_lines

    cfg = load_config(_config_path(args))
    console = Console()
    for note in cfg.jitter_notes():
        console.print(f"[yellow]note[/yellow] {safe_text(note)}")
    if not database_exists(cfg.database.url, cfg.base_dir):  # looking must not create an empty database
        console.print(f"No database yet ({safe_text(cfg.database.url)}): nothing has been crawled. "
                      "Run `feedsvc crawl` first.")
        return 0
    configured = {s.id for s in cfg.sources}
    with Store.for_config(cfg) as store, store.session() as session:
        verdicts = health(session, datetime.now(UTC))  # the verdicts the front page shows
        websub = status_lines(hub_summaries(session))
    table = TextTable("Sources", ["source", "last run", "result"] + [
        Column(c, justify="right") for c in ("pages", "items", "new", "errors", "stored")] + ["next run"])
    notes: list[str] = []
    for h in verdicts.values():
        if h.source_id not in configured and h.item_count == 0:
            continue
        run = h.last_run
        name = h.source_id + ("" if h.source_id in configured else " (removed)")
        cells = ["-", h.state, "-", "-", "-"]
        if run is not None:
            cells = [_when(run.started_at), h.state, str(run.pages), str(run.items_seen), str(run.items_new)]
        table.add_row(name, *cells, str(run.errors) if run else "-", str(h.item_count), _when(h.next_run_at))
        if h.state == DIED:
            notes.append(f"[red]{h.source_id}[/red] {h.summary}")
        if h.last_error:
            notes.append(f"[red]{h.source_id}[/red] last error: {safe_text(h.last_error)}")
        for listing in h.broken_listings:
            notes.append(f"[yellow]warning[/yellow] {h.source_id}: listing '{listing}' yielded items before but none "
                         f"in the last run; its selector probably broke (try `feedsvc preview {h.source_id}`)")
    table.print(console)
    for note in notes:
        console.print(note)
    for line in websub:  # hub errors are remote text: no markup, no escape sequences
        console.print(safe_text(line), highlight=False)
    return 0


# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: str) -> str:
    """A CSV cell a spreadsheet shows as text: site text starting like a formula gets a `'` in front."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ") if value else "-"
