"""The template's machine-readable layout: the contract between the template writer and the reader.

Each section sheet has a hidden key row (row 1) holding every input column's stable key, so the
reader finds columns by key even when someone moves, hides or renames them. A very hidden sheet
records the rules id, the rules fingerprint and the unit list the template was made for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .units import Unit

META_SHEET = "_kaoping"
GUIDE_SHEET = "填表说明"
FORMAT = "kaoping_xlsx/1"

# 0-based rows of a section sheet.
KEY_ROW = 0
GROUP_ROW = 1
LABEL_ROW = 2
FIRST_DATA_ROW = 3
HEADER_ROWS = FIRST_DATA_ROW - KEY_ROW  # data start this many rows below the key row, wherever it was found
KEY_SEARCH_ROWS = 10  # the key row is row 1; look a little further in case rows were inserted above

# Keys of the two fixed columns.
UNIT_KEY = "@unit"
TYPE_KEY = "@type"
UNIT_HEADER = "单位名称"
TYPE_HEADER = "单位类型"
SECTIONS_HEADER = "参加部分"  # the units list's third column, and the meta sheet's

_UNITS_HEADER = (UNIT_HEADER, TYPE_HEADER, SECTIONS_HEADER)
SECTION_SEPARATOR = ","


@dataclass(frozen=True)
class Meta:
    """What a template says about itself."""

    format: str
    rules_id: str
    fingerprint: str
    units: tuple[Unit, ...]


def meta_rows(rules_id: str, fingerprint: str, units: Sequence[Unit]) -> list[list[str]]:
    """The cells of the meta sheet, row by row (all text)."""
    rows = [
        ["format", FORMAT],
        ["rules_id", rules_id],
        ["fingerprint", fingerprint],
        ["units", str(len(units))],
        list(_UNITS_HEADER),
    ]
    rows += [[u.name, u.type, SECTION_SEPARATOR.join(u.sections)] for u in units]
    return rows


def parse_meta(rows: Sequence[Sequence[object]]) -> Meta | None:
    """Read the meta sheet's cells back; None when they are not a template's meta."""
    cells = [["" if v is None else str(v).strip() for v in row] + ["", "", ""] for row in rows]
    head = {row[0]: row[1] for row in cells[:4]}
    if head.get("format") != FORMAT or "rules_id" not in head or "fingerprint" not in head:
        return None
    try:
        count = int(head.get("units", ""))
    except ValueError:
        return None
    body = cells[5:5 + count]
    if len(body) != count:
        return None
    units = tuple(Unit(r[0], r[1], tuple(s for s in r[2].split(SECTION_SEPARATOR) if s)) for r in body)
    return Meta(head["format"], head["rules_id"], head["fingerprint"], units)
