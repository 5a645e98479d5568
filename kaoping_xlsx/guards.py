"""Decide whether a returned workbook may be opened at all, before any xlsx reader builds anything.

Readers trust what a file says about itself: calamine aborts the whole process on a sheet with cells at
A1 and XFD1048576, openpyxl trusts the declared ``<dimension>``, and no reader limits decompressed size.
So every file passes here first: its format is judged by content (never by extension), the zip
directory is checked for bombs, every part is decompressed by our own bounded stream (the directory can
lie) and searched for DTDs, the workbook must be spelled as Excel writes it (else calamine might read
other sheets than those scanned here), and each worksheet's XML is scanned once with byte regexes for
cheap facts (real used range, error and formula cells, merges). Cells are never interpreted here.
"""

from __future__ import annotations

import contextlib
import functools
import io
import posixpath
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator
from xml.etree.ElementTree import Element
from xml.parsers import expat

import defusedxml.ElementTree as safe_et
from defusedxml import DefusedXmlException

from .problems import Code, Problem
from .xlref import MAX_COL, MAX_ROW, cell_range, col_letter, parse_cell

# Limits. A legitimate workbook of 5 sheets × 100,000 units × 15 columns (xlsxwriter, numbers and
# text) is 58 MB compressed and 279 MB of XML; the most repetitive legitimate sheets measured (100,000
# bordered rows, 1,000,000 styled empty rows) compress 12-20:1, while a deflate bomb reaches ~1000:1.
# These leave several times that room and stop bombs far below what would exhaust the machine.
MAX_ENTRIES = 10_000  # real workbooks hold tens of parts; images and the like, hundreds
MAX_TOTAL = 1024**3  # sum of declared uncompressed sizes of all parts
MAX_RATIO = 100  # per part, uncompressed / compressed
RATIO_FLOOR = 16 * 1024**2  # parts smaller than this are never judged by ratio
MAX_SMALL_PART = 64 * 1024**2  # workbook.xml, rels and content types are parsed whole
MAX_TOKEN = 8 * 1024**2  # bytes between two '>' in an XML part (Excel caps a cell at 32,767 chars)
MAX_CELLS = 20_000_000  # (max_row + 1) × (max_col + 1) of one sheet: what a dense reader would build
MAX_FILE_CELLS = 40_000_000  # the same, summed over the sheets of one file
MAX_FACTS = 5_000_000  # error + formula cells + merged ranges recorded for one sheet

_CHUNK = 4 * 1024**2  # decompressed bytes handed on at a time
_READ = 1024**2  # compressed bytes read at a time
_END_SEARCH = 22 + 0xFFFF  # the zip end record and its longest comment
_DIRECTORY_ENTRY = 46 + 3 * 0xFFFF  # the largest central directory entry (name, extra, comment)

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_HEADS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_LOCAL = struct.Struct("<4s22xHH")  # signature, then name and extra lengths of a local file header

# Any DTD or entity declaration ("<!" then DOCTYPE or ENTITY, any letter case), in UTF-8 (and the
# ASCII-compatible encodings) or UTF-16 of either byte order: "!" then D/E, NUL bytes allowed between.
_UNSAFE_HINT = re.compile(rb"!\x00?[DdEe]")
_UNSAFE_WORDS = (b"<!DOCTYPE", b"<!ENTITY")
_UNSAFE_SPAN = 2 * max(map(len, _UNSAFE_WORDS))  # bytes a declaration needs, in UTF-16
_XML_START = re.compile(rb"\A(?:\xef\xbb\xbf|\xff\xfe|\xfe\xff)?\x00?\s*<")
_UTF16_START = re.compile(rb"\A(?:\xff\xfe|\xfe\xff|\x00[^\x00]|[^\x00]\x00)")
# Bytes XML 1.0 forbids outright (Excel writes them as _x0007_). calamine reads past them while openpyxl
# and Excel refuse the part, so a file holding them would be scored but could not be annotated.
_FORBIDDEN = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_ALLOWED = bytes(b for b in range(256) if b not in _FORBIDDEN)  # deleting these leaves the forbidden ones
_ENCODING = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']*)")
# Encodings in which the byte search below still sees "<!DOCTYPE" (ASCII-compatible, or UTF-16).
_FINE_ENCODING = re.compile(
    rb"utf-?8|utf-?16(?:le|be)?|(?:us-)?ascii|iso-?8859-\d+|(?:windows|cp)-?125\d|gbk|gb2312|gb18030|big5",
    re.IGNORECASE,
)

# Worksheet scanning. The fast path assumes what Excel, WPS, xlsxwriter and openpyxl write: every <c>
# starts with a well-formed r attribute. Anything else (no r, r elsewhere, odd refs, prefixed elements)
# sends the sheet through the exact, slower tokenizer.
_Q = rb"[\"']"
_REF = rb"[A-Z]{1,3}[1-9][0-9]{0,6}"
_FAST_COL = re.compile(rb"<c r=" + _Q + rb"([A-Z]{1,3})[1-9]")
_FAST_ROW = re.compile(rb"<c r=" + _Q + rb"[A-Z]{1,3}([1-9][0-9]{0,6})" + _Q)
_FAST_CELL = re.compile(rb"<c r=" + _Q + rb"(" + _REF + rb")" + _Q)
_MAX_BEYOND_HITS = 64  # cells found beyond the running maximum in one piece before counting them all
_ODD_CELL = re.compile(rb"<c(?! r=" + _Q + _REF + _Q + rb")[\s/>]")
# Hints: cheap searches, each led by a literal byte (the regex engine skips to it); where that byte is rare
# (":", "f", "m" in sheet XML), a memchr for it skips most pieces outright. See _holds.
_PREFIX_HINT = re.compile(rb":(?:c|row)[\s/>]")  # confirmed by _PREFIXED
_PREFIXED = re.compile(rb"<[\w.-]+:(?:c|row)[\s/>]")
_FORMULA_HINT = re.compile(rb"f(?<=<f)[\s/>]")  # "<f" then a separator, led by the rarer "f"
_ERROR_HINT = re.compile(rb"e(?<=t=" + _Q + rb"e)" + _Q)  # 't="e"', led by the rarer "e"
_MERGE_HINT = re.compile(rb"mergeCell")
_HINT_PROBES = 64  # places a hint is tried at one by one before the rest of a piece is searched at once
_FAST_ERROR = re.compile(
    rb"<c r=" + _Q + rb"(" + _REF + rb")" + _Q + rb"[^>]*?\st=" + _Q + rb"e" + _Q
    + rb"[^>]*(?<!/)>([^<]*(?:<(?!/c>|c[\s/>])[^<]*)*)</c>"
)
_FAST_FORMULA = re.compile(rb"<c r=" + _Q + rb"(" + _REF + rb")" + _Q + rb"[^>]*>\s*<f[\s/>]")
_TAG = re.compile(rb"<(?:[\w.-]+:)?(row|c|f|v)(?=[\s/>])([^>]*)>([^<]*)")
_ATTR_R = re.compile(rb"(?:^|\s)r\s*=\s*[\"']([^\"']*)")
_ATTR_T = re.compile(rb"(?:^|\s)t\s*=\s*[\"']([^\"']*)")
_MERGE = re.compile(rb"<(?:[\w.-]+:)?mergeCell\s[^>]*?\bref\s*=\s*[\"']([^\"']*)")
_VALUE = re.compile(rb"<(?:[\w.-]+:)?v>([^<]*)<")

_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_STRICT = "{http://purl.oclc.org/ooxml/"  # the namespaces of Excel's "Strict Open XML Spreadsheet"
_STATES = ("visible", "hidden", "veryHidden")
# The only workbook spelling accepted: what Excel, WPS, LibreOffice, openpyxl and xlsxwriter write. There
# calamine, which reads xl/workbook.xml and its rels by those names whatever the package rels say, takes
# attributes as spelled and targets without unescaping them, surely finds the sheets the guards scanned.
_WORKBOOK = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_PLAIN_TARGET = re.compile(r"(?:/xl/)?(?:worksheets|chartsheets|dialogsheets)/[A-Za-z0-9_-]+\.xml")
_PLAIN_SHEET_ATTRS = {"name", "sheetId", "state", "r:id"}
_PLAIN_REL_ATTRS = {"Id", "Type", "Target", "TargetMode"}
# What zipfile or a parser says about a damaged file (ParseError is a SyntaxError; offsets past the end
# give OSError): refused as corrupt in one line, never a traceback.
_DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, struct.error, ValueError, KeyError, OSError,
           NotImplementedError, DefusedXmlException, SyntaxError, expat.ExpatError)


class Refused(Exception):
    """The whole file may not be opened; ``problem`` says why, in Chinese, naming the file and part."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


@dataclass(frozen=True)
class SheetFacts:
    name: str
    state: str  # "visible" | "hidden" | "veryHidden"
    max_row: int  # 0-based, from the real <c> cells (not the declared <dimension>); -1 if empty
    max_col: int  # 0-based; -1 if empty
    errors: dict[tuple[int, int], str]  # (row, col) -> "#DIV/0!" etc: cells of t="e"
    formulas: frozenset[tuple[int, int]]  # cells holding an <f> formula
    merged: tuple[tuple[int, int, int, int], ...]  # (r1, c1, r2, c2) merged ranges


@dataclass(frozen=True)
class FileFacts:
    sheets: dict[str, SheetFacts]  # by sheet name, in workbook order


def inspect(path: Path, name: str, data: bytes | None = None) -> FileFacts:
    """Check one returned file and collect its sheet facts; raise :class:`Refused` if it must not be read.

    ``data``: the file's bytes when the caller has already read them (no second read from disk)."""
    with Inspection(path, name, data) as inspection:
        return inspection.facts()


class Inspection:
    """One file checked in two steps, so that a reader may parse each sheet as soon as it has passed.

    Creating it checks the file as a whole (format, zip directory, bombs) and scans every part that is not
    a worksheet: all that a reader reads on opening the workbook. :meth:`sheet` then scans worksheets, each
    once and in workbook order (the file's cell budget adds them up in that order), and :meth:`facts` gives
    what :func:`inspect` gives. Each step raises :class:`Refused` when the file must not be read.
    """

    def __init__(self, path: Path, name: str, data: bytes | None = None):
        self._guard = _Guard(name)
        try:
            self._handle: BinaryIO = io.BytesIO(data) if data is not None else path.open("rb")
        except OSError as exc:
            raise self._guard.refusal(Code.FILE_UNREADABLE, f"无法打开（{exc.strerror or type(exc).__name__}）。") from None
        try:
            with self._refusing():
                self._package = self._guard.run(self._handle)
        except BaseException:
            self._handle.close()
            raise
        self.sheet_names = [sheet_name for sheet_name, _, _ in self._package.sheets]  # in workbook order

    def sheet(self, name: str) -> SheetFacts:
        """The facts of one sheet, scanning it (and, first, any sheet before it) unless done already."""
        if name not in self.sheet_names:
            raise KeyError(name)
        with self._refusing():
            return self._package.sheet(name)

    def facts(self) -> FileFacts:
        """Every sheet scanned: the file may be read."""
        return FileFacts(sheets={name: self.sheet(name) for name in self.sheet_names})

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> Inspection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _refusing(self) -> Iterator[None]:
        try:
            yield
        except _DAMAGE:
            raise self._guard.refusal(Code.FILE_CORRUPT, "已损坏或不完整（可能在下载或复制时被截断），无法读取；请重新保存后报送。") from None


class _Guard:
    """One file being inspected, known by its display name in every refusal."""

    def __init__(self, name: str):
        self.name = name

    def refusal(self, code: Code, what: str, part: str = "", sheet: str = "") -> Refused:
        where = f"（部件 {part}）" if part else ""
        return Refused(Problem(file=self.name, code=code, sheet=sheet, message=f"文件“{self.name}”{where}{what}"))

    # --- format by content -------------------------------------------------------------------------

    def run(self, handle: BinaryIO) -> _Package:
        head = handle.read(4096)
        if not head:
            raise self.refusal(Code.FILE_EMPTY, "是空文件（0字节），请重新保存后报送。")
        if head.startswith(_OLE):
            raise self._ole_refusal(handle)
        if not head.startswith(_ZIP_HEADS):
            raise self._not_zip_refusal(head)
        self._check_end_record(handle)
        handle.seek(0)
        with zipfile.ZipFile(handle) as archive:
            infos = archive.infolist()
            self._check_package(infos)
            self._check_directory(infos)
        return _Package(self, handle, infos)  # reads the parts from ``handle`` itself

    def _ole_refusal(self, handle: BinaryIO) -> Refused:
        """OLE2 compound files: an encrypted xlsx, a legacy .xls, or a Word .doc."""
        stream_names = {"EncryptedPackage": "enc", "EncryptionInfo": "enc", "WordDocument": "doc"}
        needles = {n.encode("utf-16-le"): kind for n, kind in stream_names.items()}
        found = _scan_file(handle, list(needles), MAX_TOTAL)
        kinds = {needles[n] for n in found}
        if "enc" in kinds:
            return self.refusal(Code.FILE_ENCRYPTED, "设置了打开密码（已加密），无法读取；请取消密码后另存为.xlsx再报送。")
        if "doc" in kinds:
            return self.refusal(Code.FILE_NOT_XLSX, "是Word文档，不是Excel工作簿；请使用下发的.xlsx模板填报。")
        return self.refusal(Code.FILE_NOT_XLSX, "是旧版Excel（.xls）格式；请在Excel中“另存为”Excel工作簿（.xlsx）后再报送。")

    def _not_zip_refusal(self, head: bytes) -> Refused:
        """Not a zip at all: say what it looks like, so the office knows what went wrong."""
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if head.startswith(b"%PDF"):
            what = "是PDF文件"
        elif b"urn:schemas-microsoft-com:office:spreadsheet" in head.lower():
            what = "是Excel 2003 XML表格"
        elif text.startswith((b"<!doctype html", b"<html", b"<table", b"<meta")) or b"<html" in text:
            what = "是网页（HTML）文件"
        elif _looks_like_text(head):
            what = "是文本文件（如CSV）"
        else:
            what = "不是可识别的Excel工作簿"
        return self.refusal(Code.FILE_NOT_XLSX, f"{what}，不是.xlsx工作簿（可能只是改了扩展名）；请使用下发的.xlsx模板填报，在Excel中直接保存后报送。")

    def _check_end_record(self, handle: BinaryIO) -> None:
        """Entry count and directory size from the zip's end record, before zipfile builds one object
        per entry (a crafted directory could list millions)."""
        size = handle.seek(0, 2)
        handle.seek(max(0, size - _END_SEARCH))
        tail = handle.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or at + 22 > len(tail):
            return  # zipfile reports the damage
        entries, directory = struct.unpack_from("<HI", tail, at + 10)
        locator = tail.rfind(b"PK\x06\x07", 0, at)
        if (entries == 0xFFFF or directory == 0xFFFFFFFF) and locator >= 0:
            handle.seek(struct.unpack_from("<Q", tail, locator + 8)[0])
            record = handle.read(56)
            if record[:4] == b"PK\x06\x06" and len(record) == 56:
                entries, directory = struct.unpack_from("<QQ", record, 32)
        if entries > MAX_ENTRIES or directory > MAX_ENTRIES * _DIRECTORY_ENTRY:
            raise self.refusal(Code.FILE_TOO_LARGE, f"的压缩目录过大（{entries}个部件），疑似异常文件，拒绝读取。")

    def _check_package(self, infos: list[zipfile.ZipInfo]) -> None:
        """A zip, but is it an xlsx? ODF, xlsb and Word/PowerPoint files are zips too."""
        names = {info.filename for info in infos}
        if not infos:
            raise self.refusal(Code.FILE_CORRUPT, "是空的压缩包，不是有效的.xlsx工作簿。")
        # Names differing only in letter case name one part (OPC), and calamine, looking parts up so, may
        # read either of two such: not necessarily the one scanned here as a sheet.
        if len({name.lower() for name in names}) != len(infos):
            raise self.refusal(Code.FILE_CORRUPT, "中有重名的部件，可能被篡改，拒绝读取。")
        if "mimetype" in names or "content.xml" in names:
            raise self.refusal(Code.FILE_NOT_XLSX, "是OpenDocument（WPS/LibreOffice的.ods等）格式；请另存为Excel工作簿（.xlsx）后再报送。")
        if "xl/workbook.bin" in names:
            raise self.refusal(Code.FILE_NOT_XLSX, "是Excel二进制工作簿（.xlsb）；请另存为Excel工作簿（.xlsx）后再报送。")
        if "word/document.xml" in names:
            raise self.refusal(Code.FILE_NOT_XLSX, "是Word文档，不是Excel工作簿；请使用下发的.xlsx模板填报。")
        if "ppt/presentation.xml" in names:
            raise self.refusal(Code.FILE_NOT_XLSX, "是PowerPoint演示文稿，不是Excel工作簿。")
        if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
            raise self.refusal(Code.FILE_NOT_XLSX, "是压缩包而不是.xlsx工作簿；请使用下发的.xlsx模板填报。")

    def _check_directory(self, infos: list[zipfile.ZipInfo]) -> None:
        """Zip-bomb checks from the central directory alone, before anything is decompressed."""
        if len(infos) > MAX_ENTRIES:
            raise self.refusal(Code.FILE_TOO_LARGE, f"包含{len(infos)}个部件（上限{MAX_ENTRIES}），疑似异常文件，拒绝读取。")
        total = sum(info.file_size for info in infos)
        if total > MAX_TOTAL:
            raise self.refusal(Code.FILE_TOO_LARGE, f"解压后共{_mib(total)}（上限{_mib(MAX_TOTAL)}），疑似压缩炸弹，拒绝读取。")
        for info in infos:
            if info.flag_bits & 0x1:
                raise self.refusal(Code.FILE_ENCRYPTED, "的部件被加密，无法读取；请取消密码后另存为.xlsx再报送。", info.filename)
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise self.refusal(Code.FILE_CORRUPT, "使用了Excel不使用的压缩方式，无法读取。", info.filename)
            alias = _unicode_path(info.extra)
            if alias is not None and alias != info.filename:
                raise self.refusal(Code.FILE_CORRUPT, f"在压缩目录中另记有一个不同的名称（{alias[:100]}），可能被篡改，拒绝读取。",
                                   info.filename)
            if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                ratio = info.file_size // max(info.compress_size, 1)
                raise self.refusal(Code.FILE_TOO_LARGE,
                                   f"压缩比异常（{ratio}:1，解压后{_mib(info.file_size)}），疑似压缩炸弹，拒绝读取。",
                                   info.filename)


class _Package:
    """The parts of one xlsx zip: each decompressed by a bounded stream and checked once. Every part but
    the worksheets is scanned on creation; worksheets are scanned by :meth:`sheet`."""

    def __init__(self, guard: _Guard, handle: BinaryIO, infos: list[zipfile.ZipInfo]):
        self.guard = guard
        self.handle = handle
        self.infos = {info.filename: info for info in infos}
        self.small: dict[str, bytes] = {}  # structural parts read (and checked) so far
        self.sheets = self._sheet_parts()
        sheet_parts = {part for _, _, part in self.sheets}
        for part in sorted(self.infos):
            if part not in sheet_parts and part not in self.small:
                for _ in self.xml_chunks(part):
                    pass
        self.scanned: dict[str, SheetFacts] = {}
        self.cells = 0  # used-range cells of the sheets scanned, against MAX_FILE_CELLS

    def sheet(self, name: str) -> SheetFacts:
        """Scan the sheets up to ``name`` in workbook order that are not scanned yet."""
        for sheet_name, state, part in self.sheets:
            if sheet_name not in self.scanned:
                facts = _SheetScan(self, part, sheet_name, state).run()
                cells = self.cells + (facts.max_row + 1) * (facts.max_col + 1)
                if cells > MAX_FILE_CELLS:
                    raise self.guard.refusal(
                        Code.SHEET_TOO_LARGE,
                        f"各工作表的使用范围合计超过{MAX_FILE_CELLS:,}个单元格，无法安全读取；请删除多余的行列后再报送。",
                        part, sheet_name)
                self.cells = cells
                self.scanned[sheet_name] = facts
            if sheet_name == name:
                return self.scanned[name]
        raise KeyError(name)

    # --- the workbook's list of sheets ------------------------------------------------------------

    def _sheet_parts(self) -> list[tuple[str, str, str]]:
        """(sheet name, state, part path) in workbook order, from workbook.xml and its rels; refused unless
        they are plainly spelled (see :meth:`_plain`)."""
        for part in ("[Content_Types].xml", "_rels/.rels"):
            if part in self.infos:
                self.small_xml(part)
        workbook = self._workbook_part()
        data = self.small_data(workbook)
        root = safe_et.fromstring(data, forbid_dtd=True)
        if root.tag.startswith(_STRICT):
            raise self.guard.refusal(Code.FILE_NOT_XLSX, "是“Strict Open XML 电子表格”格式，无法读取；请在Excel中“另存为”"
                                     "“Excel工作簿(*.xlsx)”（不要选Strict）后再报送。", workbook)
        if not self._plain(workbook, data):
            raise self.guard.refusal(Code.FILE_CORRUPT, "的工作簿结构不是Excel/WPS的常规写法（工作表的位置或关系不标准），"
                                     "无法确认读取的内容是否安全，拒绝读取；请用Excel或WPS打开后另存为.xlsx再报送。")
        rels = self._rels()
        found: list[tuple[str, str, str]] = []
        seen: set[str] = set()
        for sheet in root.iter():
            if _local(sheet.tag) != "sheet":
                continue
            name = sheet.get("name") or ""
            rid = sheet.get(f"{{{_REL_NS}}}id") or ""
            state = sheet.get("state") or "visible"
            # An unknown state would be rejected by Excel; treat it as not shown rather than guess.
            state = state if state in _STATES else "hidden"
            if not name or name.casefold() in seen:
                raise self.guard.refusal(Code.FILE_CORRUPT, f"中的工作表名称为空或重复（“{name}”），可能被篡改，拒绝读取。",
                                         workbook)
            seen.add(name.casefold())
            part = rels.get(rid)
            if part is None or part not in self.infos:
                raise self.guard.refusal(Code.FILE_CORRUPT, f"中工作表“{name}”的内容缺失，文件已损坏。", workbook, name)
            if any(part == other for _, _, other in found):
                raise self.guard.refusal(Code.FILE_CORRUPT, f"中工作表“{name}”与另一工作表共用内容，可能被篡改，拒绝读取。",
                                         workbook, name)
            found.append((name, state, part))
        return found

    def _plain(self, workbook: str, data: bytes) -> bool:
        """Whether calamine surely finds each sheet in the part found here (``data``: the workbook's bytes).

        The guards follow the package rels and read attributes by namespace, unescaped; calamine reads
        xl/workbook.xml and its rels by those names, attributes as spelled (whatever their prefix) and
        targets as written. Both agree where the workbook is at that name, each <sheet> and <Relationship>
        has only the attributes Excel writes, spelled as Excel spells them, relationship ids are unique,
        nothing in the rels is escaped, and each sheet's target is a plain internal part under xl/.
        """
        if workbook != _WORKBOOK or _WORKBOOK_RELS not in self.infos:
            return False
        rels_data = self.small_data(_WORKBOOK_RELS)
        rels = _spelled(rels_data, "Relationship")
        sheets = _spelled(data, "sheet")
        by_id = {attrs.get("Id", ""): attrs for _, attrs in rels}
        sheet_rels = [by_id.get(attrs.get("r:id", ""), {}) for _, attrs in sheets]
        return not (b"&" in rels_data or len(by_id) != len(rels) or "" in by_id
                    or any(tag != "Relationship" or attrs.keys() - _PLAIN_REL_ATTRS for tag, attrs in rels)
                    or any(tag != "sheet" or attrs.keys() - _PLAIN_SHEET_ATTRS for tag, attrs in sheets)
                    or any("TargetMode" in rel or not _PLAIN_TARGET.fullmatch(rel.get("Target", "")) for rel in sheet_rels))

    def _workbook_part(self) -> str:
        """The main part named by the package rels (usually xl/workbook.xml)."""
        if "_rels/.rels" in self.infos:
            for rel in self.small_xml("_rels/.rels"):
                if (rel.get("Type") or "").endswith("/officeDocument"):
                    part = _resolve("", rel.get("Target") or "")
                    if part in self.infos:
                        return part
        if "xl/workbook.xml" in self.infos:
            return "xl/workbook.xml"
        raise self.guard.refusal(Code.FILE_NOT_XLSX, "中找不到工作簿内容（xl/workbook.xml），不是有效的.xlsx工作簿。")

    def _rels(self) -> dict[str, str]:
        """Relationship id → part path, from the workbook's rels (which a plain workbook has)."""
        return {rel.get("Id") or "": _resolve("xl", rel.get("Target") or "") for rel in self.small_xml(_WORKBOOK_RELS)
                if _local(rel.tag) == "Relationship" and rel.get("TargetMode") != "External"}

    def small_xml(self, part: str) -> Element:
        """Parse a small structural part, after the byte checks (no DTD), with defusedxml anyway."""
        return safe_et.fromstring(self.small_data(part), forbid_dtd=True)

    def small_data(self, part: str) -> bytes:
        """A small structural part's bytes, after the byte checks (no DTD); each decompressed once."""
        if part not in self.small:
            info = self.infos[part]
            if info.file_size > MAX_SMALL_PART:
                raise self.guard.refusal(Code.FILE_TOO_LARGE, f"过大（{_mib(info.file_size)}），疑似异常文件，拒绝读取。",
                                         part)
            self.small[part] = b"".join(self.xml_chunks(part))
        return self.small[part]

    # --- bounded streaming of one part --------------------------------------------------------------

    def xml_chunks(self, part: str) -> Iterator[bytes]:
        """Decompressed chunks of a part, refusing DTDs, odd encodings and huge tokens on the way."""
        tail = b""
        since_gt = 0
        first = True
        is_xml = plain = False
        for chunk in self._raw_chunks(part):
            if first:
                first = False
                is_xml = bool(_XML_START.match(chunk))
                plain = is_xml and not _UTF16_START.match(chunk)
                self._check_encoding(part, chunk)
            if plain and chunk.translate(None, _ALLOWED):  # ~10x a regex class scan
                raise self.guard.refusal(Code.FILE_CORRUPT,
                                         "含有XML不允许的控制字符，文件已损坏；请用Excel或WPS打开后另存为.xlsx再报送。", part)
            # The seam with the previous chunk is searched apart (a hint in the first two bytes of the chunk
            # needs _UNSAFE_SPAN bytes after it), so that the chunk is not copied behind the tail.
            if _declares_dtd(tail + chunk[:_UNSAFE_SPAN + 2]) or _declares_dtd(chunk):
                raise self.guard.refusal(Code.FILE_UNSAFE_XML,
                                         "含有DTD或实体声明（<!DOCTYPE/<!ENTITY），可能是恶意构造的文件，拒绝读取。", part)
            tail = (tail + chunk[-_UNSAFE_SPAN:])[-_UNSAFE_SPAN:]
            if is_xml:
                last = chunk.rfind(b">")
                run = since_gt + (chunk.find(b">") if last >= 0 else len(chunk))
                since_gt = len(chunk) - 1 - last if last >= 0 else run
                if run > MAX_TOKEN:
                    raise self.guard.refusal(Code.FILE_TOO_LARGE,
                                             f"含有超长的XML内容（超过{_mib(MAX_TOKEN)}无分隔），疑似恶意构造的文件，拒绝读取。",
                                             part)
            yield chunk

    def _check_encoding(self, part: str, head: bytes) -> None:
        """The DTD search sees through UTF-8, ASCII-compatible encodings and UTF-16; refuse the rest."""
        if head.startswith((b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00", b"\x00\x00\x00<", b"<\x00\x00\x00")):
            bad = b"UTF-32"
        else:
            match = _ENCODING.match(head)
            bad = match.group(1) if match and not _FINE_ENCODING.fullmatch(match.group(1)) else b""
        if bad:
            raise self.guard.refusal(Code.FILE_UNSAFE_XML,
                                     f"使用了非常规的字符编码（{bad.decode('ascii', 'replace')[:20]}），拒绝读取。", part)

    def _raw_chunks(self, part: str) -> Iterator[bytes]:
        """Inflate a part ourselves: never more than its declared size, and CRC-checked at the end."""
        info = self.infos[part]
        handle = self.handle
        handle.seek(info.header_offset)
        signature, name_len, extra_len = _LOCAL.unpack(handle.read(_LOCAL.size))
        if signature != b"PK\x03\x04":
            raise self.guard.refusal(Code.FILE_CORRUPT, "的位置与目录不符，文件已损坏。", part)
        handle.seek(info.header_offset + _LOCAL.size + name_len + extra_len)
        left = info.compress_size
        inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
        produced = 0
        crc = 0
        pending = b""
        while True:
            if not pending and left:
                pending = handle.read(min(_READ, left))
                if not pending:
                    raise self.guard.refusal(Code.FILE_CORRUPT, "的数据被截断，文件不完整。", part)
                left -= len(pending)
            if inflater is None:
                out, pending = pending, b""
                done = not left
            else:
                out = inflater.decompress(pending, _CHUNK)
                pending = inflater.unconsumed_tail
                done = inflater.eof
                if not out and not pending and not left and not done:
                    raise self.guard.refusal(Code.FILE_CORRUPT, "的数据被截断，文件不完整。", part)
            if out:
                produced += len(out)
                if produced > info.file_size:
                    raise self.guard.refusal(Code.FILE_TOO_LARGE,
                                             f"解压后的大小超过目录所写的{_mib(info.file_size)}，疑似压缩炸弹，拒绝读取。", part)
                crc = zlib.crc32(out, crc)
                yield out
            if done:
                break
        if produced != info.file_size or crc != info.CRC:
            raise self.guard.refusal(Code.FILE_CORRUPT, "的数据校验失败，文件已损坏。", part)


class _SheetScan:
    """One pass over one worksheet's XML: used range from real cells, error and formula cells, merges."""

    def __init__(self, package: _Package, part: str, name: str, state: str):
        self.package = package
        self.part = part
        self.name = name
        self.state = state

    def run(self) -> SheetFacts:
        try:
            return self._scan(fast=True)
        except _Irregular:
            return self._scan(fast=False)

    def _scan(self, fast: bool) -> SheetFacts:
        self.max_row = self.max_col = -1
        self.errors: dict[tuple[int, int], str] = {}
        self.formulas: set[tuple[int, int]] = set()
        self.merged: list[tuple[int, int, int, int]] = []
        self.row = -1  # the tokenizer's current row and column, for cells without r
        self.col = -1
        carry = b""
        for chunk in self.package.xml_chunks(self.part):
            window = carry + chunk
            cut = _cut(window, fast)
            if cut <= 0:
                carry = window
                self._check_carry(carry)
                continue
            self._take(window, cut, fast)
            carry = window[cut:]
        self._take(carry, len(carry), fast)
        return SheetFacts(name=self.name, state=self.state, max_row=self.max_row, max_col=self.max_col,
                          errors=self.errors, formulas=frozenset(self.formulas), merged=tuple(self.merged))

    def _check_carry(self, carry: bytes) -> None:
        if len(carry) > MAX_TOKEN:
            raise self.package.guard.refusal(
                Code.FILE_TOO_LARGE, f"含有超过{_mib(MAX_TOKEN)}的单个XML元素，疑似恶意构造的文件，拒绝读取。", self.part, self.name)

    def _take(self, text: bytes, end: int, fast: bool) -> None:
        """Facts from a piece of sheet XML, ``text[:end]``, that ends at an element boundary. Every search
        stops at ``end`` (as if the text ended there), so that the piece is not copied out of the window."""
        if fast:
            self._take_fast(text, end)
        else:
            self._take_exact(text, end)
            self._take_merges(text, end)
        self._check_budget()

    def _take_merges(self, text: bytes, end: int) -> None:
        for match in _MERGE.finditer(text, 0, end):
            self.merged.append(self._range(match.group(1)))

    def _take_fast(self, text: bytes, end: int) -> None:
        """A few C-level scans per piece and no per-cell Python: one search visits every cell once and stops
        only at an odd one (then the piece is irregular) or at one beyond the running maximum (which grows
        the used range); formulas, merges and errors are looked at only if present."""
        if _holds(text, end, _PREFIX_HINT) and _PREFIXED.search(text, 0, end):
            raise _Irregular
        last = _FAST_CELL.match(text, max(0, text.rfind(b"<c r=", 0, end)), end)
        if last:  # the piece's last cell usually holds its largest row and column
            self._grow_regular(last.group(1), text, 0, end)
        pos = 0
        hits = 0
        while match := _unexpected(self.max_row, self.max_col).search(text, pos, end):
            cell = _FAST_CELL.match(text, match.start(), end)
            if not cell:
                raise _Irregular
            hits += 1
            if hits > _MAX_BEYOND_HITS:
                self._check_regular(text, match.start(), end)
                self._grow_all(text, end)
                break
            self._grow_regular(cell.group(1), text, match.start(), end)
            pos = cell.end()
        if _holds(text, end, _FORMULA_HINT):
            self.formulas.update(self._cell(ref) for ref in _FAST_FORMULA.findall(text, 0, end))
        if _holds(text, end, _MERGE_HINT):
            self._take_merges(text, end)
        if _holds(text, end, _ERROR_HINT):
            for ref, inner in _FAST_ERROR.findall(text, 0, end):
                value = _VALUE.search(inner)
                self.errors[self._cell(ref)] = value.group(1).decode("utf-8", "replace") if value else ""

    def _grow(self, ref: bytes) -> None:
        row, col = self._cell(ref)
        self.max_row = max(self.max_row, row)
        self.max_col = max(self.max_col, col)

    def _grow_regular(self, ref: bytes, text: bytes, at: int, end: int) -> None:
        """:meth:`_grow` for the cell at ``at`` of a piece regular before it. A ref past Excel's limits is
        refused only if the rest of the piece is regular too: an irregular piece is scanned again exactly,
        and that scan's verdict holds."""
        try:
            self._grow(ref)
        except Refused:
            self._check_regular(text, at, end)
            raise

    @staticmethod
    def _check_regular(text: bytes, at: int, end: int) -> None:
        if _ODD_CELL.search(text, at, end):
            raise _Irregular

    def _grow_all(self, text: bytes, end: int) -> None:
        """Cells out of order: take the largest row and column of the piece from all its refs at once."""
        letters = max(set(_FAST_COL.findall(text, 0, end)), key=lambda c: (len(c), c))
        digits = max(int(r) for r in set(_FAST_ROW.findall(text, 0, end)))
        self._grow(letters + b"1")
        self._grow(b"A" + str(digits).encode())

    def _take_exact(self, text: bytes, end: int) -> None:
        """Any spelling: cells and rows without r are placed by counting, as Excel does."""
        in_error = False
        for match in _TAG.finditer(text, 0, end):
            tag, attrs, after = match.groups()
            if tag == b"row":
                r = _ATTR_R.search(attrs)
                self.row = self._row_number(r.group(1)) if r else self.row + 1
                self.col = -1
            elif tag == b"c":
                r = _ATTR_R.search(attrs)
                if r:
                    self.row, self.col = self._cell(r.group(1))
                else:
                    self.row, self.col = max(self.row, 0), self.col + 1
                    if self.col >= MAX_COL:
                        raise self._corrupt(f"第{self.row + 1}行的单元格超出最大列")
                self.max_row = max(self.max_row, self.row)
                self.max_col = max(self.max_col, self.col)
                t = _ATTR_T.search(attrs)
                in_error = bool(t) and t.group(1) == b"e"
            elif tag == b"f" and self.col >= 0:
                self.formulas.add((self.row, self.col))
            elif tag == b"v" and in_error:
                self.errors[(self.row, self.col)] = after.decode("utf-8", "replace")
            if len(self.formulas) + len(self.errors) > MAX_FACTS:
                self._check_budget()

    def _row_number(self, text: bytes) -> int:
        if not text.isdigit() or not 1 <= int(text) <= MAX_ROW:
            raise self._corrupt(f"行号“{text[:20].decode('ascii', 'replace')}”无效")
        return int(text) - 1

    def _cell(self, ref: bytes) -> tuple[int, int]:
        try:
            return parse_cell(ref.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            raise self._corrupt(f"单元格地址“{ref[:20].decode('ascii', 'replace')}”无效") from None

    def _range(self, ref: bytes) -> tuple[int, int, int, int]:
        first, _, last = ref.partition(b":")
        r1, c1 = self._cell(first)
        r2, c2 = self._cell(last) if last else (r1, c1)
        return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)

    def _corrupt(self, what: str) -> Refused:
        return self.package.guard.refusal(Code.FILE_CORRUPT, f"工作表“{self.name}”中{what}，文件已损坏。", self.part, self.name)

    def _check_budget(self) -> None:
        """Refuse as soon as the real used range or the recorded facts outgrow what a reader can hold."""
        cells = (self.max_row + 1) * (self.max_col + 1)
        if cells > MAX_CELLS:
            span = cell_range(0, 0, self.max_row, self.max_col)
            raise self.package.guard.refusal(
                Code.SHEET_TOO_LARGE,
                f"工作表“{self.name}”的使用范围为{span}（约{cells:,}个单元格，上限{MAX_CELLS:,}），"
                "可能在很远的位置有内容；请删除多余的行列后再报送。",
                self.part, self.name)
        if len(self.formulas) + len(self.errors) + len(self.merged) > MAX_FACTS:
            raise self.package.guard.refusal(
                Code.SHEET_TOO_LARGE,
                f"工作表“{self.name}”中公式、错误值和合并单元格过多（超过{MAX_FACTS:,}个），无法安全读取。",
                self.part, self.name)


@functools.lru_cache(maxsize=256)
def _unexpected(max_row: int, max_col: int) -> re.Pattern[bytes]:
    """A pattern for the <c> tags that do not open with a well-formed ref within (max_row, max_col): odd
    cells, and cells beyond the running maximum. At every other cell it fails after a few steps."""
    within = b"(?!)"
    if max_row >= 0 and max_col >= 0:
        within = (rb"(?:" + _not_after(col_letter(max_col).encode(), b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")
                  + rb")(?:" + _not_after(str(max_row + 1).encode(), b"0123456789") + rb")")
    return re.compile(rb"<c(?! r=" + _Q + within + _Q + rb")[\s/>]")


def _not_after(text: bytes, symbols: bytes) -> bytes:
    """A pattern for column letters or row digits (no leading zero) that do not come after ``text``: the
    same length and not larger (tried first: there rows and columns usually are), or shorter."""
    lowest = ord("1") if symbols[0] == ord("0") else symbols[0]
    same = _up_to(text, symbols, lowest)
    if len(text) == 1:
        return same
    every = b"[%c-%c]" % (symbols[0], symbols[-1])
    more = every + b"{0,%d}" % (len(text) - 2) if len(text) > 2 else b""
    return same + b"|[%c-%c]" % (lowest, symbols[-1]) + more


def _up_to(text: bytes, symbols: bytes, lowest: int) -> bytes:
    """A pattern for strings as long as ``text`` that do not come after it, the first symbol from ``lowest``:
    a smaller first symbol and any others, or the same one and then not after the rest. Spelled as a trie,
    so that no symbol is matched twice."""
    head = text[0]
    if len(text) == 1:
        return b"[%c-%c]" % (lowest, head)
    every = b"[%c-%c]" % (symbols[0], symbols[-1])
    rest = every + b"{%d}" % (len(text) - 1) if len(text) > 2 else every
    smaller = [b"[%c-%c]" % (lowest, head - 1) + rest] if head > lowest else []
    return b"|".join(smaller + [b"%c(?:%s)" % (head, _up_to(text[1:], symbols, symbols[0]))])


def _holds(text: bytes, end: int, hint: re.Pattern[bytes]) -> bool:
    """Whether ``hint`` occurs in ``text[:end]``. A match starts only at its first byte, found by memchr: the first
    few of those (a sheet's opening tag holds a few ":", "f" and "m") are tried in place, then the rest of the
    piece is searched at once. Lookbehinds still see the bytes before where a match is tried."""
    lead = hint.pattern[:1]
    at = -1
    for _ in range(_HINT_PROBES):
        at = text.find(lead, at + 1, end)
        if at < 0:
            return False
        if hint.match(text, at, end):
            return True
    return hint.search(text, at + 1, end) is not None


def _cut(window: bytes, fast: bool) -> int:
    """Where a piece of sheet XML may end: at the last '<', unless that would split a cell: then before
    the cell if it is still open, or after its </c> if the window ends with that.

    The fast patterns need a whole cell (an error cell's <v> and </c>, a formula cell's <f>); the exact
    tokenizer carries its state across pieces, so any '<' will do for it.
    """
    last = window.rfind(b"<")
    if not fast:
        return last
    start = window.rfind(b"<c ")
    if start < 0:
        return last
    end = window.find(b">", start)
    if end > 0 and window[end - 1] == ord("/"):
        return last
    close = window.find(b"</c>", end) if end > 0 else -1
    return max(last, close + len(b"</c>")) if close >= 0 else start


class _Irregular(Exception):
    """The sheet is not spelled the way the fast patterns assume; scan it again exactly."""


def _declares_dtd(window: bytes) -> bool:
    """Whether "<!DOCTYPE" or "<!ENTITY" (any case, UTF-8 or UTF-16) occurs; hints are rare, so cheap, and
    searched for only from the first "!" (found by memchr; most parts hold none)."""
    start = window.find(b"!")
    if start < 0:
        return False
    for hint in _UNSAFE_HINT.finditer(window, start):
        at = hint.start()
        around = window[max(0, at - 2): at + _UNSAFE_SPAN].replace(b"\x00", b"").upper()
        if around.startswith(_UNSAFE_WORDS) or around[1:].startswith(_UNSAFE_WORDS):
            return True
    return False


def _scan_file(handle: BinaryIO, needles: list[bytes], limit: int) -> set[bytes]:
    """Which needles occur in the file, read in chunks with overlap (bounded memory)."""
    handle.seek(0)
    overlap = max(map(len, needles)) - 1
    found: set[bytes] = set()
    tail = b""
    read = 0
    while read < limit:
        chunk = handle.read(_READ)
        if not chunk:
            break
        read += len(chunk)
        window = tail + chunk
        found.update(n for n in needles if n in window)
        tail = window[-overlap:]
    return found


def _looks_like_text(head: bytes) -> bool:
    """A CSV or other text export: decodes (UTF-16 with a BOM, UTF-8, GB18030) to printable text."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: tuple[str, ...] = ("utf-16",)
    elif b"\x00" in head:
        return False
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        for end in range(len(head), max(len(head) - 4, 0), -1):  # the head may end inside a character
            try:
                text = head[:end].decode(encoding)
            except UnicodeDecodeError:
                continue
            return all(ch.isprintable() or ch in "\t\r\n" for ch in text)
    return False


def _unicode_path(extra: bytes) -> str | None:
    """The name in a zip entry's Info-ZIP Unicode Path field (0x7075), if it has one: calamine's zip reader
    takes it for the entry's name, Python's zipfile ignores it."""
    at = 0
    while at + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, at)
        if kind == 0x7075:
            return extra[at + 9: at + 4 + size].decode("utf-8", "replace")  # after a version byte and a CRC
        at += 4 + size
    return None


def _resolve(folder: str, target: str) -> str:
    """A relationship target as a zip part path: absolute (/xl/…) or relative to the source's folder."""
    path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
    return posixpath.normpath(path).lstrip("/")


def _spelled(data: bytes, local: str) -> list[tuple[str, dict[str, str]]]:
    """Each element named ``local`` (with any prefix) as spelled, prefixes kept: its tag and attributes.
    Only for XML that has passed the DTD check."""
    found: list[tuple[str, dict[str, str]]] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag.rpartition(":")[2] == local:
            found.append((tag, attrs))

    parser = expat.ParserCreate()  # no namespace processing: names as written
    parser.StartElementHandler = start
    parser.Parse(data, True)
    return found


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _mib(size: int) -> str:
    return f"{size / 1024**2:,.0f} MB" if size >= 1024**2 else f"{size / 1024:,.0f} KB"
