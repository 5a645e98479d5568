"""A corpus of bad returned workbooks, each compared with the exact problems expected (file, sheet, cell, code).

Every workbook is built here (tests/workbooks.py), so each case shows the one thing that is wrong.
Unless a case says otherwise, its file fills every section validly apart from the fault.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from workbooks import UNITS, cell_of, columns_of, edit, make_filled, valid_values

from kaoping_xlsx.errors import NoUsableInput
from kaoping_xlsx.layout import FIRST_DATA_ROW
from kaoping_xlsx.opening import read_inputs
from kaoping_xlsx.problems import Code
from kaoping_xlsx.rules import load_rules

RULES = load_rules()
SHEETS = {s.id: s.sheet for s in RULES.sections}
FILE = "放管服办.xlsx"


def at(sid: str, unit: str, key: str, columns=None) -> str:
    return cell_of(RULES, UNITS, sid, unit, key, columns)


def unit_cell(sid: str, unit: str) -> str:
    return at(sid, unit, "@unit")


def flat(inputs) -> list[tuple[str, str, str, Code]]:
    return [(p.file, p.sheet, p.cell, p.code) for p in inputs.problems]


def one(folder: Path, changes: dict, name: str = FILE, **options) -> Path:
    values = valid_values(RULES)
    values.update(changes)
    return make_filled(folder / name, RULES, UNITS, values, **options)


def taking(sid: str) -> list[str]:
    return [u.name for u in UNITS if sid in u.sections]


def not_returned(*sids: str) -> list[tuple]:
    return [("", SHEETS[sid], "", Code.SECTION_NOT_RETURNED) for sid in sids for _ in taking(sid)]


# ---------------------------------------------------------------- cases: (folder) -> expected


def blank_required(d):
    one(d, {("1", "县教育局", "1.3.study"): None})
    return [(FILE, "政务公开", at("1", "县教育局", "1.3.study"), Code.VALUE_BLANK)]


def blank_bonus_is_fine(d):
    one(d, {("3", "长白镇", "3.6.points"): None, ("3", "长白镇", "3.6.reason"): None})
    return []


def invalid_yesno(d):
    one(d, {("1", "长白镇", "1.1.plan"): "好", ("5", "金华乡", "5.3.system"): "是的"})
    return [(FILE, "政务公开", at("1", "长白镇", "1.1.plan"), Code.VALUE_INVALID),
            (FILE, "政府网站", at("5", "金华乡", "5.3.system"), Code.VALUE_INVALID)]


def count_with_decimals(d):
    one(d, {("2", "八道沟镇", "2.4.faults"): 3.5})
    return [(FILE, "放管服", at("2", "八道沟镇", "2.4.faults"), Code.VALUE_INVALID)]


def negative_count(d):
    one(d, {("2", "八道沟镇", "2.5.faults"): -1})
    return [(FILE, "放管服", at("2", "八道沟镇", "2.5.faults"), Code.VALUE_OUT_OF_RANGE)]


def chinese_numeral(d):
    one(d, {("2", "长白镇", "2.3.late"): "三"})
    return [(FILE, "放管服", at("2", "长白镇", "2.3.late"), Code.VALUE_INVALID)]


def date_as_count(d):
    one(d, {("1", "金华乡", "1.5.m3"): dt.date(2020, 3, 1)})
    return [(FILE, "政务公开", at("1", "金华乡", "1.5.m3"), Code.VALUE_INVALID)]


def error_value(d):
    one(d, {("1", "县审计局", "1.5.m7"): "#N/A", ("3", "县教育局", "3.1.score"): "#DIV/0!"})
    return [(FILE, "政务公开", at("1", "县审计局", "1.5.m7"), Code.VALUE_ERROR),
            (FILE, "营商环境", at("3", "县教育局", "3.1.score"), Code.VALUE_ERROR)]


def na_text(d):
    one(d, {("1", "长白镇", "1.3.study"): "NA", ("1", "长白镇", "1.5.m1"): "None", ("1", "长白镇", "1.5.m2"): "null"})
    return [(FILE, "政务公开", at("1", "长白镇", k), Code.VALUE_INVALID) for k in ("1.3.study", "1.5.m1", "1.5.m2")]


def full_width_digits_accepted(d):
    one(d, {("1", "长白镇", "1.3.study"): "３", ("5", "长白镇", "5.1.reported"): "\u3000４５\u3000",
            ("1", "长白镇", "1.1.plan"): "Ｙ"})
    return []


def number_stored_as_text_accepted(d):
    one(d, {("1", "县教育局", "1.2.2.missed"): "2", ("3", "县教育局", "3.1.score"): " 23.45 "})
    return []


def score_out_of_range(d):
    one(d, {("3", "金华乡", "3.2.score"): 15.5, ("4", "县教育局", "4.1.score"): 25})  # 县直部门 4.1 max is 10
    return [(FILE, "营商环境", at("3", "金华乡", "3.2.score"), Code.VALUE_OUT_OF_RANGE),
            (FILE, "信用体系", at("4", "县教育局", "4.1.score"), Code.VALUE_OUT_OF_RANGE)]


def value_not_for_type(d):
    one(d, {("4", "金华乡", "4.3.score"): 10})
    return [(FILE, "信用体系", at("4", "金华乡", "4.3.score"), Code.VALUE_NOT_FOR_TYPE)]


def na_with_input(d):
    one(d, {("2", "县教育局", "2.8.na"): "不适用"})  # 2.8.faults still holds 1
    return [(FILE, "放管服", at("2", "县教育局", "2.8.na"), Code.NA_WITH_INPUT)]


def na_alone_is_fine(d):
    one(d, {("2", "县教育局", "2.8.na"): "不适用", ("2", "县教育局", "2.8.faults"): None})
    return []


def all_not_applicable(d):
    changes = {}
    for clause in RULES.section("2").clauses:
        changes[("2", "金华乡", f"{clause.id}.na")] = "不适用"
        for f in clause.fields:
            changes[("2", "金华乡", f.key)] = None
    one(d, changes)
    return [(FILE, "放管服", unit_cell("2", "金华乡"), Code.NA_ALL)]


def adopted_over_reported(d):
    one(d, {("5", "县审计局", "5.1.reported"): 10, ("5", "县审计局", "5.2.adopted"): 12})
    return [(FILE, "政府网站", at("5", "县审计局", "5.2.adopted"), Code.EXCEEDS_OTHER)]


def only_if(d):
    one(d, {("2", "长白镇", "2.6.found"): "否", ("2", "长白镇", "2.6.serious"): "是"})
    return [(FILE, "放管服", at("2", "长白镇", "2.6.serious"), Code.ONLY_IF)]


def bonus_without_reason(d):
    one(d, {("3", "县发展和改革局", "3.6.points"): 2, ("4", "长白镇", "4.9.points"): 1.5,
            ("4", "长白镇", "4.9.reason"): "获省级表彰"})
    return [(FILE, "营商环境", at("3", "县发展和改革局", "3.6.reason"), Code.BONUS_NO_REASON)]


def unknown_unit(d):
    path = one(d, {})
    row = FIRST_DATA_ROW + taking("2").index("县教育局") + 1
    edit(path, lambda book: setattr(book["放管服"].cell(row, 1), "value", "教育局"))
    return [(FILE, "放管服", "", Code.UNIT_MISSING),
            (FILE, "放管服", unit_cell("2", "县教育局"), Code.UNIT_UNKNOWN)]


def duplicate_unit(d):
    path = one(d, {})
    row = FIRST_DATA_ROW + len(taking("1")) + 1

    def copy(book):
        ws = book["政务公开"]
        for c in range(1, ws.max_column + 1):
            ws.cell(row, c, ws.cell(FIRST_DATA_ROW + 1, c).value)

    edit(path, copy)
    return [(FILE, "政务公开", f"'政务公开'!A{row}", Code.UNIT_DUPLICATE)]


def deleted_unit_row(d):
    path = one(d, {})
    row = FIRST_DATA_ROW + taking("5").index("八道沟镇") + 1
    edit(path, lambda book: book["政府网站"].delete_rows(row))
    return [(FILE, "政府网站", "", Code.UNIT_MISSING)]


def row_below_list(d):
    path = one(d, {})
    row = FIRST_DATA_ROW + len(taking("3")) + 3
    edit(path, lambda book: book["营商环境"].cell(row, 3, 99))
    return [(FILE, "营商环境", f"'营商环境'!C{row}", Code.ROW_OUTSIDE_LIST)]


def unit_added_below_list(d):
    path = one(d, {})
    row = FIRST_DATA_ROW + len(taking("3")) + 1

    def add(book):
        book["营商环境"].cell(row, 1, "县档案局")
        book["营商环境"].cell(row, 3, 20)

    edit(path, add)
    return [(FILE, "营商环境", f"'营商环境'!A{row}", Code.UNIT_UNKNOWN)]


def note_below_list(d):
    path = one(d, {})
    row = FIRST_DATA_ROW + len(taking("3")) + 2
    edit(path, lambda book: book["营商环境"].cell(row, 1, "填表人：张三"))
    return [(FILE, "营商环境", f"'营商环境'!A{row}", Code.ROW_OUTSIDE_LIST)]


def moved_and_renamed_columns(d):
    order = columns_of(RULES, "2")
    order = [order[1], order[0]] + list(reversed(order[2:]))  # type first, fields reversed
    changes = {("2", "长白镇", "2.3.late"): "三"}
    path = one(d, changes, columns={"2": order})
    edit(path, lambda book: setattr(book["放管服"].cell(3, 5), "value", "改过的表头"))
    return [(FILE, "放管服", at("2", "长白镇", "2.3.late", {"2": order}), Code.VALUE_INVALID)]


def hidden_column_still_read(d):
    path = one(d, {("3", "县审计局", "3.4.score"): 16})
    col = columns_of(RULES, "3").index("3.4.score")
    edit(path, lambda book: setattr(book["营商环境"].column_dimensions[chr(65 + col)], "hidden", True))
    return [(FILE, "营商环境", at("3", "县审计局", "3.4.score"), Code.VALUE_OUT_OF_RANGE)]


def missing_sheet(d):
    one(d, {}, omit_sheets=("4",))
    return [(FILE, "信用体系", "", Code.SHEET_MISSING)] + not_returned("4")


def missing_key_column(d):
    order = [k for k in columns_of(RULES, "3") if k != "3.2.score"]
    one(d, {}, columns={"3": order})
    return [(FILE, "营商环境", "", Code.COLUMN_MISSING)] * len(taking("3"))


def duplicated_key_column(d):
    order = columns_of(RULES, "5") + ["5.1.reported"]
    one(d, {}, columns={"5": order})
    return [(FILE, "政府网站", "", Code.COLUMN_DUPLICATE)] * len(taking("5"))


def missing_key_row(d):
    path = one(d, {})
    edit(path, lambda book: book["政务公开"].delete_rows(1))
    return [(FILE, "政务公开", "", Code.COLUMN_MISSING)] * len(taking("1"))


def type_changed(d):
    path = one(d, {})
    row = FIRST_DATA_ROW + taking("1").index("金华乡") + 1
    edit(path, lambda book: setattr(book["政务公开"].cell(row, 2), "value", "县直部门"))
    return [(FILE, "政务公开", f"'政务公开'!B{row}", Code.UNIT_TYPE_CHANGED)]


def merged_inputs(d):
    path = one(d, {})
    col = columns_of(RULES, "3").index("3.1.score") + 1
    first = FIRST_DATA_ROW + 1
    edit(path, lambda book: book["营商环境"].merge_cells(start_row=first, start_column=col,
                                                         end_row=first + 1, end_column=col))
    return [(FILE, "营商环境", at("3", u, "3.1.score"), Code.VALUE_MERGED) for u in taking("3")[:2]]


def formula_cell(d):
    one(d, {("5", "长白镇", "5.1.reported"): "=40+5"})  # never calculated: no cached value, so blank
    cell = at("5", "长白镇", "5.1.reported")
    return [(FILE, "政府网站", cell, Code.VALUE_BLANK), (FILE, "政府网站", cell, Code.VALUE_FORMULA)]


def other_rules(d):
    one(d, {}, name="旧模板.xlsx", fingerprint="0123456789abcdef")
    one(d, {}, name="新模板.xlsx")
    return [("旧模板.xlsx", "", "", Code.FILE_OTHER_RULES)]


def not_a_template(d):
    one(d, {}, name="自制表格.xlsx", meta=False)
    one(d, {}, name="正式.xlsx")
    return [("自制表格.xlsx", "", "", Code.FILE_NOT_TEMPLATE)]


def old_excel_format(d):
    (d / "旧格式.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    (d / "改了扩展名.xlsx").write_text("单位名称,得分\n长白镇,3\n", encoding="utf-8")
    one(d, {}, name="正式.xlsx")
    return [("改了扩展名.xlsx", "", "", Code.FILE_NOT_XLSX), ("旧格式.xls", "", "", Code.FILE_NOT_XLSX)]


def conflict_between_files(d):
    one(d, {}, name="一科.xlsx")
    one(d, {("2", "县教育局", "2.4.faults"): 2, ("3", "长白镇", "3.1.score"): 20}, name="二科.xlsx")
    return [("二科.xlsx", "放管服", at("2", "县教育局", "2.4.faults"), Code.CONFLICT),
            ("二科.xlsx", "营商环境", at("3", "长白镇", "3.1.score"), Code.CONFLICT)]


def conflict_not_applicable_against_a_value(d):
    one(d, {("2", "县教育局", "2.8.na"): "不适用", ("2", "县教育局", "2.8.faults"): None}, name="一科.xlsx")
    one(d, {}, name="二科.xlsx")
    return [("二科.xlsx", "放管服", at("2", "县教育局", "2.8.na"), Code.CONFLICT)]


def conflict_on_a_bonus_given_in_one_file_only(d):
    one(d, {}, name="一科.xlsx")
    one(d, {("3", "金华乡", "3.6.points"): 2, ("3", "金华乡", "3.6.reason"): "获省级表彰"}, name="二科.xlsx")
    return [("二科.xlsx", "营商环境", at("3", "金华乡", k), Code.CONFLICT) for k in ("3.6.points", "3.6.reason")]


def column_missing_that_no_unit_answers(d):
    units = [u for u in UNITS if u.type == "乡镇"]
    order = [k for k in columns_of(RULES, "4") if k != "4.3.score"]  # 4.3 is for 县直部门 only
    make_filled(d / FILE, RULES, units, valid_values(RULES, units), columns={"4": order})
    return [(FILE, "信用体系", "", Code.COLUMN_MISSING)]


def identical_duplicates_fine(d):
    one(d, {("3", "长白镇", "3.1.score"): 20}, name="一科.xlsx")
    one(d, {("3", "长白镇", "3.1.score"): "20.0"}, name="二科.xlsx")
    return []


def each_office_its_own_sheet(d):
    for s in RULES.sections:
        make_filled(d / f"{s.office}.xlsx", RULES, UNITS, valid_values(RULES, UNITS, [s.id]))
    return []


def section_not_returned(d):
    make_filled(d / FILE, RULES, UNITS, valid_values(RULES, UNITS, ["1", "2", "3", "5"]))
    return not_returned("4")


def blank_row_in_returned_sheet(d):
    values = valid_values(RULES, UNITS, ["1", "2", "3", "4", "5"])
    values = {k: v for k, v in values.items() if not (k[0] == "5" and k[1] == "县教育局")}
    make_filled(d / FILE, RULES, UNITS, values)
    keys = [f.key for f in RULES.section("5").fields]
    return [(FILE, "政府网站", at("5", "县教育局", k), Code.VALUE_BLANK) for k in keys]


def lock_and_hidden_files_skipped(d):
    one(d, {}, name="正式.xlsx")
    (d / "~$正式.xlsx").write_bytes(b"\x00lock")
    (d / ".~lock.正式.xlsx#").write_bytes(b"lock")
    (d / ".隐藏.xlsx").write_bytes(b"junk")
    (d / "说明.docx").write_bytes(b"not read")
    return []


CASES = [blank_required, blank_bonus_is_fine, invalid_yesno, count_with_decimals, negative_count, chinese_numeral,
         date_as_count, error_value, na_text, full_width_digits_accepted, number_stored_as_text_accepted,
         score_out_of_range, value_not_for_type, na_with_input, na_alone_is_fine, all_not_applicable,
         adopted_over_reported, only_if, bonus_without_reason, unknown_unit, duplicate_unit, deleted_unit_row,
         row_below_list, unit_added_below_list, note_below_list, moved_and_renamed_columns, hidden_column_still_read, missing_sheet,
         missing_key_column, duplicated_key_column, missing_key_row, type_changed, merged_inputs, formula_cell,
         other_rules, not_a_template, old_excel_format, conflict_between_files,
         conflict_not_applicable_against_a_value, conflict_on_a_bonus_given_in_one_file_only,
         column_missing_that_no_unit_answers, identical_duplicates_fine,
         each_office_its_own_sheet, section_not_returned, blank_row_in_returned_sheet,
         lock_and_hidden_files_skipped]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_corpus(tmp_path, case):
    folder = tmp_path / "回收表格"
    folder.mkdir()
    expected = case(folder)
    inputs = read_inputs([folder], RULES)
    assert flat(inputs) == expected
    for p in inputs.problems:
        assert p.message and p.code.words
        if p.cell:
            assert p.cell.startswith(f"'{p.sheet}'!")


def test_every_problem_has_the_record_fields(tmp_path):
    one(tmp_path, {("2", "长白镇", "2.3.late"): "三"})
    (problem,) = read_inputs([tmp_path], RULES).problems
    assert problem.as_dict() | {"message": ""} == {
        "file": FILE, "code": "V02", "kind": "填写内容无效", "message": "", "sheet": "放管服",
        "cell": at("2", "长白镇", "2.3.late"), "unit": "长白镇", "clause": "2.3", "value": "三",
        "expected": "0或正整数", "severity": "错误"}
    assert "长白镇" in problem.message and "三" in problem.message and "0或正整数" in problem.message


def test_values_reach_the_tables_normalised(tmp_path):
    one(tmp_path, {("1", "长白镇", "1.3.study"): "３", ("1", "长白镇", "1.1.plan"): "√",
                   ("3", "县教育局", "3.1.score"): 23.45, ("2", "县教育局", "2.2.status"): " 已出台并落实 "})
    inputs = read_inputs([tmp_path / FILE], RULES)
    assert inputs.problems == ()
    assert inputs.tables["1"].loc["长白镇", "1.3.study"] == 3
    assert inputs.tables["1"].loc["长白镇", "1.1.plan"] is True
    assert str(inputs.tables["3"].loc["县教育局", "3.1.score"]) == "23.45"
    assert inputs.tables["2"].loc["县教育局", "2.2.status"] == "已出台并落实"
    assert inputs.tables["2"].loc["县教育局", "2.1.na"] is False
    assert list(inputs.tables["4"].index) == taking("4")
    assert inputs.cells[("3", "县教育局", "3.1.score")] == (FILE, at("3", "县教育局", "3.1.score"))
    assert inputs.files[0].sections == ("1", "2", "3", "4", "5")


def test_errors_block_the_units_section_and_warnings_do_not(tmp_path):
    path = one(tmp_path, {("2", "长白镇", "2.3.late"): "三", ("5", "长白镇", "5.1.reported"): "=40+5"})
    row = FIRST_DATA_ROW + taking("1").index("金华乡") + 1
    edit(path, lambda book: setattr(book["政务公开"].cell(row, 2), "value", "县直部门"))
    inputs = read_inputs([path], RULES)
    assert {sid: set(units) for sid, units in inputs.blocked.items()} == {
        "1": set(), "2": {"长白镇"}, "3": set(), "4": set(), "5": {"长白镇"}}


def test_conflict_names_both_sources(tmp_path):
    one(tmp_path, {}, name="一科.xlsx")
    one(tmp_path, {("2", "县教育局", "2.4.faults"): 2}, name="二科.xlsx")
    inputs = read_inputs([tmp_path], RULES)
    (problem,) = inputs.problems
    cell = at("2", "县教育局", "2.4.faults")
    assert "一科.xlsx" in problem.message and cell in problem.message and problem.cell == cell
    assert problem.value == "2" and problem.expected == "1"
    assert "县教育局" in inputs.blocked["2"]
    assert inputs.cells[("2", "县教育局", "2.4.faults")] == ("一科.xlsx", cell)


def test_no_usable_file_stops_with_a_chinese_message(tmp_path):
    one(tmp_path, {}, name="旧模板.xlsx", fingerprint="0123456789abcdef")
    with pytest.raises(NoUsableInput) as caught:
        read_inputs([tmp_path], RULES)
    assert "旧模板.xlsx" in str(caught.value)
    empty = tmp_path / "空文件夹"
    empty.mkdir()
    with pytest.raises(NoUsableInput, match="没有找到"):
        read_inputs([empty], RULES)


def test_missing_path_is_a_problem_not_a_crash(tmp_path):
    one(tmp_path, {})
    inputs = read_inputs([tmp_path / FILE, tmp_path / "不存在.xlsx"], RULES)
    assert flat(inputs) == [(str(tmp_path / "不存在.xlsx"), "", "", Code.FILE_UNREADABLE)]


def test_folder_names_are_relative_and_sorted(tmp_path):
    for sub, name in [("乙科", "b.xlsx"), ("甲科", "a.xlsx"), ("甲科/子目录", "c.xlsx")]:
        (tmp_path / sub).mkdir(parents=True, exist_ok=True)
        make_filled(tmp_path / sub / name, RULES, UNITS, valid_values(RULES, UNITS, []))
    inputs = read_inputs([tmp_path], RULES)
    names = [f.name for f in inputs.files]
    assert names == sorted(names) == ["乙科/b.xlsx", "甲科/a.xlsx", "甲科/子目录/c.xlsx"]
