"""``kaoping score --formulas``: the section sheets' clause and total cells are live formulas that give the
engine's values when a real office suite recalculates them.

LibreOffice recalculates with a throwaway profile that forces recalculation on load (tests/office.py);
a deliberately wrong cached value proves that what we read back was computed, not cached. Excel floats
and the engine's Decimals are compared after half-up rounding to 2 decimals, and to within 1e-9.
"""

from __future__ import annotations

import dataclasses
import random
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from engine_helpers import DEPT, RULES, TOWN, frame, row_with
from kaoping_xlsx import formulas
from kaoping_xlsx.api import read
from kaoping_xlsx.engine import INCOMPLETE, NOT_FOR_TYPE, OK, Result, Unit, rounded, score
from kaoping_xlsx.inputs import Inputs
from kaoping_xlsx.report import write_result
from kaoping_xlsx.rules import KINDS, NOT_APPLICABLE
from kaoping_xlsx.template import load_units
from office import needs_office, sheets_as_csv
from test_report import make_inputs

ROOT = Path(__file__).resolve().parents[1]
RUN_TIME = datetime(2021, 1, 15, 9, 30, 0)
D = Decimal
SEED = 2020
TINY = D("1e-9")


# ------------------------------------------------------------------ generated units

def _decimal(rng: random.Random, top: Decimal, places: int) -> Decimal:
    """A score in [0, top] with up to ``places`` decimals, often 0 or ``top``; three places give half-cent
    values, where float arithmetic could flip half-up rounding."""
    pick = rng.random()
    if pick < 0.1:
        return top
    if pick < 0.15:
        return D(0)
    step = D(1).scaleb(-places)
    return (D(rng.randint(0, int(top / step))) * step).normalize()


def _section_row(rng: random.Random, section_id: str, unit_type: str) -> tuple[dict, tuple[str, ...]]:
    """Overrides of a full-marks row reaching every edge of the section's clauses; clauses marked 不适用."""
    o: dict = {}
    na: tuple[str, ...] = ()
    if section_id == "1":
        for k in ("group", "agency", "staff", "meeting", "plan", "summary"):
            o[f"1.1.{k}"] = rng.random() < 0.7
        o["1.2.1.report"] = rng.random() < 0.8
        o["1.2.2.missed"] = rng.choice((0, 0, 1, 3, 14, 15, 16, 40))
        o["1.2.2.leak"] = rng.random() < 0.1
        o["1.2.3.done"] = rng.random() < 0.7
        o["1.3.study"] = rng.choice((0, 1, 1, 5))
        o["1.4.ontime"] = rng.random() < 0.8
        months = rng.choice(("each", "random", "january", "none"))
        for m in range(1, 13):
            o[f"1.5.m{m}"] = {"each": 1, "random": rng.choice((0, 1, 2, 3)), "january": 12 if m == 1 else 0,
                              "none": 0}[months]
    elif section_id == "2":
        for k in ("leader", "group", "office", "lagging"):
            o[f"2.1.{k}"] = rng.random() < 0.3
        o["2.2.status"] = rng.choice(("未出台", "已出台未落实", "已出台并落实"))
        o["2.3.publicised"] = rng.random() < 0.6
        o["2.3.late"] = rng.choice((0, 1, 2, 3, 8))
        o["2.4.faults"] = rng.choice((0, 1, 2, 5, 6))
        o["2.5.faults"] = rng.choice((0, 1, 2, 3))
        o["2.6.found"] = rng.random() < 0.2
        o["2.6.serious"] = o["2.6.found"] and rng.random() < 0.5
        o["2.7.found"] = rng.random() < 0.2
        for cid in ("2.8", "2.9", "2.10"):
            o[f"{cid}.faults"] = rng.choice((0, 0, 1, 2, 3))
        for k in ("national", "inspection", "city"):
            o[f"2.{k}"] = rng.choice((0, 0, 0, 1))
        o["2.county"] = rng.choice((0, 1, 2))
        clauses = [c.id for c in RULES.section("2").clauses]
        na = tuple(c for c in clauses if rng.random() < 0.12)[:len(clauses) - 1]
        for cid in na:
            o = {k: v for k, v in o.items() if not k.startswith(f"{cid}.")}
    elif section_id in ("3", "4"):
        for c in RULES.section(section_id).clauses:
            if not c.applies(unit_type):
                continue
            if c.kind == "bonus":
                bonus = rng.choice((None, D(0), D("1.5"), D(5), D("7.5"), D(12)))
                o[f"{c.id}.points"] = bonus
                o[f"{c.id}.reason"] = "获上级表彰" if bonus else None
            else:
                for f in c.fields:
                    o[f.key] = _decimal(rng, f.maximum(unit_type), rng.choice((0, 1, 2, 3)))
    else:
        reported = rng.choice((0, 10, 39, 40, 41, 75))
        o["5.1.reported"] = reported
        o["5.2.adopted"] = min(reported, rng.choice((0, 5, 11, 12, 13, 30)))
        o["5.3.system"] = rng.random() < 0.8
        o["5.3.signed"] = rng.random() < 0.8
        for k in ("attention", "mechanism", "staff", "cooperation"):
            o[f"5.4.{k}"] = _decimal(rng, D(5), rng.choice((0, 1, 2)))
    return o, na


def generated(n: int = 200, seed: int = SEED) -> Inputs:
    """The sample units, then generated ones up to ``n``: every clause at its edges, some units in only some
    sections, and three 数据不完整 units (a blank required value, a blocked row, a section never returned)."""
    rng = random.Random(seed)
    sample = load_units(ROOT / "samples" / "units.xlsx", RULES)
    units = list(sample)
    sids = [s.id for s in RULES.sections]
    for k in range(len(sample) + 1, n + 1):
        some = tuple(s for s in sids if rng.random() < 0.6) or ("2",)
        taking = tuple(sids) if k > n - 3 or rng.random() < 0.85 else some
        units.append(Unit(f"测试单位{k:03d}", rng.choice((DEPT, TOWN)), taking))
    rows: dict[str, dict] = {sid: {} for sid in sids}
    for u in units:
        for sid in u.sections:
            overrides, na = _section_row(rng, sid, u.type)
            rows[sid][u.name] = row_with(RULES, u.type, sid, overrides, na)
    blank, blocked, missing = units[-1], units[-2], units[-3]
    rows["1"][blank.name]["1.2.1.report"] = None
    del rows["4"][missing.name]
    tables = {s.id: frame(rows[s.id], s) for s in RULES.sections}
    return Inputs(RULES, tuple(units), tables, {"3": frozenset({blocked.name})}, (), ())


# ------------------------------------------------------------------ reading results back

def columns(header: list[list]) -> dict[tuple[str, str], int]:
    """(group, label) → 0-based column, groups filled across their merged header cells."""
    groups, group = [], None
    for value in header[0]:
        group = value if value not in (None, "") else group
        groups.append(group)
    return {(g, label): c for c, (g, label) in enumerate(zip(groups, header[1]))}


def expected_cells(result: Result) -> list[tuple[str, int, tuple[str, str], object]]:
    """(sheet, unit index, (group, label) header, engine value) for every clause and total cell of every
    section sheet: a Decimal where a score was computed, else the text shown (不适用, —, 数据不完整, blank)."""
    out = []
    for s in RULES.sections:
        sr = result.sections[s.id]
        for i, status in enumerate(sr.status):
            out.append((s.sheet, i, (f"{s.name}结果", "本部分得分"),
                        sr.total[i] if status == OK else INCOMPLETE if status == INCOMPLETE else NOT_FOR_TYPE))
            for cr in sr.clauses:
                if cr.points[i] is not None:
                    points, deduction = cr.points[i], cr.deduction[i]
                elif cr.not_applicable[i]:
                    points, deduction = NOT_APPLICABLE, ""
                else:
                    points = deduction = "" if status == INCOMPLETE else cr.text[i]
                out.append((s.sheet, i, (cr.clause.heading, "本项得分"), points))
                out.append((s.sheet, i, (cr.clause.heading, "本项扣分"), deduction))
    return out


def is_live(result: Result, sheet: str, i: int, header: tuple[str, str], want) -> bool:
    """Whether the cell should be a formula: a scored unit's clause or total, except — and a bonus's 扣分."""
    section = RULES.section_by_sheet(sheet)
    bonus = header[1] == "本项扣分" and any(c.is_bonus and c.heading == header[0] for c in section.clauses)
    return result.sections[section.id].status[i] == OK and want != NOT_FOR_TYPE and not bonus


def compare(result: Result, sheets: dict[str, list[list[str]]]) -> tuple[int, int, list[str]]:
    """Every clause and total cell as recalculated against the engine: (numbers compared, texts compared,
    mismatches)."""
    numbers = texts = 0
    wrong = []
    located = {s.sheet: columns(sheets[s.sheet][:2]) for s in RULES.sections}
    for sheet, i, header, want in expected_cells(result):
        row = sheets[sheet][2 + i]
        assert row[0] == result.units[i].name
        got = row[located[sheet][header]]
        where = f"{sheet} {result.units[i].name} {header[0]} {header[1]}"
        if isinstance(want, Decimal):
            numbers += 1
            value = D(got) if got else None
            if value is None or rounded(value) != rounded(want) or abs(value - want) > TINY:
                wrong.append(f"{where}：重算为 {got}，引擎为 {want}")
        else:
            texts += 1
            if got != want:
                wrong.append(f"{where}：重算为 {got!r}，引擎为 {want!r}")
    return numbers, texts, wrong


def write(inputs: Inputs, out: Path, result: Result | None = None) -> tuple[Inputs, Result, Path]:
    result = result or score(RULES, inputs.units, inputs.tables, inputs.blocked)
    write_result(result, inputs, out, run_time=RUN_TIME, version="test", formulas=True)
    return inputs, result, out


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory):
    folder = tmp_path_factory.mktemp("手工")
    return write(make_inputs(folder), folder / "result.xlsx")


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    """The sample offices' returned workbooks, read as ``kaoping score samples/`` reads them."""
    return write(read([ROOT / "samples" / "回收表格"], RULES), tmp_path_factory.mktemp("样例") / "result.xlsx")


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    return write(generated(), tmp_path_factory.mktemp("生成") / "result.xlsx")


# ------------------------------------------------------------------ without an office suite

def test_every_rule_kind_has_a_formula_builder():
    assert set(formulas.BUILDERS) == set(KINDS)


def test_cells_need_adjacent_columns():
    cells = formulas.Cells({"a": 3, "b": 4, "c": 7})
    assert cells.span(["a", "b"]) == f"D{formulas.ROW}:E{formulas.ROW}"
    with pytest.raises(ValueError):
        cells.span(["a", "c"])


def test_formula_text_mirrors_the_spec(hand_made):
    _, _, out = hand_made
    book = openpyxl.load_workbook(out)
    texts = [c.value for s in RULES.sections for c in book[s.sheet][3] if c.data_type == "f"]  # 县教育局
    assert '=MAX(0,12-1*COUNTIF(AJ3:AU3,"<1"))' in texts  # 1.5: each month below 1 loses a point
    assert '=IF(T3="是",0,MAX(0,30-2*S3))' in texts  # 1.2.2: 漏报 × 2, floor 0; 泄密 zeroes it
    assert ('=IF(P3="不适用","不适用",IF(O3="未出台",0,IF(O3="已出台未落实",3,IF(O3="已出台并落实",5,NA()))))'
            in texts)  # 2.2: an answer outside the list is #N/A, never a silent score
    assert '=IF(AF3="不适用","不适用",ROUND(MAX(0,5-2.5*AE3),10))' in texts  # 2.5: fractional steps guarded
    assert any(t.startswith("=ROUND(SUM(M3,R3,") and '*100/((K3<>"不适用")*5+' in t for t in texts)  # 不适用 rescaling
    assert "=ROUND((0.4*M3+0.3*N3+0.3*O3)*30/100,10)" in texts  # 3.3 weighted raters
    assert "=MIN(5,N(AE3))" in texts  # 3.6: bonus capped, blank is 0
    assert "=MAX(0,30+1*(E3-40))" in texts  # 5.1: baseline 40, floor 0, no cap


def test_formula_cells_cache_the_engines_values(many):
    _, result, out = many
    book = openpyxl.load_workbook(out)
    cached_book = openpyxl.load_workbook(out, data_only=True)
    located = {s.sheet: columns([[c.value for c in book[s.sheet][1]], [c.value for c in book[s.sheet][2]]])
               for s in RULES.sections}
    live = 0
    for sheet, i, header, want in expected_cells(result):
        col = 1 + located[sheet][header]
        cell, cached = book[sheet].cell(3 + i, col), cached_book[sheet].cell(3 + i, col).value
        assert (cell.data_type == "f") == is_live(result, sheet, i, header, want), (sheet, i, header)
        live += cell.data_type == "f"
        assert cached == (float(want) if isinstance(want, Decimal) else want or None), (sheet, i, header)
    assert live > 200 * 40


def test_formulas_use_only_functions_every_office_suite_knows(many):
    """IF, MAX, MIN, SUM, COUNTIF, ROUND, N, NA: in Excel since 2007 and in LibreOffice, no _xlfn. prefix
    (the report skips xlsxwriter's prefixing on that ground)."""
    _, _, out = many
    book = openpyxl.load_workbook(out)
    used = {name for s in RULES.sections for row in book[s.sheet].iter_rows(min_row=3) for c in row
            if c.data_type == "f" for name in re.findall(r"([A-Z][A-Z0-9.]*)\(", c.value)}
    assert used == {"IF", "MAX", "MIN", "SUM", "COUNTIF", "ROUND", "N", "NA"}


def test_without_the_option_no_formulas(tmp_path):
    inputs = make_inputs(tmp_path)
    result = score(RULES, inputs.units, inputs.tables, inputs.blocked)
    out = write_result(result, inputs, tmp_path / "values.xlsx", run_time=RUN_TIME, version="test")
    book = openpyxl.load_workbook(out)
    assert not any(c.data_type == "f" for ws in book for row in ws.iter_rows() for c in row)


def test_generated_units_cover_every_edge(many):
    inputs, result, _ = many
    secs = result.sections

    def points(cid: str) -> set:
        sr = secs[cid.split(".")[0]]
        cr = next(c for c in sr.clauses if c.clause.id == cid)
        return {p for p in cr.points if p is not None}

    assert {D(0), D(24), D(28), D(30)} <= points("1.2.2")
    assert sum(v is True for v in inputs.tables["1"]["1.2.2.leak"]) >= 5  # 泄密 zeroes 1.2.2
    assert {D(0), D(1), D(12)} <= points("1.5")  # 1 = all twelve sent in January
    assert {D(0), D(3), D(5)} <= points("2.2")
    assert {D(0), D("2.5"), D(5)} <= points("2.5")
    assert all(D(0) in points(cid) for cid in ("2.1", "2.3", "2.4", "2.8", "2.9", "2.10"))  # floors
    assert all(cr.not_applicable.any() for cr in secs["2"].clauses)  # 不适用 on every item
    assert any(t != t.to_integral_value() for t, s in zip(secs["2"].total, secs["2"].status) if s == OK)
    assert {D(0), D(29), D(30), D(31), D(65)} <= points("5.1")  # 0 floor, below and above the baseline
    assert {D(18), D(29), D(30), D(31), D(48)} <= points("5.2")
    assert D(5) in points("3.6") and D(5) in points("4.9")  # includes bonuses over the cap
    assert any(v is not None and v > 5 for v in inputs.tables["3"]["3.6.points"])
    # 3.3 weighted averages with a third decimal 5: where a float could flip half-up rounding.
    assert any(p.as_tuple().exponent == -3 and p.as_tuple().digits[-1] == 5 for p in points("3.3"))
    credit = secs["4"]
    assert any(cr.text[i] == NOT_FOR_TYPE and credit.status[i] == OK
               for cr in credit.clauses for i in range(len(result.units)))  # type-specific 信用体系
    assert sum(bool(v) for v in result.failed_vetoes) >= 20
    assert sum(s == INCOMPLETE for sr in secs.values() for s in sr.status) == 3
    assert any(len(u.sections) < 5 for u in result.units)
    assert len(result.units) == 200


# ------------------------------------------------------------------ recalculated by LibreOffice

@pytest.mark.libreoffice
@needs_office
def test_libreoffice_recalculates_the_hand_made_units(hand_made, tmp_path):
    _, result, out = hand_made
    numbers, texts, wrong = compare(result, sheets_as_csv(out, tmp_path / "csv"))
    assert not wrong, "\n".join(wrong)
    assert numbers > 100 and texts > 10


@pytest.mark.libreoffice
@needs_office
def test_libreoffice_recalculates_the_sample_units(samples, tmp_path):
    _, result, out = samples
    numbers, texts, wrong = compare(result, sheets_as_csv(out, tmp_path / "csv"))
    assert not wrong, "\n".join(wrong[:30])
    assert len(result.units) == 30 and numbers > 30 * 40


@pytest.mark.libreoffice
@needs_office
def test_libreoffice_recalculates_200_generated_units(many, tmp_path):
    _, result, out = many
    numbers, texts, wrong = compare(result, sheets_as_csv(out, tmp_path / "csv"))
    assert not wrong, "\n".join(wrong[:30])
    assert numbers > 200 * 40


@pytest.mark.libreoffice
@needs_office
def test_a_wrong_cached_value_is_recalculated(tmp_path):
    """The cache says 县教育局 scored 12.34 on 政务公开; LibreOffice must compute the formula's 94 instead."""
    inputs = make_inputs(tmp_path)
    result = score(RULES, inputs.units, inputs.tables, inputs.blocked)
    public = result.sections["1"]
    total = public.total.copy()
    total[0] = D("12.34")
    tampered = dataclasses.replace(result, sections={**result.sections, "1": dataclasses.replace(public, total=total)})
    _, _, out = write(inputs, tmp_path / "result.xlsx", tampered)
    cached = openpyxl.load_workbook(out, data_only=True)["政务公开"]["C3"].value
    assert cached == 12.34
    sheets = sheets_as_csv(out, tmp_path / "csv")
    assert sheets["政务公开"][2][:3] == ["县教育局", "县直部门", "94"]
    assert compare(result, sheets)[2] == []
