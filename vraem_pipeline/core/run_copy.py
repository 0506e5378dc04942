"""Write-audit-publish for the operator database: a run works on its own copy, swapped in when it publishes.

The operator database keeps every year ever refreshed (staging, quarantine, intermedio and the marts/meta/
referencia the analysts' file is published from). A refresh used to write it step by step, so a run that the
publish guard stopped — or one killed half way — had already replaced years of staging with what it read, and
the next partial refresh built its marts on them. Now a run

1. copies the operator database to `.<name>.<pid>.ejecucion` beside it, holding the refresh
   lock, so that nothing else writes the original meanwhile;
2. reads, validates, stages and builds everything in that copy, through one connection for the whole run;
3. when the publish step has checked everything and written the analysts' new file, checkpoints and closes the
   copy and renames it over the operator database (`os.replace`: atomic on one filesystem), then swaps the
   analysts' file in.

A failed, stopped or killed run leaves the operator database byte for byte as it was; its copy is deleted at the
end of the run, or by the next run if the process died. A rename was chosen over one DuckDB transaction spanning
the run: in DuckDB any error aborts the transaction, and readers fall back on purpose after a DuckDB error (a
CSV with mixed line ends is read again through a copy). The cost is one file copy per run (~2 s a GB, measured),
and the disk needs room for a second operator database while a run lasts.

If the process dies between the two renames, the operator database holds a published run that the analysts'
file lacks: `recover_publication` (called at the start of the next run, holding the lock) publishes it again
from the operator database, which is the build the analysts' file is made from.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from vraem_pipeline.core.errors import StorageError, raise_storage_error, storage_cause

SUFFIX = ".ejecucion"


def copy_path(operator: Path, pid: int | None = None) -> Path:
    return operator.with_name(f".{operator.name}.{pid or os.getpid()}{SUFFIX}")


def failed_build_path(operator: Path) -> Path:
    """Where the build of the last run that did not publish is kept for diagnosis (its staging and quarantine):
    `vraem_operacion.fallida.duckdb` beside `vraem_operacion.duckdb`."""
    return operator.with_name(f"{operator.stem}.fallida{operator.suffix or '.duckdb'}")


def leftover_copies(operator: Path) -> list[Path]:
    """Run copies (and their WAL) beside the operator database: only the lock holder may delete them."""
    folder = operator.parent
    if not folder.is_dir():
        return []
    prefix = f".{operator.name}."
    return sorted(
        p
        for p in folder.iterdir()
        if p.name.startswith(prefix) and p.name.endswith((SUFFIX, SUFFIX + ".wal")) and p.is_file()
    )


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


class RunCopy:
    """The operator database as one run sees it. Not thread-safe: Dagster's in-process executor runs a run's
    steps one after another in one thread (the project's default executor)."""

    def __init__(self, operator: Path, config: dict[str, str], prepare=None):
        self.operator = Path(operator)
        self.path = copy_path(self.operator)
        self.config = dict(config)
        self.prepare = prepare  # called with each new connection (schemas, macros)
        self._con: duckdb.DuckDBPyConnection | None = None
        self.swapped = False
        self.storage_failed = False  # a step met a full disk or a file-size limit: the copy is not kept

    def note_failure(self, error: BaseException) -> None:
        """A step failed using the copy; a storage failure means the copy must not be kept (`finish`)."""
        if storage_cause(error) is not None:
            self.storage_failed = True

    # -- lifecycle ------------------------------------------------------------------------------------------
    def open(self) -> RunCopy:
        """Copy the operator database (the caller holds the refresh lock) and connect to the copy."""
        self.operator.parent.mkdir(parents=True, exist_ok=True)
        for stale in (self.path, _wal(self.path)):
            stale.unlink(missing_ok=True)
        try:
            if _wal(self.operator).exists():
                # An unclean close by another tool: apply its WAL in place first (the logical content does not
                # change), so that no WAL of the old file can ever be replayed onto the copy that replaces it.
                duckdb.connect(str(self.operator), config=self.config).close()
            if self.operator.exists():
                shutil.copyfile(self.operator, self.path)
        except (OSError, duckdb.Error) as err:
            self.discard()
            raise_storage_error(err, self.path, "copiar la base de operación para esta ejecución")
            raise
        return self

    def connection(self) -> duckdb.DuckDBPyConnection:
        """The run's one connection (to the copy; after the swap, read-only to the operator database), handed over
        with no result pending: a step that read one row of a result (`fetchone`) leaves it unfinished, and DuckDB
        refuses the next step's `register` on the same connection until it is."""
        if self._con is not None:
            self._con.abort()
        if self._con is None:
            if self.swapped:
                self._con = duckdb.connect(str(self.operator), read_only=True)
            else:
                self._con = duckdb.connect(str(self.path), config=self.config)
            if self.prepare is not None:
                self.prepare(self._con, read_only=self.swapped)
        return self._con

    def close(self) -> None:
        if self._con is not None:
            try:
                self._con.close()
            finally:
                self._con = None

    def swap(self) -> None:
        """Make the copy the operator database: checkpoint, close, fsync, rename, fsync the folder. A failure
        before the rename leaves the operator database as it was (the copy is discarded at the end of the run)."""
        con = self.connection()
        try:
            con.execute("CHECKPOINT")
            self.close()
            with open(self.path, "rb+") as fh:
                os.fsync(fh.fileno())
        except (OSError, duckdb.Error) as err:
            self.close()
            raise_storage_error(err, self.path, "cerrar la copia de la base de operación")
            raise
        if _wal(self.path).exists() or _wal(self.operator).exists():  # checkpointed and closed: there is none
            raise StorageError(_wal(self.path), "publicar la base de operación", "quedó un WAL sin aplicar")
        os.replace(self.path, self.operator)
        _fsync_dir(self.operator.parent)
        self.swapped = True

    def discard(self) -> None:
        """End of a run that did not publish: the copy goes, the operator database was never touched. Never
        raises for the copy's own state (a full disk may have left DuckDB unable even to close it cleanly)."""
        try:
            self.close()
        except duckdb.Error:
            pass
        if not self.swapped:
            for path in (self.path, _wal(self.path)):
                path.unlink(missing_ok=True)

    def finish(self) -> Path | None:
        """End of the run. Published: the build of an earlier failed run is no longer of interest and goes. Not
        published: the copy is kept as the failed build (`failed_build_path`, replacing the previous one) so that
        a data engineer can read the quarantine and staging of the run that failed — unless the run failed on
        storage (full disk, file-size limit) or the disk has less free room than the copy takes: a full disk must
        not stay full. Returns where it was kept, if it was."""
        failed = failed_build_path(self.operator)
        if self.swapped:
            self.close()
            failed.unlink(missing_ok=True)
            return None
        try:
            self.close()
            kept = (
                not self.storage_failed
                and self.path.exists()
                and not _wal(self.path).exists()
                and shutil.disk_usage(self.path.parent).free >= self.path.stat().st_size
            )
        except (OSError, duckdb.Error):
            kept = False
        if not kept:
            self.discard()
            return None
        os.replace(self.path, failed)
        return failed
