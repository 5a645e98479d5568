"""Normalisation exactly as the spec's 「Yes/no and number input accepted」 says, and nothing more."""

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from kaoping_xlsx.normalize import (BLANK, ERROR, INVALID, OK, OUT_OF_RANGE, CellError, column, display, distinct,
                                    scalar)
from kaoping_xlsx.rules import load_rules

RULES = load_rules()
F = RULES.fields


@pytest.mark.parametrize("value", ["是", "√", "✓", "Y", "y", "yes", "YES", "有", "完成", "已完成", "TRUE", "1",
                                   1.0, True, " 是 ", "\u3000是\u3000", "Ｙ", "１"])
def test_yes(value):
    assert scalar(F["1.1.group"], value) == (True, OK)


@pytest.mark.parametrize("value", ["否", "×", "✗", "N", "n", "no", "无", "未完成", "FALSE", "0", 0.0, False, "ｎｏ"])
def test_no(value):
    assert scalar(F["1.1.group"], value) == (False, OK)


@pytest.mark.parametrize("value, status", [("", BLANK), ("  ", BLANK), ("\u3000", BLANK), ("x", INVALID),
                                           ("NA", INVALID), ("None", INVALID), ("null", INVALID), (2.0, INVALID),
                                           ("是的", INVALID), (CellError("#N/A"), ERROR), ("#DIV/0!", ERROR),
                                           (dt.date(2020, 1, 1), INVALID)])
def test_yesno_rejects(value, status):
    assert scalar(F["1.1.group"], value) == (None, status)


@pytest.mark.parametrize("value, expected", [("3", 3), (3.0, 3), (3, 3), ("３", 3), (" 3 ", 3), ("3.0", 3),
                                             (0.0, 0), ("０", 0), ("+3", 3)])
def test_count_accepts(value, expected):
    result, status = scalar(F["1.2.2.missed"], value)
    assert (result, status) == (expected, OK) and type(result) is int


@pytest.mark.parametrize("value, status", [
    (3.5, INVALID), ("3.5", INVALID), (-1.0, OUT_OF_RANGE), ("-1", OUT_OF_RANGE), ("三", INVALID),
    (dt.date(2020, 3, 1), INVALID), (dt.datetime(2020, 3, 1, 8, 0), INVALID), (dt.time(3, 0), INVALID),
    (CellError("#N/A"), ERROR), ("#N/A", ERROR), ("NA", INVALID), ("None", INVALID), ("null", INVALID),
    (True, INVALID), ("1e3", INVALID), ("3条", INVALID), ("", BLANK), (1e12, OUT_OF_RANGE),
    ("9" * 400, OUT_OF_RANGE),
])
def test_count_rejects(value, status):
    assert scalar(F["1.2.2.missed"], value) == (None, status)


def test_score_keeps_the_decimal_the_user_saw():
    assert scalar(F["3.1.score"], 23.45, "乡镇") == (Decimal("23.45"), OK)
    assert scalar(F["3.1.score"], "２３．４５", "乡镇") == (Decimal("23.45"), OK)
    assert scalar(F["3.1.score"], 0.1 + 0.2, "乡镇")[0] == Decimal("0.30000000000000004")  # what Excel stored
    assert scalar(F["3.1.score"], 25.0, "乡镇") == (Decimal(25), OK)


def test_score_range_depends_on_unit_type():
    assert scalar(F["4.1.score"], 25, "乡镇") == (Decimal(25), OK)
    assert scalar(F["4.1.score"], 25, "县直部门") == (None, OUT_OF_RANGE)
    assert scalar(F["4.1.score"], -0.5, "乡镇") == (None, OUT_OF_RANGE)
    assert scalar(F["3.6.points"], 7, "乡镇") == (Decimal(7), OK)  # bonus: capped by the engine, not rejected


def test_choice_after_spaces_and_full_width():
    assert scalar(F["2.2.status"], " 已出台　并落实 ") == ("已出台并落实", OK)
    assert scalar(F["2.2.status"], "已出台") == (None, INVALID)
    assert scalar(F["2.2.status"], 5.0) == (None, INVALID)


def test_not_applicable_column():
    assert scalar(F["2.1.na"], "不适用") == (True, OK)
    assert scalar(F["2.1.na"], " 不 适 用 ") == (True, OK)
    assert scalar(F["2.1.na"], "") == (False, BLANK)
    assert scalar(F["2.1.na"], "是") == (False, INVALID)


def test_text_is_stripped():
    assert scalar(F["3.6.reason"], "  获省级表彰\u3000") == ("获省级表彰", OK)
    assert scalar(F["3.6.reason"], "") == (None, BLANK)
    assert scalar(F["3.6.reason"], CellError("#REF!")) == (None, ERROR)


def test_column_matches_scalar_and_keeps_bools_apart_from_numbers():
    raw = np.array([True, 1.0, "1", False, 0.0, "", "三", 2.0, CellError("#N/A")] * 3, dtype=object)
    for key in ("1.1.group", "1.2.2.missed"):
        col = column(F[key], raw)
        expect = [scalar(F[key], v) for v in raw]
        assert list(zip(col.values, col.status)) == expect


def test_column_bounds_scores_per_unit_type():
    raw = np.array([25, 25, 10.5, 10.5], dtype=object)
    types = np.array(["乡镇", "县直部门", "乡镇", "县直部门"], dtype=object)
    col = column(F["4.1.score"], raw, types)
    assert list(col.status) == [OK, OUT_OF_RANGE, OK, OUT_OF_RANGE]
    assert list(col.values) == [Decimal(25), None, Decimal("10.5"), None]


def test_display_shows_what_the_user_saw():
    assert [display(v) for v in (3.0, 3.5, True, dt.date(2020, 1, 3), dt.datetime(2020, 1, 3, 8, 30), None)] == [
        "3", "3.5", "TRUE", "2020-01-03", "2020-01-03 08:30:00", ""]


@pytest.mark.parametrize("cells", [[True, 1, 1.0, False, 0], [1, True, 0, False, 1.0]])
def test_distinct_keeps_bool_cells_apart_from_numbers(cells):
    # pandas hashes True, 1 and 1.0 alike; a 是/否 cell must not take the place of a count of 1 (or the
    # other way round) in whichever order they come.
    codes, uniques = distinct(np.array(cells, dtype=object))
    back = [uniques[c] for c in codes]
    assert back == cells
    assert [isinstance(v, bool) for v in back] == [isinstance(v, bool) for v in cells]
