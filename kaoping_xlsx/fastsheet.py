"""A faster xlsxwriter worksheet for big tables: same XML, less work per cell.

At 100,000 units the result workbook holds tens of millions of cells and xlsxwriter's innermost loop
(``Worksheet._write_cell``) dominates the run: per cell it builds an attribute list, escapes
attributes that never need it, re-escapes strings that repeat (是, 否, 无扣分，得30分...) and makes a
separate write to the sheet's file. ``FastWorksheet`` writes formatted numbers, blanks and in-line
strings (constant_memory mode) itself, a whole row in one write, with each column's letters, each
format's index and the escaped form of each distinct string remembered; every other cell goes to
xlsxwriter. The output is byte-for-byte what xlsxwriter writes (tests/test_fastsheet.py compares them).
"""

from __future__ import annotations

from typing import Sequence

from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import (CellBlankTuple, CellNumberTuple, CellStringTuple, Worksheet,
                                  _preserve_whitespace, _utf16_len, _utf16_truncate)

_CACHE_LIMIT = 200_000  # distinct strings remembered per sheet; explanations repeat, names do not


class FastWorksheet(Worksheet):
    """xlsxwriter's worksheet with a fast path for formatted numbers, blanks and in-line strings."""

    def __init__(self) -> None:
        super().__init__()
        self._inline: dict[str, str] = {}
        self._letters: dict[int, str] = {}
        self._xf: dict[object, int] = {}  # format → its index (formats are not changed once used)

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

    def _write_single_row(self, current_row_num: int = 0) -> None:
        """constant_memory mode's flush of the previous row: its cells as one string, one write."""
        row = self.previous_row
        cells = self.table[row]
        if not cells:
            super()._write_single_row(current_row_num)
            return
        self.previous_row = current_row_num
        self._write_row(row, None, self.row_info.get(row))
        number = str(row + 1)
        parts = []
        for col in sorted(cells):
            cell = cells[col]
            letters = self._letters.get(col) or self._letters.setdefault(col, xl_col_to_name(col))
            xml = self._cell_xml(letters + number, cell)
            if xml is None:  # any other cell: xlsxwriter's own path, in order
                self.fh.write("".join(parts))
                parts = []
                super()._write_cell(row, col, cell)
            else:
                parts.append(xml)
        parts.append("</row>")
        self.fh.write("".join(parts))
        self.table.clear()

    def _write_cell(self, row: int, col: int, cell) -> None:
        xml = self._cell_xml(xl_col_to_name(col) + str(row + 1), cell)
        if xml is None:
            super()._write_cell(row, col, cell)
        else:
            self.fh.write(xml)

    def _cell_xml(self, ref: str, cell) -> str | None:
        """A formatted number, blank or in-line string's XML, exactly as xlsxwriter writes it; None for
        any other cell."""
        fmt = cell.format
        if fmt is None:
            return None
        kind = cell.__class__.__name__
        if kind == "String" and not self.constant_memory or kind not in ("Number", "String", "Blank"):
            return None
        xf = self._xf.get(fmt)
        if xf is None:
            xf = self._xf[fmt] = fmt._get_xf_index()
        if kind == "Number":
            return f'<c r="{ref}" s="{xf}"><v>{cell.number:.16G}</v></c>'
        if kind == "Blank":
            return f'<c r="{ref}" s="{xf}"/>'
        tail = self._inline.get(cell.string)
        if tail is None:
            tail = self._inline_tail(cell.string)
            if tail is None:  # rich string
                return None
            if len(self._inline) < _CACHE_LIMIT:
                self._inline[cell.string] = tail
        return f'<c r="{ref}" s="{xf}"{tail}'

    def _inline_tail(self, string: str) -> str | None:
        """Everything after ``<c r=.. s=..`` for an in-line string, escaped exactly as xlsxwriter does."""
        string = self._escape_control_characters(string)
        if string.startswith("<r>") and string.endswith("</r>"):
            return None
        space = ' xml:space="preserve"' if _preserve_whitespace(string) else ""
        return f' t="inlineStr"><is><t{space}>{self._escape_data(string)}</t></is></c>'
