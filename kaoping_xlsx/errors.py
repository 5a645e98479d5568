"""Errors that stop a command: usage, file and output faults (exit code 2).

Problems with the *content* of returned workbooks are not errors: they are
:class:`kaoping_xlsx.problems.Problem` records, collected and reported together.
"""


class KaopingError(Exception):
    """A fault the user must fix before the command can run; the message is Chinese and complete."""

    exit_code = 2


class UnitsError(KaopingError):
    """The units list given to ``kaoping template`` cannot be used."""


class OutputError(KaopingError):
    """The output cannot be written where asked."""


class NoUsableInput(KaopingError):
    """None of the given files could be read as a filled template."""
