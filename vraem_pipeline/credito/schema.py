"""Staging schema of the SBS debtor balances (docs/sources.md#sbs-deudores): one row per debtor, entity and credit type.

A debtor's document is only as good as its type says: a DNI is 8 digits, a RUC carries SUNAT's check digit,
any other document (carné de extranjería, pasaporte…) is kept but can never be located. Those rules read two
columns, so they are table-level checks with their SQL beside the pandas version.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from vraem_pipeline.core.lineage import lineage
from vraem_pipeline.core.references import reference_csv
from vraem_pipeline.core.ruc import PATTERN as RUC_PATTERN
from vraem_pipeline.core.ruc import WEIGHTS

#: `TIPO_DOCUMENTO` codes the rules know (docs/sources.md#sbs-deudores); other well-formed codes stay, unlocatable.
DNI, RUC = "1", "6"

#: SBS credit types 06–13 (sbs_tipo_credito.csv): any other code is not a direct-credit balance of the report.
CREDIT_KIND_CODES = tuple(reference_csv("sbs_tipo_credito.csv")["codigo"])


def _finite(s: pd.Series) -> pd.Series:
    return pd.Series(np.isfinite(s.to_numpy(dtype="float64")), index=s.index)


def _period_of_year(df: pd.DataFrame) -> pd.Series:
    return df["periodo"] == df["anio"].astype(str) + "12"


def _is_document(df: pd.DataFrame, tipo: str) -> pd.Series:
    return df["tipo_documento"].astype("string").fillna("") == tipo


def _number_text(df: pd.DataFrame) -> pd.Series:
    return df["numero_documento"].astype("string").fillna("")


def _dni_8_digits(df: pd.DataFrame) -> pd.Series:
    return ~_is_document(df, DNI) | _number_text(df).str.fullmatch(r"\d{8}").fillna(False).astype(bool)


def _ruc_format(df: pd.DataFrame) -> pd.Series:
    return ~_is_document(df, RUC) | _number_text(df).str.fullmatch(RUC_PATTERN.strip("^$")).fillna(False).astype(bool)


def _ruc_check_digit(df: pd.DataFrame) -> pd.Series:
    """Only the check digit of an 11-digit number (its prefix is `ruc_formato`'s business)."""
    numero = _number_text(df)
    ok = np.ones(len(df), dtype=bool)
    once = numero.str.fullmatch(r"\d{11}").fillna(False).to_numpy(dtype=bool)
    filas = np.flatnonzero(_is_document(df, RUC).to_numpy(dtype=bool) & once)
    if len(filas):
        d = np.frombuffer("".join(numero.iloc[filas]).encode("ascii"), dtype=np.uint8).reshape(-1, 11)
        d = d.astype(np.int64) - ord("0")
        ok[filas] = (11 - (d[:, :10] @ WEIGHTS) % 11) % 10 == d[:, 10]
    return pd.Series(ok, index=df.index)


DEUDORES = pa.DataFrameSchema(
    {
        # no pattern of its own: periodo_del_anio (equal to <año>12) already rejects any other text
        "periodo": pa.Column(
            str,
            description="Periodo del saldo (AAAAMM); debe ser diciembre del año de la carpeta",
            metadata={"unidad": "AAAAMM"},
        ),
        "tipo_documento": pa.Column(
            str,
            pa.Check.str_matches(r"^\d{1,2}$", error="tipo_documento_formato"),
            description="Tipo de documento del deudor según la SBS: 1 DNI, 6 RUC; otros "
            "códigos (carné de extranjería, pasaporte…) se conservan pero no "
            "se pueden ubicar",
            metadata={"unidad": "código"},
        ),
        "numero_documento": pa.Column(
            str,
            pa.Check.str_matches(r"^[0-9A-Za-z]{1,20}$", error="documento_formato"),
            description="Número de documento del deudor (DNI de 8 dígitos, RUC de 11 con "
            "dígito verificador SUNAT); dato personal bajo secreto bancario",
            metadata={"unidad": "código"},
        ),
        "codigo_entidad": pa.Column(
            str, description="Código SBS de la empresa del sistema financiero acreedora", metadata={"unidad": "código"}
        ),
        "tipo_credito": pa.Column(
            str,
            pa.Check.isin(list(CREDIT_KIND_CODES), error="tipo_credito_sbs"),
            description="Tipo de crédito SBS (06–13, Res. SBS N° 11356-2008; referencia.tipos_credito)",
            metadata={"unidad": "código"},
        ),
        "saldo_soles": pa.Column(
            "float64",
            [
                pa.Check.ge(0, error="saldo_no_negativo"),
                pa.Check(_finite, name="valor_finito", error="valor_finito", statistics={"sql": "isfinite({col})"}),
            ],
            description="Saldo de créditos directos a fin de mes (diciembre)",
            metadata={"unidad": "soles"},
        ),
        **lineage(),
    },
    checks=[
        pa.Check(
            _period_of_year,
            name="periodo_del_anio",
            error="periodo_del_anio",
            statistics={"sql": "{periodo} = CAST({anio} AS VARCHAR) || '12'", "columnas": ["periodo", "anio"]},
        ),
        # `{{8}}`: the SQL is a str.format template over the columns, so a regex quantifier doubles its braces
        pa.Check(
            _dni_8_digits,
            name="dni_8_digitos",
            error="dni_8_digitos",
            statistics={
                "sql": "{tipo_documento} <> '1' OR regexp_full_match({numero_documento}, '[0-9]{{8}}')",
                "columnas": ["tipo_documento", "numero_documento"],
            },
        ),
        pa.Check(
            _ruc_format,
            name="ruc_formato",
            error="ruc_formato",
            statistics={
                "sql": "{tipo_documento} <> '6' OR regexp_full_match({numero_documento}, '(10|15|17|20)[0-9]{{9}}')",
                "columnas": ["tipo_documento", "numero_documento"],
            },
        ),
        pa.Check(
            _ruc_check_digit,
            name="ruc_digito_verificador",
            error="ruc_digito_verificador",
            statistics={
                "sql": "{tipo_documento} <> '6' OR NOT regexp_full_match({numero_documento}, "
                "'[0-9]{{11}}') OR vraem_ruc_dv_texto({numero_documento})",
                "columnas": ["tipo_documento", "numero_documento"],
            },
        ),
    ],
    unique=["anio", "tipo_documento", "numero_documento", "codigo_entidad", "tipo_credito"],
    report_duplicates="exclude_first",
    strict=True,
    coerce=True,
    name="staging.sbs_deudores",
    description="Saldos de créditos directos a diciembre por deudor, empresa del sistema financiero y tipo de "
    "crédito (SBS), filas validadas; datos personales: solo en la base de operación",
)
