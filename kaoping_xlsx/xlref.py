"""A1 references and sheet quoting: the one place that turns (row, column) into what Excel shows."""

from __future__ import annotations

import re

_CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?([1-9][0-9]{0,6})$")
MAX_ROW = 1_048_576
MAX_COL = 16_384


def col_letter(col: int) -> str:
    """0-based column index to letters: 0 → A, 25 → Z, 26 → AA."""
    if not 0 <= col < MAX_COL:
        raise ValueError(f"column index out of range: {col}")
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def col_index(letters: str) -> int:
    """Column letters to a 0-based index: A → 0, AA → 26."""
    if not re.fullmatch(r"[A-Za-z]{1,3}", letters):
        raise ValueError(f"not a column: {letters!r}")
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    if col > MAX_COL:
        raise ValueError(f"column out of range: {letters!r}")
    return col - 1


def cell(row: int, col: int) -> str:
    """0-based (row, col) to ``B3``."""
    if not 0 <= row < MAX_ROW:
        raise ValueError(f"row index out of range: {row}")
    return f"{col_letter(col)}{row + 1}"


def parse_cell(ref: str) -> tuple[int, int]:
    """``B3`` or ``$B$3`` to 0-based (row, col)."""
    match = _CELL.match(ref)
    if not match:
        raise ValueError(f"not a cell reference: {ref!r}")
    row = int(match.group(2)) - 1
    if row >= MAX_ROW:
        raise ValueError(f"row out of range: {ref!r}")
    return row, col_index(match.group(1))


def quote_sheet(name: str) -> str:
    """Sheet name as a formula needs it: always quoted, inner quotes doubled (``'放管服'``)."""
    return "'" + name.replace("'", "''") + "'"


def sheet_cell(sheet: str, row: int, col: int) -> str:
    """``'放管服'!F12`` from a sheet name and 0-based (row, col)."""
    return f"{quote_sheet(sheet)}!{cell(row, col)}"


def cell_range(first_row: int, first_col: int, last_row: int, last_col: int) -> str:
    """0-based corners to ``A1:C9`` (a single cell stays ``A1``)."""
    start, end = cell(first_row, first_col), cell(last_row, last_col)
    return start if start == end else f"{start}:{end}"
