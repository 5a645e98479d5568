"""Filled template workbooks for tests, built straight from the layout contract (kaoping_xlsx.layout).

Independent of the template writer on purpose: tests of the reader must not pass or fail with it.
A workbook made here has, per section sheet, the hidden key row (``@unit``, ``@type``, field keys),
a group row, a label row and one row per unit taking part, plus the very hidden meta sheet.

Typical use::

    values = valid_values(RULES, UNITS)                  # every cell filled with a valid value
    values[("2", "长白镇", "2.3.late")] = "三"           # (section id, unit, field key) → cell value
    make_filled(tmp / "放管服.xlsx", RULES, UNITS, values)
    cell_of(RULES, UNITS, "2", "长白镇", "2.3.late")    # "'放管服'!H5": where that value went

A value of None leaves the cell empty. Strings in openpyxl's error list (``"#N/A"``) become error
cells, strings starting with ``=`` formulas (without a cached value), dates date cells.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import openpyxl

from kaoping_xlsx.engine import Unit
from kaoping_xlsx.layout import (FIRST_DATA_ROW, GROUP_ROW, KEY_ROW, LABEL_ROW, META_SHEET, TYPE_HEADER, TYPE_KEY,
                                 UNIT_HEADER, UNIT_KEY, meta_rows)
from kaoping_xlsx.rules import CHOICE, COUNT, SCORE, YESNO, Rules
from kaoping_xlsx.xlref import sheet_cell

ALL = ("1", "2", "3", "4", "5")

#: Sample units: 乡镇 and 县直部门 from the spec; 县审计局 does not take part in 信用体系 (section 4).
UNITS: tuple[Unit, ...] = (
    Unit("长白镇", "乡镇", ALL),
    Unit("八道沟镇", "乡镇", ALL),
    Unit("金华乡", "乡镇", ALL),
    Unit("县发展和改革局", "县直部门", ALL),
    Unit("县教育局", "县直部门", ALL),
    Unit("县审计局", "县直部门", ("1", "2", "3", "5")),
)

Values = Mapping[tuple[str, str, str], object]


def valid_values(rules: Rules, units: Sequence[Unit] = UNITS, sections: Iterable[str] | None = None) -> dict:
    """A complete, valid fill: 否 for yes/no, 1 for counts, each type's maximum for scores, the first
    choice; 不适用 columns, bonus points and reasons blank. ``sections`` limits it to those section ids."""
    wanted = set(sections) if sections is not None else {s.id for s in rules.sections}
    values = {}
    for section in rules.sections:
        if section.id not in wanted:
            continue
        for unit in units:
            if section.id not in unit.sections:
                continue
            for f in section.fields:
                if not f.applies(unit.type) or not f.required:
                    continue
                if f.type == YESNO:
                    values[(section.id, unit.name, f.key)] = "否"
                elif f.type == COUNT:
                    values[(section.id, unit.name, f.key)] = 1
                elif f.type == SCORE:
                    values[(section.id, unit.name, f.key)] = int(f.maximum(unit.type))
                elif f.type == CHOICE:
                    values[(section.id, unit.name, f.key)] = f.choices[0]
    return values


def columns_of(rules: Rules, section_id: str) -> list[str]:
    """The template's column order for a section: @unit, @type, then every field key."""
    return [UNIT_KEY, TYPE_KEY] + [f.key for f in rules.section(section_id).fields]


def cell_of(rules: Rules, units: Sequence[Unit], section_id: str, unit: str, key: str,
            columns: Mapping[str, Sequence[str]] | None = None) -> str:
    """Where :func:`make_filled` put a unit's value: ``'放管服'!F5``."""
    section = rules.section(section_id)
    order = list((columns or {}).get(section_id) or columns_of(rules, section_id))
    taking = [u.name for u in units if section_id in u.sections]
    return sheet_cell(section.sheet, FIRST_DATA_ROW + taking.index(unit), order.index(key))


def make_filled(path: Path, rules: Rules, units: Sequence[Unit] = UNITS, values: Values | None = None, *,
                omit_sheets: Iterable[str] = (), columns: Mapping[str, Sequence[str]] | None = None,
                fingerprint: str | None = None, meta: bool = True) -> Path:
    """Write a filled template.

    ``omit_sheets``: section ids whose sheet is left out. ``columns``: per section id, the key order of
    its columns (leave a key out to drop its column). ``fingerprint``: write another rules fingerprint.
    ``meta=False``: no meta sheet (not a template at all).
    """
    values = values if values is not None else valid_values(rules, units)
    book = openpyxl.Workbook()
    book.remove(book.active)
    labels = {f.key: f.label for s in rules.sections for f in s.fields}
    labels.update({UNIT_KEY: UNIT_HEADER, TYPE_KEY: TYPE_HEADER})
    for section in rules.sections:
        if section.id in set(omit_sheets):
            continue
        ws = book.create_sheet(section.sheet)
        order = list((columns or {}).get(section.id) or columns_of(rules, section.id))
        fields = {f.key: f for f in section.fields}
        for c, key in enumerate(order, 1):
            ws.cell(KEY_ROW + 1, c, key)
            ws.cell(LABEL_ROW + 1, c, labels.get(key, key))
            if key in fields and fields[key].clause_id:
                ws.cell(GROUP_ROW + 1, c, fields[key].clause_id)
        ws.row_dimensions[KEY_ROW + 1].hidden = True
        taking = [u for u in units if section.id in u.sections]
        for r, unit in enumerate(taking, FIRST_DATA_ROW + 1):
            for c, key in enumerate(order, 1):
                if key == UNIT_KEY:
                    ws.cell(r, c, unit.name)
                elif key == TYPE_KEY:
                    ws.cell(r, c, unit.type)
                else:
                    value = values.get((section.id, unit.name, key))
                    if value is not None:
                        ws.cell(r, c, value)
    if meta:
        ws = book.create_sheet(META_SHEET)
        for row in meta_rows(rules.id, fingerprint or rules.fingerprint, units):
            ws.append(row)
        ws.sheet_state = "veryHidden"
    book.save(path)
    return path


def edit(path: Path, change: Callable[[openpyxl.Workbook], None]) -> Path:
    """Open a workbook with openpyxl, let ``change`` alter it, save it in place (to fake office edits)."""
    book = openpyxl.load_workbook(path)
    change(book)
    book.save(path)
    return path
