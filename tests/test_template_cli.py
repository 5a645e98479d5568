"""``kaoping template`` and ``kaoping fields`` through click: exact messages, exit codes, nothing written on error."""

from __future__ import annotations

import json

import openpyxl
import pytest
from click.testing import CliRunner

from kaoping_xlsx.cli import cli
from kaoping_xlsx.engine import Unit
from kaoping_xlsx.layout import parse_meta
from kaoping_xlsx.rules import load_rules
from kaoping_xlsx.template import field_catalog, load_units

ALL = ("1", "2", "3", "4", "5")


def units_book(path, rows, sheet="名单"):
    path.parent.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook()
    book.active.title = sheet
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "考评" / "2020年"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_template_from_xlsx_list(folder):
    units = units_book(folder / "单位名单.xlsx", [
        ["长白县考评单位名单"],  # a title row above the header is allowed
        ["序号", "单位名称", "单位类型", "参加部分"],
        [1, "县教育局", "县直部门", None],
        [2, "　长白镇 ", "乡镇", "1、信用体系"],  # full-width and ASCII spaces trimmed
        [None, None, None, None],  # blank rows skipped
        [3, "金华乡", "乡镇", "全部"],
    ])
    out = folder / "填报模板.xlsx"
    result = run("template", "--units", units, "-o", out)
    assert (result.exit_code, result.stdout, result.stderr) == (0, f"已生成模板：{out}（3个单位，5张填报表）\n", "")
    meta = parse_meta(list(openpyxl.load_workbook(out)["_kaoping"].iter_rows(values_only=True)))
    assert meta.units == (Unit("县教育局", "县直部门", ALL), Unit("长白镇", "乡镇", ("1", "4")),
                          Unit("金华乡", "乡镇", ALL))


def test_template_from_gbk_csv(folder):
    """Excel on Chinese Windows saves CSV as GBK."""
    units = folder / "单位名单.csv"
    units.parent.mkdir(parents=True)
    units.write_bytes("单位名称,单位类型,参加部分\n县教育局,县直部门,\n长白镇,乡镇,\"1,5\"\n".encode("gbk"))
    assert load_units(units, load_rules()) == (Unit("县教育局", "县直部门", ALL), Unit("长白镇", "乡镇", ("1", "5")))
    result = run("template", "--units", units, "-o", folder / "模板.xlsx")
    assert result.exit_code == 0


BAD_LISTS = [
    ("缺少类型列",
     [["单位名称", "类型"], ["县教育局", "县直部门"]],
     "错误：单位名单 缺少类型列.xlsx 工作表“名单”第1行表头缺少“单位类型”列（表头为：“单位名称”、“类型”），"
     "应有“单位名称”“单位类型”两列\n"),
    ("缺少名称列",
     [["名称", "单位类型"], ["县教育局", "县直部门"]],
     "错误：单位名单 缺少名称列.xlsx：工作表“名单”前10行中找不到“单位名称”列。"
     "表头应有“单位名称”“单位类型”两列（可选“参加部分”列）\n"),
    ("名称为空",
     [["单位名称", "单位类型"], ["县教育局", "县直部门"], [None, "乡镇"]],
     "错误：单位名单有1处问题，模板未生成：\n"
     "单位名单 名称为空.xlsx '名单'!A3：单位名称为空（该行单位类型为“乡镇”），每行都要写明单位名称\n"),
    ("名称重复",
     [["单位名称", "单位类型"], ["县教育局", "县直部门"], ["长白镇", "乡镇"], [" 县教育局 ", "县直部门"]],
     "错误：单位名单有1处问题，模板未生成：\n"
     "单位名单 名称重复.xlsx '名单'!A4：单位名称“县教育局”与 A2 重复，每个单位只能出现一次\n"),
    ("类型无效",
     [["单位名称", "单位类型"], ["县教育局", "县直部门"], ["长白镇", "镇"], ["金华乡", None]],
     "错误：单位名单有2处问题，模板未生成：\n"
     "单位名单 类型无效.xlsx '名单'!B3：单位类型“镇”无效，应为“县直部门”或“乡镇”\n"
     "单位名单 类型无效.xlsx '名单'!B4：单位类型为空，应为“县直部门”或“乡镇”\n"),
    ("部分无效",
     [["单位名称", "单位类型", "参加部分"], ["县教育局", "县直部门", "1、放管服、6"]],
     "错误：单位名单有1处问题，模板未生成：\n"
     "单位名单 部分无效.xlsx '名单'!C2：参加部分“1、放管服、6”中的“6”不是考评部分，应为部分编号或名称"
     "（1 政务公开、2 放管服、3 营商环境、4 信用体系、5 政府网站），多个用顿号分隔，留空表示全部参加\n"),
    ("没有单位",
     [["单位名称", "单位类型"]],
     "错误：单位名单 没有单位.xlsx '名单'!A1：表头下面没有任何单位，请每行填写一个单位\n"),
    ("表头重复",
     [["单位名称", "单位类型", "单位名称"], ["县教育局", "县直部门", "x"]],
     "错误：单位名单 表头重复.xlsx '名单'!C1：表头“单位名称”出现了两次（另一处在 A1），请只保留一列\n"),
]


@pytest.mark.parametrize("name, rows, message", BAD_LISTS, ids=[case[0] for case in BAD_LISTS])
def test_bad_units_list(folder, name, rows, message):
    units = units_book(folder / f"{name}.xlsx", rows)
    out = folder / "模板.xlsx"
    result = run("template", "--units", units, "-o", out)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", message)
    assert sorted(p.name for p in folder.iterdir()) == [f"{name}.xlsx"]


def test_many_faults_are_listed_together_and_cut(folder):
    rows = [["单位名称", "单位类型"]] + [[f"单位{n}", "部门"] for n in range(1, 26)]
    result = run("template", "--units", units_book(folder / "名单.xlsx", rows), "-o", folder / "模板.xlsx")
    lines = result.stderr.splitlines()
    assert result.exit_code == 2
    assert lines[0] == "错误：单位名单有25处问题，模板未生成："
    assert lines[1] == "单位名单 名单.xlsx '名单'!B2：单位类型“部门”无效，应为“县直部门”或“乡镇”"
    assert len(lines) == 22 and lines[21] == "……另有5处问题未列出"


def test_bad_csv_cell_named_without_sheet(folder):
    units = folder / "名单.csv"
    units.parent.mkdir(parents=True)
    units.write_text("单位名称,单位类型\n县教育局,县直部门\n长白镇,乡村\n", encoding="utf-8-sig")
    result = run("template", "--units", units, "-o", folder / "模板.xlsx")
    assert (result.exit_code, result.stderr) == (
        2, "错误：单位名单有1处问题，模板未生成：\n单位名单 名单.csv B3：单位类型“乡村”无效，应为“县直部门”或“乡镇”\n")


def test_units_file_faults(folder):
    folder.mkdir(parents=True)
    (folder / "名单.txt").write_text("县教育局", encoding="utf-8")
    (folder / "损坏.xlsx").write_bytes(b"not a zip")
    out = folder / "模板.xlsx"
    cases = [
        (folder / "名单.txt", "错误：单位名单 名单.txt 应为 .xlsx 或 .csv 文件，实际扩展名为“.txt”\n"),
        (folder / "没有.xlsx", f"错误：找不到单位名单文件：{folder / '没有.xlsx'}\n"),
        # The list passes the same file guards as returned workbooks (issue 7): told what the file really is.
        (folder / "损坏.xlsx", "错误：单位名单无法使用：文件“损坏.xlsx”是文本文件（如CSV），不是.xlsx工作簿（可能只是改了扩展名）；"
                               "请使用下发的.xlsx模板填报，在Excel中直接保存后报送。\n"),
    ]
    for units, message in cases:
        result = run("template", "--units", units, "-o", out)
        assert (result.exit_code, result.stdout, result.stderr) == (2, "", message)
    assert not out.exists()


def test_hostile_units_list_refused_before_any_reader_runs(folder):
    """A cell at XFD1048576 aborts calamine's process; the guards refuse the list first (issue 7)."""
    from hostile import parts, worksheet, write_zip

    folder.mkdir(parents=True)
    units = write_zip(folder / "名单.xlsx", parts({"名单": worksheet(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>单位名称</t></is></c></row>'.encode()
        + b'<row r="1048576"><c r="XFD1048576"><v>2</v></c></row>')}))
    result = run("template", "--units", units, "-o", folder / "模板.xlsx")
    assert result.exit_code == 2
    assert result.stderr.startswith("错误：单位名单无法使用：") and "名单.xlsx" in result.stderr
    assert not (folder / "模板.xlsx").exists()


def test_output_faults(folder):
    units = units_book(folder / "名单.xlsx", [["单位名称", "单位类型"], ["县教育局", "县直部门"]])
    before = units.read_bytes()
    result = run("template", "--units", units, "-o", folder / "模板.xls")
    assert (result.exit_code, result.stderr) == (2, "错误：模板文件名应以 .xlsx 结尾，实际为 模板.xls\n")
    result = run("template", "--units", units, "-o", units)
    assert (result.exit_code, result.stderr) == (
        2, f"错误：输出文件 {units} 与输入文件相同，为保护原始数据已拒绝写入，请换一个输出文件名\n")
    assert units.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["名单.xlsx"]


def test_fields_json_is_the_catalog():
    result = run("fields", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == field_catalog(load_rules())


def test_fields_table_lists_every_input_cell():
    result = run("fields")
    lines = result.stdout.splitlines()
    assert result.exit_code == 0
    assert lines[0].split() == ["工作表", "列", "键", "条款", "名称", "类型", "允许的值"]
    assert len(lines) == 2 + len(field_catalog(load_rules()))
    assert lines[2].split() == ["政务公开", "C", "1.1.group", "1.1", "成立领导小组", "是/否", "是或否"]
    assert "政府网站  D   5.2.adopted" in result.stdout
    assert lines[-1].split() == ["政府网站", "J", "5.4.cooperation", "5.4", "配合网站管理日常工作", "分数",
                                 "0到5之间的数（可有小数）"]
