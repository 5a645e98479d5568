"""clean_text: what any input text becomes before it is written to an output cell."""

import pytest

from kaoping_xlsx.cleantext import CUT_NOTE, EXCEL_CELL_LIMIT, clean_text, clean_texts


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@pytest.mark.parametrize("text, cut", [
    pytest.param("理" * EXCEL_CELL_LIMIT, False, id="BMP text exactly at Excel's limit: kept whole"),
    pytest.param("理" * (EXCEL_CELL_LIMIT + 1), True, id="BMP text one over: cut"),
    pytest.param("😀" * (EXCEL_CELL_LIMIT // 2), False, id="16,383 emoji = 32,766 UTF-16 units: kept"),
    pytest.param("a" + "😀" * (EXCEL_CELL_LIMIT // 2), False, id="32,767 units exactly: kept"),
    pytest.param("ab" + "😀" * (EXCEL_CELL_LIMIT // 2), True, id="32,768 units: cut"),
    pytest.param("😀" * 20_000, True, id="20,000 characters, 40,000 units: cut"),
])
def test_cut_by_excel_utf16_units_with_the_note(text, cut):
    out = clean_text(text)
    assert utf16_units(out) <= EXCEL_CELL_LIMIT
    assert out.endswith(CUT_NOTE) == cut
    if cut:
        assert text.startswith(out[: -len(CUT_NOTE)]) and "\ud83d" not in out  # no half of a pair left
    else:
        assert out == text


def test_control_characters_and_line_ends():
    assert clean_text("a\r\nb\rc\x07d\x00") == "a\nb\ncd"
    assert clean_text(None) == "" and clean_text(3) == "3"
    assert clean_text("长" * 30, limit=20) == "长" * (20 - len(CUT_NOTE)) + CUT_NOTE


@pytest.mark.parametrize("values", [
    pytest.param(["单位一", "单位二", "", "x" * (EXCEL_CELL_LIMIT // 2)], id="nothing to clean"),
    pytest.param(["单位一", None, 3, 2.5], id="blanks and numbers"),
    pytest.param(["单位一", "a\r\nb"], id="a line end"),
    pytest.param(["单位一", "a\x07"], id="a control character"),
    pytest.param(["\ud83d", "\ude00"], id="halves of a pair, apart"),
    pytest.param(["单位一", "理" * (EXCEL_CELL_LIMIT + 1)], id="one too long"),
    pytest.param([], id="none"),
])
def test_clean_texts_is_clean_text_of_each(values):
    assert clean_texts(values) == [clean_text(v) for v in values]
    assert clean_texts(values, limit=20) == [clean_text(v, limit=20) for v in values]
