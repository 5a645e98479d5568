"""The ``kaoping`` command: each subcommand parses options, calls one library function, maps errors.

Exit codes: 0 success; 1 problems found (check, score); 2 usage, rules, file or output errors.
"""

from __future__ import annotations

import json
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
    from .errors import KaopingError
    from .rules import load_rules

    try:
        return load_rules(rules_path)
    except KaopingError as exc:
        raise UsageFault(str(exc)) from None


def _run(call, *args, **kwargs):
    """Call the library; its errors become one clear line and exit code 2, never a traceback."""
    from .errors import KaopingError

    try:
        return call(*args, **kwargs)
    except KaopingError as exc:
        raise UsageFault(str(exc)) from None


def _echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


rules_option = click.option(
    "--rules", "rules_path", type=click.Path(dir_okay=False, path_type=Path),
    help="规则文件（TOML），默认使用内置的长白县2020年细则。",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


def main() -> None:
    """Console entry point; makes the output printable on any console (GBK included)."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    cli(prog_name="kaoping")
