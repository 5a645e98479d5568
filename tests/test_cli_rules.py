"""``kaoping rules``: the loaded rules in words (and JSON) so an office can check them; bad files exit 2."""

import json

import pytest
from click.testing import CliRunner

from engine_helpers import RULES
from kaoping_xlsx.cli import cli

SECTIONS = ["1 政务公开", "2 放管服", "3 营商环境", "4 信用体系", "5 政府网站"]


def run(*args):
    return CliRunner().invoke(cli, ["rules", *args])


def test_rules_table_lists_every_section_and_clause():
    result = run()
    assert result.exit_code == 0, result.output
    out = result.stdout
    out.encode("gbk")  # printable on a Chinese Windows console
    for heading in SECTIONS:
        assert f"\n{heading}（满分100分" in out
    lines = out.splitlines()
    for clause in RULES.clauses:
        row = next((line for line in lines if line.split(" ", 1)[0] == clause.id), None)
        assert row is not None, clause.id
        assert clause.name in row and clause.method() in row
    # the words an office checks against the published text
    assert "漏报一条扣2分，扣完为止，泄密不得分" in out
    assert "等次：优秀[90, +∞)；合格[70, 90)；不合格(-∞, 70)" in out
    assert "被县委县政府通报批评累计2次及以上" in out
    assert "县直部门10分，乡镇25分" in out


def test_rules_json_has_every_clause():
    result = run("--json")
    assert result.exit_code == 0, result.output
    result.stdout.encode("gbk")
    data = json.loads(result.stdout)
    assert data["id"] == "changbai-2020" and data["fingerprint"] == RULES.fingerprint
    assert [row["clause"] for row in data["clauses"]] == [c.id for c in RULES.clauses]
    by_id = {row["clause"]: row for row in data["clauses"]}
    assert by_id["4.3"]["applies_to"] == ["县直部门"]
    assert by_id["4.1"]["applies_to"] == ["县直部门", "乡镇"]
    assert by_id["1.2.2"]["kind"] == "deduction" and by_id["1.2.2"]["section"] == "政务公开"


@pytest.mark.parametrize("content, message", [
    pytest.param('id = "x"\nsection = [', "错误：规则文件 bad.toml 不是有效的 TOML：", id="not TOML"),
    pytest.param(None, "错误：规则文件 bad.toml：条款 1.1 的 kind：未知的计分方式 “tick”", id="unknown kind"),
])
def test_bad_rules_file_exits_2_with_one_line(tmp_path, content, message):
    from kaoping_xlsx.rules import default_rules_path

    if content is None:
        content = default_rules_path().read_text("utf-8").replace('kind = "checklist"', 'kind = "tick"', 1)
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    for args in ([], ["--json"]):
        result = run("--rules", str(path), *args)
        assert result.exit_code == 2
        assert result.stdout == ""
        assert result.stderr.startswith(message), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
        result.stderr.encode("gbk")


def test_missing_rules_file_exits_2(tmp_path):
    missing = tmp_path / "没有.toml"
    result = run("--rules", str(missing))
    assert result.exit_code == 2
    assert result.stderr == f"错误：找不到规则文件 {missing}，请检查文件名和路径\n"
    assert len(result.stderr.strip().splitlines()) == 1
