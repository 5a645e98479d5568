"""Reader behaviour beyond single faults: nothing dropped silently, merging, scoring hand-over, speed."""

from __future__ import annotations

import time
from pathlib import Path

import openpyxl
import xlsxwriter
from python_calamine import CalamineWorkbook
from workbooks import UNITS, cell_of, columns_of, edit, make_filled, valid_values

from kaoping_xlsx import guards
from kaoping_xlsx.engine import INCOMPLETE, OK, Unit, score
from kaoping_xlsx.layout import FIRST_DATA_ROW, META_SHEET, TYPE_KEY, UNIT_KEY, meta_rows
from kaoping_xlsx.opening import read_inputs
from kaoping_xlsx.problems import Code
from kaoping_xlsx.rules import load_rules
from kaoping_xlsx.xlref import parse_cell

RULES = load_rules()


def row_of(cell: str) -> int:
    return parse_cell(cell.rsplit("!", 1)[1])[0]


def unit_rows_in(folder: Path) -> set[tuple[str, str, int]]:
    """Counted independently with openpyxl: data rows carrying anything beyond the pre-printed unit name
    and type, or naming something that is not a unit of that sheet."""
    found = set()
    for path in sorted(folder.glob("*.xlsx")):
        book = openpyxl.load_workbook(path)
        for section in RULES.sections:
            if section.sheet not in book.sheetnames:
                continue
            taking = {u.name for u in UNITS if section.id in u.sections}
            for r, row in enumerate(book[section.sheet].iter_rows(min_row=FIRST_DATA_ROW + 1, values_only=True),
                                    FIRST_DATA_ROW):
                beyond = any(v not in (None, "") for v in row[2:])
                if beyond or (row[0] not in (None, "") and row[0] not in taking):
                    found.add((path.name, section.sheet, r))
    return found


def test_units_in_equal_units_used_plus_units_reported(tmp_path):
    folder = tmp_path / "回收表格"
    folder.mkdir()
    first = valid_values(RULES)
    first[("3", "长白镇", "3.1.score")] = "满分"
    make_filled(folder / "一科.xlsx", RULES, UNITS, first)
    second = {("2", "县教育局", "2.4.faults"): 3, ("2", "金华乡", "2.4.faults"): 0}
    path = make_filled(folder / "二科.xlsx", RULES, UNITS, second)
    below = FIRST_DATA_ROW + len(UNITS) + 1

    def office_edits(book):
        ws = book["放管服"]
        ws.cell(FIRST_DATA_ROW + 3, 1, "金华")  # renamed unit (金华乡 is the third row)
        ws.cell(below, 1, "长白镇")  # the same unit again, below the list, with data
        ws.cell(below, 5, "否")
        ws.cell(below + 2, 6, "备注")  # no unit name at all
        credit = book["信用体系"]  # 县审计局 does not take part in 信用体系
        credit.cell(FIRST_DATA_ROW + 6, 1, "县审计局")
        credit.cell(FIRST_DATA_ROW + 6, 3, 5)

    edit(path, office_edits)
    inputs = read_inputs([folder], RULES)

    used = {(file, cell.split("!")[0].strip("'"), row_of(cell)) for file, cell in inputs.cells.values()}
    named = {(p.file, p.sheet, row_of(p.cell)) for p in inputs.problems if p.cell}
    rows_in = unit_rows_in(folder)
    assert len(rows_in) == inputs.rows_read == 29 + 5
    assert len(used) == inputs.rows_used == 29
    assert rows_in == used | named
    assert {p.code for p in inputs.problems} == {
        Code.VALUE_INVALID, Code.VALUE_BLANK, Code.CONFLICT, Code.UNIT_UNKNOWN, Code.UNIT_DUPLICATE,
        Code.ROW_OUTSIDE_LIST}
    conflict = cell_of(RULES, UNITS, "2", "县教育局", "2.4.faults")
    assert [p.cell for p in inputs.problems if p.code == Code.CONFLICT] == [conflict]  # blanks are not conflicts


def test_the_engine_scores_what_the_reader_hands_over(tmp_path):
    values = valid_values(RULES)
    values[("2", "长白镇", "2.3.late")] = "三"
    make_filled(tmp_path / "全部.xlsx", RULES, UNITS, values)
    inputs = read_inputs([tmp_path], RULES)
    result = score(RULES, inputs.units, inputs.tables, inputs.blocked)
    status = dict(zip([u.name for u in UNITS], result.sections["2"].status))
    assert status["长白镇"] == INCOMPLETE
    assert {s for name, s in status.items() if name != "长白镇"} == {OK}
    assert list(result.sections["4"].status[[u.name == "县审计局" for u in UNITS]]) == ["不参加"]


def test_a_unit_row_left_blank_is_fine_when_another_file_supplies_it(tmp_path):
    values = valid_values(RULES, UNITS, ["2"])
    mine = {k: v for k, v in values.items() if k[1] != "县教育局"}
    theirs = {k: v for k, v in values.items() if k[1] == "县教育局"}
    make_filled(tmp_path / "一科.xlsx", RULES, UNITS, mine)
    make_filled(tmp_path / "二科.xlsx", RULES, UNITS, theirs)
    inputs = read_inputs([tmp_path], RULES)
    assert [p.code for p in inputs.problems if p.sheet == "放管服"] == []
    assert inputs.cells[("2", "县教育局", "2.4.faults")][0] == "二科.xlsx"
    assert inputs.files[0].sections == inputs.files[1].sections == ("2",)


def test_moved_columns_and_full_width_unit_names_read_right(tmp_path):
    order = columns_of(RULES, "5")
    order = order[2:] + [TYPE_KEY, UNIT_KEY]
    values = valid_values(RULES)
    values[("5", "县教育局", "5.1.reported")] = 77
    path = make_filled(tmp_path / "移列.xlsx", RULES, UNITS, values, columns={"5": order})
    cell = cell_of(RULES, UNITS, "5", "县教育局", UNIT_KEY, {"5": order}).split("!")[1]
    edit(path, lambda book: setattr(book["政府网站"][cell], "value", "\u3000县教育局 "))
    inputs = read_inputs([path], RULES)
    assert inputs.problems == ()
    assert inputs.tables["5"].loc["县教育局", "5.1.reported"] == 77


def test_two_templates_with_different_unit_lists_merge_their_units(tmp_path):
    extra = UNITS + (Unit("县统计局", "县直部门", ("1",)),)
    make_filled(tmp_path / "一科.xlsx", RULES, UNITS)
    make_filled(tmp_path / "二科.xlsx", RULES, extra, valid_values(RULES, extra, ["1"]))
    inputs = read_inputs([tmp_path], RULES)
    assert [u.name for u in inputs.units] == [u.name for u in extra]
    assert inputs.problems == ()
    changed = UNITS[:1] + (Unit("八道沟镇", "县直部门", UNITS[1].sections),) + UNITS[2:]
    make_filled(tmp_path / "三科.xlsx", RULES, changed)
    inputs = read_inputs([tmp_path], RULES)
    assert [(p.file, p.code) for p in inputs.problems] == [("三科.xlsx", Code.FILE_OTHER_RULES)]


def _big(path: Path, n: int) -> tuple[Unit, ...]:
    """A 政务公开 sheet of n units written fast (xlsxwriter), every tenth unit with a bad cell."""
    units = tuple(Unit(f"单位{i:06d}", "乡镇" if i % 3 else "县直部门", ("1",)) for i in range(n))
    section = RULES.section("1")
    book = xlsxwriter.Workbook(path, {"constant_memory": True})
    ws = book.add_worksheet(section.sheet)
    keys = [UNIT_KEY, TYPE_KEY] + [f.key for f in section.fields]
    for c, key in enumerate(keys):
        ws.write_string(0, c, key)
    for r, unit in enumerate(units, FIRST_DATA_ROW):
        ws.write_string(r, 0, unit.name)
        ws.write_string(r, 1, unit.type)
        for c, f in enumerate(section.fields, 2):
            if f.type == "yesno":
                ws.write_string(r, c, "是" if r % 2 else "否")
            else:
                ws.write_number(r, c, r % 4)
        if r % 10 == 0:
            ws.write_string(r, 12, "三")
    meta = book.add_worksheet(META_SHEET)
    for r, row in enumerate(meta_rows(RULES.id, RULES.fingerprint, units)):
        for c, value in enumerate(row):
            meta.write_string(r, c, value)
    book.close()
    return units


def test_large_sheet_reads_close_to_the_raw_read_time(tmp_path):
    path = tmp_path / "大表.xlsx"
    units = _big(path, 20_000)
    start = time.perf_counter()
    book = CalamineWorkbook.from_path(path)
    for name in book.sheet_names:
        book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    guards.inspect(path, path.name)
    raw = time.perf_counter() - start
    start = time.perf_counter()
    inputs = read_inputs([path], RULES)
    took = time.perf_counter() - start
    assert inputs.rows_read == inputs.rows_used == len(units)
    assert len(inputs.problems) == len(units) // 10
    assert took < 3 * raw + 1, (took, raw)
