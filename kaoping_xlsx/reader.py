"""Read returned templates: find sheets and columns by key, normalise every cell, merge files, report.

Files come opened by :mod:`kaoping_xlsx.opening`: checked by :mod:`kaoping_xlsx.guards`, and parsed by
python-calamine on a worker thread as soon as the guards have passed each sheet. Sheets are found by
name, columns by the hidden key row (so moved, hidden or renamed columns still read), unit rows by the
template's unit list (the meta sheet). Cells are normalised a whole column at a time
(:mod:`kaoping_xlsx.normalize`); problem records are built only for bad cells.

Nothing about content raises: every fault is a :class:`Problem`, collected in one pass, and every unit
row read is either used or named in a problem. Only when no file at all can be used does
:class:`NoUsableInput` stop the command.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from pathlib import Path

import numpy as np
import pandas as pd
from python_calamine import PasswordError

from . import guards
from .errors import NoUsableInput
from .inputs import InputFile, Inputs
from .layout import HEADER_ROWS, KEY_SEARCH_ROWS, TYPE_KEY, UNIT_KEY, Meta, parse_meta
from .normalize import BLANK, ERROR, INVALID, MERGED, OK, OUT_OF_RANGE, CellError, clean, column, display, distinct
from .opening import Calamine, Opened, Source, Unparsable
from .problems import ERROR as SEVERE
from .problems import WARNING, Code, Problem, cell_problem, shown
from .rules import NA, NOT_APPLICABLE, YES, Field, Rules, Section, fmt
from .units import Unit
from .xlref import col_letter, parse_cell, sheet_cell

_CELLS_AT_A_TIME = 1 << 20  # cells copied out of a sheet at once to look at them row by row


def read_books(books: Iterable[Opened], problems: list[Problem], rules: Rules, paths: Sequence[Path]) -> Inputs:
    """Check and merge the opened workbooks (:func:`kaoping_xlsx.opening.read_inputs` opens them)."""
    reader = _Reader(rules, problems)
    for book in books:
        reader.read_book(book)
    if not any(f.accepted for f in reader.files):
        raise NoUsableInput(_nothing_usable(paths, reader.problems))
    return reader.merge()


def _nothing_usable(paths: Sequence[Path], problems: list[Problem]) -> str:
    if not problems:
        given = "、".join(str(p) for p in paths)
        return f"在 {given} 中没有找到 .xlsx 或 .xlsm 文件"
    lines = [p.line() for p in problems[:10]]
    more = f"\n……另有{len(problems) - 10}个问题" if len(problems) > 10 else ""
    return "没有可以使用的填报文件：\n" + "\n".join(lines) + more


def _label(field: Field) -> str:
    return f"{field.clause_id} {field.label}" if field.clause_id else field.label


class _Roster:
    """A template's unit list as arrays, made once per file: each of its sheets finds its rows' units by
    position in the list, and position -1 (a row of no listed unit) reads as None, no type, taking no part."""

    def __init__(self, meta: Meta, rules: Rules):
        self.meta = meta
        self.names = np.array([u.name for u in meta.units] + [None], dtype=object)
        self.index = pd.Index(self.names[:-1], dtype=object)
        self.types = np.array([u.type for u in meta.units] + [None], dtype=object)
        # The units take part in a few sets of sections: each set is asked once per section.
        sets: dict[tuple[str, ...], int] = {}
        taken = np.array([sets.setdefault(u.sections, len(sets)) for u in meta.units] + [-1], dtype=np.int64)
        self.takes = {s.id: np.array([s.id in sections for sections in sets] + [False], dtype=bool)[taken]
                      for s in rules.sections}
        self.of_type = {t: self.types == t for t in rules.unit_types}

    def __len__(self) -> int:
        return len(self.names) - 1

    def positions(self, cells: np.ndarray) -> np.ndarray:
        """Each cell's unit as a position in the list, or -1 (blank or not on the list); spaces and
        full-width characters do not make a listed name unknown."""
        found = self.index.get_indexer(pd.Index(cells, dtype=object))
        rest = np.flatnonzero(found < 0)
        if len(rest):
            found[rest] = [self._by_clean_name.get(text, -1) for text in _cleaned(cells[rest])]
        return found

    @cached_property
    def _by_clean_name(self) -> dict[str, int]:
        """Position by cleaned name, built once for all the file's sheets (any blank row needs it)."""
        return {clean(name): p for p, name in enumerate(self.names[:-1])}


@dataclass
class _Sheet:
    """One section sheet of one accepted file: the first row of each listed unit, normalised."""

    file: str
    sheet: str
    section: Section
    roster: _Roster
    readable: bool = True  # False: no key row, nothing could be read (reported for the sheet)
    units: list[str] = field(default_factory=list)  # unit of each candidate row
    listed: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # its position in the roster
    types: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    rows: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # 0-based sheet rows
    cols: dict[str, int] = field(default_factory=dict)  # field key → 0-based column
    raw: dict[str, np.ndarray] = field(default_factory=dict)
    values: dict[str, np.ndarray] = field(default_factory=dict)
    status: dict[str, np.ndarray] = field(default_factory=dict)
    has_data: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    type_masks: dict[str, np.ndarray] = field(default_factory=dict)  # unit type → rows of that type
    unit_col: int = 0

    @property
    def supplied(self) -> bool:
        return bool(self.has_data.any())

    def release(self) -> None:
        """Merged: from here on only where each unit's row lies is asked (``Inputs.cells``). The cells
        as read and normalised are dropped, several hundred MB at 100,000 units."""
        self.raw, self.values, self.status = {}, {}, {}

    def applies(self, unit_types) -> np.ndarray:
        """Rows whose unit is of one of ``unit_types``."""
        out = np.zeros(len(self.units), bool)
        for t in unit_types:
            out |= self.type_masks.get(t, False)
        return out


class _Reader:
    def __init__(self, rules: Rules, problems: list[Problem]):
        self.rules = rules
        self.problems = problems
        self.files: list[InputFile] = []
        self.sheets: list[_Sheet] = []
        self.units: dict[str, Unit] = {}
        self.unit_source: dict[str, str] = {}
        self.blocked: dict[str, set[str]] = {s.id: set() for s in rules.sections}
        self.unreadable: set[str] = set()  # section ids with a sheet that could not be read
        self.rows_read = 0
        self.rows_used = 0

    # ------------------------------------------------------------------ files

    def read_book(self, book: Opened) -> None:
        """One opened file: refused as the opening found it, or read (and refused as a whole if calamine
        fails on any sheet, as when the whole file was parsed before it was read)."""
        if book.refusal is not None:
            self._refused(book.source, book.digest, book.refusal)
            return
        # Sheets are read while calamine may still fail on a later one: the file is then refused as if
        # nothing of it had been read.
        undo = self._savepoint()
        try:
            sheets = self._read_parsed(book.calamine, book.facts, book.source, book.digest)
            book.calamine.finish()
        except Unparsable as failed:
            undo()
            self._unparsable(book.source, book.digest, failed.error)
            return
        if sheets is None:
            return
        self.sheets.extend(sheets)
        supplied = tuple(s.section.id for s in sheets if s.readable and s.supplied)
        self.files.append(InputFile(book.source.path, book.source.name, book.digest, supplied, True))

    def _read_parsed(self, calamine: Calamine, facts: guards.FileFacts, source: Source,
                     digest: str) -> list[_Sheet] | None:
        """The meta sheet, then each section sheet once calamine has it, then copies of section sheets
        (last: a copy after the section sheets would make the first wait for all); None when the file is
        not a template of these rules (and refused)."""
        meta = self._meta(calamine.meta(), source, digest)
        if meta is None:
            return None
        roster = _Roster(meta, self.rules)
        present = calamine.sheet_names()
        sheets = [self._read_sheet(calamine.rows(section.sheet), facts, source.name, section, roster)
                  for section in self.rules.sections if self._has_sheet(present, source.name, section, roster)]
        self._copies(calamine.heads(), source.name)
        return sheets

    def _savepoint(self) -> Callable[[], None]:
        """An undo for all that reading one file adds to the reader (calamine may fail on a sheet after
        earlier sheets of the file were read)."""
        problems, files, rows_read = len(self.problems), len(self.files), self.rows_read
        units, unit_source, unreadable = dict(self.units), dict(self.unit_source), set(self.unreadable)
        blocked = {sid: set(names) for sid, names in self.blocked.items()}

        def undo() -> None:
            del self.problems[problems:]
            del self.files[files:]
            self.units, self.unit_source, self.unreadable, self.blocked = units, unit_source, unreadable, blocked
            self.rows_read = rows_read

        return undo

    def _refused(self, source: Source, digest: str, refusal: Problem) -> None:
        self.problems.append(refusal)
        self.files.append(InputFile(source.path, source.name, digest, (), False))

    def _unparsable(self, source: Source, digest: str, error: BaseException) -> None:
        """calamine could not read the file (the guards had passed it)."""
        if isinstance(error, PasswordError):
            self._refuse(source, digest, Code.FILE_ENCRYPTED, "已加密（设置了打开密码），请取消密码后重新报送")
        elif type(error).__name__ == "PanicException":
            # a Rust panic (a large negative number in a date-formatted cell) arrives as pyo3's PanicException
            self._refuse(source, digest, Code.FILE_CORRUPT,
                         "中有无法读取的单元格（多为设置了日期或时间格式的单元格填了超出范围的数，如很大的负数）；"
                         "请检查日期格式的单元格，改正后用 Excel 或 WPS 另存为 .xlsx 再报送")
        else:
            self._refuse(source, digest, Code.FILE_CORRUPT,
                         f"已损坏或格式异常，无法读取（{type(error).__name__}）；请用 Excel 或 WPS 打开后另存为 .xlsx 再报送")

    def _refuse(self, source: Source, digest: str, code: Code, words: str) -> None:
        self.problems.append(Problem(file=source.name, code=code, message=f"文件 {source.name} {words}"))
        self.files.append(InputFile(source.path, source.name, digest, (), False))

    def _meta(self, cells: list | None, source: Source, digest: str) -> Meta | None:
        """The template's own description; None (and the file refused) when it is not ours or not this year's."""
        meta = parse_meta(cells) if cells is not None else None
        if meta is not None and not self._sane(meta):
            meta = None
        if meta is None:
            self._refuse(source, digest, Code.FILE_NOT_TEMPLATE,
                         "不是本考评生成的填报模板（找不到模板信息），请使用下发的模板填报")
            return None
        if meta.fingerprint != self.rules.fingerprint:
            self._refuse(source, digest, Code.FILE_OTHER_RULES,
                         f"是按另一版考评规则（{meta.rules_id}，指纹 {meta.fingerprint}）生成的模板，"
                         f"与当前规则（{self.rules.id}，指纹 {self.rules.fingerprint}）不符，请使用本次下发的模板重新填报")
            return None
        if self.units:  # a later file: the units it shares with earlier ones must be the same
            for unit in meta.units:
                known = self.units.get(unit.name)
                if known is not None and known != unit:
                    self._refuse(source, digest, Code.FILE_OTHER_RULES,
                                 f"的单位名单与 {self.unit_source[unit.name]} 不一致（{unit.name} 的类型或参加部分不同），"
                                 "两份文件不是同一次生成的模板，请使用同一份模板填报")
                    return None
        added = {unit.name: unit for unit in meta.units if unit.name not in self.units}
        self.units.update(added)
        self.unit_source.update(dict.fromkeys(added, source.name))
        return meta

    def _sane(self, meta: Meta) -> bool:
        """A meta sheet edited by hand must not smuggle in unknown types, sections or repeated units."""
        section_ids = {s.id for s in self.rules.sections}
        names = [u.name for u in meta.units]
        kinds = {(u.type, u.sections) for u in meta.units}  # a few, each checked once
        return (len(set(names)) == len(names) and all(names)
                and all(t in self.rules.unit_types and set(sections) <= section_ids for t, sections in kinds))

    def _copies(self, heads: Mapping[str, list], file: str) -> None:
        """Extra sheets are not read; one that is a copy of a section sheet is said, since an office
        that filled the copy would otherwise see its data silently ignored."""
        for name, rows in heads.items():
            keys = {str(v).strip() for row in rows for v in row if isinstance(v, str)}
            if UNIT_KEY not in keys:
                continue
            copied = next((s for s in self.rules.sections if keys & {f.key for f in s.fields}), None)
            original = f"“{copied.sheet}”" if copied else "原填报表"
            self.problems.append(Problem(
                file=file, code=Code.SHEET_COPY, sheet=name, severity=WARNING,
                message=f"工作表“{name}”是复制出来的填报表，不会读取；只读取{original}工作表，"
                        "如数据填在了此表，请改填到原表并删除此表"))

    def _has_sheet(self, present: Collection[str], file: str, section: Section, roster: _Roster) -> bool:
        """Whether the section's sheet is there; its absence matters only if some unit takes part."""
        if section.sheet in present:
            return True
        if not roster.takes[section.id].any():
            return False
        self.problems.append(Problem(
            file=file, code=Code.SHEET_MISSING, sheet=section.sheet, severity=WARNING,
            message=f"缺少工作表“{section.sheet}”，本文件未报送{section.name}数据（如由其他文件报送则无需处理）"))
        return False

    # ------------------------------------------------------------------ one sheet

    def _read_sheet(self, cells: list, facts: guards.FileFacts, file: str, section: Section,
                    roster: _Roster) -> _Sheet:
        sheet = _Sheet(file, section.sheet, section, roster)
        sfacts = facts.sheets.get(section.sheet)
        grid = _grid(cells, sfacts)
        key_row = _key_row(grid)
        if key_row is None:
            self._unreadable(sheet, grid)
            return sheet
        keys: dict[str, list[int]] = {}
        for c, value in enumerate(grid[key_row]):
            if isinstance(value, str) and value.strip():
                keys.setdefault(value.strip(), []).append(c)
        sheet.unit_col = keys[UNIT_KEY][0]
        type_col = keys.get(TYPE_KEY, [None])[0]
        first = key_row + HEADER_ROWS
        data = grid[first:]
        missing, doubled = [], []
        for f in section.fields:
            found = keys.get(f.key, [])
            if len(found) == 1:
                sheet.cols[f.key] = found[0]
            elif found:
                doubled.append((f, found))
            else:
                missing.append(f)

        roster = sheet.roster
        listed = roster.positions(data[:, sheet.unit_col])
        names = roster.names[listed]
        taking = roster.takes[section.id][listed]
        taking_rows = np.flatnonzero(taking)
        again = pd.Index(listed[taking_rows]).duplicated()
        candidates, duplicates = taking_rows[~again], taking_rows[again]
        known_rows = np.flatnonzero(listed >= 0)
        last_known = known_rows[-1] if len(known_rows) else -1
        fixed = [c for c in (sheet.unit_col, type_col) if c is not None]

        # Only rows that are not some unit's data are looked at cell by cell.
        outside = np.flatnonzero(~taking)
        filled, beyond_names = _filled(data, outside, fixed)
        for i, beyond in zip(outside[filled], beyond_names[filled]):
            name = names[i]
            r = first + i
            if name is None:
                self.rows_read += 1
                raw = data[i, sheet.unit_col]
                # Below the list, a lone note (填表人：…) is harmless; a named row with inputs is an added unit.
                if not clean(display(raw)) or (i > last_known and not beyond):
                    c = int(np.flatnonzero(data[i] != "")[0])
                    self._add(cell_problem(file, section.sheet, r, c, Code.ROW_OUTSIDE_LIST, severity=WARNING,
                                           value=display(data[i, c]),
                                           message="此行不在单位名单中（没有单位名称或在名单下方），本行内容不会使用；"
                                                   "如是某单位的数据，请填在该单位所在行"))
                else:
                    self._add(cell_problem(file, section.sheet, r, sheet.unit_col, Code.UNIT_UNKNOWN,
                                           value=display(raw), expected="模板名单中的单位名称",
                                           message=f"单位“{shown(display(raw))}”不在模板的单位名单中，本行数据不会使用；"
                                                   "请勿修改单位名称或增加单位"))
            elif beyond:
                self.rows_read += 1
                self._add(cell_problem(file, section.sheet, r, sheet.unit_col, Code.ROW_OUTSIDE_LIST,
                                       severity=WARNING, unit=name, value=name,
                                       message=f"{name}不参加{section.name}考评，本行数据不会使用"))

        idx = candidates.astype(np.int64)
        sheet.listed = listed[idx]
        sheet.units = names[idx].tolist()
        sheet.types = roster.types[sheet.listed]
        sheet.type_masks = {t: of_type[sheet.listed] for t, of_type in roster.of_type.items()}
        sheet.rows = idx + first
        for key, c in sheet.cols.items():
            f = self.rules.fields[key]
            sheet.raw[key] = data[idx, c] if len(idx) else np.empty(0, dtype=object)
            col = column(f, sheet.raw[key], sheet.types)
            sheet.values[key], sheet.status[key] = col.values, col.status
        if sfacts is not None and sfacts.merged and len(idx):
            self._mark_merged(sheet, sfacts.merged, first, len(data))
        sheet.has_data = np.zeros(len(idx), bool)
        for status in sheet.status.values():
            sheet.has_data |= status != BLANK
        seen = dict(zip(listed[candidates].tolist(), candidates)) if len(duplicates) else {}  # each unit's first row
        if not sheet.supplied:
            _, beyond_names = _filled(data, duplicates, fixed)
            for i in duplicates[beyond_names]:
                self._duplicate(sheet, data, i, first, names[i], seen[listed[i]])
            return sheet

        for i in duplicates:
            self._duplicate(sheet, data, i, first, names[i], seen[listed[i]])
        for f, found in doubled:
            self._column_fault(sheet, f, Code.COLUMN_DUPLICATE,
                               f"“{_label(f)}”一列出现了{len(found)}次（{'、'.join(col_letter(c) for c in found)}列的隐藏键相同），"
                               "无法确定用哪一列；请删除复制出来的列")
        for f in missing:
            self._column_fault(sheet, f, Code.COLUMN_MISSING,
                               f"找不到“{_label(f)}”一列（隐藏键 {f.key}），该列可能被删除；请使用原模板填报")
        if type_col is None:
            self._add(Problem(file=file, code=Code.COLUMN_MISSING, sheet=section.sheet, severity=WARNING,
                              message="找不到“单位类型”一列（隐藏键 @type），已按模板名单中的单位类型计分"))
        self.rows_read += int(sheet.has_data.sum())
        if type_col is not None:
            typed = _cleaned(data[idx, type_col])
            for p in np.flatnonzero(sheet.has_data & (typed != sheet.types)):
                self._add(cell_problem(file, section.sheet, int(sheet.rows[p]), type_col, Code.UNIT_TYPE_CHANGED,
                                       severity=WARNING, unit=sheet.units[p], value=display(data[idx[p], type_col]),
                                       expected=sheet.types[p],
                                       message=f"{sheet.units[p]}的单位类型被改为“{shown(typed[p])}”，"
                                               f"已按模板中的“{sheet.types[p]}”计分"))
        if sfacts is not None and sfacts.formulas:
            self._formulas(sheet, sfacts.formulas)
        self._check_cells(sheet)
        return sheet

    def _unreadable(self, sheet: _Sheet, grid: np.ndarray) -> None:
        """No key row: nothing can be placed. Reported once for the sheet if it holds anything below the headers."""
        filled = (grid[HEADER_ROWS:] != "").any(axis=1) if len(grid) > HEADER_ROWS else np.zeros(0, bool)
        if not filled.any():
            sheet.readable = True  # an emptied sheet: simply not supplied
            return
        sheet.readable = False
        self.unreadable.add(sheet.section.id)
        self.rows_read += int(filled.sum())
        for unit in sheet.roster.meta.units:
            if sheet.section.id in unit.sections:
                self._add(Problem(file=sheet.file, code=Code.COLUMN_MISSING, sheet=sheet.sheet, unit=unit.name,
                                  message=f"找不到隐藏的键行（单位名称列的键 {UNIT_KEY}），无法确定各列的含义，"
                                          f"本表数据全部不能使用，{unit.name}的{sheet.section.name}数据不完整；"
                                          "请使用原模板填报，不要删除表头行"))

    def _duplicate(self, sheet: _Sheet, data: np.ndarray, i: int, first: int, unit: str, earlier: int) -> None:
        self.rows_read += 1
        name = data[i, sheet.unit_col]
        self._add(cell_problem(sheet.file, sheet.sheet, first + i, sheet.unit_col, Code.UNIT_DUPLICATE, unit=unit,
                               value=display(name),
                               message=f"{unit}在本表中出现多次（第一次在第{first + earlier + 1}行），"
                                       "无法确定用哪一行；请只保留一行"))

    def _column_fault(self, sheet: _Sheet, f: Field, code: Code, message: str) -> None:
        """A field column that cannot be read: named for every unit that answers it (its data is incomplete),
        or once for the sheet as a warning when no unit in the file does."""
        affected = np.flatnonzero(sheet.applies(f.applies_to) & sheet.has_data)
        for p in affected:
            self._add(Problem(file=sheet.file, code=code, sheet=sheet.sheet, unit=sheet.units[p],
                              clause=f.clause_id or "", message=f"{message}（{sheet.units[p]}的此项无法读取）"))
        if not len(affected):
            self._add(Problem(file=sheet.file, code=code, sheet=sheet.sheet, clause=f.clause_id or "",
                              message=message, severity=WARNING))

    def _mark_merged(self, sheet: _Sheet, merged, first: int, height: int) -> None:
        """Input cells inside merged ranges: their value belongs to no single unit."""
        where = np.full(height, -1, dtype=np.int64)
        where[sheet.rows - first] = np.arange(len(sheet.rows))
        by_col = {c: k for k, c in sheet.cols.items()}
        for r1, c1, r2, c2 in merged:
            rows = where[max(r1 - first, 0):max(min(r2 - first + 1, height), 0)]
            rows = rows[rows >= 0]
            if not len(rows):
                continue
            for c in range(c1, c2 + 1):
                if c in by_col:
                    sheet.status[by_col[c]][rows] = MERGED
                    sheet.values[by_col[c]][rows] = None

    def _formulas(self, sheet: _Sheet, formulas) -> None:
        where = {int(r): p for p, r in enumerate(sheet.rows)}
        by_col = {c: k for k, c in sheet.cols.items()}
        for r, c in sorted(formulas):
            p = where.get(r)
            if p is None or c not in by_col or not sheet.has_data[p]:
                continue
            f = self.rules.fields[by_col[c]]
            seen = display(sheet.raw[f.key][p])
            outcome = (f"已使用其计算结果“{shown(seen)}”" if seen
                       else "但文件中没有保存计算结果（可能从未在Excel或WPS中打开保存过）")
            self._add(cell_problem(sheet.file, sheet.sheet, r, c, Code.VALUE_FORMULA, severity=WARNING,
                                   unit=sheet.units[p], clause=f.clause_id or "", value=seen,
                                   expected=f.expected(sheet.types[p]),
                                   message=f"{sheet.units[p]}的“{_label(f)}”是公式，{outcome}；请改为直接填写数值"))

    # ------------------------------------------------------------------ cell checks

    def _check_cells(self, sheet: _Sheet) -> None:
        """Every per-cell and cross-field rule, as masks over the rows that carry data."""
        section = sheet.section
        data = sheet.has_data
        applies = {f.key: sheet.applies(f.applies_to) for f in section.fields}
        na_marked: dict[str, np.ndarray] = {}
        if section.allow_not_applicable:
            for c in section.clauses:
                key = f"{c.id}.na"
                if key in sheet.cols:
                    na_marked[c.id] = (sheet.values[key] == True) & applies[key]  # noqa: E712
        for f in section.fields:
            if f.key not in sheet.cols:
                continue
            status = sheet.status[f.key]
            here = applies[f.key] & data
            self._cells(sheet, f, data & (status == MERGED), Code.VALUE_MERGED,
                        "{unit}的“{what}”所在单元格被合并，无法确定属于哪个单位；请取消合并后逐行填写")
            wrong_type = data & ~applies[f.key] & (status != BLANK) & (status != MERGED)
            self._cells(sheet, f, wrong_type, Code.VALUE_NOT_FOR_TYPE,
                        "{unit}是{type}，不考核“{what}”，此格应留空（现填写“{seen}”）", expected="留空")
            sheet.values[f.key][wrong_type] = False if f.type == NA else None
            self._cells(sheet, f, here & (status == INVALID), Code.VALUE_INVALID,
                        "{unit}的“{what}”填写了“{seen}”，无法识别；应填{expected}")
            self._cells(sheet, f, here & (status == OUT_OF_RANGE), Code.VALUE_OUT_OF_RANGE,
                        "{unit}的“{what}”填写了“{seen}”，超出范围；应填{expected}")
            self._cells(sheet, f, here & (status == ERROR), Code.VALUE_ERROR,
                        "{unit}的“{what}”是错误值“{seen}”（多为公式出错）；应填{expected}")
            if f.required:
                skipped = na_marked.get(f.clause_id, np.zeros(len(data), bool))
                self._cells(sheet, f, here & (status == BLANK) & ~skipped, Code.VALUE_BLANK,
                            "{unit}的“{what}”未填写；应填{expected}")
        self._cross_checks(sheet, applies, na_marked)

    def _cross_checks(self, sheet: _Sheet, applies: dict, na_marked: dict) -> None:
        section = sheet.section
        data = sheet.has_data
        n = len(data)
        for c in section.clauses:
            if c.id not in na_marked:
                continue
            inputs = [f for f in c.fields if f.key in sheet.cols]
            filled = np.zeros(n, bool)
            for f in inputs:
                filled |= sheet.status[f.key] != BLANK
            rows = np.flatnonzero(data & na_marked[c.id] & filled)
            na_field = section.na_field(c)
            for p in rows:
                which = "、".join(f"“{f.label}”" for f in inputs if sheet.status[f.key][p] != BLANK)
                self._add(self._at(sheet, na_field, p, Code.NA_WITH_INPUT,
                                   f"{sheet.units[p]}的“{c.id} {c.name}”标为{NOT_APPLICABLE}，但又填写了{which}；"
                                   f"{NOT_APPLICABLE}的项目不应再填写其他内容"))
        scored = [c for c in section.clauses if not c.is_bonus]
        if section.allow_not_applicable and all(c.id in na_marked for c in scored):
            all_na = data.copy()
            any_applies = np.zeros(n, bool)
            for c in scored:
                takes = sheet.applies(c.applies_to)
                all_na &= na_marked[c.id] | ~takes
                any_applies |= takes
            for p in np.flatnonzero(all_na & any_applies):
                self._add(cell_problem(sheet.file, sheet.sheet, int(sheet.rows[p]), sheet.unit_col, Code.NA_ALL,
                                       unit=sheet.units[p], value=NOT_APPLICABLE, expected="至少一项适用",
                                       message=f"{sheet.units[p]}的{section.name}各项都标为{NOT_APPLICABLE}，"
                                               "至少应有一项适用，否则无法计分"))
        for f in section.fields:
            if f.key not in sheet.cols:
                continue
            ok = data & applies[f.key] & (sheet.status[f.key] == OK)
            if f.not_more_than and f.not_more_than in sheet.cols:
                other = self.rules.fields[f.not_more_than]
                both = ok & (sheet.status[other.key] == OK)
                for p in _greater(both, sheet.values[f.key], sheet.values[other.key]):
                    self._add(self._at(sheet, f, p, Code.EXCEEDS_OTHER,
                                       f"{sheet.units[p]}的“{_label(f)}”（{sheet.values[f.key][p]}）"
                                       f"大于“{_label(other)}”（{sheet.values[other.key][p]}）；应不超过{_label(other)}",
                                       expected=f"不超过{sheet.values[other.key][p]}的整数"))
            if f.only_if and f.only_if[0] in sheet.cols:
                other = self.rules.fields[f.only_if[0]]
                clash = ok & (sheet.values[f.key] == True)  # noqa: E712
                clash &= (sheet.status[other.key] == OK) & (sheet.values[other.key] == False)  # noqa: E712
                for p in np.flatnonzero(clash):
                    self._add(self._at(sheet, f, p, Code.ONLY_IF,
                                       f"{sheet.units[p]}的“{_label(f)}”填了“{YES}”，但“{_label(other)}”为“否”；"
                                       f"只有“{other.label}”为“{YES}”时才能填“{YES}”", expected="否"))
            if f.reason_for and f.reason_for in sheet.cols:
                points = self.rules.fields[f.reason_for]
                unexplained = data & applies[f.key] & (sheet.status[f.key] == BLANK)
                for p in _greater(unexplained & (sheet.status[points.key] == OK), sheet.values[points.key], 0):
                    self._add(self._at(sheet, f, p, Code.BONUS_NO_REASON,
                                       f"{sheet.units[p]}的“{_label(points)}”为{fmt(sheet.values[points.key][p])}分，"
                                       "但没有填写加分理由；有加分必须写明理由", expected="加分理由"))

    def _cells(self, sheet: _Sheet, f: Field, mask: np.ndarray, code: Code, template: str,
               expected: str | None = None) -> None:
        for p in np.flatnonzero(mask):
            seen = display(sheet.raw[f.key][p])
            words = expected or f.expected(sheet.types[p])
            message = template.format(unit=sheet.units[p], what=_label(f), seen=shown(seen), expected=words,
                                      type=sheet.types[p])
            self._add(self._at(sheet, f, p, code, message, expected=words))

    def _at(self, sheet: _Sheet, f: Field, p: int, code: Code, message: str, *, expected: str | None = None,
            severity: str = SEVERE) -> Problem:
        return cell_problem(sheet.file, sheet.sheet, int(sheet.rows[p]), sheet.cols[f.key], code, message,
                            unit=sheet.units[p], clause=f.clause_id or "", value=display(sheet.raw[f.key][p]),
                            expected=expected or f.expected(sheet.types[p]), severity=severity)

    def _add(self, problem: Problem) -> None:
        """Record a problem; an error about a unit's data makes that unit's section incomplete."""
        self.problems.append(problem)
        if problem.is_error and problem.unit and problem.sheet:
            section = self.rules.section_by_sheet(problem.sheet)
            if section is not None:
                self.blocked[section.id].add(problem.unit)

    # ------------------------------------------------------------------ merging

    def merge(self) -> Inputs:
        tables: dict[str, pd.DataFrame] = {}
        sources = Sources()
        units = tuple(self.units.values())
        unit_names = pd.Index(list(self.units), dtype=object)
        # Per template, where each of its units stands in the merged list (files may list other units).
        placed = {roster: unit_names.get_indexer(roster.index)
                  for roster in dict.fromkeys(s.roster for s in self.sheets)}
        for section in self.rules.sections:
            sheets = [s for s in self.sheets if s.section.id == section.id and s.readable]
            row_units = [placed[s.roster][s.listed] for s in sheets]
            tables[section.id] = self._merge_section(section, sheets, row_units, units, unit_names, sources)
        for sheet in self.sheets:
            sheet.release()
        problems = sorted(self.problems, key=self._order())
        return Inputs(
            rules=self.rules, units=units, tables=tables,
            blocked={sid: frozenset(names) for sid, names in self.blocked.items()},
            problems=tuple(problems), files=tuple(self.files), cells=sources,
            rows_read=self.rows_read, rows_used=self.rows_used,
        )

    def _merge_section(self, section: Section, sheets: list[_Sheet], row_units: list[np.ndarray],
                       units: tuple[Unit, ...], unit_names: pd.Index, sources: "Sources") -> pd.DataFrame:
        """First file supplying a unit wins; a later file with other values is a conflict, equal values are fine.
        ``row_units``: per sheet, each row's unit as its position in ``units`` (and ``unit_names``)."""
        chosen_sheet = np.full(len(units), -1, dtype=np.int64)  # per unit: index in sheets, or -1
        chosen_row = np.full(len(units), -1, dtype=np.int64)  # and the row position in that sheet
        for s, sheet in enumerate(sheets):
            rows = np.flatnonzero(sheet.has_data)
            where = row_units[s][rows]
            later = chosen_sheet[where] >= 0
            for u, p in zip(where[later], rows[later]):
                first = (sheets[chosen_sheet[u]], int(chosen_row[u]))
                self.rows_used += self._same(section, first, (sheet, int(p)))
            chosen_sheet[where[~later]] = s
            chosen_row[where[~later]] = rows[~later]
            self.rows_used += int((~later).sum())
        self._not_supplied(section, sheets, units, chosen_sheet)

        order = np.flatnonzero(chosen_sheet >= 0)
        picked_sheet, picked_row = chosen_sheet[order], chosen_row[order]
        supplied = unit_names[order].tolist()
        sources.add(section.id, sheets, supplied, picked_sheet, picked_row)
        columns = {f.key: np.full(len(order), None, dtype=object) for f in section.fields}
        for s, sheet in enumerate(sheets):
            rows = np.flatnonzero(picked_sheet == s)
            if len(rows) == len(order):  # every unit from this sheet, as a rule: its columns taken whole
                taken = slice(None) if np.array_equal(picked_row, np.arange(len(sheet.units))) else picked_row
                for key, values in sheet.values.items():
                    columns[key] = values[taken]
                continue
            for key, values in sheet.values.items():
                columns[key][rows] = values[picked_row[rows]]
        return pd.DataFrame(columns, index=pd.Index(supplied, dtype=object, name="单位"), dtype=object)

    def _same(self, section: Section, first: tuple[_Sheet, int], later: tuple[_Sheet, int]) -> bool:
        """Whether a later file's row equals the one used. Two valid values that differ are a conflict
        naming both cells; a blank or rejected cell is not, having its own problem already."""
        (a, pa), (b, pb) = first, later
        identical = True
        for f in section.fields:
            if f.key not in a.values or f.key not in b.values:
                continue
            va, vb = a.values[f.key][pa], b.values[f.key][pb]
            sa, sb = a.status[f.key][pa], b.status[f.key][pb]
            if sa == sb and va == vb and type(va) is type(vb):
                continue
            identical = False
            settled = (OK, BLANK) if f.type == NA or not f.required else (OK,)
            if sa not in settled or sb not in settled:
                continue
            there = sheet_cell(a.sheet, int(a.rows[pa]), a.cols[f.key])
            self._add(cell_problem(
                b.file, b.sheet, int(b.rows[pb]), b.cols[f.key], Code.CONFLICT, unit=b.units[pb],
                clause=f.clause_id or "", value=display(b.raw[f.key][pb]), expected=display(a.raw[f.key][pa]),
                message=f"{b.units[pb]}的“{_label(f)}”与文件 {a.file} {there} 不一致（本文件为“{shown(display(b.raw[f.key][pb]))}”，"
                        f"该文件为“{shown(display(a.raw[f.key][pa]))}”）；请核对后只报送正确的一份"))
        if not identical:
            self.blocked[section.id].add(b.units[pb])
        return identical

    def _not_supplied(self, section: Section, sheets: list[_Sheet], units: tuple[Unit, ...],
                      chosen: np.ndarray) -> None:
        """A unit taking part that no file supplies: blank cells where a file returned the sheet with its
        row left empty, UNIT_MISSING where the row was deleted, else the section was not returned."""
        missing = [units[u] for u in np.flatnonzero(chosen < 0) if section.id in units[u].sections]
        if not missing:
            return
        returned = [s for s in sheets if s.supplied]
        wanted = pd.Index([unit.name for unit in missing], dtype=object)
        # Per sheet and missing unit: whether its template lists the unit for this section, and the unit's row.
        listing, rows = [], []
        for sheet in returned:
            roster = sheet.roster
            found = roster.index.get_indexer(wanted)
            row_of = np.full(len(roster) + 1, -1, dtype=np.int64)  # the last slot stays -1: not listed
            row_of[sheet.listed] = np.arange(len(sheet.listed))
            listing.append(roster.takes[section.id][found])
            rows.append(row_of[found])
        for m, unit in enumerate(missing):
            self.blocked[section.id].add(unit.name)
            explained = section.id in self.unreadable
            for sheet, lists, row in zip(returned, listing, rows):
                if not lists[m]:
                    continue
                explained = True
                p = int(row[m])
                if p < 0:
                    self._add(Problem(file=sheet.file, code=Code.UNIT_MISSING, sheet=sheet.sheet, unit=unit.name,
                                      expected=unit.name,
                                      message=f"本表缺少{unit.name}这一行（可能被删除）；该单位参加{section.name}考评，"
                                              "请恢复该行并填写"))
                    continue
                self.rows_read += 1
                for f in section.fields:
                    if f.required and f.applies(unit.type) and f.key in sheet.cols:
                        self._add(self._at(sheet, f, p, Code.VALUE_BLANK, f"{unit.name}的“{_label(f)}”未填写；"
                                                                           f"应填{f.expected(unit.type)}"))
            if not explained:
                self._add(Problem(file="", code=Code.SECTION_NOT_RETURNED, sheet=section.sheet, unit=unit.name,
                                  message=f"没有任何文件报送{unit.name}的{section.name}数据（{section.office or '相关科室'}"
                                          f"负责的“{section.sheet}”表），该部分数据不完整"))

    def _order(self):
        """Problems in reading order: file, sheet (workbook order of sections), row, column, code."""
        files = {f.name: i for i, f in enumerate(self.files)}
        sheets = {s.sheet: i for i, s in enumerate(self.rules.sections)}
        units = {name: i for i, name in enumerate(self.units)}

        def key(p: Problem) -> tuple:
            row = col = -1
            if p.cell:
                row, col = parse_cell(p.cell.rsplit("!", 1)[1])
            sheet = sheets.get(p.sheet, len(sheets) if p.sheet else -1)  # whole file first, extra sheets last
            return (p.file == "", files.get(p.file, len(files)), p.file, sheet, p.sheet,
                    row, col, units.get(p.unit, len(units)), p.code.value, p.unit, p.message)

        return key


def _greater(mask: np.ndarray, left: np.ndarray, right) -> np.ndarray:
    """Positions where ``mask`` holds and ``left > right`` (object arrays compared only under the mask,
    where both sides hold valid values)."""
    out = mask.copy()
    rhs = right[mask] if isinstance(right, np.ndarray) else right
    out[mask] = np.asarray(left[mask] > rhs, dtype=bool)
    return np.flatnonzero(out)


def _grid(rows: list[list], facts: guards.SheetFacts | None) -> np.ndarray:
    """The sheet as a dense 2-D object array from A1, wide and tall enough for every cell guards saw;
    error cells (which calamine returns as empty strings) put back as :class:`CellError`."""
    height = max(len(rows), (facts.max_row + 1) if facts else 0)
    widths = set(map(len, rows))
    width = max(max(widths, default=0), (facts.max_col + 1) if facts else 0)
    if len(widths) == 1 and rows and rows[0]:
        dense = np.fromiter(chain.from_iterable(rows), dtype=object, count=len(rows) * len(rows[0]))
        dense = dense.reshape(len(rows), len(rows[0]))
        if dense.shape == (height, width):  # as a rule: what calamine read is what the guards saw
            grid = dense
        else:
            grid = np.full((height, width), "", dtype=object)
            grid[:len(rows), :len(rows[0])] = dense
    else:
        grid = np.full((height, width), "", dtype=object)
        for r, row in enumerate(rows):
            if row:
                grid[r, :len(row)] = row
    if facts is not None:
        for (r, c), text in facts.errors.items():
            grid[r, c] = CellError(text)
    return grid


def _key_row(grid: np.ndarray) -> int | None:
    for r in range(min(len(grid), KEY_SEARCH_ROWS)):
        for value in grid[r]:
            if isinstance(value, str) and value.strip() == UNIT_KEY:
                return r
    return None


def _cleaned(cells: np.ndarray) -> np.ndarray:
    """Cells as cleaned text (each distinct value cleaned once)."""
    if not len(cells):
        return np.empty(0, dtype=object)
    codes, uniques = distinct(np.asarray(cells, dtype=object))
    found = np.empty(len(uniques), dtype=object)
    found[:] = [clean(display(u)) for u in uniques]
    return found[codes]


def _filled(data: np.ndarray, rows: np.ndarray, fixed: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``rows``: whether any cell is filled, and whether any is besides the ``fixed`` columns (name
    and type). Rows are copied out a block at a time: there may be millions of cells below the list."""
    filled, beyond = np.zeros(len(rows), bool), np.zeros(len(rows), bool)
    step = max(1, _CELLS_AT_A_TIME // max(data.shape[1], 1))
    for start in range(0, len(rows), step):
        block = slice(start, start + step)
        nonblank = data[rows[block]] != ""
        filled[block] = nonblank.any(axis=1)
        nonblank[:, fixed] = False
        beyond[block] = nonblank.any(axis=1)
    return filled, beyond


class Sources(Mapping):
    """(section id, unit, field key) → (file name, ``'放管服'!F12``) of every value used, computed on
    demand so that 100,000 units do not cost millions of stored strings."""

    def __init__(self) -> None:
        self._sheets: dict[str, list[_Sheet]] = {}
        # section → its units, and each one's sheet index and row position; as a dict only once asked
        self._picked: dict[str, tuple[list[str], np.ndarray, np.ndarray]] = {}
        self._rows: dict[str, dict[str, tuple[int, int]]] = {}  # section → unit → (sheet index, position)

    def add(self, section_id: str, sheets: list[_Sheet], units: list[str], sheet_index: np.ndarray,
            positions: np.ndarray) -> None:
        self._sheets[section_id] = sheets
        self._picked[section_id] = (units, sheet_index, positions)

    def _rows_of(self, section_id: str) -> dict[str, tuple[int, int]]:
        rows = self._rows.get(section_id)
        if rows is None:
            units, sheet_index, positions = self._picked[section_id]
            rows = self._rows[section_id] = dict(zip(units, zip(sheet_index.tolist(), positions.tolist())))
        return rows

    def __getitem__(self, key: tuple[str, str, str]) -> tuple[str, str]:
        section_id, unit, field_key = key
        s, p = self._rows_of(section_id)[unit]
        sheet = self._sheets[section_id][s]
        if field_key not in sheet.cols:
            raise KeyError(key)
        return sheet.file, sheet_cell(sheet.sheet, int(sheet.rows[p]), sheet.cols[field_key])

    def __iter__(self) -> Iterator[tuple[str, str, str]]:
        for section_id in self._picked:
            for unit, (s, _) in self._rows_of(section_id).items():
                for field_key in self._sheets[section_id][s].cols:
                    yield section_id, unit, field_key

    def __len__(self) -> int:
        return sum(len(self._sheets[sid][s].cols) for sid in self._picked for s, _ in self._rows_of(sid).values())
