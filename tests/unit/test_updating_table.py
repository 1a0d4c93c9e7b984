"""The terminal view of an updating result: one line per group, redrawn in place."""

from __future__ import annotations

import io

from laminar.output import UpdatingTable


def screen(text: str) -> list[str]:
    """What a terminal shows after ``text``: ANSI 'up n lines' + 'clear below' applied."""
    lines: list[str] = []
    index = 0
    while index < len(text):
        if text.startswith("\x1b[", index):
            end = index + 2
            while not text[end].isalpha():
                end += 1
            code, arg = text[end], text[index + 2 : end]
            if code == "F":
                del lines[len(lines) - int(arg or 1) :]
            index = end + 1
            continue
        newline = text.find("\n", index)
        lines.append(text[index:newline])
        index = newline + 1
    return lines


def test_changes_update_rows_in_place() -> None:
    out = io.StringIO()
    table = UpdatingTable(out, ["symbol", "n", "op"], ["symbol"])
    table.write_rows([("A", 1, "c"), ("B", 1, "c")])
    table.write_rows([("A", 2, "u")])
    table.write_rows([("B", 1, "d"), ("C", 5, "c")])
    shown = screen(out.getvalue())
    assert [line.split(" │ ")[0].strip() for line in shown[2:-1]] == ["A", "C"]
    assert shown[2].split(" │ ")[1].strip() == "2"
    assert shown[-1] == "(2 groups)"
