"""Render benchmark: pages/s and peak memory of a crawl where 1 page in 20 needs the browser (render = "auto")
against the same crawl with render = "never", measured in the same run.

Usage: python bench/render_bench.py [--listings 50] [--concurrency 8] [--rounds 1]

The generated site has --listings listing pages (the source's start URLs), each with a 19-item 最新文稿 list and
a 阅读排行 list that is empty in the HTML and filled by an inline script, and one article page per list entry:
20 pages per listing page, of which the listing page is the one that needs Chromium. Both crawls are the real
`python -m crawler.run` child (robots.txt obeyed, no delay, HTTP cache and SQLite writes included); "auto"
fetches each listing page once more through Chromium (the Debian package, /usr/bin/chromium), "never" does not.
Memory is the peak of the crawl's whole process tree (Chromium's processes included), summed as PSS from
/proc/<pid>/smaps_rollup so pages shared between Chromium's processes count once; sampled every 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from crawl_bench import serve  # noqa: E402  (the pre-forked keep-alive fixture server)

PER_LIST = 19


def listing_page(k: int) -> str:
    items = "\n".join(f'<li><a href="/a/{k}-{i}.html">第{k}页文章{i}</a> <span>2026-01-{1 + i % 28:02d}</span></li>'
                      for i in range(PER_LIST))
    ranking = "".join(f"<li><a href=\\'/a/{k}-{i}.html\\'>排行{i}</a></li>" for i in range(5))
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>列表 {k}</title></head><body>'
            f'<div class="box"><div class="title"><h3>最新文稿</h3><a href="/more">更多</a></div><ul>{items}</ul></div>'
            '<div class="box"><div class="title"><h3>阅读排行</h3><a href="/more">更多</a></div><ul id="phb"></ul></div>'
            f"<script>document.getElementById('phb').innerHTML = '{ranking}';</script></body></html>")


def article_page(k: int, i: int) -> str:
    body = "".join(f"<p>第{k}页文章{i}的第{n}段正文,内容足够长,像真实的文章页面一样。</p>" for n in range(8))
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>第{k}页文章{i}</title></head><body>'
            f"<h1>第{k}页文章{i}</h1><p>发布时间:2026-01-{1 + i % 28:02d} 09:00</p><article>{body}</article></body></html>")


def build_site(listings: int) -> dict[str, bytes]:
    site = {"/robots.txt": b"User-agent: *\nDisallow: /private/\n"}
    for k in range(listings):
        site[f"/l/{k}.html"] = listing_page(k).encode()
        for i in range(PER_LIST):
            site[f"/a/{k}-{i}.html"] = article_page(k, i).encode()
    return site


def tree_pss_kib(root: int) -> int:
    """PSS (KiB) of `root` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
        except (OSError, StopIteration, ValueError):
            continue
    return total


def crawl(base: str, work: Path, listings: int, render: str, concurrency: int, env: dict[str, str]) -> dict[str, Any]:
    starts = ", ".join(f'"{base}/l/{k}.html"' for k in range(listings))
    config = work / f"{render}.toml"
    config.write_text(textwrap.dedent(f'''
        [database]
        url = "sqlite:///{work / (render + '.db')}"
        [crawl]
        user_agent = "feedsvc-bench/1.0"
        download_delay = 0
        concurrent_requests_per_domain = {concurrency}
        max_pages = {listings * (PER_LIST + 3)}
        retries = 0
        http_cache_dir = "{work / ('cache-' + render)}"
        [[sources]]
        id = "bench"
        title = "bench"
        start_urls = [{starts}]
        timezone = "Asia/Shanghai"
        render = "{render}"
          [[sources.listings]]
          id = "latest"
          heading = "最新文稿"
          [[sources.listings]]
          id = "ranking"
          kind = "ranking"
          heading = "阅读排行"
    '''), encoding="utf-8")
    cmd = [sys.executable, "-m", "crawler.run", "bench", "--config", str(config), "--progress-json"]
    peak = 0
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, text=True)
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, tree_pss_kib(proc.pid))
                stop.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        proc.wait()
        stop.set()
        sampler.join()
        wall = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        sys.exit(f"crawl failed ({proc.returncode}): {' '.join(cmd)}\n{stderr[-3000:]}")
    done = [json.loads(line) for line in stdout.splitlines() if '"event": "done"' in line][-1]
    return {"pages": done["counts"]["pages"], "elapsed": done.get("elapsed_seconds") or wall, "wall": wall,
            "pss_kib": peak, "status": done["status"], "ranking": done["counts"]["listing_counts"].get("ranking", 0)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=50, help="listing pages (each brings 19 article pages)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args(argv)

    site = build_site(args.listings)
    port, pids = serve(site, 2)
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("FEEDSVC_DATABASE_URL", None)
    pages = args.listings * (PER_LIST + 1)
    print(f"site: {pages} pages ({args.listings} listing pages needing the browser, 1 in {PER_LIST + 1}) at {base}; "
          f"concurrency {args.concurrency}")
    try:
        for n in range(1, args.rounds + 1):
            with tempfile.TemporaryDirectory() as tmp:
                never = crawl(base, Path(tmp), args.listings, "never", args.concurrency, env)
                auto = crawl(base, Path(tmp), args.listings, "auto", args.concurrency, env)
            # Rates count the site's pages (the same work for both); auto also fetched the listing pages again.
            n_rate, a_rate = pages / never["elapsed"], pages / auto["elapsed"]
            print(f"round {n}:")
            for name, r, rate in (("never", never, n_rate), ("auto ", auto, a_rate)):
                print(f"  render={name}: {r['pages']} fetches in {r['elapsed']:.1f}s = {rate:.0f} site pages/s "
                      f"(wall {r['wall']:.1f}s), peak PSS {r['pss_kib'] / 1024:.0f} MiB, ranking entries "
                      f"{r['ranking']}, status {r['status']}")
            print(f"  ratio auto/never: pages/s {a_rate / n_rate:.2f}, peak memory {auto['pss_kib'] / max(never['pss_kib'], 1):.2f}")
            if auto["ranking"] == 0:
                print("  warning: no ranking entries rendered (is Chromium installed? apt-get install chromium)")
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGTERM)
    return 0


if __name__ == "__main__":
    sys.exit(main())
