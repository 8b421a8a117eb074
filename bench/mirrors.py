"""Local git mirrors of public repositories (`owner+name/repo`, made by the search tool's `fetch`), read by the
scripts that rebuild the real-data corpora outside the repository (bench/*_corpus.py)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path


def mirror_of(mirrors: Path, repo: str) -> Path:
    """The git directory of `owner/name` under the mirrors folder."""
    return mirrors / repo.replace("/", "+") / "repo"


def git_blob(mirror: Path, commit: str, path: str) -> bytes | None:
    """The file at `path` in `commit`, or None when the mirror lacks it."""
    done = subprocess.run(["git", "-C", str(mirror), "show", f"{commit}:{path}"], capture_output=True)
    return done.stdout if done.returncode == 0 else None


def corpus_arguments(description: str, default_corpus: Path) -> argparse.ArgumentParser:
    """The options every corpus builder takes: where the mirrors are, where the corpus goes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--mirrors", type=Path, required=True, help="folder with owner+name/repo git mirrors")
    parser.add_argument("--corpus", type=Path, default=default_corpus)
    return parser


def finish(mirrors: Path, corpus: Path, build: Callable[[], tuple[int, list[str]]]) -> int:
    """Runs `build` (files written, one line per file left out) when the mirrors exist; prints the outcome, gives
    the exit code: 0 all written, 1 some left out, 2 no mirrors folder."""
    if not mirrors.is_dir():
        print(f"error: no mirrors folder at {mirrors}", file=sys.stderr)
        return 2
    written, problems = build()
    for line in problems:
        print(f"missing: {line}", file=sys.stderr)
    print(f"{written}/{written + len(problems)} files in {corpus}, sha256 checked")
    return 1 if problems else 0
