"""Problems are data: one record type, a fixed code per kind of problem, Chinese messages.

Everything that goes wrong with an input (a whole file, a sheet, a column, a cell, a merge) becomes a
:class:`Problem`; they are collected in one pass and reported once, never raised one at a time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum

from .xlref import sheet_cell

ERROR = "错误"
WARNING = "警告"


class Code(str, Enum):
    """Fixed codes. The value is the code shown to users; ``words`` names the kind of problem."""

    # whole files
    FILE_NOT_XLSX = "F01"
    FILE_ENCRYPTED = "F02"
    FILE_EMPTY = "F03"
    FILE_CORRUPT = "F04"
    FILE_TOO_LARGE = "F05"
    FILE_UNSAFE_XML = "F06"
    FILE_NOT_TEMPLATE = "F07"
    FILE_OTHER_RULES = "F08"
    FILE_UNREADABLE = "F09"
    # sheets and columns
    SHEET_MISSING = "S01"
    COLUMN_MISSING = "S02"
    SHEET_TOO_LARGE = "S03"
    COLUMN_DUPLICATE = "S04"
    SHEET_COPY = "S05"
    # unit rows
    UNIT_UNKNOWN = "U01"
    UNIT_DUPLICATE = "U02"
    UNIT_MISSING = "U03"
    UNIT_TYPE_CHANGED = "U04"
    ROW_OUTSIDE_LIST = "U05"
    SECTION_NOT_RETURNED = "U06"
    # cells
    VALUE_BLANK = "V01"
    VALUE_INVALID = "V02"
    VALUE_OUT_OF_RANGE = "V03"
    VALUE_ERROR = "V04"
    VALUE_FORMULA = "V05"
    VALUE_NOT_FOR_TYPE = "V06"
    VALUE_MERGED = "V07"
    # across cells and files
    NA_WITH_INPUT = "X01"
    NA_ALL = "X02"
    EXCEEDS_OTHER = "X03"
    ONLY_IF = "X04"
    BONUS_NO_REASON = "X05"
    CONFLICT = "X06"

    @property
    def words(self) -> str:
        return _WORDS[self]


_WORDS = {
    Code.FILE_NOT_XLSX: "不是xlsx文件",
    Code.FILE_ENCRYPTED: "文件已加密",
    Code.FILE_EMPTY: "空文件",
    Code.FILE_CORRUPT: "文件损坏",
    Code.FILE_TOO_LARGE: "文件过大或异常",
    Code.FILE_UNSAFE_XML: "文件含不安全内容",
    Code.FILE_NOT_TEMPLATE: "不是本考评的模板",
    Code.FILE_OTHER_RULES: "模板版本不符",
    Code.FILE_UNREADABLE: "无法读取",
    Code.SHEET_MISSING: "缺少工作表",
    Code.COLUMN_MISSING: "缺少列",
    Code.SHEET_TOO_LARGE: "工作表范围过大",
    Code.COLUMN_DUPLICATE: "列重复",
    Code.SHEET_COPY: "复制的工作表",
    Code.UNIT_UNKNOWN: "单位不在名单中",
    Code.UNIT_DUPLICATE: "单位重复",
    Code.UNIT_MISSING: "单位行缺失",
    Code.UNIT_TYPE_CHANGED: "单位类型被改动",
    Code.ROW_OUTSIDE_LIST: "名单外的数据",
    Code.SECTION_NOT_RETURNED: "未报送",
    Code.VALUE_BLANK: "未填写",
    Code.VALUE_INVALID: "填写内容无效",
    Code.VALUE_OUT_OF_RANGE: "超出范围",
    Code.VALUE_ERROR: "错误值",
    Code.VALUE_FORMULA: "单元格是公式",
    Code.VALUE_NOT_FOR_TYPE: "该类型单位不应填写",
    Code.VALUE_MERGED: "合并单元格",
    Code.NA_WITH_INPUT: "不适用项填了数据",
    Code.NA_ALL: "全部不适用",
    Code.EXCEEDS_OTHER: "数量超出",
    Code.ONLY_IF: "前后矛盾",
    Code.BONUS_NO_REASON: "加分缺少理由",
    Code.CONFLICT: "多份文件数据冲突",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input. ``cell`` is ``'放管服'!F12`` style, or empty for whole files."""

    file: str
    code: Code
    message: str
    sheet: str = ""
    cell: str = ""
    unit: str = ""
    clause: str = ""
    value: str = ""
    expected: str = ""
    severity: str = ERROR

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def line(self) -> str:
        """One line for a console: ``[V02] 放管服.xlsx '放管服'!F12 县教育局：…``."""
        where = " ".join(p for p in (self.file, self.cell or self.sheet) if p)
        who = f" {self.unit}" if self.unit else ""
        return f"[{self.code.value} {self.severity}] {where}{who}：{self.message}"

    def as_dict(self) -> dict:
        data = asdict(self)
        data["code"] = self.code.value
        data["kind"] = self.code.words
        return data


def shown(value: object, limit: int = 60) -> str:
    """A value as the user typed it, cut for messages; control characters made visible."""
    text = "" if value is None else str(value)
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cell_problem(file: str, sheet: str, row: int, col: int, code: Code, message: str, *, unit: str = "",
                 clause: str = "", value: object = None, expected: str = "", severity: str = ERROR) -> Problem:
    """A problem at one cell (0-based row and column), its address written the one way."""
    return Problem(file=file, code=code, message=message, sheet=sheet, cell=sheet_cell(sheet, row, col),
                   unit=unit, clause=clause, value=shown(value), expected=expected, severity=severity)
