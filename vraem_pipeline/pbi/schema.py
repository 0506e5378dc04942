"""pandera schemas of the GDP block: INEI's departmental value added as staged, and a user's share table.

Row rules only: a cell that is not a number, negative or missing goes to quarantine with its workbook row and
column. Whether the rows of a table add up (25 departments once each, departments = VAB, VAB + taxes + duties
= PBI) is a property of the whole table, checked by `vraem_pipeline.pbi.allocation.consistency` as a blocking check.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from vraem_pipeline.sources.inei_vab import FIGURE_STATUSES, ROW_KINDS, TOTAL_ACTIVITY, activities

DEPARTMENTS = [f"{code:02d}" for code in range(1, 26)]


def activity_codes_with_total() -> list[str]:
    return [TOTAL_ACTIVITY, *activities()["actividad"]]


def _finite(s: pd.Series) -> pd.Series:
    return pd.Series(np.isfinite(s.to_numpy(dtype="float64")), index=s.index)


def _rule(builtin, *args, name: str, **kwargs) -> pa.Check:
    return builtin(*args, name=name, error=name, **kwargs)


def _department_where_applicable(df: pd.DataFrame) -> pd.Series:
    """Department and subdivision rows carry a department code; national rows (VAB, PBI…) do not."""
    needs = df["tipo_fila"].isin(["departamento", "subdivision"])
    return needs == df["ubigeo_departamento"].notna()


INEI_VAB = pa.DataFrameSchema(
    {
        "archivo": pa.Column(str, description="Libro del INEI leído (raw/inei/vab/…)", metadata={"unidad": "ruta"}),
        "linea": pa.Column(
            "int64",
            _rule(pa.Check.ge, 1, name="linea_positiva"),
            description="Fila de la hoja en el libro (como la numera Excel)",
            metadata={"unidad": "fila"},
        ),
        "columna": pa.Column(
            str, description="Columna de la hoja (letra de Excel) de la cifra", metadata={"unidad": "columna"}
        ),
        "actividad": pa.Column(
            str,
            _rule(pa.Check.isin, activity_codes_with_total(), name="actividad_inei"),
            description="Actividad del cuadro: 'total' (todas) o una de las 12 del INEI (referencia.actividades_inei)",
            metadata={"unidad": "código"},
        ),
        "etiqueta": pa.Column(
            str, description="Etiqueta de la fila tal como la publica el INEI", metadata={"unidad": "texto"}
        ),
        "tipo_fila": pa.Column(
            str,
            _rule(pa.Check.isin, list(ROW_KINDS), name="tipo_fila"),
            description="departamento; subdivision (subfila de Lima que duplica parte de Lima, no "
            "se suma); vab, impuestos_productos, derechos_importacion, pbi (filas "
            "nacionales)",
            metadata={"unidad": "categoría"},
        ),
        "ubigeo_departamento": pa.Column(
            str,
            _rule(pa.Check.isin, DEPARTMENTS, name="departamento_inei"),
            nullable=True,
            description="Código INEI del departamento (07 Callao, 15 Lima); vacío en las filas nacionales",
            metadata={"unidad": "código"},
        ),
        "anio": pa.Column(
            "int64",
            _rule(pa.Check.in_range, 2007, 2100, name="anio_base_2007"),
            description="Año de la cifra (columna del cuadro)",
            metadata={"unidad": "año"},
        ),
        "estado_cifra": pa.Column(
            str,
            _rule(pa.Check.isin, list(FIGURE_STATUSES.values()), name="estado_cifra"),
            description="Marca del año en la cabecera del INEI: P/ = preliminar, E/ = estimada, sin marca = definitiva",
            metadata={"unidad": "categoría"},
        ),
        "valor_miles_soles": pa.Column(
            "float64",
            [
                _rule(pa.Check.ge, 0, name="valor_no_negativo"),
                pa.Check(_finite, name="valor_finito", error="valor_finito"),
            ],
            description="Valor a precios constantes de 2007, convertido a miles de soles "
            "desde la unidad del título del cuadro",
            metadata={"unidad": "miles de soles de 2007"},
        ),
        "edicion": pa.Column(
            str,
            nullable=True,
            description="Edición del cuadro: su línea 'Con información disponible a …'",
            metadata={"unidad": "texto"},
        ),
    },
    checks=[
        pa.Check(_department_where_applicable, name="departamento_si_corresponde", error="departamento_si_corresponde")
    ],
    strict=True,
    coerce=True,
    name="staging.inei_vab",
    description="INEI, PBI y VAB por departamentos a precios constantes de 2007 (edición más reciente de "
    "raw/inei/vab/): una fila por fila del cuadro y año, validada",
)


SHARES_TABLE = pa.DataFrameSchema(
    {
        "ubigeo_departamento": pa.Column(str, _rule(pa.Check.isin, DEPARTMENTS, name="departamento_inei")),
        "actividad": pa.Column(str, _rule(pa.Check.isin, activity_codes_with_total(), name="actividad_inei")),
        "anio": pa.Column("Int64", _rule(pa.Check.in_range, 2007, 2100, name="anio_base_2007"), nullable=True),
        "participacion_pct": pa.Column(
            "float64",
            [
                _rule(pa.Check.in_range, 0, 100, name="participacion_entre_0_y_100"),
                pa.Check(_finite, name="valor_finito", error="valor_finito"),
            ],
        ),
        "linea": pa.Column("int64"),
    },
    unique=["ubigeo_departamento", "actividad", "anio"],
    report_duplicates="exclude_first",
    strict=True,
    coerce=True,
    name="tabla_participaciones",
    description="Participaciones del territorio en el VAB de cada departamento (y actividad) dadas por el usuario",
)
