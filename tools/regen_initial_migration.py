"""Developer tool: regenerate migration 0001 from feedsvc/models.py.

Only valid while no release has shipped (nobody has a database at 0001 yet); after that, add a new
revision with `alembic revision --autogenerate` instead.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command

from feedsvc.store.db import MIGRATIONS_DIR, _alembic_config, make_engine


def main() -> None:
    for old in (MIGRATIONS_DIR / "versions").glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'empty.db'}")
        command.revision(_alembic_config(engine), message="initial schema", autogenerate=True, rev_id="0001")
    for new in (MIGRATIONS_DIR / "versions").glob("0001_*.py"):
        # A fixed header keeps the file byte-identical when the models have not changed.
        lines = ["Create Date: (regenerated from models)" if ln.startswith("Create Date:") else ln
                 for ln in new.read_text().splitlines()]
        new.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
