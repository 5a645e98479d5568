"""Regenerate the README's pictures as LibreOffice Calc prints them: ``python docs/make_pictures.py``.

docs/template.png is the left of the first printed page of the template's 放管服 sheet (too wide to read
whole), docs/result-summary.png the 汇总 page of the samples' result. The inputs are fixed (samples/, a
fixed run time), so the pictures change only when the layout, LibreOffice or the fonts do. Needs soffice,
pdftoppm and pdftotext (poppler-utils).
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from kaoping_xlsx.api import score_files
from kaoping_xlsx.rules import load_rules
from kaoping_xlsx.template import load_units, write_template

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
RUN_TIME = datetime(2021, 1, 15, 9, 30, 0)  # not shown on 汇总; fixed all the same
MARGIN = 12  # points kept around the printed content


def to_pdf(src: Path, outdir: Path) -> Path:
    """``src`` as headless LibreOffice prints it, with a throwaway profile (never the user's)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        sys.exit("需要 LibreOffice（soffice）才能生成图片")
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        subprocess.run([soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
                        "--convert-to", "pdf", "--outdir", str(outdir), str(src)], check=True, capture_output=True)
    return outdir / f"{src.stem}.pdf"


def page_boxes(pdf: Path) -> list[tuple[float, float, list[tuple[float, float, float, float, str]]]]:
    """Each page's width, height and words with their boxes, in points."""
    xhtml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = []
    for width, height, body in re.findall(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', xhtml, re.S):
        words = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
                           body)
        pages.append((float(width), float(height),
                      [(float(a), float(b), float(c), float(d), html.unescape(t)) for a, b, c, d, t in words]))
    return pages


def picture(pdf: Path, header: str, out: Path, dpi: int, before: str | None = None) -> None:
    """The first page whose page header is ``header`` (the sheet name) as a PNG, cropped to its printed
    content without the footer, and only left of the word ``before`` if given."""
    for number, (width, height, words) in enumerate(page_boxes(pdf), 1):
        if min(words, key=lambda w: w[1])[4] == header:
            break
    else:
        sys.exit(f"{pdf.name} 中没有“{header}”页")
    if before is None:
        # Fit to width: the table spans the printable width between equal side margins.
        x0 = max(0.0, min(w[0] for w in words) - MARGIN)
        x1 = width - x0
    else:
        # A wrapped group heading fills its merged cell: its first word starts just right of the border.
        x1 = min(w[0] for w in words if w[4] == before) - 1
        x0 = max(0.0, min(w[0] for w in words if w[2] < x1) - MARGIN)
    body = [w for w in words if w[3] < height - 40 and x0 <= w[0] < x1]  # above the footer
    y0 = max(0.0, min(w[1] for w in body) - MARGIN)
    y1 = min(height, max(w[3] for w in body) + MARGIN)
    px = dpi / 72
    subprocess.run(["pdftoppm", "-png", "-singlefile", "-r", str(dpi), "-f", str(number), "-l", str(number),
                    "-x", str(round(x0 * px)), "-y", str(round(y0 * px)),
                    "-W", str(round((x1 - x0) * px)), "-H", str(round((y1 - y0) * px)),
                    str(pdf), str(out.with_suffix(""))], check=True)
    print(f"{out.relative_to(ROOT)}：{out.stat().st_size // 1024} KB")


def main() -> None:
    rules = load_rules()
    with tempfile.TemporaryDirectory(prefix="kaoping-pictures-") as tmp:
        work = Path(tmp)
        template = write_template(rules, load_units(ROOT / "samples" / "units.xlsx", rules), work / "考评填报表.xlsx")
        # The sheet prints 40 columns to a page's width: show its first two clauses, enlarged.
        picture(to_pdf(template, work), "放管服", DOCS / "template.png", dpi=300, before="2.3")
        result = work / "考评结果.xlsx"
        score_files([ROOT / "samples" / "回收表格"], rules, result, run_time=RUN_TIME)
        picture(to_pdf(result, work), "汇总", DOCS / "result-summary.png", dpi=110)


if __name__ == "__main__":
    main()
