"""Builders for crafted and damaged workbooks: minimal xlsx packages written part by part with zipfile,
so a test can put any bytes into any part, and helpers that patch a zip's headers afterwards."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_HEAD = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

CONTENT_TYPES = XML_HEAD + (
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b"</Types>"
)
PACKAGE_RELS = XML_HEAD + (
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    b'officeDocument" Target="xl/workbook.xml"/>'
    b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
    b'core-properties" Target="docProps/core.xml"/>'
    b"</Relationships>"
)
CORE = XML_HEAD + (
    b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>office</dc:creator></cp:coreProperties>'
)
STYLES = XML_HEAD + f'<styleSheet xmlns="{MAIN_NS}"><fonts count="1"><font/></fonts></styleSheet>'.encode()
SHARED = XML_HEAD + f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>单位</t></si></sst>'.encode()


def worksheet(sheet_data: bytes, after: bytes = b"") -> bytes:
    """A worksheet part around ``<sheetData>`` content (rows) and what follows it (e.g. mergeCells)."""
    return (XML_HEAD + f'<worksheet xmlns="{MAIN_NS}"><dimension ref="A1"/><sheetData>'.encode()
            + sheet_data + b"</sheetData>" + after + b"</worksheet>")


def parts(sheets: dict[str, bytes] | None = None, states: dict[str, str] | None = None) -> dict[str, bytes]:
    """The parts of a small valid workbook; ``sheets`` maps sheet name → worksheet XML."""
    sheets = sheets if sheets is not None else {"放管服": worksheet(b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>')}
    states = states or {}
    entries, rels = [], []
    out = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": PACKAGE_RELS,
        "docProps/core.xml": CORE,
        "xl/styles.xml": STYLES,
        "xl/sharedStrings.xml": SHARED,
    }
    for i, (name, xml) in enumerate(sheets.items(), start=1):
        state = f' state="{states[name]}"' if name in states else ""
        entries.append(f'<sheet name="{name}" sheetId="{i}"{state} r:id="rId{i}"/>')
        rels.append(f'<Relationship Id="rId{i}" Type="{REL_NS}/worksheet" Target="worksheets/sheet{i}.xml"/>')
        out[f"xl/worksheets/sheet{i}.xml"] = xml
    out["xl/workbook.xml"] = XML_HEAD + (
        f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets>{"".join(entries)}</sheets></workbook>'.encode()
    )
    out["xl/_rels/workbook.xml.rels"] = XML_HEAD + (
        f'<Relationships xmlns="{PKG_REL_NS}">{"".join(rels)}</Relationships>'.encode()
    )
    return out


def write_zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def patch_declared_size(path: Path, member: str, size: int) -> None:
    """Rewrite the uncompressed size of ``member`` in both its local and central headers (a lying zip)."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, central + 28)
        if bytes(data[central + 46: central + 46 + name_len]) == name:
            struct.pack_into("<I", data, central + 24, size)
            local = struct.unpack_from("<I", data, central + 42)[0]
            struct.pack_into("<I", data, local + 22, size)
        central = data.find(b"PK\x01\x02", central + 46 + name_len + extra_len + comment_len)
    path.write_bytes(bytes(data))


def ole_file(path: Path, *stream_names: str) -> Path:
    """Enough of an OLE2 compound file for detection: the signature and directory entry names."""
    body = b"".join(n.encode("utf-16-le") + b"\x00" * (64 - 2 * len(n)) for n in stream_names)
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + body + b"\x00" * 1024)
    return path
