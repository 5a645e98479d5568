"""The library's front door: one function per command, no click, no printing.

Each function reads, validates, scores and writes through the modules that own those steps, and
returns a report object the CLI turns into text and an exit code.
"""

from __future__ import annotations

import gc
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

from . import __version__

if TYPE_CHECKING:  # imported when used: reading starts on the first file before pandas loads
    from .engine import Result
    from .inputs import Inputs
    from .problems import Problem
    from .rules import Rules


@dataclass(frozen=True)
class CheckReport:
    inputs: Inputs
    annotated: tuple[Path, ...] = ()

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self.inputs.problems

    def summary_lines(self) -> list[str]:
        """Files, units, and problems counted by sheet and code: what an office needs first."""
        inputs = self.inputs
        accepted = sum(f.accepted for f in inputs.files)
        errors = len(inputs.errors)
        lines = [f"读取文件 {len(inputs.files)} 个（可用 {accepted} 个），名单单位 {len(inputs.units)} 个，"
                 f"单位行 {inputs.rows_read} 行（采用 {inputs.rows_used} 行）"]
        if not self.problems:
            lines.append("未发现问题。")
            return lines
        lines.append(f"发现问题 {len(self.problems)} 个（错误 {errors} 个，警告 {len(self.problems) - errors} 个）：")
        counts = Counter((p.sheet or "（整个文件）", p.code) for p in self.problems)
        for (sheet, code), n in sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1].value)):
            lines.append(f"  {sheet}  {code.value} {code.words}  {n} 个")
        return lines


@dataclass(frozen=True)
class ScoreReport:
    inputs: Inputs
    result: Result
    written: Path | None  # None when --strict refused to write

    @property
    def unranked(self) -> int:
        return int((~self.result.complete).sum())


def read(paths: Sequence[Path], rules: Rules) -> Inputs:
    from .opening import read_inputs

    return read_inputs(paths, rules)


def check_files(paths: Sequence[Path], rules: Rules, annotate_dir: Path | None = None) -> CheckReport:
    """Validate returned workbooks; optionally write annotated copies for the offices to fix."""
    with _without_cycle_collection():
        inputs = read(paths, rules)
    annotated: tuple[Path, ...] = ()
    if annotate_dir is not None:
        from .annotate import annotate

        annotated = tuple(annotate(inputs, Path(annotate_dir)))
    return CheckReport(inputs, annotated)


def score_inputs(inputs: Inputs) -> Result:
    from .engine import score

    return score(inputs.rules, inputs.units, inputs.tables, inputs.blocked)


def score_files(paths: Sequence[Path], rules: Rules, out: Path, *, strict: bool = False,
                formulas: bool = False, run_time: datetime | None = None,
                progress: Callable[[str], None] = lambda step: None) -> ScoreReport:
    """Read, validate, merge, score and write the result workbook (unless ``strict`` and problems).

    ``progress`` hears the name of each step (reading, scoring, each sheet written) as it starts.
    """
    with _without_cycle_collection():
        progress("读取并校验")
        inputs = read(paths, rules)
        progress("计分")
        result = score_inputs(inputs)
        if strict and inputs.problems:
            return ScoreReport(inputs, result, None)
        from .report import write_result

        written = write_result(result, inputs, Path(out), run_time=run_time or datetime.now().replace(microsecond=0),
                               version=__version__, formulas=formulas, progress=progress)
        return ScoreReport(inputs, result, written)


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """A run builds millions of objects (a province's inputs, results and output rows) that live until
    it ends and form almost no reference cycles: reference counting frees the rest at once. The cyclic
    collector would only walk the growing heap again and again, some 4-5% of a run; it is paused for
    the run and resumed after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def score_steps(rules: Rules) -> int:
    """How many times :func:`score_files` reports progress: read, score, 汇总, each section, 校验问题."""
    return 2 + 1 + len(rules.sections) + 1
