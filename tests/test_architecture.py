"""The layout is the architecture (docs/architecture.md): imports point one way (between modules and between
packages), few loose modules, one home per public function, one way into the store, and Scrapy stays inside
crawler/."""

from __future__ import annotations

import ast
import collections
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("feedsvc", "crawler")
# Names every command or app module defines by convention; their sameness is the point, not a copy.
CONVENTIONAL_NAMES = {"main", "run", "register", "render", "create_app"}
CRAWLER_IMPORT_ALLOWANCES: set[tuple[str, str]] = set()
TWO_HOMES_ALLOWANCES: dict[str, list[str]] = {}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Project modules that `name` imports anywhere in its body (inside functions too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def owner(target: str) -> str | None:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        return target or None

    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            targets.update(f"{base}.{alias.name}" for alias in node.names)
            targets.add(base)
    owners = {owner(t) for t in targets}
    # A module importing its own package's __init__ (or a parent package) is not a dependency between rooms.
    return {o for o in owners if o and o != name and o != package and not name.startswith(o + ".")}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def test_no_import_cycles() -> None:
    graph = _graph()

    def reachable(start: str) -> set[str]:
        seen: set[str] = set()
        todo = [start]
        while todo:
            for nxt in graph[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    cycles = sorted({tuple(sorted((a, b))) for a in graph for b in graph[a] if a in reachable(b)})
    assert not cycles, f"import cycles: {cycles}"


# The rooms of feedsvc/, lowest first: a room imports only rooms on a lower line (the base line's modules may
# also import each other). A room is a package (feedsvc.store) or a loose module (feedsvc.runtime); crawler/
# has its own rule below (the base and the store only).
PACKAGE_ORDER: list[set[str]] = [
    {"feedsvc", "feedsvc.config", "feedsvc.errors", "feedsvc.models", "feedsvc.status", "feedsvc.text"},
    {"feedsvc.store"},
    {"feedsvc.related"},
    {"feedsvc.feeds"},  # feeds, OPML, the front page and static publishing
    {"feedsvc.websub"},  # announces published feeds
    {"feedsvc.http"},
    {"feedsvc.after_crawl"},  # related refresh, publishing, WebSub after a crawl
    {"feedsvc.scheduling"},
    {"feedsvc.runtime", "feedsvc.demo"},
    {"feedsvc.cli"},
    {"feedsvc.__main__"},
]


def _room(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_feedsvc_imports_follow_the_package_order() -> None:
    """Also across packages the arrows point one way (the cycle test sees modules, not packages: feeds/publish
    importing http while http imports feeds passes it)."""
    rank = {room: n for n, rooms in enumerate(PACKAGE_ORDER) for room in rooms}
    graph = _graph()
    unplaced = sorted({_room(m) for m in graph if m.startswith("feedsvc")} - rank.keys())
    assert not unplaced, f"rooms missing from PACKAGE_ORDER (place each on its line): {unplaced}"
    against = sorted(f"{name} -> {dep}" for name, deps in graph.items() if name.startswith("feedsvc")
                     for dep in deps if dep.startswith("feedsvc") and _room(dep) != _room(name)
                     and (rank[_room(dep)] > rank[_room(name)] or rank[_room(dep)] == rank[_room(name)] != 0))
    assert not against, f"imports against PACKAGE_ORDER: {against}"


def test_feedsvc_never_imports_scrapy_or_twisted() -> None:
    offenders = []
    for name, path in _modules().items():
        if not name.startswith("feedsvc"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{name}: {n}" for n in names if n.split(".")[0] in ("scrapy", "twisted", "crawler")]
    assert not offenders, offenders


def test_crawler_imports_only_the_feedsvc_base_and_store() -> None:
    allowed = ("feedsvc.config", "feedsvc.errors", "feedsvc.models", "feedsvc.status", "feedsvc.text",
               "feedsvc.store")
    bad = {f"{name} -> {dep}" for name, deps in _graph().items() if name.startswith("crawler")
           for dep in deps if dep.startswith("feedsvc") and dep != "feedsvc" and not dep.startswith(allowed)
           and (name, dep) not in CRAWLER_IMPORT_ALLOWANCES}
    assert not bad, sorted(bad)


def _store_import_offences(path: Path) -> list[str]:
    """How `path` breaks the store's one way in (feedsvc/store/__init__.py)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            out += [f"{where} import {a.name}" for a in node.names if a.name.startswith("feedsvc.store")]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            module = node.module or ""
            if module == "feedsvc":
                out += [f"{where} from feedsvc import store" for a in node.names if a.name == "store"]
            elif module == "feedsvc.store":
                out += [f"{where} from feedsvc.store import {a.name}" for a in node.names if a.name != "Store"]
            elif module.startswith("feedsvc.store."):
                if module == "feedsvc.store._base":
                    out.append(f"{where} from {module} (private to the store)")
                out += [f"{where} {a.name} as {a.asname}" for a in node.names if a.asname not in (None, a.name)]
    return out


def test_the_store_has_one_way_in() -> None:
    """`from feedsvc.store import Store`, and every other name from the module defining it, unaliased: a reader
    finds any store function by grepping its name, and no import works only because another ran first."""
    files = [p for d in ("feedsvc", "crawler", "tests", "bench", "tools") for p in (ROOT / d).rglob("*.py")
             if "migrations" not in p.parts and (ROOT / "feedsvc" / "store") not in p.parents]
    offences = [o for path in [*files, ROOT / "scheduler.py"] for o in _store_import_offences(path)]
    assert not offences, offences


def test_at_most_ten_loose_modules_in_feedsvc() -> None:
    loose = sorted(p.name for p in (ROOT / "feedsvc").glob("*.py"))
    assert len(loose) <= 10, loose


def test_no_public_function_is_defined_in_two_modules() -> None:
    homes: dict[str, set[str]] = collections.defaultdict(set)
    for name, path in _modules().items():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith("_"):
                homes[node.name].add(name)
    twice = {fn: sorted(mods) for fn, mods in homes.items()
             if len(mods) > 1 and fn not in CONVENTIONAL_NAMES and TWO_HOMES_ALLOWANCES.get(fn) != sorted(mods)}
    assert not twice, twice


# Modules without logic: tables, enums, exception classes, item declarations, entry-point shims and package
# markers. A test file named after them would test nothing of their own; their users' tests cover them.
NO_LOGIC = {
    "feedsvc",  # package marker (version string)
    "feedsvc.__main__",  # `python -m feedsvc` shim around feedsvc.cli.main
    "feedsvc.errors",  # the FeedsvcError tree, classes only
    "feedsvc.models",  # SQLAlchemy tables
    "feedsvc.status",  # run statuses, error kinds, run counts: enums and a dataclass
    "crawler",  # package marker
    "crawler.items",  # the Scrapy Item declaration
    "crawler.spiders",  # package marker
    "crawler.discover",  # package marker re-exporting suggest/heal
    "feedsvc.config",  # package marker re-exporting the config modules
    "feedsvc.demo",  # package marker
    "feedsvc.feeds",  # package marker
    "feedsvc.http",  # package marker
    "feedsvc.related",  # package marker
    "feedsvc.scheduling",  # package marker
    "feedsvc.websub",  # package marker re-exporting announce
    "feedsvc.store",  # the package's door: re-exports Store (store/facade.py, tested in test_store_facade.py)
    "feedsvc.store._base",  # the StorageError-wrapping helpers every store module shares; covered through them
}

# Modules with logic whose test file named after them is still to be written. Empty now: keep it so (a new module
# comes with its test file); PENDING_PREFIXES is for a package being built in several commits.
PENDING: set[str] = set()
PENDING_PREFIXES: tuple[str, ...] = ()


def expected_test_file(module: str) -> str:
    """The one name a module's test file has: its dotted path without the `feedsvc` root, joined by `_`
    (`feedsvc.store.items` → test_store_items.py, `crawler.discover.heal` → test_crawler_discover_heal.py)."""
    parts = module.split(".")
    return "test_" + "_".join(parts[1:] if parts[0] == "feedsvc" else parts) + ".py"


# tests/ holds one file per module (named by expected_test_file) and these project-wide checks; tests through many
# modules live in folders: e2e/ (real crawls, servers, readers), hostile/ (attacks), bench/ (benchmark smoke runs),
# with their shared helpers in support/.
PROJECT_TESTS = {"test_architecture.py", "test_docs.py", "test_dependency_contracts.py"}
TEST_FOLDERS = {"e2e", "hostile", "bench", "support", "data", "__pycache__"}


def test_every_module_with_logic_has_a_test_file_named_after_it() -> None:
    tests = {p.name for p in (ROOT / "tests").glob("test_*.py")}
    modules = {name for name in _modules() if not name.startswith(PENDING_PREFIXES)}
    untested = sorted(m for m in modules - NO_LOGIC - PENDING if expected_test_file(m) not in tests)
    assert not untested, f"modules with logic but no test file named after them: {untested}"
    named = {expected_test_file(m) for m in _modules()} | PROJECT_TESTS
    stray = sorted(tests - named)
    assert not stray, f"test files named after no module (rename them, or move them to {sorted(TEST_FOLDERS)}): {stray}"
    folders = {p.name for p in (ROOT / "tests").iterdir() if p.is_dir()}
    assert folders <= TEST_FOLDERS, f"test folders outside the layout: {sorted(folders - TEST_FOLDERS)}"
    assert not list((ROOT / "tests" / "support").glob("test_*.py")), "support/ holds helpers, not tests"
    # PENDING may name modules still being written; NO_LOGIC may not.
    stale = sorted(m for m in NO_LOGIC if m not in _modules())
    assert not stale, f"exemptions naming modules that do not exist: {stale}"
