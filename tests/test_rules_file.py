"""The rules file: the shipped one matches the spec; a malformed one is refused with a message naming
the place (clause or section) and the field."""

from decimal import Decimal

import pytest

from engine_helpers import (DEPT, RULES, TOWN, D, clause_dict, default_data, rules_from, score_many,
                            score_one, section_dict)
from kaoping_xlsx.rules import RulesError, default_rules_path, load_rules

p = pytest.param

# Every clause of shared/spec/scoring-rules.md with its max per unit type (None: not for that type).
SPEC_CLAUSES = {
    "1.1": 6, "1.2.1": 2, "1.2.2": 30, "1.2.3": 5, "1.3": 5, "1.4": 40, "1.5": 12,
    "2.1": 5, "2.2": 5, "2.3": 10, "2.4": 10, "2.5": 5, "2.6": 15, "2.7": 15, "2.8": 10, "2.9": 10, "2.10": 15,
    "3.1": 25, "3.2": 15, "3.3": 30, "3.4": 15, "3.5.1": 10, "3.5.2": 5, "3.6": 5,
    "4.1": (25, 10), "4.2": (30, 15), "4.3": (None, 15), "4.4": (25, 10), "4.5": (None, 15),
    "4.6": (None, 10), "4.7": (None, 15), "4.8": (20, 10), "4.9": 5,
    "5.1": 30, "5.2": 30, "5.3": 20, "5.4": 20,
}


def test_shipped_rules_match_the_spec():
    assert [c.id for c in RULES.clauses] == list(SPEC_CLAUSES)
    assert [s.name for s in RULES.sections] == ["政务公开", "放管服", "营商环境", "信用体系", "政府网站"]
    assert all(s.max == 100 for s in RULES.sections)
    assert dict(RULES.weights) == {sid: D("0.2") for sid in "12345"}
    for clause in RULES.clauses:
        spec = SPEC_CLAUSES[clause.id]
        town, dept = spec if isinstance(spec, tuple) else (spec, spec)
        assert clause.maxima.get(TOWN) == town and clause.maxima.get(DEPT) == dept, clause.id
    assert [c.id for c in RULES.clauses if c.is_bonus] == ["3.6", "4.9"]
    assert {c.id for c in RULES.clauses if c.has_veto} == {"1.2.1", "1.2.2", "1.4"}


def _set(path_fn, **values):
    return lambda d: path_fn(d).update(values)


def _clause(cid):
    return lambda d: clause_dict(d, cid)


def _grade(i):
    return lambda d: section_dict(d, "2")["grade"][i]


def _pop(path_fn, key):
    return lambda d: path_fn(d).pop(key)


KINDS = "all_or_nothing、bonus、checklist、choice、deduction、monthly_minimum、proportional、rater、veto、weighted_raters"
BAD = [
    p(_set(_clause("1.1"), kind="checklistt"),
      f"条款 1.1 的 kind：未知的计分方式 “checklistt”（可用：{KINDS}）", id="unknown kind"),
    p(_set(_clause("1.2.2"), id="1.2.1"), "条款 1.2.1 的 id：条款编号 1.2.1 重复", id="duplicate clause id in a section"),
    p(_set(_clause("5.1"), id="1.1"), "条款 1.1 的 id：条款编号 1.1 重复", id="duplicate clause id across sections"),
    p(_set(_clause("1.5"), max=13),
      "部分 1 的 max：满分为100，但县直部门各条款分值之和为101（1.1:6+1.2.1:2+1.2.2:30+1.2.3:5+1.3:5+1.4:40+1.5:13）",
      id="section max not matching its items"),
    p(_set(_clause("4.3"), max={"县直部门": 14}),
      "部分 4 的 max：满分为100，但县直部门各条款分值之和为99"
      "（4.1:10+4.2:15+4.3:14+4.4:10+4.5:15+4.6:10+4.7:15+4.8:10）", id="section max 4 wrong for 县直部门"),
    p(_set(_clause("4.1"), max={"县直部门": 10, "乡镇": 24}),
      "部分 4 的 max：满分为100，但乡镇各条款分值之和为99（4.1:24+4.2:30+4.4:25+4.8:20）",
      id="section max 4 wrong for 乡镇 only"),
    p(lambda d: d["overall"]["weights"].update({"5": D("0.1")}),
      "[overall] 的 weights：各部分权重之和应为1，实际为 0.9", id="weights sum 0.9"),
    p(lambda d: d["overall"]["weights"].update({"1": D("0.3")}),
      "[overall] 的 weights：各部分权重之和应为1，实际为 1.1", id="weights sum 1.1"),
    p(lambda d: d["overall"]["weights"].pop("5"), "[overall] 的 weights：缺少部分 5 的权重", id="weight missing"),
    p(_set(_grade(1), upper=91), "部分 2 的 grade：等次“合格”与“优秀”的区间重叠", id="overlapping bands"),
    p(_set(_grade(1), upper_closed=True), "部分 2 的 grade：等次“合格”与“优秀”在90分处重叠（两端都是闭区间）",
      id="overlapping bands at a shared closed point"),
    p(_set(_grade(1), lower_closed=False), "部分 2 的 grade：等次“不合格”与“合格”在70分处有空缺（两端都是开区间）",
      id="gapped bands at a shared open point"),
    p(_set(_grade(1), lower=75), "部分 2 的 grade：等次“不合格”与“合格”之间有空缺（70到75）",
      id="gapped bands with different bounds"),
    p(lambda d: section_dict(d, "2")["grade"].pop(0), "部分 2 的 grade：高于90分的得分没有等次（区间有空缺）",
      id="no band above 90"),
    p(lambda d: section_dict(d, "2")["grade"].pop(2), "部分 2 的 grade：低于70分的得分没有等次（区间有空缺）",
      id="no band below 70"),
    p(_set(_clause("1.1"), maxx=6), "条款 1.1 的 maxx：未知字段（可用字段：deduct_each、id、items、kind、max、name）",
      id="unknown field in a clause"),
    p(lambda d: clause_dict(d, "1.2.2")["terms"][0].update(colour="red"),
      "条款 1.2.2 的第1个扣分项 的 colour：未知字段（可用字段：id、label、per、type、unit、verb、when）",
      id="unknown field in a term"),
    p(_pop(_clause("1.2.2"), "max"), "条款 1.2.2 的 max：缺少此字段", id="missing required field max"),
    p(_pop(_clause("3.3"), "raters"), "条款 3.3 的 raters：缺少此字段", id="missing required field raters"),
    p(_set(_clause("1.1"), max="六"), "条款 1.1 的 max：应为数字或表，实际为 '六'", id="bad value type text for number"),
    p(_set(_clause("1.4"), max=True), "条款 1.4 的 max：应为数字或表，实际为 True", id="bad value type bool for number"),
    p(_set(_clause("1.5"), months="12"), "条款 1.5 的 months：应为整数，实际为 '12'", id="bad value type text for int"),
    p(lambda d: clause_dict(d, "2.4")["terms"][0].update(per=-2),
      "条款 2.4 的第1个扣分项 的 per：应为正数，实际为 -2", id="negative per"),
    p(lambda d: clause_dict(d, "2.5")["terms"][0].update(per=D(0)),
      "条款 2.5 的第1个扣分项 的 per：应为正数，实际为 0", id="zero per"),
    p(_set(_clause("5.1"), per=D("-1")), "条款 5.1 的 per：应为正数，实际为 -1", id="negative per proportional"),
    p(_set(_clause("4.1"), max={"县直部门": 10, "街道": 25}),
      "条款 4.1 的 max.街道：未知的单位类型（可用：县直部门、乡镇）", id="unknown unit type"),
    p(lambda d: clause_dict(d, "3.3")["raters"][0].update(weight=D("0.5")),
      "条款 3.3 的 raters.weight：各评议组权重之和应为1，实际为 1.1", id="rater weights sum 1.1"),
    p(_set(_clause("5.1"), cap=20), "条款 5.1 的 cap：上限20分不能低于基准分", id="cap below share"),
    p(lambda d: section_dict(d, "2")["downgrade"][0].update(input="2.nope"),
      "部分 2 的降档条件 的 input：不存在的输入项 2.nope", id="downgrade on unknown input"),
    p(lambda d: section_dict(d, "3").update(sheet="汇总"),
      "部分 3 的 sheet：“汇总”是模板或结果表自用的工作表名，请换一个（保留名：填表说明、汇总、校验问题、说明）",
      id="section sheet named like a result sheet"),
]


@pytest.mark.parametrize("mutate, message", BAD)
def test_malformed_rules_refused_with_place_and_field(mutate, message):
    data = default_data()
    mutate(data)
    with pytest.raises(RulesError) as caught:
        rules_from(data, "坏规则.toml")
    assert str(caught.value) == f"规则文件 坏规则.toml：{message}"


@pytest.mark.parametrize("text, message", [
    p(b"id = \"x\"\nsection = [", "规则文件 bad.toml 不是有效的 TOML：", id="not TOML"),
    p("id = '考评'".encode("gbk"), "规则文件 bad.toml 不是 UTF-8 编码的文本", id="not UTF-8"),
    p('id = "x"\nunit_types = ["乡镇"]\n'.encode(), "规则文件 bad.toml：顶层 的 section：缺少此字段",
      id="no sections"),
])
def test_bad_files_refused(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_bytes(text)
    with pytest.raises(RulesError) as caught:
        load_rules(path)
    assert str(caught.value).startswith(message)


def test_missing_file_refused(tmp_path):
    with pytest.raises(RulesError) as caught:
        load_rules(tmp_path / "无此文件.toml")
    assert str(caught.value) == f"找不到规则文件 {tmp_path / '无此文件.toml'}，请检查文件名和路径"


def test_rules_file_written_to_disk_loads_and_scores(tmp_path):
    # A copy of the shipped file (with a BOM, as Notepad writes it) loads with the same content.
    path = tmp_path / "copy.toml"
    path.write_bytes(b"\xef\xbb\xbf" + default_rules_path().read_bytes())
    assert load_rules(path).fingerprint == RULES.fingerprint


def test_default_weights_are_equal_for_any_number_of_sections():
    # Overall [decision]: default weights equal; three sections must not fail the sum check on 1/3.
    data = default_data()
    del data["overall"]
    data["section"] = data["section"][:3]
    rules = rules_from(data)
    assert len(set(rules.weights.values())) == 1 and set(rules.weights) == {"1", "2", "3"}
    result = score_many(rules, [("甲", DEPT, {"1": {"1.4.ontime": False}, "2": {}, "3": {}})])
    # (60 + 100 + 100) / 3 = 86.666… → 86.67
    assert result.summary()["总分"][0] == Decimal("86.67")


def test_literal_legal_reading_is_one_edit_away():
    # 2 grade: flipping the closedness of the 70 bound (合格 (70, 90), 不合格 (-∞, 70]) makes 70 不合格.
    data = default_data()
    section_dict(data, "2")["grade"][1]["lower_closed"] = False
    section_dict(data, "2")["grade"][2]["upper_closed"] = True
    legal = rules_from(data)
    seventy = {"2.6.found": True, "2.7.found": True}  # 100 − 15 − 15 = 70
    assert score_one(RULES, DEPT, "2", seventy).grade == "合格"
    assert score_one(legal, DEPT, "2", seventy).grade == "不合格"
    assert legal.section("2").grade_of(D("70.0000001")) == "合格"
    assert legal.section("2").grade_of(D(90)) == "优秀"
