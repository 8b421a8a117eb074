"""feedsvc.demo.project: the demo's config file, its port choice, and the feed URLs it prints."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest
from rich.console import Console

from feedsvc.config import DATABASE_URL_ENV
from feedsvc.demo.project import (
    DEMO_DB,
    feed_urls,
    free_port,
    missing_needs,
    print_needs,
    print_urls,
    write_demo_config,
)


def test_free_port_prefers_the_given_port_and_falls_back_when_taken() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        other = free_port("127.0.0.1", taken)
        assert other != taken and other > 0
    # Released (and not in use): now the preferred port is returned as is.
    assert free_port("127.0.0.1", taken) == taken
    assert free_port("127.0.0.1", 0) > 0


def test_write_demo_config_is_loadable_and_ignores_the_operators_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, "sqlite:////nonexistent/elsewhere.db")
    setup = write_demo_config(tmp_path / "demo", "http://127.0.0.1:5555", 8080)
    assert setup.config_path == tmp_path / "demo" / "config.toml"
    assert [s.id for s in setup.cfg.sources] == ["gwdemo", "blog"]
    assert setup.cfg.sources[0].start_urls == ["http://127.0.0.1:5555/"]
    assert setup.cfg.server.port == 8080
    assert setup.cfg.database.url.endswith(DEMO_DB) and "elsewhere" not in setup.cfg.database.url


def test_a_new_site_address_starts_a_fresh_database(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    write_demo_config(data, "http://127.0.0.1:5555", 8080)
    (data / DEMO_DB).write_text("old items")
    write_demo_config(data, "http://127.0.0.1:5555", 8081)  # same site: the items' URLs still work
    assert (data / DEMO_DB).exists()
    write_demo_config(data, "http://127.0.0.1:6666", 8081)  # the items' URLs are dead now
    assert not (data / DEMO_DB).exists()
    assert (data / "site-url.txt").read_text().strip() == "http://127.0.0.1:6666"


def test_feed_urls_name_every_source_listing_and_topic(tmp_path: Path) -> None:
    cfg = write_demo_config(tmp_path, "http://127.0.0.1:5555", 8080).cfg
    urls = dict((url, what) for what, url in feed_urls(cfg, "http://h:1"))
    assert "http://h:1/opml" in urls and "http://h:1/feeds/new.atom" in urls
    assert urls["http://h:1/feeds/gwdemo.atom"] == "示例公文网"
    assert "http://h:1/feeds/gwdemo/ranking.rss" in urls and "http://h:1/feeds/blog/latest.rss" in urls
    assert urls["http://h:1/feeds/topics/lianzheng.atom"] == "Topic: 廉政建设"


def test_missing_chromium_is_named_with_the_install_hint(tmp_path: Path) -> None:
    cfg = write_demo_config(tmp_path, "http://127.0.0.1:5555", 8080).cfg
    cfg = cfg.model_copy(update={"crawl": cfg.crawl.model_copy(update={"chromium_path": str(tmp_path / "nope")})})
    [need] = missing_needs(cfg)
    assert "apt-get install chromium" in need and str(tmp_path / "nope") in need
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    cfg = cfg.model_copy(update={"crawl": cfg.crawl.model_copy(update={"chromium_path": str(fake)})})
    assert missing_needs(cfg) == []


def test_print_urls_keeps_every_url_whole_on_a_narrow_terminal(tmp_path: Path) -> None:
    cfg = write_demo_config(tmp_path, "http://127.0.0.1:5555", 8080).cfg
    out = io.StringIO()
    print_urls(cfg, "http://127.0.0.1:8080", Console(file=out, width=40), serving=False)
    text = out.getvalue()
    assert "not served" in text
    for _, url in feed_urls(cfg, "http://127.0.0.1:8080"):
        assert url in text  # not wrapped or cut


def test_needs_print_install_commands_literally() -> None:
    # Rich markup once swallowed `[browser]`, printing `pip install 'feedsvc' (scrapy-playwright)`.
    out = io.StringIO()
    print_needs(["run: pip install 'feedsvc[browser]' [/bold] then [red]again"], Console(file=out, width=200))
    assert out.getvalue() == "note: run: pip install 'feedsvc[browser]' [/bold] then [red]again\n"


def test_rendering_is_part_of_the_default_install() -> None:
    import tomllib

    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert any(dep.startswith("playwright") for dep in project["dependencies"])
