"""The result workbook as LibreOffice Calc opens and prints it: what a leader sees on screen and on paper.

The CSV export is "as shown" (cell formats applied), so the comparison covers what a reader sees, e.g.
``否决 68.00``, against the engine's values rounded with :func:`kaoping_xlsx.engine.rounded`.
"""

from __future__ import annotations

import csv
import html
import re
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import range_boundaries

from kaoping_xlsx.api import ScoreReport, score_files
from kaoping_xlsx.engine import INCOMPLETE, NOT_FOR_TYPE, OK, rounded
from kaoping_xlsx.report import NOTES_SHEET, PROBLEMS_SHEET, SUMMARY_SHEET, UNRANKED
from kaoping_xlsx.rules import load_rules
from office import CSV_FILTER, convert, needs_office

pytestmark = [pytest.mark.libreoffice, needs_office]
ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "回收表格"
RUN_TIME = datetime(2021, 1, 15, 9, 30, 0)
RULES = load_rules()
_FILTER, _OPTIONS = CSV_FILTER.rsplit(":", 1)
# office.CSV_FILTER with token 9, "save cell contents as shown", on.
SHOWN_CSV = f"{_FILTER}:" + ",".join("true" if i == 8 else t for i, t in enumerate(_OPTIONS.split(",")))
A4_LANDSCAPE = (841.89, 595.30)  # points
CELL_POINTS = 10  # the font size of 汇总's cells
MIN_PRINTED_POINTS = 5  # smallest printed cell text we accept on 汇总's pages


@pytest.fixture(scope="module", params=["全部回收表", "缺放管服办"])
def scored(request, tmp_path_factory) -> tuple[ScoreReport, Path]:
    """The samples scored into a Chinese path; without 放管服办's file every unit is 数据不完整 and unranked."""
    paths = [SAMPLES] if request.param == "全部回收表" else sorted(set(SAMPLES.iterdir()) - {SAMPLES / "放管服办.xlsx"})
    out = tmp_path_factory.mktemp("考评结果") / "长白县 绩效考评结果.xlsx"
    return score_files(paths, RULES, out, run_time=RUN_TIME), out


@pytest.fixture(scope="module")
def full(tmp_path_factory) -> tuple[ScoreReport, Path]:
    out = tmp_path_factory.mktemp("考评结果") / "长白县 绩效考评结果.xlsx"
    return score_files([SAMPLES], RULES, out, run_time=RUN_TIME), out


def shown_csv(src: Path, outdir: Path) -> dict[str, list[list[str]]]:
    """Every sheet of ``src`` as LibreOffice displays it, by sheet name."""
    out = {}
    for path in convert(src, SHOWN_CSV, outdir):
        with path.open(encoding="utf-8", newline="") as fh:
            out[path.stem[len(src.stem) + 1:]] = list(csv.reader(fh))
    return out


def score_text(value, status, veto: bool) -> str:
    """A section score as the result shows it: 2 decimals (否决 before a failed veto), or the status word."""
    if status != OK:
        return INCOMPLETE if status == INCOMPLETE else NOT_FOR_TYPE
    text = f"{rounded(value, RULES.decimals):.{RULES.decimals}f}"
    return f"否决 {text}" if veto else text


def by_unit(rows: list[list[str]], header: int, name_col: int, count: int) -> dict[str, dict[str, str]]:
    """The ``count`` unit rows under the header row, by unit name: header label → shown text."""
    labels = rows[header]
    units = rows[header + 1:header + 1 + count]
    assert len(units) == count and all(units), "every unit has a row"
    return {row[name_col]: dict(zip(labels, row)) for row in units}


def test_libreoffice_shows_what_the_engine_computed(scored, tmp_path):
    report, out = scored
    res, decimals = report.result, RULES.decimals
    sheets = shown_csv(out, tmp_path / "csv")
    assert sorted(sheets) == sorted([SUMMARY_SHEET, *(s.sheet for s in RULES.sections), PROBLEMS_SHEET, NOTES_SHEET])
    n = len(res.units)

    summary = by_unit(sheets[SUMMARY_SHEET], 0, 1, n)
    for i, unit in enumerate(res.units):
        row = summary[unit.name]
        assert row["名次"] == (str(res.rank[i]) if res.rank[i] is not None else UNRANKED), unit.name
        statuses = []
        for s in RULES.sections:
            sr = res.sections[s.id]
            statuses.append(sr.status[i])
            assert row[s.name] == score_text(sr.total[i], sr.status[i], bool(sr.failed_vetoes[i])), unit.name
            if s.grades and sr.status[i] == OK:
                assert row[f"{s.name}等次"] == sr.grade[i], unit.name
        total = res.total[i]
        assert row["总分"] == (f"{rounded(total, decimals):.{decimals}f}" if total is not None
                               else INCOMPLETE if INCOMPLETE in statuses else NOT_FOR_TYPE), unit.name

    for s in RULES.sections:
        sr = res.sections[s.id]
        rows = by_unit(sheets[s.sheet], 1, 0, n)
        for i, unit in enumerate(res.units):
            assert rows[unit.name]["本部分得分"] == score_text(sr.total[i], sr.status[i],
                                                            bool(sr.failed_vetoes[i])), (s.sheet, unit.name)

    problems = [[p.severity, p.code.value, p.code.words, p.file, p.sheet, p.cell, p.unit, p.clause, p.value,
                 p.expected, p.message] for p in report.inputs.problems]
    assert problems, "the samples carry at least one problem"
    assert sheets[PROBLEMS_SHEET][1:] == problems


# ------------------------------------------------------------------ paper


@dataclass
class Page:
    """One PDF page: its size in points and its words with their boxes (x0, y0, x1, y1, text)."""

    width: float
    height: float
    words: list[tuple[float, float, float, float, str]]

    @property
    def sheet(self) -> str:
        """The sheet printed on it: every result sheet's page header starts with the sheet's name (&A)."""
        return min(self.words, key=lambda w: (round(w[1]), w[0]))[4]

    def center(self, text: str) -> tuple[float, float]:
        """The centre of the leftmost ``text``: the table's, should a chart label repeat it."""
        x0, y0, x1, y1, _ = min(w for w in self.words if w[4] == text)
        return (x0 + x1) / 2, (y0 + y1) / 2

    def has(self, text: str) -> bool:
        return any(w[4] == text for w in self.words)


def pdf_words(pdf: Path) -> list[Page]:
    """Every page's words with their boxes (pdftotext -bbox from poppler-utils)."""
    xhtml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = []
    for width, height, body in re.findall(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', xhtml, re.S):
        words = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
                           body)
        pages.append(Page(float(width), float(height),
                          [(float(a), float(b), float(c), float(d), html.unescape(t)) for a, b, c, d, t in words]))
    return pages


def row_height(ws, row: int) -> float:
    return ws.row_dimensions[row].height or ws.sheet_format.defaultRowHeight


def column_widths(ws, first: int, last: int) -> list[float]:
    """Widths of columns ``first``..``last`` (1-based) in characters; openpyxl keeps runs of equal columns as one."""
    widths = {}
    for dim in ws.column_dimensions.values():
        for c in range(dim.min, dim.max + 1):
            widths[c] = dim.width
    return [widths[c] for c in range(first, last + 1)]


def printed(ws) -> tuple[int, int, int, int]:
    """First column, first row, last column, last row printed (1-based): the print area, else the used range."""
    return range_boundaries((ws.print_area or ws.dimensions).split("!")[-1])


def expected_pages(ws, scale: float, page_height: float) -> int:
    """Pages the print area takes at ``scale``, from the page setup saved in the file.

    The printable height is the page less the top and bottom margins (the page header and footer sit in
    them); manual page breaks start a new page; every page after the first repeats the print title rows;
    a row that does not fit starts a new page. Heights are in points, which no font changes.
    """
    _, first, _, last = printed(ws)
    titles = range(first, first)
    if ws.print_title_rows:
        top, bottom = (int(r) for r in ws.print_title_rows.replace("$", "").split(":"))
        titles = range(top, bottom + 1)
    title = sum(row_height(ws, r) for r in titles)
    room = (page_height - 72 * (ws.page_margins.top + ws.page_margins.bottom)) / scale
    breaks = {b.id + 1 for b in ws.row_breaks.brk}  # a break's id is the last row (1-based) above it
    pages, used = 1, 0.0
    for row in range(first, last + 1):
        height = row_height(ws, row)
        if row in breaks or used + height > room:
            pages, used = pages + 1, title
        used += height
    return pages


def test_summary_prints_readably_on_a4_landscape_fit_to_width(full, tmp_path):
    report, out = full
    [pdf] = convert(out, "pdf", tmp_path / "pdf")
    pages = pdf_words(pdf)
    sheets = [p.sheet for p in pages]
    order = [SUMMARY_SHEET, *(s.sheet for s in RULES.sections), PROBLEMS_SHEET, NOTES_SHEET]
    assert set(sheets) == set(order) and sheets == sorted(sheets, key=order.index), "every sheet, in order"
    summary = [p for p in pages if p.sheet == SUMMARY_SHEET]
    for page in summary:
        assert (round(page.width, 2), round(page.height, 2)) == A4_LANDSCAPE

    ws = openpyxl.load_workbook(out)[SUMMARY_SHEET]
    n = len(report.result.units)
    ordered = [ws.cell(r, 2).value for r in range(2, n + 2)]  # unit names in rank order
    assert sorted(ordered) == sorted(u.name for u in report.result.units)
    table = summary[0]
    assert all(table.has(name) for name in ordered) and table.has("图例"), "all units and the legend on one page"

    # The scale LibreOffice printed at, measured rather than computed: fit to width divides the printable
    # width by the columns' width, which depends on the default font's character width (LibreOffice uses
    # a stand-in when Calibri is missing). Row heights are in points, so two unit rows' text centres (cells
    # are centred vertically) give it: their distance on paper over their distance in row heights.
    top, bottom = 2, n + 1
    sheet_distance = (row_height(ws, top) / 2 + sum(row_height(ws, r) for r in range(top + 1, bottom))
                      + row_height(ws, bottom) / 2)
    scale = (table.center(ordered[-1])[1] - table.center(ordered[0])[1]) / sheet_distance
    # Fit to width: the table spans the printable width, so its first and last headers' centres lie as far
    # apart, relative to it, as in column widths. A chart or anything else in the print area beside the
    # table would be scaled into the page too and squeeze the table to a fraction of it.
    left, _, right, _ = printed(ws)
    widths = column_widths(ws, left, right)
    printable = table.width - 72 * (ws.page_margins.left + ws.page_margins.right)
    paper = table.center("否决项")[0] - table.center("名次")[0]
    assert paper / printable == pytest.approx((sum(widths) - widths[0] / 2 - widths[-1] / 2) / sum(widths), abs=0.02)
    # LibreOffice without Calibri (nor the metric-compatible Carlito) sets the columns in a wider font than
    # Excel or WPS would, so paper from those is larger still.
    assert CELL_POINTS * scale >= MIN_PRINTED_POINTS

    assert len(summary) == expected_pages(ws, scale, table.height)
    chart = summary[-1]
    assert len(summary) == 2 and chart.has("总分（已排名单位）") and not chart.has("图例"), \
        "the totals chart on a page of its own after the table"
