"""Customs exports: Aduanet weekly DBFs and the pipe delivery → export lines → the `exportaciones_*` marts."""

import time

import dagster as dg
import pandas as pd

from vraem_pipeline import empresas, exportaciones
from vraem_pipeline.core.databases import record_parameters, replace_years_from_sql
from vraem_pipeline.core.marts import growth_rows, sql_text, topic_marts
from vraem_pipeline.exportaciones.inputs import find_exportaciones_year
from vraem_pipeline.exportaciones.rules import PARAMETERS, WARNINGS, fob_shares
from vraem_pipeline.lib.dagster_support import markdown_table
from vraem_pipeline.lib.steps import Check, StepContext, mart_part, shares_check, single, text_source_part, topic_step

GROUP = "exportaciones"
SOURCE = "SUNAT, Aduanas: exportaciones definitivas línea por línea (Aduanet x*.zip y entrega en texto)"

STAGING = dg.AssetKey.from_user_string(exportaciones.EXPORTACIONES.asset)
LINES = dg.AssetKey(["intermedio", "exportaciones"])
PADRON = dg.AssetKey.from_user_string(empresas.PADRON.asset)
REFERENCIA = dg.AssetKey(["referencia", "tablas"])


def export_lines(step: StepContext) -> dict:
    t0 = time.perf_counter()
    years, con = step.years, step.con
    replace_years_from_sql(
        con, "intermedio.exportaciones", sql_text("intermedio/exportaciones.sql"), {"anios": years}, years
    )
    record_parameters(con, "exportaciones", PARAMETERS)
    counts = con.execute(
        f"""SELECT anio, count(*) AS series, round(sum(fob_usd)::DOUBLE / 1e6, 1) AS fob_millones_usd
            FROM intermedio.exportaciones WHERE anio IN ({",".join(map(str, years))}) GROUP BY anio ORDER BY anio"""
    ).df()
    step.progress_years(
        "exportaciones",
        [
            f"exportaciones {row.anio}: {row.series:,} series, US$ {row.fob_millones_usd:,} millones (nacional)"
            for row in counts.itertuples()
        ],
        t0,
    )
    return {"por_anio": markdown_table(counts)}


def _warning(name: str):
    """The warning check `name` of `WARNINGS`: a share of the year's FOB from intermedio.exportaciones."""
    _, where, scopes, limit, detail_sql = WARNINGS[name]

    def run(con, years: list[int] | None) -> dg.AssetCheckResult:
        shares = pd.concat([fob_shares(con, years, where, s) for s in scopes], ignore_index=True)
        worst = float(shares["pct"].max()) if len(shares) and shares["pct"].notna().any() else 0.0
        return dg.AssetCheckResult(
            passed=worst <= limit,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "max_pct": worst,
                "umbral_pct": limit,
                "por_anio": markdown_table(shares),
                "detalle": markdown_table(con.execute(detail_sql).df()),
            },
        )

    return Check(name, LINES, WARNINGS[name][0], run)


yearly = topic_step(
    "exportaciones_anual",
    [
        text_source_part(
            source=exportaciones.EXPORTACIONES,
            find_year=find_exportaciones_year,
            group=GROUP,
            description="Exportaciones definitivas de SUNAT (aduanas/<año>/: x*.zip semanales con un DBF y/o la "
            "entrega en texto), todo el año en una pasada; series repetidas entre archivos y filas inválidas a "
            "quarantine.exportaciones",
        ),
        single(
            dg.AssetSpec(
                LINES,
                deps=[STAGING, PADRON, REFERENCIA],
                group_name=GROUP,
                kinds={"duckdb", "sql"},
                description="Cada serie exportada con su departamento de origen, país ISO, clase CIIU y "
                "departamento del domicilio fiscal del exportador (nacional; solo en la base de "
                "operación)",
            ),
            export_lines,
            [_warning(name) for name in WARNINGS],
        ),
    ],
    yearly=True,
    description="Líneas de exportación de cada año y las series listas para los marts",
)


EXPORTACIONES_MARTS = topic_marts("exportaciones")


def indicadores_exportaciones(step: StepContext) -> dict:
    con = step.con
    con.execute(
        f"CREATE OR REPLACE TABLE intermedio.indicadores_exportaciones AS {sql_text('indicadores/exportaciones.sql')}",
        {"fuente": SOURCE},
    )
    growth = growth_rows(
        con, "SELECT anio, fob_millones_usd AS valor FROM marts.exportaciones_evolucion", "exportaciones", SOURCE
    )
    # docs/methodology/README.md#key-figures lists only the annual change for exports (the edition's window is
    # 2021–2024)
    growth = growth[growth["indicador"] == "exportaciones_var_anual_pct"]
    con.register("_g", growth)
    con.execute("INSERT INTO intermedio.indicadores_exportaciones SELECT * FROM _g")
    con.unregister("_g")
    return {"filas": con.execute("SELECT count(*) FROM intermedio.indicadores_exportaciones").fetchone()[0]}


all_years = topic_step(
    "exportaciones",
    [
        mart_part(
            EXPORTACIONES_MARTS,
            [LINES],
            GROUP,
            checks=[
                shares_check(
                    on="exportaciones_por_departamento",
                    evolution="exportaciones_evolucion",
                    total="fob_millones_usd",
                    blocks={
                        "destino": "exportaciones_por_destino",
                        "producto": "exportaciones_por_producto",
                        "departamento": "exportaciones_por_departamento",
                    },
                    description="Destinos, productos y departamentos suman 100 % cada año y su FOB coincide con "
                    "exportaciones_evolucion",
                )
            ],
        ),
        single(
            dg.AssetSpec(
                ["intermedio", "indicadores_exportaciones"],
                deps=[["marts", m] for m in EXPORTACIONES_MARTS],
                group_name=GROUP,
                kinds={"duckdb", "sql"},
                description="Cifras clave de exportaciones (códigos exportaciones_*)",
            ),
            indicadores_exportaciones,
        ),
    ],
    yearly=False,
    description="Marts y cifras clave de exportaciones, de todos los años",
)
