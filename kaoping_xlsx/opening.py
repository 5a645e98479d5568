"""Open returned workbooks: find them, read and hash each, let the guards pass it sheet by sheet while
python-calamine parses the sheets passed on a worker thread.

Kept apart from the reader and free of numpy and pandas, so that the first file is opened before they
load: calamine parses it (releasing the GIL) while pandas is imported, about 0.2 s of every run.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import TYPE_CHECKING

from python_calamine import CalamineWorkbook

from . import guards
from .layout import GUIDE_SHEET, KEY_SEARCH_ROWS, META_SHEET
from .problems import Code, Problem

if TYPE_CHECKING:
    from .inputs import Inputs
    from .rules import Rules

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
# Spreadsheets of other formats found in a folder are reported (not skipped): an office's data must
# never vanish because it was saved as .xls.
FOREIGN_SUFFIXES = (".xls", ".xlsb", ".ods", ".et", ".csv")


def read_inputs(paths: Sequence[Path], rules: Rules) -> Inputs:
    """Read, check and merge returned workbooks (files or folders) into the engine's tables.

    The first file is opened before the reader, and with it pandas, is imported: calamine parses that
    file meanwhile."""
    paths = [Path(p) for p in paths]
    sources, problems = collect(paths)
    with contextlib.closing(open_all(sources, [s.sheet for s in rules.sections])) as books:
        first = list(islice(books, 1))
        from .reader import read_books

        return read_books(chain(first, books), problems, rules, paths)


@dataclass(frozen=True)
class Source:
    """A file to read, and the name it is shown by (its path below the folder given)."""

    path: Path
    name: str


@dataclass(frozen=True)
class Opened:
    """One file opened: refused (``refusal``: the problem to report), or passed by the guards with
    calamine parsing it (``facts``, ``calamine``). ``digest``: its SHA-256, "" if it could not be read."""

    source: Source
    digest: str
    refusal: Problem | None = None
    facts: guards.FileFacts | None = None
    calamine: Calamine | None = None


def open_all(sources: Sequence[Source], section_sheets: Collection[str]) -> Iterator[Opened]:
    """Each file opened in turn, and closed (its calamine thread ended) when the next is asked for or
    the iteration is closed."""
    for source in sources:
        try:
            data = source.path.read_bytes()
        except OSError as exc:
            yield Opened(source, "", Problem(file=source.name, code=Code.FILE_UNREADABLE,
                                             message=f"文件 {source.name} 无法读取（{exc.strerror or type(exc).__name__}）"))
            continue
        digest = hashlib.sha256(data).hexdigest()
        try:
            inspection = guards.Inspection(source.path, source.name, data)
        except guards.Refused as refused:
            yield Opened(source, digest, refused.problem)
            continue
        with inspection:
            calamine = Calamine(data, inspection.sheet_names, section_sheets)
            try:
                yield _passed(source, digest, inspection, calamine)
            finally:
                calamine.close()


def _passed(source: Source, digest: str, inspection: guards.Inspection, calamine: Calamine) -> Opened:
    """The guards scan sheet after sheet while calamine parses those passed; the guards' word comes
    first, then calamine's (when the sheets are read), as when the whole file was checked before calamine
    opened it."""
    try:
        for name in inspection.sheet_names:
            inspection.sheet(name)
            calamine.passed(name)
        calamine.passed_all()
        facts = inspection.facts()
    except guards.Refused as refused:
        return Opened(source, digest, refused.problem)
    return Opened(source, digest, facts=facts, calamine=calamine)


def collect(paths: list[Path]) -> tuple[list[Source], list[Problem]]:
    """Files given and workbooks found in folders, each once, with the name shown to users."""
    sources: list[Source] = []
    problems: list[Problem] = []
    seen: set[Path] = set()
    names: set[str] = set()
    for given in paths:
        if given.is_dir():
            found = [(p, p.relative_to(given).as_posix()) for p in _walk(given)]
            found.sort(key=lambda item: item[1])
        elif given.is_file():
            found = [(given, given.name)]
        else:
            problems.append(Problem(file=str(given), code=Code.FILE_UNREADABLE,
                                    message=f"找不到文件或文件夹：{given}"))
            continue
        for path, name in found:
            key = path.resolve()
            if key in seen:
                continue
            seen.add(key)
            if name in names:
                name = str(path)
            names.add(name)
            sources.append(Source(path, name))
    return sources, problems


def _walk(folder: Path) -> Iterator[Path]:
    """Workbooks under a folder; lock files (``~$x.xlsx``) and hidden files or folders skipped."""
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(("~$", ".")):
            continue
        if entry.is_dir() and not entry.is_symlink():
            yield from _walk(entry)
        elif entry.is_file() and entry.suffix.lower() in WORKBOOK_SUFFIXES + FOREIGN_SUFFIXES:
            yield entry


class Unparsable(Exception):
    """calamine failed on the file; ``error`` is what it raised (PanicException is a BaseException)."""

    def __init__(self, error: BaseException):
        super().__init__(repr(error))
        self.error = error


@contextlib.contextmanager
def _from_calamine() -> Iterator[None]:
    """Whatever calamine raises, but an interrupt, as :class:`Unparsable`: its faults vary, and its Rust
    panics (a large negative number in a date-formatted cell) arrive as pyo3's PanicException, a BaseException."""
    try:
        yield
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # noqa: BLE001
        raise Unparsable(exc) from exc


class Calamine:
    """calamine's part in reading one file, on one worker thread: it parses sheet k while the guards scan
    sheet k+1 (calamine releases the GIL while parsing).

    It opens the workbook once the guards have scanned every part but the worksheets, and parses a sheet
    once they have passed it. The guards refuse any workbook in which calamine could find other parts than
    they did, but not every difference in names (calamine does not normalize whitespace in attributes): if
    calamine names the sheets otherwise, the sheet it finds by a name the guards passed may be a later one,
    so then nothing is parsed until every sheet has passed. Section sheets are parsed whole,
    other sheets (copies, say) by their head rows, the meta sheet by :meth:`meta`. The first error is raised,
    as :class:`Unparsable`, by any call that waits for it or for a later job; no job runs after it.
    """

    _SKIP = (META_SHEET, GUIDE_SHEET)  # not parsed on the worker

    def __init__(self, data: bytes, guarded: list[str], sections: Collection[str]):
        """``guarded``: the sheet names as the guards read them, in workbook order."""
        self._data = data
        self._guarded = guarded
        self._sections = set(sections)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kaoping-calamine")
        self._failed = False  # read and written on the worker thread only
        self._book: Future = self._pool.submit(self._run, self._open)  # (workbook, its sheet names)
        self._jobs: dict[str, Future] = {}  # sheet name → its rows, in the order handed to the worker

    def passed(self, name: str) -> None:
        """The guards have passed ``name`` and every sheet before it: parse it, if that is safe yet."""
        if self._names() == self._guarded:
            self._parse(name)

    def passed_all(self) -> None:
        """The guards have passed every sheet: parse all that are still to parse."""
        for name in self._names() or ():
            self._parse(name)

    def meta(self) -> list | None:
        """The meta sheet, parsed here with a workbook of its own (every section needs it first, and it comes
        last in workbook order); call only when every sheet has passed. None if there is none."""
        with _from_calamine():
            book = CalamineWorkbook.from_filelike(io.BytesIO(self._data))
            if META_SHEET not in book.sheet_names:
                return None
            return book.get_sheet_by_name(META_SHEET).to_python(skip_empty_area=False)

    def sheet_names(self) -> list[str]:
        return self._result(self._book)[1]

    def rows(self, name: str) -> list:
        """A parsed sheet's rows, once it and everything handed to the worker before it are done."""
        self._result(self._book)
        for job_name, job in self._jobs.items():
            rows = self._result(job)
            if job_name == name:
                return rows
        raise KeyError(name)

    def heads(self) -> dict[str, list]:
        """The head rows of every sheet that is neither a section sheet, the meta sheet nor the guide: a
        copied section sheet keeps the hidden key row, and its first rows are enough to tell."""
        return {name: self.rows(name) for name in self.sheet_names()
                if name not in self._sections and name not in self._SKIP}

    def finish(self) -> None:
        """Wait for all the worker was handed; raise the first error, if any."""
        self._result(self._book)
        for job in self._jobs.values():
            self._result(job)

    def close(self) -> None:
        """Drop jobs not started and wait for the one running (a sheet the guards passed): no thread is left."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    # --- on the main thread

    def _names(self) -> list[str] | None:
        """calamine's sheet names; None if it could not open the file (the error is raised later, in order)."""
        try:
            return self.sheet_names()
        except Unparsable:
            return None

    def _parse(self, name: str) -> None:
        if name not in self._SKIP and name not in self._jobs:
            self._jobs[name] = self._pool.submit(self._run, self._rows, name, name not in self._sections)

    @staticmethod
    def _result(job: Future):
        with _from_calamine():
            return job.result()

    # --- on the worker thread

    def _run(self, job: Callable, *args):
        """Run a job unless an earlier one failed (the file is refused then; calamine is left alone)."""
        if self._failed:
            return None
        try:
            return job(*args)
        except BaseException:
            self._failed = True
            raise

    def _open(self) -> tuple[CalamineWorkbook, list[str]]:
        book = CalamineWorkbook.from_filelike(io.BytesIO(self._data))
        return book, list(book.sheet_names)

    def _rows(self, name: str, head: bool) -> list:
        book = self._book.result()[0]  # opened, or this job would not run
        sheet = book.get_sheet_by_name(name)
        return sheet.to_python(nrows=KEY_SEARCH_ROWS) if head else sheet.to_python(skip_empty_area=False)
