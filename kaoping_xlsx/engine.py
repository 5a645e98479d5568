"""The scoring engine: pure, column-wise, no file I/O.

Input is one table per section (rows: units, columns: field keys, values normalised by the reader),
output is per unit and clause: points, deduction, failed veto, explanation; section totals, grades,
降档 reasons, ranks and the overall weighted total. Arithmetic is exact (Decimal at high precision);
rounding happens only for display and ranking (:func:`shown`, through :func:`rounded`).
"""

from __future__ import annotations

import decimal
import operator
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .normalize import first_appearances
from .rules import NA, Clause, Rules, Section, Trigger, fmt
from .units import Unit

ZERO = Decimal(0)
OK = "ok"
INCOMPLETE = "数据不完整"
NOT_ASSESSED = "不参加"
NOT_FOR_TYPE = "—"
_PRECISION = 60


@dataclass(frozen=True)
class ClauseResult:
    """One clause for every unit (arrays aligned with the unit list; None where not scored)."""

    clause: Clause
    points: np.ndarray  # Decimal or None
    deduction: np.ndarray  # Decimal or None
    shown_points: np.ndarray  # float or None: ``points`` as displayed (:func:`shown`)
    shown_deduction: np.ndarray  # float or None: ``deduction`` as displayed
    veto: np.ndarray  # bool
    text: np.ndarray  # str: explanation, 不适用, — (not for this type) or "" (not scored)
    not_applicable: np.ndarray  # bool: marked 不适用


@dataclass(frozen=True)
class SectionResult:
    section: Section
    status: np.ndarray  # OK / INCOMPLETE / NOT_ASSESSED
    clauses: tuple[ClauseResult, ...]
    applicable_max: np.ndarray  # Decimal or None
    total: np.ndarray  # Decimal or None: the section score (百分制 after 不适用 rescaling)
    shown: np.ndarray  # float or None: ``total`` rounded half-up for display; ranks go by it
    rank: np.ndarray  # int or None
    grade: np.ndarray  # str ("" where no grade)
    downgrade: np.ndarray  # tuple[str, ...] of reasons
    failed_vetoes: np.ndarray  # tuple[str, ...] of clause labels
    inputs: Mapping[str, np.ndarray]  # field key → each unit's normalised input (None: blank or no row)


@dataclass(frozen=True)
class Result:
    rules: Rules
    units: tuple[Unit, ...]
    sections: Mapping[str, SectionResult]
    total: np.ndarray  # Decimal or None
    complete: np.ndarray  # bool: every section the unit takes part in has a score
    shown: np.ndarray  # float or None: ``total`` rounded half-up for display; ranks go by it
    rank: np.ndarray  # int or None
    downgrade: np.ndarray  # tuple[str, ...]
    failed_vetoes: np.ndarray  # tuple[str, ...]

    def order(self) -> list[int]:
        """Unit positions in report order: ranked units by rank (ties in list order), then the unranked."""
        ranked = sorted((r, i) for i, r in enumerate(self.rank) if r is not None)
        return [i for _, i in ranked] + [i for i, r in enumerate(self.rank) if r is None]

    def summary(self) -> pd.DataFrame:
        """One row per unit in report order (:meth:`order`), for printing and tests: totals rounded for
        display, statuses, ranks."""
        data = {"单位": [u.name for u in self.units], "类型": [u.type for u in self.units]}
        for sid, sr in self.sections.items():
            data[sr.section.name] = [
                rounded(t, self.rules.decimals) if s == OK else s for t, s in zip(sr.total, sr.status)]
        data["总分"] = [rounded(t, self.rules.decimals) if t is not None else INCOMPLETE for t in self.total]
        data["名次"] = pd.Series(list(self.rank), dtype=object)  # 1, 2 … and None, never 1.0 / NaN
        data["降档"] = ["；".join(r) for r in self.downgrade]
        data["否决项"] = ["；".join(v) for v in self.failed_vetoes]
        return pd.DataFrame(data).iloc[self.order()].reset_index(drop=True)


def rounded(value: Decimal | None, decimals: int = 2) -> Decimal | None:
    """Display and ranking rounding: half-up (四舍五入) to ``decimals`` places."""
    if value is None:
        return None
    return value.quantize(_quantum(decimals), rounding=ROUND_HALF_UP)


@lru_cache(maxsize=None)
def _quantum(decimals: int) -> Decimal:
    return Decimal(1).scaleb(-decimals)


def blank(values: np.ndarray) -> np.ndarray:
    """Which cells are blank (None). Not ``== None``: that makes every Decimal ask the numbers ABCs first."""
    return pd.isna(values)


def shown(values: np.ndarray, eligible: np.ndarray, decimals: int) -> np.ndarray:
    """The values leaders see: rounded half-up to ``decimals`` places (:func:`rounded`), as the nearest
    floats (None where not eligible)."""
    out = np.full(len(values), None, dtype=object)
    out[eligible] = _once_each(values[eligible].tolist(), lambda v: float(rounded(v, decimals)))
    return out


def _is_true(values: np.ndarray) -> np.ndarray:
    """Which cells hold True itself (``is True``: not 1, not a blank)."""
    return np.fromiter(map(operator.is_, values.tolist(), repeat(True)), dtype=bool, count=len(values))


def _once_each(values: list, work) -> list:
    """``work(value)`` for each value, worked out once per distinct value where values repeat (units
    share few distinct points and totals). Keyed by str: equal texts are the same Decimal (sign, digits,
    exponent), and a str hashes much quicker than a new Decimal."""
    texts = list(map(str, values))
    firsts = dict(zip(texts, values))
    if 2 * len(firsts) > len(values):  # mostly distinct: the keys do not pay
        return list(map(work, values))
    done = {t: work(v) for t, v in firsts.items()}
    return list(map(done.__getitem__, texts))


def ranks(shown_values: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """Competition ranks (1, 1, 3) on the displayed values, descending; None where not eligible."""
    out = np.full(len(shown_values), None, dtype=object)
    idx = np.flatnonzero(eligible)
    if len(idx) == 0:
        return out
    keys = pd.Series(shown_values[idx].astype(float))
    out[idx] = keys.rank(method="min", ascending=False).astype(int).tolist()
    return out


def score(rules: Rules, units: Sequence[Unit], inputs: Mapping[str, pd.DataFrame],
          blocked: Mapping[str, Iterable[str]] | None = None) -> Result:
    """Score every unit on every section it takes part in.

    ``inputs[section_id]`` has one row per unit (index: unit name) and one column per field key, each
    value normalised (bool, int, Decimal, str) or None when blank. Units missing from a section's table,
    with a required value missing, or listed in ``blocked[section_id]`` (the reader found an error in
    their row) are 数据不完整 for that section.
    """
    units = tuple(units)
    blocked = blocked or {}
    roster = Roster.of(units)
    with decimal.localcontext() as ctx:
        ctx.prec = _PRECISION
        ctx.rounding = decimal.ROUND_HALF_EVEN
        sections = {
            s.id: _score_section(rules, s, units, roster, inputs.get(s.id), set(blocked.get(s.id, ())))
            for s in rules.sections
        }
        return _overall(rules, units, sections)


@dataclass(frozen=True)
class Roster:
    """The unit list as columns, built once: names, types, a mask per type and each unit's type as a
    number (the position of its mask)."""

    names: list[str]
    types: np.ndarray
    masks: Mapping[str, np.ndarray]
    type_codes: np.ndarray

    @property
    def coded_types(self) -> Coded:
        """Each unit's type as a :class:`Coded` column (the type sets a clause's maximum)."""
        return Coded(self.type_codes, len(self.masks))

    @classmethod
    def of(cls, units: Sequence[Unit]) -> Roster:
        types = np.array([u.type for u in units], dtype=object)
        masks = {t: types == t for t in dict.fromkeys(types)}
        codes = np.zeros(len(types), dtype=np.int64)
        for code, mask in enumerate(masks.values()):
            codes[mask] = code
        return cls([u.name for u in units], types, masks, codes)

    def of_types(self, wanted: Iterable[str]) -> np.ndarray:
        """Which units are of one of the ``wanted`` types."""
        out = np.zeros(len(self.types), dtype=bool)
        for t in wanted:
            if t in self.masks:
                out |= self.masks[t]
        return out


@dataclass(frozen=True)
class Coded:
    """A column's equal values numbered alike: ``codes`` per unit, -1 where blank (:func:`blank`), 0 up
    to ``count`` - 1 for the rest."""

    codes: np.ndarray
    count: int

    @property
    def blank(self) -> np.ndarray:
        return self.codes < 0


def _aligned(frame: pd.DataFrame | None, names: list[str], keys: list[str]) -> tuple[dict, dict, np.ndarray]:
    """Columns of ``frame`` re-indexed to the unit list, as object arrays; each column :class:`Coded`,
    once (blank cells for the completeness check and the 降档 triggers, equal answers for
    :func:`_distinct_rows`); which units had a row."""
    n = len(names)
    if frame is None or len(frame.index) == 0:
        nothing = Coded(np.full(n, -1, dtype=np.intp), 0)
        return {k: np.full(n, None, dtype=object) for k in keys}, {k: nothing for k in keys}, np.zeros(n, bool)
    if not frame.index.is_unique:
        raise ValueError("each unit may appear only once in a section table")
    positions = pd.Index(frame.index).get_indexer(names)
    present = positions >= 0
    rows = positions[present]
    in_order = len(frame.index) == len(rows) == n and bool((rows == np.arange(n)).all())  # the usual case
    columns, coded = {}, {}
    for key in keys:
        if key not in frame.columns:
            columns[key], coded[key] = np.full(n, None, dtype=object), Coded(np.full(n, -1, dtype=np.intp), 0)
            continue
        values = frame[key].to_numpy(dtype=object)
        found, uniques = pd.factorize(values)  # blank (pd.isna) cells: -1
        if in_order:
            out, codes = values.copy(), found  # a copy: the frame's own cells stay as given
        else:
            out, codes = np.full(n, None, dtype=object), np.full(n, -1, dtype=np.intp)
            out[present], codes[present] = values[rows], found[rows]
        out[codes < 0] = None
        columns[key], coded[key] = out, Coded(codes, len(uniques))
    return columns, coded, present


def _score_section(rules: Rules, section: Section, units: tuple[Unit, ...], roster: Roster,
                   frame: pd.DataFrame | None, blocked: set[str]) -> SectionResult:
    n = len(units)
    names = roster.names
    takes_part = np.fromiter((section.id in u.sections for u in units), dtype=bool, count=n)
    columns, coded, present = _aligned(frame, names, [f.key for f in section.fields])
    usable = takes_part & present
    if blocked:
        usable &= np.fromiter((name not in blocked for name in names), dtype=bool, count=n)

    # Which clauses each unit is scored on: its type's items, less those marked 不适用 (by a unit that
    # takes part: a mark on any other row means nothing).
    applies = {c.id: roster.of_types(c.applies_to) for c in section.clauses}
    marked_na = {c.id: np.zeros(n, bool) for c in section.clauses}
    if section.allow_not_applicable:
        for c in section.clauses:
            marked_na[c.id] = _is_true(columns[f"{c.id}.na"]) & applies[c.id] & takes_part
    scored_any = np.zeros(n, bool)
    complete = usable.copy()
    for c in section.clauses:
        needed = applies[c.id] & ~marked_na[c.id]
        if not c.is_bonus:
            scored_any |= needed
        for f in c.fields:
            if f.required and f.type != NA:
                complete &= ~(needed & coded[f.key].blank)
    for f in section.inputs:
        complete &= ~coded[f.key].blank
    complete &= scored_any

    status = np.where(takes_part, np.where(complete, OK, INCOMPLETE), NOT_ASSESSED).astype(object)
    # Per scored unit: the items' points, their maxima (less those marked 不适用), and bonus points apart.
    earned, bonus = (np.where(complete, ZERO, None).astype(object) for _ in range(2))
    applicable_max = _applicable_max(section, roster, complete, applies, marked_na)
    failed_vetoes = _no_items(n)
    results = []
    for c in section.clauses:
        rows = np.flatnonzero(complete & applies[c.id] & ~marked_na[c.id])
        points = np.full(n, None, dtype=object)
        deduction = np.full(n, None, dtype=object)
        shown_points = np.full(n, None, dtype=object)
        shown_deduction = np.full(n, None, dtype=object)
        veto = np.zeros(n, bool)
        text = np.full(n, "", dtype=object)
        text[~applies[c.id]] = NOT_FOR_TYPE
        text[marked_na[c.id]] = "不适用"
        if len(rows):
            # The type sets the maximum.
            first, inverse = _distinct_rows([coded[f.key] for f in c.fields] + [roster.coded_types], rows)
            scored = rows[first]
            maxima = np.empty(len(scored), dtype=object)
            for t, top in c.maxima.items():
                if t in roster.masks:
                    maxima[roster.masks[t][scored]] = top
            once = c.score({f.key: columns[f.key][scored] for f in c.fields}, maxima)
            each = np.asarray(once.points, dtype=object)
            got = each[inverse]
            lost = np.full(len(first), ZERO, dtype=object) if c.is_bonus else \
                np.where(maxima > each, maxima - each, ZERO)
            points[rows] = got
            deduction[rows] = lost[inverse]
            everyone = np.ones(len(first), dtype=bool)
            shown_points[rows] = shown(each, everyone, rules.decimals)[inverse]
            shown_deduction[rows] = shown(lost, everyone, rules.decimals)[inverse]
            failed = np.asarray(once.veto, dtype=bool)[inverse]
            veto[rows] = failed
            text[rows] = np.asarray(once.text, dtype=object)[inverse]
            if c.is_bonus:
                bonus[rows] = bonus[rows] + got
            else:
                earned[rows] = earned[rows] + got
            if failed.any():
                at = rows[failed]
                failed_vetoes[at] = failed_vetoes[at] + _items([f"{c.id} {c.name}"])
        results.append(ClauseResult(c, points, deduction, shown_points, shown_deduction, veto, text, marked_na[c.id]))

    total = np.full(n, None, dtype=object)
    rows = np.flatnonzero(complete)
    if len(rows):
        # 百分制: earned ÷ applicable max × section max (exact when nothing was marked 不适用), bonus after.
        total[rows] = earned[rows] * section.max / applicable_max[rows] + bonus[rows]
    grade = np.full(n, "", dtype=object)
    if section.grades:
        grade[rows] = _once_each(total[rows].tolist(), section.grade_of)
    downgrade = _downgrades(section.downgrades, columns, coded, total, takes_part & present, rules.decimals)
    display = shown(total, complete, rules.decimals)
    return SectionResult(section, status, tuple(results), applicable_max, total, display,
                         ranks(display, complete), grade, downgrade, failed_vetoes, columns)


def _applicable_max(section: Section, roster: Roster, complete: np.ndarray, applies: dict,
                    marked_na: dict) -> np.ndarray:
    """Per scored unit, the maxima of the items it is scored on, added up in clause order. Units of one
    type with the same 不适用 marks share the sum, so it is added up once for each such group."""
    out = np.full(len(complete), None, dtype=object)
    rows = np.flatnonzero(complete)
    scored = [c for c in section.clauses if not c.is_bonus]
    first, inverse = _distinct_rows([roster.coded_types] +
                                    [Coded(marked_na[c.id].astype(np.intp), 2) for c in scored], rows)
    sums = []
    for r in rows[first].tolist():
        subtotal = ZERO
        for c in scored:
            if applies[c.id][r] and not marked_na[c.id][r]:
                subtotal = subtotal + c.maxima[roster.types[r]]
        sums.append(subtotal)
    out[rows] = np.array(sums, dtype=object)[inverse]
    return out


def _distinct_rows(columns: list[Coded], rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows with equal inputs (and maximum) are scored once: over thousands of units a clause sees a
    few distinct answers, and the units then share one Decimal and one explanation each. Returns, among
    ``rows``, the first of each distinct combination (blank counts as one answer) and, per row, which
    combination it is (numbered in order of first appearance)."""
    key = np.zeros(len(rows), dtype=np.int64)
    radix = 1
    for col in columns:
        size = col.count + 1  # blank (-1) becomes 0
        if radix * size >= 2**62:  # keep the mixed-radix key within int64
            key, seen = pd.factorize(key)
            radix = len(seen)
        key = key + (col.codes[rows] + 1).astype(np.int64) * radix
        radix *= size
    inverse, _ = pd.factorize(key)
    return first_appearances(inverse), inverse


def _downgrades(triggers: tuple[Trigger, ...], columns: dict, coded: dict, total: np.ndarray,
                returned: np.ndarray, decimals: int) -> np.ndarray:
    """Every 降档 reason that fires, per unit; a trigger whose input is blank does not fire."""
    n = len(total)
    reasons = _no_items(n)
    for t in triggers:
        if t.kind == "score_below":
            values, given = total, returned & ~blank(total)
        else:
            values, given = columns[t.input], returned & ~coded[t.input].blank
        rows = np.flatnonzero(given)
        if t.kind == "score_below":
            fired = rows[values[rows] < t.threshold]
            words = _once_each(values[fired].tolist(), lambda v: f"{t.reason}（{fmt(rounded(v, decimals))}分）")
        elif t.kind == "count_at_least":
            fired = rows[values[rows] >= t.threshold]
            words = _once_each(values[fired].tolist(), lambda v: f"{t.reason}{v}次")
        else:  # is_yes
            fired = rows[_is_true(values[rows])]
            words = [t.reason] * len(fired)
        reasons[fired] = reasons[fired] + _items(words)
    return reasons


def _no_items(n: int) -> np.ndarray:
    """One empty tuple per unit, to which items are added (tuple + tuple, a column at a time)."""
    out = np.empty(n, dtype=object)
    out.fill(())
    return out


def _items(words: list[str]) -> np.ndarray:
    """Each word as a one-item tuple, in an object array (a plain list of tuples would become 2-D)."""
    return np.fromiter(((w,) for w in words), dtype=object, count=len(words))


def _joined(n: int, per_section: list[np.ndarray]) -> np.ndarray:
    """Each unit's tuples from all sections, in section order."""
    out = _no_items(n)
    for column in per_section:
        out = out + column
    return out


def _overall(rules: Rules, units: tuple[Unit, ...], sections: Mapping[str, SectionResult]) -> Result:
    """Weighted mean over the sections each unit takes part in, renormalised to their weights."""
    n = len(units)
    weighted = np.full(n, ZERO, dtype=object)
    weights = np.full(n, ZERO, dtype=object)
    complete = np.ones(n, bool)
    for sid, sr in sections.items():
        takes = sr.status != NOT_ASSESSED
        ok = sr.status == OK
        complete &= ~takes | ok
        w = rules.weights[sid]
        weights = weights + np.where(takes, w, ZERO)
        weighted = weighted + np.where(ok, sr.total, ZERO) * w
    complete &= weights > ZERO
    total = np.full(n, None, dtype=object)
    rows = np.flatnonzero(complete)
    total[rows] = weighted[rows] / weights[rows]
    downgrade = _joined(n, [sr.downgrade for sr in sections.values()])
    failed = _joined(n, [sr.failed_vetoes for sr in sections.values()])
    display = shown(total, complete, rules.decimals)
    return Result(rules, units, dict(sections), total, complete, display, ranks(display, complete), downgrade, failed)
