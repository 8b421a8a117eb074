"""Local git mirrors of public repositories (`owner+name/repo`, made by the search tool's `fetch`), read by the
scripts that rebuild the real-data corpora outside the repository (bench/*_corpus.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def mirror_of(mirrors: Path, repo: str) -> Path:
    """The git directory of `owner/name` under the mirrors folder."""
    return mirrors / repo.replace("/", "+") / "repo"


def git_blob(mirror: Path, commit: str, path: str) -> bytes | None:
    """The file at `path` in `commit`, or None when the mirror lacks it."""
    done = subprocess.run(["git", "-C", str(mirror), "show", f"{commit}:{path}"], capture_output=True)
    return done.stdout if done.returncode == 0 else None
