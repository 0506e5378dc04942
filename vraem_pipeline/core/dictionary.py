"""meta.diccionario, generated from the two places descriptions live: pandera schemas and marts YAML."""

from __future__ import annotations

import duckdb
import pandas as pd
import pandera.pandas as pa

from vraem_pipeline.core.marts import mart_meta, mart_names
from vraem_pipeline.credito import schema as credito_schemas
from vraem_pipeline.empresas import schema as empresas_schemas
from vraem_pipeline.empleo import schema as enaho_schemas
from vraem_pipeline.exportaciones.schema import EXPORTACIONES
from vraem_pipeline.pbi.schema import INEI_VAB

STAGING_SCHEMAS: list[tuple[str, pa.DataFrameSchema, str]] = [
    ("staging.padron_ruc", empresas_schemas.PADRON, "SUNAT, Padrón RUC (datos abiertos)"),
    ("staging.ventas_declaradas", empresas_schemas.VENTAS, "SUNAT, ventas netas declaradas"),
    ("staging.enaho_personas", enaho_schemas.SCHEMA_PERSONAS, "INEI, ENAHO módulo 500"),
    ("staging.enaho_salud", enaho_schemas.SCHEMA_SALUD, "INEI, ENAHO módulo 400"),
    ("staging.exportaciones", EXPORTACIONES, "SUNAT, Aduanas, exportaciones definitivas"),
    ("staging.sbs_deudores", credito_schemas.DEUDORES, "SBS, saldos de créditos directos por deudor a diciembre"),
    ("staging.inei_vab", INEI_VAB, "INEI, PBI por departamentos a precios constantes de 2007"),
]


def dictionary_rows(existing: set[str]) -> pd.DataFrame:
    rows = []
    for name in mart_names():
        table = f"marts.{name}"
        if table not in existing:
            continue
        meta = mart_meta(name)
        rows.append(("marts", name, None, meta["descripcion"], None, meta["fuente"]))
        rows += [("marts", name, col, info["descripcion"], info["unidad"], meta["fuente"])
                 for col, info in meta["columnas"].items()]
    for table, schema, fuente in STAGING_SCHEMAS:
        if table not in existing:
            continue
        esquema, name = table.split(".")
        rows.append((esquema, name, None, schema.description, None, fuente))
        rows += [(esquema, name, col, c.description, (c.metadata or {}).get("unidad"), fuente)
                 for col, c in schema.columns.items()]
    return pd.DataFrame(rows, columns=["esquema", "tabla", "columna", "descripcion", "unidad", "fuente"])


def parameter_rows(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The definitions that are choices (formal-firm rule, MYPE proxy…), with the value this warehouse used."""
    rows = con.execute("SELECT tema, nombre, valor, descripcion FROM meta.parametros ORDER BY tema, nombre").fetchall()
    return pd.DataFrame(
        [("meta", "parametros", f"{tema}.{nombre}", f"{descripcion}. Valor usado: {valor}", "parámetro",
          "Definición del proyecto (ver README)") for tema, nombre, valor, descripcion in rows],
        columns=["esquema", "tabla", "columna", "descripcion", "unidad", "fuente"],
    )


def write_dictionary(con: duckdb.DuckDBPyConnection) -> int:
    existing = {f"{s}.{t}" for s, t in con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}
    df = pd.concat([dictionary_rows(existing), parameter_rows(con)], ignore_index=True)
    con.register("_dic", df)
    con.execute("CREATE OR REPLACE TABLE meta.diccionario AS SELECT * FROM _dic")
    con.unregister("_dic")
    con.execute("COMMENT ON TABLE meta.diccionario IS 'Diccionario de datos: cada tabla y columna de marts y staging "
                "con su descripción, unidad y fuente'")
    return len(df)
