"""feedsvc/cli/crawl_progress.py: the live board follows the crawler's events; big crawls stay one screen."""

from __future__ import annotations

import io
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from sqlalchemy import select

from feedsvc.cli.crawl_progress import CrawlBoard, crawl_with_board, print_summary
from feedsvc.config import load_config
from feedsvc.models import CrawlRun
from feedsvc.scheduling.child import CrawlOutcome, crawl_children
from feedsvc.store import Store
from feedsvc.store.runs import RunCounts
from tests.support.crawls import gw_source, write_config
from tests.support.site_server import SiteServer


def _text(renderable: object, height: int = 40) -> str:
    out = io.StringIO()
    Console(file=out, width=100, height=height, color_system=None).print(renderable)
    return out.getvalue()


def test_board_follows_events_and_shows_only_active_and_failed_sources_when_many() -> None:
    ids = [f"s{i}" for i in range(200)]
    board = CrawlBoard(ids, Console(file=io.StringIO(), width=100, height=20))
    for i in range(5):
        board.on_event({"event": "crawling", "source": f"s{i}"})
    board.on_event({"event": "page", "source": "s0", "url": "http://x/", "cached": True})
    board.on_event({"event": "items", "source": "s0", "seen": 7, "new": 3})
    board.on_event({"event": "done", "source": "s1", "status": "failed", "counts": {"pages": 0}})
    board.on_event({"event": "done", "source": "s2", "status": "ok", "counts": {"pages": 15, "items_seen": 14}})
    board.on_event({"event": "page", "source": "unknown", "url": "http://y/"})  # not ours: ignored
    text = _text(board.render())
    assert "200 source(s)" in text and "195 queued" in text and "3 running" in text and "1 failed" in text
    rows = {line.split()[0]: line.split() for line in text.splitlines() if line.split() and line.split()[0].startswith("s") and line.split()[0][1:].isdigit()}
    assert set(rows) == {"s0", "s1", "s3", "s4"}  # crawling now, or failed; finished ok and queued are counted
    assert rows["s0"][1:5] == ["running", "1", "7", "3"]


def test_board_totals_kept_as_events_arrive_match_its_rows() -> None:
    """The board keeps its totals and rows-worth-showing as events come (a redraw must not walk 10,000 sources);
    after any mix of events they agree with the rows themselves."""
    rng = random.Random(7)
    ids = [f"s{i}" for i in range(10_000)]
    board = CrawlBoard(ids, Console(file=io.StringIO(), width=100, height=30))
    for _ in range(30_000):
        source = rng.choice(ids[:400])
        kind = rng.choice(["crawling", "page", "page", "items", "error", "done", "busy"])
        event: dict[str, object] = {"event": kind, "source": source, "cached": rng.random() < 0.5,
                                    "seen": rng.randrange(20), "new": rng.randrange(5)}
        if kind == "done":
            event |= {"status": rng.choice(["ok", "partial", "failed", "aborted"]),
                      "counts": {"pages": rng.randrange(30), "items_seen": rng.randrange(40)}}
        board.on_event(event)
    rows = board.rows.values()
    head = " ".join(_text(board.render(), height=30).split())  # the totals line wraps at 100 columns
    tally = Counter(r.state for r in rows)
    assert head.startswith(f"10000 source(s) {' · '.join(f'{n} {state}' for state, n in sorted(tally.items()))}")
    assert f" · {sum(r.pages for r in rows)} pages · {sum(r.seen for r in rows)} items" in head
    worth = [sid for sid, r in board.rows.items()
             if r.state == "running" or (r.finished is not None and r.state not in ("ok", "partial", "running"))]
    text = _text(board.render(), height=30)
    assert f"… {len(worth) - 24} more" in text  # 30 lines of console: 24 rows, the rest counted


def test_small_crawls_show_every_source_and_the_full_summary() -> None:
    board = CrawlBoard(["a", "b"], Console(file=io.StringIO(), width=100, height=20))
    board.on_event({"event": "done", "source": "a", "status": "ok", "counts": {"pages": 3, "items_seen": 2}})
    text = _text(board.render())
    assert "queued" in text and "ok" in text
    out, err = io.StringIO(), io.StringIO()
    outcomes = [CrawlOutcome("a", 0, "ok", 1, RunCounts(pages=3, items_seen=2), "fine"),
                CrawlOutcome("b", 1, "failed", 2, RunCounts(), "nothing could be fetched [x]")]
    print_summary(outcomes, Console(file=out, width=120), Console(file=err, width=120))
    lines = out.getvalue().splitlines()  # piped: plain aligned text, one line per source
    assert lines[0] == "Crawl summary" and lines[2].split() == ["a", "3", "0", "2", "0", "0", "ok"]
    boxed = io.StringIO()
    print_summary(outcomes, Console(file=boxed, width=120, force_terminal=True), Console(file=io.StringIO()))
    assert "│ a " in boxed.getvalue()  # a wide terminal gets the boxed table
    assert "b: failed nothing could be fetched [x]" in err.getvalue()  # site text printed as text, not markup


def test_big_crawls_get_totals_not_a_thousand_rows() -> None:
    outcomes = [CrawlOutcome(f"s{i}", 0, "ok", i, RunCounts(items_seen=14, items_new=14), "") for i in range(60)]
    out = io.StringIO()
    print_summary(outcomes, Console(file=out, width=120), Console(file=io.StringIO()))
    assert out.getvalue().strip() == ("Crawl summary: 60 sources, 60 ok; 840 items (840 new). "
                                      "`feedsvc status` lists every source.")


def test_a_big_crawl_is_split_between_two_children_by_host(
    make_site_server: Callable[..., SiteServer], tmp_path: Path
) -> None:
    site, other = make_site_server(), make_site_server()
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", [
        gw_source(site.base_url, "one"), gw_source(other.base_url, "apart"), gw_source(site.base_url, "two"),
    ], crawl_extra="concurrent_sources = 2")
    cfg = load_config(config)
    assert crawl_children(cfg, ["one", "apart"]) == 1  # one child holds them all at once
    child = crawl_with_board(cfg, ["one", "apart", "two"], Console(file=io.StringIO()), related=False,
                             children=2, now=None, timeout=120)
    assert [(o.source_id, o.status) for o in child.outcomes] == [("one", "ok"), ("apart", "ok"), ("two", "ok")]
    assert len(child.finished) == 3
    with Store.for_config(cfg) as store, store.session() as session:
        pids = {run.source_id: run.pid for run in session.scalars(select(CrawlRun))}
    assert pids["one"] == pids["two"] != pids["apart"]  # a host's sources share a child
