"""crawler/discover/fetch.py: `python -m crawler.run --suggest URL` against a fixture server (robots.txt and the
configured User-Agent obeyed, one article opened for its "related" block, the block printed as TOML), its
failures as one line and exit 1, and the time zone guessed from the page. `feedsvc suggest` (the command that
launches it) is tests/test_cli_suggest_cmd.py; `--heal` is tests/test_cli_heal_cmd.py."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

from parsel import Selector

from crawler.discover.fetch import guess_timezone
from tests.support.crawls import run_crawler, write_config
from tests.support.site_server import DATA, Page, SiteServer
from tests.test_crawler_browser import need_chromium

BLOG = DATA / "suggest" / "blog_cards"
ARTICLE = """<html lang="en"><head><title>Notes from a winter garden</title></head><body><article><h1>Notes</h1>
<p>Text.</p></article><h3>You may also like</h3><ul class="more">
<li><a href="/posts/pruning-roses/">Pruning roses in the rain</a></li>
<li><a href="/posts/compost-myths/">Five compost myths, tested</a></li>
<li><a href="https://other.example.org/x">Elsewhere entirely</a></li></ul></body></html>"""


def test_time_zone_is_guessed_from_the_language() -> None:
    def zone(html: str) -> str:
        return guess_timezone(Selector(text=html))

    assert zone('<html lang="zh-CN"><title>x</title></html>') == "Asia/Shanghai"
    assert zone('<html lang="de"><title>x</title></html>') == "Europe/Berlin"
    assert zone("<html><head><title>某公文网</title></head></html>") == "Asia/Shanghai"  # no lang: Chinese title
    assert zone('<html lang="en"><title>某公文网</title></html>') == "UTC"  # a declared language wins
    assert zone("<html><title>Plain</title></html>") == "UTC"


def test_suggest_prints_a_loadable_block_with_the_related_listing(
    make_site_server: Callable[..., SiteServer], tmp_path: Path
) -> None:
    site = make_site_server(BLOG)
    site.pages["/posts/winter-garden/"] = Page(ARTICLE.encode(), "text/html; charset=utf-8")
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", [])
    result = run_crawler(config, f"--suggest={site.base_url}/", "--id", "boots")
    assert result.returncode == 0, result.stderr
    (source,) = tomllib.loads(result.stdout)["sources"]
    assert source["id"] == "boots" and source["title"] == "The Muddy Boots Blog" and source["timezone"] == "UTC"
    assert [(lst["kind"], lst["heading"]) for lst in source["listings"]] == [
        ("latest", "Featured"), ("related", "You may also like")]  # "latest": its dates run newest first
    assert "Elsewhere entirely" not in result.stdout  # related links off the site are not shown as items
    paths = [r.path for r in site.requests()]
    assert paths[0] == "/robots.txt" and paths.count("/posts/winter-garden/") == 1  # exactly one article opened
    assert all("feedsvc-test" in (r.header("User-Agent") or "") for r in site.requests())


def test_suggest_failures_are_one_line_and_exit_1(make_site_server: Callable[..., SiteServer], tmp_path: Path) -> None:
    site = make_site_server(BLOG)
    site.pages["/robots.txt"] = Page(b"User-agent: *\nDisallow: /private/\n", "text/plain")
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", [])
    for path, said in (("/status/404", "error: could not fetch"), ("/private/", "error: could not fetch"),
                       ("/about.txt", "error: no dated listing found")):
        if path == "/about.txt":
            site.pages[path] = Page(b"<html><body><p>Nothing listed here.</p></body></html>", "text/html")
        result = run_crawler(config, f"--suggest={site.url(path)}")
        assert result.returncode == 1 and result.stdout == "", result.stderr
        assert [line for line in result.stderr.splitlines() if line.startswith("error:")] == [
            next(line for line in result.stderr.splitlines() if line.startswith(said))]
        assert "Traceback" not in result.stderr
    assert not site.requests("/private/")  # robots.txt obeyed


RENDER = DATA / "render"  # 阅读排行 is empty in the HTML; its script fills it with dated items from /rank.json
# A dated list in the HTML, and a headed box whose script never fills it.
FILLS_NOTHING = """<html lang="zh-CN"><head><meta charset="utf-8"><title>空栏目</title></head><body>
<div class="box"><h3>最新文稿</h3><ul>
<li><a href="/a/1.html">区政府召开专题会议研究防汛工作</a> <span>2026-01-03</span></li>
<li><a href="/a/2.html">关于开展冬季消防安全检查的通知</a> <span>2026-01-02</span></li>
<li><a href="/a/3.html">区委理论学习中心组开展集中学习</a> <span>2026-01-01</span></li></ul></div>
<div class="box"><div class="title"><h3>阅读排行</h3></div><ul id="phb"></ul></div>
<script>document.title = document.title;  /* loads nothing into #phb */</script>
</body></html>"""


def test_a_list_a_script_fills_with_dated_items_is_proposed_after_rendering(
    make_site_server: Callable[..., SiteServer], tmp_path: Path
) -> None:
    need_chromium()
    site = make_site_server(RENDER)
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", [])
    result = run_crawler(config, f"--suggest={site.base_url}/", "--id", "render")
    assert result.returncode == 0, result.stderr
    (source,) = tomllib.loads(result.stdout)["sources"]
    assert source["render"] == "auto"
    assert [(lst["id"], lst["kind"], lst["heading"]) for lst in source["listings"]] == [("ranking", "ranking", "阅读排行")]
    # Its rendered items are shown like any proposal's, and the printed block loads as config.
    assert "第三篇 <http://127.0.0.1" in result.stdout and "[01-02]" in result.stdout
    assert "filled by script" in result.stdout and "note:" not in result.stderr
    assert len(site.requests("/")) == 2  # the plain fetch, then once through Chromium
    assert site.requests("/rank.json")  # the page's own script ran, through the fence to the same site
    cfg_path = tmp_path / "suggested.toml"
    cfg_path.write_text(config.read_text(encoding="utf-8") + "\n" + result.stdout, encoding="utf-8")
    from feedsvc.config import load_config

    assert load_config(cfg_path).sources[0].render == "auto"


def test_a_box_the_script_leaves_empty_is_noted_not_proposed(
    make_site_server: Callable[..., SiteServer], tmp_path: Path
) -> None:
    need_chromium()
    site = make_site_server(BLOG)
    site.pages["/"] = Page(FILLS_NOTHING.encode(), "text/html; charset=utf-8")
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", [])
    result = run_crawler(config, f"--suggest={site.base_url}/")
    assert result.returncode == 0, result.stderr
    (source,) = tomllib.loads(result.stdout)["sources"]
    assert [lst["heading"] for lst in source["listings"]] == ["最新文稿"] and "render" not in source
    assert "阅读排行" not in result.stdout
    assert "note: '阅读排行' is empty in the page's HTML" in result.stderr
    assert "rendered in Chromium, it still shows no dated items" in result.stderr
    assert len(site.requests("/")) == 2  # it was rendered once


def test_without_chromium_an_empty_box_is_noted_with_the_install_hint(
    make_site_server: Callable[..., SiteServer], tmp_path: Path
) -> None:
    site = make_site_server(RENDER)
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", [],
                          crawl_extra=f'chromium_path = "{tmp_path / "no-chromium"}"')
    result = run_crawler(config, f"--suggest={site.base_url}/")
    assert result.returncode == 1 and result.stdout == "", result.stderr  # nothing itemless is written
    (note,) = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert "'阅读排行' is empty in the page's HTML" in note and "cannot render pages: apt-get install chromium" in note
    assert len(site.requests("/")) == 1 and not site.requests("/rank.json")


def test_a_source_set_to_never_render_gets_its_empty_box_noted_with_that_reason_and_nothing_itemless(
    make_site_server: Callable[..., SiteServer], tmp_path: Path
) -> None:
    # Chromium may well be installed: the source's render = "never" is obeyed all the same.
    site = make_site_server(BLOG)
    site.pages["/"] = Page(FILLS_NOTHING.encode(), "text/html; charset=utf-8")
    source = (f'[[sources]]\nid = "plain"\ntitle = "Plain"\nstart_urls = ["{site.base_url}/"]\nrender = "never"\n'
              '[[sources.listings]]\nid = "latest"\nheading = "最新文稿"\n')
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", [source])
    result = run_crawler(config, f"--suggest={site.base_url}/", "--id", "plain2")
    assert result.returncode == 0, result.stderr
    (proposed,) = tomllib.loads(result.stdout)["sources"]
    assert [lst["heading"] for lst in proposed["listings"]] == ["最新文稿"] and "render" not in proposed
    assert "阅读排行" not in result.stdout  # the empty box is not written
    (note,) = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert "'阅读排行' is empty in the page's HTML" in note and "source 'plain' has render = \"never\"" in note
    assert len(site.requests("/")) == 1  # not rendered
