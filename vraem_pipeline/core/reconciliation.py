"""Reconcile computed figures with the published edition (`reference/publicado_vraem_2024.csv`).

The published CSV is the only place published figures live. Each figure is compared at the precision it was
printed with: the decimals of its value, or — where the text says "redondeado" — half a unit of its last
significant digit (2.4 millones → ±50,000; "8 de cada 10" → ±5).
"""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pandas as pd

from vraem_pipeline.core.databases import table_exists
from vraem_pipeline.core.references import reference_csv

#: Published figures with a category live in a mart: indicador → (mart, category column, value column).
CATEGORY_SOURCES = {
    "empresas_por_estrato_pct": ("marts.empresas_por_estrato", "estrato", "participacion_pct"),
    "empresas_por_sector_pct": ("marts.empresas_por_sector", "sector", "participacion_pct"),
    "empresas_por_departamento_pct": ("marts.empresas_por_departamento", "ubigeo_departamento", "participacion_pct"),
    "exportaciones_por_destino_pct": ("marts.exportaciones_por_destino", "pais_iso2", "participacion_pct"),
    "exportaciones_por_producto_pct": ("marts.exportaciones_por_producto", "ciiu_clase", "participacion_pct"),
    "exportaciones_por_departamento_pct": (
        "marts.exportaciones_por_departamento",
        "ubigeo_departamento",
        "participacion_pct",
    ),
    "credito_por_tipo_pct": ("marts.credito_por_tipo", "tipo_credito", "participacion_pct"),
    "credito_por_departamento_pct": ("marts.credito_por_departamento", "ubigeo_departamento", "participacion_pct"),
}


#: Published rankings ("China, Suiza, India, Corea del Sur y Japón"): indicador → (mart, category, ranked by).
ORDER_SOURCES = {
    "exportaciones_destinos_principales_orden": ("marts.exportaciones_por_destino", "pais_iso2", "fob_millones_usd"),
}


def tolerance(valor: str, texto: str) -> float:
    d = Decimal(valor)
    if "redondeado" in texto.lower():
        digits = d.normalize().as_tuple()
        return 0.5 * 10 ** max(digits.exponent, 0)
    return 0.5 * 10 ** d.as_tuple().exponent if d.as_tuple().exponent < 0 else 0.5


def published_rankings() -> pd.DataFrame:
    """The published orders of categories (`unidad` = orden): the value is the list in `categoria`."""
    df = reference_csv("publicado_vraem_2024.csv")
    df = df[df["unidad"] == "orden"].copy()
    df["anio"] = df["anio"].astype(int)
    return df


def ranking(con: duckdb.DuckDBPyConnection, anio: int, indicador: str, n: int) -> str | None:
    """The top `n` categories of the year in the mart, largest first, as the published CSV writes them."""
    table, cat_col, val_col = ORDER_SOURCES[indicador]
    if not table_exists(con, table):
        return None
    rows = con.execute(
        f"SELECT {cat_col} FROM {table} WHERE anio = ? ORDER BY {val_col} DESC, {cat_col} LIMIT ?", [anio, n]
    ).fetchall()
    return ",".join(r[0] for r in rows) or None


def reconcile_rankings(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    pub = published_rankings()
    pub = pub[pub["indicador"].isin(list(ORDER_SOURCES))]
    pub["calculado"] = [
        ranking(con, a, i, len(c.split(",")))
        for a, i, c in zip(pub["anio"], pub["indicador"], pub["categoria"], strict=False)
    ]
    pub["coincide"] = pd.array(
        [None if c is None else c == p for c, p in zip(pub["calculado"], pub["categoria"], strict=False)],
        dtype="boolean",
    )
    return pub.rename(columns={"categoria": "publicado"})[
        ["anio", "indicador", "publicado", "calculado", "coincide", "texto_publicado"]
    ].reset_index(drop=True)


def published() -> pd.DataFrame:
    df = reference_csv("publicado_vraem_2024.csv")
    df = df[df["valor"].notna() & (df["valor"].astype(str).str.strip() != "")].copy()
    df["categoria"] = df["categoria"].fillna("")
    df["tolerancia"] = [tolerance(str(v), str(t)) for v, t in zip(df["valor"], df["texto_publicado"], strict=False)]
    df["publicado"] = df["valor"].astype(float)
    df["anio"] = df["anio"].astype(int)
    return df


def computed_value(con: duckdb.DuckDBPyConnection, anio: int, indicador: str, category: str) -> float | None:
    if category and indicador in CATEGORY_SOURCES and CATEGORY_SOURCES[indicador][1]:
        table, cat_col, val_col = CATEGORY_SOURCES[indicador]
        if not table_exists(con, table):
            return None
        row = con.execute(
            f"SELECT {val_col} FROM {table} WHERE anio = ? AND {cat_col} = ?", [anio, category]
        ).fetchone()
        return None if row is None else row[0]
    if category or not table_exists(con, "marts.indicadores_clave"):
        return None
    row = con.execute(
        "SELECT valor FROM marts.indicadores_clave WHERE anio = ? AND indicador = ?", [anio, indicador]
    ).fetchone()
    return None if row is None else row[0]


def reconcile(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per published figure: computed value, difference and whether it matches at print precision."""
    pub = published()
    pub["calculado"] = pd.array(
        [
            computed_value(con, a, i, c)
            for a, i, c in zip(pub["anio"], pub["indicador"], pub["categoria"], strict=False)
        ],
        dtype="Float64",
    )
    pub["diferencia"] = pub["calculado"] - pub["publicado"]
    pub["coincide"] = (pub["diferencia"].abs() <= pub["tolerancia"] + 1e-9).astype("boolean")
    return pub[
        [
            "anio",
            "indicador",
            "categoria",
            "publicado",
            "calculado",
            "diferencia",
            "tolerancia",
            "coincide",
            "texto_publicado",
        ]
    ].reset_index(drop=True)
