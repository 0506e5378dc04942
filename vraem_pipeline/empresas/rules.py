"""Formal firms: the definition PRODUCE applies, as named parameters recorded next to the results.

PRODUCE's annex with the exact filters has not been obtained (docs/sources.md#empresa-formal), so each choice is a
parameter with the working hypothesis as default; correcting it when the annex arrives is a configuration change, and
every warehouse records which rule built it (`meta.parametros`, tema `empresas`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import duckdb
import pandas as pd

from vraem_pipeline.core import references as referencia
from vraem_pipeline.core.databases import replace_years_from_sql
from vraem_pipeline.core.marts import sql_text
from vraem_pipeline.empresas.ciiu import match_activity


@dataclass(frozen=True)
class FormalFirmRule:
    """Defaults = the working hypothesis of docs/sources.md#empresa-formal; taxpayer types live in
    tipos_contribuyente.csv."""

    estados_activos: tuple[str, ...] = ("ACTIVO",)
    exigir_ventas_positivas: bool = True
    micro_uit: float = 150.0
    pequena_uit: float = 1700.0
    mediana_uit: float = 2300.0
    tipos_negocio: tuple[str, ...] = field(
        default_factory=lambda: tuple(referencia.taxpayer_types().query("es_negocio")["tipo"])
    )

    def descriptions(self) -> dict[str, tuple[object, str]]:
        d = asdict(self)
        return {
            "estados_activos": (
                d["estados_activos"],
                "Estado del contribuyente en el corte que cierra el año que cuenta como activo",
            ),
            "exigir_ventas_positivas": (
                d["exigir_ventas_positivas"],
                "Exigir ventas netas declaradas > 0 en el ejercicio",
            ),
            "micro_uit": (d["micro_uit"], "Límite superior (inclusive) de la microempresa, en UIT del año (Ley 30056)"),
            "pequena_uit": (d["pequena_uit"], "Límite superior (inclusive) de la pequeña empresa, en UIT del año"),
            "mediana_uit": (d["mediana_uit"], "Límite superior (inclusive) de la mediana empresa, en UIT del año"),
            "tipos_negocio": (
                d["tipos_negocio"],
                "Tipos de contribuyente SUNAT que son negocio (tipos_contribuyente.csv); el resto queda fuera",
            ),
        }


#: Warning threshold for firms whose activity text matches no CIIU class (docs/sources.md#ciiu-texto: target < 1 %).
MAX_UNCLASSIFIED_PCT = 1.0

SIZE_STRATA = pd.DataFrame({"estrato": ["micro", "pequena", "mediana", "grande"], "orden": [1, 2, 3, 4]})


def write_activity_map(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Match every distinct staged activity text once; the marts join on the text."""
    texts = con.execute(
        "SELECT DISTINCT actividad_ciiu4 FROM staging.padron_ruc WHERE actividad_ciiu4 IS NOT NULL"
    ).df()["actividad_ciiu4"]
    matched = match_activity(texts).drop_duplicates("texto")
    frame = pd.DataFrame(
        {
            "texto": matched["texto"].astype(str),
            "clase": matched["clase"].astype("str"),
            "division": matched["division"].astype("str"),
            "sector": matched["sector"].astype(str),
            "metodo": matched["metodo"].astype(str),
        }
    )
    con.register("_ciiu", frame)
    con.execute("CREATE OR REPLACE TABLE referencia.ciiu_texto AS SELECT * FROM _ciiu")
    con.unregister("_ciiu")
    return frame


def build_formal_firms(con: duckdb.DuckDBPyConnection, years: list[int], rule: FormalFirmRule) -> pd.DataFrame:
    """Replace the `years` of intermedio.empresas_formales; returns counts per year (national)."""
    missing = sorted(set(years) - set(referencia.uit_table()["anio"]))
    if missing:
        # Without the year's UIT the strata cannot be computed; never drop those firms silently.
        raise ValueError(f"uit.csv no tiene la UIT de {missing}: agréguela con su decreto supremo")
    select = sql_text("intermedio/empresas_formales.sql")
    params = {
        "anios": years,
        "estados": list(rule.estados_activos),
        "tipos": list(rule.tipos_negocio),
        "exigir_ventas": rule.exigir_ventas_positivas,
        "micro_uit": rule.micro_uit,
        "pequena_uit": rule.pequena_uit,
        "mediana_uit": rule.mediana_uit,
    }
    replace_years_from_sql(con, "intermedio.empresas_formales", select, params, years)
    return con.execute(
        f"""SELECT anio, count(*) AS empresas, avg((sector = 'sin_clasificar')::INT) * 100 AS sin_clasificar_pct
            FROM intermedio.empresas_formales WHERE anio IN ({",".join(map(str, years))}) GROUP BY anio ORDER BY anio"""
    ).df()
