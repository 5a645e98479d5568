"""Make samples/回收表格/: three filled workbooks as three offices would return them.

    python samples/make_samples.py

Each office fills only its own sheets of the template generated from samples/units.xlsx:
政务公开办 and 信息科 share one file (政务公开 + 政府网站), 放管服办 sends 放管服, 软环境办 and 信用办
share one (营商环境 + 信用体系). Realistic variety, on purpose:

- failed vetoes: 县民政局 did not finish 1.4 on time; 县司法局 leaked a document (1.2.2 泄密);
- 降档: 县住房和城乡建设局 was criticised twice by the county (trigger 4); 县交通运输局 scores below 70
  in 放管服 (trigger 5); 县水利局's 减权放权 problem had serious consequences (trigger 6);
- 不适用: the townships have no approval items, so 2.6–2.10 are 不适用 and 放管服 is rescaled;
- bonus points with reasons (3.6, 4.9), one above the 5-point cap;
- 放管服办 also filled 县教育局's 政务公开 row, identical to 政务公开办's (merged without conflict);
- one mistake: 软环境办 added a row for 县档案局, a unit not on the template's list (reported, not used).
"""

from __future__ import annotations

import sys
import tempfile
from datetime import datetime
from pathlib import Path

import openpyxl

from kaoping_xlsx.layout import FIRST_DATA_ROW, KEY_ROW, UNIT_KEY
from kaoping_xlsx.rules import load_rules
from kaoping_xlsx.template import load_units, write_template

HERE = Path(__file__).resolve().parent
OUT = HERE / "回收表格"
FIXED_TIME = datetime(2021, 1, 15, 9, 0, 0)

FILES = {
    "政务公开办_信息科.xlsx": ("1", "5"),
    "放管服办.xlsx": ("2",),
    "软环境办_信用办.xlsx": ("3", "4"),
}

TOWN = "乡镇"


def values_for(index: int, name: str, unit_type: str, section_id: str) -> dict[str, object]:
    """Cell values one unit gets in one section, as an office would type them."""
    i = index
    if section_id == "1":
        v = {f"1.1.{k}": "是" for k in ("group", "agency", "staff", "meeting", "plan", "summary")}
        if i % 4 == 1:
            v["1.1.meeting"] = "否"
        v.update({"1.2.1.report": "是", "1.2.2.missed": i % 4, "1.2.2.leak": "否", "1.2.3.done": "是",
                  "1.3.study": 1 + i % 3, "1.4.ontime": "是"})
        v.update({f"1.5.m{m}": (0 if (m + i) % 7 == 0 else 1 + (m * i) % 3) for m in range(1, 13)})
        if name == "县民政局":
            v["1.4.ontime"] = "否"
        if name == "县司法局":
            v["1.2.2.leak"] = "是"
        if name == "县统计局":
            v["1.2.1.report"] = "否"
        return v
    if section_id == "2":
        v = {"2.1.leader": "否", "2.1.group": "否", "2.1.office": "否", "2.1.lagging": "否",
             "2.2.status": ("已出台并落实", "已出台并落实", "已出台未落实")[i % 3],
             "2.3.publicised": "是", "2.3.late": i % 3, "2.4.faults": i % 2, "2.5.faults": i % 3 // 2,
             "2.6.found": "否", "2.6.serious": "否", "2.7.found": "否",
             "2.8.faults": 0, "2.9.faults": i % 5 // 4, "2.10.faults": 0,
             "2.national": 0, "2.inspection": 0, "2.city": 0, "2.county": 0}
        if unit_type == TOWN:
            for cid in ("2.6", "2.7", "2.8", "2.9", "2.10"):
                for key in [k for k in v if k.startswith(cid + ".")]:
                    v[key] = None
                v[f"{cid}.na"] = "不适用"
        if name == "县住房和城乡建设局":
            v["2.county"] = 2
        if name == "县交通运输局":
            v.update({"2.1.lagging": "是", "2.2.status": "未出台", "2.3.publicised": "否", "2.3.late": 3,
                      "2.7.found": "是", "2.8.faults": 1})
        if name == "县水利局":
            v.update({"2.6.found": "是", "2.6.serious": "是"})
        if name == "县商务局":
            v["2.county"] = 1  # once is not enough for 降档 (twice or more)
        return v
    if section_id == "3":
        v = {"3.1.score": 25 - i % 6, "3.2.score": 15 - (i % 4) * 0.5, "3.3.leaders": 80 + i % 17,
             "3.3.departments": 78 + (i * 3) % 19, "3.3.public": 75 + (i * 7) % 23, "3.4.score": 15 - i % 5,
             "3.5.1.score": 10 - i % 3, "3.5.2.score": 5 - (i % 2) * 0.5, "3.6.points": None, "3.6.reason": None}
        if name == "县发展和改革局":
            v.update({"3.6.points": 3, "3.6.reason": "优化营商环境经验做法被省级媒体宣传报道"})
        if name == "县市场监督管理局":
            v.update({"3.6.points": 8, "3.6.reason": "获省委省政府肯定性批示两次"})
        return v
    if section_id == "4":
        if unit_type == TOWN:
            v = {"4.1.score": 25 - i % 4, "4.2.score": 30 - i % 5, "4.4.score": 25 - i % 3, "4.8.score": 20 - i % 2}
        else:
            v = {"4.1.score": 10 - i % 3 * 0.5, "4.2.score": 15 - i % 4, "4.3.score": 15 - i % 2,
                 "4.4.score": 10 - i % 3, "4.5.score": 15 - i % 5, "4.6.score": 10 - i % 2,
                 "4.7.score": 15 - i % 3, "4.8.score": 10 - i % 4 * 0.5}
        v.update({"4.9.points": None, "4.9.reason": None})
        if name == "长白镇":
            v.update({"4.9.points": 2, "4.9.reason": "信用体系建设经验在市级媒体推广"})
        return v
    v = {"5.1.reported": 28 + (i * 5) % 30, "5.3.system": "是", "5.3.signed": "是" if i % 5 else "否",
         "5.4.attention": 5, "5.4.mechanism": 5 - (i % 3) * 0.5, "5.4.staff": 5, "5.4.cooperation": 4 + i % 2}
    v["5.2.adopted"] = min(v["5.1.reported"], 8 + (i * 3) % 9)
    return v


def fill(template: Path, target: Path, sections: tuple[str, ...], rules, units, extra=None) -> None:
    book = openpyxl.load_workbook(template)
    for section in rules.sections:
        if section.id not in sections and not (extra and section.id in extra):
            continue
        ws = book[section.sheet]
        keys = {cell.value: cell.column for cell in ws[KEY_ROW + 1] if cell.value}
        assert keys.get(UNIT_KEY) == 1
        row_of = {ws.cell(r, 1).value: r for r in range(FIRST_DATA_ROW + 1, ws.max_row + 1)}
        chosen = units if section.id in sections else [u for u in units if u.name in extra[section.id]]
        for index, unit in enumerate(units):
            if unit not in chosen or section.id not in unit.sections:
                continue
            for key, value in values_for(index, unit.name, unit.type, section.id).items():
                ws.cell(row_of[unit.name], keys[key]).value = value
    book.properties.created = book.properties.modified = FIXED_TIME
    book.save(target)


def main() -> None:
    rules = load_rules()
    units = load_units(HERE / "units.xlsx", rules)
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "模板.xlsx"
        write_template(rules, units, template)
        fill(template, OUT / "政务公开办_信息科.xlsx", FILES["政务公开办_信息科.xlsx"], rules, units)
        fill(template, OUT / "放管服办.xlsx", FILES["放管服办.xlsx"], rules, units, extra={"1": {"县教育局"}})
        target = OUT / "软环境办_信用办.xlsx"
        fill(template, target, FILES["软环境办_信用办.xlsx"], rules, units)
        _add_unknown_unit(target, rules)
    print(f"已生成 {len(FILES)} 个样例文件：{OUT}", file=sys.stderr)


def _add_unknown_unit(path: Path, rules) -> None:
    """The office's mistake: a row for 县档案局, which is not on the template's unit list."""
    book = openpyxl.load_workbook(path)
    ws = book[rules.section("3").sheet]
    row = ws.max_row + 1
    ws.cell(row, 1).value = "县档案局"
    ws.cell(row, 2).value = "县直部门"
    keys = {cell.value: cell.column for cell in ws[KEY_ROW + 1] if cell.value}
    for key, value in values_for(5, "县档案局", "县直部门", "3").items():
        if value is not None:
            ws.cell(row, keys[key]).value = value
    book.properties.created = book.properties.modified = FIXED_TIME
    book.save(path)


if __name__ == "__main__":
    main()
