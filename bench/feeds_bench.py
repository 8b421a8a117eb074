"""Feed serving benchmark: uncached build time, and cached / 304 throughput beside nginx in the same run.

Usage:
    python bench/feeds_bench.py --items 1000000                   # SQLite in a temp folder (kept with --keep)
    python bench/feeds_bench.py --items 1000000 --database-url postgresql+psycopg://postgres@127.0.0.1/test
    python bench/feeds_bench.py --items 100000 --duration 5 --workers 2 --explain

Steps: (1) generate a database of N items across 100 sources with bulk inserts (every source has a 'latest'
listing of 1,000 entries, 1% of items are near-duplicates, the newest 20,000 items have 5 computed related
links each, so feeds carry their inline "Related" lists); (2) time building /feeds/new.atom (50 entries)
uncached, median of --repeat builds, plus a source feed and a listing feed; (3) run `feedsvc serve` and
nginx (non-daemon, temporary config on 127.0.0.1) serving the same XML as a static file, and load both
with wrk (50 connections) for a cached 200 and a 304 (If-None-Match); print p50/p99 latency, requests/s and
the ratio to nginx. Targets: build < 50 ms; cached >= 0.1 x nginx and > 5,000 req/s; p99 < 20 ms.
Needs wrk and nginx (Debian packages).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from feedsvc.config import parse_config  # noqa: E402
from feedsvc.feeds.builder import FeedBuilder  # noqa: E402
from feedsvc.feeds.spec import FeedFilter, FeedSpec  # noqa: E402
from feedsvc.store import Store  # noqa: E402

SOURCES = 100
LISTING_SIZE = 1000
RELATED_ITEMS = 20_000
START = datetime(2024, 1, 1, tzinfo=UTC)


def config_raw(url: str) -> dict[str, Any]:
    return {
        "database": {"url": url},
        "server": {"base_url": "http://feeds.bench", "cache_max_age": 300},
        "sources": [
            {"id": f"s{n:03d}", "title": f"来源 {n} Source", "start_urls": [f"http://s{n}.bench/"],
             "timezone": "Asia/Shanghai", "listings": [{"id": "latest", "block": "ul.latest"}]}
            for n in range(SOURCES)
        ],
    }


def _item_rows(n_items: int) -> Any:
    for i in range(1, n_items + 1):
        seen = START + timedelta(seconds=30 * i)
        src = f"s{i % SOURCES:03d}"
        yield {
            "id": i, "source_id": src, "url": f"http://{src}.bench/docs/{i}.html",
            "title": f"第{i}号文件 关于做好年度工作的通知 notice {i}", "published": seen, "date_text": "2024-01-01",
            "date_source": "article",
            "summary": f"摘要 {i}: 根据上级要求，现就有关事项通知如下。Summary of item {i} for the benchmark.",
            "content": (f"<p>正文 {i}，<a href=\"/docs/{i - 1}.html\">上一篇</a>。"
                        f"<img src=\"img/{i}.png\"> Body text of item {i}.</p><p>第二段 paragraph two.</p>"),
            "article_fetched_at": seen, "first_seen": seen, "last_seen": seen, "updated_at": seen,
            "duplicate_of": i - 1 if i % 100 == 0 else None,
        }


def _listing_rows(top: int) -> Any:
    for k in range(min(top, SOURCES * LISTING_SIZE)):
        yield {"source_id": f"s{(top - k) % SOURCES:03d}", "listing_id": "latest", "item_id": top - k,
               "kind": "latest", "rank": None, "first_seen": START + timedelta(seconds=30 * (top - k)),
               "last_seen": START + timedelta(seconds=30 * top), "last_run_id": None}


def _related_rows(top: int) -> Any:
    for i in range(max(2, top - RELATED_ITEMS), top + 1):
        for d in range(1, 6):
            if i - d >= 1:
                yield {"from_item_id": i, "to_item_id": i - d, "origin": "computed", "score": 1.0 / d, "rank": d,
                       "updated_at": START}


def _batches(rows: Any, size: int = 20_000) -> Any:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def generate(engine: Engine, n_items: int) -> None:
    """Bulk-load sources, items, listing entries and related links through the schema's table metadata (named
    columns, the model's types and defaults), so a schema change cannot silently break the load. PostgreSQL
    uses COPY for speed, with the column names checked against the same metadata."""
    cfg = parse_config(config_raw(str(engine.url)))
    from feedsvc.models import Item, ListingItem, RelatedLink
    from feedsvc.store.db import make_session_factory
    from feedsvc.store.sources import sync_sources

    with make_session_factory(engine)() as session:
        sync_sources(session, cfg.sources, START)
        session.commit()
    loads = [(Item.__table__, _item_rows(n_items)), (ListingItem.__table__, _listing_rows(n_items)),
             (RelatedLink.__table__, _related_rows(n_items))]
    started = time.perf_counter()
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            for table, rows in loads:
                _copy(cur, table, rows)
            cur.execute("SELECT setval(pg_get_serial_sequence('items', 'id'), %s)", (n_items,))
            raw.commit()
            cur.execute("ANALYZE")  # planner statistics; without them PostgreSQL guesses bad plans
            raw.commit()
        finally:
            raw.close()
    else:
        with engine.begin() as conn:
            for table, rows in loads:
                done = 0
                for batch in _batches(rows):
                    conn.execute(insert(table), batch)
                    done += len(batch)
                    print(f"  {table.name} {done:,}", end="\r", flush=True)
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    print(f"  generated {n_items:,} items in {time.perf_counter() - started:.1f} s" + " " * 20)


def _copy(cur: Any, table: Any, rows: Any) -> None:
    first = next(rows, None)
    if first is None:
        return
    cols = list(first)
    columns = [table.c[name] for name in cols]  # KeyError names a column the schema no longer has
    with cur.copy(f"COPY {table.name} ({','.join(c.name for c in columns)}) FROM STDIN") as copy:
        copy.write_row([first[c] for c in cols])
        for row in rows:
            copy.write_row([row[c] for c in cols])


def explain(engine: Engine) -> None:
    """Print the plans of the feed queries (they must walk an index, not sort the table)."""
    newest = ("SELECT id FROM items WHERE duplicate_of IS NULL ORDER BY first_seen DESC, id DESC LIMIT 50")
    source = ("SELECT id FROM items WHERE source_id = 's001' AND duplicate_of IS NULL "
              "ORDER BY first_seen DESC, id DESC LIMIT 50")
    listing = ("SELECT items.id FROM items JOIN listing_items li ON li.item_id = items.id WHERE li.source_id='s001' "
               "AND li.listing_id='latest' AND items.duplicate_of IS NULL ORDER BY li.first_seen DESC, "
               "li.item_id DESC LIMIT 50")
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        for name, sql in (("new", newest), ("source", source), ("listing", listing)):
            print(f"  plan[{name}]:")
            for row in conn.execute(text(prefix + sql)):
                print("    " + " ".join(str(v) for v in row))


def time_builds(cfg: Any, factory: Any, repeat: int) -> dict[str, float]:
    builder = FeedBuilder(cfg, factory)
    specs = {"/feeds/new.atom": (FeedSpec("new"), "atom"), "/feeds/s001.atom": (FeedSpec("source", source="s001"), "atom"),
             "/feeds/s001/latest.atom": (FeedSpec("listing", source="s001", listing="latest"), "atom"),
             "/feeds/new.json": (FeedSpec("new"), "json")}
    out: dict[str, float] = {}
    for path, (spec, fmt) in specs.items():
        builder.build(spec, fmt, FeedFilter())  # warm the page cache / connection pool
        samples, cpu = [], []
        for _ in range(repeat):
            started, started_cpu = time.perf_counter(), time.process_time()
            built = builder.build(spec, fmt, FeedFilter())
            samples.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        out[path] = statistics.median(samples)
        # CPU time too: on a shared 2-core machine wall time also measures the neighbours.
        print(f"  build {path:<26} median {out[path]:6.1f} ms wall, {statistics.median(cpu):6.1f} ms CPU "
              f"(min wall {min(samples):.1f}; {len(built.body):,} bytes)")
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=10)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def wrk(url: str, duration: int, connections: int, threads: int, header: str | None = None) -> dict[str, float]:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", url]
    if header:
        cmd[1:1] = ["-H", header]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout

    def latency(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not match:
            raise RuntimeError(f"cannot parse wrk output:\n{out}")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": latency("50"), "p99": latency("99"), "non2xx": float(errors.group(1)) if errors else 0}


def start_nginx(root: Path, workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(f"""
worker_processes auto;
error_log {workdir}/nginx-error.log warn;
pid {workdir}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    types {{ application/atom+xml atom; application/rss+xml rss; }}
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {workdir}/tmp; proxy_temp_path {workdir}/tmp; fastcgi_temp_path {workdir}/tmp;
    uwsgi_temp_path {workdir}/tmp; scgi_temp_path {workdir}/tmp;
    server {{ listen 127.0.0.1:{port}; root {root}; }}
}}
""")
    (workdir / "tmp").mkdir(exist_ok=True)
    proc = subprocess.Popen(["nginx", "-p", str(workdir), "-c", str(conf), "-g", "daemon off;"])
    return proc, port


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="PostgreSQL URL of a scratch database (its public schema is "
                        "replaced when it holds another data set); default: SQLite in --workdir or a temp folder")
    parser.add_argument("--repeat", type=int, default=15, help="uncached builds per feed (median reported)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="feedsvc serve worker processes")
    parser.add_argument("--workdir", help="where to keep the SQLite db / static files (reused if present)")
    parser.add_argument("--explain", action="store_true", help="print query plans")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--skip-load", action="store_true",
                        help="generate and time builds only (no feedsvc serve, nginx or wrk; the test suite's smoke run)")
    args = parser.parse_args()
    for tool in () if args.skip_load else ("wrk", "nginx"):
        if shutil.which(tool) is None:
            print(f"error: {tool} not found; install it (apt-get install {tool})", file=sys.stderr)
            return 2
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="feeds-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    workdir.chmod(0o755)  # nginx workers run as an unprivileged user and must read the static file
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    cfg = parse_config(config_raw(url))
    print(f"database: {url}  items: {args.items:,}")
    if args.database_url and _pg_count(url) != args.items:
        _reset_pg(url)  # a PostgreSQL database holding another data set is replaced
    _store = Store.open(url)
    engine, factory = _store.engine, _store.session_factory
    if _count(engine) != args.items:
        if _count(engine):
            print("error: database holds a different item count; use a fresh --workdir", file=sys.stderr)
            return 2
        generate(engine, args.items)
    if args.explain:
        explain(engine)
    print(f"uncached builds (median of {args.repeat}):")
    builds = time_builds(cfg, factory, args.repeat)
    engine.dispose()
    if args.skip_load:
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        return 0

    config_path = workdir / "config.toml"
    _write_toml(config_path, url)
    port = free_port()
    env = {**os.environ, "FEEDSVC_CONFIG": str(config_path)}
    env.pop("FEEDSVC_DATABASE_URL", None)
    server = subprocess.Popen([sys.executable, "-m", "feedsvc", "serve", "--config", str(config_path), "--host",
                               "127.0.0.1", "--port", str(port), "--workers", str(args.workers), "--no-access-log",
                               "--log-level", "warning"], env=env)
    nginx = None
    try:
        feed_url = f"http://127.0.0.1:{port}/feeds/new.atom"
        first = wait_http(feed_url)
        assert first.status_code == 200, first.text
        static_root = workdir / "static"
        (static_root / "feeds").mkdir(parents=True, exist_ok=True)
        (static_root / "feeds/new.atom").write_bytes(first.content)
        small = wait_http(feed_url + "?limit=10")  # a 10-entry feed, the size the peers were measured at
        (static_root / "feeds/new10.atom").write_bytes(small.content)
        nginx, nginx_port = start_nginx(static_root, workdir)
        nginx_url = f"http://127.0.0.1:{nginx_port}/feeds/new.atom"
        nginx_etag = wait_http(nginx_url).headers["etag"]
        for _ in range(args.workers * 20):  # every worker builds and caches its copy
            httpx.get(feed_url, timeout=10)
            httpx.get(feed_url + "?limit=10", timeout=10)
        time.sleep(1.5)
        runs = {
            "feedsvc 200 (cached)": wrk(feed_url, args.duration, args.connections, args.threads),
            "nginx 200 (static)": wrk(nginx_url, args.duration, args.connections, args.threads),
            "feedsvc 304": wrk(feed_url, args.duration, args.connections, args.threads,
                               f"If-None-Match: {first.headers['etag']}"),
            "nginx 304": wrk(nginx_url, args.duration, args.connections, args.threads, f"If-None-Match: {nginx_etag}"),
            "feedsvc 200 10 entries": wrk(feed_url + "?limit=10", args.duration, args.connections, args.threads),
            "nginx 200 10 entries": wrk(nginx_url.replace("new.atom", "new10.atom"), args.duration,
                                        args.connections, args.threads),
        }
    finally:
        for proc in (server, nginx):
            if proc is not None:
                proc.send_signal(signal.SIGTERM if proc is server else signal.SIGQUIT)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
    report(args, builds, runs, len(first.content), len(small.content))
    if not args.keep and not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def report(args: argparse.Namespace, builds: dict[str, float], runs: dict[str, dict[str, float]], size: int,
           small: int) -> None:
    print(f"\nload: wrk -t{args.threads} -c{args.connections} -d{args.duration}s, feedsvc serve --workers "
          f"{args.workers}, bodies {size:,} bytes (50 entries) and {small:,} bytes (10 entries), identity")
    print(f"{'':24} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'vs nginx':>9}")
    for name, r in runs.items():
        peer = runs["nginx 304" if "304" in name else "nginx 200 10 entries" if "10" in name else "nginx 200 (static)"]
        ratio = r["rps"] / peer["rps"] if peer["rps"] else 0
        bad = f"  ({int(r['non2xx'])} non-2xx/3xx!)" if r["non2xx"] else ""
        print(f"{name:24} {r['rps']:10,.0f} {r['p50']:8.2f} {r['p99']:8.2f} {ratio:9.2f}{bad}")
    cached, c304 = runs["feedsvc 200 (cached)"], runs["feedsvc 304"]
    nginx_rps = runs["nginx 200 (static)"]["rps"]
    checks = [
        ("uncached build of /feeds/new.atom < 50 ms", builds["/feeds/new.atom"] < 50),
        ("cached >= 0.1 x nginx (50 and 10 entries)", cached["rps"] >= 0.1 * nginx_rps
         and runs["feedsvc 200 10 entries"]["rps"] >= 0.1 * runs["nginx 200 10 entries"]["rps"]),
        ("cached > 5,000 req/s", cached["rps"] > 5000),
        ("p99 < 20 ms (cached and 304)", cached["p99"] < 20 and c304["p99"] < 20),
    ]
    for label, ok in checks:
        print(f"  [{'met' if ok else 'MISSED'}] {label}")


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM items")).scalar() or 0)


def _pg_count(url: str) -> int:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM items")).scalar() or 0)
    except Exception:  # no such table yet
        return -1
    finally:
        engine.dispose()


def _reset_pg(url: str) -> None:
    """Drop feedsvc's tables in the URL's schema (its search_path), not the whole `public` schema: a test run
    points this at a private schema of a shared database."""
    from sqlalchemy import create_engine

    from feedsvc.models import Base

    engine = create_engine(url)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


def _write_toml(path: Path, url: str) -> None:
    raw = config_raw(url)
    buf = io.StringIO()
    buf.write(f'[database]\nurl = "{url}"\n[server]\nbase_url = "http://feeds.bench"\ncache_max_age = 300\n')
    for source in raw["sources"]:
        buf.write(f'[[sources]]\nid = "{source["id"]}"\ntitle = "{source["title"]}"\n'
                  f'start_urls = ["{source["start_urls"][0]}"]\ntimezone = "Asia/Shanghai"\n'
                  '[[sources.listings]]\nid = "latest"\nblock = "ul.latest"\n')
    path.write_text(buf.getvalue(), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
