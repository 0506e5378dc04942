import dagster as dg

from vraem_pipeline.core.databases import operator_config
from vraem_pipeline.core.settings import Settings
from vraem_pipeline.lib.dagster_support import OperatorDatabase, VraemConfig


@dg.definitions
def resources() -> dg.Definitions:
    """Settings are read when the definitions load (never at import of an asset module, never opening a file).

    Every job runs in-process: one writer of DuckDB, and the operator database's resource is initialized once per
    run (its copy of the database lives for the whole run)."""
    settings = Settings.from_env()
    return dg.Definitions(
        executor=dg.in_process_executor,
        resources={
            # Assets write the run's copy of the operator database; `publicacion` writes the analysts' file from
            # it and swaps the copy in (write-audit-publish).
            "duckdb": OperatorDatabase(
                database=str(settings.operator),
                almacen=str(settings.warehouse),
                espera_bloqueo_s=settings.espera_bloqueo_s,
                connection_config=operator_config(settings.memoria, settings.temp_dir),
            ),
            "vraem": VraemConfig(
                raw_dir=str(settings.raw_dir),
                territory=str(settings.territory),
                warehouse=str(settings.warehouse),
                temp_dir=str(settings.temp_dir),
                informe_dir=str(settings.informe_dir),
            ),
        },
    )
