"""Many-sources benchmark: N polite sources, each on its own loopback host, crawled by `feedsvc crawl` (one crawler
process, `[crawl] concurrent_sources` at a time) against today's one-process-per-source crawls and a bare Scrapy
spider over the same sites, in the same run. Prints wall time, CPU, peak RSS and ratios; checks politeness.

Usage: python bench/crawl_many_bench.py [--sources 10 100 1000] [--per-source-max 100] [--window 100]
       [--parallel 4] [--skip-bare] [--bare-crawlers] [--designs] [--delay 1.0] [--nodes 1 2]

--bare-crawlers: the bare spider again as one Scrapy Crawler per site (all at once), against the one spider
whose downloader keeps a slot per host: the per-source cost of the Crawler-per-source design.

--designs: one crawl child (`python -m crawler.run` of every source, a window of all of them) twice: sources
sharing one Scrapy Crawler (the default, crawler/shared.py) and one Crawler per source (--crawler-per-source).

--nodes K: the same sources through K crawl nodes (`feedsvc worker`, on this machine) fed by
`feedsvc crawl --redis` (Redis at $FEEDSVC_BENCH_REDIS_URL, default redis://127.0.0.1:6379/14).

Each site is a distinct host (127.0.1.1, 127.0.1.2, … then 127.0.2.1 …, all on one port) serving a listing of
14 articles and the 14 article pages, from one asyncio server process listening once on the wildcard address
(every 127.x.y.z reaches it; peers off loopback are refused), so 10,000 sites cost connections, not sockets. Every source is configured with a 1 s
delay and 1 request at a time; the server counts the requests in flight per host (each response takes
20 ms, so overlapping requests would show) and the shortest gap between two requests to one host. Any host
that saw more than one request at a time fails the run. "per-source" is the way crawls ran before: one
`python -m crawler.run SOURCE` per source, --parallel at a time (the scheduler ran 4); it runs only up to
--per-source-max sources (its time grows linearly, so beyond that it is extrapolated from the largest measured
run and marked "~").
CPU is user+system of every child process; "rss MB" is the largest single process, "all MB" the peak of all
the run's processes together (a parent and its crawl children; sampled twice a second).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from process_tree import tree_rss

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = 14
REDIS = os.environ.get("FEEDSVC_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
RESPONSE_SECONDS = 0.02


def host(i: int) -> str:
    return f"127.0.{1 + i // 250}.{1 + i % 250}"


# -- the fixture sites -----------------------------------------------------------------------------------------------
def listing(i: int) -> bytes:
    items = "".join(f'<li><a href="/a/{n}.html">Site {i} story number {n}</a> '
                    f'<time datetime="2026-11-{1 + n:02d}T09:30:00Z">Nov {1 + n}, 2026</time></li>'
                    for n in range(ARTICLES))
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Site {i}</title></head><body>'
            f'<main><section><h2>Latest posts</h2><ul>{items}</ul></section></main></body></html>').encode()


def article(i: int, n: int) -> bytes:
    body = "".join(f"<p>Paragraph {p} of story {n} on site {i}: polite crawlers wait between requests, "
                   f"and many sites crawled together keep the machine busy.</p>" for p in range(8))
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Site {i} story number {n}</title></head>'
            f'<body><article><h1>Site {i} story number {n}</h1><time datetime="2026-11-{1 + n:02d}T09:30:00Z">'
            f'Nov {1 + n}, 2026</time>{body}</article></body></html>').encode()


class Sites:
    """The asyncio server behind every host; counts requests, concurrency and gaps per host."""

    def __init__(self, n: int, port: int) -> None:
        self.n, self.port = n, port
        self.stats: dict[str, dict[str, float]] = {}
        self.inflight: dict[str, int] = {}
        self.last: dict[str, float] = {}

    def reset(self) -> None:
        self.stats.clear()
        self.last.clear()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        addr = writer.get_extra_info("sockname")[0]
        if not addr.startswith("127."):
            writer.close()
            return
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode()
                if path == "/__stats":
                    await self.respond(writer, 200, json.dumps(self.stats).encode(), "application/json")
                    continue
                if path == "/__reset":
                    self.reset()
                    await self.respond(writer, 200, b"ok", "text/plain")
                    continue
                now = time.monotonic()
                st = self.stats.setdefault(addr, {"requests": 0, "max_inflight": 0, "min_gap": 1e9})
                st["requests"] += 1
                if addr in self.last:
                    st["min_gap"] = min(st["min_gap"], now - self.last[addr])
                self.last[addr] = now
                self.inflight[addr] = self.inflight.get(addr, 0) + 1
                st["max_inflight"] = max(st["max_inflight"], self.inflight[addr])
                try:
                    await asyncio.sleep(RESPONSE_SECONDS)
                    i = _index(addr)
                    if path == "/":
                        await self.respond(writer, 200, listing(i), "text/html; charset=utf-8")
                    elif path.startswith("/a/") and path.endswith(".html") and path[3:-5].isdigit():
                        await self.respond(writer, 200, article(i, int(path[3:-5])), "text/html; charset=utf-8")
                    else:
                        await self.respond(writer, 404, b"not found", "text/plain")
                finally:
                    self.inflight[addr] -= 1
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def respond(self, writer: asyncio.StreamWriter, status: int, body: bytes, ctype: str) -> None:
        reason = {200: "OK", 404: "Not Found"}[status]
        writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                     f"Connection: keep-alive\r\n\r\n".encode() + body)
        await writer.drain()

    async def serve(self) -> None:
        # One listening socket on the wildcard address answers every 127.x.y.z (Linux routes all of 127/8 to
        # lo): 10,000 sites need 10,000 connections, not 10,000 more listening sockets. Other peers are refused.
        server = await asyncio.start_server(self.handle, "0.0.0.0", self.port, backlog=4096)
        print("ready", flush=True)
        await server.serve_forever()


def _index(addr: str) -> int:
    _, _, a, b = addr.split(".")
    return (int(a) - 1) * 250 + int(b) - 1


def start_sites(n: int) -> tuple[subprocess.Popen[str], int]:
    import socket

    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))
        port = int(sock.getsockname()[1])
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(n), str(port)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc, port


def site_stats(port: int, reset: bool = False) -> dict[str, dict[str, float]]:
    with urllib.request.urlopen(f"http://{host(0)}:{port}/{'__reset' if reset else '__stats'}", timeout=30) as r:
        body = r.read()
    return {} if reset else dict(json.loads(body))


# -- the crawls ------------------------------------------------------------------------------------------------------
def write_config(folder: Path, n: int, port: int, delay: float, window: int) -> Path:
    lines = [f'[database]\nurl = "sqlite:///{folder}/feeds.db"\n',
             f'[crawl]\nuser_agent = "feedsvc-bench/1.0"\ndownload_delay = {delay}\nautothrottle = false\n'
             f'concurrent_requests_per_domain = 1\nobey_robots = false\ntimeout = 30\nretries = 1\n'
             f'concurrent_sources = {window}\nhttp_cache_dir = "httpcache"\n',
             '[scheduler]\nlease_ttl = 120\n']
    for i in range(n):
        lines.append(f'[[sources]]\nid = "s{i}"\ntitle = "Site {i}"\nstart_urls = ["http://{host(i)}:{port}/"]\n'
                     f'timezone = "UTC"\n  [[sources.listings]]\n  id = "latest"\n  heading = "Latest posts"\n')
    path = folder / "config.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def env() -> dict[str, str]:
    out = dict(os.environ)
    out.pop("FEEDSVC_DATABASE_URL", None)
    out["PYTHONPATH"] = os.pathsep.join([str(ROOT), out.get("PYTHONPATH", "")])
    return out


def measure(run: Any) -> dict[str, float]:
    """Wall, CPU and peak RSS of the processes `run()` starts, measured in a forked child of this script so
    RUSAGE_CHILDREN (CPU summed, RSS the largest single process) covers this run only; `tree_mb` is the peak of
    all of them together (sampled twice a second)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, then report its children's usage
        import threading

        os.close(read)
        me, peak, done = os.getpid(), [0], threading.Event()

        def sample() -> None:
            while not done.wait(0.5):
                peak[0] = max(peak[0], tree_rss(me, include_root=False))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        extra = run() or {}
        wall = time.monotonic() - started
        done.set()
        sampler.join()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        report = {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
                  "tree_mb": max(peak[0], usage.ru_maxrss * 1024) / 2**20, **extra}
        os.write(write, json.dumps(report).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        body = pipe.read()
    os.waitpid(pid, 0)
    return dict(json.loads(body))


def feedsvc_crawl(config: Path) -> dict[str, float]:
    result = subprocess.run([sys.executable, "-m", "feedsvc", "crawl", "--config", str(config), "--no-related"],
                            env=env(), capture_output=True, text=True)
    if result.returncode != 0:
        print(result.stdout[-2000:], result.stderr[-2000:], file=sys.stderr)
    return {"ok": float(result.returncode == 0)}


def node_crawls(config: Path, nodes: int, window: int) -> dict[str, float]:
    """`nodes` crawl nodes (`feedsvc worker`) on this machine, fed by `feedsvc crawl --redis`; wall time is the
    crawl command's (the nodes were started before it and idle out after)."""
    import uuid

    key = f"feedsvc:bench:{uuid.uuid4().hex[:8]}"
    workers = [subprocess.Popen([sys.executable, "-m", "feedsvc", "worker", "--config", str(config), "--redis", REDIS,
                                 "--key", key, "--idle-exit", "5", "--no-related", "--window", str(window)],
                                env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for _ in range(nodes)]
    time.sleep(3)  # the nodes' start-up is not part of a crawl
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "feedsvc", "crawl", "--config", str(config), "--redis", REDIS,
                             "--redis-key", key], env=env(), capture_output=True, text=True)
    wall = time.monotonic() - started
    for worker in workers:
        worker.wait()
    return {"wall": wall, "ok": float(result.returncode == 0)}


def crawl_child(config: Path, ids: list[str], *extra: str) -> dict[str, float]:
    cmd = [sys.executable, "-m", "crawler.run", *ids, "--config", str(config), "--window", str(len(ids)), *extra]
    result = subprocess.run(cmd, env=env(), capture_output=True, text=True)
    if result.returncode != 0:
        print(result.stderr[-2000:], file=sys.stderr)
    return {"ok": float(result.returncode == 0)}


def per_source_crawls(config: Path, ids: list[str], parallel: int) -> dict[str, float]:
    def one(source_id: str) -> int:
        cmd = [sys.executable, "-m", "crawler.run", source_id, "--config", str(config)]
        return subprocess.run(cmd, env=env(), capture_output=True).returncode

    with ThreadPoolExecutor(parallel) as pool:
        codes = list(pool.map(one, ids))
    return {"ok": float(all(c == 0 for c in codes))}


BARE_SPIDER = textwrap.dedent('''
    import sys
    import scrapy
    from scrapy.crawler import CrawlerProcess

    MODE, URLS = sys.argv[2], sys.argv[3:]

    class Bare(scrapy.Spider):
        name = "bare"
        async def start(self):
            for url in self.urls:
                yield scrapy.Request(url, callback=self.parse)
        def parse(self, response):
            for href in response.css("li a::attr(href)").getall():
                yield response.follow(href, callback=self.article)
        def article(self, response):
            yield {"title": response.css("h1::text").get(), "body": " ".join(response.css("p::text").getall())}

    process = CrawlerProcess({"DOWNLOAD_DELAY": float(sys.argv[1]), "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
                              "CONCURRENT_REQUESTS": 10000, "LOG_LEVEL": "WARNING", "ROBOTSTXT_OBEY": False,
                              "TELNETCONSOLE_ENABLED": False, "REMOTE_CONTROL_ENABLED": False})
    if MODE == "crawlers":  # one Crawler (own engine, downloader, slots) per site, all at once
        for url in URLS:
            process.crawl(Bare, urls=[url])
    else:  # one spider; Scrapy's downloader keeps one slot per host
        process.crawl(Bare, urls=URLS)
    process.start()
''')


def bare_spider(urls: list[str], delay: float, mode: str = "slots") -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:  # a file, not -c: Scrapy reads its callbacks' source
        script = Path(tmp) / "bare.py"
        script.write_text(BARE_SPIDER, encoding="utf-8")
        result = subprocess.run([sys.executable, str(script), str(delay), mode, *urls], capture_output=True,
                                text=True)
    return {"ok": float(result.returncode == 0)}


def politeness(port: int, n: int, delay: float) -> dict[str, float]:
    stats = site_stats(port)
    worst = max((s["max_inflight"] for s in stats.values()), default=0)
    gap = min((s["min_gap"] for s in stats.values()), default=0)
    pages = sum(s["requests"] for s in stats.values())
    assert worst <= 1, f"a site saw {worst} requests at once (configured: 1)"
    return {"hosts": float(len(stats)), "pages": pages, "max_inflight": worst, "min_gap": gap}


def bench(n: int, args: argparse.Namespace) -> list[tuple[str, dict[str, float]]]:
    sites, port = start_sites(n)
    rows: list[tuple[str, dict[str, float]]] = []
    try:
        ids = [f"s{i}" for i in range(n)]
        with tempfile.TemporaryDirectory() as tmp:
            config = write_config(Path(tmp), n, port, args.delay, args.window)
            site_stats(port, reset=True)
            rows.append(("feedsvc crawl", {**measure(lambda: feedsvc_crawl(config)), **politeness(port, n, args.delay)}))
        for nodes in args.nodes:
            with tempfile.TemporaryDirectory() as tmp:
                config = write_config(Path(tmp), n, port, args.delay, args.window)
                subprocess.run([sys.executable, "-m", "feedsvc", "db", "upgrade", "--config", str(config)], env=env(),
                               capture_output=True)
                site_stats(port, reset=True)
                rows.append((f"{nodes} node(s)", {**measure(lambda c=config, k=nodes: node_crawls(c, k, args.window)),
                                                  **politeness(port, n, args.delay)}))
        designs = [("child, shared", ()), ("child, crawler/src", ("--crawler-per-source",))] if args.designs else []
        for name, extra in designs:
            with tempfile.TemporaryDirectory() as tmp:
                config = write_config(Path(tmp), n, port, args.delay, args.window)
                subprocess.run([sys.executable, "-m", "feedsvc", "db", "upgrade", "--config", str(config)], env=env(),
                               capture_output=True)
                site_stats(port, reset=True)
                rows.append((name, {**measure(lambda c=config, e=extra: crawl_child(c, ids, *e)),
                                    **politeness(port, n, args.delay)}))
        if n <= args.per_source_max:
            with tempfile.TemporaryDirectory() as tmp:
                config = write_config(Path(tmp), n, port, args.delay, args.window)
                site_stats(port, reset=True)
                rows.append((f"per-source x{args.parallel}",
                             {**measure(lambda: per_source_crawls(config, ids, args.parallel)),
                              **politeness(port, n, args.delay)}))
        if not args.skip_bare:
            site_stats(port, reset=True)
            urls = [f"http://{host(i)}:{port}/" for i in range(n)]
            rows.append(("bare scrapy", {**measure(lambda: bare_spider(urls, args.delay)),
                                         **politeness(port, n, args.delay)}))
            if args.bare_crawlers:
                site_stats(port, reset=True)
                rows.append(("bare, crawler/site", {**measure(lambda: bare_spider(urls, args.delay, "crawlers")),
                                                    **politeness(port, n, args.delay)}))
    finally:
        sites.send_signal(signal.SIGTERM)
        sites.wait()
    return rows


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        asyncio.run(Sites(int(sys.argv[2]), int(sys.argv[3])).serve())
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--per-source-max", type=int, default=100)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--skip-bare", action="store_true")
    parser.add_argument("--bare-crawlers", action="store_true",
                        help="also run the bare spider as one Scrapy Crawler per site (the per-source overhead of "
                             "one Crawler each, against one spider with a download slot per host)")
    parser.add_argument("--designs", action="store_true",
                        help="also one crawl child both ways: sources sharing one Crawler, and one Crawler each")
    parser.add_argument("--nodes", type=int, nargs="*", default=[],
                        help="also crawl through this many `feedsvc worker` nodes fed from Redis, e.g. --nodes 1 2")
    args = parser.parse_args()
    print(f"{'sources':>7} {'crawl':<18} {'wall s':>8} {'cpu s':>7} {'rss MB':>7} {'all MB':>7} {'pages':>6} "
          f"{'max/site':>8} {'min gap':>7} {'vs feedsvc':>10}")
    per_source_rate, basis = 17.0 / args.parallel, "assumed: ~17 s per polite source"
    for n in args.sources:
        rows = bench(n, args)
        measured = next((r["wall"] / n for name, r in rows if name.startswith("per-source")), None)
        if measured is not None:
            per_source_rate, basis = measured, "extrapolated from the largest measured run"
        base = rows[0][1]["wall"]
        for name, r in rows:
            print(f"{n:>7} {name:<18} {r['wall']:>8.1f} {r['cpu']:>7.1f} {r['rss_mb']:>7.0f} {r['tree_mb']:>7.0f} "
                  f"{r['pages']:>6.0f} "
                  f"{r['max_inflight']:>8.0f} {r['min_gap']:>7.2f} {r['wall'] / base:>9.2f}x"
                  + ("" if r.get("ok", 1) else "  (errors)"), flush=True)
        if n > args.per_source_max:
            print(f"{n:>7} {'per-source x' + str(args.parallel):<16} ~{n * per_source_rate:>7.0f}"
                  f"  ({basis}: {per_source_rate:.1f} s per source)"
                  f" {n * per_source_rate / base:>8.2f}x", flush=True)


if __name__ == "__main__":
    main()
