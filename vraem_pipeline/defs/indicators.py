"""marts.indicadores_clave: the key figures of every topic, their reconciliation with the publication and the
warning checks across sources, in one step."""

import dagster as dg
import pandas as pd

from vraem_pipeline.core import coherence as coherence
from vraem_pipeline.core.databases import record_parameters
from vraem_pipeline.core.marts import check_columns, comment_table, mart_meta, mart_names
from vraem_pipeline.core.reconciliation import reconcile, reconcile_rankings
from vraem_pipeline.lib.dagster_support import markdown_table
from vraem_pipeline.lib.steps import Check, StepContext, single, topic_step
from vraem_pipeline.registry import TOPICS

#: Each topic of the registry writes intermedio.indicadores_<tema> (anio, indicador, valor, unidad, descripcion,
#: fuente); the key figures are their union.
TOPIC_ASSETS = [dg.AssetKey(t.key_figure_table.split(".")) for t in TOPICS]


# --- cross-source warning checks (core/coherence.py): non-blocking, the warehouse is published and
# `vraem refresh` prints each failing figure as an ADVERTENCIA

KEY_FIGURES = dg.AssetKey(["marts", "indicadores_clave"])
#: The share check reads every marts table: it runs after all of them.
OTHER_MARTS = tuple(dg.AssetKey(["marts", name]) for name in mart_names() if name != "indicadores_clave")
#: How many offending figures the check names in its metadata (and so in `vraem refresh`'s warning line).
MAX_NAMED = 20


def _result(bad, lines: list[str], **metadata) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=bad.empty,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "fallas": len(bad),
            "cifras": dg.MetadataValue.json(lines[:MAX_NAMED]),
            "detalle": markdown_table(bad, limit=100),
            **metadata,
        },
    )


def territory_not_above_national(con, years=None) -> dg.AssetCheckResult:
    bad = coherence.territory_above_national(con)
    return _result(
        bad,
        [
            f"{r.indicador} {r.anio}: territorio {r.territorio:,.2f} > nacional {r.nacional:,.2f}"
            for r in bad.itertuples(index=False)
        ],
    )


def shares_sum_to_100(con, years=None) -> dg.AssetCheckResult:
    bad = coherence.shares_not_summing_to_100(con)
    return _result(
        bad,
        [f"{r.tabla} {r.anio}: suma {r.suma_pct:.4f} %" for r in bad.itertuples(index=False)],
        tolerancia_pp=coherence.SUM_TOLERANCE_PP,
    )


def year_on_year_jumps(con, years=None) -> dg.AssetCheckResult:
    bad = coherence.year_on_year_jumps(con)
    return _result(
        bad,
        coherence.describe_jumps(bad),
        limites=dg.MetadataValue.json({lim.familia: f"{lim.limite:g} {lim.medida}" for lim in coherence.JUMP_LIMITS}),
    )


COHERENCE_CHECKS = (
    Check(
        "coherencia_territorio_no_supera_nacional",
        KEY_FIGURES,
        "Cada cifra clave del territorio con total nacional (empresas, ventas, exportaciones, crédito, PBI) no supera "
        "la del Perú, y toda participación nacional (también la del empleo) es ≤ 100 % (aviso)",
        territory_not_above_national,
    ),
    Check(
        "coherencia_participaciones_suman_100",
        KEY_FIGURES,
        "Cada bloque de participaciones (columna participacion_pct) de cada tabla de marts suma 100 % en cada año "
        "(aviso)",
        shares_sum_to_100,
        additional_deps=OTHER_MARTS,
    ),
    Check(
        "coherencia_saltos_interanuales",
        KEY_FIGURES,
        "Ninguna cifra clave varía de un año al siguiente más que el límite de su familia (meta.parametros, tema "
        "coherencia); si lo hace, nombra la cifra y los años (aviso)",
        year_on_year_jumps,
    ),
)


def indicadores_clave(step: StepContext) -> dict:
    con = step.con
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'intermedio' "
            "AND table_name LIKE 'indicadores_%' ORDER BY table_name"
        ).fetchall()
    ]
    union = " UNION ALL ".join(
        f"SELECT anio::INTEGER AS anio, indicador, valor::DOUBLE AS valor, unidad, descripcion, fuente "
        f"FROM intermedio.{t}"
        for t in tables
    )
    con.execute(
        f"CREATE OR REPLACE TABLE marts.indicadores_clave AS SELECT * FROM ({union}) "
        "WHERE valor IS NOT NULL AND isfinite(valor) ORDER BY anio, indicador"
    )
    meta = mart_meta("indicadores_clave")
    check_columns(con, "marts.indicadores_clave", meta, "indicadores_clave")
    comment_table(con, "marts.indicadores_clave", meta)
    dupes = con.execute(
        "SELECT anio, indicador, count(*) n FROM marts.indicadores_clave GROUP BY ALL HAVING n > 1"
    ).df()
    n = con.execute("SELECT count(*) FROM marts.indicadores_clave").fetchone()[0]
    # the bounds of the coherence checks (defs/coherencia.py) are published with the figures they judge
    record_parameters(con, "coherencia", coherence.parametros())
    if len(dupes):
        raise ValueError(f"indicadores_clave: códigos repetidos {dupes.to_dict('records')}")
    return {"filas": n, "temas": dg.MetadataValue.json(tables)}


def published_reconciliation(con, years=None) -> dg.AssetCheckResult:
    table = reconcile(con)
    rankings = reconcile_rankings(con)
    verdicts = pd.concat([table["coincide"], rankings["coincide"]], ignore_index=True)
    compared = verdicts[verdicts.notna()]
    return dg.AssetCheckResult(
        passed=bool(compared.astype(bool).all()),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "comparadas": len(compared),
            "coinciden": int(compared.astype(bool).sum()),
            "sin_dato": int(verdicts.isna().sum()),
            "detalle": markdown_table(table.drop(columns=["texto_publicado"]), limit=100),
            "ordenes": markdown_table(rankings.drop(columns=["texto_publicado"])),
        },
    )


step = topic_step(
    "indicadores",
    [
        single(
            dg.AssetSpec(
                KEY_FIGURES,
                deps=TOPIC_ASSETS,
                group_name="indicadores",
                kinds={"duckdb", "sql"},
                description="Cifras clave por año y código, de todos los temas disponibles",
            ),
            indicadores_clave,
            [
                Check(
                    "reconciliacion_publicado",
                    KEY_FIGURES,
                    "Compara cada cifra de la edición publicada "
                    "(publicado_vraem_2024.csv) con la calculada, a la precisión con que se imprimió",
                    published_reconciliation,
                ),
                *COHERENCE_CHECKS,
            ],
        ),
    ],
    yearly=False,
    description="Cifras clave de todos los temas y los controles entre fuentes",
)
