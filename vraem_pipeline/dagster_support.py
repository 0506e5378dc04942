"""Dagster glue shared by every source: partitions, the source-asset factory, schema checks, progress.

Lives outside `defs/` so that `load_from_defs_folder` registers only what the defs modules build with it.
"""


import logging
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd
import pandera.pandas as pa
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from vraem_pipeline.ingest import YearLoad, stage_years, validate_file
from vraem_pipeline.marts import register_macros as register_sql_macros
from vraem_pipeline.run_copy import RunCopy
from vraem_pipeline.warehouse import recover_files
from vraem_pipeline.quality import schema_failures
from vraem_pipeline.settings import pausa_de_prueba
from vraem_pipeline.sources.textfiles import ParsedText, TextLoad
from vraem_pipeline.sqlrules import (check_translatable, per_file_counts, register_macros, row_verdict, stage_text_load,
                                     table_failures)
from vraem_pipeline.warehouse import (SourceRead, create_table_from_schema, ensure_quarantine_table, ensure_schemas,
                                      record_sources)

#: Calendar years; the years actually run come from the data under raw/ (contract §1).
ANIOS = dg.TimeWindowPartitionsDefinition(start="2015", cron_schedule="0 0 1 1 *", fmt="%Y")

#: Every asset that writes the build file shares this pool; its limit is 1 (DuckDB has one writer process).
POOL = "vraem_almacen"

PROGRESS = logging.getLogger("vraem.progreso")

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


class VraemConfig(dg.ConfigurableResource):
    """Where the sources, the territory and the analysts' file are (contract §1); the operator database is the
    `duckdb` resource, `temp_dir` is where DuckDB spills and where zips are decompressed, `informe_dir` where
    the report of a refresh is written."""

    raw_dir: str
    territory: str
    warehouse: str
    temp_dir: str
    informe_dir: str = "warehouse/informe"


class OperatorDatabase(DuckDBResource):
    """The operator database as a run sees it (write-audit-publish, `run_copy.py`): when a run's resources are
    initialized it takes the refresh lock (`bloqueo`) for the whole run, recovers a publish a dead run left half
    done, and copies the operator database; every step reads and writes that copy through one connection; the
    publish step swaps it in (`publish_run`). A run that does not publish leaves the operator database as it was.

    Dagster initializes resources once per run with the in-process executor, the project's default
    (`defs/resources.py`); with a per-step process executor each step would get a copy of its own.
    `almacen` is the analysts' file, which an unfinished publish is recovered into.
    """

    almacen: str = ""
    #: How long a run waits for the refresh lock held by another process (`bloqueo.esperar`): a run the daemon
    #: launched must not fail an unattended refresh because a person ran `vraem refresh` meanwhile. Inside
    #: `vraem refresh` the lock is already this process's, so this only nests (the CLI itself refuses at once).
    espera_bloqueo_s: float = 0.0
    _run: RunCopy | None = PrivateAttr(default=None)

    @property
    def lock_path(self) -> Path:
        path = Path(self.database)
        return path.with_name(path.name + ".lock")

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext):
        from vraem_pipeline import bloqueo

        operacion = Path(self.database)
        operacion.parent.mkdir(parents=True, exist_ok=True)

        def warn(line: str) -> None:
            if context.log is not None:
                context.log.warning(line)
            PROGRESS.info(f"  {line}")

        bloqueo.esperar(self.lock_path, self.espera_bloqueo_s, warn)
        try:
            for line in recover_files(operacion, Path(self.almacen) if self.almacen else None,
                                      dict(self.connection_config)):
                warn(f"recuperado: {line}")
            run = RunCopy(operacion, dict(self.connection_config), prepare=_prepare_connection).open()
            self._run = run
            try:
                yield self
            finally:
                self._run = None
                kept = run.finish()
                if kept is not None:
                    PROGRESS.info(f"  la ejecución no publicó: la base de operación no cambió; lo que construyó "
                                  f"(staging, cuarentena) queda en {kept} para revisarlo")
        finally:
            bloqueo.liberar(self.lock_path)

    def publish_run(self) -> None:
        """Swap the run's copy in as the operator database (the publish step, once the analysts' new file is
        written)."""
        if self._run is None:
            raise RuntimeError("publish_run() fuera de una ejecución: no hay copia de la base de operación")
        self._run.swap()


def _prepare_connection(con, read_only: bool = False) -> None:
    if not read_only:
        ensure_schemas(con)
    register_sql_macros(con)
    register_macros(con)


@contextmanager
def operator_connection(duckdb: DuckDBResource):
    """A connection to the operator database with its schemas in place (any asset may be the first to run).

    Inside a run: the run's one connection to its copy (`OperatorDatabase`), left open for the next step. Called
    outside a run (a check called directly in a test, on a plain `DuckDBResource`): a connection of its own,
    holding the refresh lock while open, closed afterwards."""
    run = getattr(duckdb, "_run", None)
    if run is not None:
        try:
            yield run.connection()
        except BaseException as exc:
            run.note_failure(exc)
            if run.swapped and "read-only" in str(exc):
                raise RuntimeError("este paso escribe en la base de operación después de que la ejecución publicó "
                                   "(almacen/publicado ya la reemplazó): seleccione también lo que lo ordena antes "
                                   "de la publicación (marts/indicadores_clave)") from exc
            raise
        return
    from vraem_pipeline import bloqueo

    path = Path(duckdb.database)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_name(path.name + ".lock")
    bloqueo.adquirir(lock)
    try:
        with duckdb.get_connection() as con:
            _prepare_connection(con)
            yield con
    finally:
        bloqueo.liberar(lock)


def years_from_tags(tags: dict[str, str]) -> list[int] | None:
    if RANGE_START in tags and RANGE_END in tags:
        return list(range(int(tags[RANGE_START]), int(tags[RANGE_END]) + 1))
    if "dagster/partition" in tags:
        return [int(tags["dagster/partition"])]
    return None


def asset_years(context: dg.AssetExecutionContext) -> list[int]:
    return sorted(int(k) for k in context.partition_keys)


def progress(context, message: str, t0: float | None = None) -> None:
    """One line a person can follow: asset, year, rows, elapsed (`vraem refresh` prints these)."""
    if t0 is not None:
        message += f" ({time.perf_counter() - t0:.1f} s)"
    context.log.info(message)
    PROGRESS.info(message)


def column_schema(schema: pa.DataFrameSchema) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[dg.TableColumn(name, str(col.dtype), description=col.description or "")
                 for name, col in schema.columns.items()]
    )


def markdown_table(df, limit: int = 20) -> dg.MetadataValue:
    head = df.head(limit)
    lines = ["| " + " | ".join(map(str, head.columns)) + " |", "|" + "---|" * len(head.columns)]
    lines += ["| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |" for row in head.itertuples(index=False)]
    return dg.MetadataValue.md("\n".join(lines))


def _staging_asset(key: dg.AssetKey, schema: pa.DataFrameSchema, table: str, group: str, description: str, *,
                   kinds: set[str]):
    """The decorator every staging asset shares: yearly partitions staged in one run, the writers' pool."""
    return dg.asset(
        key=key, partitions_def=ANIOS, backfill_policy=dg.BackfillPolicy.single_run(), pool=POOL,
        group_name=group, kinds=kinds, description=description,
        metadata={"dagster/column_schema": column_schema(schema), "tabla": table},
    )


YearReader = Callable[[Path, int], list[tuple[ParsedText, str]]]


def source_asset(
    *, fuente: str, schema: pa.DataFrameSchema, read_year: YearReader, description: str, group: str,
    year_schema: Callable[[int], pa.DataFrameSchema] | None = None,
) -> tuple[dg.AssetsDefinition, dg.AssetChecksDefinition]:
    """read → validate → quarantine/stage for a source small enough for pandas (ENAHO: ~90 k rows a year), plus
    its blocking check from the same schema, run by pandera's pandas backend. National text files use
    `text_source_asset`.

    `read_year(raw_dir, anio)` returns the parsed files of that year with a note for meta.fuentes
    (an empty list when the year has none: the year's rows are then removed, never left stale).
    `year_schema(anio)` tightens the schema for one year's file (e.g. a column a given edition must carry);
    the table and its blocking check use `schema`.
    """
    table = f"staging.{fuente}"
    key = dg.AssetKey(["staging", fuente])

    @_staging_asset(key, schema, table, group, description, kinds={"duckdb", "pandas"})
    def _stage(context: dg.AssetExecutionContext, duckdb: DuckDBResource, vraem: VraemConfig) -> dg.MaterializeResult:
        years = asset_years(context)
        per_year: dict[str, dict[str, int]] = {}
        # One year at a time, staged before the next is read: only one year's frame is ever in memory.
        with operator_connection(duckdb) as con:
            for anio in years:
                t0 = time.perf_counter()
                files = read_year(Path(vraem.raw_dir), anio)
                loads: list[YearLoad] = []
                if not files:
                    progress(context, f"{fuente} {anio}: sin archivos en raw/ (el año queda sin filas)", t0)
                for parsed, nota in files:
                    load = validate_file(fuente, parsed, year_schema(anio) if year_schema else schema, anio, nota)
                    loads.append(load)
                    s = load.summary
                    progress(context, f"{fuente} {anio}: {parsed.label} leídas={s['leidas']:,} "
                                      f"aceptadas={s['aceptadas']:,} rechazadas={s['rechazadas']:,}", t0)
                stage_years(con, fuente, table, schema, [anio], loads, Path(vraem.raw_dir))
                per_year.update({str(anio): l.summary for l in loads})
                del loads, files
        return dg.MaterializeResult(metadata={
            "filas_aceptadas": sum(v["aceptadas"] for v in per_year.values()),
            "filas_rechazadas": sum(v["rechazadas"] for v in per_year.values()),
            "por_anio": dg.MetadataValue.json(per_year),
        })

    @dg.asset_check(asset=key, name="esquema", blocking=True,
                    description=f"Las filas de {table} cumplen el esquema pandera {schema.name} (bloqueante)")
    def _check(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource) -> dg.AssetCheckResult:
        years = years_from_tags(context.run.tags)
        failures, validated = [], 0
        with operator_connection(duckdb) as con:
            if years is None:
                years = [r[0] for r in con.execute(f"SELECT DISTINCT anio FROM {table} ORDER BY anio").fetchall()]
            for anio in years:  # year by year, for the same memory reason as the asset
                df = con.execute(f"SELECT * FROM {table} WHERE anio = ?", [anio]).df()
                validated += len(df)
                # A year without rows (no files delivered) is not a schema failure; the types of an empty
                # result set are DuckDB's defaults, not the schema's, so there is nothing meaningful to check.
                if len(df):
                    failures.append(schema_failures(df, schema).assign(anio=anio))
        failed = pd.concat(failures, ignore_index=True) if failures else pd.DataFrame()
        return dg.AssetCheckResult(
            passed=failed.empty,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"filas_validadas": validated, "fallas": len(failed), "muestra_de_fallas": markdown_table(failed)},
        )

    return _stage, _check


@dataclass(frozen=True)
class TextSource:
    """One national text file of a year: where it is, how its reader loads it into DuckDB, and a note."""

    path: Path
    load: Callable[..., TextLoad]  # load(con, table=…, workdir=…, derived=…) → TextLoad
    nota: str = ""


TextYearFinder = Callable[[Path, int], list[TextSource]]


def _file_reads(con, fuente: str, table: str, anio: int, source: TextSource, load, staged) -> list[SourceRead]:
    """meta.fuentes rows of a load: one file, or each file of a load that staged several (`load.archivos`)."""
    if not hasattr(load, "archivos"):
        return [SourceRead(fuente=fuente, anio=anio, path=source.path, leidas=load.rows_read,
                           aceptadas=staged.aceptadas, rechazadas=staged.rechazadas, nota=source.nota)]
    counts = per_file_counts(con, table, fuente, anio)
    reads = []
    for f in load.archivos:
        acc, rej, dup = counts.get(f.label, (0, 0, 0))
        nota = "; ".join(x for x in (source.nota, f.nota, f"{dup:,} líneas ya leídas en otro archivo" if dup else "") if x)
        reads.append(SourceRead(fuente=fuente, anio=anio, path=f.path, leidas=f.rows + f.n_bad, aceptadas=acc,
                                rechazadas=rej, nota=nota, duplicadas=dup))
    return reads


def stage_text_year(con, *, fuente: str, schema: pa.DataFrameSchema, anio: int, find_year: TextYearFinder,
                    raw_dir: Path, workdir: Path, log: Callable[[str, float], None] = lambda m, t0: None) -> dict:
    """One year of a national text source, as its staging asset does it (and the bad-input corpus, so that the two
    cannot drift): find the year's files, load each into a scratch table, validate with the schema's SQL, replace
    the year in staging and quarantine, record meta.fuentes (read = accepted + rejected per file). A year without
    files ends up with no rows, never with stale ones. Returns the year's counts and timings."""
    table = f"staging.{fuente}"
    create_table_from_schema(con, table, schema)  # later assets read it even when no year has files
    quarantine = ensure_quarantine_table(con, fuente)
    t0 = time.perf_counter()
    files = find_year(raw_dir, anio)
    summary = {"leidas": 0, "aceptadas": 0, "rechazadas": 0}
    if not files:
        log(f"{fuente} {anio}: sin archivos en raw/ (el año queda sin filas)", t0)
        for t in (table, quarantine):
            con.execute(f"DELETE FROM {t} WHERE anio = {anio}")
    reads = []
    for source in files:
        register_macros(con)
        load = source.load(con, table=f"trabajo.{fuente}", workdir=workdir, derived=row_verdict(schema, anio))
        t_read = time.perf_counter() - t0
        pausa_de_prueba("lectura")
        staged = stage_text_load(con, load, fuente=fuente, schema=schema, table=table, anio=anio)
        reads.extend(_file_reads(con, fuente, table, anio, source, load, staged))
        load.drop(con)
        summary = {"leidas": summary["leidas"] + load.rows_read, "aceptadas": summary["aceptadas"] + staged.aceptadas,
                   "rechazadas": summary["rechazadas"] + staged.rechazadas, "via": load.via,
                   "lectura_s": round(t_read, 2), **staged.segundos}
        log(f"{fuente} {anio}: {load.label} leídas={load.rows_read:,} aceptadas={staged.aceptadas:,} "
            f"rechazadas={staged.rechazadas:,}", t0)
    record_sources(con, fuente, [anio], reads, raw_dir)
    return summary


def text_source_asset(
    *, fuente: str, schema: pa.DataFrameSchema, find_year: TextYearFinder, description: str, group: str,
) -> tuple[dg.AssetsDefinition, dg.AssetChecksDefinition]:
    """read → validate → quarantine/stage for a national text source, all inside DuckDB, plus its blocking check.

    The file is loaded by DuckDB into a scratch table of the operator database, checked with the SQL of its
    pandera schema, and its year replaced in staging and quarantine in one transaction. No row passes through
    Python, so memory is DuckDB's `memory_limit` whatever the file's size.
    """
    check_translatable(schema)
    table = f"staging.{fuente}"
    key = dg.AssetKey(["staging", fuente])

    @_staging_asset(key, schema, table, group, description, kinds={"duckdb", "sql"})
    def _stage(context: dg.AssetExecutionContext, duckdb: DuckDBResource, vraem: VraemConfig) -> dg.MaterializeResult:
        per_year: dict[str, dict] = {}
        with operator_connection(duckdb) as con:
            for anio in asset_years(context):
                per_year[str(anio)] = stage_text_year(
                    con, fuente=fuente, schema=schema, anio=anio, find_year=find_year, raw_dir=Path(vraem.raw_dir),
                    workdir=Path(vraem.temp_dir) / "copias", log=lambda m, t0: progress(context, m, t0))
        return dg.MaterializeResult(metadata={
            "filas_aceptadas": sum(v["aceptadas"] for v in per_year.values()),
            "filas_rechazadas": sum(v["rechazadas"] for v in per_year.values()),
            "por_anio": dg.MetadataValue.json(per_year),
        })

    @dg.asset_check(asset=key, name="esquema", blocking=True,
                    description=f"Las filas de {table} cumplen el esquema pandera {schema.name}, verificado en SQL "
                                "dentro de la base de operación (bloqueante)")
    def _check(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource) -> dg.AssetCheckResult:
        years = years_from_tags(context.run.tags)
        with operator_connection(duckdb) as con:
            exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name || '.' || table_name = ?",
                                 [table]).fetchone()[0]
            failed = table_failures(con, table, schema, years) if exists else pd.DataFrame()
            validated = con.execute(f"SELECT count(*) FROM {table}" + (
                f" WHERE anio IN ({', '.join(map(str, years))})" if years else "")).fetchone()[0] if exists else 0
        return dg.AssetCheckResult(
            passed=failed.empty, severity=dg.AssetCheckSeverity.ERROR,
            metadata={"filas_validadas": validated, "fallas": len(failed), "muestra_de_fallas": markdown_table(failed)},
        )

    return _stage, _check


def sql_mart_assets(names: list[str], upstream: dg.AssetsDefinition, group: str) -> list[dg.AssetsDefinition]:
    """The topic's `marts.<name>` tables, each from `sql/marts/<name>.sql`, built in one step after `upstream` and
    the reference tables: one asset per table in the graph, one Dagster step per topic (a step costs ~0.5 s of
    run bookkeeping, more than most of these SQL statements)."""
    from vraem_pipeline.marts import build_mart

    specs = [dg.AssetSpec(key=["marts", name], deps=[upstream, dg.AssetKey(["referencia", "tablas"])],
                          group_name=group, kinds={"duckdb", "sql"}, description=f"marts.{name} (sql/marts/{name}.sql)")
             for name in names]

    @dg.multi_asset(specs=specs, name=f"marts_{group}", pool=POOL, can_subset=True)
    def _marts(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        with operator_connection(duckdb) as con:
            for key in sorted(context.selected_asset_keys, key=lambda k: names.index(k.path[-1])):
                yield dg.MaterializeResult(asset_key=key, metadata={"filas": build_mart(con, key.path[-1])})

    return [_marts]


def shares_check(*, on: str, blocks: dict[str, str], evolution: str, total: str, description: str) -> dg.AssetChecksDefinition:
    """Blocking check of a topic's marts: every block of shares (`blocks`: label → mart) sums to 100 % in each year
    with a total, and its total (column `total`) is the `evolution` mart's, year by year, neither side missing."""
    union = " UNION ALL ".join(
        f"SELECT '{label}' AS bloque, anio, sum(participacion_pct) AS pct, sum({total}) AS total "
        f"FROM marts.{mart} GROUP BY anio" for label, mart in blocks.items())
    sql = f"""WITH b AS ({union})
              SELECT b.bloque, coalesce(b.anio, e.anio) AS anio, b.pct, b.total, e.{total} AS total_{evolution}
              FROM b FULL JOIN marts.{evolution} AS e ON e.anio = b.anio
              WHERE (b.total > 0 AND (e.anio IS NULL OR abs(b.pct - 100) > 1e-6 OR abs(b.total - e.{total}) > 1e-6))
                 OR (b.anio IS NULL AND e.{total} > 0)"""
    others = sorted({*blocks.values(), evolution} - {on})

    @dg.asset_check(asset=dg.AssetKey(["marts", on]), name="participaciones_suman_100", blocking=True,
                    additional_deps=[dg.AssetKey(["marts", m]) for m in others], description=description)
    def _check(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        with operator_connection(duckdb) as con:
            bad = con.execute(sql).df()
        return dg.AssetCheckResult(passed=bad.empty, metadata={"bloques_con_error": markdown_table(bad)})

    return _check
