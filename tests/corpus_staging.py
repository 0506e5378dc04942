"""The bad-input corpus's harness: one year of a national text source read → validated → staged on a tmp
operator database, exactly as `dagster_support.text_source_asset` does it, without Dagster's run machinery."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandera.pandas as pa
import pytest

from vraem_pipeline.dagster_support import _file_reads
from vraem_pipeline.errors import SourceFileError
from vraem_pipeline.sqlrules import register_macros, row_verdict, stage_text_load
from vraem_pipeline.warehouse import SourceRead, ensure_schemas, record_sources


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
    table = f"staging.{fuente}"
    reads: list[SourceRead] = []
    for source in find_year(tmp_path / "raw", anio):
        register_macros(con)
        load = source.load(con, table=f"trabajo.{fuente}", workdir=tmp_path / "tmp",
                           derived=row_verdict(schema, anio))
        staged = stage_text_load(con, load, fuente=fuente, schema=schema, table=table, anio=anio)
        reads.extend(_file_reads(con, fuente, table, anio, source, load, staged))
        load.drop(con)
    record_sources(con, fuente, [anio], reads)
    accepted = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] if reads else 0
    rows = con.execute(f"SELECT regexp_extract(archivo, '[^/]+$'), linea, regla FROM quarantine.{fuente} "
                       "ORDER BY archivo, linea").fetchall() if reads else []
    assert sum(r.leidas for r in reads) == accepted + len(rows)
    assert con.execute("SELECT coalesce(sum(filas_leidas - filas_aceptadas - filas_rechazadas), 0) "
                       "FROM meta.fuentes").fetchone()[0] == 0
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
