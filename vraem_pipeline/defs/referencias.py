"""Reference tables in the warehouse: territory (configuration) and the public lookups the marts join."""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from vraem_pipeline.core import references as referencia
from vraem_pipeline.lib.dagster_support import operator_connection, POOL, VraemConfig
from vraem_pipeline.core.databases import ensure_schemas, sha256_of, write_reference_tables


@dg.asset(key=["referencia", "tablas"], group_name="referencia", pool=POOL, kinds={"duckdb"},
          description="Territorio (VRAEM_TERRITORY) y tablas de referencia públicas: ubigeo, UIT, tipos de contribuyente")
def referencia_tablas(context: dg.AssetExecutionContext, duckdb: DuckDBResource, vraem: VraemConfig) -> dg.MaterializeResult:
    territory = referencia.load_territory(Path(vraem.territory))  # fails naming the row if the list is wrong
    with operator_connection(duckdb) as con:
        ensure_schemas(con)
        write_reference_tables(con, territory, vraem.territory)
    return dg.MaterializeResult(metadata={
        "territorio": vraem.territory, "territorio_sha256": sha256_of(Path(vraem.territory)),
        "distritos": len(territory), "departamentos": dg.MetadataValue.json(referencia.territory_departments(territory)),
    })
