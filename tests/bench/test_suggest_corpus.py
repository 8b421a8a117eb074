"""Smoke run of `python bench/suggest_corpus.py`: a tiny mirror made here, one file copied with its sha256 checked,
one with a wrong sha256 reported and left out."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout


def test_corpus_is_rebuilt_from_mirrors_and_checked(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    _git(work, "init", "-q")
    (work / "page.html").write_text("<html><body><ul><li>x</li></ul></body></html>", encoding="utf-8")
    _git(work, "add", ".")
    _git(work, "commit", "-qm", "page")
    commit = _git(work, "rev-parse", "HEAD").strip()
    mirrors = tmp_path / "mirrors"
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(mirrors / "me+pages" / "repo")], check=True)
    good = hashlib.sha256((work / "page.html").read_bytes()).hexdigest()
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps([
        {"file": "a.html", "repo": "me/pages", "path": "page.html", "commit": commit, "sha256": good},
        {"file": "b.html", "repo": "me/pages", "path": "page.html", "commit": commit, "sha256": "0" * 64}]))
    corpus = tmp_path / "corpus"
    done = subprocess.run([sys.executable, "bench/suggest_corpus.py", "--mirrors", str(mirrors), "--corpus",
                           str(corpus), "--manifest", str(manifest)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1, done.stderr
    assert done.stdout.strip() == f"1/2 files in {corpus}, sha256 checked"
    assert "b.html" in done.stderr and "sha256" in done.stderr
    assert (corpus / "a.html").read_bytes() == (work / "page.html").read_bytes()
    assert not (corpus / "b.html").exists()
