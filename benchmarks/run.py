"""Benchmark: kaoping score / check end to end against the I/O floor, each in a fresh process.

Usage (from the repository root, after ``python -m pip install -e .``):

    python benchmarks/run.py                 # N = 60, 10000, 100000, each measured 3 times
    python benchmarks/run.py --sizes 60 10000 --repeat 5

For each N it generates a filled workbook (all five sections, realistic values, a few problems),
then times, each in its own process: ``kaoping score``, ``kaoping check``, and the I/O floor —
reading the same sheets with python-calamine plus writing the very cells of the result workbook with
the same writer (xlsxwriter with kaoping's FastWorksheet), with no guards, validation or scoring.
The floor counts start-up as ``score`` does: the wall time of a process that only starts Python and
imports that reader and writer is added to the floor's own clock (which starts after its untimed
preparation). Peak RSS comes from the child's resource usage (where the ``resource`` module exists).
Each measurement is repeated (``--repeat``, default 3) and the median shown: on a shared 2-core machine
single runs vary by a few percent.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
from datetime import date
from statistics import median
from pathlib import Path

# What the floor process loads before its clock starts; timed on its own as the floor's start-up.
FLOOR_IMPORTS = "from python_calamine import CalamineWorkbook; import xlsxwriter; from kaoping_xlsx.fastsheet import FastWorksheet"

FLOOR_SCRIPT = r"""
import gc, re, sys, time, zipfile
""" + FLOOR_IMPORTS + r"""
src, result, dst = sys.argv[1], sys.argv[2], sys.argv[3]
# Untimed: the cells the real result holds, sheet by sheet, so the floor writes exactly as many —
# values as calamine reads them, plus the blank cells kept for their format and the set row heights.
book = CalamineWorkbook.from_path(result)
cells = {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}
with zipfile.ZipFile(result) as z:
    parts = [z.read(f"xl/worksheets/sheet{i + 1}.xml") for i in range(len(cells))]
blanks = [re.findall(rb'<c r="([A-Z]+)([0-9]+)" s="[0-9]+"/>', xml) for xml in parts]
heights = [{int(r) - 1: float(h) for r, h in re.findall(rb'<row r="([0-9]+)"[^>]*? ht="([0-9.]+)"', xml)}
           for xml in parts]
def col(letters):
    n = 0
    for ch in letters.decode():
        n = n * 26 + ord(ch) - 64
    return n - 1
rows_of = []
for (name, rows), blank in zip(cells.items(), blanks):
    grid = [[(c, v) for c, v in enumerate(row) if v != "" and not isinstance(v, bool)] for row in rows]
    for letters, r in blank:
        r = int(r) - 1
        grid.extend([] for _ in range(r + 1 - len(grid)))
        grid[r].append((col(letters), None))
    rows_of.append((name, [sorted(row) for row in grid]))
gc.disable()  # as kaoping score does while it runs (and the untimed lists above must not slow it)
start = time.perf_counter()
book = CalamineWorkbook.from_path(src)
for name in book.sheet_names:
    book.get_sheet_by_name(name).to_python()
out = xlsxwriter.Workbook(dst, {"constant_memory": True, "strings_to_formulas": False,
                               "strings_to_urls": False, "strings_to_numbers": False})
num = out.add_format({"num_format": "0.00", "border": 1})
txt = out.add_format({"border": 1, "text_wrap": True})
for (name, rows), height in zip(rows_of, heights):
    ws = out.add_worksheet(name, FastWorksheet)  # the same writer kaoping's report uses
    for r, row in enumerate(rows):
        if r in height:
            ws.set_row(r, height[r])
        ws.put_row(r, [(c, v, txt if isinstance(v, str) else num) for c, v in row])
out.close()
print(time.perf_counter() - start)
"""


def generate(path: Path, n: int, seed: int = 7) -> None:
    """A filled template for ``n`` units written directly from the layout contract."""
    import xlsxwriter

    from kaoping_xlsx.engine import Unit
    from kaoping_xlsx.layout import FIRST_DATA_ROW, KEY_ROW, META_SHEET, TYPE_KEY, UNIT_KEY, meta_rows
    from kaoping_xlsx.rules import load_rules

    rng = random.Random(seed)
    rules = load_rules()
    all_sections = tuple(s.id for s in rules.sections)
    units = [Unit(f"单位{i:06d}", "乡镇" if i % 5 == 0 else "县直部门", all_sections) for i in range(n)]
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    for section in rules.sections:
        ws = book.add_worksheet(section.sheet)
        fields = section.fields
        ws.write_row(KEY_ROW, 0, [UNIT_KEY, TYPE_KEY] + [f.key for f in fields])
        ws.write_row(1, 0, ["单位名称", "单位类型"] + [f.clause_id or "" for f in fields])
        ws.write_row(2, 0, ["单位名称", "单位类型"] + [f.label for f in fields])
        for r, unit in enumerate(units):
            row = [unit.name, unit.type]
            for f in fields:
                row.append(_value(f, unit.type, rng))
            if r % 997 == 13:  # a few problems: a count written as words
                row[2 + rng.randrange(len(fields))] = "三"
            ws.write_row(FIRST_DATA_ROW + r, 0, row)
    meta = book.add_worksheet(META_SHEET)
    for r, row in enumerate(meta_rows(rules.id, rules.fingerprint, units)):
        meta.write_row(r, 0, row)
    meta.very_hidden()
    book.close()


def _value(field, unit_type: str, rng: random.Random):
    if not field.applies(unit_type):
        return None
    if field.type == "yesno":
        if field.only_if:
            return "否"
        return "是" if rng.random() < 0.85 else "否"
    if field.type == "count":
        if field.key.endswith("reported"):
            return rng.randint(20, 60)
        if field.key.endswith("adopted"):
            return rng.randint(5, 20)
        return rng.choice([0, 0, 0, 1, 2, 3])
    if field.type == "score":
        top = field.maximum(unit_type)
        if top is None:  # bonus points: mostly none
            return None
        return round(float(top) * rng.uniform(0.6, 1.0), 1)
    if field.type == "choice":
        return rng.choice(field.choices)
    return None


MEASURE = (
    "import json, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE)\n"
    "seconds = time.perf_counter() - t\n"
    "tail = p.stdout.decode('utf-8', 'replace').strip().splitlines()[-1:] or ['']\n"
    "try:\n"
    "    import resource\n"
    "    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "except ImportError:  # Windows: no peak RSS\n"
    "    peak = float('nan')\n"
    "print(json.dumps([seconds, peak, p.returncode, tail[0]]))\n"
)


def run(cmd: list[str]) -> tuple[float, float, int, str]:
    """Wall seconds, peak RSS (MiB), exit code and last output line of ``cmd`` in a fresh process.

    A small parent process runs it, so that RUSAGE_CHILDREN holds this one child's peak only.
    """
    out = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True, check=True)
    seconds, peak_kib, code, tail = json.loads(out.stdout)
    return seconds, peak_kib / 1024, code, tail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[60, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the median is shown")
    args = parser.parse_args()
    kaoping = [sys.executable, "-m", "kaoping_xlsx"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="kaoping-bench-") as tmp:
        for n in args.sizes:
            src = Path(tmp) / f"填报{n}.xlsx"
            result = Path(tmp) / f"结果{n}.xlsx"
            generate(src, n)
            scores, checks, floors, starts = [], [], [], []
            for _ in range(args.repeat):  # interleaved, so that a slow spell of the machine hits all three
                scores.append(run(kaoping + ["score", str(src), "-o", str(result)]))
                checks.append(run(kaoping + ["check", str(src)]))
                # The floor's own clock (reading the input plus writing the result's cells), and apart
                # its start-up: Python with the reader and the writer imported, timed as score is.
                floors.append(run([sys.executable, "-c", FLOOR_SCRIPT, str(src), str(result),
                                   str(Path(tmp) / f"floor{n}.xlsx")]))
                starts.append(run([sys.executable, "-c", FLOOR_IMPORTS]))
            score_t, check_t = median(r[0] for r in scores), median(r[0] for r in checks)
            floor_t = median(float(r[3]) for r in floors) + median(r[0] for r in starts)
            rows.append((n, score_t, check_t, floor_t, score_t / floor_t, max(r[1] for r in scores),
                         max(r[1] for r in checks), max(r[1] for r in floors)))
            os.remove(src)
    print(f"机器：{platform.machine()}，{os.cpu_count()} 核，Python {platform.python_version()}；日期 {date.today()}；"
          f"每项运行 {args.repeat} 次取中位数（峰值内存取最大）")
    print("| 单位数 | score (s) | check (s) | I/O 下限 (s) | score ÷ 下限 | score 峰值内存 (MiB) | check 峰值内存 (MiB) | 下限峰值内存 (MiB) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, s, c, f, ratio, srss, crss, frss in rows:
        print(f"| {n:,} | {s:.2f} | {c:.2f} | {f:.2f} | {ratio:.2f} | {srss:.0f} | {crss:.0f} | {frss:.0f} |")


if __name__ == "__main__":
    main()
