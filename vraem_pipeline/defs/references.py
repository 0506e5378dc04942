"""Reference tables in the warehouse: territory (configuration) and the public lookups the marts join."""

from pathlib import Path

import dagster as dg

from vraem_pipeline.core import references
from vraem_pipeline.core.databases import ensure_schemas, sha256_of
from vraem_pipeline.lib.dagster_support import POOL, OperatorDatabase, VraemConfig, operator_connection
from vraem_pipeline.registry import TOPICS


@dg.asset(
    key=["referencia", "tablas"],
    group_name="referencia",
    pool=POOL,
    kinds={"duckdb"},
    description="Territorio (VRAEM_TERRITORY) y tablas de referencia públicas: ubigeo, UIT, tipos de contribuyente",
)
def referencia_tablas(duckdb: OperatorDatabase, vraem: VraemConfig) -> dg.MaterializeResult:
    territory = references.load_territory(Path(vraem.territory))  # fails naming the row if the list is wrong
    topic_tables = {name: table for topic in TOPICS for name, table in topic.reference_tables().items()}
    with operator_connection(duckdb) as con:
        ensure_schemas(con)
        references.write_reference_tables(con, territory, vraem.territory, topic_tables)
    return dg.MaterializeResult(
        metadata={
            "territorio": vraem.territory,
            "territorio_sha256": sha256_of(Path(vraem.territory)),
            "distritos": len(territory),
            "departamentos": dg.MetadataValue.json(references.territory_departments(territory)),
        }
    )
