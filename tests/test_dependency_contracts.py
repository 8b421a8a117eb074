"""The private parts of dependencies we build on, each pinned by a version bound in pyproject.toml and checked
here, so an upgrade that moves them fails in this file (with the name of what moved) rather than in production:

- APScheduler: `BasePoolExecutor._do_submit_job(job, run_times)`, overridden by feedsvc/scheduling/jobs.py to hand
  each crawl job the live gathering (CrawlGather), and `run_job` reading `job.kwargs` (where that gathering goes).
- uvicorn: `HttpToolsProtocol`'s parser callbacks and attributes (feedsvc/http/protocol.py's header deadline) and
  `Server.handle_exit` / `startup` (feedsvc/runtime.py).
- Scrapy: `CrawlerProcess._signal_shutdown(signum, frame)`, overridden and called by crawler/process.py, the engine
  slot's `inprogress` and `Downloader._process_queue` (crawler/shared.py, crawler/middlewares.py), and the
  download slots' queues of `(request, deferred)` (`Downloader.slots[key].queue`) that crawler/stop.py empties.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import inspect
import re
import threading
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
BOUNDED = ("apscheduler", "uvicorn", "scrapy")


def _params(func: Callable[..., Any]) -> list[str]:
    return list(inspect.signature(func).parameters)


def _requirements() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    found = [Requirement(r) for r in project["dependencies"]]
    found += [Requirement(r) for extra in project["optional-dependencies"].values() for r in extra]
    return {r.name.lower(): r for r in found}


@pytest.mark.parametrize("name", BOUNDED)
def test_each_dependency_with_a_private_contract_has_an_upper_bound_the_installed_version_meets(name: str) -> None:
    requirement = _requirements()[name]
    assert any(spec.operator in ("<", "<=", "~=", "==") for spec in requirement.specifier), \
        f"{requirement}: a dependency whose private API we use needs an upper bound"
    try:
        installed = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        pytest.skip(f"{name} is not installed")
    assert requirement.specifier.contains(installed, prereleases=True), \
        f"{name} {installed} is outside {requirement}: re-check this file's contracts, then move the bound"


def test_apscheduler_pool_executor_submits_through_do_submit_job() -> None:
    from apscheduler.executors import base
    from apscheduler.executors.pool import BasePoolExecutor

    assert _params(BasePoolExecutor._do_submit_job) == ["self", "job", "run_times"]
    assert "job.kwargs" in inspect.getsource(base.run_job)  # the gathering reaches the job as a keyword argument


def _record(seen: dict[str, Any], done: threading.Event, **kwargs: Any) -> None:
    seen.update(kwargs)
    done.set()


def test_the_crawl_executor_hands_jobs_the_live_gather() -> None:
    from apscheduler.events import EVENT_JOB_REMOVED
    from apscheduler.schedulers.background import BackgroundScheduler

    from feedsvc.scheduling.jobs import _CrawlExecutor

    gather = object()  # any live object: the point is that it is not stored with the job
    seen: dict[str, Any] = {}
    done, removed = threading.Event(), threading.Event()
    scheduler = BackgroundScheduler(executors={"default": _CrawlExecutor(1, gather)})  # type: ignore[arg-type]
    scheduler.add_listener(lambda _event: removed.set(), EVENT_JOB_REMOVED)  # the one-off job is done with
    scheduler.add_job(_record, "date", run_date=datetime.now(UTC), args=(seen, done), kwargs={"attempt": 1})
    scheduler.start()
    try:
        assert done.wait(30) and removed.wait(30)
    finally:
        scheduler.shutdown(wait=True)
    assert seen == {"attempt": 1, "crawls": gather}


def test_uvicorn_httptools_protocol_has_the_callbacks_and_state_the_header_deadline_uses() -> None:
    import uvicorn
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    from uvicorn.server import ServerState

    assert _params(HttpToolsProtocol.connection_made) == ["self", "transport"]
    assert _params(HttpToolsProtocol.data_received) == ["self", "data"]
    assert _params(HttpToolsProtocol.on_headers_complete) == ["self"]
    assert _params(HttpToolsProtocol.on_response_complete) == ["self"]
    assert _params(HttpToolsProtocol.connection_lost) == ["self", "exc"]
    config = uvicorn.Config(app="tests.test_dependency_contracts:_asgi", http="httptools")
    config.load()
    loop = asyncio.new_event_loop()
    try:
        protocol = HttpToolsProtocol(config=config, server_state=ServerState(), app_state={}, _loop=loop)
        assert protocol.loop is loop and len(protocol.pipeline) == 0
    finally:
        loop.close()
    assert _params(uvicorn.Server.handle_exit) == ["self", "sig", "frame"]
    assert _params(uvicorn.Server.startup) == ["self", "sockets"]
    assert uvicorn.Server(config).should_exit is False


async def _asgi(scope: Any, receive: Any, send: Any) -> None:  # the app the uvicorn Config above loads
    return None


def test_scrapy_crawler_process_shuts_down_through_signal_shutdown() -> None:
    from scrapy.crawler import CrawlerProcess

    assert len(_params(CrawlerProcess._signal_shutdown)) == 3  # (self, signum, frame)
    # It is the handler CrawlerProcess installs for SIGINT/SIGTERM, so overriding it sees every stop signal.
    sources = "".join(inspect.getsource(cls) for cls in CrawlerProcess.__mro__ if cls.__module__.startswith("scrapy"))
    assert re.search(r"install_shutdown_handlers\W+self\._signal_shutdown\b", sources)




def test_scrapy_download_slots_queue_request_deferred_pairs() -> None:
    """crawler/stop.py drops the requests waiting for their politeness delay from `Downloader.slots[key].queue`,
    failing each `(request, deferred)` pair's deferred so the engine forgets the request."""
    from collections import deque

    from scrapy.core.downloader import Downloader, Slot
    from scrapy.crawler import CrawlerProcess

    assert isinstance(Slot(1, 0.0).queue, deque)
    assert re.search(r"self\.slots\s*:\s*dict\[str,\s*Slot\]", inspect.getsource(Downloader.__init__))
    enqueue = inspect.getsource(Downloader._enqueue_request)
    # The deferred it queues is the one the request's download awaits: failing it fails that download.
    assert re.search(r"(\w+)\s*:\s*Deferred\[Response\]\s*=\s*Deferred\(\)", enqueue)
    assert re.search(r"slot\.queue\.append\(\(request,\s*(\w+)\)\)", enqueue)
    assert re.search(r"return await maybe_deferred_to_future\((\w+)\)", enqueue)
    assert re.search(r"request,\s*queue_dfd\s*=\s*slot\.queue\.popleft\(\)", inspect.getsource(Downloader._process_queue))
    # crawler/process.py reaches each running crawler through the process's `crawlers` set.
    assert isinstance(inspect.getattr_static(CrawlerProcess, "crawlers"), property)


def test_scrapy_engine_keeps_requests_in_progress_and_downloader_processes_queues_as_copied() -> None:
    """crawler/shared.py: a source is done when none of its requests is in the scheduler or in the engine slot's
    `inprogress` (added before the download, removed after the scrape of its response). crawler/middlewares.py's
    PoliteDownloader replaces `Downloader._process_queue`, copied from Scrapy's with one line added."""
    from scrapy.core.downloader import Downloader
    from scrapy.core.engine import ExecutionEngine, _Slot

    assert "self.inprogress: set[Request] = set()" in inspect.getsource(_Slot.__init__)
    download = inspect.getsource(ExecutionEngine._download)
    assert "self._slot.add_request(request)" in download
    started = inspect.getsource(ExecutionEngine._start_scheduled_request)
    assert re.search(r"d\.addBoth\(self\._handle_downloader_output, request\)", started)
    assert re.search(r"d\.addBoth\(partial\(self\._remove_request, request=request\)\)", started)
    process = inspect.getsource(Downloader._process_queue)
    assert "_schedule_coro(self._wait_for_download(slot, request, queue_dfd))" in process
    assert "slot.transferring.add(request)" in inspect.getsource(Downloader._download)
