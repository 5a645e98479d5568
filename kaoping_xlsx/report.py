"""The result workbook leaders read on screen and on paper: 汇总, one sheet per section, 校验问题, 说明.

It writes what the engine computed and computes no score itself. Every colour also carries a word or
mark (否决, 降档, the grade, 数据不完整) so that a greyscale printout says the same. Text that came
from the inputs goes through :func:`clean_text` and ``write_string`` only, so a unit called
``=HYPERLINK(...)`` stays text. The workbook is written in xlsxwriter's ``constant_memory`` mode (rows
strictly in order, one row in memory per sheet): at 100,000 units the other mode holds every cell.

With ``formulas`` the section sheets' clause and total cells are live formulas over the inputs written
beside them (built by :mod:`kaoping_xlsx.formulas`), the engine's values cached as their results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from itertools import count, repeat
from pathlib import Path
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.exceptions import FileCreateError, FileSizeError

from . import formulas as fx
from .cleantext import clean_text, clean_texts
from .describe import display_width, display_widths, wrapped_lines, wrapped_lines_of
from .engine import INCOMPLETE, NOT_ASSESSED, NOT_FOR_TYPE, OK, Result, Roster, SectionResult, blank
from .errors import OutputError
from .fastsheet import FastWorksheet
from .inputs import Inputs
from .outputs import write_atomically
from .rules import COUNT, NA, NOT_APPLICABLE, RESERVED_SHEETS, SCORE, Field, Section, fmt
from .xlref import col_letter

SUMMARY_SHEET, PROBLEMS_SHEET, NOTES_SHEET = RESERVED_SHEETS[1:]
UNRANKED = "未排名"
DOWNGRADED = "降档"
VETO_MARK = "否决"
LINE_HEIGHT = 13  # points per line of 10-point text
DEFAULT_ROW_PIXELS = 20  # a 15-point row
CHART_LIMIT = 100  # bars in the totals chart: past this it is unreadable and slow to open
_BLOCK_ROWS = 4096  # data rows laid out as cells at a time: a sheet's grid never whole in memory

WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "constant_memory": True,
}

RED = "#C00000"
DARK_RED = "#7B0000"
GREEN = "#C6EFCE"
ORANGE = "#F4B183"
GREY = "#D9D9D9"
HEADER = "#DDEBF7"
GROUP = "#BDD7EE"

Cell = Any  # None (blank), str, a number or a _Formula


class _Formula(NamedTuple):
    """A formula cell: its template (row number as ``formulas.ROW``) and the engine's value as its cached result."""

    template: str
    value: Any


class _FormulaSheet(FastWorksheet):
    """A section sheet whose formulas all come from :mod:`kaoping_xlsx.formulas`, which uses no function
    that Excel stores under a ``_xlfn.`` prefix: skip xlsxwriter's 30 regex rewrites of every formula,
    which otherwise triple the time to write a workbook with formulas."""

    def _prepare_formula(self, formula, expand_future_functions=False):
        if expand_future_functions:
            return super()._prepare_formula(formula, expand_future_functions)
        return formula


def write_result(result: Result, inputs: Inputs, out: Path, *, run_time: datetime, version: str,
                 formulas: bool = False, progress: Callable[[str], None] = lambda step: None) -> Path:
    """Write the result workbook to ``out`` (atomically, never over an input file); returns ``out``.

    ``run_time`` is the document's creation time and is shown on 说明, so the same inputs and the same
    ``run_time`` give the same workbook byte for byte. ``formulas`` makes the section sheets' clause and
    total cells live formulas (汇总 keeps values: its ranks and grades could not follow a changed input).
    ``progress`` is told the name of each sheet before it is written.
    """

    def write(tmp: Path) -> None:
        try:
            with xlsxwriter.Workbook(str(tmp), WORKBOOK_OPTIONS) as book:
                _Report(book, result, inputs, run_time, version, formulas, progress).write()
        except (FileCreateError, FileSizeError) as exc:
            raise OutputError(f"无法写入结果文件 {out}：{exc}") from None

    return write_atomically(out, write, inputs=[f.path for f in inputs.files])


class _Styles:
    """Every cell format of the workbook, created once and known by its style id, its place in
    ``formats``: a column gives each row's format as a number, chosen with numpy over thousands of
    rows. Grey twins for 数据不完整 rows."""

    def __init__(self, book: xlsxwriter.Workbook, decimals: int):
        self.book = book
        self.formats: list = []
        score = self.score_format = "0." + "0" * decimals if decimals else "0"
        base = {"border": 1, "border_color": "#A6A6A6", "valign": "vcenter", "font_size": 10}
        roles = {
            "text": {},
            "wrap": {"text_wrap": True},
            "center": {"align": "center"},
            "int": {"num_format": "0", "align": "center"},
            "num": {},
            "score": {"num_format": score},
        }
        self.plain = {k: self._add(base, v) for k, v in roles.items()}
        grey = {"bg_color": GREY, "font_color": "#404040"}
        self.grey = {k: self._add(base, v, grey) for k, v in roles.items()}
        white = {"font_color": "#FFFFFF", "bold": True}
        self.veto_score = self._add(base, roles["score"], {"bg_color": RED, "num_format": f'"{VETO_MARK} "{score}'},
                                    white)
        self.veto_text = self._add(base, roles["wrap"], {"bg_color": RED}, white)
        self.downgrade = self._add(base, roles["wrap"], {"bg_color": DARK_RED}, white)
        self.good = self._add(base, roles["center"], {"bg_color": GREEN, "font_color": "#006100", "bold": True})
        self.bad = self._add(base, roles["center"], {"bg_color": ORANGE, "font_color": "#7F2704", "bold": True})
        # 降档 rows: a thick dark-red line left of the rank and the unit name in dark red.
        mark = {"left": 5, "left_color": DARK_RED}
        self.rank = {(g, d): self._add(base, roles["int"], grey if g else {}, mark if d else {})
                     for g in (False, True) for d in (False, True)}
        self.unit = {(g, d): self._add(base, grey if g else {}, {"bold": True, "font_color": DARK_RED} if d else {})
                     for g in (False, True) for d in (False, True)}
        head = {"bold": True, "align": "center", "valign": "vcenter", "text_wrap": True, "border": 1,
                "font_size": 10}
        self.header = self._add(head, {"bg_color": HEADER})
        self.group = self._add(head, {"bg_color": GROUP})
        self.title = self._add({"bold": True, "font_size": 14})
        self.label = self._add(base, {"bold": True, "bg_color": HEADER, "text_wrap": True})

    def _add(self, *parts: dict) -> int:
        props: dict = {}
        for part in parts:
            props.update(part)
        self.formats.append(self.book.add_format(props))
        return len(self.formats) - 1

    def __getitem__(self, style: int):
        """The format of a style id, for a cell written on its own."""
        return self.formats[style]

    def column(self, name: str, grey: np.ndarray) -> np.ndarray:
        """One style per row: ``name``, grey where the row is 数据不完整."""
        return np.where(grey, self.grey[name], self.plain[name])

    def ranks(self, grey: np.ndarray, down: np.ndarray) -> np.ndarray:
        """The rank cell's style per row: grey if 数据不完整, the 降档 mark if downgraded."""
        return np.array([self.rank[g, d] for g in (False, True) for d in (False, True)])[grey * 2 + down]

    def units(self, grey: np.ndarray, down: np.ndarray) -> np.ndarray:
        """The unit name's style per row: grey if 数据不完整, dark red if downgraded."""
        return np.array([self.unit[g, d] for g in (False, True) for d in (False, True)])[grey * 2 + down]


@dataclass
class _Column:
    """One table column: its header, each data row's value as a code into ``values`` and its style id,
    a width hint. Thousands of units share a few values (是, 否, an explanation), so a column's width,
    the height its texts need and the cells written are worked out once per distinct value."""

    label: str
    codes: np.ndarray  # per row: its value's place in values
    values: np.ndarray  # object array
    styles: np.ndarray  # per row: a style id (_Styles)
    width: float = 10
    group: str = ""
    text_width: int | None = None  # a column of texts only: the widest's display width, if known beforehand

    @classmethod
    def each(cls, label: str, values: np.ndarray, styles: np.ndarray, **kwargs) -> _Column:
        """A column whose rows hold values of their own (unit names, totals): row ``i`` holds ``values[i]``."""
        return cls(label, np.arange(len(values)), values, styles, **kwargs)

    def used_values(self) -> np.ndarray:
        """The values some row holds."""
        return self.values[np.bincount(self.codes, minlength=len(self.values)) > 0]

    def by_row(self) -> _Column:
        """The same column with a value of its own in every row, to be replaced row by row."""
        return _Column.each(self.label, self.values[self.codes], self.styles, width=self.width, group=self.group)


def _width(col: _Column, lo: float = 6, hi: float = 40) -> float:
    """Fit the widest text (headers wrap, so they count up to 8 CJK characters); numbers need about 9."""
    if col.text_width is not None:
        widest = col.text_width
    else:
        used = col.used_values().tolist()
        texts = [v for v in used if v.__class__ is str]
        widest = _widest(texts, hi - 2)
        if len(texts) + used.count(None) < len(used):  # numbers (or formulas)
            widest = max(widest, 9)
    return min(hi, max(lo, widest + 2, min(display_width(col.label), 16) + 2))


def _widest(texts: list[str], enough: float) -> float:
    """The largest display width among ``texts``, or at least ``enough`` (past which it makes no
    difference). A text is len() to 2×len() wide, so only those that could be wider than the
    longest are measured: of thousands of distinct explanations, a few."""
    longest = max(map(len, texts), default=0)
    if longest >= enough:
        return longest
    return int(display_widths([t for t in texts if 2 * len(t) > longest]).max(initial=0))


def _heights(columns: Sequence[_Column], rows: int, formats: Sequence) -> np.ndarray:
    """Lines each row needs for its wrapped texts: viewers do not all grow rows by themselves."""
    wraps = np.array([bool(getattr(f, "text_wrap", 0)) for f in formats])
    lines = np.ones(rows, dtype=np.int64)
    for col in columns:
        wrapped = wraps[col.styles]
        if not wrapped.any():
            continue
        fits = max(col.width - 1.5, 1) / 2  # a text at most this long, without a line break, takes one line
        values = col.values.tolist()
        long = [i for i, v in enumerate(values) if v.__class__ is str and (len(v) > fits or "\n" in v)]
        if not long:
            continue
        needed = np.ones(len(values), dtype=np.int64)  # per value, then per row
        needed[long] = wrapped_lines_of([values[i] for i in long], col.width)
        needed = needed[col.codes]
        needed[~wrapped] = 1
        np.maximum(lines, needed, out=lines)
    return lines


def _cells(c: int, col: _Column, formats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column ``c``'s distinct cells ``(c, value, format)`` as an object array, and each row's place in
    it: the rows holding the same value and format share one tuple."""
    styles = np.flatnonzero(np.bincount(col.styles, minlength=len(formats)))  # those used, each coded by its place
    style_codes = np.zeros(len(formats), dtype=np.intp)
    style_codes[styles] = np.arange(len(styles))
    pairs = col.codes * len(styles) + style_codes[col.styles]
    present = np.flatnonzero(np.bincount(pairs, minlength=len(col.values) * len(styles)))
    index = np.zeros(len(col.values) * len(styles), dtype=np.int32)  # per row, so half the size of a code
    index[present] = np.arange(len(present))
    cells = np.fromiter(zip(repeat(c), col.values[present // len(styles)], formats[styles][present % len(styles)]),
                        dtype=object, count=len(present))
    return cells, index[pairs]


def _formula_rows(columns: Sequence[_Column]) -> set[int]:
    """The rows holding a formula in any column."""
    rows: set[int] = set()
    for col in columns:
        live = np.fromiter((v.__class__ is _Formula for v in col.values.tolist()), dtype=bool, count=len(col.values))
        rows.update(np.flatnonzero(live[col.codes]).tolist())
    return rows


def _grid(ws, first_row: int, columns: Sequence[_Column], rows: int, formats: Sequence) -> None:
    """Write the data rows in order (constant_memory mode), a row at a time: text, numbers and blanks
    where a format (fill, border) must show; formulas with their cached values; wrapped rows taller."""
    put_row, write_formula, set_row, row_mark = ws.put_row, ws.write_formula, ws.set_row, fx.ROW
    format_table = _objects(formats)
    column_cells = [_cells(c, col, format_table) for c, col in enumerate(columns)]
    live_rows = {first_row + r for r in _formula_rows(columns)} if isinstance(ws, _FormulaSheet) else set()
    lines = _heights(columns, rows, formats)
    heights = np.where(lines > 1, np.minimum(LINE_HEIGHT * lines + 3, 409), 0).tolist()  # 0: the default
    block = np.empty((min(rows, _BLOCK_ROWS), len(columns)), dtype=object)
    for start in range(0, rows, _BLOCK_ROWS):
        size = min(rows - start, _BLOCK_ROWS)
        for c, (distinct, at) in enumerate(column_cells):
            block[:size, c] = distinct[at[start:start + size]]
        for row, row_cells, height in zip(count(first_row + start), block[:size].tolist(), heights[start:start + size]):
            if height:
                set_row(row, height)
            if row not in live_rows:
                put_row(row, row_cells)
                continue
            put_row(row, [cell for cell in row_cells if cell[1].__class__ is not _Formula])
            for c, v, f in row_cells:
                if v.__class__ is _Formula:
                    write_formula(row, c, v.template.replace(row_mark, str(row + 1)), f, v.value)
    ws.forget_strings()


def _page(ws, header_rows: int, landscape: bool = True) -> None:
    """Print setup: A4 landscape, one page wide, headers repeated, page numbers in the footer."""
    if landscape:
        ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0, header_rows - 1)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_header("&L&A")
    ws.set_footer("&C&P / &N")


def _input_cell(f: Field, value: Any) -> Cell:
    """An input value as the user gave it, normalised: 是/否, a number, a choice, a text or 不适用."""
    if value is None:
        return None
    if f.type == NA:
        return NOT_APPLICABLE if value is True else None
    if isinstance(value, (bool, np.bool_)):
        return "是" if value else "否"
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (Decimal, float)):
        return float(value)
    return clean_text(value)


def _input_role(value: Cell) -> str:
    """Short words centred, long text wrapped, numbers as numbers."""
    if value is None or value.__class__ is str and len(value) <= 6:
        return "center"
    return "wrap" if value.__class__ is str else "num"


def _distinct(values: np.ndarray, convert: Callable[[list], list] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each row's code into a table of the distinct non-blank values, or of ``convert`` over them (given all
    at once: columns repeat a few values over thousands of units), ending in None for the blanks."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    distinct = uniques.tolist()
    table = _objects([*(convert(distinct) if convert else distinct), None])
    codes[codes < 0] = len(table) - 1
    return codes, table


def _scored(scored: np.ndarray, shown: np.ndarray, others: np.ndarray,
            table: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """The engine's shown numbers where ``scored``, elsewhere ``table[others]``: each row's code and the
    table of distinct values. Numbers are told apart by their bits: pandas would take -0.0, written
    as -0, for 0.0."""
    codes, bits = pd.factorize(shown[scored].astype(np.float64).view(np.int64))
    out = others + len(bits)
    out[scored] = codes
    return out, _objects([*bits.view(np.float64).tolist(), *table])


def _objects(items: Sequence) -> np.ndarray:
    """A 1-d object array of ``items`` as they are (numpy would unpack tuples into a second axis)."""
    return np.fromiter(items, dtype=object, count=len(items))


def _where(mask: np.ndarray, yes, no) -> np.ndarray:
    """``yes`` where ``mask`` holds, else ``no`` (each an array or one object) as an object array:
    ``np.where`` would turn two texts into a fixed-width text array."""
    out = np.empty(len(mask), dtype=object)
    out[:] = no
    out[mask] = yes[mask] if isinstance(yes, np.ndarray) else yes
    return out


def _reasons(per_unit: np.ndarray, mark: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Each unit's reasons (降档, failed vetoes) as one cell, ``mark：`` first if given; None for none:
    each row's code and the table of cells (:func:`_distinct`)."""
    prefix = f"{mark}：" if mark else ""

    def cells(distinct: list[tuple[str, ...]]) -> list[str | None]:
        texts = clean_texts("；".join(reasons) for reasons in distinct)
        return [prefix + text if reasons else None for reasons, text in zip(distinct, texts)]

    return _distinct(per_unit, cells)


def _flags(values: np.ndarray) -> np.ndarray:
    """Which rows hold a non-empty tuple or text (reasons, failed vetoes)."""
    return np.fromiter(map(bool, values), dtype=bool, count=len(values))


def _field_label(f: Field) -> str:
    return f"{f.label}（{f.unit}）" if f.unit and f.type in (COUNT, SCORE) and f.unit not in f.label else f.label


@dataclass
class _Report:
    book: xlsxwriter.Workbook
    result: Result
    inputs: Inputs
    run_time: datetime
    version: str
    formulas: bool = False
    progress: Callable[[str], None] = lambda step: None
    styles: _Styles = field(init=False)

    def __post_init__(self) -> None:
        self.rules = self.result.rules
        self.styles = _Styles(self.book, self.rules.decimals)
        self.units = self.result.units
        self.names = _objects(clean_texts(u.name for u in self.units))
        self.names_width = _widest(self.names.tolist(), math.inf)  # the same in every sheet: measured once
        self.roster = Roster.of(self.units)
        self.type_codes, self.types = self.roster.type_codes, _objects(clean_texts(list(self.roster.masks)))

    def write(self) -> None:
        self.book.set_properties({
            "title": f"{self.rules.title} 考评结果",
            "subject": "绩效考评结果",
            "author": "kaoping_xlsx",
            "company": self.rules.send_to,
            "comments": f"规则 {self.rules.id}（指纹 {self.rules.fingerprint}），程序版本 {self.version}",
            # Document times are UTC; an aware run time is converted, a naive one taken as given.
            "created": self.run_time.astimezone(timezone.utc).replace(tzinfo=None) if self.run_time.tzinfo
            else self.run_time,
        })
        self.progress(f"写入{SUMMARY_SHEET}")
        self.summary()
        for s in self.rules.sections:
            self.progress(f"写入{s.sheet}")
            self.section(self.result.sections[s.id])
        self.progress(f"写入{PROBLEMS_SHEET}")
        self.problems()
        self.notes()

    # ------------------------------------------------------------------ 汇总

    def _banded(self, section: Section, grades: np.ndarray, others: np.ndarray) -> np.ndarray:
        """Grade cells' styles: the band's colour where it has one, else ``others``."""
        out = others.copy()
        for name, band in self._bands(section).items():
            out[grades == name] = band
        return out

    def _bands(self, section: Section) -> dict[str, int]:
        """Grade name → style: the top band green, the bottom band orange, any middle band plain."""
        if not section.grades:
            return {}
        order = sorted(section.grades, key=lambda g: (g.lower is not None, g.lower or 0))
        return {order[-1].name: self.styles.good, order[0].name: self.styles.bad}

    def summary(self) -> None:
        st, res = self.styles, self.result
        ws = self.book.add_worksheet(SUMMARY_SHEET, FastWorksheet)
        n = len(self.units)
        sections = [res.sections[s.id] for s in self.rules.sections]
        incomplete = np.zeros(n, dtype=bool)
        for sr in sections:
            incomplete |= sr.status == INCOMPLETE
        order = np.array(res.order(), dtype=np.intp)  # ranked units by rank, then the unranked
        ranked = order[:int(res.complete.sum())].tolist()
        grey = incomplete[order]
        down = _flags(res.downgrade)[order]
        center = st.column("center", grey)

        cols = [
            _Column("名次", *_distinct(_where(res.complete[order], res.rank[order], UNRANKED)),
                    st.ranks(grey, down)),
            _Column("单位名称", order, self.names, st.units(grey, down), text_width=self.names_width),
            _Column("单位类型", self.type_codes[order], self.types, center),
        ]
        for sr in sections:
            status = sr.status[order]
            ok = status == OK
            scored = np.where(_flags(sr.failed_vetoes)[order], st.veto_score, st.column("score", grey))
            cols.append(_Column(sr.section.name, *_scored(ok, sr.shown[order], np.where(status == INCOMPLETE, 0, 1),
                                                          [INCOMPLETE, NOT_FOR_TYPE]),
                                np.where(ok, scored, center)))
        has_total = res.complete[order]  # a total and a rank exactly where every section taken is scored
        cols.append(_Column("总分", *_scored(has_total, res.shown[order], np.where(grey, 0, 1),
                                             [INCOMPLETE, NOT_FOR_TYPE]),
                            np.where(has_total, st.column("score", grey), center)))
        for sr in sections:
            if not sr.section.grades:
                continue
            grades = sr.grade[order]
            values = _where(grades != "", grades, _where(sr.status[order] == NOT_ASSESSED, NOT_FOR_TYPE, None))
            cols.append(_Column(f"{sr.section.name}等次", *_distinct(values),
                                self._banded(sr.section, values, center)))
        cols.append(_Column(DOWNGRADED, np.where(down, 0, 1), _objects([DOWNGRADED, None]),
                            np.where(down, st.downgrade, center)))
        cols.append(_Column("降档原因", *_reasons(res.downgrade[order]), st.column("wrap", grey)))
        vetoes = res.failed_vetoes[order]
        cols.append(_Column("否决项", *_reasons(vetoes, VETO_MARK),
                            np.where(_flags(vetoes), st.veto_text, st.column("wrap", grey))))
        for col in cols:
            col.width = _width(col, hi=36 if col.label in ("降档原因", "否决项") else 30)

        ws.set_row(0, 30)
        for c, col in enumerate(cols):
            ws.set_column(c, c, col.width)
            ws.write_string(0, c, col.label, st[st.header])
        _grid(ws, 1, cols, n, st.formats)
        last_row = self.legend_rows(ws, n + 2, len(cols) - 1)
        ws.freeze_panes(1, 2)
        ws.autofilter(0, 0, max(n, 1), len(cols) - 1)
        _page(ws, 1)
        if ranked:
            # Below the legend, on a page of its own: beside the table it would widen what fit-to-width
            # scales down to one page and shrink the table's text to an unreadable size on paper.
            first = last_row + 2
            ws.set_h_pagebreaks([first])
            last_row = self.chart(ws, ranked, next(c for c, col in enumerate(cols) if col.label == "总分"), first)
        ws.print_area(0, 0, last_row, len(cols) - 1)

    def legend_rows(self, ws, row: int, last_col: int) -> int:
        """The legend under the table: a sample cell, then what it means (printed with the last page).
        Returns its last row."""
        st = self.styles
        ws.write_string(row, 1, "图例", st[st.header])
        ws.merge_range(row, 2, row, last_col, "含义（颜色之外都有文字或标记，黑白打印也能分辨）", st[st.header])
        for sample, style, words in self.legend():
            row += 1
            if isinstance(sample, str):
                ws.write_string(row, 1, sample, st[style])
            else:
                ws.write_number(row, 1, sample, st[style])
            ws.merge_range(row, 2, row, last_col, words, st[st.plain["text"]])
        return row

    def legend(self) -> list[tuple[Cell, int, str]]:
        """The legend's rows: a sample, its style id, what it means."""
        st, d = self.styles, self.rules.decimals
        rows: list[tuple[Cell, int, str]] = [
            (0, st.veto_score, "否决项未通过：红底白字。该部分得分前标“否决”，“否决项”列写明条款"),
            (DOWNGRADED, st.downgrade, "直接降档：深红底白字“降档”，名次格左侧深红粗线、单位名称深红，原因见“降档原因”列"),
        ]
        for s in self.rules.sections:
            bands = self._bands(s)
            for g in s.grades:
                if g.name in bands:
                    rows.append((g.name, bands[g.name], f"{s.name}等次“{g.name}”，得分区间 {g.words()[len(g.name):]}"))
        rows += [
            (INCOMPLETE, st.grey["center"], f"有考评部分数据不完整：不计总分，名次写“{UNRANKED}”，灰底列于最后；"
                                            f"原因见“{PROBLEMS_SHEET}”表"),
            (NOT_FOR_TYPE, st.plain["center"], "不参加该部分考评，或该项不适用于此类单位"),
            (NOT_APPLICABLE, st.plain["center"], "该项标注不适用：本部分按适用项满分折算为百分制（见各部分工作表）"),
            (st.score_format, st.plain["center"], f"分数保留{d}位小数、四舍五入；按显示的总分排名，总分相同名次相同（如1、1、3）"),
        ]
        return rows

    def chart(self, ws, ranked: list[int], total_col: int, row: int) -> int:
        """Bar chart of the ranked totals, best on top, from ``row`` in the first scrolling column; returns
        the last row it covers (rows below the legend keep the default 15-point height). The cached values
        are given explicitly because constant_memory mode cannot read them back from the sheet."""
        res = self.result
        shown = ranked[:CHART_LIMIT]
        k = len(shown)
        chart = self.book.add_chart({"type": "bar"})
        chart.add_series({
            "name": "总分",
            "categories": [SUMMARY_SHEET, 1, 1, k, 1],
            "values": [SUMMARY_SHEET, 1, total_col, k, total_col],
            "categories_data": [self.names[i] for i in shown],
            "values_data": [res.shown[i] for i in shown],
            "fill": {"color": "#5B9BD5"},
            "data_labels": {"value": True, "num_format": self.styles.score_format},
            "gap": 60,
        })
        title = "总分（已排名单位）" if len(ranked) <= CHART_LIMIT else f"总分（名次前{CHART_LIMIT}个单位）"
        chart.set_title({"name": title, "name_font": {"size": 12}})
        chart.set_legend({"none": True})
        chart.set_y_axis({"reverse": True, "crossing": "max"})
        chart.set_x_axis({"min": 0, "num_format": "0"})
        height = min(60 + 22 * k, 2400) + 40
        chart.set_size({"width": 560, "height": height})
        # Offset from the page break above it: LibreOffice draws a border lying on the break on both pages.
        ws.insert_chart(row, 2, chart, {"object_position": 3, "y_offset": DEFAULT_ROW_PIXELS // 2})
        return row + -(-(height + DEFAULT_ROW_PIXELS // 2) // DEFAULT_ROW_PIXELS)

    # ------------------------------------------------------------------ section sheets

    def section(self, sr: SectionResult) -> None:
        st, section = self.styles, sr.section
        ws = self.book.add_worksheet(section.sheet, _FormulaSheet if self.formulas else FastWorksheet)
        n = len(self.units)
        grey = sr.status == INCOMPLETE
        down = _flags(sr.downgrade)
        vetoed = _flags(sr.failed_vetoes)
        ok = sr.status == OK
        columns = sr.inputs
        center, wrap, score = (st.column(role, grey) for role in ("center", "wrap", "score"))

        unit = "单位"
        cols = [
            _Column.each("单位名称", self.names, st.units(grey, down), group=unit, text_width=self.names_width),
            _Column("单位类型", self.type_codes, self.types, center, group=unit),
        ]
        summary = f"{section.name}结果"
        total_col = len(cols)
        cols.append(_Column("本部分得分", *_scored(ok, sr.shown, np.where(grey, 0, 1), [INCOMPLETE, NOT_FOR_TYPE]),
                            np.where(ok, np.where(vetoed, st.veto_score, st.plain["score"]), center), group=summary))
        cols.append(_Column("本部分名次", *_distinct(_where(ok, sr.rank, _where(grey, UNRANKED, NOT_FOR_TYPE))),
                            st.ranks(grey, down), group=summary))
        if section.grades:
            values = _where(sr.grade != "", sr.grade, None)
            cols.append(_Column("等次", *_distinct(values), self._banded(section, values, center), group=summary))
        if section.downgrades:
            cols.append(_Column(DOWNGRADED, *_reasons(sr.downgrade, DOWNGRADED), np.where(down, st.downgrade, wrap),
                                group=summary))
        if any(c.has_veto for c in section.clauses):
            cols.append(_Column("否决项", *_reasons(sr.failed_vetoes, VETO_MARK), np.where(vetoed, st.veto_text, wrap),
                                group=summary))

        input_cols: dict[str, int] = {}
        result_cols: dict[str, tuple[int, int]] = {}  # clause id → (本项扣分, 本项得分) columns
        for cr in sr.clauses:
            clause = cr.clause
            fields = list(clause.fields) + ([section.na_field(clause)] if section.allow_not_applicable else [])
            for f in fields:
                input_cols[f.key] = len(cols)
                cols.append(self._input_column(f, columns[f.key], grey, clause.heading))
            scored = ~blank(cr.shown_points)  # shown exactly where scored; read faster than the Decimals
            marked = cr.not_applicable  # never scored
            text_codes, words = _distinct(cr.text)  # the engine's: a few over thousands of units; None last
            # Unscored, unmarked cells show the engine's word (— for another unit type), blank if incomplete;
            # marked ones 不适用 (本项得分) or blank (本项扣分).
            other = np.where(grey | (words == "")[text_codes], len(words) - 1, text_codes)
            unscored = [*words, NOT_APPLICABLE]
            veto = cr.veto.astype(bool)
            explanations = _objects([text or None for text in clean_texts(words.tolist())])
            result_cols[clause.id] = (len(cols), len(cols) + 1)
            deductions = _scored(scored, cr.shown_deduction, np.where(marked, len(words) - 1, other), unscored)
            points = _scored(scored, cr.shown_points, np.where(marked, len(words), other), unscored)
            cols.append(_Column("本项扣分", *deductions, np.where(scored, score, center), group=clause.heading))
            point_styles = np.where(scored, np.where(veto, st.veto_score, st.plain["score"]), center)
            cols.append(_Column("本项得分", *points, point_styles, group=clause.heading))
            cols.append(_Column("计分说明", text_codes, explanations, np.where(veto, st.veto_text, wrap),
                                group=clause.heading))
        for f in section.inputs:
            cols.append(self._input_column(f, columns[f.key], grey, "降档相关情况"))
        if self.formulas:
            self._live(sr, cols, total_col, input_cols, result_cols)

        for col in cols:
            col.width = _width(col, hi=36 if col.label == "计分说明" else 24)
        self._headers(ws, cols)
        _grid(ws, 2, cols, n, st.formats)
        ws.freeze_panes(2, 2)
        ws.autofilter(1, 0, max(n, 1) + 1, len(cols) - 1)
        _page(ws, 2)

    def _live(self, sr: SectionResult, cols: list[_Column], total_col: int, input_cols: dict[str, int],
              result_cols: dict[str, tuple[int, int]]) -> None:
        """Turn the scored units' clause and total cells into formulas over the inputs beside them: one
        template per clause and unit type, the engine's exact values cached. Other rows keep their text."""
        section = sr.section
        for c in {total_col, *(c for pair in result_cols.values() for c in pair)}:
            cols[c] = cols[c].by_row()
        cells = fx.Cells(input_cols)
        points_refs = {cid: col_letter(p) + fx.ROW for cid, (_, p) in result_cols.items()}
        templates = {}
        for t in self.rules.unit_types:
            applying = [(cr.clause, cr.clause.maxima[t]) for cr in sr.clauses if cr.clause.applies(t)]
            per_clause = {
                c.id: (None if c.is_bonus else fx.clause_deduction(section, c, cells, points_refs[c.id], top),
                       fx.clause_points(section, c, cells, top))
                for c, top in applying}
            templates[t] = per_clause, fx.section_total(section, applying, cells, points_refs)
        for i in np.flatnonzero(sr.status == OK):
            per_clause, total = templates[self.units[i].type]
            cols[total_col].values[i] = _Formula(total, float(sr.total[i]))
            for cr in sr.clauses:
                if cr.clause.id not in per_clause:
                    continue  # not for this unit type: stays —
                deduction, points = per_clause[cr.clause.id]
                d, p = result_cols[cr.clause.id]
                scored = cr.points[i] is not None
                cols[p].values[i] = _Formula(points, float(cr.points[i]) if scored else NOT_APPLICABLE)
                if deduction is not None:
                    cols[d].values[i] = _Formula(deduction, float(cr.deduction[i]) if scored else "")

    def _input_column(self, f: Field, values: np.ndarray, grey: np.ndarray, group: str) -> _Column:
        """The inputs as given, each distinct value converted and given its style once; — where the
        field is not asked of the unit's type."""
        st = self.styles
        codes, table = _distinct(values, lambda distinct: [_input_cell(f, v) for v in distinct])
        cells = _objects([*table, NOT_FOR_TYPE])  # ... None (blank), then —
        codes[~self.roster.of_types(f.applies_to)] = len(cells) - 1
        roles = [_input_role(v) for v in cells]
        plain, greyed = np.array([st.plain[r] for r in roles]), np.array([st.grey[r] for r in roles])
        return _Column(_field_label(f), codes, cells, np.where(grey, greyed[codes], plain[codes]), group=group)

    def _headers(self, ws, cols: list[_Column]) -> None:
        """Two header rows: each group (unit, result, clause heading) merged across its columns."""
        st = self.styles
        spans: list[tuple[str, int, int]] = []
        for c, col in enumerate(cols):
            if spans and spans[-1][0] == col.group:
                spans[-1] = (col.group, spans[-1][1], c)
            else:
                spans.append((col.group, c, c))
        lines = max(display_width(g) / max(sum(cols[c].width for c in range(a, b + 1)) - 1, 1) for g, a, b in spans)
        ws.set_row(0, min(max(30, 15 * (int(lines) + 1)), 90))
        ws.set_row(1, 45)
        for c, col in enumerate(cols):
            ws.set_column(c, c, col.width)
        for group, a, b in spans:
            if a == b:
                ws.write_string(0, a, group, st[st.group])
            else:
                ws.merge_range(0, a, 0, b, group, st[st.group])
        for c, col in enumerate(cols):
            ws.write_string(1, c, col.label, st[st.header])

    # ------------------------------------------------------------------ 校验问题

    def problems(self) -> None:
        st = self.styles
        ws = self.book.add_worksheet(PROBLEMS_SHEET, FastWorksheet)
        problems = self.inputs.problems
        labels = ["严重程度", "代码", "类别", "文件", "工作表", "单元格", "单位", "条款", "填写的值", "应填写", "说明"]
        rows = [(p.severity, p.code.value, p.code.words, p.file, p.sheet, p.cell, p.unit, p.clause, p.value,
                 p.expected, p.message) for p in problems]
        if not rows:
            rows = [("", "", "", "", "", "", "", "", "", "", "未发现问题")]
        wrap = st.plain["wrap"]
        cols = [_Column.each(label, _objects([text or None for text in clean_texts(r[c] for r in rows)]),
                             np.full(len(rows), wrap))
                for c, label in enumerate(labels)]
        for col, hi in zip(cols, (8, 6, 16, 30, 14, 16, 24, 8, 20, 24, 60)):
            col.width = _width(col, lo=min(hi, 8), hi=hi)
        ws.set_row(0, 24)
        for c, col in enumerate(cols):
            ws.set_column(c, c, col.width)
            ws.write_string(0, c, col.label, st[st.header])
        _grid(ws, 1, cols, len(rows), st.formats)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, len(rows), len(cols) - 1)
        _page(ws, 1)

    # ------------------------------------------------------------------ 说明

    def notes(self) -> None:
        st, rules, res = self.styles, self.rules, self.result
        ws = self.book.add_worksheet(NOTES_SHEET)
        widths = (26, 80, 24, 30)
        for c, w in enumerate(widths):
            ws.set_column(c, c, w)
        wrap = st.plain["wrap"]
        row = 0

        def put(texts: Sequence[str], styles: Sequence[int]) -> None:
            nonlocal row
            lines = max(wrapped_lines(t, w) for t, w in zip(texts, widths))
            if lines > 1:
                ws.set_row(row, min(LINE_HEIGHT * lines + 3, 409))
            for c, (text, style) in enumerate(zip(texts, styles)):
                ws.write_string(row, c, clean_text(text), st[style])
            row += 1

        def heading(text: str, columns: Sequence[str]) -> None:
            nonlocal row
            row += 1
            put([text], [st.title])
            put(columns, [st.header] * len(columns))

        ranked = int(res.complete.sum())
        weights = "，".join(f"{s.name}{fmt(rules.weights[s.id])}" for s in rules.sections)
        put([f"{rules.title} 考评结果说明"], [st.title])
        row += 1
        facts = [
            ("考评细则", rules.title),
            ("规则编号", rules.id),
            ("规则指纹", rules.fingerprint),
            ("规则文件", rules.source),
            ("运行时间", self.run_time.isoformat(sep=" ", timespec="seconds")),
            ("程序版本", f"kaoping_xlsx {self.version}"),
            ("参评单位", f"{len(self.units)}个，已排名{ranked}个，未排名{len(self.units) - ranked}个"),
            ("计算与舍入", f"全程用精确小数计算，不做中间舍入；只在显示和排名时保留{rules.decimals}位小数，"
                           "四舍五入（半数进位，如 89.995 显示为 90.00）。表中分数均为舍入后的值"),
            ("总分", f"所参加各部分得分的加权平均（权重 {weights}），按单位实际参加的部分重新归一"),
            ("名次", "按显示的总分从高到低排名，总分相同名次相同（如1、1、3），同名次按单位名单顺序排列；"
                     f"有部分“{INCOMPLETE}”的单位不排名，列于最后"),
        ]
        if self.formulas:
            facts.append(("公式", "各部分工作表中已计分单位的“本项扣分”“本项得分”“本部分得分”是公式，引用同一行的填报值，"
                                  "改动填报值即重新计算（“不适用”须填文字“不适用”）；公式按浮点数计算，结果已保留10位小数。"
                                  "“汇总”表、名次、等次、降档和计分说明是本程序的计算结果（数值），不随之更新"))
        for key, value in facts:
            put([key, value], [st.label, wrap])

        heading("输入文件", ("文件", "SHA-256", "状态", "提供的部分"))
        names = {s.id: s.name for s in rules.sections}
        for f in self.inputs.files:
            supplied = "、".join(names.get(sid, sid) for sid in f.sections) or "（无）"
            status = "已采用" if f.accepted else f"已拒绝（见“{PROBLEMS_SHEET}”表）"
            put([f.name, f.sha256, status, supplied], [wrap] * 4)
        if not self.inputs.files:
            put(["（无）"], [wrap])

        heading("计分方法", ("部分", "条款及计分方法（每条一行）"))
        for s in rules.sections:
            lines = [f"{c.id} {c.name}（{c.points_words()}）：{c.method()}" for c in s.clauses]
            if s.allow_not_applicable:
                lines.append(f"{NOT_APPLICABLE}：标注不适用的项不计入，本部分按“得分÷适用项满分×{fmt(s.max)}”折算")
            if s.grades:
                lines.append("等次：" + "；".join(g.words() for g in s.grades))
            if s.downgrades:
                lines.append("降档（任一即降档）：" + "；".join(t.words() for t in s.downgrades))
            for line in lines:
                put([f"{s.id} {s.name}（满分{fmt(s.max)}分）", line], [wrap, wrap])
        _page(ws, 1, landscape=False)
