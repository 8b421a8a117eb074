"""The README's promises: its two fresh-clone commands exist, and CI runs exactly its test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _quickstart_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```(?:sh|bash|console)?\n(.*?)```", text, flags=re.S)
    assert block, "README.md must open with a code block of commands"
    return [line for line in block.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_readme_starts_with_exactly_two_commands() -> None:
    commands = _quickstart_commands()
    assert len(commands) == 2, commands
    assert "feedsvc demo" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command() -> None:
    test_command = _quickstart_commands()[1].strip()
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    assert test_command in ci_lines


def test_every_documented_command_exists() -> None:
    from feedsvc.cli import build_parser

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`feedsvc ([a-z]+)", text))
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    known = set(subparsers.choices)  # type: ignore[attr-defined]
    assert documented, "README documents no feedsvc command"
    assert documented <= known, f"README names commands that do not exist: {sorted(documented - known)}"
    assert known <= documented, f"commands missing from the README: {sorted(known - documented)}"


def test_documented_feed_routes_are_served(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from feedsvc.config import parse_config
    from feedsvc.http.app import create_app

    cfg = parse_config({
        "database": {"url": f"sqlite:///{tmp_path / 'docs.db'}"},
        "sources": [{"id": "gwsite", "title": "GW", "start_urls": ["http://127.0.0.1:1/"],
                     "listings": [{"id": "recommended", "kind": "recommended", "heading": "推荐文稿"}]}],
        "topics": [{"id": "flood", "title": "Flood", "keywords": ["flood"]}],
    })
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    routes = {"/feeds/new.atom", "/feeds/gwsite.atom", "/feeds/gwsite/recommended.atom", "/feeds/topics/flood.atom",
              "/opml", "/", "/healthz", "/metrics"}
    with TestClient(create_app(cfg)) as client:
        for route in sorted(routes):
            generic = route.replace("gwsite", "{source}").replace("recommended", "{listing}").replace("flood", "{topic}")
            assert f"`{generic}`" in text or f"`{route}`" in text, f"README does not document {generic}"
            assert client.get(route).status_code == 200, route


def test_readme_stays_short_and_its_links_resolve() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 300, "README.md grows past 300 lines: move details to docs/"
    links = re.findall(r"\]\(([^)#]+)\)", text)
    missing = [link for link in links if not link.startswith("http") and not (ROOT / link).exists()]
    assert not missing, f"README links to missing files: {missing}"
