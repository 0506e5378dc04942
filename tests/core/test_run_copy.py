"""Write-audit-publish for the operator database (`run_copy.py`, `warehouse.recover_files`), on tiny hand-built
DuckDB files: what a run's copy does to the operator database in each way a run can end."""

from __future__ import annotations

import errno
from pathlib import Path

import duckdb
import pytest

from vraem_pipeline.core.databases import ensure_schemas, last_published_run, recover_files
from vraem_pipeline.core.run_copy import RunCopy, copy_path, failed_build_path, leftover_copies


def _operator(path: Path, rows: list[int], runs: list[str]) -> Path:
    con = duckdb.connect(str(path))
    ensure_schemas(con)
    con.execute("CREATE TABLE staging.t AS SELECT unnest(?) AS x", [rows])
    con.execute("CREATE TABLE marts.m AS SELECT sum(x) AS total FROM staging.t")
    for i, run in enumerate(runs):
        con.execute(
            "INSERT INTO meta.ejecuciones (run_id, fin, estado) VALUES (?, TIMESTAMP '2026-01-01' + "
            "INTERVAL (?) HOUR, 'publicado')",
            [run, i],
        )
    con.close()
    return path


def _rows(path: Path) -> list[int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return [r[0] for r in con.execute("SELECT x FROM staging.t ORDER BY x").fetchall()]
    finally:
        con.close()


def _write(run: RunCopy, value: int) -> None:
    run.connection().execute("INSERT INTO staging.t VALUES (?)", [value])


def test_a_run_that_does_not_publish_leaves_the_operator_database_byte_identical(tmp_path):
    op = _operator(tmp_path / "op.duckdb", [1, 2], [])
    before = op.read_bytes()
    run = RunCopy(op, {}).open()
    assert run.path == copy_path(op) and run.path.read_bytes() == before  # the copy starts as the original
    _write(run, 3)
    kept = run.finish()
    assert op.read_bytes() == before
    assert kept == failed_build_path(op) == tmp_path / "op.fallida.duckdb"
    assert _rows(kept) == [1, 2, 3]  # what the failed run built, for a person to read
    assert leftover_copies(op) == []


def test_publishing_swaps_the_copy_in_and_drops_an_old_failed_build(tmp_path):
    op = _operator(tmp_path / "op.duckdb", [1], [])
    failed_build_path(op).write_bytes(b"old failed build")
    run = RunCopy(op, {}).open()
    _write(run, 5)
    run.swap()
    assert _rows(op) == [1, 5] and not run.path.exists()
    assert run.finish() is None and not failed_build_path(op).exists()
    assert not op.with_name(op.name + ".wal").exists()


def test_a_storage_failure_deletes_the_copy_instead_of_keeping_it(tmp_path):
    op = _operator(tmp_path / "op.duckdb", [1], [])
    before = op.read_bytes()
    run = RunCopy(op, {}).open()
    _write(run, 2)
    run.note_failure(OSError(errno.ENOSPC, "No space left on device"))
    run.note_failure(ValueError("una regla"))  # not a storage failure: changes nothing
    assert run.finish() is None
    assert op.read_bytes() == before and not failed_build_path(op).exists() and leftover_copies(op) == []


def test_a_first_run_starts_from_an_empty_copy(tmp_path):
    op = tmp_path / "nuevo" / "op.duckdb"
    run = RunCopy(op, {}, prepare=lambda con, read_only=False: ensure_schemas(con)).open()
    run.connection().execute("CREATE TABLE staging.t AS SELECT 7 AS x")
    run.swap()
    run.finish()
    assert _rows(op) == [7]


def test_a_wal_left_by_another_tool_is_applied_before_the_copy(tmp_path):
    """A WAL of the old file must never be replayed onto the copy that replaces it: it is applied in place first."""
    op = _operator(tmp_path / "op.duckdb", [1], [])
    con = duckdb.connect(str(op))
    con.execute("SET checkpoint_threshold = '1TB'")  # keep the change in the WAL
    con.execute("INSERT INTO staging.t VALUES (9)")
    wal = op.with_name(op.name + ".wal")
    import shutil

    shutil.copyfile(op, tmp_path / "snapshot.duckdb")
    shutil.copyfile(wal, tmp_path / "snapshot.duckdb.wal")
    con.close()
    # what an unclean close looks like: the file and its WAL, not checkpointed
    shutil.copyfile(tmp_path / "snapshot.duckdb", op)
    shutil.copyfile(tmp_path / "snapshot.duckdb.wal", wal)
    run = RunCopy(op, {}).open()
    assert not wal.exists()
    _write(run, 2)
    run.swap()
    run.finish()
    assert _rows(op) == [1, 2, 9]


def test_recover_files_deletes_dead_copies_and_republishes_a_publication_the_analysts_lack(tmp_path):
    """Killed between the two renames: the operator database holds run `b`, the analysts' file only `a`."""
    op = _operator(tmp_path / "op.duckdb", [1, 2, 3], ["a", "b"])
    wh = _operator(tmp_path / "wh.duckdb", [1], ["a"])
    dead = copy_path(op, pid=999_999)
    dead.write_bytes(b"half a copy")
    lines = recover_files(op, wh, {})
    assert lines[0] == f"copia de trabajo de una ejecución interrumpida borrada: {dead}" and not dead.exists()
    assert "la publicación de la ejecución b quedó a medias" in lines[1]
    con = duckdb.connect(str(wh), read_only=True)
    try:
        assert last_published_run(con) == "b"
        assert con.execute("SELECT total FROM marts.m").fetchone()[0] == 6
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'staging'").fetchone()[0] == 0
    finally:
        con.close()
    assert recover_files(op, wh, {}) == []  # nothing left to do


def test_recover_files_leaves_an_analysts_file_that_has_the_operators_publication(tmp_path):
    op = _operator(tmp_path / "op.duckdb", [1], ["a"])
    wh = _operator(tmp_path / "wh.duckdb", [1], ["a", "b"])  # e.g. the operator database restored from a backup
    before = wh.read_bytes()
    assert recover_files(op, wh, {}) == []
    assert wh.read_bytes() == before


@pytest.mark.parametrize("runs", [[], None])
def test_recover_files_without_a_publication_does_nothing(tmp_path, runs):
    op = _operator(tmp_path / "op.duckdb", [1], runs or [])
    if runs is None:
        op.unlink()
    assert recover_files(op, tmp_path / "wh.duckdb", {}) == []
    assert not (tmp_path / "wh.duckdb").exists()
