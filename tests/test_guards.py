"""File guards: every hostile or broken file is refused with one Chinese line, every fact comes from the
real cells, and nothing is decompressed or held beyond the limits. Each test builds its own file."""

from __future__ import annotations

import re
import struct
import tracemalloc
import zipfile
import zlib
from itertools import product
from pathlib import Path
from typing import Callable

import openpyxl
import openpyxl.chart
import openpyxl.xml
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kaoping_xlsx import guards
from kaoping_xlsx.guards import FileFacts, Refused, inspect
from kaoping_xlsx.problems import Code
from kaoping_xlsx.xlref import MAX_ROW, col_letter

from hostile import MAIN_NS, XML_HEAD, ole_file, parts, patch_declared_size, worksheet, write_zip
from office import convert, needs_office

NAME = "回收表格/放管服办.xlsx"


def refused(path: Path) -> Refused:
    with pytest.raises(Refused) as caught:
        inspect(path, NAME)
    problem = caught.value.problem
    assert problem.file == NAME
    assert NAME in problem.message and "\n" not in problem.message
    return caught.value


def sheet_xlsx(tmp_path: Path, sheet_data: bytes, after: bytes = b"", name: str = "放管服") -> Path:
    return write_zip(tmp_path / "f.xlsx", parts({name: worksheet(sheet_data, after)}))


# --- format by content ---------------------------------------------------------------------------


def test_empty_file(tmp_path):
    path = tmp_path / "f.xlsx"
    path.write_bytes(b"")
    assert refused(path).problem.code is Code.FILE_EMPTY


def test_missing_file_is_unreadable_not_a_traceback(tmp_path):
    assert refused(tmp_path / "nowhere.xlsx").problem.code is Code.FILE_UNREADABLE


@pytest.mark.parametrize("streams", [("EncryptionInfo", "EncryptedPackage"), ("EncryptedPackage",)])
def test_encrypted_ooxml_in_ole(tmp_path, streams):
    problem = refused(ole_file(tmp_path / "f.xlsx", *streams)).problem
    assert problem.code is Code.FILE_ENCRYPTED and "密码" in problem.message


def test_legacy_xls_says_save_as_xlsx(tmp_path):
    problem = refused(ole_file(tmp_path / "f.xlsx", "Workbook", "\x05SummaryInformation")).problem
    assert problem.code is Code.FILE_NOT_XLSX and ".xls" in problem.message and "另存为" in problem.message


def test_word_doc_in_ole(tmp_path):
    problem = refused(ole_file(tmp_path / "f.xlsx", "WordDocument")).problem
    assert problem.code is Code.FILE_NOT_XLSX and "Word" in problem.message


def test_ods(tmp_path):
    path = write_zip(tmp_path / "f.xlsx", {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                                          "content.xml": XML_HEAD + b"<office:document-content/>"},
                     zipfile.ZIP_STORED)
    problem = refused(path).problem
    assert problem.code is Code.FILE_NOT_XLSX and ".ods" in problem.message


def test_xlsb(tmp_path):
    members = parts()
    del members["xl/workbook.xml"]
    members["xl/workbook.bin"] = b"\x83\x01\x00"
    problem = refused(write_zip(tmp_path / "f.xlsx", members)).problem
    assert problem.code is Code.FILE_NOT_XLSX and ".xlsb" in problem.message


def test_strict_open_xml_says_save_as_a_plain_workbook(tmp_path):
    # Excel's "Strict Open XML Spreadsheet" uses other namespaces; before, it was called damaged.
    strict = {"http://schemas.openxmlformats.org/spreadsheetml/2006/main": "http://purl.oclc.org/ooxml/spreadsheetml/main",
              "http://schemas.openxmlformats.org/officeDocument/2006/relationships":
                  "http://purl.oclc.org/ooxml/officeDocument/relationships"}
    members = {}
    for name, data in parts().items():
        for transitional, purl in strict.items():
            data = data.replace(transitional.encode(), purl.encode())
        members[name] = data
    problem = refused(write_zip(tmp_path / "严格.xlsx", members)).problem
    assert problem.code is Code.FILE_NOT_XLSX
    assert problem.message == (f"文件“{NAME}”（部件 xl/workbook.xml）是“Strict Open XML 电子表格”格式，无法读取；"
                               "请在Excel中“另存为”“Excel工作簿(*.xlsx)”（不要选Strict）后再报送。")


def test_docx_renamed(tmp_path):
    path = write_zip(tmp_path / "f.xlsx", {"[Content_Types].xml": XML_HEAD + b"<Types/>",
                                          "word/document.xml": XML_HEAD + b"<w:document/>"})
    problem = refused(path).problem
    assert problem.code is Code.FILE_NOT_XLSX and "Word" in problem.message


def test_plain_zip(tmp_path):
    problem = refused(write_zip(tmp_path / "f.xlsx", {"a.txt": b"hello"})).problem
    assert problem.code is Code.FILE_NOT_XLSX


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030", "utf-16"])
def test_csv_saved_as_xlsx(tmp_path, encoding):
    path = tmp_path / "f.xlsx"
    path.write_bytes(("单位,是否完成\n县教育局,是\n" * 300).encode(encoding))
    problem = refused(path).problem
    assert problem.code is Code.FILE_NOT_XLSX and "CSV" in problem.message


def test_html_saved_as_xlsx(tmp_path):
    path = tmp_path / "f.xlsx"
    path.write_bytes(b"<html><head><meta charset='utf-8'></head><body><table><tr><td>1</td></tr></table></body></html>")
    problem = refused(path).problem
    assert problem.code is Code.FILE_NOT_XLSX and "HTML" in problem.message


def test_unknown_binary(tmp_path):
    path = tmp_path / "f.xlsx"
    path.write_bytes(bytes(range(256)) * 4)
    assert refused(path).problem.code is Code.FILE_NOT_XLSX


def test_truncated_zip(tmp_path):
    whole = write_zip(tmp_path / "whole.xlsx", parts()).read_bytes()
    for keep in (10, len(whole) // 2, len(whole) - 5):
        path = tmp_path / f"cut{keep}.xlsx"
        path.write_bytes(whole[:keep])
        assert refused(path).problem.code is Code.FILE_CORRUPT


def test_damaged_part_data_fails_its_checksum(tmp_path):
    path = write_zip(tmp_path / "f.xlsx", parts(), zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    at = data.find(b"<sheetData>")
    data[at + 1] = ord("S")
    path.write_bytes(bytes(data))
    problem = refused(path).problem
    assert problem.code is Code.FILE_CORRUPT and "xl/worksheets/sheet1.xml" in problem.message


def test_zip_level_encryption(tmp_path):
    path = write_zip(tmp_path / "f.xlsx", parts(), zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at >= 0:
            data[at + flag_at] |= 1
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))
    assert refused(path).problem.code is Code.FILE_ENCRYPTED


def test_unusual_compression_method(tmp_path):
    path = write_zip(tmp_path / "f.xlsx", parts(), zipfile.ZIP_BZIP2)
    assert refused(path).problem.code is Code.FILE_CORRUPT


def test_duplicate_part_names(tmp_path):
    path = write_zip(tmp_path / "f.xlsx", parts())
    with pytest.warns(UserWarning), zipfile.ZipFile(path, "a") as archive:
        archive.writestr("xl/workbook.xml", b"<workbook/>")
    assert refused(path).problem.code is Code.FILE_CORRUPT


def test_duplicate_and_missing_sheets(tmp_path):
    members = parts({"甲": worksheet(b""), "乙": worksheet(b"")})
    members["xl/workbook.xml"] = members["xl/workbook.xml"].replace("乙".encode(), "甲".encode())
    assert refused(write_zip(tmp_path / "dup.xlsx", members)).problem.code is Code.FILE_CORRUPT
    members = parts({"甲": worksheet(b"")})
    del members["xl/worksheets/sheet1.xml"]
    assert refused(write_zip(tmp_path / "gone.xlsx", members)).problem.code is Code.FILE_CORRUPT


# --- zip bombs -----------------------------------------------------------------------------------


def test_compression_ratio_bomb(tmp_path):
    bomb = worksheet(b"<row r='1'><c r='A1' t='inlineStr'><is><t>" + b" " * (20 * 1024**2) + b"</t></is></c></row>")
    path = write_zip(tmp_path / "f.xlsx", parts({"放管服": bomb}))
    assert path.stat().st_size < 100_000
    problem = refused(path).problem
    assert problem.code is Code.FILE_TOO_LARGE and "xl/worksheets/sheet1.xml" in problem.message
    assert "压缩比" in problem.message


def test_declared_total_size(tmp_path):
    path = write_zip(tmp_path / "f.xlsx", parts())
    patch_declared_size(path, "xl/sharedStrings.xml", guards.MAX_TOTAL + 1)
    problem = refused(path).problem
    assert problem.code is Code.FILE_TOO_LARGE and "压缩炸弹" in problem.message


def test_directory_that_understates_a_part(tmp_path):
    """The directory says 1 KB; the data inflates to 2 MB. Streaming stops at the declared size."""
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (i, i) for i in range(1, 60_000))
    path = write_zip(tmp_path / "f.xlsx", parts({"放管服": worksheet(rows)}))
    patch_declared_size(path, "xl/worksheets/sheet1.xml", 1024)
    problem = refused(path).problem
    assert problem.code is Code.FILE_TOO_LARGE and "目录" in problem.message


def test_huge_directory_refused_from_the_end_record(tmp_path):
    path = write_zip(tmp_path / "f.xlsx", parts())
    data = bytearray(path.read_bytes())
    data[data.rfind(b"PK\x05\x06") + 10: data.rfind(b"PK\x05\x06") + 12] = b"\xfe\xff"  # 65,534 entries
    path.write_bytes(bytes(data))
    assert refused(path).problem.code is Code.FILE_TOO_LARGE


def test_two_sheets_sharing_one_part(tmp_path):
    members = parts({"甲": worksheet(b""), "乙": worksheet(b"")})
    members["xl/_rels/workbook.xml.rels"] = members["xl/_rels/workbook.xml.rels"].replace(b"sheet2", b"sheet1")
    assert refused(write_zip(tmp_path / "f.xlsx", members)).problem.code is Code.FILE_CORRUPT


def test_entry_count(tmp_path, monkeypatch):
    monkeypatch.setattr(guards, "MAX_ENTRIES", 20)
    members = parts()
    members.update({f"xl/media/image{i}.png": b"\x89PNG" for i in range(20)})
    problem = refused(write_zip(tmp_path / "f.xlsx", members)).problem
    assert problem.code is Code.FILE_TOO_LARGE and "部件" in problem.message


# --- XML safety ----------------------------------------------------------------------------------

BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>')
EXTERNAL = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
PLAIN_DTD = b'<?xml version="1.0"?><!doctype worksheet SYSTEM "http://example.com/x.dtd">'
UNSAFE_PARTS = ["[Content_Types].xml", "_rels/.rels", "docProps/core.xml", "xl/workbook.xml",
                "xl/_rels/workbook.xml.rels", "xl/styles.xml", "xl/sharedStrings.xml", "xl/worksheets/sheet1.xml"]


@pytest.mark.parametrize("part", UNSAFE_PARTS)
@pytest.mark.parametrize("prolog", [BILLION_LAUGHS, EXTERNAL, PLAIN_DTD], ids=["laughs", "external", "dtd"])
def test_dtd_in_any_part(tmp_path, part, prolog):
    members = parts()
    members[part] = prolog + members[part].removeprefix(XML_HEAD)
    problem = refused(write_zip(tmp_path / "f.xlsx", members)).problem
    assert problem.code is Code.FILE_UNSAFE_XML and part in problem.message


def test_dtd_in_utf16_part(tmp_path):
    members = parts()
    text = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><sst/>'
    for encoding in ("utf-16-le", "utf-16-be"):
        members["xl/sharedStrings.xml"] = text.encode(encoding)
        assert refused(write_zip(tmp_path / "f.xlsx", members)).problem.code is Code.FILE_UNSAFE_XML


def test_dtd_in_an_unlisted_part(tmp_path):
    members = parts()
    members["xl/drawings/drawing1.xml"] = EXTERNAL + b"<x/>"
    assert refused(write_zip(tmp_path / "f.xlsx", members)).problem.code is Code.FILE_UNSAFE_XML


def test_dtd_split_across_chunks(tmp_path, monkeypatch):
    """Every offset of the declaration against tiny chunk sizes: the overlap must catch it."""
    sheet = worksheet(b'<row r="1"><c r="A1"><v>1</v></c></row>')
    for chunk in (5, 7, 11):
        monkeypatch.setattr(guards, "_CHUNK", chunk)
        for pad in range(chunk):
            members = parts({"放管服": b" " * pad + EXTERNAL + sheet.removeprefix(XML_HEAD)})
            assert refused(write_zip(tmp_path / "f.xlsx", members)).problem.code is Code.FILE_UNSAFE_XML


def test_utf16_dtd_and_look_alikes_split_across_chunks(tmp_path, monkeypatch):
    """Every offset against tiny chunk sizes, in UTF-16 (a declaration twice as long) and for text that
    holds a "!D" or "!E" but no declaration: refused exactly when there is one."""
    look_alikes = XML_HEAD + '<sst><si><t>{}x!DOCTYPE <!-- !Entity --> &lt;!ENTITY !e</t></si></sst>'.encode()
    for chunk in (5, 11, 17, 23):
        monkeypatch.setattr(guards, "_CHUNK", chunk)
        for pad in range(chunk):
            for declaration, encoding in product(("<!DOCTYPE x>", '<!ENTITY a "b">'), ("utf-16-le", "utf-16-be")):
                members = parts()
                members["xl/sharedStrings.xml"] = ('<?xml version="1.0" encoding="UTF-16"?>' + " " * pad
                                                   + declaration + "<sst/>").encode(encoding)
                assert refused(write_zip(tmp_path / "f.xlsx", members)).problem.code is Code.FILE_UNSAFE_XML
            members = parts()
            members["xl/sharedStrings.xml"] = look_alikes.replace(b"{}", b" " * pad)
            assert isinstance(inspect(write_zip(tmp_path / "f.xlsx", members), NAME), FileFacts), (chunk, pad)


def test_comments_and_cdata_are_not_dtds(tmp_path):
    members = parts()
    members["xl/styles.xml"] = members["xl/styles.xml"] + b"<!-- made by hand --><![CDATA[x]]>"
    assert isinstance(inspect(write_zip(tmp_path / "f.xlsx", members), NAME), FileFacts)


def test_exotic_encoding_is_refused(tmp_path):
    members = parts()
    members["xl/styles.xml"] = b'<?xml version="1.0" encoding="UTF-7"?>+ADw-!DOCTYPE x+AD4-<styleSheet/>'
    assert refused(write_zip(tmp_path / "f.xlsx", members)).problem.code is Code.FILE_UNSAFE_XML


@pytest.mark.parametrize("token", [b"<c r='A1' s='" + b"1" * (12 * 1024**2) + b"'/>",
                                   b"<c r='A1'><v>" + b"9" * (12 * 1024**2)], ids=["attribute", "text"])
def test_huge_token_in_bounded_memory(tmp_path, token):
    path = sheet_xlsx(tmp_path, b"<row r='1'>" + token)
    tracemalloc.start()
    try:
        problem = refused(path).problem
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert problem.code is Code.FILE_TOO_LARGE and "xl/worksheets/sheet1.xml" in problem.message
    assert peak < 48 * 1024**2


def test_openpyxl_uses_defusedxml():
    assert openpyxl.xml.DEFUSEDXML is True


# --- sheet facts ---------------------------------------------------------------------------------


def test_facts_of_an_xlsxwriter_workbook(tmp_path):
    path = tmp_path / "f.xlsx"
    book = xlsxwriter.Workbook(path)
    main = book.add_worksheet("放管服")
    main.write_string("A1", "单位")
    main.write_formula("B2", "=1/0", None, "#DIV/0!")
    main.write_formula("C3", "=NA()", None, "#N/A")
    main.write_formula("D4", "=1+1", None, 2)
    main.merge_range("E1:F2", "合并")
    main.write_number("H9", 1)
    hidden = book.add_worksheet("隐藏")
    hidden.hide()
    book.add_worksheet("空")
    book.close()
    facts = inspect(path, NAME).sheets
    assert list(facts) == ["放管服", "隐藏", "空"]
    main_facts = facts["放管服"]
    assert (main_facts.max_row, main_facts.max_col) == (8, 7)
    assert main_facts.errors == {(1, 1): "#DIV/0!", (2, 2): "#N/A"}
    assert main_facts.formulas == {(1, 1), (2, 2), (3, 3)}
    assert main_facts.merged == ((0, 4, 1, 5),)
    assert facts["隐藏"].state == "hidden" and facts["空"].state == "visible"
    assert (facts["空"].max_row, facts["空"].max_col) == (-1, -1)


def test_facts_of_an_openpyxl_workbook(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "放管服"
    sheet["C7"] = "=SUM(A1:A2)"
    sheet["B2"] = 1
    sheet.merge_cells("A10:B11")
    book.create_sheet("深藏").sheet_state = "veryHidden"
    book.save(tmp_path / "f.xlsx")
    facts = inspect(tmp_path / "f.xlsx", NAME).sheets
    assert (facts["放管服"].max_row, facts["放管服"].max_col) == (6, 2)  # openpyxl writes no merged cells
    assert facts["放管服"].formulas == {(6, 2)}
    assert facts["放管服"].merged == ((9, 0, 10, 1),)
    assert facts["深藏"].state == "veryHidden"


def test_understated_dimension_is_ignored(tmp_path):
    facts = inspect(sheet_xlsx(tmp_path, b'<row r="500"><c r="Z500"><v>1</v></c></row>'), NAME)
    assert (facts.sheets["放管服"].max_row, facts.sheets["放管服"].max_col) == (499, 25)


def test_cells_without_r_are_placed_by_counting(tmp_path):
    rows = (b"<row><c><v>1</v></c><c t='e'><v>#REF!</v></c></row>"
            b"<row r='4'><c r='C4'/><c><f>1+1</f><v>2</v></c></row>"
            b"<row><c><v>1</v></c></row>")
    facts = inspect(sheet_xlsx(tmp_path, rows), NAME).sheets["放管服"]
    assert (facts.max_row, facts.max_col) == (4, 3)
    assert facts.errors == {(0, 1): "#REF!"} and facts.formulas == {(3, 3)}


def test_prefixed_elements_are_not_missed(tmp_path):
    sheet = (XML_HEAD + b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             b'<x:sheetData><x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row>'
             b'<x:row r="3"><x:c r="XFD3" t="e"><x:v>#N/A</x:v></x:c></x:row></x:sheetData>'
             b'<x:mergeCells><x:mergeCell ref="A1:B1"/></x:mergeCells></x:worksheet>')
    facts = inspect(write_zip(tmp_path / "f.xlsx", parts({"放管服": sheet})), NAME).sheets["放管服"]
    assert (facts.max_row, facts.max_col) == (2, 16383)
    assert facts.errors == {(2, 16383): "#N/A"} and facts.merged == ((0, 0, 0, 1),)


def test_cells_out_of_order(tmp_path, monkeypatch):
    """Cells need not come in order: the largest row and column anywhere count, also past the
    fast path's hit budget."""
    monkeypatch.setattr(guards, "_MAX_BEYOND_HITS", 3)
    cells = b"".join(b'<row r="%d"><c r="%s%d"><v>1</v></c></row>' % (r, c, r)
                     for r, c in [(700, b"B"), (5, b"AB"), (9, b"C"), (12, b"D"), (13, b"E"), (2, b"A")])
    facts = inspect(sheet_xlsx(tmp_path, cells), NAME).sheets["放管服"]
    assert (facts.max_row, facts.max_col) == (699, 27)


def test_the_fast_search_stops_exactly_at_cells_beyond_the_maximum():
    """The one search per piece passes over a cell iff its ref is well-formed and within the running
    maximum: checked against the numbers for every column up to three letters and rows around each limit."""
    letters = [col_letter(c) for c in range(guards.MAX_COL)] + ["XFE", "XZZ", "ZZZ"]
    for max_col in (0, 1, 24, 25, 26, 30, 51, 700, 701, 702, 728, 5000, guards.MAX_COL - 1):
        pattern = guards._unexpected(0, max_col)
        for col, text in enumerate(letters):
            assert (pattern.match(b'<c r="%s1"/>' % text.encode()) is None) == (col <= max_col), (max_col, text)
    for max_row in (0, 8, 9, 10, 99, 10002, 10009, 99999, 654320, MAX_ROW - 1):
        pattern = guards._unexpected(max_row, 0)
        for row in {*range(1, 1200), *range(max_row - 1200, max_row + 1200), 9_999_999} - {*range(-1200, 1)}:
            assert (pattern.match(b"<c r='A%d'>" % row) is None) == (row <= max_row + 1), (max_row, row)
    for odd in (b"<c>", b"<c/>", b'<c s="1" r="A1">', b'<c r="a1">', b'<c r="A01">', b'<c r="A1 ">', b"<c\tr='A1'>"):
        assert guards._unexpected(MAX_ROW - 1, guards.MAX_COL - 1).match(odd), odd
    assert guards._unexpected(-1, -1).match(b'<c r="A1">') and not guards._unexpected(0, 0).match(b'<col r="B2">')


def test_every_hint_starts_with_a_plain_byte():
    """A hint is searched from the first occurrence of its first byte: that byte must stand for itself."""
    for hint in (guards._PREFIX_HINT, guards._FORMULA_HINT, guards._ERROR_HINT, guards._MERGE_HINT):
        assert re.escape(hint.pattern[:1]) == hint.pattern[:1] != b"", hint.pattern


def test_a_hint_is_found_before_after_and_among_the_places_tried_one_by_one(monkeypatch):
    for probes in (0, 1, 3, 64):
        monkeypatch.setattr(guards, "_HINT_PROBES", probes)
        for decoys in range(6):
            text = b'<c r="A1">' + b"<g f='1'/>" * decoys + b"<f>1</f></c>"
            assert guards._holds(text, len(text), guards._FORMULA_HINT), (probes, decoys)
            assert not guards._holds(text.replace(b"<f>", b"<g>"), len(text), guards._FORMULA_HINT), (probes, decoys)
            assert not guards._holds(text, text.index(b"<f>") + 2, guards._FORMULA_HINT), (probes, decoys)


def test_a_far_cell_hidden_inside_a_piece(tmp_path, monkeypatch):
    """Neither the piece's last cell nor in its first row, at every chunk size: found wherever the pieces end."""
    rows = [b'<row r="%d">%s</row>' % (r, b"".join(b'<c r="%s%d"><v>1</v></c>' % (c, r) for c in (b"A", b"B", b"C")))
            for r in range(1, 40)]
    rows[17] = rows[17].replace(b'<c r="B18">', b'<c r="AB900"><v>2</v></c><c r="B18">')
    path = sheet_xlsx(tmp_path, b"".join(rows))
    for chunk in (64, 100, 333, 4096):
        monkeypatch.setattr(guards, "_CHUNK", chunk)
        facts = inspect(path, NAME).sheets["放管服"]
        assert (facts.max_row, facts.max_col) == (899, 27), chunk


def test_pieces_ending_anywhere_give_the_same_facts(tmp_path, monkeypatch):
    """Chunks (of 64 bytes and more: the XML declaration is read from the first) ending inside refs, tags
    and values, and right after an error cell's </c> (before, that cell was missed); cells out of order,
    errors, formulas and merges."""
    cells = b"".join(b'<row r="%d"><c r="B%d" t="e"><v>#N/A</v></c><c r="C%d"><f>B%d</f><v>0</v></c>'
                     b'<c r="%s%d"><v>%d</v></c></row>' % (r, r, r, r, b"XY" if r == 7 else b"D", 300 - r, r)
                     for r in range(1, 30))
    path = sheet_xlsx(tmp_path, cells, b'<mergeCells count="1"><mergeCell ref="E2:F3"/></mergeCells>')
    whole = inspect(path, NAME).sheets["放管服"]
    assert (whole.max_row, whole.max_col) == (298, 648) and len(whole.errors) == len(whole.formulas) == 29
    assert whole.merged == ((1, 4, 2, 5),)
    for chunk in range(64, 200):
        monkeypatch.setattr(guards, "_CHUNK", chunk)
        assert inspect(path, NAME).sheets["放管服"] == whole, chunk


@pytest.mark.parametrize("odd", [b"<c><v>1</v></c>", b'<x:c r="A3"/>', b'<c s="1" r="A3"/>'],
                         ids=["without r", "prefixed", "r not first"])
@pytest.mark.parametrize("after, hits", [(b"", 64), (b'<c r="B3"/>', 64), (b'<c r="B3"/>', 0)],
                         ids=["last cell", "met on the way", "past the hit budget"])
def test_an_odd_cell_after_a_ref_past_excel_is_scanned_exactly(tmp_path, monkeypatch, odd, after, hits):
    """The fast search meets the ref past Excel's last row before the odd cell of the same piece; the
    piece is irregular all the same, so the exact scan's verdict holds: here, the row numbered 0 before it."""
    monkeypatch.setattr(guards, "_MAX_BEYOND_HITS", hits)
    rows = b'<row r="0"><c r="A1048577"><v>1</v></c></row><row r="3">' + odd + after + b"</row>"
    problem = refused(sheet_xlsx(tmp_path, rows)).problem
    assert problem.code is Code.FILE_CORRUPT and "行号“0”无效" in problem.message
    regular = refused(sheet_xlsx(tmp_path, rows.replace(odd, b'<c r="A3"/>'))).problem
    assert regular.code is Code.FILE_CORRUPT and "单元格地址“A1048577”无效" in regular.message


def test_far_apart_cells_refused(tmp_path):
    """python-calamine aborts the whole process on this 1.5 KB file (checked in a subprocess)."""
    path = sheet_xlsx(tmp_path, b'<row r="1"><c r="A1"><v>1</v></c></row>'
                                b'<row r="1048576"><c r="XFD1048576"><v>2</v></c></row>')
    problem = refused(path).problem
    assert problem.code is Code.SHEET_TOO_LARGE and problem.sheet == "放管服"
    assert "A1:XFD1048576" in problem.message and "xl/worksheets/sheet1.xml" in problem.message


def test_refs_beyond_excel_are_corrupt(tmp_path):
    for ref in (b"XFE1", b"A1048577", b"A0", b"1A"):
        path = sheet_xlsx(tmp_path, b'<row r="1"><c r="%s"><v>1</v></c></row>' % ref)
        assert refused(path).problem.code is Code.FILE_CORRUPT, ref


def test_file_cell_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(guards, "MAX_FILE_CELLS", 150)
    sheet = worksheet(b'<row r="10"><c r="J10"><v>1</v></c></row>')
    path = write_zip(tmp_path / "f.xlsx", parts({"甲": sheet, "乙": sheet}))
    assert refused(path).problem.code is Code.SHEET_TOO_LARGE


def test_fact_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(guards, "MAX_FACTS", 10)
    cells = b"".join(b'<row r="%d"><c r="A%d"><f>1</f><v>1</v></c></row>' % (i, i) for i in range(1, 20))
    assert refused(sheet_xlsx(tmp_path, cells)).problem.code is Code.SHEET_TOO_LARGE


def test_million_styled_empty_rows(tmp_path):
    """Rows without cells are not used range: the facts stay tiny and no reader is told to go dense."""
    rows = b"".join(b'<row r="%d" s="1" customFormat="1" ht="15"/>' % i for i in range(3, 1_000_001))
    path = sheet_xlsx(tmp_path, b'<row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>2</v></c></row>' + rows)
    facts = inspect(path, NAME).sheets["放管服"]
    assert (facts.max_row, facts.max_col) == (0, 1)


def test_a_cell_larger_than_a_chunk_is_kept_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(guards, "_CHUNK", 64)
    rows = b'<row r="1"><c r="A1" t="inlineStr"><is><t>' + "长文本".encode() * 100 + b"</t></is></c>"
    rows += b'<c r="B1" t="e"><v>#VALUE!</v></c></row><row r="2"><c r="C2"><f>A1</f><v>0</v></c></row>'
    facts = inspect(sheet_xlsx(tmp_path, rows, b'<mergeCells count="1"><mergeCell ref="A2:B2"/></mergeCells>'),
                    NAME).sheets["放管服"]
    assert (facts.max_row, facts.max_col) == (1, 2)
    assert facts.errors == {(0, 1): "#VALUE!"} and facts.formulas == {(1, 2)}
    assert facts.merged == ((1, 0, 1, 1),)


# --- whatever the bytes, an answer and never a traceback ------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_bytes_never_crash(tmp_path, data):
    original = write_zip(tmp_path / "seed.xlsx", parts()).read_bytes()
    mutated = bytearray(original)
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(mutated) - 1))
        mutated[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(len(mutated) // 2, len(mutated)))
    path = tmp_path / "m.xlsx"
    path.write_bytes(bytes(mutated[:cut]))
    try:
        inspect(path, NAME)
    except Refused as refusal:
        assert refusal.problem.file == NAME


def test_inspect_uses_bytes_already_read(tmp_path):
    """The reader reads each file once; the guards work on those bytes, the same as on the path."""
    path = sheet_xlsx(tmp_path, b'<row r="1"><c r="A1"><v>1</v></c></row><row r="3"><c r="C3"><v>2</v></c></row>')
    from_disk, from_memory = inspect(path, NAME), inspect(tmp_path / "不存在.xlsx", NAME, path.read_bytes())
    assert from_memory == from_disk and (from_memory.sheets["放管服"].max_row, from_memory.sheets["放管服"].max_col) == (2, 2)


# --- sheet by sheet: what a reader parsing each sheet as soon as it has passed relies on ------------

def _recording_scans(monkeypatch) -> list[str]:
    scanned: list[str] = []
    run = guards._SheetScan.run

    def recorded(self):
        facts = run(self)
        scanned.append(self.name)
        return facts

    monkeypatch.setattr(guards._SheetScan, "run", recorded)
    return scanned


def test_inspection_scans_the_other_parts_first_then_each_sheet_once_in_workbook_order(tmp_path, monkeypatch):
    scanned = _recording_scans(monkeypatch)
    sheet = worksheet(b'<row r="2"><c r="B2" t="e"><v>#N/A</v></c></row>')
    path = write_zip(tmp_path / "f.xlsx", parts({"甲": sheet, "乙": sheet, "丙": sheet}))
    with guards.Inspection(path, NAME) as inspection:
        assert inspection.sheet_names == ["甲", "乙", "丙"]
        assert scanned == []
        assert inspection.sheet("乙").errors == {(1, 1): "#N/A"}
        assert scanned == ["甲", "乙"]  # the file's cell budget adds sheets up in workbook order
        inspection.sheet("甲")
        facts = inspection.facts()
        assert scanned == ["甲", "乙", "丙"]
    scanned.clear()
    assert facts == inspect(path, NAME) and list(facts.sheets) == ["甲", "乙", "丙"]


def test_inspection_refuses_far_apart_cells_only_when_that_sheet_is_scanned(tmp_path):
    far = worksheet(b'<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>2</v></c></row>')
    path = write_zip(tmp_path / "f.xlsx", parts({"甲": worksheet(b'<row r="1"><c r="A1"><v>1</v></c></row>'),
                                                "乙": far}))
    with guards.Inspection(path, NAME) as inspection:
        assert inspection.sheet("甲").max_row == 0
        with pytest.raises(Refused) as caught:
            inspection.sheet("乙")
    assert caught.value.problem == refused(path).problem
    assert caught.value.problem.code is Code.SHEET_TOO_LARGE and caught.value.problem.sheet == "乙"


def test_inspection_refuses_a_bad_part_before_any_sheet(tmp_path, monkeypatch):
    """The parts a reader reads on opening the workbook are checked first: a file bad in both ways is
    refused for the part (before this reordering, for the sheet)."""
    scanned = _recording_scans(monkeypatch)
    members = parts({"放管服": worksheet(b'<row r="1048576"><c r="XFD1048576"><v>2</v></c></row>')})
    members["xl/styles.xml"] = XML_HEAD + b'<!DOCTYPE x [<!ENTITY e "e">]><styleSheet/>'
    problem = refused(write_zip(tmp_path / "f.xlsx", members)).problem
    assert problem.code is Code.FILE_UNSAFE_XML and "xl/styles.xml" in problem.message and scanned == []


def test_inspection_cell_budget_is_the_same_whatever_sheet_is_asked_first(tmp_path, monkeypatch):
    monkeypatch.setattr(guards, "MAX_FILE_CELLS", 150)
    sheet = worksheet(b'<row r="10"><c r="J10"><v>1</v></c></row>')
    path = write_zip(tmp_path / "f.xlsx", parts({"甲": sheet, "乙": sheet, "丙": sheet}))
    with guards.Inspection(path, NAME) as inspection:
        with pytest.raises(Refused) as caught:
            inspection.sheet("丙")
    assert caught.value.problem == refused(path).problem and caught.value.problem.sheet == "乙"


def test_inspection_closes_the_file_it_opened(tmp_path):
    path = sheet_xlsx(tmp_path, b'<row r="1"><c r="A1"><v>1</v></c></row>')
    with guards.Inspection(path, NAME) as inspection:
        handle = inspection._handle
    assert handle.closed
    with guards.Inspection(path, NAME) as inspection, pytest.raises(KeyError):
        inspection.sheet("没有这张表")


def _rels_of(members: dict[str, bytes]) -> bytes:
    return members["xl/_rels/workbook.xml.rels"]


def _in_rels(old: bytes, new: bytes) -> Callable[[dict[str, bytes]], None]:
    return lambda m: m.update({"xl/_rels/workbook.xml.rels": _rels_of(m).replace(old, new, 1)})


def _in_workbook(old: bytes, new: bytes) -> Callable[[dict[str, bytes]], None]:
    return lambda m: m.update({"xl/workbook.xml": m["xl/workbook.xml"].replace(old, new, 1)})


def _elsewhere(members: dict[str, bytes]) -> None:
    """The package rels name another workbook part than the xl/workbook.xml calamine reads."""
    members["xl/main.xml"] = members.pop("xl/workbook.xml")
    members["xl/_rels/main.xml.rels"] = members.pop("xl/_rels/workbook.xml.rels")
    members["_rels/.rels"] = members["_rels/.rels"].replace(b'Target="xl/workbook.xml"', b'Target="xl/main.xml"')


def _outside_worksheets(members: dict[str, bytes]) -> None:
    members["xl/sheet1.xml"] = members.pop("xl/worksheets/sheet1.xml")
    _in_rels(b"worksheets/sheet1.xml", b"sheet1.xml")(members)


OTHER = b'<Relationship Id="rId1" Type="x" Target="worksheets/other.xml" TargetMode="External"/>'
NOT_PLAIN = ("的工作簿结构不是Excel/WPS的常规写法（工作表的位置或关系不标准），无法确认读取的内容是否安全，拒绝读取；"
             "请用Excel或WPS打开后另存为.xlsx再报送。")
NOT_PLAIN_SPELLINGS = {
    "workbook elsewhere": _elsewhere,
    "repeated id, one external": _in_rels(b"</Relationships>", OTHER + b"</Relationships>"),
    "repeated id": _in_rels(b"<Relationship ", b'<Relationship Id="rId1" Type="x" Target="styles.xml"/><Relationship '),
    "escaped target": _in_rels(b"worksheets/sheet1.xml", b"worksheets/sheet&#49;.xml"),
    "target outside xl/worksheets/": _outside_worksheets,
    "target through ..": _in_rels(b"worksheets/sheet1.xml", b"worksheets/../worksheets/sheet1.xml"),
    "target from the package root": _in_rels(b"worksheets/sheet1.xml", b"xl/worksheets/sheet1.xml"),
    "explicit internal target": _in_rels(b'Target="worksheets/sheet1.xml"',
                                         b'Target="worksheets/sheet1.xml" TargetMode="Internal"'),
    "prefixed relationship attribute": _in_rels(b'Id="rId1"', b'Id="rId1" xmlns:x="urn:x" x:Id="rId9"'),
    "renamed r: prefix": lambda m: m.update({"xl/workbook.xml": m["xl/workbook.xml"].replace(
        b"xmlns:r=", b"xmlns:rel=").replace(b"r:id=", b"rel:id=")}),
    "two id attributes": _in_workbook(b'r:id="rId1"', b'r:id="rId1" xmlns:x="urn:x" x:id="rId9"'),
    "other sheet attribute": _in_workbook(b'sheetId="1"', b'sheetId="1" xmlns:x="urn:x" x:uid="1"'),
    "prefixed sheet element": lambda m: m.update({"xl/workbook.xml": m["xl/workbook.xml"].replace(
        b"<sheet ", b"<x:sheet ").replace(b"<workbook ", b'<workbook xmlns:x="%s" ' % MAIN_NS.encode())}),
}


@pytest.mark.parametrize("change", NOT_PLAIN_SPELLINGS.values(), ids=NOT_PLAIN_SPELLINGS.keys())
def test_a_workbook_calamine_might_read_otherwise_is_refused(tmp_path, change):
    """calamine reads xl/workbook.xml and its rels by those names whatever the package rels say,
    attributes as spelled (any prefix) and targets without unescaping or resolving them: where the
    spelling leaves room for it to find other parts than the guards did, the file is refused."""
    members = parts({"放管服": worksheet(b'<row r="3"><c r="C3"><v>1</v></c></row>')})
    change(members)
    problem = refused(write_zip(tmp_path / "f.xlsx", members)).problem
    assert (problem.code, problem.message) == (Code.FILE_CORRUPT, f"文件“{NAME}”{NOT_PLAIN}")


def test_what_excel_and_others_write_is_plain(tmp_path):
    """An absolute target (openpyxl), a chartsheet, rels holding styles, strings and theme entries."""
    members = parts({"放管服": worksheet(b'<row r="3"><c r="C3"><v>1</v></c></row>')})
    _in_rels(b'Target="worksheets/sheet1.xml"', b'Target="/xl/worksheets/sheet1.xml"')(members)
    assert inspect(write_zip(tmp_path / "absolute.xlsx", members), NAME).sheets["放管服"].max_row == 2
    book = openpyxl.Workbook()
    book.active.title = "放管服"
    book.active.append([1, 2])
    chart = openpyxl.chart.BarChart()
    chart.add_data(openpyxl.chart.Reference(book.active, min_col=1, max_col=2, min_row=1))
    book.create_chartsheet("图表").add_chart(chart)
    book.save(tmp_path / "chart.xlsx")
    with zipfile.ZipFile(tmp_path / "chart.xlsx") as archive:
        rels = archive.read("xl/_rels/workbook.xml.rels")
    assert b'Target="/xl/chartsheets/sheet1.xml"' in rels and b"/styles" in rels and b"/theme" in rels
    assert list(inspect(tmp_path / "chart.xlsx", NAME).sheets) == ["放管服", "图表"]


@needs_office
@pytest.mark.libreoffice
def test_a_workbook_saved_by_libreoffice_is_plain(tmp_path):
    book = xlsxwriter.Workbook(tmp_path / "原.xlsx")
    book.add_worksheet("放管服").write_string("C3", "单位")
    book.add_worksheet("隐藏").hide()
    book.close()
    [saved] = convert(tmp_path / "原.xlsx", "xlsx:Calc MS Excel 2007 XML", tmp_path / "另存")
    facts = inspect(saved, NAME).sheets
    assert list(facts) == ["放管服", "隐藏"] and facts["隐藏"].state == "hidden"
    assert (facts["放管服"].max_row, facts["放管服"].max_col) == (2, 2)


def test_part_names_differing_only_in_case_are_refused(tmp_path):
    """calamine looks parts up without letter case, and of two such it read the later one."""
    members = parts({"放管服": worksheet(b'<row r="1"><c r="A1"><v>1</v></c></row>')})
    members["xl/worksheets/SHEET1.xml"] = members["xl/worksheets/sheet1.xml"]
    problem = refused(write_zip(tmp_path / "f.xlsx", members)).problem
    assert problem.code is Code.FILE_CORRUPT and "重名的部件" in problem.message


def test_a_second_name_in_the_zip_directory_is_refused(tmp_path):
    """An Info-ZIP Unicode Path field: calamine's zip reader takes its name for the entry's, zipfile does not."""
    members = parts({"放管服": worksheet(b'<row r="1"><c r="A1"><v>1</v></c></row>')})
    path = write_zip(tmp_path / "f.xlsx", members)
    with zipfile.ZipFile(path, "a") as archive:
        info = zipfile.ZipInfo("xl/media/other.xml")
        body = b"\x01" + struct.pack("<I", zlib.crc32(info.filename.encode())) + b"xl/worksheets/sheet1.xml"
        info.extra = struct.pack("<HH", 0x7075, len(body)) + body
        archive.writestr(info, members["xl/worksheets/sheet1.xml"])
    problem = refused(path).problem
    assert problem.code is Code.FILE_CORRUPT and "xl/media/other.xml" in problem.message
    assert "xl/worksheets/sheet1.xml" in problem.message
    same = write_zip(tmp_path / "same.xlsx", members)
    with zipfile.ZipFile(same, "a") as archive:
        info = zipfile.ZipInfo("xl/media/image1.png")
        body = b"\x01" + struct.pack("<I", zlib.crc32(info.filename.encode())) + info.filename.encode()
        info.extra = struct.pack("<HH", 0x7075, len(body)) + body
        archive.writestr(info, b"\x89PNG")
    assert list(inspect(same, NAME).sheets) == ["放管服"]
