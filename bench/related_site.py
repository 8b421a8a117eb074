"""Related items as a new user meets them: real labelled text served as one site's article pages, English and
Chinese side by side, crawled and related by the normal `feedsvc crawl`, then by `feedsvc related --rebuild`,
and read back as a reader is shown them; plain TF-IDF over the texts the crawl stored, in the same run.

Usage:
    python bench/related_site.py                    # 200 English (5 newsgroups x 40), 147 Chinese (7 x 21)
    python bench/related_site.py --en 5x8 --zh 3x6  # a smoke run (what the test runs)

The texts are the development sets of bench/related_real.py (20 Newsgroups `en`, the Fudan corpus `zh`; the
folder `--corpus`, default /work/corpus/related, rebuilt by bench/related_real_corpus.py), never the sets kept
for acceptance. The site is served on 127.0.0.1: a paged 最新文稿 listing (month-day dates, no year) of every
article in a shuffled order, and article pages with navigation, a date line, the body, a 您可能感兴趣的文稿 block
listing the site's ten newest articles (unrelated to the page, as on the portal the project started from) and a
footer. bench/related_quality.py measures the method on the texts directly; this measures what the crawl and
the after-crawl refresh make of them.

Printed per language: precision@5 over the items shown a list (the first 5, or fewer when the list is shorter,
in the item's category), the share of items shown one, how many were shown a computed list (not the site's own
links), and how many items the first 5 hold on average; plain TF-IDF (scikit-learn, title + stored body, full
top 5; cut at 0.7 of each item's best match; cut to show as many items as ours) on the same stored texts.
"""

from __future__ import annotations

import argparse
import html
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bs4 import BeautifulSoup
from crawl_bench import serve, write_config
from related_real import DEFAULT_CORPUS, RealDoc, _html, load_corpus, quality, shown, tfidf_lists

ROOT = Path(__file__).resolve().parent.parent
PER_PAGE = 20
NEWEST = 10


def pick(docs: list[RealDoc], lang: str, spec: str, seed: int) -> list[RealDoc]:
    """`spec` "CxN": N documents of each of the first C categories (sorted) of that language's set."""
    categories, per = (int(x) for x in spec.split("x"))
    part = [d for d in docs if d.lang == lang]
    chosen = sorted({d.category for d in part})[:categories]
    rnd = random.Random(seed)
    out: list[RealDoc] = []
    for category in chosen:
        members = [d for d in part if d.category == category]
        out.extend(rnd.sample(members, min(per, len(members))))
    return out


def _mmdd(n: int) -> str:
    return f"{1 + n % 12:02d}-{1 + n % 28:02d}"


def build_site(docs: list[RealDoc]) -> dict[str, bytes]:
    """Article n is `docs[n]` at /a/n.html; the listing shows them newest first in the given order."""
    pages = -(-len(docs) // PER_PAGE)
    newest = "".join(f'<li><a href="/a/{n}.html">{_mmdd(n)} {html.escape(docs[n].title)}</a></li>'
                     for n in range(min(NEWEST, len(docs))))
    nav = '<div class="nav"><a href="/">首页</a> <a href="/list_1.html">最新文稿</a> <a href="/about.html">关于我们</a></div>'
    footer = ('<div class="footer">版权所有 © 示例文稿网 | 联系我们: editor@example.test | '
              '本站文稿仅供学习参考</div>')
    site: dict[str, bytes] = {}
    for k in range(1, pages + 1):
        rows = "".join(f'<li><span class="date">{_mmdd(n)}</span><a href="/a/{n}.html">{html.escape(docs[n].title)}'
                       f'</a></li>' for n in range((k - 1) * PER_PAGE, min(k * PER_PAGE, len(docs))))
        more = "".join(f'<a href="/list_{j}.html">{j}</a>' for j in range(k + 1, min(k + 6, pages + 1)))
        site[f"/list_{k}.html"] = (
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>最新文稿 第{k}页</title></head><body>{nav}'
            f'<div class="main"><h2>最新文稿</h2><ul class="list">{rows}</ul><div class="pages">{more}</div></div>'
            f'{footer}</body></html>').encode()
    for n, doc in enumerate(docs):
        site[f"/a/{n}.html"] = (
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(doc.title)} - 示例文稿网</title>'
            f'</head><body>{nav}<div class="article"><h1>{html.escape(doc.title)}</h1>'
            f'<div class="info">发布时间: 2025-{_mmdd(n)} 09:30 来源: 示例文稿网</div>'
            f'<div class="content">{_html(doc.body)}</div></div>'
            f'<div class="hd"><h3>您可能感兴趣的文稿</h3></div><ul class="rel">{newest}</ul>{footer}</body></html>'
        ).encode()
    site["/"] = site["/list_1.html"]
    site["/robots.txt"] = b"User-agent: *\nDisallow:\n"
    return site


def feedsvc(config: Path, *args: str) -> float:
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "feedsvc", *args, "--config", str(config)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"feedsvc {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return time.perf_counter() - t0


def shown_lists(config: Path, by_url: dict[str, RealDoc]) -> tuple[dict[int, list[int]], int]:
    """What a reader is shown for every article (the store's `related_items`, as the related feed and `feedsvc
    related ID` show it), as corpus ids, and how many of those lists are computed (not the site's links)."""
    from feedsvc.config import load_config
    from feedsvc.store import Store
    from feedsvc.store.related import related_items

    cfg = load_config(config)
    store = Store.open(cfg.database.url)
    lists: dict[int, list[int]] = {}
    computed = 0
    with store.session_factory() as session:
        from sqlalchemy import select

        from feedsvc.models import Item

        doc_of = {item_id: by_url[url] for item_id, url in session.execute(select(Item.id, Item.url)) if url in by_url}
        for item_id, doc in doc_of.items():
            found = related_items(session, item_id, cfg.related.limit)
            lists[doc.id] = [doc_of[item.id].id for item, _score in found if item.id in doc_of]
            computed += bool(found) and found[0][1] > 0
    store.engine.dispose()
    return lists, computed


def stored_docs(db: Path, by_url: dict[str, RealDoc]) -> list[RealDoc]:
    """The corpus documents as the crawl stored them: title, and the whole extracted body as plain text (what
    relatedness reads is capped, see feedsvc/related/docs.py; the baseline reads it all)."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT url, title, content FROM items").fetchall()
    out = [replace(by_url[url], title=title, body=BeautifulSoup(content or "", "lxml").get_text("\n"))
           for url, title, content in rows if url in by_url]
    return sorted(out, key=lambda d: d.id)


def matched_tfidf(texts: list[RealDoc], ours: dict[int, list[int]]) -> dict[int, list[int]]:
    """Plain TF-IDF lists cut at the share of each item's best match (0.50 to 0.99) that shows, per language,
    as many of the first 5 on average as `ours` does: precision@5 is over the items shown, so lists of
    the same length compare the rankings, not the lengths."""
    out: dict[int, list[int]] = {}
    for lang in sorted({d.lang for d in texts}):
        part = [d for d in texts if d.lang == lang]
        target = shown(part, ours, lang)
        tried = [tfidf_lists(part, cut=cut / 100) for cut in range(50, 100)]
        out.update(min(tried, key=lambda lists: abs(shown(part, lists, lang) - target)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path,
                        default=Path(os.environ.get("FEEDSVC_RELATED_CORPUS", DEFAULT_CORPUS)),
                        help="folder of real labelled text (manifest_<set>.json files)")
    parser.add_argument("--en", default="5x40", help="English: CATEGORIESxPER_CATEGORY of the en set")
    parser.add_argument("--zh", default="7x21", help="Chinese: CATEGORIESxPER_CATEGORY of the zh set")
    parser.add_argument("--en-set", default="en", help="which English set: en (20 Newsgroups) or en-agnews")
    parser.add_argument("--seed", type=int, default=20)
    args = parser.parse_args()
    if not list(args.corpus.glob("manifest_*.json")):
        print(f"error: no real labelled corpus in {args.corpus} (manifest_<set>.json files; "
              "bench/related_real_corpus.py builds it), or pass --corpus DIR.", file=sys.stderr)
        sys.exit(2)
    corpus = load_corpus(args.corpus)
    docs = pick(corpus, args.en_set, args.en, args.seed) + pick(corpus, "zh", args.zh, args.seed)
    random.Random(args.seed).shuffle(docs)
    site = build_site(docs)
    port, pids = serve(site, 2)
    base = f"http://127.0.0.1:{port}"
    by_url = {f"{base}/a/{n}.html": doc for n, doc in enumerate(docs)}
    try:
        with tempfile.TemporaryDirectory() as folder:
            work = Path(folder)
            config = write_config(base, work, len(site), 8, "never", name="site", listings=("latest", "related"))
            crawl_s = feedsvc(config, "crawl")
            after_crawl, computed_crawl = shown_lists(config, by_url)
            rebuild_s = feedsvc(config, "related", "--rebuild")
            after_rebuild, computed_rebuild = shown_lists(config, by_url)
            texts = stored_docs(work / "site.db", by_url)
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGTERM)
            os.waitpid(pid, 0)
    langs = sorted({d.lang for d in docs})
    print(f"one site, {len(docs)} articles: " + ", ".join(
        f"{lang} {sum(d.lang == lang for d in docs)} in {len({d.category for d in docs if d.lang == lang})} "
        f"categories" for lang in langs) + f"; {len(texts)} stored; `feedsvc crawl` {crawl_s:.1f} s, "
        f"`feedsvc related --rebuild` {rebuild_s:.1f} s")
    rows = [("feedsvc crawl (its after-crawl refresh)", after_crawl, computed_crawl),
            ("feedsvc related --rebuild", after_rebuild, computed_rebuild),
            ("plain TF-IDF, stored texts, top 5", tfidf_lists(texts), None),
            ("plain TF-IDF, stored texts, cut 0.7", tfidf_lists(texts, cut=0.7), None),
            ("plain TF-IDF, as many shown as ours", matched_tfidf(texts, after_crawl), None)]
    print(f"{'':<40}" + "".join(f"{'p@5 ' + lang:>9}{'answered':>10}{'shown':>7}" for lang in langs)
          + f"{'computed':>10}")
    for name, lists, computed in rows:
        measured = quality(texts, lists)
        print(f"{name:<40}" + "".join(f"{measured[lang][0]:9.3f}{measured[lang][1]:10.1%}"
                                      f"{shown(texts, lists, lang):7.1f}" for lang in langs)
              + (f"{computed:10d}" if computed is not None else ""))


if __name__ == "__main__":
    main()
