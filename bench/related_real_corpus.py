"""Rebuilds the real labelled text for bench/related_quality.py --real (/work/corpus/related) from local git
mirrors of the repositories that bench/related_manifest_<set>.json name, checking every file's sha256.

Usage: python bench/related_real_corpus.py --mirrors /work/.mirror [--corpus DIR]

The mirrors are `owner+name/repo` git directories (the search tool's `fetch` makes them). Nothing fetched is
committed: the texts stay in the corpus folder, with a copy of each manifest (`manifest_<set>.json`) that
bench/related_real.py reads.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import sys
from pathlib import Path

from mirrors import git_blob, mirror_of

BENCH = Path(__file__).resolve().parent


def _csv_row_text(row: list[str]) -> bytes:
    """An AG News row as the manifest describes it: the title line, then the description, backslashes as breaks."""
    _label, title, description = row
    return (title.strip() + "\n" + description.replace("\\", "\n").strip() + "\n").encode("utf-8")


def build_set(manifest_path: Path, mirrors: Path, corpus: Path) -> list[str]:
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    mirror = mirror_of(mirrors, manifest["repo"])
    if not mirror.exists():
        return [f"{manifest_path.name}: no mirror of {manifest['repo']} in {mirrors} (fetch it first)"]
    rows: list[list[str]] = []
    if "path" in manifest:
        table = git_blob(mirror, manifest["commit"], manifest["path"])
        if table is None:
            return [f"{manifest_path.name}: {manifest['path']} not at {manifest['commit'][:10]}"]
        rows = list(csv.reader(io.StringIO(table.decode("utf-8"))))
    problems: list[str] = []
    for entry in manifest["files"]:
        data = _csv_row_text(rows[entry["row"]]) if "row" in entry else git_blob(mirror, manifest["commit"], entry["path"])
        if data is None or hashlib.sha256(data).hexdigest() != entry["sha256"]:
            problems.append(f"{entry['local']}: missing or another sha256 than the manifest's")
            continue
        target = corpus / entry["local"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    set_name = manifest_path.stem.removeprefix("related_manifest_")
    (corpus / f"manifest_{set_name}.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, required=True, help="folder with owner+name/repo git mirrors")
    parser.add_argument("--corpus", type=Path, default=Path("/work/corpus/related"))
    parser.add_argument("--manifests", type=Path, default=BENCH, help="folder of related_manifest_<set>.json files")
    args = parser.parse_args(argv)
    if not args.mirrors.is_dir():
        print(f"error: no mirrors folder at {args.mirrors}", file=sys.stderr)
        return 2
    args.corpus.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for manifest_path in sorted(args.manifests.glob("related_manifest_*.json")):
        problems += build_set(manifest_path, args.mirrors, args.corpus)
    for line in problems:
        print(f"missing: {line}", file=sys.stderr)
    print(f"{args.corpus}: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
