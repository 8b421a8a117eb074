"""crawler/discover/proposal.py: the suggested `[[sources]]` block is valid TOML that loads as the config, says
what each listing was found by, and keeps hostile site text inside its strings and comments."""

from __future__ import annotations

import tomllib

from crawler.discover.proposal import render_source, source_id_for
from crawler.discover.suggest import Suggestion
from crawler.extract import ListingEntry
from feedsvc.config import AppConfig


def _entry(n: int, title: str = "", date: str | None = "2026-01-0{n}") -> ListingEntry:
    return ListingEntry(url=f"http://site.example/p/{n}.html", title=title or f"Post {n}",
                        date_text=date.format(n=n) if date else None, rank=n)


def test_source_ids_are_slugs_of_the_host() -> None:
    assert source_id_for("https://www.Example.co.uk/news/") == "example-co-uk"
    assert source_id_for("http://127.0.0.1:8080/") == "127-0-0-1"
    assert source_id_for("http://-weird-.example/") == "weird-example"
    assert source_id_for("not a url") == "site"


def test_block_loads_as_config_and_shows_the_first_items() -> None:
    listings = [
        Suggestion("latest", "latest", "Latest posts", None, [_entry(n) for n in (1, 2, 3, 4)], "div.pages a"),
        Suggestion("ranking", "ranking", None, "ol.hot", [_entry(9, date=None)]),
        Suggestion("hot", "ranking", "热门", None, note="filled by script:\nneeds the browser"),
    ]
    related = Suggestion("related", "related", "相关文章", None, [_entry(5)])
    text = render_source("http://site.example/", "site", "Site", "Asia/Shanghai", listings, related)
    data = tomllib.loads(text)
    (source,) = data["sources"]
    assert source["start_urls"] == ["http://site.example/"] and source["timezone"] == "Asia/Shanghai"
    assert [(lst["id"], lst.get("heading"), lst.get("block"), lst.get("pagination")) for lst in source["listings"]] == [
        ("latest", "Latest posts", None, "div.pages a"), ("ranking", None, "ol.hot", None),
        ("hot", "热门", None, None), ("related", "相关文章", None, None)]
    AppConfig.model_validate(data)  # what it prints is a config the service accepts
    assert "# 4 items, first ones:" in text and "Post 3" in text and "Post 4" not in text  # three shown
    assert "#   [2026-01-01] Post 1 <http://site.example/p/1.html>" in text
    assert "# filled by script: needs the browser" in text  # a newline in a note stays inside its comment
    assert "kind = \"related\"  # found on article pages" in text
    assert "render" not in source  # the default unless a listing was found by rendering


def test_a_listing_found_by_rendering_says_the_source_renders() -> None:
    hot = Suggestion("hot", "ranking", "热门", None, [_entry(1)], note="filled by script")
    (source,) = tomllib.loads(render_source("http://s.example/", "s", "S", "UTC", [hot], None, render="auto"))["sources"]
    assert source["render"] == "auto" and source["listings"][0]["heading"] == "热门"


def test_site_text_cannot_break_out_of_its_value_or_comment() -> None:
    title = 'Evil"\n[[sources]]\nid = "pwned'
    entry = _entry(1, title='x\n[database]\nurl = "sqlite:///pwned"')
    text = render_source("http://site.example/", "site", title, "UTC",
                         [Suggestion("latest", "latest", 'Head"\nline', None, [entry])], None)
    data = tomllib.loads(text)
    assert "database" not in data and len(data["sources"]) == 1
    assert data["sources"][0]["title"] == title
    assert data["sources"][0]["listings"][0]["heading"] == 'Head"\nline'


def test_control_characters_in_site_text_stay_valid_toml() -> None:
    # A DEL in a page title once made suggest print TOML that tomllib refuses.
    nasty = "Title\x7f with\x00 every\x1b[31m kind\x85 of\x9f control\x08"
    listings = [Suggestion("latest", "latest", nasty, None, [_entry(1, title=nasty)], None, note=nasty)]
    block = render_source("http://site.example/", "site", nasty, "UTC", listings, None)
    raw = tomllib.loads(block)
    assert raw["sources"][0]["title"] == nasty  # exact, escaped
    assert raw["sources"][0]["listings"][0]["heading"] == nasty
    AppConfig.model_validate(raw)
