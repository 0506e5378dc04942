"""Staging schemas of the firm register: Padrón RUC cuts and declared sales."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from vraem_pipeline.core.lineage import lineage
from vraem_pipeline.core.ruc import PATTERN as RUC_PATTERN
from vraem_pipeline.core.ruc import check_digit_ok


def _ruc_column(description: str) -> pa.Column:
    return pa.Column(
        str,
        [
            pa.Check.str_matches(RUC_PATTERN, error="ruc_formato"),
            pa.Check(
                check_digit_ok,
                name="ruc_digito_verificador",
                error="ruc_digito_verificador",
                statistics={"sql": "vraem_ruc_valido({col})"},
            ),
        ],
        description=description,
        metadata={"unidad": "código"},
    )


def _publication_period_of_year(df: pd.DataFrame) -> pd.Series:
    """A row's PERIODO_PUBLICACION, when it has a well-formed one, is of the folder's year. A missing period is
    no evidence (the row is its cut's); a malformed one is `periodo_aaaamm`'s business, not this rule's."""
    periodo = df["periodo_publicacion"].astype("string")
    formed = periodo.str.fullmatch(r"\d{6}").fillna(False).astype(bool)
    same_year = (periodo.str[:4] == df["anio"].astype("string")).fillna(False).astype(bool)
    return ~formed | same_year


#: SQL of `_publication_period_of_year` (`{anio}` is the load's year, as in the customs date rule).
_PERIOD_OF_YEAR_SQL = (
    "{periodo_publicacion} IS NULL OR NOT (length({periodo_publicacion}) = 6 AND "
    "{periodo_publicacion} GLOB '[0-9][0-9][0-9][0-9][0-9][0-9]') "
    "OR left({periodo_publicacion}, 4) = CAST({anio} AS VARCHAR)"
)


PADRON = pa.DataFrameSchema(
    {
        "ruc": _ruc_column("RUC del contribuyente (11 dígitos, dígito verificador SUNAT válido)"),
        "estado": pa.Column(
            str,
            pa.Check.str_length(min_value=1, error="estado_no_vacio"),
            description="Estado del contribuyente en el corte (ACTIVO, BAJA DE OFICIO…)",
            metadata={"unidad": "categoría"},
        ),
        "condicion": pa.Column(
            str,
            nullable=True,
            description="Condición de domicilio (HABIDO, NO HABIDO…)",
            metadata={"unidad": "categoría"},
        ),
        "tipo": pa.Column(
            str, nullable=True, description="Tipo de contribuyente según SUNAT", metadata={"unidad": "categoría"}
        ),
        "actividad_ciiu4": pa.Column(
            str,
            nullable=True,
            description="Actividad económica principal CIIU Rev.4 (texto SUNAT, sin código)",
            metadata={"unidad": "texto"},
        ),
        "nro_trab": pa.Column(
            str,
            pa.Check.str_matches(r"^\d+$", error="nro_trab_entero"),
            nullable=True,
            description="Número de trabajadores en planilla (texto; vacío si NO DISPONIBLE)",
            metadata={"unidad": "trabajadores"},
        ),
        "comercio_exterior": pa.Column(
            str, nullable=True, description="Actividad de comercio exterior declarada", metadata={"unidad": "categoría"}
        ),
        "ubigeo": pa.Column(
            str,
            pa.Check.str_matches(r"^\d{6}$", error="ubigeo_6_digitos"),
            nullable=True,
            description="Ubigeo INEI del domicilio fiscal (6 dígitos)",
            metadata={"unidad": "código"},
        ),
        "periodo_publicacion": pa.Column(
            str,
            pa.Check.str_matches(r"^\d{6}$", error="periodo_aaaamm"),
            nullable=True,
            description="Periodo de publicación del corte (AAAAMM); vacío si SUNAT no "
            "lo trae ('-'); de otro año que la carpeta: a cuarentena",
            metadata={"unidad": "AAAAMM"},
        ),
        **lineage(),
    },
    # a stray row of another year is quarantined here; a cut whose rows are mostly of another period than its
    # name is refused whole before (sources/periodos.py)
    checks=[
        pa.Check(
            _publication_period_of_year,
            name="periodo_publicacion_del_anio",
            error="periodo_publicacion_del_anio",
            statistics={"sql": _PERIOD_OF_YEAR_SQL, "columnas": ["periodo_publicacion", "anio"]},
        )
    ],
    unique=["anio", "ruc"],
    report_duplicates="exclude_first",
    strict=True,
    name="staging.padron_ruc",
    description="Padrón RUC de SUNAT (datos abiertos): corte que cierra cada año, filas validadas",
)


def _finite(s: pd.Series) -> pd.Series:
    return pd.Series(np.isfinite(s.to_numpy(dtype="float64")), index=s.index)


def _fiscal_year_of_year(df: pd.DataFrame) -> pd.Series:
    return df["ejercicio"] == df["anio"]


VENTAS = pa.DataFrameSchema(
    {
        "ruc": _ruc_column("RUC del contribuyente declarante"),
        "ejercicio": pa.Column("int64", description="Ejercicio fiscal declarado", metadata={"unidad": "año"}),
        "ventas_netas": pa.Column(
            "float64",
            [
                pa.Check.ge(0, error="ventas_no_negativas"),
                pa.Check(_finite, name="valor_finito", error="valor_finito", statistics={"sql": "isfinite({col})"}),
            ],
            nullable=True,
            description="Ventas netas anuales declaradas (vacío si no declaró)",
            metadata={"unidad": "soles"},
        ),
        **lineage(),
    },
    checks=[
        pa.Check(
            _fiscal_year_of_year,
            name="ejercicio_del_anio",
            error="ejercicio_del_anio",
            statistics={"sql": "{ejercicio} = {anio}", "columnas": ["ejercicio", "anio"]},
        )
    ],
    unique=["anio", "ruc"],
    report_duplicates="exclude_first",
    strict=True,
    coerce=True,
    name="staging.ventas_declaradas",
    description="Ventas netas anuales declaradas a SUNAT por contribuyente y ejercicio, filas validadas",
)
