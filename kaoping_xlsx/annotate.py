"""Annotated copies of returned workbooks, so the assessment office can send each one straight back.

For every accepted input file with problems, ``<original stem>.待修改.xlsx`` is written: each problem
cell filled red with a comment saying what is wrong and what to enter, and a first sheet 待修改说明
listing every problem of the file — including those without a cell (a missing sheet or column, a
deleted unit row), which have nowhere else to go. Everything else is the original workbook as openpyxl
reads and writes it; the input file itself is only read.

A problem cell inside a merged range is marked on the range's first cell (Excel shows and keeps
formatting and comments only there). A file that calamine read but openpyxl cannot load or save again
(a malformed styles part, a style index out of range) still gets its copy: the problem list alone, with a
note saying why.
"""

from __future__ import annotations

import hashlib
import io
from collections import defaultdict
from pathlib import Path

import openpyxl
from openpyxl.cell.cell import MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from . import xlref
from .cleantext import clean_text
from .errors import OutputError
from .inputs import InputFile, Inputs
from .outputs import write_atomically
from .problems import Problem

LIST_SHEET = "待修改说明"
SUFFIX = ".待修改.xlsx"
RED = "FFFF0000"
AUTHOR = "绩效考评校验"
_HEADER = ("序号", "工作表", "单元格", "单位", "条款", "代码", "问题", "说明", "填写内容", "应填写")
_WIDTHS = (6, 12, 16, 22, 8, 6, 16, 70, 16, 24)
LIST_ONLY_NOTE = "原文件格式不规范，无法在原表上标注，本副本只列出问题；请对照下表修改原文件后重新报送"


def annotate(inputs: Inputs, folder: Path) -> list[Path]:
    """Write an annotated copy of every accepted file that has problems; return the paths written."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"无法创建输出目录 {folder}：{exc.strerror or exc}") from None
    by_file: dict[str, list[Problem]] = defaultdict(list)
    for problem in inputs.problems:
        by_file[problem.file].append(problem)
    sources = [f.path for f in inputs.files]
    written: list[Path] = []
    for source in inputs.files:
        problems = by_file.get(source.name)
        if not source.accepted or not problems:
            continue
        target = _target(folder, source, written)
        data = _unchanged_since_check(source)
        written.append(write_atomically(target, lambda tmp, d=data, p=problems: _write(d, p, tmp), sources))
    return written


def _target(folder: Path, source: InputFile, taken: list[Path]) -> Path:
    """``<folder>/<subfolder of the input>/<stem>.待修改.xlsx``; a second file of the same name gets (2)."""
    relative = Path(source.name)
    parent = folder if relative.is_absolute() else folder / relative.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"无法创建输出目录 {parent}：{exc.strerror or exc}") from None
    target = parent / f"{relative.stem}{SUFFIX}"
    number = 2
    while target in taken:
        target = parent / f"{relative.stem}({number}){SUFFIX}"
        number += 1
    return target


def _unchanged_since_check(source: InputFile) -> bytes:
    """The file's bytes, as checked: marks placed on a file edited after the check would land on the wrong
    cells, and openpyxl must open the very bytes the guards passed, not the path read again."""
    try:
        data = source.path.read_bytes()
    except OSError as exc:
        raise OutputError(f"无法再次读取 {source.name}：{exc.strerror or exc}") from None
    if hashlib.sha256(data).hexdigest() != source.sha256:
        raise OutputError(f"{source.name} 在校验之后被修改过，请重新运行校验后再生成待修改文件")
    return data


def _write(source: bytes, problems: list[Problem], out: Path) -> None:
    try:
        _marked(source, problems).save(out)
    except OSError:
        raise
    except Exception:  # noqa: BLE001 - openpyxl's faults on a file calamine accepted vary
        book = openpyxl.Workbook()
        book.remove(book.active)
        _problem_list(book, problems, note=LIST_ONLY_NOTE)
        book.save(out)


def _marked(source: bytes, problems: list[Problem]) -> openpyxl.Workbook:
    """The original workbook with every problem cell filled red and commented, and the problem list."""
    book = openpyxl.load_workbook(io.BytesIO(source))
    marks: dict[tuple[str, str], list[Problem]] = defaultdict(list)
    for problem in problems:
        if problem.cell and problem.sheet in book.sheetnames:
            anchor = _anchor(book[problem.sheet], problem.cell)
            if anchor is not None:
                marks[(problem.sheet, anchor)].append(problem)
    fill = PatternFill("solid", fgColor=RED)
    for (sheet, coordinate), found in marks.items():
        cell = book[sheet][coordinate]
        cell.fill = fill
        text = clean_text("\n".join(_comment_line(p) for p in found), limit=2000)
        cell.comment = Comment(text, AUTHOR, width=360, height=min(60 + 60 * len(found), 400))
    _problem_list(book, problems)
    return book


def _anchor(ws, cell: str) -> str | None:
    """The cell itself, or the first cell of the merged range that covers it; None when even that is
    covered (overlapping merges, which Excel itself would refuse): the problem is then only listed."""
    coordinate = cell.rsplit("!", 1)[1]
    if not isinstance(ws[coordinate], MergedCell):
        return coordinate
    for merged in ws.merged_cells.ranges:
        if coordinate in merged:
            first = xlref.cell(merged.min_row - 1, merged.min_col - 1)
            if not isinstance(ws[first], MergedCell):
                return first
    return None


def _comment_line(problem: Problem) -> str:
    line = f"【{problem.severity}·{problem.code.words}】{problem.message}"
    if problem.expected and problem.expected not in problem.message:
        line += f"（应填写：{problem.expected}）"
    return line


def _problem_list(book, problems: list[Problem], note: str = "") -> None:
    """The first sheet: every problem of this file, one row each, all plain text (after ``note``, if any)."""
    if LIST_SHEET in book.sheetnames:  # an annotated copy sent back and checked again
        del book[LIST_SHEET]
    ws = book.create_sheet(LIST_SHEET, 0)
    for other in book.worksheets[1:]:
        other.sheet_view.tabSelected = False
    book.active = 0
    rows = [(note,)] * bool(note) + [_HEADER] + [
        (str(i), p.sheet, p.cell.rsplit("!", 1)[1] if p.cell else "", p.unit, p.clause, p.code.value, p.code.words,
         p.message, p.value, p.expected)
        for i, p in enumerate(problems, 1)
    ]
    for r, row in enumerate(rows, 1):
        for c, value in enumerate(row, 1):
            cell = ws.cell(r, c)
            cell.value = clean_text(value, limit=2000)
            cell.data_type = "s"  # never a formula or link, whatever the office typed
    for c, width in enumerate(_WIDTHS, 1):
        ws.column_dimensions[xlref.col_letter(c - 1)].width = width
    header = 1 + bool(note)
    for cell in ws[header]:
        cell.font = Font(bold=True)
    ws.freeze_panes = f"A{header + 1}"
