"""Business credit: SBS debtor balances → debtors located through the Padrón RUC → the `credito_*` marts."""

import time

import dagster as dg

from vraem_pipeline import credito, empresas
from vraem_pipeline.core.databases import record_parameters
from vraem_pipeline.core.marts import growth_rows, sql_text, topic_marts
from vraem_pipeline.credito.inputs import find_deudores_year
from vraem_pipeline.credito.rules import CreditRule, build_business_credit, unlocated_by_reason, unlocated_by_year
from vraem_pipeline.lib.dagster_support import markdown_table
from vraem_pipeline.lib.steps import Check, StepContext, mart_part, shares_check, single, text_source_part, topic_step

GROUP = "credito"
SOURCE = "SBS, saldos de créditos directos por deudor a diciembre; SUNAT, Padrón RUC (ubicación del deudor)"


STAGING = dg.AssetKey.from_user_string(credito.DEUDORES.asset)
CREDITO = dg.AssetKey(["intermedio", "credito_empresarial"])
PADRON = dg.AssetKey.from_user_string(empresas.PADRON.asset)
REFERENCIA = dg.AssetKey(["referencia", "tablas"])


def credito_empresarial(step: StepContext) -> dict:
    t0 = time.perf_counter()
    rule = CreditRule()
    summary = build_business_credit(step.con, step.years, rule)
    record_parameters(step.con, "credito", rule.descriptions())
    step.progress_years(
        "credito_empresarial",
        [
            f"credito_empresarial {row.anio}: {row.filas:,} filas de crédito empresarial, "
            f"{row.deudores:,} deudores, S/ {row.saldo_millones:,.1f} M; sin ubicar "
            f"{row.deudores_sin_ubicar:,} deudores, S/ {row.saldo_sin_ubicar_millones:,.1f} M "
            f"({row.saldo_sin_ubicar_pct:.2f} %)"
            for row in summary.itertuples()
        ],
        t0,
    )
    return {
        "por_anio": markdown_table(summary),
        "tipos_empresariales": dg.MetadataValue.json(list(rule.business_credit_kinds)),
    }


def deudores_sin_ubicar(con, years: list[int] | None) -> dg.AssetCheckResult:
    rule = CreditRule()
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'intermedio' AND table_name = 'credito_empresarial'"
    ).fetchone()[0]
    per_year = unlocated_by_year(con, years) if exists else None
    reasons = unlocated_by_reason(con, years) if exists else None
    if per_year is None or per_year.empty:
        return dg.AssetCheckResult(
            passed=True,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"por_anio": "sin crédito empresarial en los años pedidos"},
        )
    worst = float(per_year["saldo_sin_ubicar_pct"].fillna(0).max())
    return dg.AssetCheckResult(
        passed=worst <= rule.max_unlocated_balance_pct,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "deudores_sin_ubicar": int(per_year["deudores_sin_ubicar"].sum()),
            "saldo_sin_ubicar_millones": float(per_year["saldo_sin_ubicar_millones"].sum()),
            "max_saldo_sin_ubicar_pct": worst,
            "por_anio": markdown_table(per_year),
            "por_motivo": markdown_table(reasons, limit=60),
        },
    )


yearly = topic_step(
    "credito_anual",
    [
        text_source_part(
            source=credito.DEUDORES,
            find_year=find_deudores_year,
            group=GROUP,
            description="Saldos de créditos directos a diciembre por deudor, entidad y tipo de crédito (SBS, "
            "sbs/deudores/<año>/deudores_<año>12.txt), leídos y validados dentro de DuckDB; documentos, "
            "tipos y saldos inválidos a quarantine.sbs_deudores",
        ),
        single(
            dg.AssetSpec(
                CREDITO,
                deps=[STAGING, PADRON, REFERENCIA],
                group_name=GROUP,
                kinds={"duckdb", "sql"},
                description="Crédito empresarial (tipos SBS 06–10) de cada año a nivel nacional, cada fila con "
                "el ubigeo de su deudor en el Padrón RUC del año (RUC propio o RUC 10 del DNI) o "
                "sin ubigeo y el motivo; datos personales: solo en la base de operación",
            ),
            credito_empresarial,
            [
                Check(
                    "deudores_sin_ubicar",
                    CREDITO,
                    "Cuántos deudores de crédito empresarial y cuánto saldo no se pudieron ubicar (RUC o RUC 10 "
                    "del DNI fuera del Padrón RUC del año, sin ubigeo, otro tipo de documento), por año; "
                    f"advierte si el saldo sin ubicar supera {CreditRule().max_unlocated_balance_pct} % del saldo "
                    "empresarial nacional",
                    deudores_sin_ubicar,
                )
            ],
        ),
    ],
    yearly=True,
    description="Deudores de la SBS de cada año y el crédito empresarial ubicado con el Padrón RUC",
)


CREDITO_MARTS = topic_marts("credito")


def indicadores_credito(step: StepContext) -> dict:
    t0 = time.perf_counter()
    con = step.con
    con.execute(
        f"CREATE OR REPLACE TABLE intermedio.indicadores_credito AS {sql_text('indicadores/credito.sql')}",
        {"fuente": SOURCE},
    )
    growth = growth_rows(
        con, "SELECT anio, credito_millones_soles AS valor FROM marts.credito_evolucion", "credito", SOURCE
    )
    con.register("_g", growth)
    con.execute("INSERT INTO intermedio.indicadores_credito SELECT * FROM _g")
    con.unregister("_g")
    n = con.execute("SELECT count(*) FROM intermedio.indicadores_credito").fetchone()[0]
    step.progress(f"indicadores_credito: {n:,} filas", t0)
    return {"filas": n}


all_years = topic_step(
    "credito",
    [
        mart_part(
            CREDITO_MARTS,
            [CREDITO],
            GROUP,
            checks=[
                shares_check(
                    on="credito_por_tipo",
                    evolution="credito_evolucion",
                    total="credito_millones_soles",
                    blocks={"tipo": "credito_por_tipo", "departamento": "credito_por_departamento"},
                    description="Cada bloque de participaciones del crédito (tipo, departamento) suma 100 % "
                    "cada año con crédito y su total coincide con credito_evolucion",
                )
            ],
        ),
        single(
            dg.AssetSpec(
                ["intermedio", "indicadores_credito"],
                deps=[["marts", m] for m in CREDITO_MARTS],
                group_name=GROUP,
                kinds={"duckdb", "sql"},
                description="Cifras clave del crédito (códigos credito_*)",
            ),
            indicadores_credito,
        ),
    ],
    yearly=False,
    description="Marts y cifras clave del crédito empresarial, de todos los años",
)
