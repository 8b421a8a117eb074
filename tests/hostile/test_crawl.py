"""A hostile site (tests/data/hostile) crawled for real: nothing off the source's hosts is fetched, bad links and
pages spoil nothing, limits hold, and every skip is named on the run. "Another host" is a second server on
127.0.0.2; no test ever reaches an address outside 127.0.0.0/8. The fence's policy itself: tests/test_crawler_offsite.py."""

from __future__ import annotations

import gzip
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.crawls import done_event, run_crawler, simple_source, write_config
from tests.support.site_server import DATA, Page, SiteServer

HOSTILE = DATA / "hostile"
HTML = "text/html; charset=utf-8"


@pytest.fixture
def other_host() -> Iterator[SiteServer]:
    """A second site on 127.0.0.2 (another host): it must never see a request."""
    try:
        server = SiteServer(DATA / "site2", host="127.0.0.2").start()
    except OSError as exc:  # pragma: no cover - every Linux binds all of 127.0.0.0/8
        pytest.fail(f"cannot bind 127.0.0.2 for the 'another host' server: {exc}")
    yield server
    server.stop()


@pytest.fixture
def hostile(make_site_server: Callable[..., SiteServer], other_host: SiteServer) -> SiteServer:
    site = make_site_server(HOSTILE)

    def template(name: str) -> bytes:
        text = (HOSTILE / name).read_text(encoding="utf-8")
        return text.replace("{{OTHER}}", other_host.base_url).replace("{{SELF}}", site.base_url).encode()

    site.pages["/"] = Page(template("index.html"), HTML)
    site.pages["/posts/meta-out.html"] = Page(template("posts/meta-out.html"), HTML)
    site.pages["/redirect-out"] = Page(b"", HTML, 302, {"Location": other_host.url("/posts/hello.html")})
    return site


def _items(tmp_path: Path) -> dict[str, tuple[str | None, str | None]]:
    with sqlite3.connect(tmp_path / "f.db") as db:
        return {url: (title, summary) for url, title, summary in db.execute("select url, title, summary from items")}


def _crawl(tmp_path: Path, source: str, crawl_extra: str = "") -> tuple[dict[str, object], str]:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", [source], crawl_extra=crawl_extra)
    result = run_crawler(config, source.split('"')[1], "--progress-json")
    assert "Traceback" not in result.stderr, result.stderr
    return done_event(result.stdout), result.stderr


def test_hostile_listing_stays_on_its_host_and_survives_bad_links(
    tmp_path: Path, hostile: SiteServer, other_host: SiteServer
) -> None:
    done, _ = _crawl(tmp_path, simple_source("hostile", hostile.base_url + "/"))
    # Nothing reached the other host: not the listed link, not the 302 target, not the meta refresh target.
    assert other_host.requests() == []
    fetched = {e.path for e in hostile.requests()}
    assert "/posts/after-bad.html" in fetched  # the entry after three malformed links was still fetched
    items = _items(tmp_path)
    assert not [u for u in items if "127.0.0.2" in u or "169.254" in u or "[::1" in u or "99999" in u]
    message = str(done["message"])
    assert "3 offsite link(s) skipped" in message  # listed link, metadata address, redirect target
    assert "3 malformed link(s) skipped" in message
    assert done["status"] == "ok"
    # A refresh to javascript: is ignored and the page kept as the article.
    title, summary = items[hostile.url("/posts/meta-js.html")]
    assert title == "Meta refresh to javascript" and summary and "javascript: URL is ignored" in summary
    # Bidi overrides and isolates are stripped; a 12,000-character title is capped.
    assert items[hostile.url("/posts/bidi.html")][0] == "Bidi evil titlex"
    long_title = items[hostile.url("/posts/long-title.html")][0] or ""
    assert 200 < len(long_title) <= 300 and long_title.endswith("…")


def test_internal_addresses_refused_even_when_allowed_by_name(tmp_path: Path, hostile: SiteServer) -> None:
    """allowed_domains may name a host, but a link-local address is still refused (the start URL is loopback,
    not link-local); a name resolving to loopback, like the start URL, is allowed and fetched."""
    listing = (f'<h2>Latest posts</h2><ul><li><a href="http://169.254.169.254/latest/meta-data/">Metadata</a></li>'
               f'<li><a href="http://localhost:{hostile.port}/posts/first.html">Via localhost</a></li></ul>')
    hostile.pages["/"] = Page(listing.encode(), HTML)
    source = simple_source("hostile", hostile.base_url + "/").replace(
        "start_urls", 'allowed_domains = ["169.254.169.254", "localhost"]\nstart_urls')
    done, _ = _crawl(tmp_path, source)
    message = str(done["message"])
    assert "1 offsite link(s) skipped" in message and "169.254.169.254 is a link-local address" in message
    assert "/posts/first.html" in {e.path for e in hostile.requests()}


def test_robots_txt_disallowing_everything_is_named(tmp_path: Path, hostile: SiteServer) -> None:
    hostile.pages["/robots.txt"] = Page(b"User-agent: *\nDisallow: /\n", "text/plain")
    done, _ = _crawl(tmp_path, simple_source("hostile", hostile.base_url + "/"))
    assert done["status"] == "failed"
    assert "robots.txt forbids it" in str(done["message"]) and hostile.url("/robots.txt") in str(done["message"])


def test_huge_robots_txt_is_ignored_in_one_line(tmp_path: Path, hostile: SiteServer) -> None:
    hostile.pages["/robots.txt"] = Page(b"User-agent: *\nDisallow: /nothing\n" + b"#" * (39 * 1024 * 1024),
                                        "text/plain")
    done, stderr = _crawl(tmp_path, simple_source("hostile", hostile.base_url + "/"))
    assert done["status"] == "ok"
    assert [line for line in stderr.splitlines() if "robots.txt unusable" in line]


def test_listing_entries_are_capped(tmp_path: Path, hostile: SiteServer) -> None:
    entries = "".join(f'<li><a href="/p/{n}.html">Entry number {n}</a></li>' for n in range(3000))
    hostile.pages["/"] = Page(f"<h2>Latest posts</h2><ul>{entries}</ul>".encode(), HTML)
    done, _ = _crawl(tmp_path, simple_source("hostile", hostile.base_url + "/"),
                     crawl_extra="follow_articles = false\nmax_items_per_listing = 40")
    assert len(_items(tmp_path)) == 40
    assert "has more than 40 entries" in str(done["message"]) and "max_items_per_listing" in str(done["message"])


def test_damaged_http_cache_is_a_miss_with_one_warning(tmp_path: Path, hostile: SiteServer) -> None:
    source = simple_source("hostile", hostile.base_url + "/")
    first, _ = _crawl(tmp_path, source)
    assert first["status"] == "ok"
    cached = [p for p in (tmp_path / "httpcache").rglob("*") if p.is_file()]
    assert cached
    for path in cached:  # a disk that filled up mid-write
        path.write_bytes(gzip.compress(b"truncated")[:7])
    done, stderr = _crawl(tmp_path, source)
    assert done["status"] == "ok" and int(done["counts"]["pages"]) >= 5  # type: ignore[index]
    assert len([line for line in stderr.splitlines() if "damaged HTTP cache entry" in line]) == 1


def test_overlong_links_and_userinfo_tricks_are_skipped_and_counted(
    tmp_path: Path, db_url: str, make_site_server: Callable[..., SiteServer], other_host: SiteServer
) -> None:
    from sqlalchemy import create_engine, text

    site = make_site_server(HOSTILE)
    port = site.base_url.rsplit(":", 1)[1]
    other_port = other_host.base_url.rsplit(":", 1)[1]
    overlong = "/posts/first.html?page=" + "a" * 2100  # one link past the 2,048-character URL columns
    trick = f"http://127.0.0.2:{other_port}\\@127.0.0.1:{port}/posts/after-bad.html"  # host 127.0.0.2 to w3lib
    site.pages["/"] = Page(f"""<html><body><h2>Latest posts</h2><ul>
<li><a href="/posts/first.html">First honest post</a> <time>Nov 3, 2026</time></li>
<li><a href="{overlong}">A link longer than any URL column</a></li>
<li><a href="{trick}">Userinfo trick</a></li>
<li><a href="/posts/after-bad.html">Post after the bad links</a></li>
</ul></body></html>""".encode(), HTML)
    config = write_config(tmp_path, db_url, [simple_source("hostile", site.base_url + "/")])
    result = run_crawler(config, "hostile", "--progress-json")
    assert "Traceback" not in result.stderr, result.stderr
    done = done_event(result.stdout)
    message = str(done["message"])
    assert done["status"] == "ok", message
    assert "1 malformed link(s) skipped" in message and "2145 characters" in message
    assert "1 offsite link(s) skipped" in message and "127.0.0.2 is not one of the source's hosts" in message
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            urls = set(conn.execute(text("select url from items")).scalars())
    finally:
        engine.dispose()
    assert urls == {site.url("/posts/first.html"), site.url("/posts/after-bad.html")}
    assert other_host.requests() == []
