"""Mutated sample workbooks: whatever an office does to its file, nothing escapes and no unit is lost.

Hypothesis takes the three returned workbooks of samples/回收表格, changes random cells (numbers of any
size, text, formulas, dates, error values, blanks), deletes and inserts rows and columns, merges, hides,
removes and renames sheets, then reads, scores and writes the result through the library. It asserts
that no exception escapes and that every unit of the template's list, in every section it takes part
in, is either scored or named in a problem (by unit, or by a problem about its whole sheet or file).

The suite runs a short version; ``python tests/fuzz_long.py`` runs a long one (KAOPING_FUZZ_EXAMPLES).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import os
import pickle
import re
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from kaoping_xlsx.api import score_inputs
from kaoping_xlsx.engine import OK
from kaoping_xlsx.errors import NoUsableInput
from kaoping_xlsx.opening import read_inputs
from kaoping_xlsx.report import write_result
from kaoping_xlsx.rules import load_rules

RULES = load_rules()
SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "回收表格"
EXAMPLES = int(os.environ.get("KAOPING_FUZZ_EXAMPLES", "30"))
WRITE_EVERY = int(os.environ.get("KAOPING_FUZZ_WRITE_EVERY", "1"))  # write the result every n-th case
RUN_TIME = dt.datetime(2021, 1, 15, 9, 0)
STATS = {"cases": 0, "refused_all": 0, "written": 0}


def _load() -> tuple[dict[str, bytes], dict[str, bytes], dict[str, dict[str, tuple[int, int]]], list[str]]:
    """Each sample's bytes, its openpyxl workbook pickled (a fast copy), its sheets' sizes, and every
    text found in them (unit names, keys, choices: the most telling values to move around)."""
    raw, books, shapes, words = {}, {}, {}, set()
    for path in sorted(SAMPLES.glob("*.xlsx")):
        raw[path.name] = path.read_bytes()
        book = openpyxl.load_workbook(io.BytesIO(raw[path.name]))
        books[path.name] = pickle.dumps(book)
        shapes[path.name] = {ws.title: (ws.max_row, ws.max_column) for ws in book}
        words.update(c for ws in book for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, str))
    return raw, books, shapes, sorted(words)


RAW, BOOKS, SHAPES, WORDS = _load()
UNITS = read_inputs([SAMPLES], RULES).units  # the template's list: what must never go missing

HOSTILE_TEXT = ["NA", "None", "null", "是", "否", "√", "不适用", "已出台并落实", "=1/0", "=A1+1", "=NA()",
                '=HYPERLINK("http://evil.example","点我")', "+1", "-1", "@SUM(A1)", "http://evil.example/x",
                "external:c:\\x.xlsx", "３", "\u3000１２\u3000", " 3 ", "3.0", "1e3", "1,000", "三", "\t是", "否\r",
                "", "#DIV/0!", "#N/A", "#VALUE!", "#REF!", "x" * 40_000, "乡镇", "县直部门", "@unit", "@type"]
SAFE_TEXT = st.text(max_size=30).map(lambda s: ILLEGAL_CHARACTERS_RE.sub("", s))
VALUES = st.one_of(
    st.none(),
    st.integers(-3, 60),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e308, -1e308, 5e-324, 3.5, -0.0, 2.000000001]),
    st.booleans(),
    st.sampled_from(HOSTILE_TEXT),
    st.sampled_from(WORDS),
    SAFE_TEXT,
    st.dates(dt.date(1900, 3, 1), dt.date(9999, 12, 31)),
    st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(9999, 12, 31)),
    st.times(),
)


@st.composite
def mutation(draw, names: list[str]):
    """One change to one file: (file name, operation, arguments)."""
    name = draw(st.sampled_from(names))
    sheet = draw(st.sampled_from(list(SHAPES[name])))
    height, width = SHAPES[name][sheet]
    row = draw(st.integers(1, height + 3))
    col = draw(st.integers(1, width + 2))
    op = draw(st.sampled_from(["set"] * 8 + ["delete_rows", "delete_cols", "insert_rows", "insert_cols",
                                             "remove_sheet", "rename_sheet", "hide", "merge", "hide_row"]))
    if op == "set":
        return name, op, (sheet, row, col, draw(VALUES))
    if op in ("delete_rows", "delete_cols", "insert_rows", "insert_cols"):
        return name, op, (sheet, row if op.endswith("rows") else col, draw(st.integers(1, 3)))
    if op == "rename_sheet":
        return name, op, (sheet, draw(st.one_of(st.sampled_from(list(SHAPES[name]) + ["Sheet1", "放管服 (2)"]), SAFE_TEXT)))
    if op == "hide":
        return name, op, (sheet, draw(st.sampled_from(["hidden", "veryHidden", "visible"])))
    if op == "merge":
        return name, op, (sheet, row, col, row + draw(st.integers(0, 3)), col + draw(st.integers(0, 2)))
    return name, op, (sheet, row)


def apply(book: openpyxl.Workbook, op: str, args: tuple) -> None:
    """Make one change as Excel or WPS could; a change openpyxl itself refuses is simply not made."""
    ws = book[args[0]] if args[0] in book.sheetnames else None
    if ws is None:
        return
    try:
        if op == "set":
            _, row, col, value = args
            cell = ws.cell(row, col)
            if not isinstance(cell, openpyxl.cell.cell.MergedCell):
                cell.value = value
        elif op == "delete_rows":
            ws.delete_rows(args[1], args[2])
        elif op == "delete_cols":
            ws.delete_cols(args[1], args[2])
        elif op == "insert_rows":
            ws.insert_rows(args[1], args[2])
        elif op == "insert_cols":
            ws.insert_cols(args[1], args[2])
        elif op == "remove_sheet":
            if len(book.sheetnames) > 1:
                book.remove(ws)
        elif op == "rename_sheet":
            ws.title = args[1]
        elif op == "hide":
            ws.sheet_state = args[1]
        elif op == "merge":
            ws.merge_cells(start_row=args[1], start_column=args[2], end_row=args[3], end_column=args[4])
        elif op == "hide_row":
            ws.row_dimensions[args[1]].hidden = True
    except (ValueError, KeyError):  # an invalid sheet title, a value or row openpyxl will not take
        pass


def build(folder: Path, changes: list[tuple[str, str, tuple]]) -> None:
    books = {}
    for name, op, args in changes:
        book = books.setdefault(name, pickle.loads(BOOKS[name]))
        apply(book, op, args)
    for name, data in RAW.items():
        if name in books:
            books[name].save(folder / name)
        else:
            (folder / name).write_bytes(data)


def check(folder: Path, out: Path) -> None:
    """Read, score and (every WRITE_EVERY-th case) write; assert nothing escapes and no unit is lost."""
    STATS["cases"] += 1
    try:
        inputs = read_inputs([folder], RULES)
    except NoUsableInput as refused:  # every file refused: the CLI prints this and exits 2
        assert str(refused).startswith("没有可以使用的填报文件")
        STATS["refused_all"] += 1
        return
    result = score_inputs(inputs)
    problems = inputs.problems
    at = {u.name: i for i, u in enumerate(result.units)}
    for unit in UNITS:
        if unit.name not in at:
            assert any(p.unit == unit.name or unit.name in p.message for p in problems), unit.name
            continue
        for sid in unit.sections:
            sheet = RULES.section(sid).sheet
            about = [p for p in problems if p.unit == unit.name and p.sheet == sheet]
            if result.sections[sid].status[at[unit.name]] == OK:
                assert not [p for p in about if p.is_error], (unit.name, sheet, about)
            else:
                covering = [p for p in problems if not p.unit and p.sheet in ("", sheet) and p.is_error]
                assert about or covering, (unit.name, sheet, "incomplete but named in no problem")
    if STATS["cases"] % WRITE_EVERY == 0:
        STATS["written"] += 1
        write_result(result, inputs, out, run_time=RUN_TIME, version="fuzz")
        with zipfile.ZipFile(out) as archive:
            for part in archive.namelist():
                data = archive.read(part)
                assert not re.search(rb"<f[ >]|<hyperlink[ >]|relationships/hyperlink", data), part


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(changes=st.lists(mutation(sorted(RAW)), min_size=1, max_size=6))
def test_mutated_samples_never_crash_and_lose_no_unit(tmp_path_factory, changes):
    folder = tmp_path_factory.mktemp("回收表格")
    build(folder, changes)
    check(folder, folder.parent / f"{folder.name}.结果.xlsx")


def test_the_check_can_fail(tmp_path, monkeypatch):
    """The invariant is not vacuous: a deleted unit row whose problem went missing fails it."""
    folder = tmp_path / "回收表格"
    folder.mkdir()
    build(folder, [("放管服办.xlsx", "delete_rows", ("放管服", 6, 1))])
    check(folder, tmp_path / "结果.xlsx")
    real = read_inputs
    silent = lambda paths, rules: dataclasses.replace(real(paths, rules), problems=())  # noqa: E731
    monkeypatch.setattr(sys.modules[__name__], "read_inputs", silent)
    with pytest.raises(AssertionError, match="named in no problem"):
        check(folder, tmp_path / "结果.xlsx")
