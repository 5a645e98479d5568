"""`kaoping score` and `kaoping check` end to end on the samples, as the assessment office runs them.

Expected numbers are worked by hand from shared/spec/scoring-rules.md and the sample values written by
samples/make_samples.py (``values_for``); the clause is cited beside each.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from kaoping_xlsx.cli import cli
from kaoping_xlsx.rules import load_rules
from kaoping_xlsx.template import load_units, write_template

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "回收表格"
EPOCH = "1610701200"  # 2021-01-15 09:00:00 UTC
RULES = load_rules()
UNITS = load_units(ROOT / "samples" / "units.xlsx", RULES)
PROBLEM_LINE = ("[U01 错误] 软环境办_信用办.xlsx '营商环境'!A34：单位“县档案局”不在模板的单位名单中，本行数据不会使用；"
                "请勿修改单位名称或增加单位")


def run(*args: str):
    result = CliRunner().invoke(cli, list(args), env={"SOURCE_DATE_EPOCH": EPOCH})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """The samples scored once into a Chinese-named folder: (CLI result, output path)."""
    out = tmp_path_factory.mktemp("结果") / "2020年绩效考评结果.xlsx"
    return run("score", str(SAMPLES), "-o", str(out)), out


def summary_rows(path: Path) -> dict[str, dict[str, object]]:
    ws = openpyxl.load_workbook(path)["汇总"]
    header = [c.value for c in ws[1]]
    rows = {}
    for row in ws.iter_rows(min_row=2, values_only=True):
        if row[1] is None or row[0] == "图例" or row[1] == "图例":
            break
        assert row[1] not in rows, f"{row[1]} listed twice"
        rows[row[1]] = dict(zip(header, row))
    return rows


def test_score_samples_prints_summary_and_exits_0(scored):
    result, out = scored
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "读取文件 3 个，单位 30 个：已排名 30 个，未排名（数据不完整）0 个；发现问题 1 个",
        "问题清单（结果表“校验问题”工作表中有全部问题）：",
        PROBLEM_LINE,
        f"已写入结果：{out}",
    ]
    result.output.encode("gbk")  # a Chinese Windows console can print it


def test_every_unit_once_on_the_summary(scored):
    rows = summary_rows(scored[1])
    assert sorted(rows) == sorted(u.name for u in UNITS)


def test_hand_computed_sample_units(scored):
    rows = summary_rows(scored[1])
    town = rows["长白镇"]
    # 1.1 all 是 → 6; 1.2.1 → 2; 1.2.2 0 missed → 30; 1.2.3 → 5; 1.3 → 5; 1.4 → 40;
    # 1.5 July is 0 (m + i ≡ 0 mod 7) → 12 − 1 = 11 (each month below one loses a point). Sum 99.
    assert town["政务公开"] == 99
    # 放管服: 2.6–2.10 不适用; 2.1 5 + 2.2 已出台并落实 5 + 2.3 10 + 2.4 10 + 2.5 5 = 35 of 35 → 100.
    assert town["放管服"] == 100
    # 3.3: 0.4×80 + 0.3×78 + 0.3×75 = 77.9 → ×30/100 = 23.37; 25 + 15 + 23.37 + 15 + 10 + 5 = 93.37.
    assert town["营商环境"] == pytest.approx(93.37)
    # 信用体系 乡镇 items 25 + 30 + 25 + 20 = 100, plus 4.9 bonus 2 (with a reason) = 102.
    assert town["信用体系"] == 102
    # 5.1: 28 reported → 30 + (28 − 40) = 18; 5.2: 8 adopted → 30 + (8 − 12) = 26; 5.3 signed 否 → 10;
    # 5.4: 5 + 5 + 5 + 4 = 19. Sum 73.
    assert town["政府网站"] == 73
    # Overall: equal weights over five sections: (99 + 100 + 93.37 + 102 + 73) / 5 = 93.474 → 93.47.
    assert town["总分"] == pytest.approx(93.47)

    transport = rows["县交通运输局"]
    # 放管服 (i = 17): 2.1 lagging −2 → 3; 2.2 未出台 → 0; 2.3 not publicised −5 and 3 late −6 → 0 (floor);
    # 2.4 one fault → 8; 2.5 one → 2.5; 2.6 → 15; 2.7 found → 0; 2.8 one → 5; 2.9 → 10; 2.10 → 15. = 58.5
    assert transport["放管服"] == 58.5
    assert transport["放管服等次"] == "不合格"  # < 70
    assert transport["降档"] == "降档"
    assert transport["降档原因"] == "放管服得分低于70分（58.5分）"  # 降档 trigger 5

    housing = rows["县住房和城乡建设局"]
    assert housing["降档原因"] == "被县委县政府通报批评2次"  # trigger 4: twice or more
    assert rows["县商务局"]["降档"] in (None, "")  # criticised by the county once: not enough
    assert rows["县水利局"]["降档原因"] == "减权放权工作不力导致严重后果或重大影响"  # trigger 6

    civil = rows["县民政局"]
    # 1.4 否 → 0 and a failed veto; 1.1 6 + 1.2.1 2 + 1.2.2 3 missed → 24 + 1.2.3 5 + 1.3 5
    # + 1.5 March and October empty → 10 = 52.
    assert "1.4 日常工作、材料报送" in civil["否决项"]
    assert "1.2.2 主动公开" in rows["县司法局"]["否决项"]  # 泄密


def test_ranks_follow_totals_with_ties_shared(scored):
    rows = summary_rows(scored[1])
    totals = {name: round(r["总分"], 2) for name, r in rows.items()}
    for name, r in rows.items():
        assert r["名次"] == 1 + sum(t > totals[name] for t in totals.values()), name


def test_failed_veto_and_downgrade_are_coloured(scored):
    ws = openpyxl.load_workbook(scored[1])["汇总"]
    header = [c.value for c in ws[1]]
    by_name = {row[1].value: row for row in ws.iter_rows(min_row=2) if row[1].value}
    veto_cell = by_name["县民政局"][header.index("政务公开")]
    assert veto_cell.fill.fgColor.rgb == "FFC00000" and veto_cell.font.b and veto_cell.font.color.rgb == "FFFFFFFF"
    assert "否决" in veto_cell.number_format  # the word survives a greyscale printout
    downgrade_cell = by_name["县交通运输局"][header.index("降档")]
    assert downgrade_cell.value == "降档" and downgrade_cell.fill.fgColor.rgb == "FF7B0000"


def test_notes_sheet_hashes_match_the_input_files(scored):
    ws = openpyxl.load_workbook(scored[1])["说明"]
    text = [str(c) for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    for path in sorted(SAMPLES.glob("*.xlsx")):
        assert sha(path) in text, path.name
    assert RULES.fingerprint in " ".join(text)


def test_same_inputs_twice_give_the_same_workbook(scored, tmp_path):
    again = tmp_path / "再次.xlsx"
    assert run("score", str(SAMPLES), "-o", str(again)).exit_code == 0
    assert sha(again) == sha(scored[1])


def test_inputs_are_never_modified(tmp_path):
    before = {p.name: sha(p) for p in SAMPLES.glob("*.xlsx")}
    run("score", str(SAMPLES), "-o", str(tmp_path / "结果.xlsx"))
    run("check", str(SAMPLES), "--annotate", str(tmp_path / "待修改"))
    assert {p.name: sha(p) for p in SAMPLES.glob("*.xlsx")} == before


def test_strict_writes_nothing_and_exits_1(tmp_path):
    out = tmp_path / "结果.xlsx"
    result = run("score", str(SAMPLES), "-o", str(out), "--strict")
    assert result.exit_code == 1
    assert result.output.splitlines()[-2:] == ["因使用 --strict 且发现问题，未写入结果。问题清单：", PROBLEM_LINE]
    assert not out.exists()


def test_unranked_units_make_exit_1(tmp_path):
    folder = tmp_path / "收回"
    folder.mkdir()
    shutil.copy(SAMPLES / "政务公开办_信息科.xlsx", folder)  # 放管服, 营商环境, 信用体系 never returned
    out = tmp_path / "结果.xlsx"
    result = run("score", str(folder), "-o", str(out))
    assert result.exit_code == 1
    # One 未报送 problem per unit and missing section: 30 × 3.
    assert result.output.splitlines()[0] == "读取文件 1 个，单位 30 个：已排名 0 个，未排名（数据不完整）30 个；发现问题 90 个"
    assert out.exists()


def test_output_equal_to_an_input_is_refused(tmp_path):
    folder = tmp_path / "收回"
    shutil.copytree(SAMPLES, folder)
    target = folder / "放管服办.xlsx"
    before = sha(target)
    result = run("score", str(folder), "-o", str(target))
    assert result.exit_code == 2
    assert result.output == (f"错误：输出文件 {target} 与输入文件相同，为保护原始数据已拒绝写入，请换一个输出文件名\n")
    assert sha(target) == before


def test_missing_input_path_is_a_clear_error(tmp_path):
    result = run("score", str(tmp_path / "没有这个文件夹"), "-o", str(tmp_path / "结果.xlsx"))
    assert result.exit_code == 2
    assert result.output.startswith("错误：") and "没有这个文件夹" in result.output
    assert not (tmp_path / "结果.xlsx").exists()


def test_check_samples_lists_the_mistake_and_exits_1():
    result = run("check", str(SAMPLES))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "读取文件 3 个（可用 3 个），名单单位 30 个，单位行 152 行（采用 151 行）",
        "发现问题 1 个（错误 1 个，警告 0 个）：",
        "  营商环境  U01 单位不在名单中  1 个",
        "问题清单：",
        PROBLEM_LINE,
    ]


def test_check_json_lists_files_and_problems():
    result = run("check", str(SAMPLES), "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    # Files in sorted path order; 放管服办 also filled one 政务公开 row (identical to 政务公开办's).
    assert [f["name"] for f in data["files"]] == ["放管服办.xlsx", "政务公开办_信息科.xlsx", "软环境办_信用办.xlsx"]
    assert [f["sections"] for f in data["files"]] == [["1", "2"], ["1", "5"], ["3", "4"]]
    assert [(p["code"], p["cell"], p["unit"]) for p in data["problems"]] == [("U01", "'营商环境'!A34", "")]


def test_check_clean_folder_exits_0(tmp_path):
    folder = tmp_path / "收回"
    folder.mkdir()
    shutil.copy(SAMPLES / "放管服办.xlsx", folder)
    shutil.copy(SAMPLES / "政务公开办_信息科.xlsx", folder)
    result = run("check", str(folder / "放管服办.xlsx"), str(folder / "政务公开办_信息科.xlsx"))
    # 营商环境 and 信用体系 were not returned: every unit is named, so problems remain (exit 1).
    assert result.exit_code == 1
    assert "  营商环境  U06 未报送  30 个" in result.output.splitlines()


def test_check_annotates_copies_in_a_chinese_folder(tmp_path):
    out = tmp_path / "待修改"
    result = run("check", str(SAMPLES), "--annotate", str(out))
    copy = out / "软环境办_信用办.待修改.xlsx"
    assert result.output.splitlines()[-1] == f"已生成待修改文件：{copy}"
    cell = openpyxl.load_workbook(copy)["营商环境"]["A34"]
    assert cell.fill.fgColor.rgb == "FFFF0000" and "县档案局" in cell.comment.text


def test_formula_injection_unit_name_stays_text(tmp_path):
    """A unit named like a formula goes through template, reading and scoring as plain text."""
    from kaoping_xlsx.engine import Unit
    from kaoping_xlsx.layout import FIRST_DATA_ROW, KEY_ROW

    name = '=HYPERLINK("http://example.com","点此")'
    units = (Unit(name, "县直部门", ("5",)), Unit("+1", "乡镇", ("5",)))
    template = tmp_path / "模板.xlsx"
    write_template(RULES, units, template)
    book = openpyxl.load_workbook(template)
    ws = book["政府网站"]
    keys = {c.value: c.column for c in ws[KEY_ROW + 1] if c.value}
    for row in range(FIRST_DATA_ROW + 1, FIRST_DATA_ROW + 3):
        values = {"5.1.reported": 40, "5.2.adopted": 12, "5.3.system": "是", "5.3.signed": "是",
                  "5.4.attention": 5, "5.4.mechanism": 5, "5.4.staff": 5, "5.4.cooperation": 5}
        for key, value in values.items():
            ws.cell(row, keys[key]).value = value
    filled = tmp_path / "信息科.xlsx"
    book.save(filled)
    out = tmp_path / "结果.xlsx"
    result = run("score", str(filled), "-o", str(out))
    assert result.exit_code == 0, result.output
    result_book = openpyxl.load_workbook(out)
    for sheet in ("汇总", "政府网站"):
        cells = [c for row in result_book[sheet].iter_rows() for c in row if c.value in (name, "+1")]
        assert len(cells) == 2, sheet
        assert all(c.data_type == "s" and c.hyperlink is None for c in cells), sheet
    rows = summary_rows(out)
    assert rows[name]["总分"] == 100 and rows["+1"]["总分"] == 100  # 5.1 30 + 5.2 30 + 5.3 20 + 5.4 20


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal_and_only_for_long_runs():
    from kaoping_xlsx.api import score_steps
    from kaoping_xlsx.cli import _Progress

    steps = ["读取并校验", "计分", "写入汇总"] + [f"写入{s.sheet}" for s in RULES.sections] + ["写入校验问题"]
    assert len(steps) == score_steps(RULES)
    shown, quiet, short = _Terminal(), io.StringIO(), _Terminal()
    for stream, delay in ((shown, 0), (quiet, 0), (short, 3600)):
        progress = _Progress(len(steps), stream=stream, delay=delay)
        for step in steps:
            progress(step)
        progress.close()
    assert "进度" in shown.getvalue() and "写入校验问题" in shown.getvalue()
    assert quiet.getvalue() == ""  # not a terminal: silent
    assert short.getvalue() == ""  # finished before the delay: no bar


def test_score_lists_at_most_50_problems_on_the_console(tmp_path):
    folder = tmp_path / "收回"
    folder.mkdir()
    shutil.copy(SAMPLES / "政务公开办_信息科.xlsx", folder)
    result = run("score", str(folder), "-o", str(tmp_path / "结果.xlsx"))
    lines = result.output.splitlines()
    assert lines[1] == "问题清单（结果表“校验问题”工作表中有全部问题）："
    assert len([line for line in lines if line.startswith("[U06 错误]")]) == 50
    assert lines[-2] == "……另有 40 个问题未在此列出，见结果表“校验问题”工作表，或运行 kaoping check"  # 90 in all
