"""Cell values as typed by an office → the values the rules work with (spec: 「Yes/no and number input accepted」).

Pure functions. :func:`scalar` decides one raw value; :func:`column` decides a whole column at once by
deciding each *distinct* value once (filled sheets repeat a handful of values: 是, 否, 0, 1, ...), so a
sheet of 100,000 units costs a hash pass per column, not a Python call per cell.

A raw value is what the workbook reader returns: ``str``, ``float``, ``int``, ``bool``, a date or time,
``""`` for an empty cell, or a :class:`CellError` for an Excel error value.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Callable

import numpy as np
import pandas as pd

from .cleantext import EXCEL_CELL_LIMIT, clean_text
from .rules import CHOICE, COUNT, NA, NOT_APPLICABLE, SCORE, TEXT, YESNO, Field

# Status of a cell after normalisation (small ints so whole columns are numpy arrays).
OK = 0
BLANK = 1
INVALID = 2
OUT_OF_RANGE = 3
ERROR = 4
MERGED = 5  # set by the reader: the cell lies inside a merged range

# No count or score in an assessment comes near this; it keeps a typed "1e999999" from building a
# giant integer while the rules themselves set no upper bound.
LIMIT = Decimal(10) ** 9

YES_WORDS = frozenset({"是", "√", "✓", "y", "yes", "有", "完成", "已完成", "true", "1"})
NO_WORDS = frozenset({"否", "×", "✗", "n", "no", "无", "未完成", "false", "0"})
ERROR_LITERALS = frozenset({"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!",
                            "#SPILL!", "#CALC!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#UNKNOWN!"})
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_SPACES = re.compile(r"\s+")


class CellError(str):
    """An Excel error value (``#DIV/0!``) found in the file; kept apart from text so it is never a blank."""


@dataclass(frozen=True)
class Column:
    """A normalised column: ``values`` (object: the rule value, None when blank or rejected) and
    ``status`` (int8: OK, BLANK, INVALID, OUT_OF_RANGE, ERROR), aligned with the raw cells."""

    values: np.ndarray
    status: np.ndarray


def clean(value: str) -> str:
    """Full-width letters, digits and the ideographic space (U+3000) made plain (NFKC), then stripped."""
    return unicodedata.normalize("NFKC", value).strip()


def display(value: object) -> str:
    """A raw value the way the user saw it: 3 not 3.0, dates as 2020-01-03, errors as their text."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return "" if value is None else str(value)


def _text_or_status(value: object) -> str | int:
    """Cleaned text of a text cell, or the status that decides it already (blank, error value)."""
    if isinstance(value, CellError):
        return ERROR
    text = clean(value)
    if not text:
        return BLANK
    if text.upper() in ERROR_LITERALS:
        return ERROR
    return text


def number(value: object) -> tuple[Decimal | None, int]:
    """A number cell or a number stored as text (``"3"``, ``"３"``, ``" 2.5 "``) as an exact Decimal.

    Floats go through their shortest repr, so 23.45 stays 23.45. Dates, booleans, exponents and words
    are not numbers here.
    """
    if value is None or isinstance(value, bool):
        return None, BLANK if value is None else INVALID
    if isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None, INVALID
        result = Decimal(repr(value))
    elif isinstance(value, str):
        text = _text_or_status(value)
        if isinstance(text, int):
            return None, text
        if not _NUMBER.fullmatch(text):
            return None, INVALID
        try:
            result = Decimal(text)
        except InvalidOperation:
            return None, INVALID
    else:
        return None, INVALID
    if abs(result) > LIMIT:
        return None, OUT_OF_RANGE
    return result, OK


def yesno(value: object) -> tuple[bool | None, int]:
    """是/否 and their accepted variants (spec list), TRUE/FALSE cells, 1/0."""
    if isinstance(value, bool):
        return value, OK
    if isinstance(value, (int, float)):
        return (True, OK) if value == 1 else (False, OK) if value == 0 else (None, INVALID)
    if not isinstance(value, str):
        return None, BLANK if value is None else INVALID
    text = _text_or_status(value)
    if isinstance(text, int):
        return None, text
    word = text.lower()
    if word in YES_WORDS:
        return True, OK
    if word in NO_WORDS:
        return False, OK
    return None, INVALID


def count(value: object) -> tuple[int | None, int]:
    """A whole number ≥ 0: 3, 3.0 and "3" are 3; 3.5 is invalid, -1 out of range."""
    result, status = number(value)
    if status != OK:
        return None, status
    if result != result.to_integral_value():
        return None, INVALID
    if result < 0:
        return None, OUT_OF_RANGE
    return int(result), OK


def score(value: object) -> tuple[Decimal | None, int]:
    """A points value ≥ 0 (decimals allowed); the upper bound depends on the unit type (see :func:`column`)."""
    result, status = number(value)
    if status != OK:
        return None, status
    if result < 0:
        return None, OUT_OF_RANGE
    if result == result.to_integral_value():
        result = Decimal(int(result))
    return result, OK


def _squeeze(text: str) -> str:
    return _SPACES.sub("", clean(text))


def choice(value: object, options: tuple[str, ...]) -> tuple[str | None, int]:
    """One of the options exactly, once spaces and full-width characters are normalised away."""
    if not isinstance(value, str):
        return None, BLANK if value is None else INVALID
    text = _text_or_status(value)
    if isinstance(text, int):
        return None, text
    wanted = _squeeze(text)
    for option in options:
        if _squeeze(option) == wanted:
            return option, OK
    return None, INVALID


def not_applicable(value: object) -> tuple[bool, int]:
    """The 本项不适用 column: “不适用” is True; blank is False (status BLANK, so it counts as not filled)."""
    if not isinstance(value, str):
        return False, BLANK if value is None else INVALID
    text = _text_or_status(value)
    if isinstance(text, int):
        return False, text
    return (True, OK) if _squeeze(text) == NOT_APPLICABLE else (False, INVALID)


def text(value: object) -> tuple[str | None, int]:
    """Free text (a bonus reason): stripped; numbers and dates kept as the user saw them."""
    if isinstance(value, CellError):
        return None, ERROR
    if value is None:
        return None, BLANK
    if not isinstance(value, str):
        return display(value), OK
    stripped = unicodedata.normalize("NFKC", value).strip()
    if not stripped:
        return None, BLANK
    if stripped.upper() in ERROR_LITERALS:
        return None, ERROR
    if len(value) >= EXCEL_CELL_LIMIT:  # calamine stops a longer text here without a word: say it was cut
        return clean_text(value.strip(), limit=EXCEL_CELL_LIMIT - 1), OK
    return value.strip(), OK


def decider(field: Field) -> Callable[[object], tuple[object, int]]:
    """The scalar function for a field's type."""
    if field.type == YESNO:
        return yesno
    if field.type == COUNT:
        return count
    if field.type == SCORE:
        return score
    if field.type == CHOICE:
        return lambda value: choice(value, field.choices)
    if field.type == NA:
        return not_applicable
    if field.type == TEXT:
        return text
    raise ValueError(f"unknown field type {field.type!r}")


def scalar(field: Field, value: object, unit_type: str | None = None) -> tuple[object, int]:
    """One cell: (rule value or None, status); a score above the unit type's maximum is OUT_OF_RANGE."""
    result, status = decider(field)(value)
    upper = field.maximum(unit_type) if unit_type is not None and field.type == SCORE else None
    if status == OK and upper is not None and result > upper:
        return None, OUT_OF_RANGE
    return result, status


class _Bool:
    """Stands in for a bool cell while factorising: True == 1 == 1.0 would otherwise share one slot."""

    __slots__ = ("value",)

    def __init__(self, value: bool):
        self.value = value


_TRUE, _FALSE = _Bool(True), _Bool(False)


def distinct(raw: np.ndarray) -> tuple[np.ndarray, list]:
    """Each cell's code and the distinct cells (blanks included), so that work is done once per value;
    a bool cell never shares a value with the number 1 or 0 (which equal True and False).

    Codes number the values in order of first appearance and each value is the cell where it first
    appears, whichever way it is found: a column of numbers only is hashed as floats (cheaper than as
    objects), and cells are looked at one by one only when a bool may hide behind a 1 or a 0."""
    if len(raw) and type(raw[0]) is float and pd.api.types.infer_dtype(raw, skipna=False) == "floating":
        codes, _ = pd.factorize(raw.astype(np.float64), use_na_sentinel=False)
        return codes, raw[first_appearances(codes)].tolist()
    codes, uniques = _factorize(raw)
    bool_like = [k for k, u in enumerate(uniques) if _bool_like(u)]
    if not bool_like or _numbers_only(raw[np.isin(codes, bool_like)]):
        return codes, list(uniques)
    is_bool = np.frompyfunc(type, 1, 1)(raw) == bool
    if not is_bool.any():
        return codes, list(uniques)
    keys = raw.copy()
    keys[is_bool] = np.where(raw[is_bool].astype(bool), _TRUE, _FALSE)
    codes, uniques = _factorize(keys)
    return codes, [u.value if isinstance(u, _Bool) else u for u in uniques]


def _factorize(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` with None and NaN counted as values too. Asked first to leave them out, which spares
    pandas a pass looking for them over every cell: a sheet has none (calamine reads an empty cell as "")."""
    codes, uniques = pd.factorize(cells)
    if (codes < 0).any():
        codes, uniques = pd.factorize(cells, use_na_sentinel=False)
    return codes, uniques


def _numbers_only(cells: np.ndarray) -> bool:
    """Whether the cells are ints and floats only (pandas' kinds for these never take in a bool)."""
    return pd.api.types.infer_dtype(cells, skipna=False) in ("floating", "integer", "mixed-integer-float")


def _bool_like(value: object) -> bool:
    """Whether a bool cell could share this value's slot (it equals True or False)."""
    return not isinstance(value, str) and (value is True or value is False or value == 1 or value == 0)


def first_appearances(codes: np.ndarray) -> np.ndarray:
    """Where each code first appears (codes numbered in order of first appearance, as pd.factorize does):
    where the running maximum grows."""
    return np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)


def column(field: Field, raw: np.ndarray, types: np.ndarray | None = None) -> Column:
    """Normalise a whole column of raw cells; ``types`` (unit type per cell) bounds SCORE fields."""
    n = len(raw)
    raw = np.asarray(raw, dtype=object)
    if n == 0:
        return Column(np.empty(0, dtype=object), np.empty(0, dtype=np.int8))
    codes, uniques = distinct(raw)
    decide = decider(field)
    decided = [decide(u) for u in uniques]
    unique_values = np.empty(len(decided), dtype=object)
    unique_values[:] = [d[0] for d in decided]
    unique_status = np.array([d[1] for d in decided], dtype=np.int8)
    values = unique_values[codes]
    status = unique_status[codes]
    if field.type == SCORE and types is not None:
        for unit_type, upper in field.maxima.items():
            if upper is None:
                continue
            over_unique = np.array([s == OK and v > upper for v, s in zip(unique_values, unique_status)], bool)
            if not over_unique.any():
                continue
            over = over_unique[codes] & (np.asarray(types, dtype=object) == unit_type)
            status[over] = OUT_OF_RANGE
    if field.type != NA:
        values[status != OK] = None
    return Column(values, status)

