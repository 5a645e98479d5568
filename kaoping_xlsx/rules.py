"""Rules as data: load a rules file (TOML) into frozen dataclasses and check it.

The rules file is the only place that knows clause numbers, points and wording. Each rule kind is a
small class registered under its ``kind`` string; it declares its input fields, describes its method
in words and scores whole columns of units at once (see :mod:`kaoping_xlsx.kinds`).
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from decimal import Decimal
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Mapping

from .errors import KaopingError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

YES = "是"
NO = "否"
NOT_APPLICABLE = "不适用"
DEFAULT_RULES = "changbai-2020.toml"
# Sheet names the template and the result workbook use for themselves.
RESERVED_SHEETS = ("填表说明", "汇总", "校验问题", "说明")

# Field types: what a cell may hold.
YESNO = "yesno"
COUNT = "count"
SCORE = "score"
CHOICE = "choice"
TEXT = "text"
NA = "na"


class RulesError(KaopingError):
    """A rules file that cannot be used; the message names the file, the place and the field."""


@dataclass(frozen=True)
class Place:
    """Where in the rules file a table sits, so that every load error can name it."""

    source: str
    where: str

    def error(self, name: str, problem: str) -> RulesError:
        return RulesError(f"规则文件 {self.source}：{self.where} 的 {name}：{problem}")

    def take(self, table: Mapping[str, Any], name: str, kind: type | tuple = object, default: Any = ...):
        """Fetch ``table[name]`` checking its type; ``default=...`` makes the field required."""
        if name not in table:
            if default is ...:
                raise self.error(name, "缺少此字段")
            return default
        value = table[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        wants_number = Decimal in kinds
        accepted = kinds + ((int,) if wants_number else ())
        if (isinstance(value, bool) and bool not in kinds and object not in kinds) or not isinstance(value, accepted):
            raise self.error(name, f"应为{_kind_words(kind)}，实际为 {value!r}")
        if wants_number and isinstance(value, int) and int not in kinds:
            return Decimal(value)
        return value

    def number(self, table: Mapping[str, Any], name: str, default: Any = ..., positive: bool = False):
        value = self.take(table, name, Decimal, default)
        if value is not None and value is not default:
            if value < 0 or (positive and value == 0):
                raise self.error(name, f"应为{'正数' if positive else '非负数'}，实际为 {value}")
        return value

    def text(self, table: Mapping[str, Any], name: str, default: Any = ...) -> str:
        value = self.take(table, name, str, default)
        if isinstance(value, str) and not value.strip() and default is ...:
            raise self.error(name, "不能为空")
        return value

    def only(self, table: Mapping[str, Any], allowed: set[str]) -> None:
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise self.error(unknown[0], f"未知字段（可用字段：{'、'.join(sorted(allowed))}）")


def _kind_words(kind) -> str:
    names = {str: "文字", bool: "true/false", list: "列表", dict: "表", int: "整数", Decimal: "数字"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return "或".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))


@lru_cache(maxsize=65536)
def fmt(value: Decimal | int) -> str:
    """Exact number as short text: 2, 2.5, 23.75 (no trailing zeros, no exponent). Cached: explanations
    repeat the same few numbers for every unit, and equal numbers always read the same."""
    if isinstance(value, int):
        return str(value)
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


@dataclass(frozen=True)
class Field:
    """One input column of a section sheet: what it asks and what a cell may hold."""

    key: str
    section_id: str
    clause_id: str | None
    label: str
    type: str
    unit: str = ""
    choices: tuple[str, ...] = ()
    # For SCORE fields: the largest value allowed, per unit type (None: no upper bound).
    maxima: Mapping[str, Decimal | None] = field(default_factory=dict)
    applies_to: frozenset[str] = frozenset()
    required: bool = True
    only_if: tuple[str, str] | None = None  # (key, YES): may be 是 only when that field is 是
    not_more_than: str | None = None  # key of a COUNT field this one may not exceed
    reason_for: str | None = None  # TEXT field required when this points field is > 0

    def applies(self, unit_type: str) -> bool:
        return unit_type in self.applies_to

    def maximum(self, unit_type: str) -> Decimal | None:
        return self.maxima.get(unit_type)

    def expected(self, unit_type: str | None = None) -> str:
        """The allowed input in words, for prompts and problem messages."""
        if self.type == YESNO:
            return "是或否"
        if self.type == COUNT:
            return "0或正整数"
        if self.type == NA:
            return f"“{NOT_APPLICABLE}”或留空"
        if self.type == CHOICE:
            return "以下之一：" + "、".join(self.choices)
        if self.type == TEXT:
            return "文字"
        upper = self.maximum(unit_type) if unit_type else max(
            (m for m in self.maxima.values() if m is not None), default=None
        )
        return f"0到{fmt(upper)}之间的数（可有小数）" if upper is not None else "不小于0的数（可有小数）"


@dataclass(frozen=True)
class Scored:
    """What a clause kind returns for a column of units (numpy object arrays, one entry per unit)."""

    points: Any  # Decimal per unit
    veto: Any  # bool per unit: a failed veto condition
    text: Any  # Chinese explanation per unit


@dataclass(frozen=True)
class Clause:
    """One scored item. Subclasses are the rule kinds; ``parse`` reads their parameters."""

    id: str
    name: str
    section_id: str
    maxima: Mapping[str, Decimal]  # points counted towards the section maximum, per unit type
    fields: tuple[Field, ...]

    kind: ClassVar[str] = ""
    is_bonus: ClassVar[bool] = False  # points on top of the section maximum
    has_veto: ClassVar[bool] = False

    def applies(self, unit_type: str) -> bool:
        return unit_type in self.maxima

    @property
    def applies_to(self) -> frozenset[str]:
        return frozenset(self.maxima)

    @property
    def heading(self) -> str:
        """Template and report group header, e.g. ``1.2.2 主动公开（30分，漏报一条扣2分，泄密不得分）``."""
        return f"{self.id} {self.name}（{self.points_words()}，{self.method()}）"

    def points_words(self) -> str:
        values = sorted(set(self.maxima.values()))
        if len(values) == 1:
            return f"{fmt(values[0])}分"
        return "，".join(f"{t}{fmt(m)}分" for t, m in self.maxima.items())

    def method(self) -> str:
        raise NotImplementedError

    def score(self, columns: Mapping[str, Any], maxima: Any) -> Scored:
        """Score whole columns: ``columns[key]`` holds each unit's normalised value, ``maxima`` each unit's max."""
        raise NotImplementedError

    @classmethod
    def parse(cls, table: Mapping[str, Any], place: Place, section: "SectionDraft") -> "Clause":
        raise NotImplementedError


@dataclass
class SectionDraft:
    """What a clause parser needs to know about its section while the rules load."""

    id: str
    unit_types: tuple[str, ...]


KINDS: dict[str, type[Clause]] = {}


def kind(name: str):
    """Register a rule kind under the ``kind`` string the rules file uses."""

    def register(cls: type[Clause]) -> type[Clause]:
        cls.kind = name
        KINDS[name] = cls
        return cls

    return register


@dataclass(frozen=True)
class Grade:
    """A grade band, an explicit interval: ``lower``/``upper`` None mean unbounded."""

    name: str
    lower: Decimal | None
    lower_closed: bool
    upper: Decimal | None
    upper_closed: bool

    def contains(self, value: Decimal) -> bool:
        if self.lower is not None and (value < self.lower or (value == self.lower and not self.lower_closed)):
            return False
        if self.upper is not None and (value > self.upper or (value == self.upper and not self.upper_closed)):
            return False
        return True

    def words(self) -> str:
        left = "-∞" if self.lower is None else fmt(self.lower)
        right = "+∞" if self.upper is None else fmt(self.upper)
        return f"{self.name}{'[' if self.lower_closed else '('}{left}, {right}{']' if self.upper_closed else ')'}"


@dataclass(frozen=True)
class Trigger:
    """A 降档 trigger. ``input`` is a field key (count/yes kinds) or None (score kind)."""

    kind: str
    reason: str
    input: str | None
    threshold: Decimal | None

    KINDS: ClassVar[tuple[str, ...]] = ("count_at_least", "score_below", "is_yes")

    def words(self) -> str:
        if self.kind == "count_at_least":
            return f"{self.reason}累计{fmt(self.threshold)}次及以上"
        if self.kind == "score_below":
            return f"本项得分低于{fmt(self.threshold)}分"
        return self.reason


@dataclass(frozen=True)
class Section:
    id: str
    name: str
    sheet: str
    office: str
    max: Decimal
    clauses: tuple[Clause, ...]
    inputs: tuple[Field, ...]  # section-level inputs that score nothing (降档 counts)
    allow_not_applicable: bool
    grades: tuple[Grade, ...]
    downgrades: tuple[Trigger, ...]

    @cached_property
    def fields(self) -> tuple[Field, ...]:
        """Every input column of the sheet, in template order (built once: readers ask per column)."""
        out: list[Field] = []
        for clause in self.clauses:
            out.extend(clause.fields)
            if self.allow_not_applicable:
                out.append(self.na_field(clause))
        out.extend(self.inputs)
        return tuple(out)

    def na_field(self, clause: Clause) -> Field:
        return Field(
            key=f"{clause.id}.na", section_id=self.id, clause_id=clause.id, label="本项不适用",
            type=NA, applies_to=clause.applies_to, required=False,
        )

    def grade_of(self, value: Decimal) -> str:
        for grade in self.grades:
            if grade.contains(value):
                return grade.name
        return ""


@dataclass(frozen=True)
class Rules:
    id: str
    title: str
    unit_types: tuple[str, ...]
    send_to: str
    decimals: int
    weights: Mapping[str, Decimal]
    sections: tuple[Section, ...]
    fingerprint: str
    source: str

    def section(self, section_id: str) -> Section:
        for section in self.sections:
            if section.id == section_id:
                return section
        raise KeyError(section_id)

    @cached_property
    def fields(self) -> Mapping[str, Field]:
        return MappingProxyType({f.key: f for s in self.sections for f in s.fields})

    @cached_property
    def clauses(self) -> tuple[Clause, ...]:
        return tuple(c for s in self.sections for c in s.clauses)

    def section_by_sheet(self, sheet: str) -> Section | None:
        return next((s for s in self.sections if s.sheet == sheet), None)


def default_rules_path() -> Path:
    return Path(str(resources.files("kaoping_xlsx") / "rules" / DEFAULT_RULES))


def load_rules(path: Path | str | None = None) -> Rules:
    """Read and check a rules file; raises :class:`RulesError` naming the place of the first fault."""
    from . import kinds  # noqa: F401  (registers the rule kinds)

    path = Path(path) if path is not None else default_rules_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise RulesError(f"找不到规则文件 {path}，请检查文件名和路径") from None
    except OSError as exc:
        raise RulesError(f"无法读取规则文件 {path}：{exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"), parse_float=Decimal)
    except UnicodeDecodeError:
        raise RulesError(f"规则文件 {path.name} 不是 UTF-8 编码的文本") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"规则文件 {path.name} 不是有效的 TOML：{exc}") from None
    return parse_rules(data, path.name)


def fingerprint(data: Mapping[str, Any]) -> str:
    """Hash of the rules' content (not their bytes: comments and line endings do not matter)."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def parse_rules(data: Mapping[str, Any], source: str = "<rules>") -> Rules:
    top = Place(source, "顶层")
    top.only(data, {"id", "title", "unit_types", "send_to", "display", "overall", "section"})
    rules_id = top.text(data, "id")
    unit_types = tuple(top.take(data, "unit_types", list))
    if not unit_types or not all(isinstance(t, str) and t.strip() for t in unit_types):
        raise top.error("unit_types", "应为非空的文字列表")
    if len(set(unit_types)) != len(unit_types):
        raise top.error("unit_types", "有重复的单位类型")

    display = top.take(data, "display", dict, {})
    dplace = Place(source, "[display]")
    dplace.only(display, {"decimals", "rounding"})
    decimals = dplace.take(display, "decimals", int, 2)
    if not 0 <= decimals <= 6:
        raise dplace.error("decimals", f"应为0到6之间的整数，实际为 {decimals}")
    if dplace.text(display, "rounding", "half_up") != "half_up":
        raise dplace.error("rounding", "目前只支持 half_up（四舍五入）")

    raw_sections = top.take(data, "section", list)
    if not raw_sections:
        raise top.error("section", "至少需要一个考评部分")
    sections: list[Section] = []
    seen_ids: dict[str, str] = {}
    for index, table in enumerate(raw_sections, 1):
        section = _parse_section(table, Place(source, f"第{index}个 [[section]]"), unit_types, seen_ids)
        sections.append(section)
    _check_unique([s.id for s in sections], Place(source, "[[section]]"), "id", "考评部分编号")
    _check_unique([s.sheet for s in sections], Place(source, "[[section]]"), "sheet", "工作表名")
    keys = {f.key for s in sections for f in s.fields}
    for section in sections:
        for f in section.fields:
            for ref in (f.not_more_than, f.only_if[0] if f.only_if else None):
                if ref is not None and ref not in keys:
                    raise Place(source, f"条款 {f.clause_id or section.id}").error(
                        f.key, f"引用了不存在的输入项 {ref}")
        for trig in section.downgrades:
            if trig.input is not None and trig.input not in keys:
                raise Place(source, f"部分 {section.id} 的降档条件").error("input", f"不存在的输入项 {trig.input}")

    overall = top.take(data, "overall", dict, {})
    oplace = Place(source, "[overall]")
    oplace.only(overall, {"weights"})
    given = "weights" in overall
    raw_weights = oplace.take(overall, "weights", dict, {s.id: Decimal(1) / len(sections) for s in sections})
    weights = {}
    for sid, w in raw_weights.items():
        if sid not in {s.id for s in sections}:
            raise oplace.error(f"weights.{sid}", "没有这个考评部分")
        weights[sid] = oplace.number(raw_weights, sid)
    missing = [s.id for s in sections if s.id not in weights]
    if missing:
        raise oplace.error("weights", f"缺少部分 {'、'.join(missing)} 的权重")
    # Default equal weights are 1/n, inexact for n = 3, 6, 7 (the engine renormalises them exactly).
    if given and sum(weights.values()) != 1:
        raise oplace.error("weights", f"各部分权重之和应为1，实际为 {fmt(sum(weights.values()))}")

    return Rules(
        id=rules_id,
        title=top.text(data, "title", rules_id),
        unit_types=unit_types,
        send_to=top.text(data, "send_to", ""),
        decimals=decimals,
        weights=MappingProxyType(weights),
        sections=tuple(sections),
        fingerprint=fingerprint(data),
        source=source,
    )


def _check_unique(values: list[str], place: Place, name: str, words: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise place.error(name, f"{words} {value} 重复")
        seen.add(value)


def _parse_section(table, place: Place, unit_types, seen_clause_ids: dict[str, str]) -> Section:
    if not isinstance(table, dict):
        raise place.error("section", "应为表")
    place.only(table, {"id", "name", "sheet", "office", "max", "clause", "input", "allow_not_applicable",
                       "grade", "downgrade"})
    sid = place.text(table, "id")
    place = Place(place.source, f"部分 {sid}")
    name = place.text(table, "name")
    sheet = place.text(table, "sheet", name)
    bad = set(sheet) & set("[]:*?/\\")
    if bad or len(sheet) > 31 or sheet.startswith("'") or sheet.startswith("_"):
        raise place.error("sheet", f"“{sheet}”不能作为工作表名（不超过31个字符，不含 []:*?/\\，不以'或_开头）")
    if sheet in RESERVED_SHEETS:
        raise place.error("sheet", f"“{sheet}”是模板或结果表自用的工作表名，请换一个（保留名：{'、'.join(RESERVED_SHEETS)}）")
    draft = SectionDraft(sid, unit_types)
    clauses: list[Clause] = []
    for raw in place.take(table, "clause", list):
        if not isinstance(raw, dict):
            raise place.error("clause", "每个条款应为表")
        cid = Place(place.source, f"部分 {sid} 的条款").text(raw, "id")
        cplace = Place(place.source, f"条款 {cid}")
        if cid in seen_clause_ids:
            raise cplace.error("id", f"条款编号 {cid} 重复")
        seen_clause_ids[cid] = sid
        kind_name = cplace.text(raw, "kind")
        if kind_name not in KINDS:
            raise cplace.error("kind", f"未知的计分方式 “{kind_name}”（可用：{'、'.join(sorted(KINDS))}）")
        clauses.append(KINDS[kind_name].parse(raw, cplace, draft))
    inputs = tuple(
        _parse_section_input(raw, Place(place.source, f"部分 {sid} 的 [[section.input]]"), sid, unit_types)
        for raw in place.take(table, "input", list, [])
    )
    maximum = place.number(table, "max", positive=True)
    for unit_type in unit_types:
        total = sum((c.maxima[unit_type] for c in clauses if c.applies(unit_type) and not c.is_bonus), Decimal(0))
        if total != maximum:
            parts = "+".join(f"{c.id}:{fmt(c.maxima[unit_type])}" for c in clauses
                             if c.applies(unit_type) and not c.is_bonus)
            raise place.error("max", f"满分为{fmt(maximum)}，但{unit_type}各条款分值之和为{fmt(total)}（{parts}）")
    keys = [f.key for c in clauses for f in c.fields] + [f.key for f in inputs]
    _check_unique(keys, place, "input", "输入项")
    grades = tuple(_parse_grade(raw, Place(place.source, f"部分 {sid} 的等次 {i}"))
                   for i, raw in enumerate(place.take(table, "grade", list, []), 1))
    _check_bands(grades, place)
    downgrades = tuple(_parse_trigger(raw, Place(place.source, f"部分 {sid} 的第{i}个降档条件"))
                       for i, raw in enumerate(place.take(table, "downgrade", list, []), 1))
    return Section(
        id=sid, name=name, sheet=sheet, office=place.text(table, "office", ""), max=maximum,
        clauses=tuple(clauses), inputs=inputs,
        allow_not_applicable=place.take(table, "allow_not_applicable", bool, False),
        grades=grades, downgrades=downgrades,
    )


def _parse_section_input(raw, place: Place, sid: str, unit_types) -> Field:
    place.only(raw, {"id", "label", "type", "unit"})
    ftype = place.text(raw, "type", COUNT)
    if ftype not in (COUNT, YESNO):
        raise place.error("type", f"部分级输入项只能是 count 或 yesno，实际为 {ftype}")
    return Field(key=f"{sid}.{place.text(raw, 'id')}", section_id=sid, clause_id=None,
                 label=place.text(raw, "label"), type=ftype, unit=place.text(raw, "unit", ""),
                 applies_to=frozenset(unit_types))


def _parse_grade(raw, place: Place) -> Grade:
    place.only(raw, {"name", "lower", "lower_closed", "upper", "upper_closed"})
    lower = place.take(raw, "lower", Decimal, None)
    upper = place.take(raw, "upper", Decimal, None)
    grade = Grade(
        name=place.text(raw, "name"),
        lower=lower, lower_closed=place.take(raw, "lower_closed", bool, lower is not None),
        upper=upper, upper_closed=place.take(raw, "upper_closed", bool, False),
    )
    if lower is not None and upper is not None and lower >= upper:
        raise place.error("upper", f"上限{fmt(upper)}应大于下限{fmt(lower)}")
    return grade


def _check_bands(grades: tuple[Grade, ...], place: Place) -> None:
    """Bands must tile the whole number line: no overlap, no gap."""
    if not grades:
        return
    order = sorted(grades, key=lambda g: (g.lower is not None, g.lower or 0))
    if order[0].lower is not None:
        raise place.error("grade", f"低于{fmt(order[0].lower)}分的得分没有等次（区间有空缺）")
    if order[-1].upper is not None:
        raise place.error("grade", f"高于{fmt(order[-1].upper)}分的得分没有等次（区间有空缺）")
    for below, above in zip(order, order[1:]):
        if below.upper is None or above.lower is None or below.upper > above.lower:
            raise place.error("grade", f"等次“{below.name}”与“{above.name}”的区间重叠")
        if below.upper < above.lower:
            raise place.error("grade", f"等次“{below.name}”与“{above.name}”之间有空缺（{fmt(below.upper)}到{fmt(above.lower)}）")
        if below.upper_closed and above.lower_closed:
            raise place.error("grade", f"等次“{below.name}”与“{above.name}”在{fmt(above.lower)}分处重叠（两端都是闭区间）")
        if not below.upper_closed and not above.lower_closed:
            raise place.error("grade", f"等次“{below.name}”与“{above.name}”在{fmt(above.lower)}分处有空缺（两端都是开区间）")


def _parse_trigger(raw, place: Place) -> Trigger:
    place.only(raw, {"kind", "input", "at_least", "below", "reason"})
    tkind = place.text(raw, "kind")
    if tkind not in Trigger.KINDS:
        raise place.error("kind", f"未知的降档条件 “{tkind}”（可用：{'、'.join(Trigger.KINDS)}）")
    reason = place.text(raw, "reason")
    if tkind == "count_at_least":
        return Trigger(tkind, reason, place.text(raw, "input"), place.number(raw, "at_least", positive=True))
    if tkind == "score_below":
        return Trigger(tkind, reason, None, place.number(raw, "below"))
    return Trigger(tkind, reason, place.text(raw, "input"), None)
