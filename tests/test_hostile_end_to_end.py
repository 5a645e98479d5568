"""Hostile and broken returned files, end to end through the ``kaoping`` command.

Each case builds its files (tests/hostile.py for crafted packages, tests/workbooks.py for filled
templates), runs the CLI as a user would, and checks what the user sees: exact exit codes, one clear
line per bad file, the good files still scored, and outputs that carry input text only as plain text.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from pathlib import Path
from typing import Callable

import openpyxl
import pytest
from click.testing import CliRunner, Result
from workbooks import UNITS, cell_of, columns_of, edit, make_filled, valid_values

from hostile import XML_HEAD, ole_file, parts, worksheet, write_zip
from kaoping_xlsx.annotate import LIST_ONLY_NOTE, LIST_SHEET
from kaoping_xlsx.cleantext import CUT_NOTE, EXCEL_CELL_LIMIT
from kaoping_xlsx.cli import cli
from kaoping_xlsx.engine import Unit
from kaoping_xlsx.layout import FIRST_DATA_ROW, KEY_ROW, UNIT_KEY
from kaoping_xlsx.rules import load_rules

RULES = load_rules()
GOOD = "正式.xlsx"
PROBLEM_LINE = re.compile(r"^\[([A-Z]\d\d) (错误|警告)\] (.*?)：", re.M)


def run(*args: object) -> Result:
    """The CLI as a user runs it; a traceback is never an answer."""
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rewrite(path: Path, change: Callable[[str, bytes], bytes]) -> Path:
    """Rewrite every part of a zip through ``change(part name, bytes)`` (to place bytes openpyxl won't write)."""
    members = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            members[name] = change(name, archive.read(name))
    path.unlink()
    return write_zip(path, members)


def good(folder: Path, name: str = GOOD, values: dict | None = None) -> Path:
    return make_filled(folder / name, RULES, UNITS, values if values is not None else valid_values(RULES))


# --- a folder batch: one good workbook and one bad file --------------------------------------------

BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                  b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>')


def entities(path: Path) -> Path:
    members = parts()
    members["xl/sharedStrings.xml"] = BILLION_LAUGHS + b"<sst><si><t>&lol3;</t></si></sst>"
    return write_zip(path, members)


def zip_bomb(path: Path) -> Path:
    cell = b"<row r='1'><c r='A1' t='inlineStr'><is><t>" + b" " * (300 * 1024**2) + b"</t></is></c></row>"
    return write_zip(path, parts({"放管服": worksheet(cell)}))


def far_apart(path: Path) -> Path:
    """A real filled template with one stray cell at XFD1048576 (calamine would abort the process)."""
    good(path.parent, path.name)
    far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    return rewrite(path, lambda n, b: b.replace(b"</sheetData>", far + b"</sheetData>")
                   if n == "xl/worksheets/sheet2.xml" else b)


def encrypted(path: Path) -> Path:
    return ole_file(path, "EncryptionInfo", "EncryptedPackage")


def legacy_xls(path: Path) -> Path:
    return ole_file(path, "Workbook", "\x05SummaryInformation")


def xlsb(path: Path) -> Path:
    members = parts()
    del members["xl/workbook.xml"]
    members["xl/workbook.bin"] = b"\x83\x01\x00"
    return write_zip(path, members)


def ods(path: Path) -> Path:
    return write_zip(path, {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                            "content.xml": XML_HEAD + b"<office:document-content/>"}, zipfile.ZIP_STORED)


def csv_renamed(path: Path) -> Path:
    path.write_bytes(("单位名称,是否完成\n长白镇,是\n" * 50).encode("gb18030"))
    return path


def html_renamed(path: Path) -> Path:
    path.write_text("<html><head><meta charset='utf-8'></head><body><table><tr><td>长白镇</td></tr>"
                    "</table></body></html>", encoding="utf-8")
    return path


def zero_bytes(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def truncated(path: Path) -> Path:
    whole = good(path.parent, path.name).read_bytes()
    path.write_bytes(whole[: len(whole) * 2 // 3])
    return path


def raw_control_byte(path: Path) -> Path:
    """A control byte that XML forbids (Excel and openpyxl refuse the part; calamine reads past it)."""
    values = valid_values(RULES)
    values[("3", "长白镇", "3.6.points")] = 1
    values[("3", "长白镇", "3.6.reason")] = "获奖MARK"
    good(path.parent, path.name, values)
    return rewrite(path, lambda n, b: b.replace("MARK".encode(), b"\x1f"))


def divergent_workbook(path: Path) -> Path:
    """The package rels name a copy of the workbook; xl/workbook.xml, which calamine reads whatever they
    say, has its first sheet in a part listed nowhere else (harmless here: in an attack, far-apart cells)."""
    good(path.parent, path.name)
    with zipfile.ZipFile(path) as archive:
        workbook, rels = archive.read("xl/workbook.xml"), archive.read("xl/_rels/workbook.xml.rels")
        sheet = archive.read("xl/worksheets/sheet1.xml")
    rewrite(path, lambda n, b: b.replace(b'Target="xl/workbook.xml"', b'Target="xl/main.xml"') if n == "_rels/.rels"
            else b.replace(b"worksheets/sheet1.xml", b"worksheets/other.xml") if n == "xl/_rels/workbook.xml.rels"
            else b)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("xl/main.xml", workbook)
        archive.writestr("xl/_rels/main.xml.rels", rels)
        archive.writestr("xl/worksheets/other.xml", sheet)
    return path


# (builder, file name, code, words the line must hold)
BAD_FILES = [
    (entities, "实体.xlsx", "F06", "DTD"),
    (zip_bomb, "炸弹.xlsx", "F05", "压缩"),
    (far_apart, "远处单元格.xlsx", "S03", "A1:XFD1048576"),
    (encrypted, "加密.xlsx", "F02", "密码"),
    (legacy_xls, "旧版.xls", "F01", ".xls"),
    (xlsb, "二进制.xlsb", "F01", ".xlsb"),
    (ods, "开放格式.ods", "F01", ".ods"),
    (csv_renamed, "表格.xlsx", "F01", "CSV"),
    (html_renamed, "网页.xlsx", "F01", "HTML"),
    (zero_bytes, "空.xlsx", "F03", "0字节"),
    (truncated, "截断.xlsx", "F04", "截断"),
    (raw_control_byte, "控制字符.xlsx", "F04", "控制字符"),
    (divergent_workbook, "结构异常.xlsx", "F04", "常规写法"),
]


def batch(tmp_path: Path, build: Callable[[Path], Path], name: str) -> Path:
    folder = tmp_path / "回收表格"
    folder.mkdir()
    good(folder)
    build(folder / name)
    return folder


@pytest.mark.parametrize("build, name, code, words", BAD_FILES, ids=[c[1] for c in BAD_FILES])
def test_bad_file_in_a_batch_is_one_line_and_the_good_file_is_scored(tmp_path, build, name, code, words):
    folder = batch(tmp_path, build, name)
    before = {p: sha(p) for p in folder.iterdir()}
    out = tmp_path / "结果.xlsx"

    checked = run("check", folder)
    assert checked.exit_code == 1
    problems = PROBLEM_LINE.findall(checked.output)
    assert len(problems) == 1, checked.output
    (line,) = [ln for ln in checked.output.splitlines() if ln.startswith("[")]
    assert line.startswith(f"[{code} 错误] {name}") and name in line.split("：", 1)[1] and words in line

    scored = run("score", folder, "-o", out)
    assert scored.exit_code == 0, scored.output  # every unit ranked from the good file
    assert f"单位 {len(UNITS)} 个：已排名 {len(UNITS)} 个" in scored.output
    summary = openpyxl.load_workbook(out, read_only=True)["汇总"]
    ranked = {row[1] for row in summary.iter_rows(min_row=2, values_only=True) if isinstance(row[0], int)}
    assert ranked == {u.name for u in UNITS}
    problems_sheet = [row for row in openpyxl.load_workbook(out)["校验问题"].iter_rows(values_only=True)]
    assert any(name in map(str, row) for row in problems_sheet)
    assert {p: sha(p) for p in folder.iterdir()} == before


def test_million_styled_empty_rows_are_read_not_refused(tmp_path):
    """1,000,000 formatted but empty rows below a real template's list: nothing dense is built, no problem."""
    folder = tmp_path / "回收表格"
    folder.mkdir()
    path = good(folder)
    rows = b"".join(b'<row r="%d" s="1" customFormat="1" ht="15"/>' % i for i in range(FIRST_DATA_ROW + 20, 1_000_001))
    rewrite(path, lambda n, b: b.replace(b"</sheetData>", rows + b"</sheetData>") if n == "xl/worksheets/sheet1.xml"
            else b)
    result = run("score", folder, "-o", tmp_path / "结果.xlsx")
    assert result.exit_code == 0 and "发现问题 0 个" in result.output, result.output


def test_only_bad_files_exit_2_with_every_file_named(tmp_path):
    folder = tmp_path / "回收表格"
    folder.mkdir()
    for build, name, *_ in BAD_FILES[3:10]:
        build(folder / name)
    result = run("score", folder, "-o", tmp_path / "结果.xlsx")
    assert result.exit_code == 2
    assert result.output.startswith("错误：没有可以使用的填报文件")
    for _, name, *_ in BAD_FILES[3:10]:
        assert name in result.output
    assert not (tmp_path / "结果.xlsx").exists()


# --- annotated copies of files openpyxl cannot take back ---------------------------------------------

MALFORMED_FOR_OPENPYXL = {
    "样式表不规范": lambda n, b: b.replace(b"</styleSheet>", b"<x></styleSheet>") if n == "xl/styles.xml" else b,
    "样式编号越界": lambda n, b: b.replace(b'<c r="C4"', b'<c r="C4" s="999"', 1) if n == "xl/worksheets/sheet1.xml" else b,
}


@pytest.mark.parametrize("fault", list(MALFORMED_FOR_OPENPYXL))
def test_annotating_a_file_openpyxl_cannot_load_lists_its_problems(tmp_path, fault):
    """calamine reads these files, openpyxl raises (ParseError, IndexError): the copy is the list alone."""
    folder = tmp_path / "回收表格"
    folder.mkdir()
    values = valid_values(RULES)
    values[("1", "长白镇", "1.1.plan")] = "好"
    rewrite(good(folder, "一科.xlsx", values), MALFORMED_FOR_OPENPYXL[fault])
    before = sha(folder / "一科.xlsx")
    result = run("check", folder, "--annotate", tmp_path / "待退回")
    assert result.exit_code == 1
    copy = openpyxl.load_workbook(tmp_path / "待退回" / "一科.待修改.xlsx")
    assert copy.sheetnames == [LIST_SHEET]
    rows = list(copy[LIST_SHEET].iter_rows(values_only=True))
    assert rows[0][0] == LIST_ONLY_NOTE and rows[1][0] == "序号"
    assert rows[2][2] == cell_of(RULES, UNITS, "1", "长白镇", "1.1.plan").split("!")[1] and rows[2][8] == "好"
    assert sha(folder / "一科.xlsx") == before
    assert sorted(p.name for p in (tmp_path / "待退回").iterdir()) == ["一科.待修改.xlsx"]


# --- text from inputs reaches every output as plain text ---------------------------------------------

HOSTILE_NAMES = ['=HYPERLINK("http://evil.example","点我")', "+8613800000000", "-1+1", "@SUM(A1:A9)",
                 "http://evil.example/x", "external:c:\\temp\\x.xlsx"]
LONG_REASON = "理" * 40_000


def fill(template: Path, out: Path, values: dict) -> Path:
    """Fill a template written by ``kaoping template`` as an office would: by the hidden key row.
    Text is stored as text (openpyxl would otherwise take ``=…`` for a formula)."""
    book = openpyxl.load_workbook(template)
    for section in RULES.sections:
        ws = book[section.sheet]
        keys = {c.value: c.column for c in ws[KEY_ROW + 1] if c.value}
        for r in range(FIRST_DATA_ROW + 1, ws.max_row + 1):
            unit = ws.cell(r, keys[UNIT_KEY]).value
            for key, c in keys.items():
                value = values.get((section.id, unit, key))
                if value is not None:
                    cell = ws.cell(r, c)
                    cell.value = value
                    if isinstance(value, str):
                        cell.data_type = "s"
    book.save(out)
    return out


def assert_plain_text(path: Path, texts: list[str]) -> dict[str, list]:
    """No formula and no link anywhere in the workbook; every string cell typed "s". Returns the string
    cells by value, so a test can check where each text went."""
    with zipfile.ZipFile(path) as archive:
        for part in archive.namelist():
            data = archive.read(part)
            assert not re.search(rb"<f[ >]|<hyperlink[ >]|relationships/hyperlink", data), (path.name, part)
    found: dict[str, list] = {}
    for ws in openpyxl.load_workbook(path):
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    assert cell.data_type == "s" and cell.hyperlink is None, (ws.title, cell.coordinate)
                    found.setdefault(cell.value, []).append(cell)
    for text in texts:
        assert any(text in value for value in found), (path.name, text)
    return found


def test_hostile_text_stays_text_in_template_result_problems_and_annotated_copies(tmp_path):
    units_csv = tmp_path / "单位名单.csv"
    types = ["乡镇", "县直部门"]
    units_csv.write_text("单位名称,单位类型\n" + "".join(
        '"{}",{}\n'.format(name.replace('"', '""'), types[i % 2]) for i, name in enumerate(HOSTILE_NAMES)),
        encoding="utf-8")
    template = tmp_path / "模板.xlsx"
    assert run("template", "--units", units_csv, "-o", template).exit_code == 0
    assert_plain_text(template, HOSTILE_NAMES)

    units = [Unit(name, types[i % 2], ("1", "2", "3", "4", "5")) for i, name in enumerate(HOSTILE_NAMES)]
    values = valid_values(RULES, units)
    a, b, c = HOSTILE_NAMES[:3]
    values.update({("3", a, "3.6.points"): 2, ("3", a, "3.6.reason"): "\t=1+1",
                   ("4", a, "4.9.points"): 1, ("4", a, "4.9.reason"): "\r@cmd|' /C calc'!A0",
                   ("3", b, "3.6.points"): 1, ("3", b, "3.6.reason"): LONG_REASON,
                   ("3", c, "3.6.points"): 1, ("3", c, "3.6.reason"): "响铃CTRL字符",
                   ("1", c, "1.1.plan"): "=2+3", ("5", c, "5.3.system"): "http://evil.example/y"})
    folder = tmp_path / "回收表格"
    folder.mkdir()
    filled = fill(template, folder / "回收.xlsx", values)
    rewrite(filled, lambda n, data: data.replace("CTRL".encode(), b"_x0007_"))  # how Excel stores U+0007
    before = sha(filled)

    checked = run("check", folder, "--annotate", tmp_path / "待退回")
    assert checked.exit_code == 1
    assert [ln[:4] for ln in checked.output.splitlines() if ln.startswith("[")] == ["[V02", "[V02"]
    (copy,) = (tmp_path / "待退回").iterdir()
    listed = assert_plain_text(copy, ["=2+3", "http://evil.example/y"] + HOSTILE_NAMES)
    assert "=2+3" in listed and "http://evil.example/y" in listed  # values shown back verbatim

    out = tmp_path / "结果.xlsx"
    scored = run("score", folder, "-o", out)
    assert scored.exit_code == 1  # c's sections with an invalid value are not ranked
    cells = assert_plain_text(out, HOSTILE_NAMES + ["=1+1", "@cmd|' /C calc'!A0", "=2+3"])
    assert set(HOSTILE_NAMES) <= set(cells)  # names verbatim, not cleaned into something else
    cut = [v for v in cells if v.startswith("理理理")]
    assert cut and all(len(v) <= EXCEL_CELL_LIMIT and v.endswith(CUT_NOTE) for v in cut)
    assert any(v.startswith("响铃") and "\x07" not in v for v in cells)
    assert sha(filled) == before


# --- formulas, error values and words that look like blanks ------------------------------------------


def cached(path: Path, values: dict[str, str]) -> Path:
    """Give openpyxl's uncalculated formulas the cached value Excel would have saved."""
    def change(name: str, data: bytes) -> bytes:
        for formula, value in values.items():
            data = data.replace(f"<f>{formula}</f><v />".encode(), f"<f>{formula}</f><v>{value}</v>".encode())
        return data
    return rewrite(path, change)


def test_formulas_use_cached_values_errors_are_errors_and_na_words_are_text(tmp_path):
    folder = tmp_path / "回收表格"
    folder.mkdir()
    values = valid_values(RULES)
    values.update({("5", "长白镇", "5.1.reported"): "=40+5", ("1", "金华乡", "1.3.study"): "#DIV/0!",
                   ("1", "金华乡", "1.5.m1"): "#N/A", ("1", "县教育局", "1.5.m2"): "NA",
                   ("1", "县教育局", "1.5.m3"): "None", ("1", "县教育局", "1.5.m4"): "null"})
    cached(good(folder, values=values), {"40+5": "45"})
    result = run("check", folder, "--json")
    assert result.exit_code == 1
    found = [(p["code"], p["severity"], p["cell"], p["value"]) for p in json.loads(result.output)["problems"]]
    at = lambda sid, unit, key: cell_of(RULES, UNITS, sid, unit, key)  # noqa: E731
    assert found == [
        ("V04", "错误", at("1", "金华乡", "1.3.study"), "#DIV/0!"),
        ("V04", "错误", at("1", "金华乡", "1.5.m1"), "#N/A"),
        ("V02", "错误", at("1", "县教育局", "1.5.m2"), "NA"),
        ("V02", "错误", at("1", "县教育局", "1.5.m3"), "None"),
        ("V02", "错误", at("1", "县教育局", "1.5.m4"), "null"),
        ("V05", "警告", at("5", "长白镇", "5.1.reported"), "45"),
    ]
    out = tmp_path / "结果.xlsx"
    assert run("score", folder, "-o", out).exit_code == 1  # 金华乡 and 县教育局 incomplete in 政务公开
    sheet = openpyxl.load_workbook(out)["政府网站"]
    row = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "长白镇")
    assert row[4] == 45 and row[7].startswith("上报45条")  # the cached value was scored


# --- merged, hidden and extra sheets, rows below the list -------------------------------------------


def test_layout_changes_are_handled_or_reported_and_nothing_is_read_from_elsewhere(tmp_path):
    folder = tmp_path / "回收表格"
    folder.mkdir()
    path = good(folder)
    taking3 = [u.name for u in UNITS if "3" in u.sections]
    col = columns_of(RULES, "3").index("3.1.score") + 1
    first = FIRST_DATA_ROW + 1

    def change(book):
        fmg = book["营商环境"]
        fmg.merge_cells(start_row=first, start_column=col, end_row=first + 1, end_column=col)  # merged inputs
        fmg.cell(first + len(taking3) + 3, 3, 99)  # a number below the list
        book["放管服"].row_dimensions[first + 1].hidden = True  # hidden unit row: still that unit's data
        book["政府网站"].column_dimensions["C"].hidden = True
        book["信用体系"].sheet_state = "hidden"  # a hidden section sheet is still the office's answer
        extra = book.copy_worksheet(book["政务公开"])  # a copy with other values is not read, but said
        extra.title = "政务公开 (2)"
        for r in range(first, first + 6):
            extra.cell(r, 3, "否决")
        book.create_sheet("Sheet1")["A1"] = "=HYPERLINK(\"http://evil.example\")"

    edit(path, change)
    result = run("check", folder, "--json")
    found = [(p["code"], p["cell"]) for p in json.loads(result.output)["problems"]]
    assert found == [("V07", cell_of(RULES, UNITS, "3", u, "3.1.score")) for u in taking3[:2]] + [
        ("U05", f"'营商环境'!C{first + len(taking3) + 3}"), ("S05", "")]
    copy = json.loads(result.output)["problems"][-1]
    assert (copy["sheet"], copy["severity"]) == ("政务公开 (2)", "警告") and "“政务公开”" in copy["message"]
    assert result.exit_code == 1



# --- output faults: exit 2, a Chinese line, inputs untouched, nothing left behind -------------------


def listing(*folders: Path) -> dict[Path, str]:
    return {p: sha(p) for folder in folders if folder.exists() for p in sorted(folder.rglob("*")) if p.is_file()}


def output_fault(tmp_path: Path, args: list, words: str) -> None:
    folder = tmp_path / "回收表格"
    if not folder.exists():
        folder.mkdir()
        values = valid_values(RULES)
        values[("2", "长白镇", "2.3.late")] = "三"  # a problem, so that check --annotate has a copy to write
        good(folder, values=values)
    before = listing(tmp_path)
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("错误：") and words in result.output and result.output.count("\n") == 1
    assert listing(tmp_path) == before  # inputs byte-identical, no partial or temporary file


def test_missing_output_folder(tmp_path):
    output_fault(tmp_path, ["score", tmp_path / "回收表格", "-o", tmp_path / "没有的目录" / "结果.xlsx"],
                 "输出目录不存在")


def test_output_equal_to_an_input(tmp_path):
    output_fault(tmp_path, ["score", tmp_path / "回收表格", "-o", tmp_path / "回收表格" / GOOD], "与输入文件相同")


def test_read_only_output_folder(tmp_path):
    locked = tmp_path / "只读"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as root: a read-only folder is still writable")
        output_fault(tmp_path, ["score", tmp_path / "回收表格", "-o", locked / "结果.xlsx"], "权限")
    finally:
        locked.chmod(0o755)


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_outputs_get_the_permissions_of_any_new_file(tmp_path):
    """Written through a temporary file, outputs once came out owner-only (0600): on a shared machine or
    folder, colleagues could not open the result."""
    folder = tmp_path / "回收表格"
    folder.mkdir()
    good(folder)
    umask = os.umask(0o022)
    try:
        assert run("score", folder, "-o", tmp_path / "结果.xlsx").exit_code == 0
        assert run("template", "--units", Path(__file__).resolve().parents[1] / "samples" / "units.xlsx", "-o", tmp_path / "模板.xlsx").exit_code == 0
    finally:
        os.umask(umask)
    assert [(tmp_path / name).stat().st_mode & 0o777 for name in ("结果.xlsx", "模板.xlsx")] == [0o644, 0o644]


@pytest.mark.parametrize("command", ["score", "check"])
def test_output_file_locked_by_excel(tmp_path, monkeypatch, command):
    def locked(src, dst):
        raise PermissionError(13, "Permission denied", str(dst))

    monkeypatch.setattr(os, "replace", locked)
    out = tmp_path / "待退回"
    out.mkdir()
    args = (["score", tmp_path / "回收表格", "-o", out / "结果.xlsx"] if command == "score"
            else ["check", tmp_path / "回收表格", "--annotate", out])
    output_fault(tmp_path, args, "可能正被 Excel 或 WPS 打开")


def test_a_date_cell_calamine_panics_on_is_one_problem_and_the_batch_goes_on(tmp_path):
    """A large negative number in a date-formatted cell makes calamine panic (found by the long fuzz run);
    the panic is a BaseException that escaped the reader as a traceback."""
    folder = tmp_path / "回收表格"
    folder.mkdir()
    good(folder)
    values = valid_values(RULES)
    values[("5", "长白镇", "5.1.reported")] = -1e12
    path = good(folder, "日期格式.xlsx", values)
    coordinate = cell_of(RULES, UNITS, "5", "长白镇", "5.1.reported").split("!")[1]
    edit(path, lambda book: setattr(book["政府网站"][coordinate], "number_format", "yyyy-mm-dd"))
    result = run("score", folder, "-o", tmp_path / "结果.xlsx")
    assert result.exit_code == 0
    (line,) = [ln for ln in result.output.splitlines() if ln.startswith("[")]
    assert line.startswith("[F04 错误] 日期格式.xlsx：") and "日期" in line


def test_a_copied_sheet_with_rows_inserted_above_is_still_said(tmp_path):
    # The section reader finds a key row pushed down by inserted rows (up to row 10); a copy of a section
    # sheet so changed must be recognised just as far down, or the data filled into it vanishes unsaid.
    folder = tmp_path / "回收表格"
    folder.mkdir()
    path = good(folder)

    def change(book):
        extra = book.copy_worksheet(book["政务公开"])
        extra.title = "政务公开 (2)"
        extra.insert_rows(1, amount=7)
        for r in range(1, 8):
            extra.cell(r, 1, f"说明第{r}行")  # rows with words above the (hidden) key row

    edit(path, change)
    problems = json.loads(run("check", folder, "--json").output)["problems"]
    assert [(p["code"], p["sheet"]) for p in problems] == [("S05", "政务公开 (2)")]
