"""The reader hands each sheet to calamine, on a worker thread, as soon as the guards have passed it.

calamine must still never see a part before the guards: it opens the workbook only after every other
part has passed, parses a sheet only after that sheet has. Refusals read as when the whole file was
checked first: the guards' word before calamine's, a calamine failure undoes what was read of the file,
and no thread outlives the file, whatever the exit.
"""

from __future__ import annotations

import contextlib
import os
import struct
import subprocess
import sys
import threading
import zipfile
import zlib
from pathlib import Path
from typing import Callable

import pytest
from python_calamine import CalamineWorkbook, PasswordError
from workbooks import UNITS, cell_of, edit, make_filled, valid_values

from hostile import parts, worksheet, write_zip
from kaoping_xlsx import guards, opening, reader
from kaoping_xlsx.layout import META_SHEET
from kaoping_xlsx.opening import read_inputs
from kaoping_xlsx.problems import Code
from kaoping_xlsx.rules import load_rules

RULES = load_rules()
SECTIONS = [s.sheet for s in RULES.sections]
FAR = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'  # calamine would abort the process


@pytest.fixture
def events(monkeypatch) -> list[tuple[str, str]]:
    """What the guards and calamine did, in order: parts checked, sheets scanned, workbooks opened,
    sheets parsed (calamine's calls come from the worker thread too)."""
    log: list[tuple[str, str]] = []
    check_parts = guards._Package.__init__
    scan = guards._SheetScan.run

    def parts_checked(self, *args):
        check_parts(self, *args)
        log.append(("parts checked", ""))

    def scanned(self):
        facts = scan(self)
        log.append(("scanned", self.name))
        return facts

    class Recording:
        def __init__(self, book):
            self._book = book

        @classmethod
        def from_filelike(cls, handle):
            log.append(("open", ""))
            return cls(CalamineWorkbook.from_filelike(handle))

        @property
        def sheet_names(self):
            return self._book.sheet_names

        def get_sheet_by_name(self, name):
            log.append(("parse", name))
            return self._book.get_sheet_by_name(name)

    monkeypatch.setattr(guards._Package, "__init__", parts_checked)
    monkeypatch.setattr(guards._SheetScan, "run", scanned)
    monkeypatch.setattr(opening, "CalamineWorkbook", Recording)
    return log


def assert_guarded(events: list[tuple[str, str]]) -> None:
    for i, event in enumerate(events):
        if event[0] == "open":
            assert ("parts checked", "") in events[:i], events
        if event[0] == "parse":
            assert ("scanned", event[1]) in events[:i], events


def calamine_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("kaoping-calamine")]


def rewrite(path: Path, change: Callable[[str, bytes], bytes]) -> Path:
    with zipfile.ZipFile(path) as archive:
        members = {name: change(name, archive.read(name)) for name in archive.namelist()}
    path.unlink()
    return write_zip(path, members)


def far_cell_in(part: str) -> Callable[[str, bytes], bytes]:
    return lambda name, data: data.replace(b"</sheetData>", FAR + b"</sheetData>") if name == part else data


def date_panic(values: dict, path: Path) -> Path:
    """A large negative number in a date-formatted cell of 政府网站 (the last section): calamine panics."""
    values[("5", "长白镇", "5.1.reported")] = -1e12
    make_filled(path, RULES, UNITS, values)
    coordinate = cell_of(RULES, UNITS, "5", "长白镇", "5.1.reported").split("!")[1]
    return edit(path, lambda book: setattr(book["政府网站"][coordinate], "number_format", "yyyy-mm-dd"))


def same_reading(a, b) -> None:
    assert [u.name for u in a.units] == [u.name for u in b.units]
    assert a.tables.keys() == b.tables.keys() and all(a.tables[k].equals(b.tables[k]) for k in a.tables)
    assert a.blocked == b.blocked and (a.rows_read, a.rows_used) == (b.rows_read, b.rows_used)


def test_each_sheet_is_parsed_only_after_the_guards_passed_it(tmp_path, events):
    path = make_filled(tmp_path / "全部.xlsx", RULES)
    assert read_inputs([path], RULES).problems == ()
    assert_guarded(events)
    assert sorted(name for what, name in events if what == "parse") == sorted(SECTIONS + [META_SHEET])
    assert not calamine_threads()


def test_a_sheet_the_guards_refuse_never_reaches_calamine(tmp_path, events):
    """营商环境 is the third sheet: calamine may have the first two, never the third; no thread is left."""
    good = make_filled(tmp_path / "正式.xlsx", RULES)
    bad = rewrite(make_filled(tmp_path / "远处.xlsx", RULES), far_cell_in("xl/worksheets/sheet3.xml"))
    inputs = read_inputs([bad, good], RULES)
    of_bad = events[:events.index(("parts checked", ""), 1)]  # the file's worker is joined before the next file
    assert ("scanned", "放管服") in of_bad and ("parse", "营商环境") not in of_bad
    assert_guarded(events)
    with pytest.raises(guards.Refused) as caught:
        guards.inspect(bad, "远处.xlsx")
    assert [p for p in inputs.problems if p.file == "远处.xlsx"] == [caught.value.problem]
    assert caught.value.problem.code is Code.SHEET_TOO_LARGE
    assert not calamine_threads()


def test_the_guards_word_comes_before_calamine_s(tmp_path):
    """calamine panics on 政府网站 while the guards have yet to refuse the meta sheet after it: the file is
    refused for the meta sheet, as when the guards checked the whole file before calamine opened it."""
    bad = rewrite(date_panic(valid_values(RULES), tmp_path / "两处.xlsx"), far_cell_in("xl/worksheets/sheet6.xml"))
    inputs = read_inputs([bad, make_filled(tmp_path / "正式.xlsx", RULES)], RULES)
    assert [(p.code, p.sheet) for p in inputs.problems if p.file == "两处.xlsx"] == [(Code.SHEET_TOO_LARGE, META_SHEET)]
    assert not calamine_threads()


def test_a_calamine_failure_undoes_what_was_read_of_the_file(tmp_path):
    """Four sections of 一.xlsx, one with a bad value, are read while calamine still parses the fifth, on
    which it panics: the file is refused in one line and nothing else of it remains."""
    folder = tmp_path / "回收表格"
    folder.mkdir()
    values = valid_values(RULES)
    values[("2", "长白镇", "2.3.late")] = "三"
    date_panic(values, folder / "一.xlsx")
    good = make_filled(folder / "二.xlsx", RULES, UNITS, {k: v for k, v in valid_values(RULES).items() if k[0] != "3"})
    both, alone = read_inputs([folder], RULES), read_inputs([good], RULES)
    assert [(p.code, p.cell) for p in both.problems if p.file == "一.xlsx"] == [(Code.FILE_CORRUPT, "")]
    assert [p for p in both.problems if p.file != "一.xlsx"] == list(alone.problems)
    assert [(f.name, f.accepted, f.sections) for f in both.files] == [("一.xlsx", False, ())] + [
        (f.name, f.accepted, f.sections) for f in alone.files]
    same_reading(both, alone)
    assert not calamine_threads()


class PanicException(BaseException):
    """Named as pyo3's (which the reader knows by name only)."""


@pytest.mark.parametrize("error, code, words", [
    (PasswordError("x"), Code.FILE_ENCRYPTED, "已加密（设置了打开密码），请取消密码后重新报送"),
    (PanicException("x"), Code.FILE_CORRUPT,
     "中有无法读取的单元格（多为设置了日期或时间格式的单元格填了超出范围的数，如很大的负数）；"
     "请检查日期格式的单元格，改正后用 Excel 或 WPS 另存为 .xlsx 再报送"),
    (ValueError("x"), Code.FILE_CORRUPT, "已损坏或格式异常，无法读取（ValueError）；请用 Excel 或 WPS 打开后另存为 .xlsx 再报送"),
], ids=["password", "panic", "other"])
@pytest.mark.parametrize("where", ["open", "放管服", META_SHEET])
def test_calamine_errors_read_as_before_wherever_they_arise(tmp_path, monkeypatch, error, code, words, where):
    """On the worker (opening the workbook, a section) or on the main thread (the meta sheet): one line,
    and calamine is not asked for another sheet on the worker after it failed."""
    asked: list[str] = []

    class Failing:
        def __init__(self, book):
            self._book = book

        @classmethod
        def from_filelike(cls, handle):
            if where == "open":
                raise error
            return cls(CalamineWorkbook.from_filelike(handle))

        @property
        def sheet_names(self):
            return self._book.sheet_names

        def get_sheet_by_name(self, name):
            asked.append(name)
            if name == where:
                raise error
            return self._book.get_sheet_by_name(name)

    bad = make_filled(tmp_path / "坏.xlsx", RULES)
    monkeypatch.setattr(opening, "CalamineWorkbook", Failing)
    problems: list = []
    read = reader._Reader(RULES, problems)
    read_file(read, bad, "坏.xlsx")
    assert [(p.code, p.message) for p in problems] == [(code, f"文件 坏.xlsx {words}")]
    assert [f.accepted for f in read.files] == [False] and not read.sheets and not read.units
    after = asked[asked.index(where) + 1:] if where in asked else asked
    assert set(after) <= {META_SHEET}  # the meta sheet is parsed on the main thread, with its own workbook
    assert not calamine_threads()


def _divergent(path: Path) -> Path:
    """The package rels name xl/main.xml (one harmless sheet); xl/workbook.xml, which calamine reads
    whatever they say, names a part listed nowhere else, with cells at A1 and XFD1048576."""
    members = parts({"放管服": worksheet(b'<row r="1"><c r="A1"><v>1</v></c></row>')})
    members["xl/main.xml"] = members["xl/workbook.xml"]
    members["xl/_rels/main.xml.rels"] = members["xl/_rels/workbook.xml.rels"]
    members["_rels/.rels"] = members["_rels/.rels"].replace(b'Target="xl/workbook.xml"', b'Target="xl/main.xml"')
    members["xl/_rels/workbook.xml.rels"] = members["xl/_rels/workbook.xml.rels"].replace(b"sheet1.xml", b"far.xml")
    members["xl/worksheets/far.xml"] = worksheet(b'<row r="1"><c r="A1"><v>1</v></c></row>' + FAR)
    return write_zip(path, members)


def _case_variant(path: Path) -> Path:
    """A second sheet1.xml spelled in capitals: calamine, looking parts up without case, reads it."""
    members = parts({"放管服": worksheet(b'<row r="1"><c r="A1"><v>1</v></c></row>')})
    members["xl/worksheets/SHEET1.xml"] = worksheet(b'<row r="1"><c r="A1"><v>1</v></c></row>' + FAR)
    return write_zip(path, members)


def _second_name(path: Path) -> Path:
    """A part whose Info-ZIP Unicode Path field says xl/worksheets/sheet1.xml: calamine reads it as that."""
    members = parts({"放管服": worksheet(b'<row r="1"><c r="A1"><v>1</v></c></row>')})
    write_zip(path, members)
    with zipfile.ZipFile(path, "a") as archive:
        info = zipfile.ZipInfo("xl/media/far.xml")
        body = b"\x01" + struct.pack("<I", zlib.crc32(info.filename.encode())) + b"xl/worksheets/sheet1.xml"
        info.extra = struct.pack("<HH", 0x7075, len(body)) + body
        archive.writestr(info, worksheet(b'<row r="1"><c r="A1"><v>1</v></c></row>' + FAR))
    return path


@pytest.mark.parametrize("build, words", [
    (_divergent, "的工作簿结构不是Excel/WPS的常规写法（工作表的位置或关系不标准），无法确认读取的内容是否安全，拒绝读取；"
                 "请用Excel或WPS打开后另存为.xlsx再报送。"),
    (_case_variant, "中有重名的部件，可能被篡改，拒绝读取。"),
    (_second_name, "（部件 xl/media/far.xml）在压缩目录中另记有一个不同的名称（xl/worksheets/sheet1.xml），可能被篡改，拒绝读取。"),
], ids=["workbook elsewhere", "name in capitals", "second name"])
def test_a_file_calamine_would_read_otherwise_never_reaches_it(tmp_path, monkeypatch, build, words):
    """Each aborted the process in calamine once the guards had passed it: now refused in one line by the
    guards, and calamine is never called (were it, the stub would make the file unparsable instead)."""
    called: list[str] = []

    class Never:
        @classmethod
        def from_filelike(cls, handle):
            called.append("open")
            raise AssertionError("calamine must not see this file")

    monkeypatch.setattr(opening, "CalamineWorkbook", Never)
    problems = read_alone(build(tmp_path / "异常.xlsx"))
    assert [(p.code, p.message) for p in problems] == [(Code.FILE_CORRUPT, f"文件“异常.xlsx”{words}")]
    assert not called and not calamine_threads()


def read_alone(path: Path) -> list:
    """The problems of reading one file (read_inputs gives up when no file is usable)."""
    problems: list = []
    read = reader._Reader(RULES, problems)
    read_file(read, path, path.name)
    assert [f.accepted for f in read.files] == [False] and not read.sheets
    return problems


def read_file(read: reader._Reader, path: Path, name: str) -> None:
    """One file opened and read, as read_inputs does for each."""
    with contextlib.closing(opening.open_all([opening.Source(path, name)], [s.sheet for s in RULES.sections])) as books:
        for book in books:
            read.read_book(book)


def test_sheets_calamine_names_otherwise_are_parsed_only_after_every_sheet_passed(tmp_path, monkeypatch):
    """The guards normalize whitespace in attribute values (as XML says), calamine does not. Written
    "a<tab>b&#9;c", the first sheet is "a b\tc" to the guards; written "a b<tab>c", the second is "a b\tc"
    to calamine. Parsing "a b\tc" once the first has passed would have calamine parse the second, which the
    guards refuse: while the names differ, nothing is handed to calamine before every sheet has passed."""
    monkeypatch.setattr(guards, "MAX_CELLS", 10)
    members = parts({"一": worksheet(b'<row r="1"><c r="A1"><v>1</v></c></row>'),
                     "二": worksheet(b'<row r="5"><c r="C5"><v>2</v></c></row>')})  # 15 cells: refused
    members["xl/workbook.xml"] = (members["xl/workbook.xml"].replace("一".encode(), b"a\tb&#9;c")
                                  .replace("二".encode(), b"a b\tc"))
    path = write_zip(tmp_path / "名称.xlsx", members)
    with guards.Inspection(path, "名称.xlsx") as inspection:
        assert inspection.sheet_names == ["a b\tc", "a b c"]
    book = CalamineWorkbook.from_path(str(path))
    assert book.sheet_names == ["a\tb\tc", "a b\tc"] and book.get_sheet_by_name("a b\tc").to_python()[-1][-1] == 2
    handed: list[str] = []
    parse = opening.Calamine._parse
    monkeypatch.setattr(opening.Calamine, "_parse", lambda self, name: (handed.append(name), parse(self, name)))
    assert [(p.code, p.sheet) for p in read_alone(path)] == [(Code.SHEET_TOO_LARGE, "a b c")]
    assert handed == [] and not calamine_threads()


def test_an_interrupt_leaves_no_thread(tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(reader._Reader, "_read_sheet", interrupted)
    with pytest.raises(KeyboardInterrupt):
        read_inputs([make_filled(tmp_path / "全部.xlsx", RULES)], RULES)
    assert not calamine_threads()


def test_the_first_file_is_opened_before_pandas_loads():
    """calamine parses the first file while pandas is imported (about 0.2 s of every run): the command
    line, the rules and the opening of files import neither pandas nor the reader; each later file is
    opened with them loaded."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from kaoping_xlsx import cli, opening\n"
        "from kaoping_xlsx.rules import load_rules\n"
        "rules = load_rules()\n"
        "loaded = []\n"
        "passed_all = opening.Calamine.passed_all\n"
        "def recorded(self):\n"
        "    loaded.append(sorted(m for m in ('pandas', 'kaoping_xlsx.reader') if m in sys.modules))\n"
        "    passed_all(self)\n"
        "opening.Calamine.passed_all = recorded\n"
        "opening.read_inputs([Path(sys.argv[1])], rules)\n"
        "print(loaded)\n"
    )
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, "-c", code, str(root / "samples" / "回收表格")], env=env,
                         capture_output=True, text=True, check=True)
    both = ["kaoping_xlsx.reader", "pandas"]
    assert out.stdout.strip() == str([[], both, both])
