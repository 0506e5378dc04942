"""meta.diccionario, generated from the two places descriptions live: pandera schemas and marts YAML."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pandas as pd

from vraem_pipeline.core.catalog import Source
from vraem_pipeline.core.marts import mart_meta, mart_names


def dictionary_rows(existing: set[str], sources: Sequence[Source]) -> pd.DataFrame:
    rows = []
    for name in mart_names():
        table = f"marts.{name}"
        if table not in existing:
            continue
        meta = mart_meta(name)
        rows.append(("marts", name, None, meta["descripcion"], None, meta["fuente"]))
        rows += [
            ("marts", name, col, info["descripcion"], info["unidad"], meta["fuente"])
            for col, info in meta["columnas"].items()
        ]
    for source in sources:  # the registry's: every source with a staging table of its own
        if source.table is None or source.table not in existing:
            continue
        esquema, name = source.table.split(".")
        schema = source.schema
        rows.append((esquema, name, None, schema.description, None, source.description))
        rows += [
            (esquema, name, col, c.description, (c.metadata or {}).get("unidad"), source.description)
            for col, c in schema.columns.items()
        ]
    return pd.DataFrame(rows, columns=["esquema", "tabla", "columna", "descripcion", "unidad", "fuente"])


def parameter_rows(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The definitions that are choices (formal-firm rule, MYPE proxy…), with the value this warehouse used."""
    rows = con.execute("SELECT tema, nombre, valor, descripcion FROM meta.parametros ORDER BY tema, nombre").fetchall()
    return pd.DataFrame(
        [
            (
                "meta",
                "parametros",
                f"{tema}.{nombre}",
                f"{descripcion}. Valor usado: {valor}",
                "parámetro",
                "Definición del proyecto (ver docs/methodology/README.md#parameters)",
            )
            for tema, nombre, valor, descripcion in rows
        ],
        columns=["esquema", "tabla", "columna", "descripcion", "unidad", "fuente"],
    )


def write_dictionary(con: duckdb.DuckDBPyConnection, sources: Sequence[Source]) -> int:
    """meta.diccionario: every marts table (its YAML), every staging table of `sources` (its schema) and every
    parameter of meta.parametros."""
    existing = {f"{s}.{t}" for s, t in con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}
    df = pd.concat([dictionary_rows(existing, sources), parameter_rows(con)], ignore_index=True)
    con.register("_dic", df)
    con.execute("CREATE OR REPLACE TABLE meta.diccionario AS SELECT * FROM _dic")
    con.unregister("_dic")
    con.execute(
        "COMMENT ON TABLE meta.diccionario IS 'Diccionario de datos: cada tabla y columna de marts y staging "
        "con su descripción, unidad y fuente'"
    )
    return len(df)
