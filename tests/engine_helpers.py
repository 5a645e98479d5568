"""A small builder for engine tests: full-marks rows, so each test row states only what it changes.

``full_marks_row(section, unit_type)`` gives, for every input column of the section, the answer that
earns the clause its full points (and triggers no 降档): 是 on checklists and vetoes, the
non-deducting answer on deductions, counts of 0, one item a month, the baseline for proportional
items, the maximum for rater scores, the best option of a choice, and blank for bonus, reason and
不适用 columns. ``score_one`` scores a single unit on a single section with some of those values
overridden.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Mapping

import pandas as pd

from kaoping_xlsx import kinds
from kaoping_xlsx.engine import ClauseResult, Result, SectionResult, Unit, score
from kaoping_xlsx.rules import (COUNT, NA, SCORE, TEXT, YESNO, Rules, Section, default_rules_path,
                                load_rules, parse_rules)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TOWN = "乡镇"
DEPT = "县直部门"
D = Decimal

RULES = load_rules()


def default_data() -> dict:
    """The shipped rules file as a plain dict (numbers as Decimal, as ``load_rules`` reads them)."""
    return tomllib.loads(default_rules_path().read_text("utf-8-sig"), parse_float=Decimal)


def rules_from(data: Mapping[str, Any], source: str = "test.toml") -> Rules:
    return parse_rules(data, source)


def clause_dict(data: dict, clause_id: str) -> dict:
    """The (mutable) table of one clause inside a rules dict."""
    for section in data["section"]:
        for clause in section["clause"]:
            if clause["id"] == clause_id:
                return clause
    raise KeyError(clause_id)


def section_dict(data: dict, section_id: str) -> dict:
    for section in data["section"]:
        if section["id"] == section_id:
            return section
    raise KeyError(section_id)


def _best(clause, field) -> Any:
    """The value of ``field`` that loses nothing on ``clause``."""
    if isinstance(clause, kinds.Deduction):
        if field.key == clause.zero_key:
            return False
        term = next(t for t in clause.terms if t.key == field.key)
        return 0 if term.type == COUNT else (not term.when)
    if isinstance(clause, kinds.AllOrNothing):
        if field is not clause.fields[0]:
            return False  # extra yes/no (2.6 导致严重后果): only 是 together with a problem found
        return clause.at_least if field.type == COUNT else clause.pass_when
    if isinstance(clause, kinds.MonthlyMinimum):
        return clause.min_each
    if isinstance(clause, kinds.Proportional):
        return clause.baseline
    if isinstance(clause, kinds.Choice):
        return max(clause.points_by_choice, key=clause.points_by_choice.get)
    if isinstance(clause, kinds.Bonus):
        return None
    if field.type == YESNO:  # checklist, veto
        return True
    raise AssertionError(f"no full-marks value for {field.key}")


def full_marks_row(section: Section, unit_type: str) -> dict[str, Any]:
    """Every input column of ``section`` for a unit of ``unit_type``, filled for full marks."""
    row: dict[str, Any] = {}
    by_key = {f.key: c for c in section.clauses for f in c.fields}
    for f in section.fields:
        if f.type == NA or not f.applies(unit_type) or f.type == TEXT:
            row[f.key] = None
        elif f.clause_id is None:  # section-level 降档 count
            row[f.key] = 0
        elif f.type == SCORE and not by_key[f.key].is_bonus:
            row[f.key] = f.maximum(unit_type)
        else:
            row[f.key] = _best(by_key[f.key], f)
    return row


def frame(rows: Mapping[str, Mapping[str, Any]], section: Section) -> pd.DataFrame:
    """A section table as the reader hands it: index unit names, one object column per field key."""
    keys = [f.key for f in section.fields]
    return pd.DataFrame([[r.get(k) for k in keys] for r in rows.values()], index=list(rows), columns=keys,
                        dtype=object)


@dataclass
class One:
    """One unit's view of a scored section (index 0 of every array)."""

    result: Result
    section: SectionResult

    def clause(self, clause_id: str) -> ClauseResult:
        return next(c for c in self.section.clauses if c.clause.id == clause_id)

    def points(self, clause_id: str) -> Decimal | None:
        return self.clause(clause_id).points[0]

    def text(self, clause_id: str) -> str:
        return self.clause(clause_id).text[0]

    def veto(self, clause_id: str) -> bool:
        return bool(self.clause(clause_id).veto[0])

    @property
    def status(self) -> str:
        return self.section.status[0]

    @property
    def total(self) -> Decimal | None:
        return self.section.total[0]

    @property
    def grade(self) -> str:
        return self.section.grade[0]

    @property
    def downgrade(self) -> tuple[str, ...]:
        return self.section.downgrade[0]


def row_with(rules: Rules, unit_type: str, section_id: str, overrides: Mapping[str, Any] | None = None,
             na: tuple[str, ...] = ()) -> dict[str, Any]:
    """Full-marks row with ``overrides``; clauses in ``na`` marked 不适用 with their inputs blank."""
    section = rules.section(section_id)
    row = full_marks_row(section, unit_type)
    for cid in na:
        for f in section.fields:
            if f.clause_id == cid:
                row[f.key] = None
        row[f"{cid}.na"] = True
    row.update(overrides or {})
    return row


def score_one(rules: Rules, unit_type: str, section_id: str, overrides: Mapping[str, Any] | None = None,
              na: tuple[str, ...] = ()) -> One:
    """Score one unit taking part in ``section_id`` only, from full marks plus ``overrides``."""
    section = rules.section(section_id)
    row = row_with(rules, unit_type, section_id, overrides, na)
    unit = Unit("甲单位", unit_type, (section_id,))
    result = score(rules, [unit], {section_id: frame({unit.name: row}, section)})
    return One(result, result.sections[section_id])


def exact(value: Decimal, numerator: int, denominator: int) -> bool:
    """``value`` equals numerator/denominator to the engine's working precision (60 digits)."""
    return abs(Fraction(value) - Fraction(numerator, denominator)) < Fraction(1, 10**50)


MISSING = object()  # a unit taking part in a section whose row no file supplied


def score_many(rules: Rules, units: list[tuple[str, str, Mapping[str, Any]]],
               blocked: Mapping[str, set[str]] | None = None) -> Result:
    """Score several units: ``(name, type, {section id: overrides})``; a section not in the mapping is
    one the unit does not take part in; ``MISSING`` instead of overrides means its row is absent."""
    tables = {}
    for section in rules.sections:
        rows = {name: row_with(rules, utype, section.id, parts[section.id])
                for name, utype, parts in units
                if section.id in parts and parts[section.id] is not MISSING}
        tables[section.id] = frame(rows, section)
    people = [Unit(name, utype, tuple(parts)) for name, utype, parts in units]
    return score(rules, people, tables, blocked)
