"""Cross-source coherence of the marts (warning checks): what no single source's rules can see.

Each check returns the offending rows, so a person reads which figure of which year is off: the territory above
Peru for the same figure, a block of shares that does not add up to 100, a key figure that jumps more from one
year to the next than its family's bound. The bounds are parameters recorded in `meta.parametros` (tema
`coherencia`): a jump is a question to the data, not an error — a real year can move that much.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from vraem_pipeline.core.databases import table_exists
from vraem_pipeline.core.sqltext import sql_literal

#: Territory key figure → the same figure for all of Peru, from the national rows of the operator database:
#: (table, aggregate per year in the key figure's unit). Figures without national rows (employment) are
#: compared through their `*_participacion_nacional_pct` share, which must not exceed 100.
NATIONAL: dict[str, tuple[str, str]] = {
    "empresas_formales": ("intermedio.empresas_formales", "count(*)"),
    "ventas_millones_soles": ("intermedio.empresas_formales", "sum(ventas_netas) / 1e6"),
    "exportaciones_millones_usd": ("intermedio.exportaciones", "sum(fob_usd) / 1e6"),
    "credito_millones_soles": ("intermedio.credito_empresarial", "sum(saldo_soles) / 1e6"),
    "pbi_vraem_millones_soles_2007": ("intermedio.pbi_territorio", "sum(vab_nacional_miles_soles) / 1e3"),
}
NATIONAL_SHARE_SUFFIX = "_participacion_nacional_pct"

#: Relative slack of "territory ≤ Peru": both sides are sums of the same rows in another order, so they may
#: differ by floating-point rounding only.
RELATIVE_TOLERANCE = 1e-9

#: Slack of a block of shares around 100, in percentage points: the marts keep shares unrounded, so only
#: floating-point error is forgiven.
SUM_TOLERANCE_PP = 1e-6


@dataclass(frozen=True)
class JumpLimit:
    """Bound of the year-on-year change of a family of key figures, chosen by their unit."""

    familia: str
    units: tuple[str, ...]  # a key figure belongs to the family if its `unidad` starts with one of these
    limite: float
    medida: str  # "pct": relative change in %; "pp": difference in percentage points (for figures that are %)


#: Counts of firms or workers rarely move more than half in a year; money (nominal soles, dollars, soles of
#: 2007) can double with a mine or a price; rates and shares move a few points (INEI's informality, a share of
#: Peru). Above these, the figure is named so that someone looks at the source files of both years.
JUMP_LIMITS: tuple[JumpLimit, ...] = (
    JumpLimit("conteos", ("empresas", "trabajadores"), 50.0, "pct"),
    JumpLimit("montos", ("millones",), 100.0, "pct"),
    JumpLimit("porcentajes", ("%",), 10.0, "pp"),
)
#: Growth codes are changes already (docs/methodology/README.md#key-figures); a jump of a change is not a question about
#: the data.
GROWTH_SUFFIXES = ("_var_anual_pct", "_tcpa_pct", "_var_promedio_anual_pct")


def parametros() -> dict[str, tuple[object, str]]:
    """The bounds as `record_parameters` writes them (tema coherencia)."""
    jumps = {
        f"salto_maximo_{lim.familia}": (
            lim.limite,
            f"Variación interanual máxima de las cifras clave en {', '.join(lim.units)} "
            f"({'%' if lim.medida == 'pct' else 'puntos porcentuales'}); más allá, el control "
            "coherencia_saltos_interanuales nombra la cifra y los años",
        )
        for lim in JUMP_LIMITS
    }
    return {
        **jumps,
        "territorio_no_supera_nacional": (
            sorted(NATIONAL),
            "Cifras clave comparadas con su total nacional (además, "
            "toda participación nacional ≤ 100 %); tolerancia relativa "
            f"{RELATIVE_TOLERANCE:g}",
        ),
        "tolerancia_suma_participaciones_pp": (
            SUM_TOLERANCE_PP,
            "Cada bloque participacion_pct de cada tabla de marts suma 100 por año, con esta tolerancia",
        ),
    }


def territory_above_national(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Key figures of a year where the territory exceeds Peru: indicador, anio, territorio, nacional."""
    if not table_exists(con, "marts.indicadores_clave"):
        return pd.DataFrame(columns=["indicador", "anio", "territorio", "nacional"])
    parts = [
        f"SELECT indicador, anio, 100.0 AS nacional FROM marts.indicadores_clave "
        f"WHERE ends_with(indicador, {sql_literal(NATIONAL_SHARE_SUFFIX)})"
    ]
    for indicador, (table, aggregate) in NATIONAL.items():
        if table_exists(con, table):
            parts.append(f"SELECT {sql_literal(indicador)}, anio, ({aggregate})::DOUBLE FROM {table} GROUP BY anio")
    return con.execute(f"""
        WITH nacional AS ({" UNION ALL ".join(parts)})
        SELECT k.indicador, k.anio, k.valor AS territorio, n.nacional
        FROM marts.indicadores_clave AS k JOIN nacional AS n USING (indicador, anio)
        WHERE k.valor > n.nacional + {RELATIVE_TOLERANCE} * abs(n.nacional)
        ORDER BY k.indicador, k.anio""").df()


def shares_not_summing_to_100(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every marts table with a `participacion_pct` column, each year whose shares do not add up to 100:
    tabla, anio, suma_pct. A year whose shares are all missing or zero (nothing to share) is not a block."""
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = 'marts' AND column_name = 'participacion_pct' ORDER BY table_name"
        ).fetchall()
    ]
    if not tables:
        return pd.DataFrame(columns=["tabla", "anio", "suma_pct"])
    union = " UNION ALL ".join(
        f"SELECT {sql_literal(t)} AS tabla, anio, sum(participacion_pct) AS suma_pct FROM marts.{t} GROUP BY anio"
        for t in tables
    )
    return con.execute(
        f"SELECT * FROM ({union}) WHERE coalesce(suma_pct, 0) <> 0 "
        f"AND abs(suma_pct - 100) > {SUM_TOLERANCE_PP} ORDER BY tabla, anio"
    ).df()


def year_on_year_jumps(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Key figures whose change from the previous calendar year exceeds their family's bound: indicador,
    familia, anio_anterior, anio, valor_anterior, valor, variacion (in `medida`), limite, medida."""
    families = " UNION ALL ".join(
        f"SELECT {sql_literal(lim.familia)} AS familia, {sql_literal(u)} AS prefijo, {lim.limite} AS limite, "
        f"{sql_literal(lim.medida)} AS medida"
        for lim in JUMP_LIMITS
        for u in lim.units
    )
    if not table_exists(con, "marts.indicadores_clave"):
        return pd.DataFrame(
            columns=[
                "indicador",
                "familia",
                "anio_anterior",
                "anio",
                "valor_anterior",
                "valor",
                "variacion",
                "limite",
                "medida",
            ]
        )
    crecimiento = " OR ".join(f"ends_with(k.indicador, {sql_literal(s)})" for s in GROWTH_SUFFIXES)
    return con.execute(f"""
        WITH f AS ({families}),
        k AS (
            SELECT k.*, f.familia, f.limite, f.medida FROM marts.indicadores_clave AS k
            JOIN f ON starts_with(k.unidad, f.prefijo)
            WHERE NOT ({crecimiento})
        )
        SELECT k.indicador, k.familia, p.anio AS anio_anterior, k.anio, p.valor AS valor_anterior, k.valor,
               CASE k.medida WHEN 'pp' THEN k.valor - p.valor
                             ELSE 100.0 * (k.valor / nullif(p.valor, 0) - 1) END AS variacion,
               k.limite, k.medida
        FROM k JOIN marts.indicadores_clave AS p ON p.indicador = k.indicador AND p.anio = k.anio - 1
        WHERE CASE k.medida WHEN 'pp' THEN abs(k.valor - p.valor) > k.limite
                            ELSE abs(k.valor - p.valor) > k.limite / 100.0 * abs(p.valor) END
        ORDER BY k.indicador, k.anio""").df()


def describe_jumps(jumps: pd.DataFrame) -> list[str]:
    """One line a person reads per jump: the figure, the two years and the change against its bound."""
    lines = []
    for r in jumps.itertuples(index=False):
        unidad = " pp" if r.medida == "pp" else " %"
        cambio = "desde 0" if pd.isna(r.variacion) else f"{r.variacion:+.1f}{unidad}"
        lines.append(
            f"{r.indicador} {r.anio_anterior}→{r.anio}: {r.valor_anterior:,.2f} → {r.valor:,.2f} "
            f"({cambio}; límite ±{r.limite:g}{unidad}, {r.familia})"
        )
    return lines
