"""Builds the extraction corpus (/work/corpus/extract) from local git mirrors of three public sets, and its manifest.

Usage: python bench/extract_corpus.py --mirrors /work/.mirror [--corpus DIR] [--manifest bench/extract_manifest.json]

Nothing fetched is committed: pages and expected texts stay in the corpus directory; the manifest (source repo,
path, commit, sha256, language, kind of label) is what the repository keeps. The sets:
- mozilla/readability test/test-pages/*: source.html + expected.html (full expected text) + expected-metadata.json
  (title, publishedTime). The synthetic test cases (tiny hand-written pages) are left out: they are not real pages.
- adbar/trafilatura tests/evaldata.json + tests/eval|cache/*.html: snippets the text must / must not contain.
  Only English and Chinese pages are kept (the goals are stated for those two languages).
- immortal-autumn/Chinese-Web-Content-Extraction-Dataset: original/*.html (GBK, GB2312 and UTF-8) with hand-cut
  cleaned/*.txt body text and date/*.txt publication dates.
Kept aside and never read here (acceptance sets): scrapinghub/article-extraction-benchmark, GeneralNewsExtractor.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

from lxml import html as lxml_html

READABILITY = "mozilla/readability"
TRAFILATURA = "adbar/trafilatura"
ZH_SET = "immortal-autumn/Chinese-Web-Content-Extraction-Dataset"
_MIN_SOURCE_BYTES = 12_000  # readability's synthetic cases are a few KB; real saved pages are far larger
_EN_WORDS = frozenset(["the", "and", "of", "to", "in", "is", "that", "for", "with", "was", "on", "are", "as", "it", "be", "this", "by", "from", "have", "has", "not"])
_CJK = re.compile(r"[\u4e00-\u9fff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
# Pages kept in the corpus (and the manifest) but left out of the scores, each with the reason, which the bench
# prints beside every extractor's score on them: a label that is not an article's text cannot tell extractors apart.
EXCLUDED = {
    "zh-386d70f8": "not an article: a forum's error page (错误的版面参数), labelled with the whole page's text, "
                   "its login form's labels and options included",
}


def _git(repo: Path, *args: str) -> bytes:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True).stdout


def _lang(text: str) -> str:
    """'zh' when most letters are CJK, 'en' when English function words are frequent, else 'other' (Japanese too:
    kanji would make it 'zh', its kana tell it apart)."""
    if not text or len(_KANA.findall(text)) > 0.1 * len(re.sub(r"\s", "", text)):
        return "other"
    cjk = len(_CJK.findall(text))
    if cjk > 0.3 * len(re.sub(r"\s", "", text)):
        return "zh"
    words = re.findall(r"[a-z]+", text.lower())
    if words and sum(w in _EN_WORDS for w in words) / len(words) > 0.12:
        return "en"
    return "other"


def _html_text(markup: bytes) -> str:
    root = lxml_html.fromstring(markup.decode("utf-8"))
    return " ".join(" ".join(root.itertext()).split())


class Builder:
    def __init__(self, corpus: Path) -> None:
        self.corpus = corpus
        self.pages: list[dict[str, object]] = []
        (corpus / "pages").mkdir(parents=True, exist_ok=True)

    def add(self, page_id: str, source: bytes, origin: dict[str, str], label: dict[str, object]) -> None:
        (self.corpus / "pages" / f"{page_id}.html").write_bytes(source)
        excluded = {"excluded": EXCLUDED[page_id]} if page_id in EXCLUDED else {}
        self.pages.append({"id": page_id, **origin, "sha256": hashlib.sha256(source).hexdigest(), **label, **excluded})


def add_readability(builder: Builder, repo: Path) -> None:
    commit = _git(repo, "rev-parse", "HEAD").decode().strip()
    names = _git(repo, "ls-tree", "--name-only", "HEAD:test/test-pages").decode().split()
    for name in names:
        base = f"test/test-pages/{name}"
        source = _git(repo, "show", f"HEAD:{base}/source.html")
        if len(source) < _MIN_SOURCE_BYTES:
            continue
        expected = _html_text(_git(repo, "show", f"HEAD:{base}/expected.html"))
        meta = json.loads(_git(repo, "show", f"HEAD:{base}/expected-metadata.json"))
        builder.add(f"rd-{name}", source, {"repo": READABILITY, "path": f"{base}/source.html", "commit": commit},
                    {"lang": _lang(expected), "kind": "text", "expected": expected, "title": meta.get("title"),
                     "date": meta.get("publishedTime"), "label_files": [f"{base}/expected.html",
                                                                         f"{base}/expected-metadata.json"]})


def add_trafilatura(builder: Builder, repo: Path, limit: int) -> None:
    commit = _git(repo, "rev-parse", "HEAD").decode().strip()
    files = set(_git(repo, "ls-tree", "-r", "--name-only", "HEAD", "tests/eval", "tests/cache").decode().splitlines())
    data = json.loads(_git(repo, "show", "HEAD:tests/evaldata.json"))
    kept = {"en": 0, "zh": 0}
    for url, entry in data.items():
        path = next((f"tests/{d}/{entry['file']}" for d in ("eval", "cache") if f"tests/{d}/{entry['file']}" in files),
                    None)
        with_ = [s for s in entry.get("with") or [] if s]
        if path is None or len(with_) < 2:
            continue
        lang = _lang(" ".join(with_))
        if lang not in kept or (lang == "en" and kept["en"] >= limit):
            continue
        kept[lang] += 1
        source = _git(repo, "show", f"HEAD:{path}")
        stem = re.sub(r"[^a-zA-Z0-9.-]+", "_", entry["file"])[:80]
        builder.add(f"tf-{stem}", source, {"repo": TRAFILATURA, "path": path, "commit": commit},
                    {"lang": lang, "kind": "snippets", "url": url, "with": with_,
                     "without": [s for s in entry.get("without") or [] if s],
                     "label_files": ["tests/evaldata.json"]})


def add_chinese(builder: Builder, repo: Path) -> None:
    commit = _git(repo, "rev-parse", "HEAD").decode().strip()
    for path in _git(repo, "ls-tree", "-r", "--name-only", "HEAD", "original").decode().splitlines():
        stem = Path(path).stem
        source = _git(repo, "show", f"HEAD:{path}")
        expected = " ".join(_git(repo, "show", f"HEAD:cleaned/{stem}.txt").decode("utf-8", "replace").split())
        date = _git(repo, "show", f"HEAD:date/{stem}.txt").decode("utf-8", "replace").strip()
        if len(expected) < 50:
            continue
        charset = re.search(rb"charset=[\"']?([a-zA-Z0-9-]+)", source[:5000])
        builder.add(f"zh-{stem[:8]}", source, {"repo": ZH_SET, "path": path, "commit": commit},
                    {"lang": "zh", "kind": "text", "expected": expected,
                     "date": None if date in ("", "UNKNOWN") else date,
                     "charset": charset[1].decode().lower() if charset else None,
                     "label_files": [f"cleaned/{stem}.txt", f"date/{stem}.txt"]})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, required=True, help="folder with owner+name/repo git mirrors")
    parser.add_argument("--corpus", type=Path, default=Path("/work/corpus/extract"))
    parser.add_argument("--manifest", type=Path, default=Path(__file__).parent / "extract_manifest.json")
    parser.add_argument("--english-snippet-pages", type=int, default=80)
    args = parser.parse_args(argv)
    repos = {name: args.mirrors / f"{name.replace('/', '+')}" / "repo" for name in (READABILITY, TRAFILATURA, ZH_SET)}
    missing = [name for name, path in repos.items() if not path.exists()]
    if missing:
        print(f"error: no mirror of {', '.join(missing)} under {args.mirrors}; fetch them first", file=sys.stderr)
        return 2
    builder = Builder(args.corpus)
    add_readability(builder, repos[READABILITY])
    add_trafilatura(builder, repos[TRAFILATURA], args.english_snippet_pages)
    add_chinese(builder, repos[ZH_SET])
    (args.corpus / "labels.json").write_text(json.dumps(builder.pages, ensure_ascii=False, indent=1))
    manifest = [{k: page[k] for k in ("id", "repo", "path", "commit", "sha256", "lang", "kind", "label_files")}
                | ({"charset": page["charset"]} if page.get("charset") else {})
                | ({"excluded": page["excluded"]} if page.get("excluded") else {}) for page in builder.pages]
    args.manifest.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
    counts: dict[str, int] = {}
    for page in builder.pages:
        key = f"{page['lang']}/{page['kind']}"
        counts[key] = counts.get(key, 0) + 1
    print(f"{len(builder.pages)} pages in {args.corpus}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
