"""Headless LibreOffice for tests: convert, recalculate, export every sheet to CSV.

Each call uses a throwaway user profile that forces recalculation of .xlsx files on load
(``OOXMLRecalcMode`` = 0): LibreOffice otherwise keeps the cached results of files that say Excel
wrote them, so a stale cache could pass for a recalculation.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
# Skipped locally without LibreOffice; in CI (CI=true) never skipped, so a missing install fails loudly.
needs_office = pytest.mark.skipif(SOFFICE is None and not os.environ.get("CI"),
                                  reason="未安装 LibreOffice（soffice），跳过；CI 会安装并运行")

_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""

# Token 12 = -1: one CSV per sheet (LibreOffice ≥ 7.2), UTF-8 (76), comma, double quote, formatted text off.
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


def convert(src: Path, target: str, outdir: Path, timeout: int = 180) -> list[Path]:
    """Convert ``src`` with headless LibreOffice into ``outdir``; returns the files it wrote."""
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_PROFILE, encoding="utf-8")
        before = set(outdir.iterdir())
        proc = subprocess.run(
            [SOFFICE, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
             "--convert-to", target, "--outdir", str(outdir), str(src)],
            capture_output=True, text=True, timeout=timeout,
        )
    written = sorted(set(outdir.iterdir()) - before)
    if proc.returncode != 0 or not written:
        raise AssertionError(f"LibreOffice failed on {src.name}: rc={proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return written


def sheets_as_csv(src: Path, outdir: Path) -> dict[str, list[list[str]]]:
    """Every sheet of ``src`` as recalculated by LibreOffice, by sheet name."""
    files = convert(src, CSV_FILTER, outdir)
    out = {}
    for path in files:
        # LibreOffice names them <stem>-<sheet>.csv
        sheet = path.stem[len(src.stem) + 1:]
        with path.open(encoding="utf-8", newline="") as fh:
            out[sheet] = list(csv.reader(fh))
    return out


def pdf_pages(pdf: Path) -> int:
    """Number of pages of a PDF (pdfinfo from poppler-utils)."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    for line in info.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    raise AssertionError(f"pdfinfo gave no page count for {pdf}")
