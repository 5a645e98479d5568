"""Annotated copies: red fills and comments exactly on the problem cells, everything else as it was."""

from __future__ import annotations

import hashlib
from pathlib import Path

import openpyxl
import pytest
from workbooks import UNITS, cell_of, columns_of, edit, make_filled, valid_values

from kaoping_xlsx.annotate import LIST_SHEET, RED, annotate
from kaoping_xlsx.errors import OutputError
from kaoping_xlsx.layout import FIRST_DATA_ROW
from kaoping_xlsx.opening import read_inputs
from kaoping_xlsx.rules import load_rules

RULES = load_rules()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def faulty(folder: Path, name: str = "放管服办.xlsx") -> Path:
    values = valid_values(RULES)
    values.update({("2", "长白镇", "2.3.late"): "三", ("3", "县教育局", "3.1.score"): 30,
                   ("4", "金华乡", "4.3.score"): 5, ("5", "县审计局", "5.3.system"): "待定",
                   ("1", "八道沟镇", "1.3.study"): None})
    order = [k for k in columns_of(RULES, "1") if k != "1.5.m12"]  # a missing column: a problem without a cell
    return make_filled(folder / name, RULES, UNITS, values, columns={"1": order})


def cells_of(ws) -> dict[str, object]:
    return {c.coordinate: c.value for row in ws.iter_rows() for c in row}


def test_red_fills_and_comments_exactly_on_problem_cells(tmp_path):
    inbox = tmp_path / "回收表格" / "放管服办"
    inbox.mkdir(parents=True)
    source = faulty(inbox)
    before = sha(source)
    inputs = read_inputs([tmp_path / "回收表格"], RULES)
    out = tmp_path / "待退回"
    written = annotate(inputs, out)
    assert written == [out / "放管服办" / "放管服办.待修改.xlsx"]
    assert sha(source) == before == inputs.files[0].sha256

    marked = {(p.sheet, p.cell.split("!")[1]) for p in inputs.problems if p.cell}
    assert len(marked) == 5
    original = openpyxl.load_workbook(source)
    copy = openpyxl.load_workbook(written[0])
    assert copy.sheetnames == [LIST_SHEET] + original.sheetnames
    for name in original.sheetnames:
        assert cells_of(copy[name]) == cells_of(original[name])
        for row in copy[name].iter_rows():
            for cell in row:
                is_marked = (name, cell.coordinate) in marked
                assert (cell.fill.fgColor.rgb == RED and cell.fill.fill_type == "solid") == is_marked
                assert (cell.comment is not None) == is_marked
                if is_marked:
                    assert cell.comment.text.startswith("【错误·")
    comment = copy["放管服"][cell_of(RULES, UNITS, "2", "长白镇", "2.3.late").split("!")[1]].comment.text
    assert "长白镇" in comment and "三" in comment and "0或正整数" in comment


def test_first_sheet_lists_every_problem_as_plain_text(tmp_path):
    source = faulty(tmp_path)

    def formula_like_text(book):
        cell = book["政府网站"][cell_of(RULES, UNITS, "5", "县审计局", "5.3.system").split("!")[1]]
        cell.value, cell.data_type = '=HYPERLINK("http://x","是")', "s"

    edit(source, formula_like_text)
    inputs = read_inputs([source], RULES)
    (written,) = annotate(inputs, tmp_path / "退回")
    ws = openpyxl.load_workbook(written)[LIST_SHEET]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(inputs.problems)
    assert [r[7] for r in rows] == [p.message for p in inputs.problems]
    assert any(r[2] is None and "1.5.m12" in r[7] for r in rows)  # the missing column, which has no cell
    typed = next(c for c in ws["I"] if c.value and str(c.value).startswith("="))
    assert typed.data_type == "s"


def test_files_without_problems_or_refused_get_no_copy(tmp_path):
    make_filled(tmp_path / "无误.xlsx", RULES, UNITS)
    make_filled(tmp_path / "旧模板.xlsx", RULES, UNITS, fingerprint="0" * 16)
    faulty(tmp_path, "有误.xlsx")
    inputs = read_inputs([tmp_path], RULES)
    assert [p.name for p in annotate(inputs, tmp_path)] == ["有误.待修改.xlsx"]


def test_merged_problem_cells_are_marked_on_the_merged_range(tmp_path):
    source = make_filled(tmp_path / "合并.xlsx", RULES, UNITS)
    col = columns_of(RULES, "3").index("3.1.score") + 1
    edit(source, lambda book: book["营商环境"].merge_cells(start_row=FIRST_DATA_ROW + 1, start_column=col,
                                                          end_row=FIRST_DATA_ROW + 2, end_column=col))
    inputs = read_inputs([source], RULES)
    (written,) = annotate(inputs, tmp_path / "退回")
    ws = openpyxl.load_workbook(written)["营商环境"]
    top = ws.cell(FIRST_DATA_ROW + 1, col)
    assert top.fill.fgColor.rgb == RED
    assert top.comment.text.count("【错误·合并单元格】") == 2  # both units' problems, on the one visible cell


def test_a_file_changed_after_the_check_is_not_annotated(tmp_path):
    source = faulty(tmp_path)
    inputs = read_inputs([source], RULES)
    edit(source, lambda book: setattr(book["政务公开"]["C4"], "value", "是"))
    with pytest.raises(OutputError, match="校验之后被修改"):
        annotate(inputs, tmp_path / "退回")
