"""Tables on the terminal, and the one way site text reaches it (`safe_text`).

A `TextTable` prints as a boxed Rich table when every column fits the terminal without breaking a word (cells
wrap at spaces; a URL is one word, so it is never cut or folded), as one block per row ("stacked") when not, and as
plain aligned text with no styling and no width limit when stdout is not a terminal (pipes, files), so
`feedsvc check | grep` sees whole URLs. Cells are literal text, never Rich markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich.console import Console
from rich.table import Table
from rich.text import Text

from feedsvc.text import clean_text  # the terminal rules live with the other text rules


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    justify: Literal["left", "right"] = "left"


Cell = str | Text


class TextTable:
    """Rows of literal cells; `print(console)` picks the boxed, stacked or plain layout (module docstring)."""

    def __init__(self, title: str, columns: Sequence[Column | str]) -> None:
        self.title = title
        self.columns = [c if isinstance(c, Column) else Column(c) for c in columns]
        self.rows: list[list[Text]] = []

    def add_row(self, *cells: Cell) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"{len(cells)} cells for {len(self.columns)} columns")
        self.rows.append([_cell(c) for c in cells])

    def print(self, console: Console) -> None:
        if not console.is_terminal:
            self._print_plain(console)
        elif self._fits(console.width):
            console.print(self._boxed())
        else:
            self._print_stacked(console)

    def _word_widths(self) -> list[int]:
        """Per column, its longest unbreakable run (a URL is one): the narrowest it may get without cutting."""
        widths = [max(Text(w).cell_len for w in (c.header.split() or [""])) for c in self.columns]
        for row in self.rows:
            for i, cell in enumerate(row):
                widths[i] = max([widths[i], *(Text(w).cell_len for w in cell.plain.split())])
        return widths

    def _fits(self, width: int) -> bool:
        # Rich's box with padding 1: one border per column plus one, and two spaces of padding per column.
        return sum(self._word_widths()) + 3 * len(self.columns) + 1 <= width

    def _boxed(self) -> Table:
        table = Table(title=self.title)
        for col, narrowest in zip(self.columns, self._word_widths(), strict=True):
            table.add_column(col.header, justify=col.justify, overflow="fold", min_width=narrowest)
        for row in self.rows:
            table.add_row(*row)
        return table

    def _print_stacked(self, console: Console) -> None:
        console.print(Text(self.title, style="bold"))
        label_width = max(Text(c.header).cell_len for c in self.columns[1:]) if len(self.columns) > 1 else 0
        beside = 4 + label_width
        for row in self.rows:
            heading = row[0].copy()
            heading.stylize("bold")
            console.print(heading, overflow="fold")
            for col, cell in zip(self.columns[1:], row[1:], strict=True):
                if not cell.plain.strip():
                    continue
                lines = list(cell.split("\n"))
                label = Text("  " + col.header.ljust(label_width) + "  ", style="dim")
                if beside + max(line.cell_len for line in lines) <= console.width:
                    console.print(label + lines[0], overflow="fold")
                    rest, indent = lines[1:], beside
                else:  # a long value (a URL) gets whole lines of its own rather than a fold
                    label.rstrip()
                    console.print(label)
                    rest, indent = lines, 2
                for line in rest:
                    console.print(Text(" " * indent) + line, overflow="fold")

    def _print_plain(self, console: Console) -> None:
        rows = [[c.header for c in self.columns]] + [[" ".join(cell.plain.split("\n")) for cell in row]
                                                      for row in self.rows]
        widths = [max(Text(r[i]).cell_len for r in rows) for i in range(len(self.columns))]
        console.print(self.title, markup=False, highlight=False, soft_wrap=True, emoji=False)
        for r in rows:
            parts = []
            for i, (value, col) in enumerate(zip(r, self.columns, strict=True)):
                pad = " " * (widths[i] - Text(value).cell_len)
                last = i == len(self.columns) - 1
                parts.append(pad + value if col.justify == "right" else value + ("" if last else pad))
            console.print("  ".join(parts).rstrip(), markup=False, highlight=False, soft_wrap=True, emoji=False)


def _cell(value: Cell) -> Text:
    if isinstance(value, Text):
        return value
    return Text(clean_text(value, keep_newlines=True))
