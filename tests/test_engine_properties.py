"""Properties of the engine over random valid inputs (hypothesis): items stay within their bounds, one
more deduction never raises a score, and the order of the units changes no unit's result."""

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine_helpers import DEPT, RULES, TOWN, Unit, frame
from kaoping_xlsx import kinds
from kaoping_xlsx.engine import OK, rounded, score, shown
from kaoping_xlsx.rules import CHOICE, COUNT, NA, SCORE, TEXT, YESNO

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TYPES = st.sampled_from([TOWN, DEPT])
SECTION_IDS = st.sampled_from([s.id for s in RULES.sections])


def _decimal(upper: Decimal):
    return st.integers(0, int(upper * 100)).map(lambda n: Decimal(n) / 100)


@st.composite
def rows(draw, section, unit_type):
    """A valid, complete input row of ``section`` for a unit of ``unit_type`` (some 不适用 in 放管服)."""
    clauses = {f.key: c for c in section.clauses for f in c.fields}
    row = {}
    for f in section.fields:
        clause = clauses.get(f.key)
        if f.type == NA or f.type == TEXT or not f.applies(unit_type):
            row[f.key] = None
        elif f.type == YESNO:
            row[f.key] = draw(st.booleans())
        elif f.type == COUNT:
            top = 80 if isinstance(clause, kinds.Proportional) else 3 if isinstance(clause, kinds.MonthlyMinimum) else 12
            row[f.key] = draw(st.integers(0, top))
        elif f.type == CHOICE:
            row[f.key] = draw(st.sampled_from(f.choices))
        elif f.type == SCORE and clause.is_bonus:
            row[f.key] = draw(st.none() | _decimal(Decimal(10)))
        else:
            row[f.key] = draw(_decimal(f.maximum(unit_type)))
    for c in section.clauses:  # reasons for bonuses; 2.6 严重后果 only with a problem found
        if c.is_bonus and row[c.fields[0].key]:
            row[c.fields[1].key] = "肯定性批示"
        for f in c.fields:
            if f.only_if and not row[f.only_if[0]]:
                row[f.key] = False
            if f.not_more_than and row[f.key] is not None:
                row[f.key] = min(row[f.key], row[f.not_more_than])
    if section.allow_not_applicable:
        applicable = [c for c in section.clauses if c.applies(unit_type)]
        marked = draw(st.lists(st.sampled_from(applicable), max_size=3, unique_by=lambda c: c.id))
        if len(marked) < len(applicable):
            for c in marked:
                for f in c.fields:
                    row[f.key] = None
                row[f"{c.id}.na"] = True
    return row


def score_rows(section, typed_rows):
    """Score units ``甲0, 甲1 …`` (types and rows given) on ``section`` alone."""
    units = [Unit(f"甲{i}", t, (section.id,)) for i, (t, _) in enumerate(typed_rows)]
    table = frame({u.name: r for u, (_, r) in zip(units, typed_rows)}, section)
    return score(RULES, units, {section.id: table}).sections[section.id]


@st.composite
def section_and_row(draw):
    section = RULES.section(draw(SECTION_IDS))
    unit_type = draw(TYPES)
    return section, unit_type, draw(rows(section, unit_type))


@SETTINGS
@given(section_and_row())
def test_every_item_within_its_bounds(case):
    # General/5/3.6/4.9: items in [0, max]; bonus in [0, cap]; proportional items ≥ 0 (may exceed share).
    section, unit_type, row = case
    sr = score_rows(section, [(unit_type, row)])
    assert sr.status[0] == OK
    for cr in sr.clauses:
        c, pts = cr.clause, cr.points[0]
        if not c.applies(unit_type) or cr.not_applicable[0]:
            assert pts is None
            continue
        assert isinstance(pts, Decimal) and pts >= 0, (c.id, pts)
        if c.is_bonus:
            assert pts <= c.cap
        elif not isinstance(c, kinds.Proportional):
            assert pts <= c.maxima[unit_type], (c.id, pts)
            assert cr.deduction[0] == c.maxima[unit_type] - pts
        assert cr.text[0]
    assert sr.total[0] >= 0
    if not any(isinstance(c, kinds.Proportional) or c.is_bonus for c in section.clauses):
        assert sr.total[0] <= section.max


def _worsenings(section, unit_type, row):
    """Every single change that adds one deduction: a count +1, a yes/no flipped to the losing answer, a
    month emptied, a rater score or choice lowered."""
    out = []
    for c in section.clauses:
        if not c.applies(unit_type) or row.get(f"{c.id}.na"):
            continue
        if isinstance(c, kinds.Deduction):
            for t in c.terms:
                out.append((c.id, t.key, row[t.key] + 1 if t.type == COUNT else t.when))
            if c.zero_key:
                out.append((c.id, c.zero_key, True))
        elif isinstance(c, (kinds.Checklist, kinds.Veto)):
            out += [(c.id, f.key, False) for f in c.fields]
        elif isinstance(c, kinds.AllOrNothing):
            f = c.fields[0]
            out.append((c.id, f.key, max(row[f.key] - 1, 0) if f.type == COUNT else not c.pass_when))
        elif isinstance(c, kinds.MonthlyMinimum):
            out += [(c.id, f.key, 0) for f in c.fields]
        elif isinstance(c, (kinds.Rater, kinds.WeightedRaters)):  # a rater's score one point lower
            out += [(c.id, f.key, max(row[f.key] - 1, Decimal(0))) for f in c.fields]
        elif isinstance(c, kinds.Choice):
            f = c.fields[0]
            out += [(c.id, f.key, o) for o, pts in c.points_by_choice.items()
                    if pts <= c.points_by_choice[row[f.key]]]
        elif isinstance(c, kinds.Proportional) and not c.fields[0].not_more_than:
            f = c.fields[0]  # 5.1 one fewer reported (5.2 adopted may then not exceed it)
            out.append((c.id, f.key, max(row[f.key] - 1, 0)))
    return out


@SETTINGS
@given(section_and_row())
def test_one_more_deduction_never_raises_a_score(case):
    # Each worsened row is scored as another unit of the same call (the engine works column-wise).
    section, unit_type, row = case
    moves = _worsenings(section, unit_type, row)
    worse_rows = []
    for _, key, value in moves:
        worse = {**row, key: value}
        for f in section.fields:  # keep the row valid: 采用 ≤ 上报
            if f.not_more_than and worse[f.key] is not None:
                worse[f.key] = min(worse[f.key], worse[f.not_more_than])
        worse_rows.append((unit_type, worse))
    sr = score_rows(section, [(unit_type, row)] + worse_rows)
    assert all(s == OK for s in sr.status)
    for i, (cid, key, value) in enumerate(moves, 1):
        for cr in sr.clauses:
            if cr.points[0] is not None:
                assert cr.points[i] <= cr.points[0], (cr.clause.id, key, value)
        assert sr.total[i] <= sr.total[0], (cid, key, value)


@st.composite
def unit_lists(draw):
    units, tables = [], {s.id: {} for s in RULES.sections}
    for i in range(draw(st.integers(2, 6))):
        unit_type = draw(TYPES)
        parts = draw(st.lists(SECTION_IDS, min_size=1, max_size=5, unique=True))
        units.append(Unit(f"单位{i}", unit_type, tuple(sorted(parts))))
        for sid in parts:
            row = draw(rows(RULES.section(sid), unit_type))
            if draw(st.integers(0, 9)) == 0:  # now and then a blank required value
                key = draw(st.sampled_from([f.key for f in RULES.section(sid).fields if row[f.key] is not None]
                                           or [None]))
                if key is not None and not key.endswith((".points", ".reason")):
                    row[key] = None
            tables[sid][units[-1].name] = row
    order = draw(st.permutations(range(len(units))))
    return units, tables, order


def _view(result, i):
    """Everything the engine says about the unit at position ``i``."""
    out = [result.total[i], result.rank[i], bool(result.complete[i]), result.downgrade[i], result.failed_vetoes[i]]
    for sid, sr in result.sections.items():
        out += [sr.status[i], sr.total[i], sr.rank[i], sr.grade[i], sr.downgrade[i], sr.failed_vetoes[i]]
        for cr in sr.clauses:
            out += [cr.points[i], cr.deduction[i], bool(cr.veto[i]), cr.text[i], bool(cr.not_applicable[i])]
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unit_lists())
def test_shuffling_units_changes_no_result(case):
    units, tables, order = case
    frames = {s.id: frame(tables[s.id], s) for s in RULES.sections}
    shuffled_frames = {s.id: frame(dict(reversed(list(tables[s.id].items()))), s) for s in RULES.sections}
    first = score(RULES, units, frames)
    second = score(RULES, [units[j] for j in order], shuffled_frames)
    for pos, j in enumerate(order):
        assert _view(second, pos) == _view(first, j), units[j].name
    # ranks are competition ranks over the ranked units: the best is 1, ties share
    ranked = [r for r in first.rank if r is not None]
    if ranked:
        assert min(ranked) == 1
        assert all(sum(1 for s in ranked if s < r) + 1 == r for r in ranked)
    assert np.array_equal(first.complete, np.array([t is not None for t in first.total]))


@SETTINGS
@given(section_and_row())
def test_shown_values_are_the_exact_ones_rounded_half_up(case):
    # 计分口径: exact arithmetic, rounded half-up only for display. What the report shows for each clause
    # and the section (computed once per distinct answer) is float() of the exact value so rounded.
    section, unit_type, row = case
    sr = score_rows(section, [(unit_type, row)])
    for cr in sr.clauses:
        for exact, seen in ((cr.points[0], cr.shown_points[0]), (cr.deduction[0], cr.shown_deduction[0])):
            assert seen == (None if exact is None else float(rounded(exact, RULES.decimals))), (cr.clause.id, exact, seen)
    assert sr.shown[0] == float(rounded(sr.total[0], RULES.decimals))


@pytest.mark.parametrize("exact, eligible, expected", [
    ("89.995", True, 90.0),  # half-up, not to even
    ("0.125", True, 0.13),
    ("0.135", True, 0.14),
    ("-0.005", True, -0.01),  # half away from zero
    ("59.994999", True, 59.99),
    ("70", True, 70.0),
    ("70", False, None),  # not scored: nothing shown
])
def test_shown_rounds_half_up_to_two_places(exact, eligible, expected):
    values = np.array([Decimal(exact)], dtype=object)
    assert list(shown(values, np.array([eligible]), 2)) == [expected]


# Values that repeat (equal numbers written differently, zeros of both signs, halves) and values that do not.
_REPEATING = st.sampled_from(["0", "-0", "0.00", "-0.000", "1", "1.0", "1E+1", "0.005", "-0.005", "89.995"])
_ANY = st.decimals(min_value=-1000, max_value=1000, places=4, allow_nan=False, allow_infinity=False)


@SETTINGS
@given(st.lists(st.tuples(_REPEATING.map(Decimal), st.booleans()), max_size=80)
       | st.lists(st.tuples(_REPEATING.map(Decimal) | _ANY, st.booleans()), max_size=80), st.integers(0, 6))
def test_shown_is_each_values_own_rounding_whether_values_repeat_or_not(cells, decimals):
    # shown rounds each distinct value once where values repeat; every cell must still show its own
    # value rounded, down to the sign of a zero (-0 shows as -0.0).
    values = np.empty(len(cells), dtype=object)
    values[:] = [v for v, _ in cells]
    eligible = np.array([e for _, e in cells], dtype=bool)
    want = [repr(float(rounded(v, decimals))) if e else "None" for v, e in cells]
    assert [repr(s) for s in shown(values, eligible, decimals)] == want
