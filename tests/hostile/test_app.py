"""Anyone can send any request: a property test over every route and parameter (no 5xx, ever; a 400 says why in
one line), the item-id and `since` edges it found, and a database replaced under the running server.
The header-read deadline under a real uvicorn is tested in tests/test_http_protocol.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from feedsvc.http.app import create_app
from feedsvc.store import Store
from tests.support.feeds import T0, crawl, listed, make_config, sample_crawls

NUMBERS = ["²", "①", "٣", "9" * 5000, "9" * 4301, "0" * 30 + "1", "-1", "+1", " 1", "1e3", "0x10"]
PREFIXES = ["new", "gw", "en", "gw/latest", "gw/ranking", "en/latest", "topics/party", "items/1/related",
            "items/18446744073709551617/related", "items/٣/related", "items/²/related", "nope", "topics/nope", ""]
FORMATS = ["atom", "rss", "json", "xml", "", "atom/x"]
EDGE_SINCE = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "0001-01-01", "9999-12-31",
              "2026-10-01T08:00:00+08:00", "2026-13-01", "", " ", "\x00", "2026-10-01T25:00"]
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path_factory.mktemp('hostile-app') / 'f.db'}"
    cfg = make_config(url)
    with Store.for_config(cfg) as store:
        sample_crawls(store.session_factory, cfg)
    with TestClient(create_app(cfg, check_interval=0), raise_server_exceptions=False) as test_client:
        yield test_client


def _check(response: object) -> None:
    status = response.status_code  # type: ignore[attr-defined]
    body = response.text  # type: ignore[attr-defined]
    assert status < 500, (status, body)
    if status == 400:
        assert body.startswith("Bad request: ") and "\n" not in body.strip(), body


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    route=st.one_of(
        st.sampled_from(["/", "/opml", "/healthz", "/metrics"]),
        st.builds(lambda p, f: f"/feeds/{p}.{f}" if f else f"/feeds/{p}", st.sampled_from(PREFIXES),
                  st.sampled_from(FORMATS)),
        st.builds(lambda p, f: f"/feeds/{quote(p)}.{f}", text, st.sampled_from(FORMATS)),
        st.builds(lambda n: f"/feeds/items/{n}/related.atom", st.integers(min_value=-(2**70), max_value=2**70)),
        st.builds(lambda n: f"/feeds/items/{quote(n)}/related.atom", st.one_of(st.sampled_from(NUMBERS), text)),
        st.builds(lambda n: f"/?page={quote(n)}", st.one_of(st.sampled_from(NUMBERS), text)),
    ),
    params=st.dictionaries(
        st.sampled_from(["limit", "q", "exclude", "since", "x"]),
        st.one_of(text, st.sampled_from(EDGE_SINCE), st.sampled_from(NUMBERS), st.integers(-(2**70), 2**70).map(str)),
        max_size=4,
    ),
    conditional=st.sampled_from([{}, {"if-none-match": "*"}, {"if-modified-since": "Mon, 01 Jan 0001 00:00:00 GMT"},
                                 {"if-modified-since": "garbage"}, {"accept-encoding": "gzip;q=abc"}]),
)
@example(route="/feeds/items/18446744073709551617/related.atom", params={}, conditional={})
@example(route="/feeds/items/²/related.rss", params={}, conditional={})
@example(route="/feeds/items/" + "9" * 4301 + "/related.rss", params={}, conditional={})
@example(route="/?page=%C2%B2", params={}, conditional={})
@example(route="/?page=%E2%91%A0", params={}, conditional={})
@example(route="/?page=" + "9" * 5000, params={}, conditional={})
@example(route="/feeds/new.atom", params={"limit": "9" * 5000}, conditional={})
@example(route="/feeds/new.atom", params={"since": "0001-01-01T00:00:00+05:00"}, conditional={})
@example(route="/feeds/gw.json", params={"since": "9999-12-31T23:59:59-05:00", "q": "a\nb" * 60}, conditional={})
def test_no_request_gets_a_5xx(client: TestClient, route: str, params: dict[str, str],
                               conditional: dict[str, str]) -> None:
    _check(client.get(route, params=params, headers=conditional))


@pytest.mark.parametrize("since", EDGE_SINCE[:2])
def test_since_near_the_ends_of_time_is_400(client: TestClient, since: str) -> None:
    response = client.get("/feeds/new.atom", params={"since": since})
    assert response.status_code == 400 and "years 1 to 9999" in response.text


@pytest.mark.parametrize("item", ["18446744073709551617", "٣", "²", "①", "9" * 400, "9" * 4301])
def test_impossible_item_ids_are_404(client: TestClient, item: str) -> None:
    assert client.get(f"/feeds/items/{item}/related.atom").status_code == 404


@pytest.mark.parametrize("page", ["²", "①", "٣", "9" * 5000, "-3", ""])
def test_odd_page_numbers_show_a_page(client: TestClient, page: str) -> None:
    response = client.get("/", params={"page": page})
    assert response.status_code == 200 and "<html" in response.text


def test_database_replaced_under_the_server_is_noticed(tmp_path: Path) -> None:
    path = tmp_path / "f.db"
    cfg = make_config(f"sqlite:///{path}")
    with Store.for_config(cfg) as store:
        crawl(store.session_factory, cfg, "en", [listed("en", "latest", "http://en.test/news/1", "Old item",
                                                        published=T0)], T0)
    with TestClient(create_app(cfg, check_interval=0)) as client:
        assert "Old item" in client.get("/feeds/en.rss").text
        # An admin restores another copy: a new file (new inode) at the same path.
        fresh = tmp_path / "restored.db"
        with Store.open(f"sqlite:///{fresh}") as store:
            crawl(store.session_factory, cfg, "en", [listed("en", "latest", "http://en.test/news/9",
                                                            "Restored item", published=T0)], T0)
        os.replace(fresh, path)
        for suffix in ("-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        body = client.get("/feeds/en.rss").text
        assert "Restored item" in body and "Old item" not in body
        assert client.get("/healthz").status_code == 200
        # Deleted outright: 503 (with a reason) rather than the old data or a new empty file.
        path.unlink()
        health = client.get("/healthz")
        assert health.status_code == 503 and "database" in health.text
        assert client.get("/feeds/en.rss").status_code == 503
        assert not path.exists()
