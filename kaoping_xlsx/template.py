"""The input workbook offices fill, and the units list it is made for.

Everything an office sees at a cell (dropdowns, ranges, prompts, greyed cells, the 填表说明 sheet) is
generated from the rules, so next year's rules file changes the template without code. The hidden key
row and the very hidden meta sheet (:mod:`kaoping_xlsx.layout`) are what the reader relies on.
"""

from __future__ import annotations

import csv
import io
import math
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Iterable, Sequence

import python_calamine
import xlsxwriter
from xlsxwriter.exceptions import FileCreateError

from . import guards
from .cleantext import clean_text
from .describe import display_width, wrapped_lines
from .errors import OutputError, UnitsError
from .layout import (FIRST_DATA_ROW, GROUP_ROW, GUIDE_SHEET, KEY_ROW, LABEL_ROW, META_SHEET, SECTIONS_HEADER,
                     TYPE_HEADER, TYPE_KEY, UNIT_HEADER, UNIT_KEY, meta_rows)
from .outputs import write_atomically
from .problems import shown
from .rules import (CHOICE, COUNT, NA, NO, NOT_APPLICABLE, SCORE, TEXT, YES, YESNO, Field, Rules, Section,
                    fmt)
from .units import Unit
from .xlref import cell, cell_range, col_letter, sheet_cell

FIRST_INPUT_COL = 2  # A = unit name, B = unit type
ALL_SECTIONS = "全部"
_SEPARATORS = re.compile(r"[,，、;；/\s]+")
_HEADER_SEARCH_ROWS = 10
_MAX_LISTED = 20
# Fixed document date: the same rules and units always give the same bytes.
_CREATED = datetime(2020, 1, 1)
_DOWNGRADE_GROUP = "降档情况（不计分，符合任一条件直接降档）"
# Excel's limits for data validation texts.
_TITLE_LIMIT = 32
_MESSAGE_LIMIT = 255
_LIST_LIMIT = 255

_TYPE_WORDS = {YESNO: "是/否", COUNT: "整数", SCORE: "分数", CHOICE: "选项", TEXT: "文字", NA: "不适用标记"}


# ---------------------------------------------------------------------------------------------- units


def load_units(path: Path | str, rules: Rules) -> tuple[Unit, ...]:
    """Read the units list (.xlsx or .csv: 单位名称, 单位类型, optional 参加部分; blank 参加部分 = all).

    Raises :class:`UnitsError` listing every fault with file, cell, the value seen and what is expected.
    """
    path = Path(path)
    sheet, rows = _read_list(path)

    def where(row: int, col: int) -> str:
        return f"单位名单 {path.name} {sheet_cell(sheet, row, col) if sheet else cell(row, col)}"

    header_row, columns = _find_header(path, sheet, rows, where)
    faults: list[str] = []
    units: list[Unit] = []
    first_seen: dict[str, str] = {}
    name_col, type_col = columns[UNIT_HEADER], columns[TYPE_HEADER]
    sections_col = columns.get(SECTIONS_HEADER)
    for r in range(header_row + 1, len(rows)):
        row = rows[r]
        name = _text(row, name_col)
        unit_type = _text(row, type_col)
        taking = _text(row, sections_col) if sections_col is not None else ""
        if not (name or unit_type or taking):
            continue
        if not name:
            faults.append(f"{where(r, name_col)}：单位名称为空（该行单位类型为“{shown(unit_type)}”），每行都要写明单位名称")
        elif name in first_seen:
            faults.append(f"{where(r, name_col)}：单位名称“{shown(name)}”与 {first_seen[name]} 重复，每个单位只能出现一次")
        else:
            first_seen[name] = cell(r, name_col)
        if unit_type not in rules.unit_types:
            seen = f"“{shown(unit_type)}”无效" if unit_type else "为空"
            faults.append(f"{where(r, type_col)}：单位类型{seen}，应为{_either(rules.unit_types)}")
        sections, unknown = _parse_sections(taking, rules)
        if unknown:
            faults.append(f"{where(r, sections_col)}：参加部分“{shown(taking)}”中的“{shown(unknown)}”不是考评部分，"
                          f"应为部分编号或名称（{_section_words(rules)}），多个用顿号分隔，留空表示全部参加")
        units.append(Unit(name, unit_type, sections))
    if faults:
        raise UnitsError(_listed(faults))
    if not units:
        raise UnitsError(f"{where(header_row, name_col)}：表头下面没有任何单位，请每行填写一个单位")
    return tuple(units)


def _read_list(path: Path) -> tuple[str, list[list[object]]]:
    """The cells of the units list from A1 on; for .xlsx the first sheet that has a 单位名称 header."""
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise UnitsError(f"单位名单 {path.name} 应为 .xlsx 或 .csv 文件，实际扩展名为“{path.suffix or '无'}”")
    if not path.is_file():
        raise UnitsError(f"找不到单位名单文件：{path}")
    if suffix == ".csv":
        return "", _read_csv(path)
    try:
        data = path.read_bytes()  # read once: calamine parses the very bytes the guards passed
    except OSError as exc:
        raise UnitsError(f"无法读取单位名单 {path.name}（{exc.strerror or type(exc).__name__}）") from None
    try:  # the same guards as returned workbooks: a crafted list must not crash or exhaust the machine
        guards.inspect(path, path.name, data)
    except guards.Refused as refused:
        raise UnitsError(f"单位名单无法使用：{refused.problem.message}") from None
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = [(m.name, book.get_sheet_by_name(m.name).to_python(skip_empty_area=False))
                  for m in book.sheets_metadata if m.visible == python_calamine.SheetVisibleEnum.Visible]
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - calamine's Rust panics arrive as a BaseException
        raise UnitsError(f"无法读取单位名单 {path.name}：文件不是有效的 .xlsx 表格（{type(exc).__name__}），"
                         "请用 Excel 或 WPS 另存为 .xlsx 后重试") from None
    if not sheets:
        raise UnitsError(f"单位名单 {path.name} 中没有可见的工作表")
    for name, rows in sheets:
        if _header_row(rows) is not None:
            return name, rows
    return sheets[0]


def _read_csv(path: Path) -> list[list[object]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return [list(row) for row in csv.reader(io.StringIO(text, newline=""))]
    raise UnitsError(f"单位名单 {path.name} 既不是 UTF-8 也不是 GBK 编码的文本，请用 Excel 另存为 .xlsx 或 CSV 后重试")


def _text(row: Sequence[object], col: int | None) -> str:
    """A cell as trimmed, storable text; a whole number stored as a float shows without ``.0``."""
    if col is None or col >= len(row):
        return ""
    value = row[col]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean_text(value).strip()


def _header_row(rows: Sequence[Sequence[object]]) -> int | None:
    for r, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        if any(_text(row, c) == UNIT_HEADER for c in range(len(row))):
            return r
    return None


def _find_header(path: Path, sheet: str, rows, where) -> tuple[int, dict[str, int]]:
    r = _header_row(rows)
    if r is None:
        inside = f"工作表“{sheet}”" if sheet else "文件"
        raise UnitsError(f"单位名单 {path.name}：{inside}前{_HEADER_SEARCH_ROWS}行中找不到“{UNIT_HEADER}”列。"
                         f"表头应有“{UNIT_HEADER}”“{TYPE_HEADER}”两列（可选“{SECTIONS_HEADER}”列）")
    columns: dict[str, int] = {}
    for c in range(len(rows[r])):
        title = _text(rows[r], c)
        if title in (UNIT_HEADER, TYPE_HEADER, SECTIONS_HEADER):
            if title in columns:
                raise UnitsError(f"{where(r, c)}：表头“{title}”出现了两次（另一处在 {cell(r, columns[title])}），请只保留一列")
            columns[title] = c
    if TYPE_HEADER not in columns:
        seen = "、".join(f"“{shown(t)}”" for t in (_text(rows[r], c) for c in range(len(rows[r]))) if t)
        inside = f"工作表“{sheet}”" if sheet else ""
        raise UnitsError(f"单位名单 {path.name} {inside}第{r + 1}行表头缺少“{TYPE_HEADER}”列（表头为：{seen}），"
                         f"应有“{UNIT_HEADER}”“{TYPE_HEADER}”两列")
    return r, columns


def _parse_sections(text: str, rules: Rules) -> tuple[tuple[str, ...], str]:
    """Section ids in rules order from ``1、放管服`` style text; blank or 全部 = all. Returns (ids, first unknown)."""
    tokens = [t for t in _SEPARATORS.split(text) if t]
    if not tokens or tokens == [ALL_SECTIONS]:
        return tuple(s.id for s in rules.sections), ""
    names = {}
    for s in rules.sections:
        names.update({s.id: s.id, s.name: s.id, s.sheet: s.id})
    unknown = next((t for t in tokens if t not in names), "")
    chosen = {names[t] for t in tokens if t in names}
    return tuple(s.id for s in rules.sections if s.id in chosen), unknown


def _section_words(rules: Rules) -> str:
    return "、".join(f"{s.id} {s.name}" for s in rules.sections)


def _either(words: Sequence[str]) -> str:
    quoted = [f"“{w}”" for w in words]
    return quoted[0] if len(quoted) == 1 else "、".join(quoted[:-1]) + "或" + quoted[-1]


def _listed(faults: list[str]) -> str:
    more = len(faults) - _MAX_LISTED
    shown_faults = faults[:_MAX_LISTED] + ([f"……另有{more}处问题未列出"] if more > 0 else [])
    return f"单位名单有{len(faults)}处问题，模板未生成：\n" + "\n".join(shown_faults)


def check_units(rules: Rules, units: Sequence[Unit]) -> None:
    """Units given by a caller must be what :func:`load_units` would give: named, typed, known sections."""
    faults, seen = [], set()
    for n, unit in enumerate(units, 1):
        if not unit.name.strip():
            faults.append(f"第{n}个单位没有名称")
        elif unit.name in seen:
            faults.append(f"单位“{shown(unit.name)}”重复")
        seen.add(unit.name)
        if unit.type not in rules.unit_types:
            faults.append(f"单位“{shown(unit.name)}”的类型“{shown(unit.type)}”无效，应为{_either(rules.unit_types)}")
        unknown = [s for s in unit.sections if s not in {x.id for x in rules.sections}]
        if unknown:
            faults.append(f"单位“{shown(unit.name)}”参加的部分“{shown(unknown[0])}”不在规则中（{_section_words(rules)}）")
    if not units:
        faults.append("没有任何单位")
    if faults:
        raise UnitsError(_listed(faults))


# ---------------------------------------------------------------------------------------------- catalog


def field_catalog(rules: Rules) -> list[dict]:
    """Every input column of the template: where it is, its key, what it asks and what it accepts."""
    return [
        {"sheet": section.sheet, "column": col_letter(col), "key": f.key, "section": section.id,
         "clause": f.clause_id or "", "label": f.label, "unit": f.unit, "type": f.type,
         "type_words": _TYPE_WORDS[f.type], "required": f.required,
         "applies_to": [t for t in rules.unit_types if f.applies(t)],
         "values": list(_list_values(f)), "allowed": allowed_words(f, rules)}
        for section in rules.sections for col, f in enumerate(section.fields, FIRST_INPUT_COL)
    ]


def allowed_words(f: Field, rules: Rules) -> str:
    """What a cell accepts, per unit type when that differs, and which types fill it at all."""
    types = [t for t in rules.unit_types if f.applies(t)]
    words = {t: f.expected(t) for t in types}
    if len(set(words.values())) == 1:
        text = words[types[0]]
    else:
        text = "；".join(f"{t}：{w}" for t, w in words.items())
    labels = {x.key: x.label for x in rules.fields.values()}
    text += "".join(f"，{c}" for c in _constraints(f, labels))
    if not f.required and f.type != NA:
        text += "，可留空"
    if len(types) < len(rules.unit_types):
        text += f"（仅{'、'.join(types)}填写）"
    return text


def _constraints(f: Field, labels: dict[str, str]) -> list[str]:
    """Limits that tie a field to another one, in words."""
    out = []
    if f.only_if:
        out.append(f"只有“{labels.get(f.only_if[0], f.only_if[0])}”为“是”时才能填“是”")
    if f.not_more_than:
        out.append(f"不能超过“{labels.get(f.not_more_than, f.not_more_than)}”")
    return out


def _list_values(f: Field) -> tuple[str, ...]:
    if f.type == YESNO:
        return (YES, NO)
    if f.type == CHOICE:
        return f.choices
    if f.type == NA:
        return (NOT_APPLICABLE,)
    return ()


# ---------------------------------------------------------------------------------------------- writing


def write_template(rules: Rules, units: Sequence[Unit], output: Path | str, inputs: Iterable[Path] = ()) -> Path:
    """Write the input workbook for ``units`` (in their order) to ``output``, atomically."""
    output = Path(output)
    if output.suffix.lower() != ".xlsx":
        raise OutputError(f"模板文件名应以 .xlsx 结尾，实际为 {output.name}")
    check_units(rules, units)

    def write(tmp: Path) -> None:
        try:
            _write(rules, tuple(units), tmp)
        except FileCreateError as exc:
            raise OutputError(f"无法写入 {output}：{exc}") from None

    return write_atomically(output, write, inputs=inputs)


class _Styles:
    """The workbook's cell formats, made once."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        base = {"font_name": "宋体", "font_size": 11, "valign": "vcenter"}
        box = {**base, "border": 1, "border_color": "#A6A6A6"}
        self.key = book.add_format({**base, "font_color": "#808080"})
        self.group = book.add_format({**box, "bold": True, "font_size": 10, "text_wrap": True,
                                      "align": "center", "bg_color": "#DDEBF7"})
        self.label = book.add_format({**box, "font_size": 10, "text_wrap": True, "align": "center",
                                      "bg_color": "#F2F2F2"})
        self.unit = book.add_format({**box, "bg_color": "#F2F2F2"})
        self.off = book.add_format({**box, "bg_color": "#BFBFBF"})
        self.inputs = {
            kind: book.add_format({**box, "locked": False, "num_format": "@" if kind in (YESNO, CHOICE, NA, TEXT)
                                   else "General", "align": "center" if kind != TEXT else "left"})
            for kind in (YESNO, COUNT, SCORE, CHOICE, TEXT, NA)
        }
        self.title = book.add_format({**base, "bold": True, "font_size": 16})
        self.heading = book.add_format({**base, "bold": True, "font_size": 12})
        self.text = book.add_format({**base, "text_wrap": True, "valign": "top"})
        self.table_head = book.add_format({**box, "bold": True, "bg_color": "#DDEBF7", "text_wrap": True})
        self.table = book.add_format({**box, "text_wrap": True, "valign": "top"})
        self.meta = book.add_format({"num_format": "@"})


def _write(rules: Rules, units: tuple[Unit, ...], path: Path) -> None:
    book = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_numbers": False,
                                           "strings_to_formulas": False, "strings_to_urls": False})
    book.set_properties({"title": f"{rules.title}填报模板", "subject": "绩效考评填报模板",
                         "author": "kaoping", "company": rules.send_to, "created": _CREATED,
                         "comments": f"规则编号 {rules.id}，指纹 {rules.fingerprint}"})
    styles = _Styles(book)
    guide = book.add_worksheet(GUIDE_SHEET)
    sheets = [(section, book.add_worksheet(section.sheet)) for section in rules.sections]
    meta = book.add_worksheet(META_SHEET)
    _write_guide(guide, rules, units, styles)
    for section, sheet in sheets:
        _write_section(sheet, section, rules, [u for u in units if section.id in u.sections], styles)
    for r, row in enumerate(meta_rows(rules.id, rules.fingerprint, units)):
        for c, value in enumerate(row):
            meta.write_string(r, c, value, styles.meta)
    meta.protect()
    meta.very_hidden()
    guide.activate()
    book.close()


# -------------------------------------------------------------------------------------- section sheets


def _label_text(f: Field) -> str:
    """The label row: what the column asks, with its unit (``漏报条数（条）``, ``是否泄密（是/否）``)."""
    if f.type == YESNO:
        return f"{f.label}（是/否）"
    if f.type == CHOICE:
        return f"{f.label}（下拉选择）"
    if f.unit and f.type in (COUNT, SCORE):
        return f"{f.label}（{f.unit}）"
    return f.label


def _groups(section: Section, rules: Rules) -> list[tuple[int, int, str]]:
    """Header groups as (first col, last col, text): one per clause, one for section-level inputs."""
    groups: list[tuple[int, int, str]] = []
    clauses = {c.id: c for c in section.clauses}
    for col, f in enumerate(section.fields, FIRST_INPUT_COL):
        if groups and f.clause_id == section.fields[groups[-1][1] - FIRST_INPUT_COL].clause_id:
            groups[-1] = (groups[-1][0], col, groups[-1][2])
            continue
        if f.clause_id is None:
            text = _DOWNGRADE_GROUP
        else:
            clause = clauses[f.clause_id]
            text = clause.heading
            if len(clause.applies_to) < len(rules.unit_types):
                text += f"\n仅{'、'.join(t for t in rules.unit_types if clause.applies(t))}填写"
        groups.append((col, col, text))
    return groups


def _widths(section: Section, labels: list[str], groups, units: Sequence[Unit]) -> list[float]:
    """Column widths that fit Chinese labels in at most a few lines; groups widened for their heading."""
    widths = [float(max(10, min(display_width(label) + 2, 16))) for label in labels]
    for i, f in enumerate(section.fields):
        if f.type == TEXT:
            widths[i] = 30.0
    for first, last, text in groups:
        span = range(first - FIRST_INPUT_COL, last - FIRST_INPUT_COL + 1)
        need = math.ceil(max(display_width(p) for p in text.split("\n")) / 3) + 2
        extra = need - sum(widths[i] for i in span)
        if extra > 0:
            for i in span:
                widths[i] += math.ceil(extra / len(span))
    name_width = max([display_width(u.name) for u in units] + [display_width(UNIT_HEADER) * 2]) + 2
    return [float(min(name_width, 40)), 10.0] + widths


def _write_section(ws, section: Section, rules: Rules, units: list[Unit], styles: _Styles) -> None:
    fields = section.fields
    labels = [_label_text(f) for f in fields]
    groups = _groups(section, rules)
    widths = _widths(section, labels, groups, units)
    last_col = FIRST_INPUT_COL + len(fields) - 1
    last_row = FIRST_DATA_ROW + len(units) - 1

    for c, width in enumerate(widths):
        ws.set_column(c, c, width)
    ws.write_string(KEY_ROW, 0, UNIT_KEY, styles.key)
    ws.write_string(KEY_ROW, 1, TYPE_KEY, styles.key)
    for c, f in enumerate(fields, FIRST_INPUT_COL):
        ws.write_string(KEY_ROW, c, f.key, styles.key)
    ws.set_row(KEY_ROW, None, None, {"hidden": True})

    title = f"{section.id} {section.name}" + (f"（{section.office}填报）" if section.office else "")
    ws.merge_range(GROUP_ROW, 0, GROUP_ROW, 1, title, styles.group)
    group_lines = [wrapped_lines(title, widths[0] + widths[1])]
    for first, last, text in groups:
        if first == last:
            ws.write_string(GROUP_ROW, first, text, styles.group)
        else:
            ws.merge_range(GROUP_ROW, first, GROUP_ROW, last, text, styles.group)
        group_lines.append(wrapped_lines(text, sum(widths[first:last + 1])))
    ws.set_row(GROUP_ROW, min(409, 14 * max(group_lines) + 4))
    ws.write_string(LABEL_ROW, 0, UNIT_HEADER, styles.label)
    ws.write_string(LABEL_ROW, 1, TYPE_HEADER, styles.label)
    for c, label in enumerate(labels, FIRST_INPUT_COL):
        ws.write_string(LABEL_ROW, c, label, styles.label)
    ws.set_row(LABEL_ROW, min(409, 14 * max(wrapped_lines(t, w) for t, w in zip(labels, widths[2:])) + 4)
               if labels else None)

    cells_by_type = {
        t: [(c, styles.inputs[f.type] if f.applies(t) else styles.off) for c, f in enumerate(fields, FIRST_INPUT_COL)]
        for t in rules.unit_types
    }
    for r, unit in enumerate(units, FIRST_DATA_ROW):
        ws.write_string(r, 0, unit.name, styles.unit)
        ws.write_string(r, 1, unit.type, styles.unit)
        for c, style in cells_by_type[unit.type]:
            ws.write_blank(r, c, None, style)
    if units:
        _validate(ws, section, rules, units)

    ws.freeze_panes(FIRST_DATA_ROW, FIRST_INPUT_COL)
    if units and fields:
        ws.autofilter(LABEL_ROW, 0, last_row, last_col)
    ws.protect("", {"format_columns": True, "format_rows": True, "autofilter": True})
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(GROUP_ROW, LABEL_ROW)
    ws.repeat_columns(0, 1)
    ws.set_header(f"&C{section.name.replace('&', '&&')}")
    ws.set_footer("&C第 &P 页，共 &N 页")


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Sorted row numbers as consecutive (first, last) runs."""
    runs: list[tuple[int, int]] = []
    for r in rows:
        if runs and runs[-1][1] == r - 1:
            runs[-1] = (runs[-1][0], r)
        else:
            runs.append((r, r))
    return runs


def _validate(ws, section: Section, rules: Rules, units: list[Unit]) -> None:
    """One data validation per column and distinct rule: units of types that share a rule share it."""
    rows_by_type: dict[str, list[int]] = {t: [] for t in rules.unit_types}
    for r, unit in enumerate(units, FIRST_DATA_ROW):
        rows_by_type[unit.type].append(r)
    columns = {f.key: c for c, f in enumerate(section.fields, FIRST_INPUT_COL)}
    for col, f in enumerate(section.fields, FIRST_INPUT_COL):
        by_rule: dict[tuple, list[int]] = {}
        for unit_type, rows in rows_by_type.items():
            if rows and f.applies(unit_type):
                by_rule.setdefault(_rule(f, unit_type), []).extend(rows)
        for rule, rows in by_rule.items():
            runs = _runs(sorted(rows))
            options = _options(f, section, rule, columns, runs[0][0])
            if len(runs) > 1:
                options["multi_range"] = " ".join(cell_range(a, col, b, col) for a, b in runs)
            ws.data_validation(runs[0][0], col, runs[0][1], col, options)


def _rule(f: Field, unit_type: str) -> tuple:
    """What differs between unit types for one field: the upper bound of a score."""
    return (f.expected(unit_type), f.maximum(unit_type))


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _options(f: Field, section: Section, rule: tuple, columns: dict[str, int], first_row: int) -> dict:
    expected, upper = rule
    options: dict = {"ignore_blank": True, "error_type": "stop"}
    if f.type in (YESNO, CHOICE, NA):
        values = _list_values(f)
        if any("," in v for v in values) or len(",".join(values)) > _LIST_LIMIT:
            raise OutputError(f"条款 {f.clause_id} 的选项“{'、'.join(values)}”含英文逗号或过长，无法做成下拉列表，请修改规则文件")
        options.update(validate="list", source=list(values))
    elif f.type == COUNT:
        options.update(validate="integer", criteria=">=", value=0)
        if f.not_more_than in columns:
            options.update(criteria="between", minimum=0,
                           maximum=f"=${col_letter(columns[f.not_more_than])}{first_row + 1}")
    elif f.type == SCORE:
        if upper is None:
            options.update(validate="decimal", criteria=">=", value=0)
        else:
            options.update(validate="decimal", criteria="between", minimum=0, maximum=_number(upper))
    else:
        options.update(validate="any")
    options["input_title"] = _cut(_prompt_title(f, section), _TITLE_LIMIT)
    options["input_message"] = _cut(_prompt(f, section, expected, columns), _MESSAGE_LIMIT)
    if f.type != TEXT:
        options["error_title"] = "填写内容无效"
        hint = "请从下拉列表中选择。" if f.type in (YESNO, CHOICE, NA) else "请填写阿拉伯数字，不要带单位。"
        limits = "".join(f"，{c}" for c in _constraints(f, {x.key: x.label for x in section.fields}))
        options["error_message"] = _cut(f"“{f.label}”应填{expected}{limits}。{hint}", _MESSAGE_LIMIT)
    return options


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _prompt_title(f: Field, section: Section) -> str:
    if f.clause_id is None:
        return "降档情况"
    clause = next(c for c in section.clauses if c.id == f.clause_id)
    return f"{clause.id} {clause.name}"


def _prompt(f: Field, section: Section, expected: str, columns: dict[str, int]) -> str:
    """The input message: what to enter, how, and what a blank means, from the field's rules."""
    labels = {x.key: x.label for x in section.fields}
    lines = [f"{f.label}：填{expected}。"]
    if f.type == YESNO:
        lines.append("请从下拉列表选择“是”或“否”，按表头字面回答。")
    elif f.type == CHOICE:
        lines.append("请从下拉列表选择。")
    elif f.type == COUNT:
        lines.append("填阿拉伯数字，没有发生请填0。")
    elif f.type == NA:
        lines.append("本项工作不涉及该单位时选择“不适用”，并把本项其他格留空；适用则留空。")
    lines += [f"{c}。" for c in _constraints(f, labels)]
    if f.reason_for:
        lines.append(f"“{labels.get(f.reason_for, f.reason_for)}”大于0时必须写明理由；没有加分请留空。")
    reasons = [x for x in section.fields if x.reason_for == f.key]
    if reasons:
        clause = next(c for c in section.clauses if c.id == f.clause_id)
        lines.append(f"本项{clause.points_words()}，超出按上限计；须在“{reasons[0].label}”中写明理由。")
    for trigger in section.downgrades:
        if trigger.input == f.key:
            lines.append(f"{trigger.words()}的直接降档。" if trigger.kind == "count_at_least"
                         else "填“是”将直接降档。")
    if f.required and f.type != NA:
        lines.append("留空视为未填写，本部分不计分。")
    elif f.type != NA and not f.reason_for:
        lines.append("可以留空，表示没有。")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- guide


def _write_guide(ws, rules: Rules, units: tuple[Unit, ...], styles: _Styles) -> None:
    """The 填表说明 sheet: what each sheet is for, how to fill it, what the answers mean, where to send it."""
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 14)
    ws.set_column(2, 2, 70)
    ws.set_column(3, 3, 26)
    row = 0

    def line(text: str, style=styles.text, height: int | None = None) -> None:
        nonlocal row
        ws.merge_range(row, 0, row, 3, text, style)
        lines = wrapped_lines(text, 120)
        ws.set_row(row, height or (18 * lines if lines > 1 else None))
        row += 1

    line(rules.title, styles.title, 28)
    line(f"填报模板（规则编号 {rules.id}，指纹 {rules.fingerprint}）。本页是填表说明，请先读完再填写。")
    row += 1
    line("一、各工作表的用途", styles.heading)
    for c, head in enumerate(("工作表", "填报科室", "填写内容", "单位数")):
        ws.write_string(row, c, head, styles.table_head)
    row += 1
    for section in rules.sections:
        members = [u for u in units if section.id in u.sections]
        content = f"{section.name}（满分{fmt(section.max)}分）：" + "、".join(f"{c.id} {c.name}" for c in section.clauses)
        if section.inputs:
            content += "；以及降档情况"
        counts = "，".join(f"{t}{n}个" for t in rules.unit_types
                          if (n := sum(1 for u in members if u.type == t)))
        ws.write_string(row, 0, section.sheet, styles.table)
        ws.write_string(row, 1, section.office or "—", styles.table)
        ws.write_string(row, 2, content, styles.table)
        ws.write_string(row, 3, f"{len(members)}个" + (f"（{counts}）" if counts else ""), styles.table)
        ws.set_row(row, 16 * wrapped_lines(content, 70))
        row += 1
    send_to = rules.send_to or "考评组织部门"
    chapters = [
        ("二、怎样填写", _how_to(rules)),
        ("三、“是”“否”“不适用”的含义", _meanings(rules)),
        ("四、空白单元格", _blanks(rules)),
        ("五、填好以后", [
            "1. 保存为 .xlsx 格式（不要另存为 .xls、.et 或 .csv），文件名可注明科室，如“放管服办.xlsx”。",
            f"2. 发送至：{send_to}。几个科室可以分别发送各自填好的文件，汇总时按单位自动合并。",
            f"3. 单位名单有误（缺单位、类型不对）时，请与{send_to}联系重新生成模板，不要自行增删单位行。",
        ]),
    ]
    for heading, texts in chapters:
        row += 1
        line(heading, styles.heading)
        for text in texts:
            line(text)
    ws.protect("", {"format_columns": True, "format_rows": True})
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)


def _how_to(rules: Rules) -> list[str]:
    partial = next(((c, [t for t in rules.unit_types if c.applies(t)]) for c in rules.clauses
                    if len(c.applies_to) < len(rules.unit_types)), None)
    grey = "灰色单元格表示该条款不考评此类单位，已锁定，不需要填写"
    if partial:
        clause, types = partial
        others = "、".join(t for t in rules.unit_types if t not in types)
        grey += f"（如“{clause.id} {clause.name}”只考评{'、'.join(types)}，{others}的这一格是灰色的）"
    return [
        "1. 每个科室只填写本科室负责的工作表（见上表），每个单位一行。单位名称和类型已经填好并锁定，不要修改。",
        f"2. 只在白色单元格中填写。{grey}。",
        "3. 表头第一行是条款编号、项目、分值和计分方法，第二行是每一列要填写的内容和单位。",
        "4. 单击单元格会出现填写提示。“是/否”和选项类的格子请从下拉列表中选择；数字请直接填写阿拉伯数字，不要带单位；"
        "填写不符合要求时表格会提示并拒绝。",
        "5. 不要插入或删除行、列，不要修改工作表名称和表头。可以调整列宽、行高，可以用表头的筛选按钮按单位类型筛选。",
    ]


def _meanings(rules: Rules) -> list[str]:
    example = next((f for s in rules.sections for f in s.fields if f.type == YESNO), None)
    lines = ["“是”：表头所述的情况属实或已经做到；“否”：表头所述的情况不属实或没有做到。请按表头的字面意思回答"
             + (f"，例如“{example.label}”做到了填“是”。" if example else "。")]
    lines.append("注意有些表头说的是问题或过失（如“未……”“发现……问题”），这时存在该问题就填“是”，没有就填“否”。")
    with_na = [s for s in rules.sections if s.allow_not_applicable]
    if with_na:
        sheets = "、".join(f"“{s.sheet}”" for s in with_na)
        lines.append(f"“不适用”（仅{sheets}表）：该项工作不涉及本单位（如本单位没有行政审批事项）时，在该项的“本项不适用”列选择"
                     "“不适用”，该项其他格留空；本部分按适用项目的得分折算为百分制。每个单位至少要有一项适用。")
    return lines


def _blanks(rules: Rules) -> list[str]:
    optional = [f for s in rules.sections for f in s.fields if not f.required and f.type != NA]
    clauses = {c.id: c for c in rules.clauses}
    names = list(dict.fromkeys(f"{f.clause_id} {clauses[f.clause_id].name}" for f in optional if f.clause_id))
    lines = ["1. 需要填写的白色单元格留空，视为“未填写”：该单位这一部分不计算得分，显示为“数据不完整”，并列入校验问题清单。"
             "没有发生的次数请填0，不要留空。"]
    if names:
        lines.append(f"2. 可以留空的只有{'、'.join(names)}的加分和加分理由，留空表示不加分；有加分时必须写明理由。")
    return lines
