"""Proven in a real office suite: LibreOffice Calc opens, prints and round-trips what we write."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from kaoping_xlsx.rules import load_rules
from kaoping_xlsx.template import load_units, write_template
from office import convert, needs_office, pdf_pages

pytestmark = [pytest.mark.libreoffice, needs_office]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    rules = load_rules()
    out = tmp_path_factory.mktemp("模板") / "考评填报表.xlsx"
    write_template(rules, load_units(ROOT / "samples" / "units.xlsx", rules), out)
    return out


def _validations(path: Path) -> dict[str, set[tuple]]:
    """Each sheet's validations, as the rule they enforce (LibreOffice spells defaults out)."""
    book = load_workbook(path)
    out = {}
    for ws in book.worksheets:
        rules = set()
        for dv in ws.data_validations.dataValidation:
            operator = dv.operator or "between"  # absent means between (ECMA-376)
            kind = dv.type or "any"  # "any" only carries a prompt; its formulas mean nothing
            ranged = kind not in ("list", "any") and operator in ("between", "notBetween")
            formula = "" if kind == "any" else (dv.formula1 or "").strip('"')
            rules.add((kind, formula, dv.formula2 if ranged else None,
                       None if kind in ("list", "any") else operator, " ".join(sorted(str(dv.sqref).split())),
                       dv.allow_blank, dv.promptTitle, dv.prompt, dv.errorStyle or "stop", dv.error))
        out[ws.title] = rules
    return out


def test_template_prints_to_pdf(template, tmp_path):
    [pdf] = convert(template, "pdf", tmp_path / "pdf")
    # 填表说明 plus five section sheets, each at least one landscape page wide.
    assert pdf_pages(pdf) >= 6


def test_template_validations_survive_a_libreoffice_round_trip(template, tmp_path):
    [copy] = convert(template, "xlsx:Calc MS Excel 2007 XML", tmp_path / "roundtrip")
    ours, theirs = _validations(template), _validations(copy)
    for sheet in load_rules().sections:
        assert ours[sheet.sheet], sheet.sheet
        assert theirs[sheet.sheet] == ours[sheet.sheet], sheet.sheet


def test_workbooks_saved_by_libreoffice_score_the_same(tmp_path):
    """Offices may fill and save in LibreOffice: it rewrites the whole file (the meta sheet becomes
    merely hidden, styles and strings are renumbered), and every unit must still score the same."""
    from datetime import datetime

    from kaoping_xlsx.api import score_files

    samples = sorted((ROOT / "samples" / "回收表格").glob("*.xlsx"))
    saved = []
    for path in samples:
        saved += convert(path, "xlsx:Calc MS Excel 2007 XML", tmp_path / "另存")
    rules = load_rules()
    when = datetime(2021, 1, 15, 9, 0)
    ours = score_files(samples, rules, tmp_path / "原样.xlsx", run_time=when)
    theirs = score_files(saved, rules, tmp_path / "另存后.xlsx", run_time=when)
    assert [p.code for p in theirs.inputs.problems] == [p.code for p in ours.inputs.problems]
    assert list(theirs.result.total) == list(ours.result.total)
    assert list(theirs.result.rank) == list(ours.result.rank)
    assert list(theirs.result.downgrade) == list(ours.result.downgrade)
