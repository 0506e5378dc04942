"""Marts from SQL files, with their descriptions from the YAML beside each file.

A mart's SQL decides its columns; its YAML describes them. Building a mart fails if the two disagree, so the
dictionary and `COMMENT ON` can never drift from the table analysts query.

Each topic keeps its SQL beside its code (`vraem_pipeline/<topic>/sql/{intermedio,marts,indicadores}/`, dbt-style:
a mart's YAML beside its SQL); what is shared by every topic is in `core/sql/`. Files are found by that convention
— a name is unique across the package — so no module keeps a list of them.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from vraem_pipeline.core.sqltext import sql_literal

PACKAGE_DIR = Path(__file__).resolve().parents[1]


def sql_path(relative: str) -> Path:
    """`<area>/sql/<relative>` of the one area (a topic, or core) that has it."""
    found = sorted(PACKAGE_DIR.glob(f"*/sql/{relative}"))
    if len(found) != 1:
        raise FileNotFoundError(f"sql/{relative}: {'no existe' if not found else f'está {len(found)} veces: {found}'}")
    return found[0]


#: Decimal places kept when a DOUBLE is summed or averaged in SQL (`vraem_exacto`). DuckDB adds a DOUBLE column
#: in whatever order its threads and hash tables hand the rows over, and floating-point addition is not
#: associative: two refreshes of the same files gave marts that differed in the last digit. A DECIMAL sum is
#: exact, so it is the same in any order. Each term is rounded to ten places — far below a cent of sales or
#: balances, a sol of a GDP figure in miles de soles or a printed percentage — and 38 digits leave 28 for the
#: integer part (a national year of declared sales is ~10^12 soles).
EXACT_SUM_DECIMALS = 10

#: `sum(vraem_exacto(x))`, `avg(vraem_exacto(x))`, `sum(vraem_exacto(x)) OVER (…)`: the DOUBLE x as
#: DECIMAL(38, DECIMALES_SUMA_EXACTA), so that the aggregate does not depend on the order of the rows.
SQL_MACROS = [f"CREATE OR REPLACE TEMP MACRO vraem_exacto(x) AS x::DECIMAL(38, {EXACT_SUM_DECIMALS})"]


def register_macros(con: duckdb.DuckDBPyConnection) -> None:
    """The macros the SQL of `sql/` uses (temporary: one connection each)."""
    for macro in SQL_MACROS:
        con.execute(macro)


def sql_text(relative: str) -> str:
    return sql_path(relative).read_text(encoding="utf-8")


@cache
def mart_meta(name: str) -> dict:
    meta = yaml.safe_load(sql_path(f"marts/{name}.yaml").read_text(encoding="utf-8"))
    if not {"descripcion", "fuente", "columnas"} <= set(meta):
        raise ValueError(f"{name}.yaml: faltan claves descripcion/fuente/columnas")
    return meta


def mart_names() -> list[str]:
    """Every marts table of the package (its YAML is what makes it one)."""
    return sorted(p.stem for p in PACKAGE_DIR.glob("*/sql/marts/*.yaml"))


def topic_marts(area: str) -> list[str]:
    """The marts tables a topic (or `core`) keeps in its `sql/marts/`."""
    return sorted(p.stem for p in (PACKAGE_DIR / area / "sql" / "marts").glob("*.yaml"))


def comment_table(con: duckdb.DuckDBPyConnection, table: str, meta: dict) -> None:
    con.execute(f"COMMENT ON TABLE {table} IS {sql_literal(meta['descripcion'] + '. Fuente: ' + meta['fuente'])}")
    for col, info in meta["columnas"].items():
        con.execute(
            f'COMMENT ON COLUMN {table}."{col}" IS {sql_literal(info["descripcion"] + " [" + info["unidad"] + "]")}'
        )


def check_columns(con: duckdb.DuckDBPyConnection, table: str, meta: dict, label: str) -> None:
    schema, name = table.split(".")
    actual = [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
            [schema, name],
        ).fetchall()
    ]
    expected = list(meta["columnas"])
    if actual != expected:
        raise ValueError(f"{label}: columnas {actual} ≠ descritas {expected}")


def build_mart(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> int:
    """CREATE OR REPLACE marts.<name> from sql/marts/<name>.sql; verify and comment its columns."""
    table = f"marts.{name}"
    register_macros(con)
    con.execute(f"CREATE OR REPLACE TABLE {table} AS {sql_text(f'marts/{name}.sql')}", params or {})
    meta = mart_meta(name)
    check_columns(con, table, meta, f"sql/marts/{name}.sql")
    comment_table(con, table, meta)
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def write_mart_frame(con: duckdb.DuckDBPyConnection, name: str, df: pd.DataFrame) -> int:
    """For marts computed in Python (survey estimates): same YAML contract as the SQL marts."""
    meta = mart_meta(name)
    df = df[list(meta["columnas"])]
    con.register("_vraem_mart", df)
    con.execute(f"CREATE OR REPLACE TABLE marts.{name} AS SELECT * FROM _vraem_mart")
    con.unregister("_vraem_mart")
    check_columns(con, f"marts.{name}", meta, name)
    comment_table(con, f"marts.{name}", meta)
    return len(df)


def growth_rows(con: duckdb.DuckDBPyConnection, series_sql: str, prefijo: str, fuente: str) -> pd.DataFrame:
    """The three growth codes of a topic from any `SELECT anio, valor` series."""
    register_macros(con)
    con.execute(f"CREATE OR REPLACE TEMP VIEW serie AS {series_sql}")
    return con.execute(sql_text("indicadores/_crecimiento.sql"), {"prefijo": prefijo, "fuente": fuente}).df()
