"""The result workbook, read back with openpyxl: what leaders see must be what the engine computed and
what the spec (shared/spec/scoring-rules.md) gives by hand; colours carry words; inputs stay text."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from kaoping_xlsx.engine import Unit, rounded, score
from kaoping_xlsx.errors import OutputError
from kaoping_xlsx.inputs import InputFile, Inputs
from kaoping_xlsx.problems import Code, Problem
from kaoping_xlsx.report import NOTES_SHEET, PROBLEMS_SHEET, SUMMARY_SHEET, _scored, write_result
from kaoping_xlsx.rules import load_rules

D = Decimal
DEPT, TOWN = "县直部门", "乡镇"
RULES = load_rules()
RUN_TIME = datetime(2021, 1, 15, 9, 30, 0)
INJECTION = '=HYPERLINK("http://x","y")'
ALL = ("1", "2", "3", "4", "5")

RED, DARK_RED, GREEN, ORANGE, GREY = "FFC00000", "FF7B0000", "FFC6EFCE", "FFF4B183", "FFD9D9D9"

# Units in list order. 县教育局 and 县民政局 are filled identically (a tie); 长白镇 fails the 1.4 veto and
# is 降档; 八道沟镇 never had its 放管服 sheet returned (数据不完整); the injection unit takes part in
# sections 1 and 2 only (— elsewhere).
UNITS = (
    Unit("县教育局", DEPT, ALL),
    Unit("县民政局", DEPT, ALL),
    Unit("长白镇", TOWN, ALL),
    Unit("八道沟镇", TOWN, ("1", "2")),
    Unit(INJECTION, DEPT, ("1", "2")),
)


def full(section_id: str, unit_type: str) -> dict:
    """A full-marks row of the shipped rules for one section (no deduction, no 降档, no bonus)."""
    if section_id == "1":
        row = {f"1.1.{k}": True for k in ("group", "agency", "staff", "meeting", "plan", "summary")}
        row |= {"1.2.1.report": True, "1.2.2.missed": 0, "1.2.2.leak": False, "1.2.3.done": True,
                "1.3.study": 1, "1.4.ontime": True}
        return row | {f"1.5.m{m}": 1 for m in range(1, 13)}
    if section_id == "2":
        row = {f"2.1.{k}": False for k in ("leader", "group", "office", "lagging")}
        row |= {"2.2.status": "已出台并落实", "2.3.publicised": True, "2.3.late": 0, "2.4.faults": 0,
                "2.5.faults": 0, "2.6.found": False, "2.6.serious": False, "2.7.found": False,
                "2.8.faults": 0, "2.9.faults": 0, "2.10.faults": 0}
        return row | {f"2.{k}": 0 for k in ("national", "inspection", "city", "county")}
    if section_id == "3":
        return {"3.1.score": D(25), "3.2.score": D(15), "3.3.leaders": D(100), "3.3.departments": D(100),
                "3.3.public": D(100), "3.4.score": D(15), "3.5.1.score": D(10), "3.5.2.score": D(5)}
    if section_id == "4":
        if unit_type == TOWN:
            return {"4.1.score": D(25), "4.2.score": D(30), "4.4.score": D(25), "4.8.score": D(20)}
        return {f"4.{i}.score": D(m) for i, m in ((1, 10), (2, 15), (3, 15), (4, 10), (5, 15), (6, 10), (7, 15),
                                                   (8, 10))}
    return {"5.1.reported": 40, "5.2.adopted": 12, "5.3.system": True, "5.3.signed": True,
            "5.4.attention": D(5), "5.4.mechanism": D(5), "5.4.staff": D(5), "5.4.cooperation": D(5)}


def tables() -> dict[str, pd.DataFrame]:
    rows = {sid: {} for sid in ALL}
    for u in UNITS:
        for sid in u.sections:
            rows[sid][u.name] = full(sid, u.type)
    for name in ("县教育局", "县民政局"):
        rows["1"][name]["1.2.2.missed"] = 3  # 1.2.2: 30 − 2 × 3 = 24
        rows["3"][name] |= {"3.6.points": D(2), "3.6.reason": "获省级营商环境表彰"}  # 3.6: +2
    rows["1"]["长白镇"]["1.4.ontime"] = False  # 1.4 veto failed: 0 of 40
    rows["2"]["长白镇"] |= {"2.10.faults": None, "2.10.na": True,  # 不适用: applicable max 85
                           "2.7.found": True,  # 2.7: 0 of 15
                           "2.6.found": True, "2.6.serious": True,  # 2.6: 0 of 15, 降档 trigger 6
                           "2.8.faults": 1,  # 2.8: 10 − 5 = 5
                           "2.county": 2}  # 降档 trigger 4
    del rows["2"]["八道沟镇"]
    out = {}
    for s in RULES.sections:
        keys = [f.key for f in s.fields]
        data = rows[s.id]
        out[s.id] = pd.DataFrame([[r.get(k) for k in keys] for r in data.values()], index=list(data),
                                 columns=keys, dtype=object)
    return out


def make_inputs(folder: Path) -> Inputs:
    files = []
    for name, sections, accepted in (("政务公开办.xlsx", ("1",), True), ("放管服办.xlsx", ("2", "3", "4", "5"), True),
                                     ("旧版本.xlsx", (), False)):
        path = folder / name
        path.write_bytes(f"fake workbook {name}".encode())
        files.append(InputFile(path, name, hashlib.sha256(path.read_bytes()).hexdigest(), sections, accepted))
    problems = (
        Problem("旧版本.xlsx", Code.FILE_OTHER_RULES, "模板的规则版本与本次考评不符", severity="错误"),
        Problem("", Code.SECTION_NOT_RETURNED, "放管服未报送", sheet="放管服", unit="八道沟镇"),
        Problem("放管服办.xlsx", Code.VALUE_INVALID, "应填是或否", sheet="放管服", cell="'放管服'!F9",
                unit=INJECTION, clause="2.3", value="=1+1", expected="是或否", severity="警告"),
    )
    t = tables()
    return Inputs(RULES, UNITS, t, {}, problems, tuple(files))


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("报告")
    inputs = make_inputs(folder)
    result = score(RULES, inputs.units, inputs.tables, inputs.blocked)
    out = folder / "2020年绩效考评结果.xlsx"
    assert write_result(result, inputs, out, run_time=RUN_TIME, version="0.1.0") == out
    return result, inputs, out, openpyxl.load_workbook(out)


def summary_rows(book) -> dict[str, dict]:
    """汇总 data rows by unit name: header → cell (the legend below the table is left out)."""
    ws = book[SUMMARY_SHEET]
    header = [c.value for c in ws[1]]
    rows = {}
    for cells in ws.iter_rows(min_row=2, max_row=1 + len(UNITS)):
        rows[cells[1].value] = {h: c for h, c in zip(header, cells) if h}
    return rows


def section_rows(book, sheet: str) -> dict[str, dict]:
    """A section sheet's data rows by unit name: (group, label) → cell, groups filled across merges."""
    ws = book[sheet]
    groups, group = [], None
    for c in ws[1]:
        group = c.value if c.value is not None else group
        groups.append(group)
    keys = list(zip(groups, (c.value for c in ws[2])))
    return {cells[0].value: dict(zip(keys, cells)) for cells in ws.iter_rows(min_row=3, max_row=2 + len(UNITS))}


def heading(clause_id: str) -> str:
    return next(c.heading for c in RULES.clauses if c.id == clause_id)


def fill(cell) -> str:
    return cell.fill.fgColor.rgb if cell.fill.fill_type == "solid" else ""


def test_every_unit_once_per_sheet(written):
    _, _, _, book = written
    names = sorted(u.name for u in UNITS)
    assert sorted(summary_rows(book)) == names
    assert book[SUMMARY_SHEET].cell(2 + len(UNITS), 2).value is None  # a gap, then the legend
    for s in RULES.sections:
        ws = book[s.sheet]
        assert sorted(c.value for c in ws["A"][2:]) == names


def test_summary_is_what_the_engine_computed(written):
    result, _, _, book = written
    rows = summary_rows(book)
    # Ranked by total; the tie keeps the unit-list order; 数据不完整 last.
    assert [c.value for c in book[SUMMARY_SHEET]["B"][1:1 + len(UNITS)]] == [
        INJECTION, "县教育局", "县民政局", "长白镇", "八道沟镇"]
    for i, unit in enumerate(result.units):
        row = rows[unit.name]
        expected = rounded(result.total[i])
        assert row["总分"].value == (float(expected) if expected is not None else "数据不完整")
        assert row["名次"].value == (result.rank[i] if result.rank[i] is not None else "未排名")
        for s in RULES.sections:
            sr = result.sections[s.id]
            shown = {"ok": float(rounded(sr.total[i]) or 0), "数据不完整": "数据不完整", "不参加": "—"}
            assert row[s.name].value == shown[sr.status[i]]
        assert (row["降档原因"].value or "") == "；".join(result.downgrade[i])


def test_scores_as_hand_computed_from_the_spec(written):
    _, _, _, book = written
    rows = summary_rows(book)
    # 县教育局 (县直部门): 1 政务公开 = 1.1 6 + 1.2.1 2 + 1.2.2 (30 − 2×3 漏报) 24 + 1.2.3 5 + 1.3 5 + 1.4 40
    # + 1.5 12 = 94; 3 营商环境 = 25 + 15 + 30 + 15 + 10 + 5 + 3.6 bonus 2 = 102; sections 2, 4, 5 full (100).
    # Total = (94 + 100 + 102 + 100 + 100) / 5 = 99.20, tied with the identical 县民政局; the injection
    # unit (sections 1 and 2 only, both 100) ranks first, so both are 2 (competition ranking 1, 2, 2, 4).
    edu = rows["县教育局"]
    assert (edu["政务公开"].value, edu["营商环境"].value, edu["总分"].value, edu["名次"].value) == (94, 102, 99.2, 2)
    assert rows["县民政局"]["名次"].value == 2 and rows[INJECTION]["名次"].value == 1
    assert edu["放管服等次"].value == "优秀"  # 100 ≥ 90
    # 长白镇 (乡镇): 1 政务公开 = 6 + 2 + 30 + 5 + 5 + 1.4 未按时完成 0 (否决) + 12 = 60.
    # 2 放管服: 2.1 5 + 2.2 5 + 2.3 10 + 2.4 10 + 2.5 5 + 2.6 发现问题 0 + 2.7 发现未及时调整 0 + 2.8 (10 − 5×1) 5
    # + 2.9 10 = 50 of 85 applicable (2.10 不适用, 15) → 50 ÷ 85 × 100 = 58.8235… → 58.82, 不合格 (< 70).
    # Total = (60 + 58.8235… + 100 + 100 + 100) / 5 = 83.7647… → 83.76, rank 4.
    town = rows["长白镇"]
    assert (town["政务公开"].value, town["放管服"].value, town["总分"].value, town["名次"].value) == (60, 58.82, 83.76, 4)
    assert town["放管服等次"].value == "不合格"
    # 降档 triggers 4 (县委县政府通报批评 ≥ 2), 5 (放管服 < 70) and 6 (减权放权 serious consequences).
    assert town["降档"].value == "降档"
    assert town["降档原因"].value == ("被县委县政府通报批评2次；放管服得分低于70分（58.82分）；"
                                  "减权放权工作不力导致严重后果或重大影响")
    assert town["否决项"].value == "否决：1.4 日常工作、材料报送"
    incomplete = rows["八道沟镇"]
    assert (incomplete["放管服"].value, incomplete["总分"].value, incomplete["名次"].value) == (
        "数据不完整", "数据不完整", "未排名")
    assert rows[INJECTION]["营商环境"].value == "—"


def test_colours_carry_words(written):
    _, _, _, book = written
    rows = summary_rows(book)
    town = rows["长白镇"]
    veto = town["政务公开"]
    assert fill(veto) == RED and veto.font.b and veto.font.color.rgb == "FFFFFFFF"
    assert '"否决 "' in veto.number_format  # shows 否决 60.00 in greyscale too
    assert fill(town["否决项"]) == RED and town["否决项"].value.startswith("否决")
    assert fill(town["降档"]) == DARK_RED and town["降档"].value == "降档"
    assert town["名次"].border.left.style == "thick" and town["名次"].border.left.color.rgb == DARK_RED
    assert fill(town["放管服等次"]) == ORANGE
    assert fill(rows["县教育局"]["放管服等次"]) == GREEN and fill(rows["县教育局"]["政务公开"]) == ""
    assert rows["县教育局"]["名次"].border.left.style != "thick"
    assert all(fill(cell) == GREY for cell in rows["八道沟镇"].values())  # the whole 数据不完整 row
    assert rows["县教育局"]["总分"].number_format == "0.00"
    # Section sheets: the failed veto cell and its explanation, 不适用, not-for-type, incomplete.
    public = section_rows(book, "政务公开")["长白镇"]
    assert public[(heading("1.4"), "本项得分")].value == 0 and fill(public[(heading("1.4"), "本项得分")]) == RED
    assert "否决" in public[(heading("1.4"), "计分说明")].value
    assert public[(heading("1.4"), "按时完成")].value == "否"
    assert public[("政务公开结果", "否决项")].value == "否决：1.4 日常工作、材料报送"
    reform = section_rows(book, "放管服")
    assert reform["长白镇"][(heading("2.10"), "本项得分")].value == "不适用"
    assert reform["长白镇"][(heading("2.10"), "本项不适用")].value == "不适用"
    assert reform["长白镇"][(heading("2.8"), "本项扣分")].value == 5
    assert reform["长白镇"][(heading("2.2"), "制度建设情况")].value == "已出台并落实"
    assert reform["长白镇"][("放管服结果", "等次")].value == "不合格"
    assert reform["长白镇"][("放管服结果", "降档")].value.startswith("降档：")
    assert fill(reform["长白镇"][("放管服结果", "降档")]) == DARK_RED
    assert reform["八道沟镇"][("放管服结果", "本部分得分")].value == "数据不完整"
    assert fill(reform["八道沟镇"][(heading("2.1"), "本项得分")]) == GREY
    credit = section_rows(book, "信用体系")["长白镇"]
    assert credit[(heading("4.3"), "得分")].value == "—" and credit[(heading("4.3"), "本项得分")].value == "—"
    business = section_rows(book, "营商环境")["县教育局"]
    assert business[(heading("3.6"), "加分理由")].value == "获省级营商环境表彰"
    assert business[("营商环境结果", "本部分得分")].value == 102


def test_text_from_inputs_stays_text(written):
    _, _, _, book = written
    cell = summary_rows(book)[INJECTION]["单位名称"]
    assert cell.value == INJECTION and cell.data_type == "s"
    for s in RULES.sections:
        assert book[s.sheet]["A7"].value == INJECTION and book[s.sheet]["A7"].data_type == "s"
    value = book[PROBLEMS_SHEET]["I4"]
    assert value.value == "=1+1" and value.data_type == "s"


def test_problems_listed_as_given(written):
    _, inputs, _, book = written
    ws = book[PROBLEMS_SHEET]
    assert [c.value for c in ws[1]] == ["严重程度", "代码", "类别", "文件", "工作表", "单元格", "单位", "条款",
                                        "填写的值", "应填写", "说明"]
    got = [[c.value or "" for c in row] for row in ws.iter_rows(min_row=2)]
    assert got == [[p.severity, p.code.value, p.code.words, p.file, p.sheet, p.cell, p.unit, p.clause, p.value,
                    p.expected, p.message] for p in inputs.problems]


def test_notes_name_rules_files_and_run(written):
    _, inputs, _, book = written
    cells = [[c.value for c in row] for row in book[NOTES_SHEET].iter_rows()]
    facts = {row[0]: row[1] for row in cells if row[0] and row[1]}
    assert facts["规则编号"] == RULES.id and facts["规则指纹"] == RULES.fingerprint
    assert facts["运行时间"] == "2021-01-15 09:30:00" and facts["程序版本"] == "kaoping_xlsx 0.1.0"
    assert "四舍五入" in facts["计算与舍入"]
    for f in inputs.files:
        row = next(r for r in cells if r[0] == f.name)
        assert row[1] == hashlib.sha256(f.path.read_bytes()).hexdigest()
        assert row[2].startswith("已采用" if f.accepted else "已拒绝")
    assert next(r for r in cells if r[0] == "放管服办.xlsx")[3] == "放管服、营商环境、信用体系、政府网站"
    methods = [r[1] for r in cells if r[0] and r[0].startswith("1 政务公开")]
    assert "1.2.2 主动公开（30分）：漏报一条扣2分，扣完为止，泄密不得分" in methods


def test_made_for_screen_and_paper(written):
    _, _, _, book = written
    summary, reform = book[SUMMARY_SHEET], book["放管服"]
    assert summary.freeze_panes == "C2" and reform.freeze_panes == "C3"
    assert summary.auto_filter.ref.startswith("A1:") and reform.auto_filter.ref.startswith("A2:")
    assert reform.cell(1, 7).value == heading("2.1")
    assert any(str(r).startswith("G1:") for r in reform.merged_cells.ranges)
    for ws in book:
        # fitToWidth 1 is the default, so only fitToPage and fitToHeight 0 ("as many pages as needed") show.
        assert ws.page_setup.paperSize == 9 and ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0
        assert ws.oddFooter.center.text == "&P / &N"
    assert summary.page_setup.orientation == "landscape" and summary.print_title_rows == "$1:$1"
    assert reform.print_title_rows == "$1:$2"
    assert summary.column_dimensions["B"].width >= 2 * len("县教育局")
    assert len(summary._charts) == 1


def test_same_inputs_same_workbook(written, tmp_path):
    result, inputs, out, _ = written
    again = write_result(result, inputs, tmp_path / "again.xlsx", run_time=RUN_TIME, version="0.1.0")
    assert again.read_bytes() == out.read_bytes()


def test_output_over_an_input_is_refused(written):
    result, inputs, _, _ = written
    source = inputs.files[0].path
    before = source.read_bytes()
    with pytest.raises(OutputError, match="输入文件相同"):
        write_result(result, inputs, source, run_time=RUN_TIME, version="0.1.0")
    assert source.read_bytes() == before


def test_chinese_output_path(written, tmp_path):
    result, inputs, _, _ = written
    folder = tmp_path / "考评结果 2020"
    folder.mkdir()
    out = write_result(result, inputs, folder / "长白县 绩效考评结果.xlsx", run_time=RUN_TIME, version="0.1.0")
    assert openpyxl.load_workbook(out).sheetnames == [SUMMARY_SHEET, *(s.sheet for s in RULES.sections),
                                                       PROBLEMS_SHEET, NOTES_SHEET]
    assert [p.name for p in folder.iterdir()] == ["长白县 绩效考评结果.xlsx"]  # no temporary file left


def test_score_columns_keep_the_sign_of_zero():
    # Report columns code each row into their distinct values: -0.0 (shown "-0") must not become 0.0.
    scored = np.array([True, True, False, True, False])
    shown = np.array([0.0, -0.0, None, 2.5, None], dtype=object)
    codes, values = _scored(scored, shown, np.array([0, 0, 1, 0, 0]), ["不适用", None])
    cells = values[codes].tolist()
    assert cells == [0.0, -0.0, None, 2.5, "不适用"]
    assert [np.signbit(v) for v in cells[:2]] == [False, True]
