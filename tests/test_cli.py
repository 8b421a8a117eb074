"""feedsvc/cli/__init__.py: every command group registers, and a user's mistake is one `error:` line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedsvc.cli import COMMAND_MODULES, build_parser, main


def test_every_command_module_registers_its_commands() -> None:
    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    assert {"check", "db", "crawl", "serve", "publish", "related", "run", "suggest", "heal", "worker"} <= commands
    assert len(COMMAND_MODULES) == 9


def test_a_config_mistake_is_one_error_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.toml"
    assert main(["check", "--config", str(missing)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and str(missing) in err[0]


def test_unknown_commands_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["frobnicate"])
    assert exit_info.value.code == 2 and "invalid choice" in capsys.readouterr().err
