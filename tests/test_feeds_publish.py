"""Static publishing: files at the HTTP routes' paths, byte-identical to what the server sends."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from lxml import etree
from starlette.testclient import TestClient

from feedsvc.cli import main
from feedsvc.feeds.publish import publish, publish_if_configured
from feedsvc.feeds.render import FORMATS
from feedsvc.feeds.spec import all_specs
from feedsvc.http.app import create_app
from feedsvc.store import Store
from feedsvc.store.items import item_ids_by_url
from feedsvc.store.related import replace_computed_links_many
from tests.support.feeds import T0, make_config, sample_crawls


def test_publish_matches_http_responses(db_url: str, tmp_path: Path) -> None:
    cfg = make_config(db_url, "http://feeds.test")
    _store = Store.open(cfg.database.url)
    engine, factory = _store.engine, _store.session_factory
    sample_crawls(factory, cfg)
    out = tmp_path / "site"
    result = publish(cfg, out)
    specs = all_specs(cfg)
    assert result.written == len(specs) * len(FORMATS) + 2
    with TestClient(create_app(cfg, check_interval=0)) as client:
        for spec in specs:
            for fmt in FORMATS:
                path = spec.path(fmt)
                assert (out / path.lstrip("/")).read_bytes() == client.get(path).content, path
        assert (out / "opml").read_bytes() == client.get("/opml").content
        assert (out / "index.html").read_bytes() == client.get("/").content
    assert (out / "feeds/new.atom").exists() and (out / "feeds/gw/ranking.json").exists()
    assert (out / "feeds/topics/party.rss").exists()
    mtime = (out / "feeds/new.atom").stat().st_mtime_ns
    again = publish(cfg, out)  # nothing changed since: nothing is rewritten
    assert again.written == 0 and again.unchanged == result.written and again.digests == result.digests
    assert (out / "feeds/new.atom").stat().st_mtime_ns == mtime
    engine.dispose()


def test_publish_removes_feeds_of_removed_sources_and_cli(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    cfg = make_config(f"sqlite:///{db}")
    _store = Store.open(cfg.database.url)
    engine, factory = _store.engine, _store.session_factory
    sample_crawls(factory, cfg)
    engine.dispose()
    out = tmp_path / "out"
    publish(cfg, out)
    assert (out / "feeds/en.atom").exists() and (out / "feeds/en/latest.rss").exists()
    (out / "keep.txt").write_text("not ours")
    only_gw = cfg.model_copy(update={"sources": [s for s in cfg.sources if s.id == "gw"]})
    result = publish(only_gw, out)
    assert result.removed == 6
    assert not (out / "feeds/en.atom").exists() and not (out / "feeds/en").exists()
    assert (out / "keep.txt").exists() and (out / "feeds/gw.atom").exists()
    opml = etree.parse(str(out / "opml"))
    assert not [o for o in opml.iter("outline") if "/feeds/en" in (o.get("xmlUrl") or "")]

    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{db}"\n[server]\npublish_dir = "public"\n'
        '[[sources]]\nid = "gw"\ntitle = "GW"\nstart_urls = ["http://gw.test/"]\n'
        '[[sources.listings]]\nid = "latest"\nblock = "ul"\n', encoding="utf-8")
    assert main(["publish", "--config", str(config), str(tmp_path / "cli")]) == 0
    assert (tmp_path / "cli/feeds/gw/latest.atom").exists() and (tmp_path / "cli/index.html").exists()

    from feedsvc.config import load_config

    loaded = load_config(config)
    done = publish_if_configured(loaded)
    assert done is not None and done.out_dir == tmp_path / "public"
    assert (tmp_path / "public/feeds/new.json").exists()
    assert publish_if_configured(cfg) is None  # no publish_dir configured


def test_published_entries_link_only_to_published_related_feeds(tmp_path: Path) -> None:
    """Entries with inline related items link to /feeds/items/{id}/related.atom: those files are published too,
    following links inside the related feeds as well, with the server's bytes."""
    cfg = make_config(f"sqlite:///{tmp_path / 'f.db'}", "http://feeds.test")
    store = Store.open(cfg.database.url)
    engine, factory = store.engine, store.session_factory
    sample_crawls(factory, cfg)
    a1, a2, a3, en1 = "http://gw.test/a/1.html", "http://gw.test/a/2.html", "http://gw.test/a/3.html", "http://en.test/news/1"
    with factory() as session:
        ids = item_ids_by_url(session, [a1, a2, a3, en1])
        replace_computed_links_many(session, {ids[a1]: [(ids[a2], 0.9)]}, T0 + timedelta(hours=1))
        replace_computed_links_many(session, {ids[a2]: [(ids[en1], 0.8)]}, T0 + timedelta(hours=1))
        replace_computed_links_many(session, {ids[en1]: [(ids[a3], 0.7)]}, T0 + timedelta(hours=1))
        session.commit()
    out = tmp_path / "site"
    result = publish(cfg, out)
    linked: set[str] = set()
    for path in out.rglob("*"):
        if path.is_file():
            linked.update(re.findall(r"http://feeds\.test(/feeds/items/\d+/related\.atom)", path.read_text("utf-8")))
    assert linked >= {f"/feeds/items/{ids[a1]}/related.atom", f"/feeds/items/{ids[en1]}/related.atom"}
    with TestClient(create_app(cfg, check_interval=0)) as client:
        for link in sorted(linked):
            for fmt in FORMATS:
                route = link.removesuffix(".atom") + f".{fmt}"
                published = out / route.lstrip("/")
                assert published.is_file(), f"{route} is linked but not published"
                assert published.read_bytes() == client.get(route).content, route
    assert result.written == len(all_specs(cfg)) * len(FORMATS) + 2 + len(linked) * len(FORMATS)
    # A related list that empties takes its published feed away on the next run.
    with factory() as session:
        replace_computed_links_many(session, {ids[en1]: []}, T0 + timedelta(hours=2))
        session.commit()
    publish(cfg, out)
    assert not (out / f"feeds/items/{ids[en1]}/related.atom").exists()
    engine.dispose()
