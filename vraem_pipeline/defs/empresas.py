"""Firm register: Padrón RUC cuts and declared sales → formal firms → the `empresas_*` marts."""

import time

import dagster as dg
import pandas as pd

from vraem_pipeline import empresas
from vraem_pipeline.core.databases import record_parameters, table_exists
from vraem_pipeline.core.marts import growth_rows, sql_text, topic_marts
from vraem_pipeline.empresas.inputs import cuts_read, find_padron_year, find_ventas_year
from vraem_pipeline.empresas.rules import MAX_UNCLASSIFIED_PCT, FormalFirmRule, build_formal_firms, write_activity_map
from vraem_pipeline.lib.dagster_support import markdown_table
from vraem_pipeline.lib.steps import Check, StepContext, mart_part, shares_check, single, text_source_part, topic_step
from vraem_pipeline.sources import padron

GROUP = "empresas"
SOURCE = "SUNAT, Registro Único de Contribuyentes (Padrón RUC, datos abiertos) y ventas netas declaradas"

REFERENCIA = dg.AssetKey(["referencia", "tablas"])


def december_cut(con, years: list[int] | None) -> dg.AssetCheckResult:
    """The latest cut of a year folder closes it, whatever its month (a June cut may be all there is); a year
    closed by a cut that is not December's is published, but this warning names the year and the cut, as the
    report's source line does."""
    cuts = cuts_read(con, years, empresas.PADRON.name) if table_exists(con, "meta.fuentes") else pd.DataFrame()
    early = cuts[~cuts["cierre"]] if len(cuts) else cuts
    return dg.AssetCheckResult(
        passed=early.empty,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "cortes_que_no_son_de_diciembre": dg.MetadataValue.json(
                {
                    str(r.anio): f"{r.archivo}: corte {r.corte}, "
                    + (padron.close_phrase(r.corte) if r.corte else "sin periodo en el nombre")
                    for r in early.itertuples()
                }
            ),
            "cortes_leidos": markdown_table(cuts),
        },
    )


class FormalFirmRuleConfig(dg.Config):
    """Overrides of the formal-firm rule from the launchpad (config of the step `empresas_anual`); defaults are
    `FormalFirmRule`'s."""

    estados_activos: list[str] = list(FormalFirmRule().estados_activos)
    exigir_ventas_positivas: bool = True


def empresas_formales(step: StepContext) -> dict:
    t0 = time.perf_counter()
    rule = FormalFirmRule(
        estados_activos=tuple(step.config.estados_activos), exigir_ventas_positivas=step.config.exigir_ventas_positivas
    )
    write_activity_map(step.con)
    counts = build_formal_firms(step.con, step.years, rule)
    record_parameters(step.con, "empresas", rule.descriptions())
    step.progress_years(
        "empresas_formales",
        [
            f"empresas_formales {row.anio}: {row.empresas:,} empresas formales (nacional), "
            f"sin_clasificar={row.sin_clasificar_pct:.2f} %"
            for row in counts.itertuples()
        ],
        t0,
    )
    return {
        "por_anio": markdown_table(counts),
        "regla": dg.MetadataValue.json({k: v[0] for k, v in rule.descriptions().items() if k != "tipos_negocio"}),
        "tipos_negocio": dg.MetadataValue.json(list(rule.tipos_negocio)),
    }


def unclassified_sector(con, years: list[int] | None) -> dg.AssetCheckResult:
    where = f"WHERE anio IN ({','.join(map(str, years))})" if years else ""
    shares = con.execute(
        f"""SELECT anio, count(*) AS empresas, sum((sector = 'sin_clasificar')::INT) AS sin_clasificar,
                   round(100.0 * sum((sector = 'sin_clasificar')::INT) / count(*), 3) AS pct
            FROM intermedio.empresas_formales {where} GROUP BY anio ORDER BY anio"""
    ).df()
    top = con.execute(
        f"""SELECT coalesce(actividad_ciiu4, '(vacío)') AS texto, count(*) AS empresas
            FROM intermedio.empresas_formales {where} {"AND" if where else "WHERE"} sector = 'sin_clasificar'
            GROUP BY ALL ORDER BY empresas DESC LIMIT 15"""
    ).df()
    worst = float(shares["pct"].max()) if len(shares) else 0.0
    return dg.AssetCheckResult(
        passed=worst <= MAX_UNCLASSIFIED_PCT,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"max_pct": worst, "por_anio": markdown_table(shares), "textos_sin_clasificar": markdown_table(top)},
    )


PADRON = dg.AssetKey.from_user_string(empresas.PADRON.asset)
VENTAS = dg.AssetKey.from_user_string(empresas.VENTAS.asset)
FORMAL_FIRMS = dg.AssetKey(["intermedio", "empresas_formales"])

yearly = topic_step(
    "empresas_anual",
    [
        text_source_part(
            source=empresas.PADRON,
            find_year=find_padron_year,
            group=GROUP,
            description="Padrón RUC de SUNAT: el corte mensual más reciente de cada año, leído y validado dentro de "
            "DuckDB; líneas malformadas y RUC inválidos a quarantine.padron_ruc",
            checks=[
                Check(
                    "corte_de_diciembre",
                    PADRON,
                    "Advierte (no bloquea) cuando el corte del Padrón RUC que cierra "
                    "un año no es el de diciembre: las cifras de empresas de ese año son las del mes del corte",
                    december_cut,
                )
            ],
        ),
        text_source_part(
            source=empresas.VENTAS,
            find_year=find_ventas_year,
            group=GROUP,
            description="Ventas netas anuales declaradas a SUNAT por RUC (sunat/ventas/<año>/ventas_<año>.txt)",
        ),
        single(
            dg.AssetSpec(
                FORMAL_FIRMS,
                deps=[PADRON, VENTAS, REFERENCIA],
                group_name=GROUP,
                kinds={"duckdb"},
                description="Empresas formales de cada año a nivel nacional (regla en meta.parametros), con "
                "estrato (Ley 30056) y sector PRODUCE",
            ),
            empresas_formales,
            [
                Check(
                    "sector_sin_clasificar",
                    FORMAL_FIRMS,
                    f"Advierte si más de {MAX_UNCLASSIFIED_PCT} % de las "
                    "empresas formales tiene una actividad que no coincide con ninguna clase CIIU Rev.4",
                    unclassified_sector,
                )
            ],
        ),
    ],
    yearly=True,
    config_cls=FormalFirmRuleConfig,
    description="Padrón RUC y ventas declaradas de cada año, y las empresas formales que resultan",
)


EMPRESAS_MARTS = topic_marts("empresas")


def indicadores_empresas(step: StepContext) -> dict:
    con = step.con
    con.execute(
        f"CREATE OR REPLACE TABLE intermedio.indicadores_empresas AS {sql_text('indicadores/empresas.sql')}",
        {"fuente": SOURCE},
    )
    growth = growth_rows(con, "SELECT anio, n_empresas AS valor FROM marts.empresas_evolucion", "empresas", SOURCE)
    con.register("_g", growth)
    con.execute("INSERT INTO intermedio.indicadores_empresas SELECT * FROM _g")
    con.unregister("_g")
    return {"filas": con.execute("SELECT count(*) FROM intermedio.indicadores_empresas").fetchone()[0]}


all_years = topic_step(
    "empresas",
    [
        mart_part(
            EMPRESAS_MARTS,
            [FORMAL_FIRMS],
            GROUP,
            checks=[
                shares_check(
                    on="empresas_por_estrato",
                    evolution="empresas_evolucion",
                    total="n_empresas",
                    blocks={
                        "estrato": "empresas_por_estrato",
                        "sector": "empresas_por_sector",
                        "departamento": "empresas_por_departamento",
                    },
                    description="Cada bloque de participaciones (estrato, sector, departamento) suma 100 % "
                    "cada año y su total coincide con empresas_evolucion",
                )
            ],
        ),
        single(
            dg.AssetSpec(
                ["intermedio", "indicadores_empresas"],
                deps=[["marts", m] for m in EMPRESAS_MARTS],
                group_name=GROUP,
                kinds={"duckdb", "sql"},
                description="Cifras clave de empresas (códigos empresas_* y ventas_millones_soles)",
            ),
            indicadores_empresas,
        ),
    ],
    yearly=False,
    description="Marts y cifras clave de empresas, de todos los años",
)
