"""Rules and fields in words, as plain-text tables a console shows aligned (Chinese is two cells wide)."""

from __future__ import annotations

import math
import sys
import unicodedata
from functools import lru_cache
from typing import Sequence

import numpy as np

from .rules import Rules, fmt


def _char_width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


@lru_cache(maxsize=65536)
def display_width(text: str) -> int:
    """Width in Excel column units and console cells: Chinese (wide, full-width) counts two. Cached:
    sheet columns repeat the same texts over thousands of units."""
    return len(text) if text.isascii() else sum(map(_char_width, text))


_WIDTHS = np.zeros(sys.maxunicode + 1, dtype=np.uint8)  # display_width of each character once looked up; 0: not yet


def display_widths(texts: Sequence[str]) -> np.ndarray:
    """:func:`display_width` of many texts in one pass over all their characters: a result sheet has
    tens of thousands of distinct explanations to fit, too many to measure one character at a time.
    Each character is looked up in unicodedata once per run."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    codes = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    widths = _WIDTHS[codes]
    if not widths.all():
        new = np.unique(codes[widths == 0])
        _WIDTHS[new] = [_char_width(chr(code)) for code in new.tolist()]
        widths = _WIDTHS[codes]
    # Summed text by text; reduceat needs each text's first character, so blank texts stay 0.
    out = np.zeros(len(lengths), dtype=np.int64)
    filled = lengths > 0
    if filled.any():
        out[filled] = np.add.reduceat(widths, (np.cumsum(lengths) - lengths)[filled], dtype=np.int64)
    return out


def wrapped_lines(text: str, width: float) -> int:
    """Lines a wrapped text takes in a column ``width`` units wide (a little margin for the cell's padding)."""
    usable = max(width - 1.5, 1)
    return sum(max(1, math.ceil(display_width(part) / usable)) for part in text.split("\n"))


def wrapped_lines_of(texts: Sequence[str], width: float) -> np.ndarray:
    """:func:`wrapped_lines` of many texts; those without a line break measured together."""
    usable = max(width - 1.5, 1)
    lines = np.maximum(1, np.ceil(display_widths(texts) / usable)).astype(np.int64)
    for i, text in enumerate(texts):
        if "\n" in text:
            lines[i] = wrapped_lines(text, width)
    return lines


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def text_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-aligned columns separated by two spaces; the last column is not padded."""
    cells = [[str(c) for c in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(display_width(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(_pad(c, w) for c, w in zip(row[:-1], widths)) + "  " + row[-1])
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def rules_rows(rules: Rules) -> list[dict]:
    """One row per clause: section, clause, item, points, kind, method in words."""
    return [
        {"section": s.name, "clause": c.id, "item": c.name, "max": c.points_words(), "kind": c.kind,
         "method": c.method(), "applies_to": [t for t in rules.unit_types if c.applies(t)]}
        for s in rules.sections for c in s.clauses
    ]


def rules_table(rules: Rules) -> str:
    out = [f"{rules.title}（规则编号 {rules.id}，指纹 {rules.fingerprint}）", ""]
    for s in rules.sections:
        extra = "，可标注“不适用”并折算为百分制" if s.allow_not_applicable else ""
        out.append(f"{s.id} {s.name}（满分{fmt(s.max)}分，填报：{s.office or '—'}{extra}）")
        out.append(text_table(["条款", "项目", "分值", "计分方法"],
                              [[c.id, c.name, c.points_words(), c.method()] for c in s.clauses]))
        if s.grades:
            out.append("等次：" + "；".join(g.words() for g in s.grades))
        if s.downgrades:
            out.append("降档：" + "；".join(t.words() for t in s.downgrades))
        out.append("")
    weights = "，".join(f"{s.name}{fmt(rules.weights[s.id])}" for s in rules.sections)
    out.append(f"总分：所参加部分的加权平均（权重 {weights}，按参加的部分重新归一）；"
               f"显示与排名保留{rules.decimals}位小数，四舍五入")
    return "\n".join(out)


def fields_table(catalog: Sequence[dict]) -> str:
    return text_table(["工作表", "列", "键", "条款", "名称", "类型", "允许的值"],
                      [[f["sheet"], f["column"], f["key"], f["clause"], f["label"], f["type_words"], f["allowed"]]
                       for f in catalog])
