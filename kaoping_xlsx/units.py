"""The unit on the assessment list, apart from the scoring engine: the template's layout and the
opening of returned files need it before numpy and pandas are loaded."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Unit:
    """A unit on the assessment list: its name, type and the sections it takes part in."""

    name: str
    type: str
    sections: tuple[str, ...]
