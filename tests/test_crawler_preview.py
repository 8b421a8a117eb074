"""crawler/preview.py: `feedsvc preview` / `python -m crawler.run SOURCE --preview` against the fixture server,
as real child processes. What each listing extracts and how an article reads is printed; nothing is written
(no database, no HTTP cache); a missing block, a page robots.txt forbids and hostile site text are shown
plainly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.support.crawls import gw_source, run_crawler, run_feedsvc, simple_source, write_config
from tests.support.site_server import DATA, Page, SiteServer

HTML = "text/html; charset=utf-8"


def test_preview_prints_extraction_and_writes_nothing(site_server: SiteServer, tmp_path: Path) -> None:
    db_file = tmp_path / "f.db"
    config = write_config(tmp_path, f"sqlite:///{db_file}", [gw_source(site_server.base_url)])
    result = run_feedsvc("preview", "gwsite", "--config", str(config))
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "recommended (recommended, listing page): 8 entries" in out
    # The script-filled ranking, said as it is (not a guess): the block is there, with no links, and scripts.
    assert "ranking (ranking, listing page): 0 entries - block found, no entries: the block is there but holds no " \
        "links (the page has scripts: it may be filled by one)" in out
    assert "2022年个人政治素质自评材料" in out and "2025-02-06" in out
    assert "article:" in out and "preview only: nothing was written" in out
    assert not db_file.exists() and not (tmp_path / "httpcache").exists()
    assert not [r for r in site_server.requests() if r.path.startswith("/private/")]

    article = run_feedsvc("preview", "gwsite", "--config", str(config), "--url", site_server.url("a/1012.html"))
    assert article.returncode == 0, article.stderr
    text = " ".join(article.stdout.split())
    assert "related (related, article page): 10 entries" in text and "2024-06-04 16:20" in text
    assert not db_file.exists()


def test_missing_block_and_forbidden_page_are_named(make_site_server: Callable[..., SiteServer],
                                                    tmp_path: Path) -> None:
    site = make_site_server(DATA / "site")
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}",
                          [simple_source("gone", site.base_url + "/", heading="No such heading")])
    result = run_crawler(config, "gone", "--preview")
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "latest (latest, listing page): 0 entries - block not found: check heading/block" in out

    site.pages["/robots.txt"] = Page(b"User-agent: *\nDisallow: /\n", "text/plain")
    site.clear_log()
    forbidden = run_crawler(config, "gone", "--preview")
    out = " ".join(forbidden.stdout.split())
    assert forbidden.returncode == 1  # nothing fetched
    assert f"robots.txt forbids {site.base_url}/" in out and f"nothing fetched from {site.base_url}/" in out
    assert [r.path for r in site.requests()] == ["/robots.txt"]
    assert not (tmp_path / "f.db").exists()


def test_site_text_is_shown_as_text_not_markup_or_escapes(make_site_server: Callable[..., SiteServer],
                                                          tmp_path: Path) -> None:
    site = make_site_server(DATA / "site")
    evil = "[bold red]pwned[/bold red] \x1b[2J\x1b]0;title\x07 end"
    entries = "".join(f'<li><a href="/e/{n}.html">{evil} {n}</a> 2026-01-0{n}</li>' for n in (1, 2, 3))
    site.pages["/"] = Page(f"<html><body><h2>Latest posts</h2><ul>{entries}</ul></body></html>".encode(), HTML)
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", [simple_source("evil", site.base_url + "/")])
    result = run_crawler(config, "evil", "--preview")
    assert result.returncode == 0, result.stderr
    assert "[bold red]pwned[/bold red]" in result.stdout  # printed literally, not interpreted by Rich
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
