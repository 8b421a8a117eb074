"""Shared fixtures: databases (SQLite always, PostgreSQL when FEEDSVC_TEST_DATABASE_URL is set)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from feedsvc.store.db import create_schema, make_engine, make_session_factory
from tests.dbutil import database_url
from tests.siteserver import SiteServer

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
