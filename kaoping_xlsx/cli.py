"""The ``kaoping`` command: each subcommand parses options, calls one library function, maps errors.

Exit codes: 0 success; 1 problems found (check, score); 2 usage, rules, file or output errors.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click

from . import __version__


class UsageFault(click.ClickException):
    """A library error shown as one Chinese line, exit code 2."""

    exit_code = 2

    def format_message(self) -> str:
        return self.message

    def show(self, file=None) -> None:
        click.echo(f"错误：{self.format_message()}", err=True)


def _load(rules_path: Path | None):
    from .rules import load_rules

    return _run(load_rules, rules_path)


def _run(call, *args, **kwargs):
    """Call the library; its errors become one clear line and exit code 2, never a traceback."""
    from .errors import KaopingError

    try:
        return call(*args, **kwargs)
    except KaopingError as exc:
        raise UsageFault(str(exc)) from None


def _echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


SHOWN_PROBLEMS = 50  # score lists this many on the console; the result workbook has them all

rules_option = click.option(
    "--rules", "rules_path", type=click.Path(dir_okay=False, path_type=Path),
    help="规则文件（TOML），默认使用内置的长白县2020年细则。",
)


# click's own usage errors, in the words an office clerk reads (anything else keeps click's text).
_USAGE_WORDS = [
    (re.compile(r"^Missing argument (.+)\.$"), "缺少参数 {0}"),
    (re.compile(r"^Missing option (.+)\.$"), "缺少选项 {0}"),
    (re.compile(r"^No such option:? (\S+?)\.?$"), "没有选项 {0}"),
    (re.compile(r"^No such command (.+?)\.?$"), "没有命令 {0}（可用：rules、template、fields、check、score）"),
    (re.compile(r"^Option (.+) requires an argument\.$"), "选项 {0} 后面需要给出一个值"),
    (re.compile(r"^Option (.+) does not take a value\.$"), "选项 {0} 后面不能带值"),
    (re.compile(r"^Got unexpected extra arguments? \((.+)\)$"), "多余的参数：{0}"),
    (re.compile(r"^Invalid value for (.+?): (.+)$"), "{0} 的值无效：{1}"),
]
_DID_YOU_MEAN = re.compile(r"\s*Did you mean (.+?)\?$")


def _usage_words(message: str) -> str:
    """click's usage error in Chinese; an unknown form keeps click's own text."""
    hint = _DID_YOU_MEAN.search(message)
    if hint:
        message = message[:hint.start()]
    for pattern, words in _USAGE_WORDS:
        match = pattern.match(message)
        if match:
            message = words.format(*(g.replace("'", "") for g in match.groups()))
            break
    return message + (f"（是否要用 {hint.group(1).replace(chr(39), '')}？）" if hint else "")


# click 8.2+ raises this (a UsageError) for a group run without arguments; 8.1 prints the help and exits 0.
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


class _Commands(click.Group):
    """The ``kaoping`` group: usage errors in Chinese, with the usage line and where to find help."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _NO_ARGS_IS_HELP as exc:  # bare ``kaoping``: the help itself, as click shows it
            exc.show()
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            message = _usage_words(exc.format_message())
            if exc.ctx is not None:
                click.echo(exc.ctx.get_usage().replace("Usage: ", "用法："), err=True)
                click.echo(f"运行 {exc.ctx.command_path} --help 查看说明", err=True)
            click.echo(f"错误：{message}", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("已中断", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)  # ctx.exit(n) returns n outside standalone mode


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kaoping")
def cli() -> None:
    """县级绩效考评：生成填报模板、校验回收的表格、计分并输出排名结果。"""


@cli.command("rules")
@rules_option
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出，供程序使用。")
def rules_command(rules_path: Path | None, as_json: bool) -> None:
    """列出规则文件中的全部条款（编号、项目、分值、计分方法），便于与原文核对。"""
    from .describe import rules_rows, rules_table

    rules = _load(rules_path)
    if as_json:
        _echo_json({"id": rules.id, "title": rules.title, "fingerprint": rules.fingerprint,
                    "clauses": rules_rows(rules)})
    else:
        click.echo(rules_table(rules))


@cli.command("template")
@click.option("--units", "units_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="单位名单（.xlsx 或 .csv），含“单位名称”“单位类型”两列。")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="要生成的模板文件，如 2020年考评填报表.xlsx。")
@rules_option
def template_command(units_path: Path, output: Path, rules_path: Path | None) -> None:
    """按单位名单生成填报模板：每个考评部分一张表，每个单位一行。"""
    from .template import load_units, write_template

    rules = _load(rules_path)
    units = _run(load_units, units_path, rules)
    _run(write_template, rules, units, output, inputs=[units_path])
    click.echo(f"已生成模板：{output}（{len(units)}个单位，{len(rules.sections)}张填报表）")


@cli.command("fields")
@rules_option
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
def fields_command(rules_path: Path | None, as_json: bool) -> None:
    """列出模板中每个填报列：工作表、列号、键、条款、名称、类型、允许的值。"""
    from .describe import fields_table
    from .template import field_catalog

    rules = _load(rules_path)
    catalog = field_catalog(rules)
    if as_json:
        _echo_json(catalog)
    else:
        click.echo(fields_table(catalog))


inputs_argument = click.argument("paths", nargs=-1, required=True,
                                 type=click.Path(path_type=Path))


def _print_problems(problems) -> None:
    for problem in problems:
        click.echo(problem.line())


@cli.command("check")
@inputs_argument
@click.option("--annotate", "annotate_dir", type=click.Path(file_okay=False, path_type=Path),
              help="把每个有问题的文件另存一份“原名.待修改.xlsx”到此文件夹，问题单元格标红并附批注。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出问题清单。")
@rules_option
def check_command(paths: tuple[Path, ...], annotate_dir: Path | None, as_json: bool,
                  rules_path: Path | None) -> None:
    """校验回收的填报表（文件或文件夹），列出每个需要修改的单元格。退出码：0 无问题，1 有问题，2 文件错误。"""
    from .api import check_files

    rules = _load(rules_path)
    report = _run(check_files, paths, rules, annotate_dir)
    if as_json:
        _echo_json({"files": [{"name": f.name, "sha256": f.sha256, "sections": list(f.sections),
                               "accepted": f.accepted} for f in report.inputs.files],
                    "units": len(report.inputs.units), "rows_read": report.inputs.rows_read,
                    "rows_used": report.inputs.rows_used,
                    "problems": [p.as_dict() for p in report.problems],
                    "annotated": [str(p) for p in report.annotated]})
    else:
        for line in report.summary_lines():
            click.echo(line)
        if report.problems:
            click.echo("问题清单：")
            _print_problems(report.problems)
        for path in report.annotated:
            click.echo(f"已生成待修改文件：{path}")
    sys.exit(1 if report.problems else 0)


class _Progress:
    """Progress on stderr for long runs: a bar appears once a run has taken ``delay`` seconds, never when
    stderr is not a terminal (pipes, logs, tests stay clean)."""

    def __init__(self, total: int, stream=None, delay: float = 2.0):
        import time

        self.stream = stream or sys.stderr
        self.total, self.delay, self.clock = total, delay, time.monotonic
        self.start = self.clock()
        self.begun = 0
        self.bar = None
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, step: str) -> None:
        self.begun += 1
        if not self.enabled:
            return
        if self.bar is None and self.clock() - self.start >= self.delay:
            self.bar = click.progressbar(length=self.total, label="进度", file=self.stream, show_eta=False,
                                         item_show_func=lambda item: item)
            self.bar.__enter__()
            self.bar.update(self.begun - 1)
        if self.bar is not None:
            self.bar.update(1, step)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _run_time():
    """The run's timestamp; SOURCE_DATE_EPOCH fixes it so that two runs give identical workbooks."""
    import os
    from datetime import datetime, timezone

    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc).replace(tzinfo=None)
    return datetime.now().replace(microsecond=0)


@cli.command("score")
@inputs_argument
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="结果文件，如 2020年绩效考评结果.xlsx。")
@click.option("--strict", is_flag=True, help="发现任何问题时不写结果，退出码1。")
@click.option("--formulas", is_flag=True, help="各部分得分写成可重新计算的Excel公式（附计算结果）。")
@rules_option
def score_command(paths: tuple[Path, ...], output: Path, strict: bool, formulas: bool,
                  rules_path: Path | None) -> None:
    """读取回收的填报表（文件或文件夹），校验、合并、计分，输出排名结果表。"""
    from .api import score_files, score_steps

    rules = _load(rules_path)
    progress = _Progress(score_steps(rules))
    try:
        report = _run(score_files, paths, rules, output, strict=strict, formulas=formulas, run_time=_run_time(),
                      progress=progress)
    finally:
        progress.close()
    inputs = report.inputs
    ranked = len(inputs.units) - report.unranked
    click.echo(f"读取文件 {len(inputs.files)} 个，单位 {len(inputs.units)} 个：已排名 {ranked} 个，"
               f"未排名（数据不完整）{report.unranked} 个；发现问题 {len(inputs.problems)} 个")
    if report.written is None:
        click.echo("因使用 --strict 且发现问题，未写入结果。问题清单：")
        _print_problems(inputs.problems)
        sys.exit(1)
    if inputs.problems:
        click.echo("问题清单（结果表“校验问题”工作表中有全部问题）：")
        _print_problems(inputs.problems[:SHOWN_PROBLEMS])
        if len(inputs.problems) > SHOWN_PROBLEMS:
            click.echo(f"……另有 {len(inputs.problems) - SHOWN_PROBLEMS} 个问题未在此列出，"
                       "见结果表“校验问题”工作表，或运行 kaoping check")
    click.echo(f"已写入结果：{report.written}")
    sys.exit(1 if report.unranked else 0)


def main() -> None:
    """Console entry point; makes the output printable on any console (GBK included)."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    cli(prog_name="kaoping")
