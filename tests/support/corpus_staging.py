"""The bad-input corpus's harness: one year of a national text source found, read, validated and staged on a tmp
operator database by the staging asset's own code (`dagster_support.stage_text_year`), without Dagster's run
machinery."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandera.pandas as pa
import pytest

from vraem_pipeline.core.databases import SourceRead, ensure_schemas
from vraem_pipeline.core.errors import SourceFileError
from vraem_pipeline.core.ingest import stage_text_year
from vraem_pipeline.core.marts import register_macros as register_sql_macros
from vraem_pipeline.core.sqlrules import register_macros


@dataclass
class Outcome:
    """What a data engineer finds after the year: staged rows, quarantined (file, line, rule), meta.fuentes."""

    accepted: int
    rejected: int
    quarantine: list[tuple[str, int, str]]
    reads: list[SourceRead]
    con: duckdb.DuckDBPyConnection


def stage_year(tmp_path: Path, fuente: str, schema: pa.DataFrameSchema, anio: int, find_year) -> Outcome:
    """Find, load, validate and stage one year; every file's meta.fuentes row obeys read = accepted + rejected
    (`SourceRead` refuses any other), and so do the year's totals."""
    con = duckdb.connect(str(tmp_path / "operacion.duckdb"))
    ensure_schemas(con)
    register_sql_macros(con)
    register_macros(con)
    stage_text_year(
        con,
        fuente=fuente,
        schema=schema,
        anio=anio,
        find_year=find_year,
        raw_dir=tmp_path / "raw",
        workdir=tmp_path / "tmp",
    )
    table = f"staging.{fuente}"
    reads = [
        SourceRead(
            fuente=fuente,
            anio=anio,
            path=Path(a),
            read_rows=r,
            accepted_rows=acc,
            rejected_rows=rej,
            duplicate_rows=dup or 0,
            nota=nota or "",
        )
        for a, r, acc, rej, dup, nota in con.execute(
            "SELECT archivo, filas_leidas, filas_aceptadas, filas_rechazadas, filas_duplicadas, nota "
            "FROM meta.fuentes WHERE fuente = ? AND anio = ? ORDER BY archivo",
            [fuente, anio],
        ).fetchall()
    ]
    accepted = con.execute(f"SELECT count(*) FROM {table} WHERE anio = ?", [anio]).fetchone()[0]
    rows = con.execute(
        f"SELECT regexp_extract(archivo, '[^/]+$'), linea, regla FROM quarantine.{fuente} "
        "WHERE anio = ? ORDER BY archivo, linea",
        [anio],
    ).fetchall()
    assert sum(r.read_rows for r in reads) == accepted + len(rows)
    assert (
        con.execute(
            "SELECT coalesce(sum(filas_leidas - filas_aceptadas - filas_rechazadas), 0) FROM meta.fuentes"
        ).fetchone()[0]
        == 0
    )
    if (tmp_path / "tmp").exists():
        assert not any(p.name.startswith("vraem_") for p in (tmp_path / "tmp").glob("*"))  # temp copies removed
    return Outcome(accepted, len(rows), rows, reads, con)


def assert_file_error(call, *, name: str, rule: str, line: int | None, says: str) -> SourceFileError:
    """The asset's failure as the user reads it: one line, starting with the file, with its line and rule."""
    with pytest.raises(SourceFileError) as info:
        call()
    err = info.value
    message = str(err)
    assert (err.rule, err.line) == (rule, line), message
    assert name in str(err.path).rsplit("/", 1)[-1], message
    assert message.startswith(str(err.path)) and "\n" not in message and "Traceback" not in message
    assert says in message, message
    return err
