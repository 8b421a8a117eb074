"""Smoke run of `python bench/related_real_corpus.py`: a tiny mirror made here holding a text file and an
AG News-shaped CSV; files whose sha256 matches are written with the manifest copy related_real.py reads, a
wrong sha256 is reported and its file left out."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from tests.bench.test_suggest_corpus import _git

ROOT = Path(__file__).resolve().parents[2]


def test_texts_and_csv_rows_are_rebuilt_from_mirrors_and_checked(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    _git(work, "init", "-q")
    (work / "post.txt").write_text("Subject: a post\n\nIts body.\n", encoding="utf-8")
    (work / "train.csv").write_text('"3"," A title ","First line\\\\Second line "\n', encoding="utf-8")
    _git(work, "add", ".")
    _git(work, "commit", "-qm", "texts")
    commit = _git(work, "rev-parse", "HEAD").strip()
    mirrors = tmp_path / "mirrors"
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(mirrors / "me+texts" / "repo")], check=True)
    row_text = b"A title\nFirst line\n\nSecond line\n"  # title line, then the description, backslashes as breaks
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "related_manifest_en.json").write_text(json.dumps({"repo": "me/texts", "commit": commit, "files": [
        {"path": "post.txt", "category": "a", "local": "en/post.txt",
         "sha256": hashlib.sha256((work / "post.txt").read_bytes()).hexdigest()},
        {"path": "post.txt", "category": "a", "local": "en/bad.txt", "sha256": "0" * 64}]}))
    (manifests / "related_manifest_en-rows.json").write_text(json.dumps({
        "repo": "me/texts", "commit": commit, "path": "train.csv",
        "files": [{"row": 0, "category": "b", "local": "rows/0000.txt", "sha256": hashlib.sha256(row_text).hexdigest()}]}))
    corpus = tmp_path / "corpus"
    done = subprocess.run([sys.executable, "bench/related_real_corpus.py", "--mirrors", str(mirrors), "--corpus",
                           str(corpus), "--manifests", str(manifests)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1, done.stderr
    assert done.stdout.strip() == f"2/3 files in {corpus}, sha256 checked"
    assert "en/bad.txt" in done.stderr and "sha256" in done.stderr
    assert (corpus / "en" / "post.txt").read_bytes() == (work / "post.txt").read_bytes()
    assert (corpus / "rows" / "0000.txt").read_bytes() == row_text
    assert not (corpus / "en" / "bad.txt").exists()
    assert json.loads((corpus / "manifest_en-rows.json").read_text())["path"] == "train.csv"
