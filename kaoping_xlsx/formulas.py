"""Live Excel formulas for the result workbook (``kaoping score --formulas``), one builder per rule kind.

A builder turns a clause (its parameters, never its clause number) into formula text over the input
cells of one unit row, so an auditor sees how a score came about and a leader can try "what if". The
text is a template: ``ROW`` stands for the row number, so the report builds one template per clause and
unit type and only substitutes the row for each unit. Only functions Excel and LibreOffice both know
(IF, MAX, MIN, SUM, COUNTIF, ROUND, N, NA); no LET, LAMBDA or dynamic arrays.

Excel computes in binary floating point where the engine is exact. Arithmetic on entered decimals
(rater sums, weighted averages, what a clause lost), on fractional constants of the rules (2.5 a time),
quotients (不适用 rescaling) and section totals is wrapped in ``ROUND(…, 10)``, so that an exact 0.155
(15 − 14.845) is not stored as 0.15499… and shown one cent lower after half-up rounding. Integer
arithmetic on counts is exact in floating point and stays unwrapped, easier to read.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Callable, Mapping, Sequence

from .rules import COUNT, NO, NOT_APPLICABLE, YES, Clause, Section, fmt
from .xlref import col_letter

ROW = "\x00"  # the unit's 1-based row number; cannot occur in cell text, so replacing it is safe
GUARD_DIGITS = 10  # ROUND(…, 10): far below display precision, far above float noise


class Cells:
    """Where one unit row's cells sit: field key (or any name) → 0-based column, as template refs."""

    def __init__(self, columns: Mapping[str, int]):
        self.columns = columns

    def __getitem__(self, key: str) -> str:
        return col_letter(self.columns[key]) + ROW

    def span(self, keys: Sequence[str]) -> str:
        """``G{row}:L{row}`` over adjacent columns (the report writes a clause's inputs side by side)."""
        cols = [self.columns[k] for k in keys]
        if cols != list(range(cols[0], cols[0] + len(cols))):
            raise ValueError(f"input columns are not adjacent: {list(keys)}")
        first, last = col_letter(cols[0]) + ROW, col_letter(cols[-1]) + ROW
        return first if first == last else f"{first}:{last}"


def text(value: str) -> str:
    """A string constant in a formula, quotes doubled."""
    return '"' + value.replace('"', '""') + '"'


def guard(formula: str) -> str:
    return f"ROUND({formula},{GUARD_DIGITS})"


def guard_if_fractional(formula: str, *constants: Decimal) -> str:
    """Guard a formula whose constants from the rules are not all integers."""
    return guard(formula) if any(c != c.to_integral_value() for c in constants) else formula


Builder = Callable[[Clause, Cells, Decimal], str]
BUILDERS: dict[str, Builder] = {}


def builds(kind: str):
    """Register the formula builder of a rule kind (the ``kind`` string of the rules file)."""

    def register(fn: Builder) -> Builder:
        BUILDERS[kind] = fn
        return fn

    return register


def points(clause: Clause, cells: Cells, top: Decimal) -> str:
    """The clause's 本项得分 formula (without ``=``) for a unit whose clause maximum is ``top``."""
    try:
        build = BUILDERS[clause.kind]
    except KeyError:
        raise ValueError(f"no formula builder for rule kind {clause.kind!r}") from None
    return build(clause, cells, top)


def _itemised(c, cells: Cells, top: Decimal, failing: str) -> str:
    """Each item matching the COUNTIF criterion ``failing`` deducts ``deduct_each``, floor 0 (as kinds._itemised)."""
    count = f"COUNTIF({cells.span([f.key for f in c.fields])},{failing})"
    return guard_if_fractional(f"MAX(0,{fmt(top)}-{fmt(c.deduct_each)}*{count})", top, c.deduct_each)


@builds("checklist")
def _checklist(c, cells: Cells, top: Decimal) -> str:
    return _itemised(c, cells, top, text(NO))


@builds("veto")
def _veto(c, cells: Cells, top: Decimal) -> str:
    return f"IF({cells[c.fields[0].key]}={text(YES)},{fmt(top)},0)"


@builds("deduction")
def _deduction(c, cells: Cells, top: Decimal) -> str:
    parts = []
    for t in c.terms:
        ref = cells[t.key]
        if t.type == COUNT:
            parts.append(f"{fmt(t.per)}*{ref}")
        else:
            parts.append(f"IF({ref}={text(YES if t.when else NO)},{fmt(t.per)},0)")
    formula = guard_if_fractional(f"MAX(0,{fmt(top)}-" + "-".join(parts) + ")", top, *(t.per for t in c.terms))
    if c.zero_key:
        formula = f"IF({cells[c.zero_key]}={text(YES)},0,{formula})"
    return formula


@builds("all_or_nothing")
def _all_or_nothing(c, cells: Cells, top: Decimal) -> str:
    f = c.fields[0]
    test = f"{cells[f.key]}>={c.at_least}" if f.type == COUNT else f"{cells[f.key]}={text(YES if c.pass_when else NO)}"
    return f"IF({test},{fmt(top)},0)"


@builds("monthly_minimum")
def _monthly_minimum(c, cells: Cells, top: Decimal) -> str:
    return _itemised(c, cells, top, f'"<{c.min_each}"')


@builds("choice")
def _choice(c, cells: Cells, top: Decimal) -> str:
    """An IF chain over the options; an answer that is none of them gives #N/A, never a silent score."""
    ref = cells[c.fields[0].key]
    formula = "NA()"
    for label, p in reversed(list(c.points_by_choice.items())):
        formula = f"IF({ref}={text(label)},{fmt(p)},{formula})"
    return formula


@builds("proportional")
def _proportional(c, cells: Cells, top: Decimal) -> str:
    formula = guard_if_fractional(f"MAX(0,{fmt(top)}+{fmt(c.per)}*({cells[c.fields[0].key]}-{c.baseline}))",
                                  top, c.per)
    return f"MIN({fmt(c.cap)},{formula})" if c.cap is not None else formula


@builds("rater")
def _rater(c, cells: Cells, top: Decimal) -> str:
    if len(c.fields) == 1:
        return cells[c.fields[0].key]
    return guard(f"SUM({cells.span([f.key for f in c.fields])})")


@builds("weighted_raters")
def _weighted_raters(c, cells: Cells, top: Decimal) -> str:
    average = "+".join(f"{fmt(w)}*{cells[f.key]}" for f, w in zip(c.fields, c.weights))
    return guard(f"({average})*{fmt(top)}/{fmt(c.scale)}")


@builds("bonus")
def _bonus(c, cells: Cells, top: Decimal) -> str:
    # N(): a blank bonus cell is 0 (MIN alone would skip a blank reference and return the cap).
    return f"MIN({fmt(c.cap)},N({cells[c.fields[0].key]}))"


def marked(na_ref: str) -> str:
    return f"{na_ref}={text(NOT_APPLICABLE)}"


def clause_points(section: Section, clause: Clause, cells: Cells, top: Decimal) -> str:
    """本项得分: the kind's formula, or 不适用 when the section allows it and the unit marked the clause."""
    formula = points(clause, cells, top)
    if section.allow_not_applicable:
        return f"IF({marked(cells[section.na_field(clause).key])},{text(NOT_APPLICABLE)},{formula})"
    return formula


def clause_deduction(section: Section, clause: Clause, cells: Cells, points_ref: str, top: Decimal) -> str:
    """本项扣分: what the clause lost against its maximum (blank when marked 不适用)."""
    formula = guard(f"MAX(0,{fmt(top)}-{points_ref})")
    if section.allow_not_applicable:
        return f'IF({marked(cells[section.na_field(clause).key])},"",{formula})'
    return formula


def section_total(section: Section, clauses: Sequence[tuple[Clause, Decimal]], cells: Cells,
                  points_refs: Mapping[str, str]) -> str:
    """本部分得分 over the clauses that apply to the unit's type (with their maxima): the sum of points;
    where 不适用 is allowed, earned ÷ applicable maximum × section maximum, bonus added after."""
    scored = [points_refs[c.id] for c, _ in clauses if not c.is_bonus]
    bonus = [points_refs[c.id] for c, _ in clauses if c.is_bonus]
    if not section.allow_not_applicable:
        return guard(f"SUM({','.join(scored + bonus)})")
    applicable = "+".join(f"({cells[section.na_field(c).key]}<>{text(NOT_APPLICABLE)})*{fmt(top)}"
                          for c, top in clauses if not c.is_bonus)
    formula = f"SUM({','.join(scored)})*{fmt(section.max)}/({applicable})"
    if bonus:
        formula += f"+SUM({','.join(bonus)})"
    return guard(formula)
