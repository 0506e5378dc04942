"""The two DuckDB files and the publication: the only code that writes them.

Assets write the operator database (staging, quarantine, intermediate tables; every year ever refreshed, so a
refresh of one year leaves the others in place). Analysts only ever open the published file: once every
blocking check of a run passed, `publish` writes the aggregates (marts, meta, referencia) into a new file
beside it and swaps it in with an atomic `os.replace`. An analyst who had the old file open keeps reading the
old inode; a failed refresh never touches the published bytes; and no row-level data — no natural person's
RUC 10 or DNI — is ever copied into the analysts' file, which stays small.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pandera.pandas as pa

from vraem_pipeline.core.errors import raise_storage_error
from vraem_pipeline.core.quality import QUARANTINE_COLUMNS
from vraem_pipeline.core.run_copy import leftover_copies
from vraem_pipeline.core.settings import STORAGE_COMPATIBILITY_VERSION, pause_for_test
from vraem_pipeline.core.sqltext import sql_literal

SCHEMAS = ("staging", "quarantine", "marts", "meta", "referencia", "intermedio", "trabajo")

#: What the analysts' file holds (docs/architecture.md#two-databases): aggregates and their descriptions, nothing
#: row-level.
PUBLISHED_SCHEMAS = ("marts", "meta", "referencia")

CONNECTION_CONFIG = {"storage_compatibility_version": STORAGE_COMPATIBILITY_VERSION}


def operator_config(memoria: str, temp_dir: Path | str) -> dict[str, str]:
    """DuckDB settings of a refresh: the memory limit (`VRAEM_MEMORIA`) and where to spill beyond it."""
    return {**CONNECTION_CONFIG, "memory_limit": memoria, "temp_directory": str(temp_dir)}


def connect(path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    if read_only:
        return duckdb.connect(str(path), read_only=True)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), config=dict(CONNECTION_CONFIG))


def ensure_schemas(con: duckdb.DuckDBPyConnection) -> None:
    for schema in SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    con.execute(
        """CREATE TABLE IF NOT EXISTS meta.fuentes (
            fuente VARCHAR, anio INTEGER, archivo VARCHAR, sha256 VARCHAR, bytes BIGINT,
            filas_leidas BIGINT, filas_aceptadas BIGINT, filas_rechazadas BIGINT,
            leido_en TIMESTAMP, nota VARCHAR, filas_duplicadas BIGINT)"""
    )
    # operator databases written before the column existed
    con.execute("ALTER TABLE meta.fuentes ADD COLUMN IF NOT EXISTS filas_duplicadas BIGINT")
    con.execute(
        """CREATE TABLE IF NOT EXISTS meta.ejecuciones (
            run_id VARCHAR, inicio TIMESTAMP, fin TIMESTAMP, anios VARCHAR, territorio VARCHAR,
            territorio_sha256 VARCHAR, parametros VARCHAR, estado VARCHAR)"""
    )
    con.execute(
        """CREATE TABLE IF NOT EXISTS meta.parametros (
            tema VARCHAR, nombre VARCHAR, valor VARCHAR, descripcion VARCHAR)"""
    )


# --- DDL from pandera schemas: one place for column types and descriptions ---------------------------------

_DUCKDB_TYPES = {
    "str": "VARCHAR",
    "string": "VARCHAR",
    "object": "VARCHAR",
    "int64": "BIGINT",
    "Int64": "BIGINT",
    "int32": "INTEGER",
    "Int32": "INTEGER",
    "int16": "SMALLINT",
    "Int16": "SMALLINT",
    "int8": "TINYINT",
    "Int8": "TINYINT",
    "float64": "DOUBLE",
    "Float64": "DOUBLE",
    "float32": "FLOAT",
    "bool": "BOOLEAN",
    "boolean": "BOOLEAN",
    "datetime64[ns]": "TIMESTAMP",
    "date": "DATE",
}


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """`schema.table` exists in the connection's database (steps that read what an optional source wrote)."""
    schema, name = table.split(".")
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?", [schema, name]
        ).fetchone()[0]
    )


def duckdb_type(column: pa.Column) -> str:
    name = str(column.dtype)
    if name.startswith("string") or name == "str":
        return "VARCHAR"
    if name not in _DUCKDB_TYPES:
        raise TypeError(f"sin tipo DuckDB para la columna {column.name!r} ({name})")
    return _DUCKDB_TYPES[name]


def create_table_from_schema(con: duckdb.DuckDBPyConnection, table: str, schema: pa.DataFrameSchema) -> None:
    """Create `table` (if absent) with the schema's columns and types, and comment it from the schema."""
    cols = ", ".join(f'"{name}" {duckdb_type(col)}' for name, col in schema.columns.items())
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({cols})")
    if schema.description:
        con.execute(f"COMMENT ON TABLE {table} IS {sql_literal(schema.description)}")
    for name, col in schema.columns.items():
        if col.description:
            con.execute(f'COMMENT ON COLUMN {table}."{name}" IS {sql_literal(col.description)}')


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN … COMMIT, ROLLBACK on error. The error raised is always the first one: after a failed COMMIT DuckDB
    has already ended the transaction, and a ROLLBACK would hide the real cause (a full disk) behind "cannot
    rollback - no transaction is active"."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        with suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise
    try:
        con.execute("COMMIT")
    except duckdb.Error:
        with suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise


def replace_years(
    con: duckdb.DuckDBPyConnection,
    table: str,
    years: Iterable[int],
    df: pd.DataFrame,
    schema: pa.DataFrameSchema | None = None,
) -> int:
    """Idempotent partition write: in one transaction, delete the years and insert them again."""
    years = sorted(set(int(y) for y in years))
    return _replace_rows(con, table, df, schema, f"anio IN ({','.join(map(str, years)) or 'NULL'})")


def _replace_rows(
    con: duckdb.DuckDBPyConnection, table: str, df: pd.DataFrame, schema: pa.DataFrameSchema | None, where: str
) -> int:
    if schema is not None:
        create_table_from_schema(con, table, schema)
        # Optional columns (e.g. ENAHO's ocupinf, absent from 2024) stay NULL for the years that lack them.
        df = df[[c for c in schema.columns if c in df.columns]]
    else:
        con.register("_vraem_new", df.head(0))
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM _vraem_new")
        con.unregister("_vraem_new")
    with transaction(con):
        con.execute(f"DELETE FROM {table} WHERE {where}")
        if len(df):
            con.register("_vraem_new", df)
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _vraem_new")
            con.unregister("_vraem_new")
    return len(df)


def ensure_quarantine_table(con: duckdb.DuckDBPyConnection, fuente: str) -> str:
    table = f"quarantine.{fuente}"
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {table} (anio INTEGER, archivo VARCHAR, linea BIGINT, regla VARCHAR,
            columna VARCHAR, valor VARCHAR, registro_crudo VARCHAR)"""
    )
    comment = f"Filas rechazadas de la fuente {fuente}: archivo, línea, regla incumplida y valores crudos"
    con.execute(f"COMMENT ON TABLE {table} IS {sql_literal(comment)}")
    return table


def replace_quarantine(con: duckdb.DuckDBPyConnection, fuente: str, years: Iterable[int], df: pd.DataFrame) -> int:
    table = ensure_quarantine_table(con, fuente)
    return replace_years(con, table, years, df[QUARANTINE_COLUMNS])


# --- meta.fuentes ---------------------------------------------------------------------------------------------


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class SourceRead:
    """Row accounting of one source file: read = accepted + rejected, or the asset fails."""

    fuente: str
    anio: int | None  # None: a file that is not one year's delivery (INEI's GDP workbook covers 2007 on)
    path: Path
    read_rows: int
    accepted_rows: int
    rejected_rows: int
    nota: str = ""
    duplicate_rows: int = 0  # of the rejected, lines already read in another file of the year (counted once)

    def __post_init__(self) -> None:
        if self.read_rows != self.accepted_rows + self.rejected_rows:
            raise AssertionError(
                f"{self.path}: filas leídas {self.read_rows} ≠ aceptadas {self.accepted_rows} "
                f"+ rechazadas {self.rejected_rows}"
            )


_SOURCES_COLUMNS = [
    "fuente",
    "anio",
    "archivo",
    "sha256",
    "bytes",
    "filas_leidas",
    "filas_aceptadas",
    "filas_rechazadas",
    "leido_en",
    "nota",
    "filas_duplicadas",
]


def record_sources(
    con: duckdb.DuckDBPyConnection,
    fuente: str,
    years: Iterable[int],
    reads: list[SourceRead],
    raw_dir: Path | None = None,
) -> None:
    """meta.fuentes of a yearly source: the rows of those years replaced by the files just read (`archivo`
    relative to `raw_dir`)."""
    years = sorted(set(int(y) for y in years))
    _write_sources(con, fuente, reads, f"anio IN ({','.join(map(str, years))})", raw_dir)


def replace_source_files(
    con: duckdb.DuckDBPyConnection, fuente: str, reads: list[SourceRead], raw_dir: Path | None = None
) -> None:
    """meta.fuentes for a source read whole on every refresh (not by year): its rows are replaced as a whole,
    so a file no longer used (an older edition) does not stay listed."""
    _write_sources(con, fuente, reads, "true", raw_dir)


def relative_to_raw(path: Path, raw_dir: Path | None) -> str:
    """A source file as `meta.fuentes` publishes it: relative to raw/ (the analysts' file must not hold the
    operator's folders), as given when it lies elsewhere."""
    if raw_dir is not None:
        try:
            return Path(path).resolve().relative_to(Path(raw_dir).resolve()).as_posix()
        except ValueError:
            pass
    return str(path)


def _write_sources(
    con: duckdb.DuckDBPyConnection, fuente: str, reads: list[SourceRead], where: str, raw_dir: Path | None
) -> None:
    rows = pd.DataFrame(
        [
            {
                "fuente": r.fuente,
                "anio": r.anio,
                "archivo": relative_to_raw(r.path, raw_dir),
                "sha256": sha256_of(r.path),
                "bytes": r.path.stat().st_size,
                "filas_leidas": r.read_rows,
                "filas_aceptadas": r.accepted_rows,
                "filas_rechazadas": r.rejected_rows,
                "leido_en": datetime.now(UTC).replace(tzinfo=None),
                "nota": r.nota,
                "filas_duplicadas": r.duplicate_rows,
            }
            for r in reads
        ],
        columns=_SOURCES_COLUMNS,
    ).astype({"anio": "Int64"})
    with transaction(con):
        con.execute(f"DELETE FROM meta.fuentes WHERE fuente = ? AND {where}", [fuente])
        if len(rows):
            con.register("_vraem_fuentes", rows)
            con.execute("INSERT INTO meta.fuentes BY NAME SELECT * FROM _vraem_fuentes")
            con.unregister("_vraem_fuentes")


def replace_years_from_sql(
    con: duckdb.DuckDBPyConnection, table: str, select: str, params: dict, years: list[int]
) -> None:
    """A row-level derived table (`intermedio`) that keeps every year ever refreshed: created from `select`'s
    shape if absent, then the `years` deleted and selected again in one transaction."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM ({select}) WHERE false", params)
    with transaction(con):
        con.execute(f"DELETE FROM {table} WHERE anio IN ({','.join(map(str, years))})")
        con.execute(f"INSERT INTO {table} {select}", params)


def replace_all_rows(
    con: duckdb.DuckDBPyConnection, table: str, df: pd.DataFrame, schema: pa.DataFrameSchema | None = None
) -> int:
    """Replace every row of `table` in one transaction: for a source whose newest edition replaces the whole
    series (INEI's GDP), where a year-by-year replace would mix editions."""
    return _replace_rows(con, table, df, schema, "true")


def record_parameters(con: duckdb.DuckDBPyConnection, tema: str, params: dict[str, tuple[object, str]]) -> None:
    """Every definition that is a choice lands next to the data it shaped (`meta.parametros`)."""
    con.execute("DELETE FROM meta.parametros WHERE tema = ?", [tema])
    for nombre, (valor, descripcion) in params.items():
        con.execute(
            "INSERT INTO meta.parametros VALUES (?, ?, ?, ?)",
            [tema, nombre, json.dumps(valor, ensure_ascii=False, default=str), descripcion],
        )


# --- publication ------------------------------------------------------------------------------------------------


def published_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str | None]]:
    return con.execute(
        f"""SELECT schema_name, table_name, comment FROM duckdb_tables()
            WHERE database_name = current_database() AND schema_name IN {PUBLISHED_SCHEMAS}
            ORDER BY schema_name, table_name"""
    ).fetchall()


def _published_tmp(published: Path) -> Path:
    return published.with_name(f".{published.name}.{os.getpid()}.tmp")


def write_published_file(con: duckdb.DuckDBPyConnection, published: Path) -> tuple[Path, int]:
    """Write marts, meta and referencia of `con` into a new file beside `published` (same folder ⇒ same
    filesystem ⇒ the swap is a rename), fsynced but not in place yet: (its path, number of tables).

    On any failure the new file and its WAL are removed — a full disk must not keep the analysts' disk full — and
    a storage failure is named as such (`StorageError`: the file being written and the cause)."""
    published.parent.mkdir(parents=True, exist_ok=True)
    tmp = _published_tmp(published)
    for stale in (tmp, tmp.with_name(tmp.name + ".wal")):
        stale.unlink(missing_ok=True)
    tables = published_tables(con)
    attached = False
    try:
        version = sql_literal(STORAGE_COMPATIBILITY_VERSION)
        con.execute(f"ATTACH {sql_literal(str(tmp))} AS publicado (STORAGE_VERSION {version})")
        attached = True
        for schema in PUBLISHED_SCHEMAS:
            con.execute(f"CREATE SCHEMA publicado.{schema}")
        for schema, name, comment in tables:
            con.execute(f"CREATE TABLE publicado.{schema}.{name} AS FROM {schema}.{name}")
            pause_for_test("publicacion")
            if comment:
                con.execute(f"COMMENT ON TABLE publicado.{schema}.{name} IS {sql_literal(comment)}")
            for column, col_comment in con.execute(
                "SELECT column_name, comment FROM duckdb_columns() WHERE database_name = current_database() "
                "AND schema_name = ? AND table_name = ? AND comment IS NOT NULL",
                [schema, name],
            ).fetchall():
                con.execute(f'COMMENT ON COLUMN publicado.{schema}.{name}."{column}" IS {sql_literal(col_comment)}')
        con.execute("DETACH publicado")
        attached = False
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
    except BaseException as err:
        if attached:
            with suppress(duckdb.Error):
                con.execute("DETACH publicado")
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
        if isinstance(err, (OSError, duckdb.Error)):
            raise_storage_error(err, tmp, "escribir el almacén nuevo de los analistas")
        raise
    return tmp, len(tables)


def replace_published(tmp: Path, published: Path) -> None:
    """Swap the new analysts' file in: a rename, then the folder's entry made durable."""
    os.replace(tmp, published)
    dir_fd = os.open(published.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def publish(con: duckdb.DuckDBPyConnection, published: Path) -> int:
    """Write the analysts' file from `con` and swap it in; returns the number of tables published."""
    tmp, n = write_published_file(con, published)
    replace_published(tmp, published)
    return n


def last_published_run(con: duckdb.DuckDBPyConnection, database: str | None = None) -> str | None:
    """run_id of the newest publication recorded in `meta.ejecuciones` of `database` (default: the main one)."""
    db = database or con.execute("SELECT current_database()").fetchone()[0]
    if not con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'meta' "
        "AND table_name = 'ejecuciones'",
        [db],
    ).fetchone()[0]:
        return None
    row = con.execute(
        f"SELECT run_id FROM \"{db}\".meta.ejecuciones WHERE estado = 'publicado' ORDER BY fin DESC NULLS LAST LIMIT 1"
    ).fetchone()
    return row[0] if row else None


def _published_runs(path: Path) -> set[str] | None:
    """Run ids recorded in the analysts' file; None when it cannot be opened."""
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        if not table_exists(con, "meta.ejecuciones"):
            return set()
        return {r[0] for r in con.execute("SELECT run_id FROM meta.ejecuciones").fetchall()}
    finally:
        con.close()


def recover_files(operator: Path, published: Path | None, config: dict[str, str]) -> list[str]:
    """Clean up after a run that died, holding the refresh lock (so no run of this operator database is alive):
    its copy of the operator database goes; and if it died between the two renames of a publish, the operator
    database holds a publication the analysts' file lacks, which is published again from it. Returns one line
    per thing done."""
    lines = []
    for path in leftover_copies(operator):
        path.unlink(missing_ok=True)
        lines.append(f"copia de trabajo de una ejecución interrumpida borrada: {path}")
    if published is None or not operator.exists():
        return lines
    con = duckdb.connect(str(operator), config=dict(config))
    try:
        run_id = last_published_run(con)
        if run_id is None:
            return lines
        runs = _published_runs(published) if published.exists() else set()
        if runs is not None and run_id in runs:
            return lines
        publish(con, published)
    finally:
        con.close()
    lines.append(
        f"la publicación de la ejecución {run_id} quedó a medias: {published} se publicó de nuevo desde la "
        "base de operación"
    )
    return lines
