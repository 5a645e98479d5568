"""The input template, read back with openpyxl: sheets, keys, headers, validation, locks, protection.

Expected values are worked out by hand from shared/spec/scoring-rules.md (clause cited at each); the
column letters follow the rules file's input order after the two fixed columns A 单位名称 and B 单位类型.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from kaoping_xlsx.engine import Unit
from kaoping_xlsx.errors import UnitsError
from kaoping_xlsx.layout import FORMAT, Meta, parse_meta
from kaoping_xlsx.rules import load_rules
from kaoping_xlsx.template import field_catalog, load_units, write_template

REPO = Path(__file__).resolve().parent.parent
SAMPLE_UNITS = REPO / "samples" / "units.xlsx"
COMMITTED_TEMPLATE = REPO / "templates" / "input_template.xlsx"
ALL = ("1", "2", "3", "4", "5")
GREY = "FFBFBFBF"
SECTION_SHEETS = ["政务公开", "放管服", "营商环境", "信用体系", "政府网站"]


@pytest.fixture(scope="module")
def rules():
    return load_rules()


# Interleaved types so that per-type validation has to cover runs that are not contiguous;
# 县公安局 takes part in 1 政务公开 and 4 信用体系 only.
UNITS = (
    Unit("县教育局", "县直部门", ALL),
    Unit("长白镇", "乡镇", ALL),
    Unit("县公安局", "县直部门", ("1", "4")),
    Unit("金华乡", "乡镇", ALL),
)


@pytest.fixture(scope="module")
def book(rules, tmp_path_factory):
    path = tmp_path_factory.mktemp("模板") / "2020年考评填报表.xlsx"
    write_template(rules, UNITS, path)
    return openpyxl.load_workbook(path)


def validation_at(ws, coordinate):
    """The one data validation covering a cell (None if none); two would be a fault."""
    found = [dv for dv in ws.data_validations.dataValidation if coordinate in dv.sqref]
    assert len(found) <= 1, coordinate
    return found[0] if found else None


def rule_of(dv):
    """Type, operator, formulas; a missing operator on a number rule is OOXML's default, between."""
    operator = dv.operator or ("between" if dv.type in ("whole", "decimal") else None)
    return (dv.type, operator, dv.formula1, dv.formula2)


# ------------------------------------------------------------------------------------------ workbook


def test_sheets_in_order_guide_first_meta_very_hidden(book):
    assert book.sheetnames == ["填表说明", *SECTION_SHEETS, "_kaoping"]
    assert [ws.sheet_state for ws in book] == ["visible"] * 6 + ["veryHidden"]
    assert book.active.title == "填表说明"


def test_meta_records_rules_identity_and_units(book, rules):
    rows = list(book["_kaoping"].iter_rows(values_only=True))
    assert parse_meta(rows) == Meta(FORMAT, "changbai-2020", rules.fingerprint, UNITS)


def test_same_input_same_bytes(rules, tmp_path):
    first = write_template(rules, UNITS, tmp_path / "甲.xlsx")
    second = write_template(rules, UNITS, tmp_path / "乙.xlsx")
    assert first.read_bytes() == second.read_bytes()


# ---------------------------------------------------------------------------------- section sheets


def test_key_row_is_hidden_and_holds_every_field_key(book, rules):
    for section in rules.sections:
        ws = book[section.sheet]
        keys = [c.value for c in ws[1]]
        assert keys == ["@unit", "@type", *[f.key for f in section.fields]]
        assert ws.row_dimensions[1].hidden


def test_key_rows_by_hand(book):
    """Spot checks against the spec's inputs: 1.1 six yes/no, 1.5 twelve months, 3.3 three raters, 5.x."""
    assert [c.value for c in book["政务公开"][1]][2:10] == [
        "1.1.group", "1.1.agency", "1.1.staff", "1.1.meeting", "1.1.plan", "1.1.summary",
        "1.2.1.report", "1.2.2.missed"]
    assert book["政务公开"]["Z1"].value == "1.5.m12"
    assert [c.value for c in book["营商环境"][1]][4:7] == ["3.3.leaders", "3.3.departments", "3.3.public"]
    assert [c.value for c in book["政府网站"][1]][2:] == [
        "5.1.reported", "5.2.adopted", "5.3.system", "5.3.signed",
        "5.4.attention", "5.4.mechanism", "5.4.staff", "5.4.cooperation"]


def test_group_headers_show_clause_points_and_rule_in_words(book):
    ws = book["政务公开"]
    assert ws["J2"].value == "1.2.2 主动公开（30分，漏报一条扣2分，扣完为止，泄密不得分）"
    assert "J2:K2" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["C2"].value == "1.1 组织保障（6分，6项，每少一项扣1分，扣完为止）"
    assert ws["A2"].value == "1 政务公开（政务公开办填报）"
    # 4.3 双公示 is scored for 县直部门 only (spec §4 table).
    assert book["信用体系"]["E2"].value == "4.3 双公示（15分，按完成情况评分）\n仅县直部门填写"
    assert book["放管服"]["AB2"].value == "降档情况（不计分，符合任一条件直接降档）"
    assert "AB2:AE2" in {str(r) for r in book["放管服"].merged_cells.ranges}


def test_label_row_names_each_input_with_its_unit(book):
    ws = book["政务公开"]
    assert [ws[c].value for c in ("A3", "B3", "C3", "J3", "K3", "M3", "O3")] == [
        "单位名称", "单位类型", "成立领导小组（是/否）", "漏报条数（条）", "是否泄密（是/否）",
        "政务公开学习次数（次）", "1月（条）"]
    assert book["放管服"]["H3"].value == "制度建设情况（下拉选择）"
    assert book["放管服"]["G3"].value == "本项不适用"
    assert book["信用体系"]["C3"].value == "得分（分）"
    assert book["信用体系"]["L3"].value == "加分理由"


def test_one_row_per_taking_part_unit_in_list_order(book):
    def rows(sheet):
        ws = book[sheet]
        return [(ws.cell(r, 1).value, ws.cell(r, 2).value) for r in range(4, ws.max_row + 1)]

    everyone = [(u.name, u.type) for u in UNITS]
    assert rows("政务公开") == everyone
    assert rows("信用体系") == everyone
    assert rows("放管服") == [("县教育局", "县直部门"), ("长白镇", "乡镇"), ("金华乡", "乡镇")]


def test_cells_locked_greyed_and_validated_exactly_where_the_rules_say(book, rules):
    """Every input cell of every sheet: unlocked and validated iff its field applies to the row's type."""
    for section in rules.sections:
        ws = book[section.sheet]
        members = [u for u in UNITS if section.id in u.sections]
        for r, unit in enumerate(members, 4):
            for who in (ws.cell(r, 1), ws.cell(r, 2)):
                assert who.protection.locked
            for c, f in enumerate(section.fields, 3):
                cell = ws.cell(r, c)
                applies = f.applies(unit.type)
                assert cell.protection.locked is not applies, (section.sheet, cell.coordinate)
                assert (cell.fill.fgColor.rgb == GREY) is not applies, (section.sheet, cell.coordinate)
                assert (validation_at(ws, cell.coordinate) is not None) is applies, (section.sheet, cell.coordinate)
        for row in ws.iter_rows(min_row=1, max_row=3):
            assert all(c.protection.locked for c in row)


def test_greyed_cells_for_township_in_credit_sheet(book):
    """Spec §4: 4.3, 4.5, 4.6, 4.7 are not scored for 乡镇 (rows 5 长白镇 and 7 金华乡)."""
    ws = book["信用体系"]
    grey = {c.coordinate for row in ws.iter_rows(min_row=4) for c in row if c.fill.fgColor.rgb == GREY}
    assert grey == {f"{col}{r}" for col in "EGHI" for r in (5, 7)}


@pytest.mark.parametrize("sheet, cell, rule", [
    # 1.1 checklist and 1.2.2 泄密: yes/no dropdowns
    ("政务公开", "C4", ("list", None, '"是,否"', None)),
    ("政务公开", "K7", ("list", None, '"是,否"', None)),
    # 1.2.2 漏报条数, 1.5 monthly counts: whole numbers >= 0
    ("政务公开", "J4", ("whole", "greaterThanOrEqual", "0", None)),
    ("政务公开", "Z6", ("whole", "greaterThanOrEqual", "0", None)),
    # 2.2 one of three
    ("放管服", "H4", ("list", None, '"未出台,已出台未落实,已出台并落实"', None)),
    # 2.x 不适用 allowed (spec §2)
    ("放管服", "G5", ("list", None, '"不适用"', None)),
    ("放管服", "AA6", ("list", None, '"不适用"', None)),
    # 2.national: 降档 count
    ("放管服", "AB4", ("whole", "greaterThanOrEqual", "0", None)),
    # 3.1 rater score in [0, 25]; 3.3 rater groups on a 0-100 scale
    ("营商环境", "C4", ("decimal", "between", "0", "25")),
    ("营商环境", "F5", ("decimal", "between", "0", "100")),
    # 3.6 bonus points >= 0 (capped when scored, not refused)
    ("营商环境", "K4", ("decimal", "greaterThanOrEqual", "0", None)),
    # 4.1: 县直部门 10, 乡镇 25
    ("信用体系", "C4", ("decimal", "between", "0", "10")),
    ("信用体系", "C6", ("decimal", "between", "0", "10")),
    ("信用体系", "C5", ("decimal", "between", "0", "25")),
    ("信用体系", "C7", ("decimal", "between", "0", "25")),
    # 4.8: 县直部门 10, 乡镇 20
    ("信用体系", "J7", ("decimal", "between", "0", "20")),
    # 5.2 采用条数 <= 上报条数 (column C of the same row)
    ("政府网站", "D4", ("whole", "between", "0", "$C4")),
    # 5.4 four scores 0-5
    ("政府网站", "J6", ("decimal", "between", "0", "5")),
])
def test_validation_rule_by_hand(book, sheet, cell, rule):
    assert rule_of(validation_at(book[sheet], cell)) == rule


def test_per_type_validation_covers_non_contiguous_rows(book):
    ws = book["信用体系"]
    by_range = {str(dv.sqref): rule_of(dv) for dv in ws.data_validations.dataValidation
                if str(dv.sqref).startswith("C")}
    assert by_range == {"C4 C6": ("decimal", "between", "0", "10"), "C5 C7": ("decimal", "between", "0", "25")}


def test_validation_prompts_and_alerts_in_chinese(book):
    dv = validation_at(book["信用体系"], "C5")
    assert (dv.promptTitle, dv.prompt) == ("4.1 保障机制和制度规范", "得分：填0到25之间的数（可有小数）。\n留空视为未填写，本部分不计分。")
    assert (dv.errorTitle, dv.error, dv.errorStyle or "stop") == (  # OOXML default style: stop
        "填写内容无效", "“得分”应填0到25之间的数（可有小数）。请填写阿拉伯数字，不要带单位。", "stop")
    assert dv.showInputMessage and dv.showErrorMessage and dv.allow_blank
    dv = validation_at(book["放管服"], "R4")
    assert dv.prompt == ("导致严重后果或重大影响：填是或否。\n请从下拉列表选择“是”或“否”，按表头字面回答。\n"
                         "只有“发现减权放权问题”为“是”时才能填“是”。\n填“是”将直接降档。\n留空视为未填写，本部分不计分。")
    dv = validation_at(book["放管服"], "AE4")
    assert "被县委县政府通报批评累计2次及以上的直接降档。" in dv.prompt
    dv = validation_at(book["政府网站"], "D5")
    assert dv.error == "“采用条数”应填0或正整数，不能超过“上报条数”。请填写阿拉伯数字，不要带单位。"
    dv = validation_at(book["营商环境"], "L4")
    assert dv.type is None and dv.prompt == "加分理由：填文字。\n“加分”大于0时必须写明理由；没有加分请留空。"


def test_protection_freeze_and_print_setup(book):
    for name in SECTION_SHEETS:
        ws = book[name]
        assert ws.protection.sheet and not ws.protection.password
        assert ws.freeze_panes == "C4"
        assert ws.page_setup.orientation == "landscape"
        assert (ws.page_setup.fitToWidth or 1, ws.page_setup.fitToHeight) == (1, 0)  # OOXML default width 1
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows == "$2:$3"
    assert book["填表说明"].protection.sheet


def test_guide_explains_sheets_answers_blanks_and_where_to_send(book, rules):
    text = "\n".join(str(v) for row in book["填表说明"].iter_rows(values_only=True) for v in row if v)
    for section in rules.sections:
        assert section.sheet in text and section.office in text
    for words in ("“是”：", "“否”：", "“不适用”（仅“放管服”表）", "视为“未填写”", "数据不完整",
                  "发送至：县政务服务和数字化建设管理局绩效考评办公室", "3.6 加分项目、4.9 附加分的加分和加分理由",
                  "如“4.3 双公示”只考评县直部门"):
        assert words in text, words
    # the 单位数 column counts taking-part units by type
    assert "3个（县直部门1个，乡镇2个）" in text


# ------------------------------------------------------------------------------------------ catalog


def test_catalog_matches_template_columns(book, rules):
    for entry in field_catalog(rules):
        assert book[entry["sheet"]][f"{entry['column']}1"].value == entry["key"]
    assert len(field_catalog(rules)) == sum(len(s.fields) for s in rules.sections)


def test_catalog_entries_by_hand(rules):
    by_key = {e["key"]: e for e in field_catalog(rules)}
    assert by_key["5.2.adopted"] == {
        "sheet": "政府网站", "column": "D", "key": "5.2.adopted", "section": "5", "clause": "5.2",
        "label": "采用条数", "unit": "条", "type": "count", "type_words": "整数", "required": True,
        "applies_to": ["县直部门", "乡镇"], "values": [], "allowed": "0或正整数，不能超过“上报条数”"}
    assert by_key["4.3.score"]["applies_to"] == ["县直部门"]
    assert by_key["4.3.score"]["allowed"] == "0到15之间的数（可有小数）（仅县直部门填写）"
    assert by_key["4.1.score"]["allowed"] == "县直部门：0到10之间的数（可有小数）；乡镇：0到25之间的数（可有小数）"
    assert by_key["2.2.status"]["values"] == ["未出台", "已出台未落实", "已出台并落实"]
    assert by_key["2.county"]["clause"] == "" and by_key["2.county"]["column"] == "AE"
    assert by_key["3.6.reason"]["allowed"] == "文字，可留空"


# ------------------------------------------------------------------------------------------ samples


TOWNS = ["长白镇", "八道沟镇", "十四道沟镇", "马鹿沟镇", "宝泉山镇", "新房子镇", "金华乡"]
DEPARTMENTS = [
    "县政务服务和数字化建设管理局", "县发展和改革局", "县教育局", "县公安局", "县民政局", "县司法局", "县财政局",
    "县人力资源和社会保障局", "县自然资源局", "县住房和城乡建设局", "县交通运输局", "县水利局", "县农业农村局",
    "县商务局", "县文化广播电视和旅游局", "县卫生健康局", "县退役军人事务局", "县应急管理局", "县审计局",
    "县市场监督管理局", "县统计局", "县医疗保障局", "县林业局",
]


def test_sample_units_are_the_spec_list(rules):
    """Spec, Sample units: 7 乡镇 and the 县直部门 examples, every unit in every section."""
    units = load_units(SAMPLE_UNITS, rules)
    assert units == tuple(Unit(n, "乡镇", ALL) for n in TOWNS) + tuple(Unit(n, "县直部门", ALL) for n in DEPARTMENTS)


def workbook_content(path: Path) -> dict:
    """What an office and the reader see: cells, styles that matter, validations, protection, layout."""
    book = openpyxl.load_workbook(path)
    content: dict = {"sheets": [(ws.title, ws.sheet_state) for ws in book], "active": book.active.title}
    for ws in book:
        content[ws.title] = {
            "cells": [(c.coordinate, c.value, c.protection.locked, c.fill.fgColor.rgb, c.number_format)
                      for row in ws.iter_rows() for c in row],
            "merged": sorted(str(r) for r in ws.merged_cells.ranges),
            "validations": [(str(dv.sqref), dv.type, dv.operator, dv.formula1, dv.formula2, dv.allow_blank,
                             dv.promptTitle, dv.prompt, dv.errorTitle, dv.error, dv.errorStyle)
                            for dv in ws.data_validations.dataValidation],
            "protection": (ws.protection.sheet, ws.protection.password, ws.protection.formatColumns,
                           ws.protection.formatRows, ws.protection.autoFilter),
            "hidden_rows": sorted(r for r, d in ws.row_dimensions.items() if d.hidden),
            "widths": sorted((k, d.width) for k, d in ws.column_dimensions.items()),
            "layout": (ws.freeze_panes, ws.print_title_rows, ws.print_title_cols, ws.page_setup.orientation,
                       ws.page_setup.fitToWidth, ws.page_setup.fitToHeight, str(ws.auto_filter.ref)),
        }
    return content


def test_committed_template_is_what_the_default_rules_and_sample_units_give(rules, tmp_path):
    """Regenerate with: kaoping template --units samples/units.xlsx -o templates/input_template.xlsx"""
    folder = tmp_path / "模板"
    folder.mkdir()
    fresh = write_template(rules, load_units(SAMPLE_UNITS, rules), folder / "input_template.xlsx")
    assert workbook_content(fresh) == workbook_content(COMMITTED_TEMPLATE)


def test_section_without_units_keeps_its_headers_and_keys(rules, tmp_path):
    """A sheet nobody takes part in still carries its keys, so the reader recognises it as empty."""
    path = write_template(rules, (Unit("长白镇", "乡镇", ("1",)),), tmp_path / "只有政务公开.xlsx")
    ws = openpyxl.load_workbook(path)["放管服"]
    assert [c.value for c in ws[1]][:3] == ["@unit", "@type", "2.1.leader"]
    assert ws.max_row == 3 and not ws.data_validations.dataValidation


def test_units_given_by_a_caller_are_checked(rules, tmp_path):
    bad = (Unit("县教育局", "县直部门", ALL), Unit("县教育局", "部门", ("9",)))
    with pytest.raises(UnitsError) as caught:
        write_template(rules, bad, tmp_path / "模板.xlsx")
    assert str(caught.value) == (
        "单位名单有3处问题，模板未生成：\n单位“县教育局”重复\n单位“县教育局”的类型“部门”无效，应为“县直部门”或“乡镇”\n"
        "单位“县教育局”参加的部分“9”不在规则中（1 政务公开、2 放管服、3 营商环境、4 信用体系、5 政府网站）")
    assert not (tmp_path / "模板.xlsx").exists()
