"""Usage mistakes on the command line: Chinese words, the usage line, exit code 2, no traceback."""

import pytest
from click.testing import CliRunner

from kaoping_xlsx.cli import cli


@pytest.mark.parametrize("args, lines", [
    (["score"], ["用法：kaoping score [OPTIONS] PATHS...", "运行 kaoping score --help 查看说明", "错误：缺少参数 PATHS..."]),
    (["template", "--units", "名单.xlsx"],
     ["用法：kaoping template [OPTIONS]", "运行 kaoping template --help 查看说明", "错误：缺少选项 -o / --output"]),
    (["check", "--jsn", "回收表格"],
     ["用法：kaoping check [OPTIONS] PATHS...", "运行 kaoping check --help 查看说明",
      "错误：没有选项 --jsn（是否要用 --json？）"]),
    (["scor", "回收表格"],
     ["用法：kaoping [OPTIONS] COMMAND [ARGS]...", "运行 kaoping --help 查看说明",
      "错误：没有命令 scor（可用：rules、template、fields、check、score）（是否要用 score？）"]),
    (["score", "回收表格", "-o"], ["错误：选项 -o 后面需要给出一个值"]),
    (["score", "回收表格", "-o", "结果.xlsx", "--strict=1"], ["错误：选项 --strict 后面不能带值"]),
])
def test_usage_errors_in_chinese(args, lines):
    result = CliRunner().invoke(cli, args, prog_name="kaoping")
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.splitlines() == lines
    result.stderr.encode("gbk")


def test_help_and_version_still_exit_0():
    runner = CliRunner()
    assert runner.invoke(cli, ["--help"], prog_name="kaoping").exit_code == 0
    version = runner.invoke(cli, ["--version"], prog_name="kaoping")
    assert version.exit_code == 0 and version.output.startswith("kaoping, version ")


def test_bare_kaoping_shows_the_help_not_an_error():
    """click 8.2+ reports a group run without arguments as a usage error carrying the whole help; shown as
    "错误：Usage: …" it read as a mistake, the first thing a new user types."""
    result = CliRunner().invoke(cli, [], prog_name="kaoping")
    assert result.exit_code in (0, 2)  # click 8.1 exits 0 after the help, 8.2+ with 2
    lines = result.output.splitlines()
    assert not [ln for ln in lines if ln.startswith("错误：")] and "查看说明" not in result.output
    assert "Commands:" in result.output and "score" in result.output
