"""The errors of an import: a malformed export (with where it is) and untrusted code refused."""

from __future__ import annotations

from nbplayground.errors import InvalidInput, NbPlaygroundError


class InvalidExport(InvalidInput):
    """An exported eval or run cannot be imported as it is; `where` is the path of the field
    at fault (e.g. "testing_criteria[2].type"). Nothing was sent."""

    def __init__(self, message: str, *, where: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where


class UntrustedCode(NbPlaygroundError):
    """An imported python grader would run, and trust_python=True was not given; `grader` is
    its name. Nothing was sent."""

    def __init__(self, message: str, *, grader: str) -> None:
        super().__init__(message)
        self.grader = grader
