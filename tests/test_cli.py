"""feedsvc/cli/__init__.py: every command group registers, and a user's mistake is one `error:` line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedsvc.cli import COMMAND_MODULES, COMMANDS, build_parser, main


def test_every_command_module_registers_its_commands() -> None:
    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    assert {"check", "db", "crawl", "serve", "publish", "related", "run", "suggest", "heal", "worker"} <= commands
    assert len(COMMAND_MODULES) == 9


def _choices(parser: object) -> set[str]:
    return set(parser._subparsers._group_actions[0].choices)  # type: ignore[attr-defined]


def test_each_command_is_found_in_the_module_that_registers_it() -> None:
    assert set(COMMANDS) == _choices(build_parser()) and set(COMMANDS.values()) == set(COMMAND_MODULES)
    for command, module in COMMANDS.items():
        alone = _choices(build_parser(command))
        assert command in alone and alone == {c for c, m in COMMANDS.items() if m == module}


def test_a_crawl_command_line_does_not_import_the_store_or_the_related_code() -> None:
    import subprocess
    import sys

    code = ("import sys; from feedsvc.cli import _command, build_parser; "
            "build_parser(_command(['-v', 'crawl', 'x'])).parse_args(['crawl', 'x']); "
            "print(sorted(m for m in ('sqlalchemy', 'feedsvc.store.facade', 'feedsvc.related', 'feedgen', 'alembic') "
            "if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_a_config_mistake_is_one_error_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.toml"
    assert main(["check", "--config", str(missing)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and str(missing) in err[0]


def test_unknown_commands_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["frobnicate"])
    assert exit_info.value.code == 2 and "invalid choice" in capsys.readouterr().err
