"""A faster xlsxwriter worksheet for big tables: same XML, less work per cell.

At 100,000 units the result workbook holds tens of millions of cells and xlsxwriter's innermost loop
(``Worksheet._write_cell``) dominates the run: per cell it builds an attribute list, escapes
attributes that never need it and re-escapes strings that repeat (是, 否, 无扣分，得30分...).
``FastWorksheet`` writes formatted numbers and in-line strings (constant_memory mode) itself, with
the escaped form of each distinct string cached, and leaves every other case to xlsxwriter. The
output is byte-for-byte what xlsxwriter writes (tests/test_fastsheet.py compares them).
"""

from __future__ import annotations

from typing import Sequence

from xlsxwriter.utility import xl_rowcol_to_cell_fast
from xlsxwriter.worksheet import (CellBlankTuple, CellNumberTuple, CellStringTuple, Worksheet,
                                  _preserve_whitespace, _utf16_len, _utf16_truncate)

_CACHE_LIMIT = 200_000  # distinct strings remembered per sheet; explanations repeat, names do not


class FastWorksheet(Worksheet):
    """xlsxwriter's worksheet with a fast path for formatted numbers and in-line strings."""

    def __init__(self) -> None:
        super().__init__()
        self._inline: dict[str, str] = {}

    def put_row(self, row: int, cells: Sequence[tuple[int, object, object]]) -> None:
        """Store one row's plain cells — ``(col, value, format)`` in column order, value a str, a number
        or None (a blank kept only for its format) — with one bounds check and one flush, instead of
        xlsxwriter's per-cell ``write_*`` wrappers. Same cells, same XML."""
        if not self.constant_memory:
            for col, value, fmt in cells:
                if value is None:
                    self.write_blank(row, col, None, fmt)
                elif value.__class__ is str:
                    self.write_string(row, col, value, fmt)
                else:
                    self.write_number(row, col, value, fmt)
            return
        kept = [c for c in cells if c[1] is not None or c[2] is not None]
        if not kept:
            return
        if self._check_dimensions(row, kept[0][0]) or self._check_dimensions(row, kept[-1][0]):
            raise IndexError(f"row {row} or its columns lie outside the worksheet")
        if row > self.previous_row:
            self._write_single_row(row)
        table = self.table[row]
        for col, value, fmt in kept:
            if value is None:
                table[col] = CellBlankTuple(fmt)
            elif value.__class__ is str:
                if len(value) > self.xls_strmax // 2 and _utf16_len(value) > self.xls_strmax:
                    value = _utf16_truncate(value, self.xls_strmax)
                table[col] = CellStringTuple(value, fmt)
            else:
                table[col] = CellNumberTuple(value, fmt)

    def forget_strings(self) -> None:
        """Drop the escaped strings remembered so far: the rows that repeat them are written, and a
        finished sheet's cache would otherwise stay in memory until the workbook closes (about 100 MB
        a sheet at 100,000 units). Later cells are written the same, only without the cache."""
        self._inline = {}

    def _write_cell(self, row: int, col: int, cell) -> None:
        fmt = cell.format
        kind = cell.__class__.__name__
        if fmt is None or not (kind == "Number" or (kind == "String" and self.constant_memory)):
            super()._write_cell(row, col, cell)
            return
        head = f'<c r="{xl_rowcol_to_cell_fast(row, col)}" s="{fmt._get_xf_index()}"'
        if kind == "Number":
            self.fh.write(f"{head}><v>{cell.number:.16G}</v></c>")
            return
        tail = self._inline.get(cell.string)
        if tail is None:
            tail = self._inline_tail(cell.string)
            if tail is None:  # rich string: xlsxwriter's own path
                super()._write_cell(row, col, cell)
                return
            if len(self._inline) < _CACHE_LIMIT:
                self._inline[cell.string] = tail
        self.fh.write(head + tail)

    def _inline_tail(self, string: str) -> str | None:
        """Everything after ``<c r=.. s=..`` for an in-line string, escaped exactly as xlsxwriter does."""
        string = self._escape_control_characters(string)
        if string.startswith("<r>") and string.endswith("</r>"):
            return None
        space = ' xml:space="preserve"' if _preserve_whitespace(string) else ""
        return f' t="inlineStr"><is><t{space}>{self._escape_data(string)}</t></is></c>'
