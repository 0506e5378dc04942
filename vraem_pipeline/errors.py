"""Errors a data engineer can act on: each names the file and, where there is one, the line and the rule."""

from __future__ import annotations

from pathlib import Path


class SourceFileError(Exception):
    """A source file that cannot be read as its agency publishes it (wrong header, missing column, bad zip…).

    The message always starts with the file so that `vraem refresh` can print it as it is.
    """

    def __init__(self, path: Path | str, problem: str, *, line: int | None = None, rule: str | None = None):
        self.path = Path(path)
        self.problem = problem
        self.line = line
        self.rule = rule
        where = f"{self.path}" + (f", línea {line}" if line is not None else "")
        tag = f" [{rule}]" if rule else ""
        super().__init__(f"{where}: {problem}{tag}")


class ReferenceDataError(SourceFileError):
    """A reference table (territory, ubigeo list…) that breaks its own rules: fails at load, naming the row."""
