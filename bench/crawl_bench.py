"""Crawl benchmark: pages/s of our crawl (ArticleListSpider + pipelines into SQLite) against a bare Scrapy spider
that parses the same pages and stores nothing, in the same run; and the peak memory (RSS) of each crawl process.

Usage: python bench/crawl_bench.py [--pages 5000] [--concurrency 8] [--server-procs 2] [--rounds 1] [--bare-concurrent-items 100]
       [--render auto|never] [--whole]

--whole compares whole processes instead: `feedsvc crawl` (the parent command, its crawl child and the
after-crawl related refresh, on a fresh database) against the bare spider's process; wall time, CPU of all
processes, and the peak RSS of all of them together.

A site of about --pages pages is generated in memory (listing pages with a 推荐文稿 block, an empty
script-filled 阅读排行 and a 20-item 最新文稿 list with numbered pagination; article pages with a body and a
您可能感兴趣的文稿 block of 10 items) and served on 127.0.0.1 by a pre-forked HTTP/1.1 keep-alive server
(--server-procs processes sharing one listening socket, pages pre-rendered in memory), so the server is not what
is measured. Delays are off and robots.txt is obeyed by both crawlers; both run as child processes with the same
concurrency. Our crawl is the real `python -m crawler.run` (HTTP cache, batched SQLite writes included).
Rates use Scrapy's own elapsed time (spider opened → closed); wall time including process start is shown too.
The bare spider keeps Scrapy's default CONCURRENT_ITEMS (100; ours sets 8, see crawler/settings.py); pass
--bare-concurrent-items 8 to give it the same tuning.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from process_tree import tree_rss

ROOT = Path(__file__).resolve().parent.parent
PER_LIST = 20

WORDS = ["办公室工作", "经验交流", "新时代", "党建", "服务意识", "大局意识", "发展意识", "基层减负", "调查研究", "工作总结",
         "实施意见", "学习教育", "会议记录", "典型事迹", "对策建议", "廉政谈话", "主题教育", "心得体会"]
PARA = ("办公室是党委、政府的服务部,服务是工作主旋律。提高服务水平,做好办公室工作,对于完善领导决策,推动各项工作落实,"
        "维护社会稳定,促进经济发展,树立机关良好形象起着重要作用。")


def title(n: int) -> str:
    rnd = random.Random(n)
    return f"{2020 + n % 6}年" + "".join(rnd.sample(WORDS, 3)) + f"({n})"


def mmdd(n: int) -> str:
    return f"{1 + n % 12:02d}-{1 + n % 28:02d}"


def listing_page(k: int, lists: int, articles: int) -> str:
    first = (k - 1) * PER_LIST
    latest = "".join(f'<li><span>{mmdd(i)}</span><a href="/a/{i}.html" target="_blank">{title(i)}</a></li>'
                     for i in range(first, min(first + PER_LIST, articles)))
    rec = "".join(f'<li><a href="/a/{i}.html">{mmdd(i)}{title(i)}</a></li>' for i in range(0, 5))
    pages = "".join(f'<a href="/list_{j}.html">{j}</a>' for j in range(k + 1, min(k + 6, lists + 1)))
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>最新文稿 第{k}页</title></head><body>'
            f'<div class="nav"><a href="/">首页</a><a href="/list_1.html">最新文稿</a></div>'
            f'<div class="side"><h3>推荐文稿</h3><ul>{rec}</ul>'
            f'<div class="title"><span>阅读排行</span></div><ul id="phb"></ul>'
            f'<script>document.getElementById("phb").innerHTML="<li><a href=/a/1.html>x</a></li>";</script></div>'
            f'<div class="main"><h2>最新文稿</h2><ul class="list">{latest}</ul><div class="pages">{pages}</div></div>'
            f'<div class="footer">版权所有</div></body></html>')


def article_page(n: int, articles: int) -> str:
    body = "".join(f"<p>{PARA}{title(n + j)}</p>" for j in range(12))
    related = "".join(f'<li><a href="/a/{(n + j) % articles}.html">{mmdd(n + j)}{title((n + j) % articles)}</a></li>'
                      for j in range(1, 11))
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title(n)}</title></head><body>'
            f'<div class="nav"><a href="/">首页</a></div><h1>{title(n)}</h1>'
            f'<div class="info">发布时间:2025-{1 + n % 12:02d}-{1 + n % 28:02d} 09:30 来源:本站</div>'
            f'<div class="content">{body}</div>'
            f'<div class="hd"><h3>您可能感兴趣的文稿</h3></div><ul class="rel">{related}</ul>'
            f'<div class="footer">版权所有</div></body></html>')


def build_site(pages: int) -> dict[str, bytes]:
    lists = max(1, round(pages / (PER_LIST + 1)))
    articles = lists * PER_LIST
    site = {f"/list_{k}.html": listing_page(k, lists, articles).encode() for k in range(1, lists + 1)}
    site.update({f"/a/{n}.html": article_page(n, articles).encode() for n in range(articles)})
    site["/"] = site["/list_1.html"]
    site["/robots.txt"] = b"User-agent: *\nDisallow: /private/\n"
    return site


def serve(site: dict[str, bytes], procs: int) -> tuple[int, list[int]]:
    """Pre-fork `procs` HTTP/1.1 keep-alive servers on one socket; returns (port, child pids)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            body = site.get(self.path.split("?", 1)[0])
            status = 200 if body is not None else 404
            body = body if body is not None else b"not found"
            self.send_response(status)
            ctype = "text/plain" if self.path.endswith(".txt") else "text/html; charset=utf-8"
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    from socketserver import ThreadingMixIn

    class Server(ThreadingMixIn, HTTPServer):
        daemon_threads = True

        def server_bind(self) -> None:  # the socket is already bound and shared
            pass

        def server_activate(self) -> None:
            pass

    pids = []
    for _ in range(procs):
        pid = os.fork()
        if pid == 0:
            server = Server(("127.0.0.1", 0), Handler, bind_and_activate=False)
            server.socket = sock
            try:
                server.serve_forever()
            finally:
                os._exit(0)
        pids.append(pid)
    port = int(sock.getsockname()[1])
    sock.close()
    return port, pids


BARE_SPIDER = textwrap.dedent('''
    import json, sys
    import scrapy
    from scrapy.crawler import CrawlerProcess

    class Bare(scrapy.Spider):
        name = "bare"
        def __init__(self, start, **kw):
            super().__init__(**kw)
            self.start_urls = [start]
        def parse(self, response):
            for href in response.css("ul li a::attr(href)").getall() + response.css("div.pages a::attr(href)").getall():
                if "/a/" in href:
                    yield response.follow(href, self.parse_article)
                else:
                    yield response.follow(href, self.parse)
        def parse_article(self, response):
            response.css("h1::text").get(); response.css("div.content").get(); response.css("ul.rel li a").getall()

    start, concurrency, items = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    process = CrawlerProcess({"CONCURRENT_ITEMS": items,"LOG_LEVEL": "ERROR", "ROBOTSTXT_OBEY": True, "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
                              "CONCURRENT_REQUESTS": max(16, concurrency), "DOWNLOAD_DELAY": 0,
                              "TELNETCONSOLE_ENABLED": False, "REMOTE_CONTROL_ENABLED": False,
                              "USER_AGENT": "bare-bench/1.0"})
    crawler = process.create_crawler(Bare)
    process.crawl(crawler, start=start)
    process.start()
    stats = crawler.stats.get_stats()
    print(json.dumps({"pages": stats.get("response_received_count", 0) - 1,
                      "elapsed": stats.get("elapsed_time_seconds")}))
''')


def run_child(cmd: list[str], env: dict[str, str]) -> tuple[float, int, str, str, float, int]:
    """Run a crawl child; (wall seconds, peak RSS in KiB, stdout, stderr, CPU seconds user+sys, the largest
    single process's peak RSS in KiB). CPU includes the child's own children (`feedsvc crawl` starts the crawl
    process); the peak RSS is the largest of the processes, or of all of them together when they overlapped
    (sampled every 50 ms): the memory the command needed."""
    import threading

    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, text=True)
        peak, done = [0], threading.Event()

        def sample() -> None:
            while not done.wait(0.05):
                peak[0] = max(peak[0], tree_rss(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        sys.exit(f"crawl failed ({proc.returncode}): {' '.join(cmd)}\n{stderr[-3000:]}")
    largest = int(usage.ru_maxrss)  # of the process and its waited-for descendants: the largest one's peak
    return wall, max(largest, peak[0] // 1024), stdout, stderr, usage.ru_utime + usage.ru_stime, largest


def ours(base: str, work: Path, pages: int, concurrency: int, env: dict[str, str],
         whole: bool = False, render: str = "auto") -> dict[str, Any]:
    config = write_config(base, work, pages, concurrency, render)
    if whole:  # the real command: parent, crawl child, the after-crawl step (related refresh) on a fresh database
        wall, rss, _, _, cpu, largest = run_child([sys.executable, "-m", "feedsvc", "crawl", "--config", str(config)],
                                                  env)
        return {"wall": wall, "rss_kib": rss, "largest_kib": largest, "cpu": cpu, **stored(work / "bench.db")}
    # The related-items refresh that follows a real crawl is not part of the crawl rate (bench/related_bench.py).
    cmd = [sys.executable, "-m", "crawler.run", "bench", "--config", str(config), "--progress-json"]
    wall, rss, stdout, _, cpu, _ = run_child(cmd, env)
    done = [json.loads(line) for line in stdout.splitlines() if '"event": "done"' in line][-1]
    return {"pages": done["counts"]["pages"], "elapsed": done.get("elapsed_seconds"), "wall": wall, "rss_kib": rss,
            "status": done["status"], "items": done["counts"]["items_seen"], "cpu": cpu}


def crawl_settings(database: Path, work: Path, pages: int, concurrency: int) -> str:
    """The [database] and [crawl] tables of a benchmark's config: a local site, no delay, no retries."""
    return textwrap.dedent(f'''
        [database]
        url = "sqlite:///{database}"
        [crawl]
        user_agent = "feedsvc-bench/1.0"
        download_delay = 0
        concurrent_requests_per_domain = {concurrency}
        max_pages = {pages + 100}
        retries = 0
        http_cache_dir = "{work / 'httpcache'}"
    ''')


LISTINGS = {  # the generated site's lists, as an admin configures them
    "recommended": 'kind = "recommended"\nheading = "推荐文稿"',
    "ranking": 'kind = "ranking"\nheading = "阅读排行"',
    "latest": 'heading = "最新文稿"\npagination = "div.pages a"',
    "related": 'kind = "related"\nheading = "您可能感兴趣的文稿"',
}


def write_config(base: str, work: Path, pages: int, concurrency: int, render: str, name: str = "bench",
                 listings: tuple[str, ...] = tuple(LISTINGS)) -> Path:
    """`work/NAME.toml`: one source `NAME` on `base` with these of LISTINGS, its database `work/NAME.db`."""
    config = work / f"{name}.toml"
    tables = "".join(f'\n[[sources.listings]]\nid = "{key}"\n{LISTINGS[key]}' for key in listings)
    config.write_text(crawl_settings(work / f"{name}.db", work, pages, concurrency) + textwrap.dedent(f'''
        [[sources]]
        id = "{name}"
        title = "{name}"
        start_urls = ["{base}/"]
        timezone = "Asia/Shanghai"
        render = "{render}"
    ''') + tables + "\n", encoding="utf-8")
    return config


def stored(db: Path) -> dict[str, Any]:
    """What `feedsvc crawl` left in the database: the last run's pages, items and status."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        pages, items, status = conn.execute(
            "SELECT pages, items_seen, status FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()
    return {"pages": pages, "items": items, "status": status, "elapsed": None}


def bare(base: str, work: Path, concurrency: int, items: int, env: dict[str, str]) -> dict[str, Any]:
    script = work / "bare_spider.py"
    script.write_text(BARE_SPIDER, encoding="utf-8")
    wall, rss, stdout, _, cpu, _ = run_child([sys.executable, str(script), base + "/", str(concurrency), str(items)], env)
    result = json.loads(stdout.strip().splitlines()[-1])
    return {**result, "wall": wall, "rss_kib": rss, "cpu": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--server-procs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1, help="alternate bare/ours this many times")
    parser.add_argument("--bare-concurrent-items", type=int, default=100,
                        help="CONCURRENT_ITEMS of the bare spider (default: Scrapy's default, 100)")
    parser.add_argument("--render", choices=("auto", "never"), default="auto",
                        help="the source's render setting (auto: the site's script-filled ranking starts Chromium; "
                             "never: the same plain pages the bare spider fetches)")
    parser.add_argument("--whole", action="store_true",
                        help="run the whole `feedsvc crawl` command (parent, child, related refresh; fresh database) "
                             "and compare whole-process wall time, CPU and peak RSS with the bare spider's process")
    args = parser.parse_args()

    site = build_site(args.pages)
    page_count = sum(1 for path in site if path.endswith(".html")) - 1  # "/" duplicates list_1
    port, pids = serve(site, args.server_procs)
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("FEEDSVC_DATABASE_URL", None)
    print(f"site: {page_count} pages ({len(site) - 2} paths, {sum(map(len, site.values())) / 1e6:.1f} MB) at {base}, "
          f"{args.server_procs} server process(es); concurrency {args.concurrency}")
    results: list[tuple[dict[str, Any], dict[str, Any]]] = []
    try:
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as tmp:
                b = bare(base, Path(tmp), args.concurrency, args.bare_concurrent_items, env)
                o = ours(base, Path(tmp), args.pages, args.concurrency, env, whole=args.whole, render=args.render)
            results.append((b, o))
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGTERM)
    if args.whole:
        report_whole(results)
        return
    ratios = []
    for n, (b, o) in enumerate(results, 1):
        b_rate, o_rate = b["pages"] / b["elapsed"], o["pages"] / o["elapsed"]
        ratios.append(o_rate / b_rate)
        print(f"round {n}:")
        print(f"  bare scrapy : {b['pages']} pages in {b['elapsed']:.1f}s = {b_rate:.0f} pages/s "
              f"(wall {b['wall']:.1f}s, CPU {b['cpu']:.1f}s), peak RSS {b['rss_kib'] / 1024:.0f} MiB")
        print(f"  feedsvc     : {o['pages']} pages in {o['elapsed']:.1f}s = {o_rate:.0f} pages/s "
              f"(wall {o['wall']:.1f}s, CPU {o['cpu']:.1f}s), peak RSS {o['rss_kib'] / 1024:.0f} MiB, "
              f"{o['items']} items stored, status {o['status']}")
        print(f"  ratio feedsvc/bare = {o_rate / b_rate:.2f} (target >= 0.7)")
    if len(ratios) > 1:
        print(f"median ratio over {len(ratios)} rounds: {statistics.median(ratios):.2f}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (other work on the machine skews both crawlers)")


def report_whole(results: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    speed, memory = [], []
    for n, (b, o) in enumerate(results, 1):
        speed.append(b["wall"] / o["wall"])
        memory.append(o["rss_kib"] / b["rss_kib"])
        print(f"round {n}:")
        print(f"  bare scrapy  : {b['pages']} pages, whole process {b['wall']:.2f}s wall, CPU {b['cpu']:.2f}s, "
              f"peak RSS {b['rss_kib'] / 1024:.0f} MiB")
        print(f"  feedsvc crawl: {o['pages']} pages, whole process {o['wall']:.2f}s wall, CPU {o['cpu']:.2f}s, "
              f"peak RSS {o['rss_kib'] / 1024:.0f} MiB (its largest process alone {o['largest_kib'] / 1024:.0f} MiB), "
              f"{o['items']} items stored, status {o['status']}")
        print(f"  speed bare wall / feedsvc wall = {speed[-1]:.2f} (target >= 0.6), CPU ratio "
              f"{b['cpu'] / o['cpu']:.2f}, memory feedsvc / bare = {memory[-1]:.2f} (target <= 1.5)")
    if len(results) > 1:
        print(f"median over {len(results)} rounds: speed {statistics.median(speed):.2f}, "
              f"memory {statistics.median(memory):.2f}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (other work on the machine skews both crawlers)")


if __name__ == "__main__":
    main()
