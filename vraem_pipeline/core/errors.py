"""Errors a data engineer can act on: each names the file and, where there is one, the line and the rule."""

from __future__ import annotations

import errno
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


#: What a full disk or a file-size limit looks like from Python (errno), from DuckDB (its IO Error carries the C
#: library's text) and from SQLite (Dagster's default instance storage).
_CAUSES = (
    (
        errno.ENOSPC,
        ("no space left on device", "database or disk is full", "disk is full"),
        "no queda espacio en el disco",
    ),
    (errno.EFBIG, ("file too large",), "el archivo supera el tamaño máximo permitido (límite del sistema, ulimit -f)"),
    (errno.EDQUOT, ("disk quota exceeded",), "se agotó la cuota de disco"),
)


def storage_cause(error: BaseException | None) -> str | None:
    """The storage cause of `error` or of an error in its chain (no space, file too large, quota), in words a
    person acts on; None when the error is not one of these."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        code = getattr(error, "errno", None)
        text = str(error).lower()
        for number, words, cause in _CAUSES:
            if code == number or any(w in text for w in words):
                return cause
        error = error.__cause__ or error.__context__
    return None


class StorageError(Exception):
    """Writing a file of the pipeline's own failed (a copy, the operator database, the analysts' file): the input
    is not to blame. The message names the file being written and the cause, so that the person knows which
    disk to free or which limit to raise."""

    def __init__(self, path: Path | str, doing: str, cause: str):
        self.path = Path(path)
        self.cause = cause
        super().__init__(f"{self.path}: {cause} al {doing}")


def raise_storage_error(error: BaseException, path: Path | str, doing: str) -> None:
    """Re-raise `error` as a `StorageError` naming `path` if it is a storage failure; otherwise do nothing (the
    caller re-raises the original)."""
    cause = storage_cause(error)
    if cause is not None:
        raise StorageError(path, doing, cause) from error
