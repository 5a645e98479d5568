"""One table-driven test per clause of the spec (shared/spec/scoring-rules.md).

Every row starts from full marks (engine_helpers.full_marks_row) and states only what it changes; the
expected points are worked out by hand from the clause's rule, written next to the row.
"""

from decimal import Decimal

import pytest

from engine_helpers import (DEPT, MISSING, RULES, TOWN, D, Unit, clause_dict, default_data, exact, frame,
                            full_marks_row, rules_from, score_many, score_one)
from kaoping_xlsx.engine import score

p = pytest.param
Y, N = True, False


def check(unit_type, section_id, clause_id, overrides, points, text=None, veto=False):
    one = score_one(RULES, unit_type, section_id, overrides)
    assert one.status == "ok"
    assert one.points(clause_id) == points
    assert one.veto(clause_id) is veto
    top = RULES.section(section_id).clauses[[c.id for c in RULES.section(section_id).clauses].index(clause_id)]
    if not top.is_bonus:
        assert one.clause(clause_id).deduction[0] == max(top.maxima[unit_type] - points, 0)
    if text is not None:
        assert text in one.text(clause_id), one.text(clause_id)
    return one


# ---------------------------------------------------------------- 1 政务公开

ITEMS_1_1 = ["group", "agency", "staff", "meeting", "plan", "summary"]


@pytest.mark.parametrize("missing, points, text", [
    p([], 6, "6项齐全，得6分", id="1.1 all six: 6"),
    p(["meeting"], 5, "缺1项（召开专题会议）×1分=扣1分，得5分", id="1.1 one 否: 6-1=5"),
    p(["group", "plan", "summary"], 3, "扣3分，得3分", id="1.1 three 否: 6-3=3"),
    p(ITEMS_1_1, 0, "扣6分，得0分", id="1.1 all 否: 6-6=0"),
])
def test_1_1_checklist(missing, points, text):
    check(DEPT, "1", "1.1", {f"1.1.{k}": False for k in missing}, D(points), text)


@pytest.mark.parametrize("done, points, veto", [
    p(Y, 2, False, id="1.2.1 是: 2"),
    p(N, 0, True, id="1.2.1 否: 0, failed veto"),
])
def test_1_2_1_veto(done, points, veto):
    one = check(DEPT, "1", "1.2.1", {"1.2.1.report": done}, D(points), veto=veto)
    assert one.section.failed_vetoes[0] == (("1.2.1 年度报告",) if veto else ())
    assert one.result.failed_vetoes[0] == one.section.failed_vetoes[0]


@pytest.mark.parametrize("missed, leak, points, text, veto", [
    p(0, N, 30, "无扣分，得30分", False, id="1.2.2 none missed: 30"),
    p(3, N, 24, "漏报3条×2分=扣6分，得24分", False, id="1.2.2 3 missed: 30-6=24"),
    p(14, N, 2, "漏报14条×2分=扣28分，得2分", False, id="1.2.2 14 missed: 30-28=2"),
    p(15, N, 0, "漏报15条×2分=扣30分，得0分", False, id="1.2.2 15 missed: exactly 0"),
    p(16, N, 0, "漏报16条×2分=扣32分，扣完为止，得0分", False, id="1.2.2 16 missed: floor 0 (扣完为止)"),
    p(0, Y, 0, "泄密", True, id="1.2.2 泄密 with nothing missed: 0 and failed veto"),
    p(5, Y, 0, "泄密", True, id="1.2.2 泄密 and 5 missed: 0 and failed veto"),
])
def test_1_2_2_deduction_and_leak(missed, leak, points, text, veto):
    one = check(DEPT, "1", "1.2.2", {"1.2.2.missed": missed, "1.2.2.leak": leak}, D(points), text, veto)
    assert ("1.2.2 主动公开" in one.section.failed_vetoes[0]) is veto


@pytest.mark.parametrize("done, points", [
    p(Y, 5, id="1.2.3 是: 5"),
    p(N, 0, id="1.2.3 否: 0 (no veto)"),
])
def test_1_2_3_all_or_nothing(done, points):
    check(DEPT, "1", "1.2.3", {"1.2.3.done": done}, D(points))


@pytest.mark.parametrize("times, points", [
    p(0, 0, id="1.3 no study: 0"),
    p(1, 5, id="1.3 one study: 5"),
    p(4, 5, id="1.3 four studies: 5"),
])
def test_1_3_at_least_once(times, points):
    check(DEPT, "1", "1.3", {"1.3.study": times}, D(points))


@pytest.mark.parametrize("done, points, veto", [
    p(Y, 40, False, id="1.4 是: 40"),
    p(N, 0, True, id="1.4 否: 0, failed veto"),
])
def test_1_4_veto(done, points, veto):
    one = check(DEPT, "1", "1.4", {"1.4.ontime": done}, D(points), veto=veto)
    # 1.4 alone failing still leaves 60 of 100 (6+2+30+5+5+12).
    assert one.total == (60 if veto else 100)
    assert one.result.failed_vetoes[0] == (("1.4 日常工作、材料报送",) if veto else ())


def months(*counts):
    return {f"1.5.m{m}": c for m, c in enumerate(counts, 1)}


@pytest.mark.parametrize("counts, points, text", [
    p([1] * 12, 12, "每月均已报送，得12分", id="1.5 one a month: 12"),
    p([3] * 12, 12, None, id="1.5 three a month: 12"),
    p([12] + [0] * 11, 1, "11个月未达标", id="1.5 all 12 in January: 12-11=1"),
    p([1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1], 10, "2个月未达标（3月、11月）×1分=扣2分，得10分",
      id="1.5 March and November empty: 12-2=10"),
    p([0] * 12, 0, "扣12分，得0分", id="1.5 nothing sent: 0"),
])
def test_1_5_monthly_minimum(counts, points, text):
    check(DEPT, "1", "1.5", months(*counts), D(points), text)


# ---------------------------------------------------------------- 2 放管服

@pytest.mark.parametrize("hits, points", [
    p({}, 5, id="2.1 none: 5"),
    p({"leader": Y}, 4, id="2.1 主要领导未亲自: 5-1=4"),
    p({"lagging": Y}, 3, id="2.1 推进滞后: 5-2=3"),
    p({"group": Y, "office": Y}, 3, id="2.1 two -1 conditions: 5-2=3"),
    p({"leader": Y, "group": Y, "office": Y, "lagging": Y}, 0, id="2.1 all four: 5-5=0"),
])
def test_2_1_conditions(hits, points):
    check(DEPT, "2", "2.1", {f"2.1.{k}": v for k, v in hits.items()}, D(points))


@pytest.mark.parametrize("status, points", [
    p("未出台", 0, id="2.2 未出台: 0"),
    p("已出台未落实", 3, id="2.2 已出台未落实: 5-2=3"),
    p("已出台并落实", 5, id="2.2 已出台并落实: 5"),
])
def test_2_2_three_states(status, points):
    check(DEPT, "2", "2.2", {"2.2.status": status}, D(points), f"{status}，得{points}分")


@pytest.mark.parametrize("publicised, late, points", [
    p(Y, 0, 10, id="2.3 publicised, on time: 10"),
    p(N, 0, 5, id="2.3 not publicised: 10-5=5"),
    p(Y, 2, 6, id="2.3 2 late: 10-4=6"),
    p(N, 2, 1, id="2.3 not publicised, 2 late: 10-5-4=1"),
    p(N, 3, 0, id="2.3 not publicised, 3 late: 10-5-6<0 → 0"),
    p(Y, 5, 0, id="2.3 5 late: 10-10=0"),
    p(Y, 9, 0, id="2.3 9 late: floor 0"),
])
def test_2_3_publicity_and_late_reports(publicised, late, points):
    check(DEPT, "2", "2.3", {"2.3.publicised": publicised, "2.3.late": late}, D(points))


@pytest.mark.parametrize("clause_id, per, top, count", [
    p(cid, per, top, n, id=f"{cid} {n}×{per} of {top}")
    for cid, per, top in [("2.4", 2, 10), ("2.5", D("2.5"), 5), ("2.8", 5, 10), ("2.9", 5, 10),
                          ("2.10", 5, 15)]
    for n in (0, 1, 2, 3, 5, 8)
])
def test_2_per_count_floor(clause_id, per, top, count):
    # 2.4/2.5/2.8/2.9/2.10: max − per × count, floor 0 (扣完为止).
    expected = max(D(top) - D(per) * count, D(0))
    check(DEPT, "2", clause_id, {f"{clause_id}.faults": count}, expected)


@pytest.mark.parametrize("count, points, text", [
    p(0, D(5), "无扣分，得5分", id="2.5 none: 5"),
    p(1, D("2.5"), "不协同不配合1次×2.5分=扣2.5分，得2.5分", id="2.5 once: 5-2.5=2.5"),
    p(2, D(0), "扣5分，得0分", id="2.5 twice: 0"),
    p(3, D(0), "扣7.5分，扣完为止，得0分", id="2.5 three times: floor 0"),
])
def test_2_5_steps_of_two_and_a_half(count, points, text):
    check(DEPT, "2", "2.5", {"2.5.faults": count}, points, text)


@pytest.mark.parametrize("found, serious, points, downgraded", [
    p(N, N, 15, False, id="2.6 no problem: 15"),
    p(Y, N, 0, False, id="2.6 problem found: 0"),
    p(Y, Y, 0, True, id="2.6 problem with serious consequence: 0 and 降档"),
])
def test_2_6_devolution(found, serious, points, downgraded):
    one = check(DEPT, "2", "2.6", {"2.6.found": found, "2.6.serious": serious}, D(points))
    assert ("减权放权工作不力导致严重后果或重大影响" in one.downgrade) is downgraded


@pytest.mark.parametrize("found, points", [
    p(N, 15, id="2.7 adjusted in time: 15"),
    p(Y, 0, id="2.7 found not adjusted: 0"),
])
def test_2_7_list_management(found, points):
    check(DEPT, "2", "2.7", {"2.7.found": found}, D(points))


# ---------------------------------------------------------------- 3 营商环境

@pytest.mark.parametrize("clause_id, value", [
    p("3.1", D("23.5"), id="3.1 rater 23.5 of 25"),
    p("3.1", D(0), id="3.1 rater 0"),
    p("3.2", D("14.25"), id="3.2 rater 14.25 of 15"),
    p("3.4", D(15), id="3.4 rater full 15"),
    p("3.5.1", D("7.5"), id="3.5.1 rater 7.5 of 10"),
    p("3.5.2", D(3), id="3.5.2 rater 3 of 5"),
])
def test_3_rater_scores(clause_id, value):
    # 3.1/3.2/3.4/3.5.x: the rater's score is the clause score.
    one = check(DEPT, "3", clause_id, {f"{clause_id}.score": value}, value, f"评分{value.normalize():f}分")
    full = RULES.section("3").clauses[[c.id for c in RULES.section("3").clauses].index(clause_id)].maxima[DEPT]
    assert one.total == 100 - full + value


@pytest.mark.parametrize("leaders, departments, public, points", [
    p(90, 80, 70, D("24.3"), id="3.3 90/80/70: (36+24+21)×30/100=24.3"),
    p(100, 100, 100, D(30), id="3.3 all 100: 30"),
    p(0, 0, 0, D(0), id="3.3 all 0: 0"),
    p(85, 90, D("95.5"), D("26.895"), id="3.3 85/90/95.5: (34+27+28.65)×0.3=26.895"),
    p(100, 0, 0, D(12), id="3.3 only leaders 100: 40×0.3=12"),
])
def test_3_3_weighted_average(leaders, departments, public, points):
    one = check(DEPT, "3", "3.3", {"3.3.leaders": D(leaders), "3.3.departments": D(departments),
                                   "3.3.public": D(public)}, points)
    assert one.text("3.3").endswith(f"=得{points.normalize():f}分")


@pytest.mark.parametrize("section_id, clause_id", [p("3", "3.6", id="3.6"), p("4", "4.9", id="4.9")])
@pytest.mark.parametrize("bonus, reason, points, text", [
    p(None, None, D(0), "无加分", id="blank = 0"),
    p(D(0), None, D(0), "无加分", id="0 = 0"),
    p(D(3), "省委肯定性批示", D(3), "加分3分（省委肯定性批示）", id="3 within cap"),
    p(D(5), "国家级媒体报道", D(5), "加分5分（国家级媒体报道）", id="exactly the cap 5"),
    p(D(8), "多项表彰", D(5), "加分8分（多项表彰），超过上限5分，按5分计", id="8 over the cap: 5, said so"),
])
def test_bonus_capped(section_id, clause_id, bonus, reason, points, text):
    # 3.6 / 4.9: bonus ≥ 0 with a reason, capped at 5; blank means no bonus; on top of 100.
    one = check(TOWN, section_id, clause_id, {f"{clause_id}.points": bonus, f"{clause_id}.reason": reason},
                points, text)
    assert one.total == 100 + points


# ---------------------------------------------------------------- 4 信用体系

TOWN_ITEMS = {"4.1": 25, "4.2": 30, "4.4": 25, "4.8": 20}
DEPT_ITEMS = {"4.1": 10, "4.2": 15, "4.3": 15, "4.4": 10, "4.5": 15, "4.6": 10, "4.7": 15, "4.8": 10}


@pytest.mark.parametrize("unit_type, items", [p(TOWN, TOWN_ITEMS, id="4 乡镇 4 items"),
                                              p(DEPT, DEPT_ITEMS, id="4 县直部门 8 items")])
def test_4_item_sets_by_type(unit_type, items):
    # 4: each type is scored on its own item set, each set adding up to 100.
    assert sum(items.values()) == 100
    one = score_one(RULES, unit_type, "4")
    assert one.total == 100
    for clause in RULES.section("4").clauses:
        if clause.is_bonus:
            continue
        if clause.id in items:
            assert one.points(clause.id) == items[clause.id]
        else:
            assert one.points(clause.id) is None and one.text(clause.id) == "—"


@pytest.mark.parametrize("unit_type, scores, total", [
    p(TOWN, {"4.1": D(20), "4.2": D(25), "4.4": D("22.5"), "4.8": D(15)}, D("82.5"),
      id="4 乡镇 20+25+22.5+15=82.5"),
    p(TOWN, {"4.1": D(0), "4.2": D(0), "4.4": D(0), "4.8": D(0)}, D(0), id="4 乡镇 all 0"),
    p(DEPT, {"4.3": D(10), "4.5": D(12), "4.7": D(0)}, D(100 - 5 - 3 - 15), id="4 县直部门 4.3/4.5/4.7 short: 77"),
    p(DEPT, {"4.1": D("9.5"), "4.8": D("7.25")}, D("96.75"), id="4 县直部门 4.1 9.5, 4.8 7.25: 96.75"),
])
def test_4_section_scores(unit_type, scores, total):
    one = score_one(RULES, unit_type, "4", {f"{cid}.score": v for cid, v in scores.items()})
    for cid, v in scores.items():
        assert one.points(cid) == v
    assert one.total == total


def test_4_town_items_not_for_type_need_no_input():
    # 4: a 乡镇 leaves 4.3/4.5/4.6/4.7 blank (they are "—" for it); that is complete, not 数据不完整.
    one = score_one(RULES, TOWN, "4", {f"{c}.score": None for c in ("4.3", "4.5", "4.6", "4.7")})
    assert one.status == "ok" and one.total == 100


# ---------------------------------------------------------------- 5 政府网站

@pytest.mark.parametrize("reported, points, text", [
    p(40, 30, "上报40条，达到标准，得30分", id="5.1 baseline 40: 30"),
    p(35, 25, "比标准40条少5条×1分=减5分，得25分", id="5.1 35: 30-5=25"),
    p(50, 40, "比标准40条多10条×1分=加10分，得40分", id="5.1 50: 30+10=40"),
    p(100, 90, "得90分", id="5.1 100: 30+60=90, no cap"),
    p(10, 0, "得0分", id="5.1 10: 30-30=0"),
    p(0, 0, "减至0分为止，得0分", id="5.1 0: 30-40<0 → floor 0"),
])
def test_5_1_reported(reported, points, text):
    check(DEPT, "5", "5.1", {"5.1.reported": reported}, D(points), text)


@pytest.mark.parametrize("adopted, points", [
    p(12, 30, id="5.2 baseline 12: 30"),
    p(0, 18, id="5.2 0: 30-12=18"),
    p(5, 23, id="5.2 5: 30-7=23"),
    p(40, 58, id="5.2 40: 30+28=58, no cap"),
])
def test_5_2_adopted(adopted, points):
    check(DEPT, "5", "5.2", {"5.1.reported": 40, "5.2.adopted": adopted}, D(points))


@pytest.mark.parametrize("system, signed, points", [
    p(Y, Y, 20, id="5.3 both: 20"),
    p(Y, N, 10, id="5.3 no signed copies: 10"),
    p(N, Y, 10, id="5.3 no system: 10"),
    p(N, N, 0, id="5.3 neither: 0"),
])
def test_5_3_two_halves(system, signed, points):
    check(DEPT, "5", "5.3", {"5.3.system": system, "5.3.signed": signed}, D(points))


@pytest.mark.parametrize("values, points", [
    p((5, 5, 5, 5), D(20), id="5.4 all 5: 20"),
    p((D("4.5"), 3, D("2.5"), 0), D(10), id="5.4 4.5+3+2.5+0=10"),
    p((0, 0, 0, 0), D(0), id="5.4 all 0"),
])
def test_5_4_sum_of_four(values, points):
    keys = ["attention", "mechanism", "staff", "cooperation"]
    one = check(DEPT, "5", "5.4", {f"5.4.{k}": D(v) for k, v in zip(keys, values)}, points)
    assert one.text("5.4").endswith(f"=得{points}分")


def test_5_can_exceed_100():
    # 5: 5.1 with 70 reported (30+30=60) and 5.2 with 30 adopted (30+18=48) → 60+48+20+20=148.
    one = score_one(RULES, DEPT, "5", {"5.1.reported": 70, "5.2.adopted": 30})
    assert one.total == 148
    assert one.result.summary()["政府网站"][0] == Decimal("148.00")


# ---------------------------------------------------------------- 2 不适用 (百分制 rescaling)

@pytest.mark.parametrize("na, overrides, num, den, shown, grade", [
    p(("2.6", "2.7"), {}, 7000, 70, D("100.00"), "优秀", id="2 不适用 2.6+2.7, rest full: 70/70×100=100"),
    p(("2.6", "2.7"), {"2.1.leader": Y}, 6900, 70, D("98.57"), "优秀",
      id="2 不适用 2.6+2.7, 2.1 -1: 69/70×100=98.571428…→98.57"),
    p(("2.8", "2.9"), {"2.5.faults": 1, "2.10.faults": 1}, 7250, 80, D("90.63"), "优秀",
      id="2 不适用 2.8+2.9, -2.5-5: 72.5/80×100=90.625→90.63 half-up"),
    p(("2.1", "2.3", "2.4", "2.5", "2.6", "2.7", "2.8", "2.9", "2.10"), {"2.2.status": "已出台未落实"},
      300, 5, D("60.00"), "不合格", id="2 only 2.2 applies, 3 of 5: 60"),
])
def test_2_not_applicable_rescaled(na, overrides, num, den, shown, grade):
    one = score_one(RULES, DEPT, "2", overrides, na=na)
    assert one.status == "ok"
    assert exact(one.total, num, den), one.total
    assert one.section.applicable_max[0] == 100 - sum(c.maxima[DEPT] for c in RULES.section("2").clauses
                                                        if c.id in na)
    assert one.result.summary()["放管服"][0] == shown
    assert one.grade == grade
    for cid in na:
        assert one.points(cid) is None and one.text(cid) == "不适用" and one.clause(cid).not_applicable[0]


def test_2_all_not_applicable_is_incomplete():
    # 2 不适用: at least one item must apply; otherwise the section has no score (数据不完整).
    one = score_one(RULES, DEPT, "2", na=tuple(c.id for c in RULES.section("2").clauses))
    assert one.status == "数据不完整" and one.total is None and one.grade == ""
    assert one.result.rank[0] is None and not one.result.complete[0]


# ---------------------------------------------------------------- 2 grade bands

@pytest.mark.parametrize("overrides, total, grade", [
    p({}, D(100), "优秀", id="2 grade 100 优秀"),
    p({"2.8.faults": 2}, D(90), "优秀", id="2 grade exactly 90 优秀 (≥90)"),
    p({"2.5.faults": 1, "2.4.faults": 4}, D("89.5"), "合格", id="2 grade 89.5 合格"),
    p({"2.6.found": Y, "2.7.found": Y}, D(70), "合格", id="2 grade exactly 70 合格 (70≤s<90)"),
    p({"2.6.found": Y, "2.7.found": Y, "2.5.faults": 1}, D("67.5"), "不合格", id="2 grade 67.5 不合格"),
])
def test_2_grade_from_inputs(overrides, total, grade):
    one = score_one(RULES, DEPT, "2", overrides)
    assert one.total == total and one.grade == grade


@pytest.mark.parametrize("value, grade", [
    p("90", "优秀", id="grade 90 → 优秀"),
    p("89.999999999", "合格", id="grade 89.999999999 (shown 90.00) → 合格: exact score compared"),
    p("89.995", "合格", id="grade 89.995 → 合格"),
    p("70", "合格", id="grade 70 → 合格"),
    p("69.999999999", "不合格", id="grade 69.999999999 (shown 70.00) → 不合格"),
    p("0", "不合格", id="grade 0 → 不合格"),
    p("105", "优秀", id="grade 105 → 优秀"),
])
def test_2_grade_bands_on_exact_scores(value, grade):
    # 2 grade [decision]: ≥90 优秀; 70≤s<90 合格; <70 不合格; thresholds on the unrounded score.
    assert RULES.section("2").grade_of(D(value)) == grade


# ---------------------------------------------------------------- 2 降档

@pytest.mark.parametrize("overrides, reasons", [
    p({}, (), id="降档 none"),
    p({"2.county": 1}, (), id="降档 county criticism 1: no"),
    p({"2.county": 2}, ("被县委县政府通报批评2次",), id="降档 county criticism 2: yes"),
    p({"2.city": 1}, ("被市委市政府通报批评1次",), id="降档 city criticism 1: yes"),
    p({"2.national": 1}, ("被国家、省级通报批评1次",), id="降档 national/provincial criticism 1: yes"),
    p({"2.inspection": 1}, ("被国务院、省督查点名批评并导致严重后果或重大影响1次",), id="降档 inspection 1: yes"),
    p({"2.6.found": Y, "2.7.found": Y}, (), id="降档 score exactly 70: no"),
    p({"2.6.found": Y, "2.7.found": Y, "2.5.faults": 1}, ("放管服得分低于70分（67.5分）",),
      id="降档 score 67.5 < 70: yes"),
    p({"2.6.found": Y, "2.6.serious": Y}, ("减权放权工作不力导致严重后果或重大影响",), id="降档 2.6 serious: yes"),
    p({"2.city": 2, "2.county": 3, "2.6.found": Y, "2.6.serious": Y, "2.7.found": Y, "2.8.faults": 1},
      ("被市委市政府通报批评2次", "被县委县政府通报批评3次", "放管服得分低于70分（65分）",
       "减权放权工作不力导致严重后果或重大影响"),
      id="降档 several reasons at once: city, county, 65 < 70, 2.6 serious"),
])
def test_2_downgrade_triggers(overrides, reasons):
    one = score_one(RULES, DEPT, "2", overrides)
    assert one.status == "ok"
    assert one.downgrade == reasons
    assert one.result.downgrade[0] == reasons  # shown on the summary row too
    assert one.result.summary()["降档"][0] == "；".join(reasons)


def test_2_blank_downgrade_count_is_incomplete():
    # General: a blank input cell is not filled; the 降档 counts are inputs of the 放管服 sheet.
    one = score_one(RULES, DEPT, "2", {"2.county": None})
    assert one.status == "数据不完整" and one.total is None


# ---------------------------------------------------------------- blanks, blocked, 不参加

ALL = {"1": {}, "2": {}, "3": {}, "4": {}, "5": {}}


@pytest.mark.parametrize("section_id, key", [
    p("1", "1.1.group", id="1 blank yes/no"),
    p("1", "1.5.m7", id="1 blank month"),
    p("2", "2.2.status", id="2 blank choice"),
    p("3", "3.3.public", id="3 blank rater group"),
    p("4", "4.2.score", id="4 blank score"),
    p("5", "5.1.reported", id="5 blank count"),
])
def test_blank_required_value_is_incomplete_and_unranked(section_id, key):
    # General: blank = not filled → that section 数据不完整, the unit not ranked and listed last.
    units = [("缺项单位", DEPT, {**ALL, section_id: {key: None}}), ("甲", DEPT, ALL), ("乙", DEPT, ALL)]
    result = score_many(RULES, units)
    sr = result.sections[section_id]
    assert sr.status[0] == "数据不完整" and sr.total[0] is None and sr.rank[0] is None
    assert all(c.points[0] is None for c in sr.clauses)
    assert [result.sections[s].status[0] for s in "12345" if s != section_id] == ["ok"] * 4
    assert result.total[0] is None and not result.complete[0] and result.rank[0] is None
    assert list(result.rank[1:]) == [1, 1]
    summary = result.summary()
    assert list(summary["单位"]) == ["甲", "乙", "缺项单位"]
    assert list(summary["名次"][:2]) == [1, 1] and summary["名次"][2] is None
    assert summary["总分"][2] == "数据不完整"


def test_blank_bonus_is_not_incomplete():
    # General: bonus points (3.6, 4.9) and their reasons may be blank.
    result = score_many(RULES, [("甲", TOWN, {"3": {"3.6.points": None, "3.6.reason": None}, "4": {}})])
    assert list(result.sections["3"].status) == ["ok"] and result.total[0] == 100


def test_blocked_and_missing_rows_are_incomplete():
    # General: a unit whose row has an error (blocked) or that no file supplied is 数据不完整.
    units = [("受阻", DEPT, ALL), ("未交", DEPT, {**ALL, "5": MISSING}), ("正常", DEPT, ALL)]
    result = score_many(RULES, units, blocked={"3": {"受阻"}})
    assert list(result.sections["3"].status) == ["数据不完整", "ok", "ok"]
    assert list(result.sections["5"].status) == ["ok", "数据不完整", "ok"]
    assert list(result.rank) == [None, None, 1]
    assert list(result.sections["3"].rank) == [None, 1, 1]


def test_not_taking_part_renormalises_weights():
    # Overall [decision]: weighted mean over the sections taken part in; 4 sections at 0.2 → each 0.25.
    # 1: 1.4 否 → 60; 2: 2.8 twice → 90; 4: 4.3 = 0 → 85; 5: full → 100; (60+90+85+100)/4 = 83.75.
    parts = {"1": {"1.4.ontime": N}, "2": {"2.8.faults": 2}, "4": {"4.3.score": D(0)}, "5": {}}
    result = score_many(RULES, [("无营商", DEPT, parts)])
    sr3 = result.sections["3"]
    assert sr3.status[0] == "不参加" and sr3.total[0] is None and sr3.rank[0] is None
    assert [result.sections[s].total[0] for s in "1245"] == [60, 90, 85, 100]
    assert result.total[0] == D("83.75") and result.rank[0] == 1
    summary = result.summary()
    assert summary["营商环境"][0] == "不参加" and summary["总分"][0] == D("83.75")


def test_not_taking_part_with_unequal_weights(tmp_path):
    # Overall: weights 0.1/0.2/0.3/0.2/0.2, no section 3: (0.1×60+0.2×90+0.2×85+0.2×100)/0.7 = 61/0.7.
    data = default_data()
    data["overall"]["weights"] = {"1": D("0.1"), "2": D("0.2"), "3": D("0.3"), "4": D("0.2"), "5": D("0.2")}
    rules = rules_from(data)
    parts = {"1": {"1.4.ontime": N}, "2": {"2.8.faults": 2}, "4": {"4.3.score": D(0)}, "5": {}}
    result = score_many(rules, [("无营商", DEPT, parts)])
    assert exact(result.total[0], 610, 7)
    assert result.summary()["总分"][0] == D("87.14")


# ---------------------------------------------------------------- ranks

def _section3(value):
    """Section 3 full except 3.1 (of 25): total = 75 + value."""
    return {"3": {"3.1.score": D(value)}}


def test_ranks_shared_on_rounded_totals():
    # Overall rank: by total rounded half-up to 2 decimals, ties share (1, 1, 3).
    # 14.994+75 = 89.994 → 89.99 ties with 89.99; 89.995 → 90.00 ranks above them.
    units = [("甲", DEPT, _section3("14.994")), ("乙", DEPT, _section3("14.99")),
             ("丙", DEPT, _section3("14.995")), ("丁", DEPT, _section3("5"))]
    result = score_many(RULES, units)
    assert list(result.total) == [D("89.994"), D("89.99"), D("89.995"), D(80)]
    assert list(result.rank) == [2, 2, 1, 4]
    assert list(result.sections["3"].rank) == [2, 2, 1, 4]
    summary = result.summary()
    assert list(summary["单位"]) == ["丙", "甲", "乙", "丁"]
    assert list(summary["总分"]) == [D("90.00"), D("89.99"), D("89.99"), D("80.00")]


def test_ranks_one_one_three():
    units = [("甲", TOWN, _section3("15")), ("乙", TOWN, _section3("25")), ("丙", TOWN, _section3("25"))]
    result = score_many(RULES, units)
    assert list(result.rank) == [3, 1, 1]


def test_section_ranks_are_per_section():
    # Each section sheet ranks its own section score the same way; overall rank is on the total.
    # 甲: s1 100, s5 90 (5.1 = 30) → 95; 乙: s1 60 (1.4 否), s5 148 → 104; 丙: s1 100, s5 100 → 100.
    units = [("甲", DEPT, {"1": {}, "5": {"5.1.reported": 30}}),
             ("乙", DEPT, {"1": {"1.4.ontime": N}, "5": {"5.1.reported": 70, "5.2.adopted": 30}}),
             ("丙", DEPT, {"1": {}, "5": {}})]
    result = score_many(RULES, units)
    assert list(result.sections["1"].rank) == [1, 3, 1]
    assert list(result.sections["5"].rank) == [3, 1, 2]
    assert list(result.total) == [95, 104, 100]
    assert list(result.rank) == [3, 1, 2]


@pytest.mark.parametrize("reported, adopted, p51, p52, text", [
    p(45, 12, 35, 30, "得35分", id="5.1 cap 40: 45 → 35 (below cap)"),
    p(50, 12, 40, 30, "得40分", id="5.1 cap 40: 50 → exactly 40"),
    p(60, 12, 40, 30, "超过上限按40分计，得40分", id="5.1 cap 40: 60 → 50 capped to 40, said so"),
    p(60, 40, 40, 35, None, id="5.2 cap 35: 40 → 58 capped to 35"),
    p(20, 0, 10, 18, None, id="5.1/5.2 capped rules still floor/below baseline: 10 and 18"),
])
def test_5_cap_from_the_rules_file(reported, adopted, p51, p52, text):
    # 5 [decision]: no cap by default, but the rules file can set one.
    data = default_data()
    clause_dict(data, "5.1")["cap"] = 40
    clause_dict(data, "5.2")["cap"] = D(35)
    one = score_one(rules_from(data), DEPT, "5", {"5.1.reported": reported, "5.2.adopted": adopted})
    assert (one.points("5.1"), one.points("5.2")) == (p51, p52)
    if text:
        assert one.text("5.1").endswith(text)


@pytest.mark.parametrize("section_id, overrides, clause_id, text", [
    p("1", {"1.2.2.missed": 3}, "1.2.2", "漏报3条×2分=扣6分，得24分", id="1.2.2 explanation"),
    p("1", {"1.2.1.report": N}, "1.2.1", "编制并公布上一年度年度报告：否，否决，得0分", id="1.2.1 explanation"),
    p("1", {"1.2.2.leak": Y}, "1.2.2", "泄密，不得分（否决）", id="1.2.2 泄密 explanation"),
    p("1", {"1.3.study": 0}, "1.3", "政务公开学习次数0次，不足1次，得0分", id="1.3 explanation"),
    p("2", {"2.3.publicised": N, "2.3.late": 2}, "2.3",
      "宣传改革成效：否，扣5分；未按节点报送2次×2分=扣4分；共扣9分，得1分", id="2.3 two parts: 10-5-4=1"),
    p("2", {"2.6.found": Y}, "2.6", "发现减权放权问题：是，得0分", id="2.6 explanation"),
    p("5", {"5.3.signed": N}, "5.3", "缺1项（留存领导签批纸质版）×10分=扣10分，得10分", id="5.3 explanation"),
    p("5", {"5.2.adopted": 5}, "5.2", "采用5条，比标准12条少7条×1分=减7分，得23分", id="5.2 explanation"),
])
def test_explanations(section_id, overrides, clause_id, text):
    # General: every computed item carries a short Chinese explanation.
    assert score_one(RULES, DEPT, section_id, overrides).text(clause_id) == text


def test_a_not_applicable_mark_on_a_unit_that_does_not_take_part_means_nothing():
    # 2 不适用 marks only count for units that take part: a table row of a unit outside 放管服 (score()
    # is public; the reader drops such rows) is 不参加 throughout, never 不适用.
    section = RULES.section("2")
    row = {**full_marks_row(section, DEPT), "2.8.na": True}
    units = [Unit("不参加的局", DEPT, ("1",)), Unit("参加的局", DEPT, ("2",))]
    sr = score(RULES, units, {"2": frame({u.name: row for u in units}, section)}).sections["2"]
    na = next(c for c in sr.clauses if c.clause.id == "2.8")
    assert list(sr.status) == ["不参加", "ok"]
    assert list(na.not_applicable) == [False, True]
    assert list(na.text) == ["", "不适用"]
