"""The rule kinds. Each is one small class: parse its parameters, say its method, score columns.

``score`` receives whole columns (numpy object arrays, one entry per unit, values already normalised:
bool for 是/否, int for counts, Decimal for scores, str for choices and text) and returns whole columns.
Arithmetic is exact (Decimal); rounding to what is shown is the engine's (:func:`kaoping_xlsx.engine.shown`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Mapping, Sequence

import numpy as np

from .rules import (CHOICE, COUNT, NO, SCORE, TEXT, YES, YESNO, Clause, Field, Place, Scored,
                    SectionDraft, fmt, kind)

ZERO = Decimal(0)


def _maxima(table, place: Place, draft: SectionDraft, name: str = "max") -> Mapping[str, Decimal]:
    """``max = 30`` (every unit type) or ``max = { 乡镇 = 25, 县直部门 = 10 }`` (only those types)."""
    raw = place.take(table, name, (Decimal, dict))
    if isinstance(raw, dict):
        unknown = [t for t in raw if t not in draft.unit_types]
        if unknown:
            raise place.error(f"{name}.{unknown[0]}", f"未知的单位类型（可用：{'、'.join(draft.unit_types)}）")
        if not raw:
            raise place.error(name, "至少要给一种单位类型的分值")
        return MappingProxyType({t: place.number(raw, t, positive=True) for t in draft.unit_types if t in raw})
    value = place.number(table, name, positive=True)
    return MappingProxyType({t: value for t in draft.unit_types})


def _field(draft: SectionDraft, cid: str, raw: Mapping[str, Any], place: Place, ftype: str,
           applies_to, **extra) -> Field:
    return Field(key=f"{cid}.{place.text(raw, 'id')}", section_id=draft.id, clause_id=cid,
                 label=place.text(raw, "label"), type=ftype, unit=place.text(raw, "unit", ""),
                 applies_to=frozenset(applies_to), **extra)


def _yes_word(value: bool) -> str:
    return YES if value else NO


def _column(values, dtype=object) -> np.ndarray:
    out = np.empty(len(values), dtype=dtype)
    out[:] = values
    return out


def _floor(points: np.ndarray) -> np.ndarray:
    return np.where(points < ZERO, ZERO, points)


def _alike(*columns: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """Rows equal in every column, value for value, read alike: the first row of each such combination
    and, per row, which combination it is (numbered in order of first appearance). A dict, not pandas:
    the rows are a clause's distinct answers, a few hundred, and kinds load with the rules, before pandas."""
    numbers: dict = {}
    first: list[int] = []
    inverse: list[int] = []
    for i, row in enumerate(zip(*columns)):
        number = numbers.setdefault(row, len(first))
        if number == len(first):
            first.append(i)
        inverse.append(number)
    return np.array(first, dtype=np.intp), np.array(inverse, dtype=np.intp)


def _deducted_text(parts: list[str], deduction: Decimal, maximum: Decimal) -> str:
    """``漏报3条×2分=扣6分，得24分``; several parts are summed; 扣完为止 when it would go below 0."""
    if not parts:
        return f"无扣分，得{fmt(maximum)}分"
    body = "；".join(parts)
    if len(parts) > 1:
        body += f"；共扣{fmt(deduction)}分"
    if deduction >= maximum:
        return f"{body}，扣完为止，得0分" if deduction > maximum else f"{body}，得0分"
    return f"{body}，得{fmt(maximum - deduction)}分"


def _itemised(failing: np.ndarray, labels: list[str], each: Decimal, maxima, lacking, complete) -> Scored:
    """Each failing item (a True in a unit's row) deducts ``each``, floor 0; the text names them:
    ``lacking(names)`` + ``×1分=扣2分，得4分``, or ``complete(max)`` when none fails (1.1, 1.5, 5.3).
    The text depends only on which items fail and the maximum, so each such pair is written once."""
    deduction = _column(failing.sum(axis=1).tolist()) * each
    points = _floor(maxima - deduction)
    patterns = np.ascontiguousarray(failing).view(np.dtype((np.void, failing.shape[1]))).ravel()
    first, inverse = _alike(patterns.tolist(), maxima)
    text = []
    for row, ded, top in zip(failing[first].tolist(), deduction[first], maxima[first]):
        names = [label for label, bad in zip(labels, row) if bad]
        text.append(_deducted_text([f"{lacking(names)}×{fmt(each)}分=扣{fmt(ded)}分"], ded, top) if names
                    else complete(top))
    return Scored(points, np.zeros(len(points), bool), _column(text)[inverse])


def _base(table, place: Place, draft: SectionDraft) -> dict:
    return {"id": place.text(table, "id"), "name": place.text(table, "name"), "section_id": draft.id}


@kind("checklist")
@dataclass(frozen=True)
class Checklist(Clause):
    """Yes/no items; each 否 deducts a fixed amount, floor 0 (1.1, 5.3)."""

    deduct_each: Decimal = ZERO

    @classmethod
    def parse(cls, table, place, draft):
        place.only(table, {"id", "name", "kind", "max", "deduct_each", "items"})
        maxima = _maxima(table, place, draft)
        items = place.take(table, "items", list)
        if not items:
            raise place.error("items", "至少需要一项")
        fields = tuple(_field(draft, table["id"], item, Place(place.source, f"{place.where} 的 items"),
                              YESNO, maxima) for item in items)
        return cls(**_base(table, place, draft), maxima=maxima, fields=fields,
                   deduct_each=place.number(table, "deduct_each", positive=True))

    def method(self) -> str:
        return f"{len(self.fields)}项，每少一项扣{fmt(self.deduct_each)}分，扣完为止"

    def score(self, columns, maxima):
        missing = ~np.column_stack([columns[f.key].astype(bool) for f in self.fields])
        return _itemised(missing, [f.label for f in self.fields], self.deduct_each, maxima,
                         lambda names: f"缺{len(names)}项（{'、'.join(names)}）",
                         lambda top: f"{len(self.fields)}项齐全，得{fmt(top)}分")


@kind("veto")
@dataclass(frozen=True)
class Veto(Clause):
    """否决计分法: full points when done, else 0 and a failed veto (1.2.1, 1.4)."""

    has_veto = True

    @classmethod
    def parse(cls, table, place, draft):
        place.only(table, {"id", "name", "kind", "max", "input"})
        maxima = _maxima(table, place, draft)
        raw = place.take(table, "input", dict)
        Place(place.source, f"{place.where} 的 input").only(raw, {"id", "label"})
        return cls(**_base(table, place, draft), maxima=maxima,
                   fields=(_field(draft, table["id"], raw, place, YESNO, maxima),))

    def method(self) -> str:
        return "否决计分法，完成得分，未完成不得分"

    def score(self, columns, maxima):
        done = columns[self.fields[0].key].astype(bool)
        points = np.where(done, maxima, ZERO)
        label = self.fields[0].label
        text = [f"{label}：是，得{fmt(m)}分" if ok else f"{label}：否，否决，得0分" for ok, m in zip(done, maxima)]
        return Scored(points, ~done, _column(text))


@dataclass(frozen=True)
class Term:
    """One deduction term: a count times ``per``, or a fixed ``per`` when a yes/no equals ``when``."""

    key: str
    label: str
    type: str
    per: Decimal
    when: bool
    unit: str
    verb: str


@kind("deduction")
@dataclass(frozen=True)
class Deduction(Clause):
    """Direct deduction (直接扣分法) per count or condition, floor 0, optional zeroing veto (1.2.2, 2.x)."""

    terms: tuple[Term, ...] = ()
    zero_key: str | None = None
    zero_reason: str = ""
    zero_is_veto: bool = False

    @classmethod
    def parse(cls, table, place, draft):
        place.only(table, {"id", "name", "kind", "max", "terms", "zero_if"})
        maxima = _maxima(table, place, draft)
        cid = table["id"]
        fields, terms = [], []
        raw_terms = place.take(table, "terms", list)
        if not raw_terms:
            raise place.error("terms", "至少需要一个扣分项")
        for i, raw in enumerate(raw_terms, 1):
            tplace = Place(place.source, f"{place.where} 的第{i}个扣分项")
            tplace.only(raw, {"id", "label", "type", "unit", "per", "when", "verb"})
            ttype = tplace.text(raw, "type", COUNT)
            if ttype not in (COUNT, YESNO):
                raise tplace.error("type", f"扣分项只能是 count 或 yesno，实际为 {ttype}")
            when = tplace.text(raw, "when", YES)
            if when not in (YES, NO):
                raise tplace.error("when", f"应为“是”或“否”，实际为 {when}")
            f = _field(draft, cid, raw, tplace, ttype, maxima)
            fields.append(f)
            terms.append(Term(f.key, f.label, ttype, tplace.number(raw, "per", positive=True), when == YES,
                              f.unit, tplace.text(raw, "verb", f.label)))
        zero = place.take(table, "zero_if", dict, None)
        zero_key, zero_reason, zero_is_veto = None, "", False
        if zero is not None:
            zplace = Place(place.source, f"{place.where} 的 zero_if")
            zplace.only(zero, {"id", "label", "veto", "reason"})
            zf = _field(draft, cid, zero, zplace, YESNO, maxima)
            fields.append(zf)
            zero_key, zero_reason = zf.key, zplace.text(zero, "reason", zf.label)
            zero_is_veto = zplace.take(zero, "veto", bool, False)
        return cls(**_base(table, place, draft), maxima=maxima, fields=tuple(fields), terms=tuple(terms),
                   zero_key=zero_key, zero_reason=zero_reason, zero_is_veto=zero_is_veto)

    @property
    def has_veto(self) -> bool:  # type: ignore[override]
        return self.zero_is_veto

    def method(self) -> str:
        parts = []
        for t in self.terms:
            if t.type == COUNT:
                parts.append(f"{t.verb}一{t.unit or '次'}扣{fmt(t.per)}分")
            elif t.when:
                parts.append(f"{t.label}扣{fmt(t.per)}分")
            else:
                parts.append(f"{t.label}为“否”扣{fmt(t.per)}分")
        words = "，".join(parts) + "，扣完为止"
        if self.zero_key:
            words += f"，{self.zero_reason}不得分"
        return words

    def score(self, columns, maxima):
        n = len(maxima)
        deduction = _column([ZERO] * n)
        pieces = [[] for _ in range(n)]
        for t in self.terms:
            values = columns[t.key]
            if t.type == COUNT:
                amount = values * t.per
                for i in np.flatnonzero(values != 0):
                    pieces[i].append(f"{t.verb}{values[i]}{t.unit or '次'}×{fmt(t.per)}分=扣{fmt(amount[i])}分")
            else:
                hit = values.astype(bool) == t.when
                amount = np.where(hit, t.per, ZERO)
                for i in np.flatnonzero(hit):
                    pieces[i].append(f"{t.label}：{_yes_word(t.when)}，扣{fmt(t.per)}分")
            deduction = deduction + amount
        points = _floor(maxima - deduction)
        text = [_deducted_text(p, d, m) for p, d, m in zip(pieces, deduction, maxima)]
        veto = np.zeros(n, bool)
        if self.zero_key:
            zeroed = columns[self.zero_key].astype(bool)
            points = np.where(zeroed, ZERO, points)
            for i in np.flatnonzero(zeroed):
                text[i] = f"{self.zero_reason}，不得分" + ("（否决）" if self.zero_is_veto else "")
            if self.zero_is_veto:
                veto = zeroed
        return Scored(points, veto, _column(text))


@kind("all_or_nothing")
@dataclass(frozen=True)
class AllOrNothing(Clause):
    """Full points or none: a yes/no equal to ``pass_when``, or a count ≥ ``at_least`` (1.2.3, 1.3, 2.6, 2.7)."""

    pass_when: bool = True
    at_least: int = 1

    @classmethod
    def parse(cls, table, place, draft):
        place.only(table, {"id", "name", "kind", "max", "input", "extra"})
        maxima = _maxima(table, place, draft)
        raw = place.take(table, "input", dict)
        iplace = Place(place.source, f"{place.where} 的 input")
        iplace.only(raw, {"id", "label", "type", "unit", "pass_when", "at_least"})
        itype = iplace.text(raw, "type", YESNO)
        if itype not in (YESNO, COUNT):
            raise iplace.error("type", f"只能是 yesno 或 count，实际为 {itype}")
        pass_when = iplace.text(raw, "pass_when", YES)
        if pass_when not in (YES, NO):
            raise iplace.error("pass_when", f"应为“是”或“否”，实际为 {pass_when}")
        at_least = iplace.take(raw, "at_least", int, 1)
        if at_least < 1:
            raise iplace.error("at_least", f"应为正整数，实际为 {at_least}")
        fields = [_field(draft, table["id"], raw, iplace, itype, maxima)]
        for i, extra in enumerate(place.take(table, "extra", list, []), 1):
            eplace = Place(place.source, f"{place.where} 的第{i}个 extra")
            eplace.only(extra, {"id", "label", "only_if"})
            cond = eplace.take(extra, "only_if", dict, None)
            only_if = None
            if cond is not None:
                if eplace.text(cond, "value", YES) != YES:
                    raise eplace.error("only_if.value", "目前只支持“是”")
                only_if = (eplace.text(cond, "input"), YES)
            fields.append(_field(draft, table["id"], extra, eplace, YESNO, maxima, only_if=only_if))
        return cls(**_base(table, place, draft), maxima=maxima, fields=tuple(fields),
                   pass_when=pass_when == YES, at_least=at_least)

    def method(self) -> str:
        f = self.fields[0]
        if f.type == COUNT:
            return f"{f.label}达到{self.at_least}{f.unit or '次'}得分，否则不得分"
        return "完成得分，没完成不得分" if self.pass_when else f"{f.label}则不得分"

    def score(self, columns, maxima):
        f = self.fields[0]
        values = columns[f.key]
        if f.type == COUNT:
            passed = (values >= self.at_least).astype(bool)
            text = [f"{f.label}{v}{f.unit or '次'}，" + (f"得{fmt(m)}分" if ok else f"不足{self.at_least}{f.unit or '次'}，得0分")
                    for v, ok, m in zip(values, passed, maxima)]
        else:
            passed = values.astype(bool) == self.pass_when
            text = [f"{f.label}：{_yes_word(v)}，得{fmt(m) if ok else 0}分" for v, ok, m in zip(values, passed, maxima)]
        return Scored(np.where(passed, maxima, ZERO), np.zeros(len(maxima), bool), _column(text))


@kind("monthly_minimum")
@dataclass(frozen=True)
class MonthlyMinimum(Clause):
    """At least ``min_each`` a month; each month below loses ``deduct_each``, floor 0 (1.5)."""

    min_each: int = 1
    deduct_each: Decimal = ZERO

    @classmethod
    def parse(cls, table, place, draft):
        place.only(table, {"id", "name", "kind", "max", "months", "min_each", "deduct_each", "unit"})
        maxima = _maxima(table, place, draft)
        months = place.take(table, "months", int, 12)
        if not 1 <= months <= 12:
            raise place.error("months", f"应为1到12之间的整数，实际为 {months}")
        unit = place.text(table, "unit", "条")
        fields = tuple(Field(key=f"{table['id']}.m{m}", section_id=draft.id, clause_id=table["id"],
                             label=f"{m}月", type=COUNT, unit=unit, applies_to=frozenset(maxima))
                       for m in range(1, months + 1))
        min_each = place.take(table, "min_each", int, 1)
        if min_each < 1:
            raise place.error("min_each", f"应为正整数，实际为 {min_each}")
        return cls(**_base(table, place, draft), maxima=maxima, fields=fields, min_each=min_each,
                   deduct_each=place.number(table, "deduct_each", positive=True))

    def method(self) -> str:
        return f"每月至少报送{self.min_each}{self.fields[0].unit}，每少一个月扣{fmt(self.deduct_each)}分，扣完为止"

    def score(self, columns, maxima):
        short = np.column_stack([columns[f.key] < self.min_each for f in self.fields]).astype(bool)
        return _itemised(short, [f.label for f in self.fields], self.deduct_each, maxima,
                         lambda names: f"{len(names)}个月未达标（{'、'.join(names)}）",
                         lambda top: f"每月均已报送，得{fmt(top)}分")


@kind("choice")
@dataclass(frozen=True)
class Choice(Clause):
    """One answer from a list, each worth fixed points (2.2)."""

    points_by_choice: Mapping[str, Decimal] = field(default_factory=dict)

    @classmethod
    def parse(cls, table, place, draft):
        place.only(table, {"id", "name", "kind", "max", "input", "options"})
        maxima = _maxima(table, place, draft)
        options = {}
        for i, raw in enumerate(place.take(table, "options", list), 1):
            oplace = Place(place.source, f"{place.where} 的第{i}个选项")
            oplace.only(raw, {"label", "points"})
            label = oplace.text(raw, "label")
            if label in options:
                raise oplace.error("label", f"选项“{label}”重复")
            options[label] = oplace.number(raw, "points")
            if any(options[label] > m for m in maxima.values()):
                raise oplace.error("points", f"{fmt(options[label])}分超过条款满分")
        if len(options) < 2:
            raise place.error("options", "至少需要两个选项")
        raw_input = place.take(table, "input", dict)
        iplace = Place(place.source, f"{place.where} 的 input")
        iplace.only(raw_input, {"id", "label"})
        f = _field(draft, table["id"], raw_input, iplace, CHOICE, maxima, choices=tuple(options))
        return cls(**_base(table, place, draft), maxima=maxima, fields=(f,),
                   points_by_choice=MappingProxyType(options))

    def method(self) -> str:
        return "，".join(f"{label}得{fmt(p)}分" for label, p in self.points_by_choice.items())

    def score(self, columns, maxima):
        values = columns[self.fields[0].key]
        points = _column([self.points_by_choice[v] for v in values])
        text = [f"{v}，得{fmt(p)}分" for v, p in zip(values, points)]
        return Scored(points, np.zeros(len(points), bool), _column(text))


@kind("proportional")
@dataclass(frozen=True)
class Proportional(Clause):
    """Baseline-proportional: ``share + per × (count − baseline)``, floor 0, optional cap (5.1, 5.2)."""

    baseline: int = 0
    per: Decimal = ZERO
    cap: Decimal | None = None

    @classmethod
    def parse(cls, table, place, draft):
        place.only(table, {"id", "name", "kind", "share", "baseline", "per", "cap", "input"})
        maxima = _maxima(table, place, draft, "share")
        raw = place.take(table, "input", dict)
        iplace = Place(place.source, f"{place.where} 的 input")
        iplace.only(raw, {"id", "label", "unit", "not_more_than"})
        f = _field(draft, table["id"], raw, iplace, COUNT, maxima,
                   not_more_than=iplace.text(raw, "not_more_than", None))
        baseline = place.take(table, "baseline", int)
        if baseline < 0:
            raise place.error("baseline", f"应为非负整数，实际为 {baseline}")
        cap = place.number(table, "cap", None)
        if cap is not None and any(cap < m for m in maxima.values()):
            raise place.error("cap", f"上限{fmt(cap)}分不能低于基准分")
        return cls(**_base(table, place, draft), maxima=maxima, fields=(f,), baseline=baseline,
                   per=place.number(table, "per", positive=True), cap=cap)

    def points_words(self) -> str:
        return f"占{'、'.join(sorted({fmt(m) for m in self.maxima.values()}))}分"

    def method(self) -> str:
        unit = self.fields[0].unit or "条"
        words = f"以{self.baseline}{unit}为标准，每多一{unit}加{fmt(self.per)}分，每少一{unit}减{fmt(self.per)}分，减至0分为止"
        return words + (f"，最高{fmt(self.cap)}分" if self.cap is not None else "，不设上限")

    def score(self, columns, maxima):
        f = self.fields[0]
        unit = f.unit or "条"
        counts = columns[f.key]
        raw = maxima + (counts - self.baseline) * self.per
        points = _floor(raw)
        if self.cap is not None:
            points = np.where(points > self.cap, self.cap, points)
        text = []
        for n, r, p, m in zip(counts, raw, points, maxima):
            diff = n - self.baseline
            if diff > 0:
                s = f"{f.label.removesuffix('条数')}{n}{unit}，比标准{self.baseline}{unit}多{diff}{unit}×{fmt(self.per)}分=加{fmt(diff * self.per)}分"
            elif diff < 0:
                s = f"{f.label.removesuffix('条数')}{n}{unit}，比标准{self.baseline}{unit}少{-diff}{unit}×{fmt(self.per)}分=减{fmt(-diff * self.per)}分"
            else:
                s = f"{f.label.removesuffix('条数')}{n}{unit}，达到标准"
            if r < 0:
                s += "，减至0分为止"
            elif self.cap is not None and r > self.cap:
                s += f"，超过上限按{fmt(self.cap)}分计"
            text.append(f"{s}，得{fmt(p)}分")
        return Scored(points, np.zeros(len(points), bool), _column(text))


@kind("rater")
@dataclass(frozen=True)
class Rater(Clause):
    """Scores entered by the rating office, each within [0, its max]; the clause is their sum (3.x, 4.x, 5.4)."""

    @classmethod
    def parse(cls, table, place, draft):
        place.only(table, {"id", "name", "kind", "max", "inputs"})
        raw_inputs = place.take(table, "inputs", list, None)
        if raw_inputs is None:
            maxima = _maxima(table, place, draft)
            f = Field(key=f"{table['id']}.score", section_id=draft.id, clause_id=table["id"], label="得分",
                      type=SCORE, unit="分", maxima=maxima, applies_to=frozenset(maxima))
            return cls(**_base(table, place, draft), maxima=maxima, fields=(f,))
        if "max" in table:
            raise place.error("max", "有 inputs 时满分为各项之和，不要再写 max")
        fields = []
        for i, raw in enumerate(raw_inputs, 1):
            iplace = Place(place.source, f"{place.where} 的第{i}个 input")
            iplace.only(raw, {"id", "label", "max"})
            top = iplace.number(raw, "max", positive=True)
            fields.append(_field(draft, table["id"], {**raw, "unit": "分"}, iplace, SCORE, draft.unit_types,
                                 maxima=MappingProxyType({t: top for t in draft.unit_types})))
        if not fields:
            raise place.error("inputs", "至少需要一项")
        maxima = MappingProxyType({t: sum((f.maxima[t] for f in fields), ZERO) for t in draft.unit_types})
        return cls(**_base(table, place, draft), maxima=maxima, fields=tuple(fields))

    def method(self) -> str:
        if len(self.fields) == 1:
            return "按完成情况评分"
        return "、".join(f"{f.label}（0–{fmt(next(iter(f.maxima.values())))}分）" for f in self.fields) + "之和"

    def score(self, columns, maxima):
        values = [columns[f.key] for f in self.fields]
        points = sum(values[1:], values[0])
        if len(self.fields) == 1:
            text = [f"评分{fmt(p)}分" for p in points]
        else:
            terms = [[f"{f.label}{s}" for s in map(fmt, v)] for f, v in zip(self.fields, values)]
            text = [f"{joined}=得{p}分" for joined, p in zip(map("+".join, zip(*terms)), map(fmt, points))]
        return Scored(points, np.zeros(len(points), bool), _column(text))


@kind("weighted_raters")
@dataclass(frozen=True)
class WeightedRaters(Clause):
    """Rater groups scoring on ``scale``; weighted average scaled to the clause max (3.3)."""

    scale: Decimal = Decimal(100)
    weights: tuple[Decimal, ...] = ()

    @classmethod
    def parse(cls, table, place, draft):
        place.only(table, {"id", "name", "kind", "max", "scale", "raters"})
        maxima = _maxima(table, place, draft)
        scale = place.number(table, "scale", Decimal(100), positive=True)
        fields, weights = [], []
        for i, raw in enumerate(place.take(table, "raters", list), 1):
            rplace = Place(place.source, f"{place.where} 的第{i}个评议组")
            rplace.only(raw, {"id", "label", "weight"})
            weights.append(rplace.number(raw, "weight", positive=True))
            fields.append(_field(draft, table["id"], {**raw, "unit": "分"}, rplace, SCORE, maxima,
                                 maxima=MappingProxyType({t: scale for t in maxima})))
        if not fields:
            raise place.error("raters", "至少需要一个评议组")
        if sum(weights) != 1:
            raise place.error("raters.weight", f"各评议组权重之和应为1，实际为 {fmt(sum(weights))}")
        return cls(**_base(table, place, draft), maxima=maxima, fields=tuple(fields), scale=scale,
                   weights=tuple(weights))

    def method(self) -> str:
        parts = "、".join(f"{f.label}×{fmt(w)}" for f, w in zip(self.fields, self.weights))
        return f"{parts}加权平均（{fmt(self.scale)}分制），折算为本项分值"

    def score(self, columns, maxima):
        values = [columns[f.key] for f in self.fields]
        average = sum((v * w for v, w in zip(values[1:], self.weights[1:])), values[0] * self.weights[0])
        points = average * maxima / self.scale
        terms = [[f"{f.label}{s}×{fmt(w)}" for s in map(fmt, v)] for f, v, w in zip(self.fields, values, self.weights)]
        scale = fmt(self.scale)
        rows = zip(map("+".join, zip(*terms)), map(fmt, average), maxima, map(fmt, points))
        text = [f"{joined}={avg}，×{fmt(m)}/{scale}=得{p}分" for joined, avg, m, p in rows]
        return Scored(points, np.zeros(len(points), bool), _column(text))


@kind("bonus")
@dataclass(frozen=True)
class Bonus(Clause):
    """Bonus points with a required reason, capped; blank means no bonus (3.6, 4.9)."""

    is_bonus = True
    cap: Decimal = ZERO

    @classmethod
    def parse(cls, table, place, draft):
        place.only(table, {"id", "name", "kind", "cap"})
        cap = place.number(table, "cap", positive=True)
        maxima = MappingProxyType({t: cap for t in draft.unit_types})
        cid = table["id"]
        points = Field(key=f"{cid}.points", section_id=draft.id, clause_id=cid, label="加分", type=SCORE,
                       unit="分", maxima={}, applies_to=frozenset(maxima), required=False,
                       reason_for=None)
        reason = Field(key=f"{cid}.reason", section_id=draft.id, clause_id=cid, label="加分理由", type=TEXT,
                       applies_to=frozenset(maxima), required=False, reason_for=points.key)
        return cls(**_base(table, place, draft), maxima=maxima, fields=(points, reason), cap=cap)

    def points_words(self) -> str:
        return f"最多加{fmt(self.cap)}分"

    def method(self) -> str:
        return f"按具体情况加分，须写明理由，超过{fmt(self.cap)}分按{fmt(self.cap)}分计"

    def score(self, columns, maxima):
        raw = _column([ZERO if v is None else v for v in columns[self.fields[0].key]])
        points = np.where(raw > self.cap, self.cap, raw)
        reasons = columns[self.fields[1].key]
        text = []
        for r, p, why in zip(raw, points, reasons):
            if r == 0:
                text.append("无加分")
            elif r > self.cap:
                text.append(f"加分{fmt(r)}分（{why}），超过上限{fmt(self.cap)}分，按{fmt(self.cap)}分计")
            else:
                text.append(f"加分{fmt(p)}分（{why}）")
        return Scored(points, np.zeros(len(points), bool), _column(text))
