"""Employment from ENAHO microdata: modules 500 and 400 → informality rebuild → survey estimates with CVs."""

import time

import dagster as dg
import pandas as pd

from vraem_pipeline import empleo
from vraem_pipeline.core import references as referencia
from vraem_pipeline.core.databases import record_parameters, transaction
from vraem_pipeline.core.marts import growth_rows, topic_marts, write_mart_frame
from vraem_pipeline.empleo import schema as schemas
from vraem_pipeline.empleo.estimates import MYPE_VARIANT_DEFAULT, MYPE_VARIANTS, compute_employment, rebuild_validation
from vraem_pipeline.empleo.informality import MIN_AGREEMENT_PCT, PERSON_KEY, TOLERANCE_PP, rebuild_ocupinf
from vraem_pipeline.empleo.inputs import read_health_year, read_persons_year
from vraem_pipeline.empleo.survey import SINGLE_PSU_DEFAULT
from vraem_pipeline.lib.dagster_support import markdown_table
from vraem_pipeline.lib.steps import Check, Part, StepContext, single, source_part, topic_step

GROUP = "empleo"
SOURCE = "INEI, Encuesta Nacional de Hogares (ENAHO), módulos 500 y 400"

PERSONS = dg.AssetKey.from_user_string(empleo.PERSONS.asset)
HEALTH = dg.AssetKey.from_user_string(empleo.HEALTH.asset)
INFORMALITY = dg.AssetKey(["intermedio", "enaho_informalidad"])
REFERENCIA = dg.AssetKey(["referencia", "tablas"])


def enaho_informalidad(step: StepContext) -> dict:
    con = step.con
    frames = []
    for anio in step.years:
        t0 = time.perf_counter()
        m500 = con.execute("SELECT * FROM staging.enaho_personas WHERE anio = ?", [anio]).df()
        m400 = con.execute("SELECT * FROM staging.enaho_salud WHERE anio = ?", [anio]).df()
        if m500.empty or m400.empty:
            step.progress(
                f"enaho_informalidad {anio}: sin módulo {'500' if m500.empty else '400'}, no se reconstruye", t0
            )
            continue
        rebuilt = rebuild_ocupinf(m500, m400).rename(
            columns={"ocupinf": "ocupinf_reconstruido", "sector": "sector_reconstruido"}
        )
        rebuilt["anio"] = anio
        frames.append(rebuilt[["anio", *PERSON_KEY, "ocupinf_reconstruido", "sector_reconstruido"]])
        step.progress(f"enaho_informalidad {anio}: {len(rebuilt):,} personas reconstruidas", t0)
    table = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["anio", *PERSON_KEY, "ocupinf_reconstruido", "sector_reconstruido"])
    )
    con.execute("""CREATE TABLE IF NOT EXISTS intermedio.enaho_informalidad (anio INTEGER, conglome VARCHAR,
                   vivienda VARCHAR, hogar VARCHAR, codperso VARCHAR, ocupinf_reconstruido INTEGER,
                   sector_reconstruido INTEGER)""")
    with transaction(con):
        con.execute(f"DELETE FROM intermedio.enaho_informalidad WHERE anio IN ({','.join(map(str, step.years))})")
        con.register("_inf", table)
        con.execute("INSERT INTO intermedio.enaho_informalidad BY NAME SELECT * FROM _inf")
        con.unregister("_inf")
    return {"filas": len(table)}


yearly = topic_step(
    "empleo_anual",
    [
        source_part(
            source=empleo.PERSONS,
            year_schema=schemas.schema_for_year,
            read_year=read_persons_year,
            group=GROUP,
            description="ENAHO módulo 500 (empleo e ingresos): personas de 14 años y más con las variables de los "
            "indicadores; filas con ubigeo, clave o códigos inválidos a quarantine.enaho_personas",
        ),
        source_part(
            source=empleo.HEALTH,
            read_year=read_health_year,
            group=GROUP,
            description="ENAHO módulo 400 (salud): afiliación a seguros, insumo de la reconstrucción de ocupinf",
        ),
        single(
            dg.AssetSpec(
                INFORMALITY,
                deps=[PERSONS, HEALTH],
                group_name=GROUP,
                kinds={"duckdb", "pandas"},
                description="ocupinf reconstruida con la sintaxis del INEI (módulos 500 + 400) para cada año "
                "con ambos módulos",
            ),
            enaho_informalidad,
        ),
    ],
    yearly=True,
    description="Módulos 500 y 400 de la ENAHO de cada año y la informalidad reconstruida",
)


def _persons(con) -> pd.DataFrame:
    """Staged persons of every year with the rebuilt flag beside the official one (NULL where not rebuilt)."""
    return con.execute(
        """SELECT p.*, r.ocupinf_reconstruido, r.sector_reconstruido
           FROM staging.enaho_personas AS p
           LEFT JOIN intermedio.enaho_informalidad AS r USING (anio, conglome, vivienda, hogar, codperso)
           ORDER BY p.anio, p.conglome, p.vivienda, p.hogar, p.codperso"""
    ).df()


def _departments(con) -> list[str]:
    return referencia.territory_departments(con.execute("SELECT * FROM referencia.territorio").df())


COMPARISON = dg.AssetKey(["intermedio", "informalidad_comparacion"])


def informalidad_comparacion(step: StepContext) -> dict:
    table = rebuild_validation(_persons(step.con), _departments(step.con))
    step.con.register("_cmp", table)
    step.con.execute("CREATE OR REPLACE TABLE intermedio.informalidad_comparacion AS SELECT * FROM _cmp")
    step.con.unregister("_cmp")
    return {"comparacion": markdown_table(table, limit=50)}


def reconstruction_within_tolerance(con, years: list[int] | None) -> dg.AssetCheckResult:
    table = con.execute("SELECT * FROM intermedio.informalidad_comparacion ORDER BY anio, ambito").df()
    bad = table[(table["diferencia_pp"].abs() > TOLERANCE_PP) | (table["coincidencia_pct"] < MIN_AGREEMENT_PCT)]
    return dg.AssetCheckResult(
        passed=bool(len(table)) and bad.empty,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "anios_comparados": int(table["anio"].nunique()) if len(table) else 0,
            "max_diferencia_pp": float(table["diferencia_pp"].abs().max()) if len(table) else 0.0,
            "min_coincidencia_pct": float(table["coincidencia_pct"].min()) if len(table) else 0.0,
            "tolerancia_pp": TOLERANCE_PP,
            "detalle": markdown_table(table, limit=50),
        },
    )


class EmpleoParameters(dg.Config):
    """Choices of the employment block, recorded in meta.parametros (tema empleo) and the key-figure texts."""

    variante_mype: str = MYPE_VARIANT_DEFAULT
    estratos_varianza: str = "estrato"
    estrato_con_una_upm: str = SINGLE_PSU_DEFAULT


EMPLEO_MARTS = topic_marts("empleo")


def empleo_marts(step: StepContext, selected: set[dg.AssetKey]) -> dict[dg.AssetKey, dict]:
    """Survey estimates (Taylor linearization, PSU conglome, strata estrato, domains over the whole file)."""
    t0 = time.perf_counter()
    con, config = step.con, step.config
    tables = compute_employment(
        _persons(con),
        _departments(con),
        mype_variant=config.variante_mype,
        strata=config.estratos_varianza,
        single_psu=config.estrato_con_una_upm,
    )
    counts = {
        "empleo_evolucion": write_mart_frame(con, "empleo_evolucion", tables.evolucion),
        "empleo_por_tipo": write_mart_frame(con, "empleo_por_tipo", tables.by_kind_table),
        "empleo_por_sexo": write_mart_frame(con, "empleo_por_sexo", tables.by_sex_table),
        "empleo_precision": write_mart_frame(con, "empleo_precision", tables.indicadores),
    }
    key = tables.indicadores.assign(fuente=SOURCE)[["anio", "indicador", "valor", "unidad", "descripcion", "fuente"]]
    con.register("_key", key)
    con.execute("CREATE OR REPLACE TABLE intermedio.indicadores_empleo AS SELECT * FROM _key")
    con.unregister("_key")
    growth = growth_rows(con, "SELECT anio, pea_ocupada AS valor FROM marts.empleo_evolucion", "empleo", SOURCE)
    con.register("_g", growth)
    con.execute("INSERT INTO intermedio.indicadores_empleo SELECT * FROM _g")
    con.unregister("_g")
    record_parameters(
        con,
        "empleo",
        {
            "variante_mype": (config.variante_mype, MYPE_VARIANTS[config.variante_mype]),
            "estratos_varianza": (config.estratos_varianza, "Estratos del diseño para la varianza (Taylor)"),
            "estrato_con_una_upm": (config.estrato_con_una_upm, "Tratamiento de estratos con una sola UPM"),
            "fuente_informalidad": (
                dict(
                    zip(
                        tables.informality_source["anio"].astype(int).astype(str),
                        tables.informality_source["informal_source"],
                        strict=False,
                    )
                ),
                "Por año: ocupinf oficial del INEI o reconstruida (módulos 500 + 400)",
            ),
        },
    )
    step.progress(f"empleo: {len(tables.evolucion)} años estimados con CV", t0)
    out = {dg.AssetKey(["marts", name]): {"filas": n} for name, n in counts.items()}
    out[dg.AssetKey(["intermedio", "indicadores_empleo"])] = {"filas": len(key)}
    return out  # computed together (one pass of the survey estimates): every key of the part, whatever was selected


all_years = topic_step(
    "empleo",
    [
        single(
            dg.AssetSpec(
                COMPARISON,
                deps=[INFORMALITY, REFERENCIA],
                group_name=GROUP,
                kinds={"duckdb", "pandas"},
                description="ocupinf reconstruida vs la oficial del INEI en cada año que trae ambas: "
                "coincidencia de filas y diferencia ponderada de la tasa de informalidad "
                "(nacional y territorio)",
            ),
            informalidad_comparacion,
            [
                Check(
                    "reconstruccion_dentro_de_tolerancia",
                    COMPARISON,
                    f"La tasa de informalidad reconstruida difiere de la oficial en ≤ {TOLERANCE_PP} pp y coinciden "
                    f"≥ {MIN_AGREEMENT_PCT} % de las filas, en cada año con ambas",
                    reconstruction_within_tolerance,
                )
            ],
        ),
        Part(
            tuple(
                dg.AssetSpec(
                    ["marts", name], deps=[INFORMALITY, REFERENCIA], group_name=GROUP, kinds={"duckdb", "pandas"}
                )
                for name in EMPLEO_MARTS
            )
            + (dg.AssetSpec(["intermedio", "indicadores_empleo"], deps=[INFORMALITY], group_name=GROUP),),
            empleo_marts,
        ),
    ],
    yearly=False,
    config_cls=EmpleoParameters,
    description="Comparación de la informalidad reconstruida, estimaciones con CV, marts y cifras clave del empleo",
)
