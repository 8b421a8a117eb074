"""feedsvc.scheduling.config_watch: the watcher thread reloads on a content change or on request, and survives
a reload that raises."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedsvc.scheduling.config_watch import ConfigWatcher, file_fingerprint


class Reloads:
    """on_change for the watcher: records the file's content at each call; `fail_first` raises on the first."""

    def __init__(self, path: Path, fail_first: bool = False) -> None:
        self.path, self.fail_first = path, fail_first
        self.seen: list[str] = []
        self.cond = threading.Condition()

    def __call__(self) -> None:
        with self.cond:
            self.seen.append(self.path.read_text())
            self.cond.notify_all()
        if self.fail_first and len(self.seen) == 1:
            raise RuntimeError("broken reload")

    def wait(self, count: int, timeout: float = 10.0) -> list[str]:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.seen) >= count, timeout), f"only {self.seen} after {timeout}s"
            return list(self.seen)


@pytest.fixture
def watchers() -> Iterator[list[ConfigWatcher]]:
    started: list[ConfigWatcher] = []
    yield started
    for watcher in started:
        watcher.stop()


def test_fingerprint_is_the_content_hash_or_none(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    assert file_fingerprint(path) is None  # missing (mid-save, deleted)
    path.write_text("a = 1\n")
    first = file_fingerprint(path)
    path.write_text("a = 2\n")
    second = file_fingerprint(path)
    assert first is not None and second is not None and first[1] != second[1]
    path.write_text("a = 1\n")
    again = file_fingerprint(path)
    assert again is not None and again[1] == first[1]


def test_a_content_change_reloads(tmp_path: Path, watchers: list[ConfigWatcher]) -> None:
    path = tmp_path / "config.toml"
    path.write_text("a = 1\n")
    reloads = Reloads(path)
    watcher = ConfigWatcher(path, reloads, interval=0.02)
    watcher.start()
    watchers.append(watcher)
    path.write_text("a = 2\n")
    assert reloads.wait(1) == ["a = 2\n"]


def test_request_reloads_even_when_file_watching_is_off(tmp_path: Path, watchers: list[ConfigWatcher]) -> None:
    path = tmp_path / "config.toml"
    path.write_text("a = 1\n")
    reloads = Reloads(path)
    watcher = ConfigWatcher(path, reloads, interval=60, watch_file=False)  # only request() wakes it
    watcher.start()
    watchers.append(watcher)
    path.write_text("a = 2\n")
    watcher.request()  # what SIGHUP does
    assert reloads.wait(1) == ["a = 2\n"]


def test_a_failing_reload_keeps_the_watcher_alive(tmp_path: Path, watchers: list[ConfigWatcher]) -> None:
    path = tmp_path / "config.toml"
    path.write_text("a = 1\n")
    reloads = Reloads(path, fail_first=True)
    watcher = ConfigWatcher(path, reloads, interval=60)
    watcher.start()
    watchers.append(watcher)
    watcher.request()
    reloads.wait(1)
    path.write_text("a = 3\n")
    watcher.request()
    assert reloads.wait(2)[1] == "a = 3\n"
    assert watcher._thread is not None and watcher._thread.is_alive()


def test_stop_ends_the_thread(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("a = 1\n")
    watcher = ConfigWatcher(path, lambda: None, interval=60)
    watcher.start()
    watcher.stop()  # wakes the 60 s wait at once
    assert watcher._thread is not None and not watcher._thread.is_alive()
