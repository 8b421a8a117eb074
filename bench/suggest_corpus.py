"""Rebuilds the real-page suggest corpus (/work/corpus/suggest) from local git mirrors of the repositories that
bench/data/suggest_manifest.json names, checking every file's sha256.

Usage: python bench/suggest_corpus.py --mirrors /work/.mirror [--corpus DIR] [--manifest PATH]

The mirrors are `owner+name/repo` git directories (the search tool's `fetch` makes them). Nothing fetched is
committed: the pages stay in the corpus directory; the manifest (repo, path, commit, sha256) is what git keeps.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from mirrors import corpus_arguments, finish, git_blob, mirror_of

MANIFEST = Path(__file__).resolve().parent / "data" / "suggest_manifest.json"


def build(mirrors: Path, corpus: Path, manifest: Path = MANIFEST) -> list[str]:
    """Writes every manifest file whose blob is found with the right sha256; returns one problem line per other."""
    problems: list[str] = []
    corpus.mkdir(parents=True, exist_ok=True)
    for entry in json.loads(manifest.read_text(encoding="utf-8")):
        mirror = mirror_of(mirrors, entry["repo"])
        where = f"{entry['repo']}:{entry['path']}@{entry['commit'][:10]}"
        data = git_blob(mirror, entry["commit"], entry["path"]) if mirror.exists() else None
        if data is None:
            problems.append(f"{entry['file']}: {where} not in {mirror} (fetch that repository first)")
            continue
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            problems.append(f"{entry['file']}: {where} has another sha256 than the manifest's")
            continue
        (corpus / entry["file"]).write_bytes(data)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = corpus_arguments(__doc__.splitlines()[0], Path("/work/corpus/suggest"))
    parser.add_argument("--manifest", type=Path, default=MANIFEST)
    args = parser.parse_args(argv)

    def build_all() -> tuple[int, list[str]]:
        problems = build(args.mirrors, args.corpus, args.manifest)
        return len(json.loads(args.manifest.read_text(encoding="utf-8"))) - len(problems), problems

    return finish(args.mirrors, args.corpus, build_all)


if __name__ == "__main__":
    sys.exit(main())
