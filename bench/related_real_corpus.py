"""Rebuilds the real labelled text for bench/related_quality.py --real (/work/corpus/related) from local git
mirrors of the repositories that bench/related_manifest_<set>.json name, checking every file's sha256.

Usage: python bench/related_real_corpus.py --mirrors /work/.mirror [--corpus DIR]

The mirrors are `owner+name/repo` git directories (the search tool's `fetch` makes them). Nothing fetched is
committed: the texts stay in the corpus folder, with a copy of each manifest (`manifest_<set>.json`) that
bench/related_real.py reads.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sys
from pathlib import Path

from mirrors import corpus_arguments, finish, git_blob, mirror_of

BENCH = Path(__file__).resolve().parent


def _csv_row_text(row: list[str]) -> bytes:
    """An AG News row as the manifest describes it: the title line, then the description, backslashes as breaks."""
    _label, title, description = row
    return (title.strip() + "\n" + description.replace("\\", "\n").strip() + "\n").encode("utf-8")


def build_set(manifest_path: Path, mirrors: Path, corpus: Path) -> tuple[int, list[str]]:
    """Writes the set's files whose sha256 matches, and its manifest; returns how many, and a line per other."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    mirror = mirror_of(mirrors, manifest["repo"])
    rows: list[list[str]] | None = None
    if "path" in manifest and mirror.exists():
        table = git_blob(mirror, manifest["commit"], manifest["path"])
        rows = None if table is None else list(csv.reader(io.StringIO(table.decode("utf-8"))))
    written, problems = 0, []
    for entry in manifest["files"]:
        if not mirror.exists():
            problems.append(f"{entry['local']}: no mirror of {manifest['repo']} in {mirrors} (fetch it first)")
            continue
        if "row" in entry:
            data = None if rows is None else _csv_row_text(rows[entry["row"]])
        else:
            data = git_blob(mirror, manifest["commit"], entry["path"])
        if data is None or hashlib.sha256(data).hexdigest() != entry["sha256"]:
            problems.append(f"{entry['local']}: missing or another sha256 than the manifest's")
            continue
        target = corpus / entry["local"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written += 1
    set_name = manifest_path.stem.removeprefix("related_manifest_")
    (corpus / f"manifest_{set_name}.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return written, problems


def main(argv: list[str] | None = None) -> int:
    parser = corpus_arguments(__doc__.splitlines()[0], Path("/work/corpus/related"))
    parser.add_argument("--manifests", type=Path, default=BENCH, help="folder of related_manifest_<set>.json files")
    args = parser.parse_args(argv)

    def build_all() -> tuple[int, list[str]]:
        args.corpus.mkdir(parents=True, exist_ok=True)
        written, problems = 0, []
        for manifest_path in sorted(args.manifests.glob("related_manifest_*.json")):
            done, missing = build_set(manifest_path, args.mirrors, args.corpus)
            written, problems = written + done, problems + missing
        return written, problems

    return finish(args.mirrors, args.corpus, build_all)


if __name__ == "__main__":
    sys.exit(main())
