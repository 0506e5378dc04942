"""Publication: data dictionary, run record, and the atomic swap of the build over the analysts' file.

Dagster runs this asset only when everything upstream materialized — a failed blocking check upstream skips it —
so the published warehouse changes only after a fully successful run.
"""

import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from vraem_pipeline.dagster_support import POOL, VraemConfig, years_from_tags
from vraem_pipeline.defs.empleo import EMPLEO_MARTS
from vraem_pipeline.defs.empresas import EMPRESAS_MARTS
from vraem_pipeline.diccionario import write_dictionary
from vraem_pipeline.warehouse import publish, sha256_of

PUBLISHED_MARTS = [dg.AssetKey(["marts", name]) for name in [*EMPRESAS_MARTS, *EMPLEO_MARTS, "indicadores_clave"]]


@dg.asset(key=["almacen", "publicado"], deps=PUBLISHED_MARTS, pool=POOL, group_name="publicacion",
          kinds={"duckdb"}, description="Publica el archivo de construcción sobre VRAEM_WAREHOUSE (reemplazo atómico)")
def almacen_publicado(context: dg.AssetExecutionContext, duckdb: DuckDBResource, vraem: VraemConfig) -> dg.MaterializeResult:
    years = years_from_tags(context.run.tags)
    with duckdb.get_connection() as con:
        n_dic = write_dictionary(con)
        params = con.execute("SELECT tema, nombre, valor FROM meta.parametros ORDER BY ALL").fetchall()
        stats = context.instance.get_run_stats(context.run.run_id)
        started = datetime.fromtimestamp(stats.start_time, UTC).replace(tzinfo=None) if stats.start_time else None
        con.execute(
            "INSERT INTO meta.ejecuciones VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [context.run.run_id, started, datetime.now(UTC).replace(tzinfo=None), json.dumps(years), vraem.territory,
             sha256_of(Path(vraem.territory)), json.dumps([list(p) for p in params], ensure_ascii=False), "publicado"],
        )
    build = Path(duckdb.database)
    target = Path(vraem.warehouse)
    publish(build, target)
    context.log.info(f"almacén publicado: {target}")
    return dg.MaterializeResult(metadata={"almacen": str(target), "diccionario_filas": n_dic,
                                          "bytes": target.stat().st_size})
