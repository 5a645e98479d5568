"""Text widths: column widths, row heights and console tables all rest on display_width."""

import math
import unicodedata

import pytest

from kaoping_xlsx.describe import display_width, display_widths, wrapped_lines, wrapped_lines_of


def reference_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def test_every_bmp_character_has_its_unicodedata_width():
    # The bulk measure looks characters up in a table built from unicodedata; it must agree everywhere.
    characters = [chr(c) for c in range(0x10000)]
    assert display_widths(characters).tolist() == [reference_width(ch) for ch in characters]
    assert [display_width(ch) for ch in characters] == [reference_width(ch) for ch in characters]


def test_characters_beyond_the_bmp_have_their_unicodedata_width():
    characters = [chr(c) for c in range(0x10000, 0x30000)]  # emoji, CJK extensions B to F
    assert display_widths(characters).tolist() == [reference_width(ch) for ch in characters]


@pytest.mark.parametrize("text, width", [
    ("", 0),
    ("abc 12.5", 8),
    ("政务公开", 8),
    ("评议组A 85.3×0.5", 16),  # × is ambiguous width: one
    ("（全角）ＡＢ", 12),  # full-width forms count two
    ("得分😀", 6),  # beyond the BMP
    ("𠀀a", 3),  # CJK extension B (plane 2) is wide
])
def test_display_width(text, width):
    assert display_width(text) == width == reference_width(text)


def test_display_widths_of_many_texts_at_once():
    texts = ["", "政务公开", "", "ab", "得分😀", "\ud800x", ""]  # blanks anywhere, a lone surrogate
    assert display_widths(texts).tolist() == [reference_width(t) for t in texts] == [0, 8, 0, 2, 6, 2, 0]
    assert display_widths([]).tolist() == []


@pytest.mark.parametrize("text, column, lines", [
    ("短", 10, 1),
    ("", 10, 1),
    ("一二三四五六七八九十", 10, 3),  # 20 units in 8.5 usable
    ("一二三\n四五六", 30, 2),  # each line break starts a line
    ("一二三四五六七八九十\nab", 10, 4),
])
def test_wrapped_lines(text, column, lines):
    assert wrapped_lines(text, column) == lines == wrapped_lines_of([text], column)[0]
    usable = column - 1.5
    assert lines == sum(max(1, math.ceil(reference_width(p) / usable)) for p in text.split("\n"))
