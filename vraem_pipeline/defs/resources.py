import dagster as dg
from dagster_duckdb import DuckDBResource

from vraem_pipeline.dagster_support import VraemConfig
from vraem_pipeline.settings import Settings
from vraem_pipeline.warehouse import CONNECTION_CONFIG


@dg.definitions
def resources() -> dg.Definitions:
    """Settings are read when the definitions load (never at import of an asset module, never opening a file)."""
    settings = Settings.from_env()
    return dg.Definitions(
        resources={
            # Assets only ever write the build file; `publicacion` swaps it over the analysts' warehouse.
            "duckdb": DuckDBResource(database=str(settings.build_path), connection_config=dict(CONNECTION_CONFIG)),
            "vraem": VraemConfig(raw_dir=str(settings.raw_dir), territory=str(settings.territory),
                                 warehouse=str(settings.warehouse)),
        }
    )
