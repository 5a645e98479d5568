"""The one A1 helper: letters, cells, ranges and sheet quoting."""

import pytest

from kaoping_xlsx.xlref import cell, cell_range, col_index, col_letter, parse_cell, quote_sheet, sheet_cell


@pytest.mark.parametrize("index, letters", [(0, "A"), (25, "Z"), (26, "AA"), (51, "AZ"), (52, "BA"),
                                            (701, "ZZ"), (702, "AAA"), (16383, "XFD")])
def test_column_letters_round_trip(index, letters):
    assert col_letter(index) == letters
    assert col_index(letters) == index
    assert col_index(letters.lower()) == index


@pytest.mark.parametrize("bad", [-1, 16384])
def test_column_out_of_range(bad):
    with pytest.raises(ValueError):
        col_letter(bad)


@pytest.mark.parametrize("ref, rc", [("A1", (0, 0)), ("F12", (11, 5)), ("$B$3", (2, 1)), ("XFD1048576", (1048575, 16383))])
def test_cells_round_trip(ref, rc):
    assert parse_cell(ref) == rc
    assert cell(*rc) == ref.replace("$", "")


@pytest.mark.parametrize("bad", ["", "A0", "1A", "XFE1", "A1048577", "A1:B2", "放管服!A1"])
def test_parse_cell_rejects(bad):
    with pytest.raises(ValueError):
        parse_cell(bad)


def test_sheet_quoting_always_quotes_and_doubles_apostrophes():
    assert quote_sheet("放管服") == "'放管服'"
    assert quote_sheet("O'Brien") == "'O''Brien'"
    assert sheet_cell("放管服", 11, 5) == "'放管服'!F12"


def test_range():
    assert cell_range(0, 0, 9, 2) == "A1:C10"
    assert cell_range(3, 3, 3, 3) == "D4"
