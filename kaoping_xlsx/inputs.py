"""What the reader hands on: the merged, normalised input tables and everything found wrong.

Produced by :func:`kaoping_xlsx.opening.read_inputs`; consumed by the engine (``units``, ``tables``,
``blocked``), the report writer and the annotator (``problems``, ``files``, ``cells``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import pandas as pd

from .problems import Problem
from .rules import Rules
from .units import Unit


@dataclass(frozen=True)
class InputFile:
    """One file given on the command line (or found in a folder), and what came of it."""

    path: Path
    name: str  # as shown to users: the path relative to the folder given, else the file name
    sha256: str
    sections: tuple[str, ...]  # section ids whose sheet this file supplied (non-blank inputs)
    accepted: bool  # False when the whole file was refused (see its problem)


@dataclass(frozen=True)
class Inputs:
    rules: Rules
    units: tuple[Unit, ...]  # the template's unit list, in template order
    # section id → one row per unit that some file supplied (index: unit name), one column per field
    # key of the section (``Section.fields``); values normalised: bool (是/否, 不适用), int (counts),
    # Decimal (scores), str (choices, text) or None (blank or rejected).
    tables: Mapping[str, pd.DataFrame]
    # section id → units whose data in that section has an error: the engine marks them 数据不完整.
    blocked: Mapping[str, frozenset[str]]
    problems: tuple[Problem, ...]  # every problem, deterministic order
    files: tuple[InputFile, ...]
    # (section id, unit, field key) → where the value used came from: (file name, "'放管服'!F12").
    cells: Mapping[tuple[str, str, str], tuple[str, str]] = field(default_factory=dict)
    rows_read: int = 0  # unit rows seen in all sheets of all accepted files
    rows_used: int = 0  # of those, rows whose values reached ``tables``

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.is_error)
