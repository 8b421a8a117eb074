"""Shared fixtures: databases (SQLite always, PostgreSQL when FEEDSVC_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from feedsvc.store.db import create_schema, make_engine, make_session_factory
from tests.support.databases import database_url
from tests.support.services import REDIS_URL, unavailable
from tests.support.site_server import SiteServer

DATA = Path(__file__).parent / "data"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database; every test using it runs on SQLite and on PostgreSQL."""
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def site_server() -> Iterator[SiteServer]:
    """The fixture site (tests/data/site) on a free 127.0.0.1 port; `.base_url`, `.log`, `.requests(path)`."""
    with SiteServer(DATA / "site") as server:
        yield server


@pytest.fixture
def make_site_server() -> Iterator[Callable[..., SiteServer]]:
    """Factory for more servers (another root, a delay); all are stopped after the test."""
    servers: list[SiteServer] = []

    def make(root: Path = DATA / "site", **kwargs: Any) -> SiteServer:
        server = SiteServer(root, **kwargs).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()

@pytest.fixture
def redis_key() -> Iterator[str]:
    """A fresh Redis key for a crawl queue, deleted afterwards; skips (fails under CI) without Redis."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        unavailable(f"Redis is not reachable at {REDIS_URL} (apt-get install redis-server)")
    key = f"feedsvc:test:{uuid.uuid4().hex[:8]}"
    yield key
    client.delete(key)
    client.close()


@pytest.fixture
def services(request: pytest.FixtureRequest) -> Iterator[list[Any]]:
    """Scheduler services a test starts (append them); every one still running is stopped after the test."""
    if "db_url" in request.fixturenames:
        # Set up first so it is torn down last: a scheduler still running when its PostgreSQL schema is dropped
        # fails in its own thread (UndefinedTable apscheduler_jobs), whatever order the test lists them in.
        request.getfixturevalue("db_url")
    started: list[Any] = []
    yield started
    for service in started:
        if service.scheduler.running:
            service.stop(grace=10)
