import dagster as dg
from dagster_duckdb import DuckDBResource

from vraem_pipeline.dagster_support import VraemConfig
from vraem_pipeline.settings import Settings
from vraem_pipeline.warehouse import operator_config


@dg.definitions
def resources() -> dg.Definitions:
    """Settings are read when the definitions load (never at import of an asset module, never opening a file)."""
    settings = Settings.from_env()
    return dg.Definitions(
        resources={
            # Assets write the operator database only; `publicacion` writes the analysts' file from it.
            "duckdb": DuckDBResource(database=str(settings.operacion),
                                     connection_config=operator_config(settings.memoria, settings.temp_dir)),
            "vraem": VraemConfig(raw_dir=str(settings.raw_dir), territory=str(settings.territory),
                                 warehouse=str(settings.warehouse), temp_dir=str(settings.temp_dir),
                                 informe_dir=str(settings.informe_dir)),
        }
    )
