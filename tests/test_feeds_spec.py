"""feeds/spec.py: feed paths resolved against the config, and the limit/q/exclude/since filter."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feedsvc.errors import BadRequest, FeedNotFound
from feedsvc.feeds.spec import FeedSpec, all_specs, parse_feed_path, parse_filter
from tests.support.feeds import make_config

CFG = make_config("sqlite://")


@pytest.mark.parametrize("path", ["new.atom", "gw.rss", "gw/latest.json", "topics/party.atom",
                                  "items/42/related.rss"])
def test_every_kind_of_path_round_trips(path: str) -> None:
    spec, fmt = parse_feed_path(CFG, path)
    assert spec.path(fmt) == f"/feeds/{path}"


@pytest.mark.parametrize(("path", "says"), [
    ("new", "end in .atom"), ("new.xml", "Unknown feed format '.xml'"), ("nope.atom", "Known feeds: new, gw, en"),
    ("gw/nope.atom", "Known listings: recommended, ranking, latest"), ("topics/x.atom", "Known topics: party"),
    ("items/x/related.atom", "item ids are numbers"), ("a/b/c/d.atom", "No feed at /feeds/a/b/c/d.atom"),
])
def test_unknown_paths_say_what_exists(path: str, says: str) -> None:
    with pytest.raises(FeedNotFound, match=says):
        parse_feed_path(CFG, path)


def test_all_specs_lists_new_sources_listings_and_topics_but_not_items() -> None:
    keys = [spec.key for spec in all_specs(CFG)]
    assert keys == ["new", "source/gw", "source/gw/recommended", "source/gw/ranking", "source/gw/latest",
                    "source/en", "source/en/latest", "topic/party"]
    assert FeedSpec("related", item_id=7).route == "/feeds/items/{id}/related.{fmt}"


def test_parse_filter_reads_words_dates_and_limits() -> None:
    f = parse_filter({"limit": "5", "q": "党员， 支部,党员", "exclude": "x", "since": "2026-10-01", "utm": "1"})
    assert (f.limit, f.q, f.exclude) == (5, ("党员", "支部"), ("x",))
    assert f.since == datetime(2026, 10, 1, tzinfo=UTC)
    assert parse_filter({"since": "2026-10-01T08:00:00+08:00"}).since == datetime(2026, 10, 1, tzinfo=UTC)
    assert parse_filter({}).q == () and parse_filter({}).since is None


@pytest.mark.parametrize("params", [{"limit": "x"}, {"limit": "0"}, {"since": "yesterday"}, {"q": "a" * 500},
                                    {"q": ",".join(str(i) for i in range(100))}])
def test_bad_filters_are_bad_requests(params: dict[str, str]) -> None:
    with pytest.raises(BadRequest):
        parse_filter(params)
