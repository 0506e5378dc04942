"""marts.indicadores_clave: the key figures of every topic, and their reconciliation with the publication."""

import dagster as dg
import pandas as pd

from vraem_pipeline.core import coherence as coherencia
from vraem_pipeline.lib.dagster_support import markdown_table
from vraem_pipeline.defs.coherencia import CHECKS as COHERENCE_CHECKS
from vraem_pipeline.lib.steps import Check, StepContext, single, topic_step
from vraem_pipeline.core.marts import check_columns, comment_table, mart_meta
from vraem_pipeline.core.reconciliation import reconcile, reconcile_rankings
from vraem_pipeline.core.databases import record_parameters

#: Each topic writes intermedio.indicadores_<tema> (anio, indicador, valor, unidad, descripcion, fuente).
TOPIC_ASSETS = [dg.AssetKey(["intermedio", "indicadores_empresas"]), dg.AssetKey(["intermedio", "indicadores_empleo"]),
               dg.AssetKey(["intermedio", "indicadores_exportaciones"]),
               dg.AssetKey(["intermedio", "indicadores_credito"]),
               dg.AssetKey(["intermedio", "indicadores_pbi"])]


KEY_FIGURES = dg.AssetKey(["marts", "indicadores_clave"])


def indicadores_clave(step: StepContext) -> dict:
    con = step.con
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'intermedio' "
        "AND table_name LIKE 'indicadores_%' ORDER BY table_name").fetchall()]
    union = " UNION ALL ".join(
        f"SELECT anio::INTEGER AS anio, indicador, valor::DOUBLE AS valor, unidad, descripcion, fuente "
        f"FROM intermedio.{t}" for t in tables)
    con.execute(f"CREATE OR REPLACE TABLE marts.indicadores_clave AS SELECT * FROM ({union}) "
                "WHERE valor IS NOT NULL AND isfinite(valor) ORDER BY anio, indicador")
    meta = mart_meta("indicadores_clave")
    check_columns(con, "marts.indicadores_clave", meta, "indicadores_clave")
    comment_table(con, "marts.indicadores_clave", meta)
    dupes = con.execute("SELECT anio, indicador, count(*) n FROM marts.indicadores_clave GROUP BY ALL HAVING n > 1").df()
    n = con.execute("SELECT count(*) FROM marts.indicadores_clave").fetchone()[0]
    # the bounds of the coherence checks (defs/coherencia.py) are published with the figures they judge
    record_parameters(con, "coherencia", coherencia.parametros())
    if len(dupes):
        raise ValueError(f"indicadores_clave: códigos repetidos {dupes.to_dict('records')}")
    return {"filas": n, "temas": dg.MetadataValue.json(tables)}


def reconciliacion_publicado(con, years=None) -> dg.AssetCheckResult:
    table = reconcile(con)
    rankings = reconcile_rankings(con)
    verdicts = pd.concat([table["coincide"], rankings["coincide"]], ignore_index=True)
    compared = verdicts[verdicts.notna()]
    return dg.AssetCheckResult(
        passed=bool(compared.astype(bool).all()), severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "comparadas": len(compared), "coinciden": int(compared.astype(bool).sum()),
            "sin_dato": int(verdicts.isna().sum()),
            "detalle": markdown_table(table.drop(columns=["texto_publicado"]), limit=100),
            "ordenes": markdown_table(rankings.drop(columns=["texto_publicado"])),
        },
    )


indicadores = topic_step("indicadores", [
    single(dg.AssetSpec(KEY_FIGURES, deps=TOPIC_ASSETS, group_name="indicadores", kinds={"duckdb", "sql"},
                        description="Cifras clave por año y código, de todos los temas disponibles"),
           indicadores_clave,
           [Check("reconciliacion_publicado", KEY_FIGURES, "Compara cada cifra de la edición publicada "
                  "(publicado_vraem_2024.csv) con la calculada, a la precisión con que se imprimió",
                  reconciliacion_publicado),
            *COHERENCE_CHECKS]),
], yearly=False, description="Cifras clave de todos los temas y los controles entre fuentes")
