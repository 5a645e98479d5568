"""FastWorksheet writes exactly the XML xlsxwriter's own worksheet writes, only faster."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from kaoping_xlsx.fastsheet import FastWorksheet

CELLS = [
    1, 0, -2.5, 1234567.891, 1e-12, 30.0,
    "是", "否", "无扣分，得30分", "漏报3条×2分=扣6分，得24分", "a & b < c > d \"q\"",
    " leading", "trailing ", "line\nbreak", "tab\tin", "ctrl\x01char", "_x0041_ literal", "\ufffe",
    '=HYPERLINK("http://x","y")', "+1", "@a", "http://example.com", "external:c:\\x", "", "是",
]


def _sheet_xml(path: Path) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read("xl/worksheets/sheet1.xml")


def _write(path: Path, worksheet_class, constant_memory: bool, by_row: bool = False) -> None:
    book = xlsxwriter.Workbook(str(path), {"constant_memory": constant_memory, "strings_to_formulas": False,
                                           "strings_to_urls": False, "strings_to_numbers": False})
    ws = book.add_worksheet("表", worksheet_class=worksheet_class)
    plain, bold = book.add_format({"border": 1}), book.add_format({"bold": True, "num_format": "0.00"})
    ws.set_column(3, 3, 12, bold)
    for r in range(3):
        if r == 1:
            ws.set_row(r, 30)  # a row of its own height: the <row> tag carries it
        cells = [(c, value, (plain, bold, None)[(r + c) % 3]) for c, value in enumerate(CELLS)]
        cells.append((len(CELLS) + 3, None, None))  # a blank without format writes nothing
        if by_row:
            ws.put_row(r, cells)
            if r == 1:
                ws.forget_strings()  # later rows write the same, only without the cache
        for c, value, fmt in cells if not by_row else ():
            if isinstance(value, str):
                ws.write_string(r, c, value, fmt)
            elif value is not None:
                ws.write_number(r, c, value, fmt)
        ws.write_formula(r, len(CELLS), f"=A{r + 1}*2", plain, 2)
        ws.write_blank(r, len(CELLS) + 1, None, plain)
        ws.write_rich_string(r, len(CELLS) + 2, "普通", bold, "加粗", plain)
    ws.set_row(4, 20)  # a row with a height and no cells
    ws.write_number(6, 2, 7, plain)  # after a gap
    book.close()


@pytest.mark.parametrize("by_row", [False, True], ids=["cell by cell", "put_row"])
@pytest.mark.parametrize("constant_memory", [True, False])
def test_same_xml_as_xlsxwriter(tmp_path, constant_memory, by_row):
    ours, theirs = tmp_path / "快.xlsx", tmp_path / "原.xlsx"
    _write(ours, FastWorksheet, constant_memory, by_row)
    _write(theirs, None, constant_memory)
    assert _sheet_xml(ours) == _sheet_xml(theirs)
