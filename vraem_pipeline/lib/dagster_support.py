"""Dagster glue every topic shares: partitions, the pool, the operator database's run-scoped resource, progress.

Lives outside `defs/` so that `load_from_defs_folder` registers only what the defs modules build with it.
"""

import logging
import time
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pandera.pandas as pa
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from vraem_pipeline.core import lock as locking
from vraem_pipeline.core.databases import ensure_schemas, recover_files
from vraem_pipeline.core.marts import register_macros as register_sql_macros
from vraem_pipeline.core.run_copy import RunCopy
from vraem_pipeline.core.sqlrules import register_macros

#: Calendar years; the years actually run come from the data under raw/ (docs/settings-and-cli.md#settings).
YEARS = dg.TimeWindowPartitionsDefinition(start="2015", cron_schedule="0 0 1 1 *", fmt="%Y")

#: Every asset that writes the build file shares this pool; its limit is 1 (DuckDB has one writer process).
POOL = "vraem_almacen"

PROGRESS = logging.getLogger("vraem.progreso")

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


class VraemConfig(dg.ConfigurableResource):
    """Where the sources, the territory and the analysts' file are (docs/settings-and-cli.md#settings); the operator
    database is the `duckdb` resource, `temp_dir` is where DuckDB spills and where zips are decompressed, `informe_dir`
    where the report of a refresh is written."""

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
    #: How long a run waits for the refresh lock held by another process (`bloqueo.wait_for`): a run the daemon
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
        operator = Path(self.database)
        operator.parent.mkdir(parents=True, exist_ok=True)

        def warn(line: str) -> None:
            if context.log is not None:
                context.log.warning(line)
            PROGRESS.info(f"  {line}")

        locking.wait_for(self.lock_path, self.espera_bloqueo_s, warn)
        try:
            for line in recover_files(
                operator, Path(self.almacen) if self.almacen else None, dict(self.connection_config)
            ):
                warn(f"recuperado: {line}")
            run = RunCopy(operator, dict(self.connection_config), prepare=_prepare_connection).open()
            self._run = run
            try:
                yield self
            finally:
                self._run = None
                kept = run.finish()
                if kept is not None:
                    PROGRESS.info(
                        f"  la ejecución no publicó: la base de operación no cambió; lo que construyó "
                        f"(staging, cuarentena) queda en {kept} para revisarlo"
                    )
        finally:
            locking.release(self.lock_path)

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
                raise RuntimeError(
                    "este paso escribe en la base de operación después de que la ejecución publicó "
                    "(almacen/publicado ya la reemplazó): seleccione también lo que lo ordena antes "
                    "de la publicación (marts/indicadores_clave)"
                ) from exc
            raise
        return
    path = Path(duckdb.database)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_name(path.name + ".lock")
    locking.acquire(lock)
    try:
        with duckdb.get_connection() as con:
            _prepare_connection(con)
            yield con
    finally:
        locking.release(lock)


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
        columns=[
            dg.TableColumn(name, str(col.dtype), description=col.description or "")
            for name, col in schema.columns.items()
        ]
    )


def markdown_table(df, limit: int = 20) -> dg.MetadataValue:
    head = df.head(limit)
    lines = ["| " + " | ".join(map(str, head.columns)) + " |", "|" + "---|" * len(head.columns)]
    lines += ["| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |" for row in head.itertuples(index=False)]
    return dg.MetadataValue.md("\n".join(lines))
