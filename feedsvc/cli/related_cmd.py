"""`feedsvc related --rebuild` and `feedsvc related URL_OR_ID [--json] [--limit N]`."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session

from feedsvc.config import load_config
from feedsvc.errors import BadRequest, FeedNotFound
from feedsvc.feeds.spec import MAX_ITEM_ID
from feedsvc.models import Item
from feedsvc.store import Store
from feedsvc.store.items import get_item, get_item_by_url
from feedsvc.text import safe_text, whole_number

PHASES = {"read": "reading items", "index": "indexing", "score": "scoring", "finish": "near-duplicates",
          "write": "storing links"}


def register(subparsers: Any) -> None:
    from feedsvc.cli import add_config_option

    parser = subparsers.add_parser(
        "related", help="show an item's related items, or rebuild every item's related list (--rebuild)")
    parser.add_argument("item", nargs="?", metavar="URL_OR_ID", help="an item's canonical URL or numeric id")
    parser.add_argument("--rebuild", action="store_true", help="recompute related items and near-duplicates")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--limit", type=int, default=None, help="how many related items (default [related] limit)")
    add_config_option(parser)
    parser.set_defaults(func=run_related)


def run_related(args: argparse.Namespace) -> int:
    if bool(args.rebuild) == bool(args.item):
        raise BadRequest("Give either an item (URL or id), e.g. `feedsvc related 42`, or --rebuild.")
    cfg = load_config(args.config)
    with Store.for_config(cfg) as store:
        if args.rebuild:
            return _rebuild(store.session_factory, cfg)
        with store.session() as session:
            return _show(session, args.item, args.limit or cfg.related.limit, args.json)


def _rebuild(session_factory: Any, cfg: Any) -> int:
    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        tasks: dict[str, Any] = {}

        def report(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                for task in tasks.values():  # a new phase means the earlier ones are done
                    progress.update(task, completed=progress.tasks[task].total or 1, total=progress.tasks[task].total or 1)
                tasks[phase] = progress.add_task(PHASES.get(phase, phase), total=total or None)
            progress.update(tasks[phase], completed=done, total=total or None)

        # Imported here: the engine pulls in numpy/scipy, which every other command can do without.
        from feedsvc.related.refresh import rebuild_related

        # Its writes bump the data version: cached feeds (entries end with "Related" links) go stale.
        stats = rebuild_related(session_factory, cfg, datetime.now(UTC), progress=report)
    print(f"related: {stats.items} items, {stats.linked} with related items, {stats.links} links, "
          f"{stats.duplicates} near-duplicates marked")
    from feedsvc.websub.announce import announce_feeds

    announce_feeds(cfg)  # WebSub: feeds whose related lists changed are announced to the hubs
    return 0


def _find(session: Session, key: str) -> Item:
    item_id = whole_number(key, MAX_ITEM_ID)
    item = get_item(session, item_id) if item_id is not None else get_item_by_url(session, key)
    if item is None:
        what = f"id {key}" if item_id is not None else f"URL {key[:200]}"
        raise FeedNotFound(f"No item with {what}. Use a stored item's id or its canonical URL "
                           "(`feedsvc export` lists them).")
    return item


def _show(session: Session, key: str, limit: int, as_json: bool) -> int:
    item = _find(session, key)
    from feedsvc.store.related import related_items

    found = related_items(session, item.id, limit)
    original = session.get(Item, item.duplicate_of) if item.duplicate_of is not None else None
    if as_json:
        print(json.dumps({
            "item": {"id": item.id, "url": item.url, "title": item.title,
                     "duplicate_of": original.url if original is not None else None},
            "related": [{"id": r.id, "url": r.url, "title": r.title, "score": round(score, 4)}
                        for r, score in found],
        }, ensure_ascii=False, indent=2))
        return 0
    console = Console()
    t = safe_text  # titles and URLs come from sites
    console.print(f"[bold]{t(item.title)}[/bold]  {t(item.url)}  (id {item.id})")
    if original is not None:
        console.print(f"near-duplicate of {t(original.url)} (id {original.id}); showing its related items")
    if not found:
        console.print("no related items yet (they are computed after each crawl, or run `feedsvc related --rebuild`)")
        return 0
    table = Table()
    for column in ("score", "id", "title"):
        table.add_column(column)
    table.add_column("url", overflow="fold")  # a URL is copied from here: never cut it short
    for related, score in found:
        table.add_row(f"{score:.3f}", str(related.id), t(related.title), t(related.url))
    console.print(table)
    return 0
