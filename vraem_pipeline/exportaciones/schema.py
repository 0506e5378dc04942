"""Staging schema of definitive-export lines (SUNAT customs, docs/sources.md#aduanas-reglas).

Only what makes a line unusable sends it to quarantine: an amount that is not a number or is negative, a date
that does not exist or lies outside the year ± 1, a NANDINA that is not ten digits, a regime other than
definitive export, a repeated key. A missing or unknown ubigeo, an unknown country or an exporter RUC that
fails its check digit keep the line: its FOB still counts for Peru, and the warning checks of the exports block
report how much of it could not be placed.

The line key `(cadu, fano, ndcl, nser)` is unique within a year — with SQL `UNIQUE` semantics (`sqlrules`): a line
without `fano, ndcl, nser` is never a repeat. Those are the lines of PRODUCE's delivery with exactly the columns
of docs/sources.md#aduanas-entrega-produce, which carries no line key; each of its lines counts (the reader refuses such
a delivery beside any other export file of the year, which it could not be deduplicated against). A line with some key
parts and not others (`clave_incompleta`) is unusable: its file has the key, so it could repeat a line unseen.

Dates of the year ± 1 (`fechas_del_anio`): each of the line's numbering (`fnum`) and shipment (`femb`) dates
that is present. The delivery without the key has no `fnum`, so its lines are checked on `femb` alone. Its `freg`
(fecha de regularización; in the weekly files it sits beside `NDCLREG` and `FANOREG`, the regularization's own
number and year — [I]) is not read: it dates a later step, not the export, and could fall outside the year ± 1
for a late regularization ([I]), quarantining a good line. A line with no `femb` (`0`) has no date to check:
PRODUCE's pipeline back-fills it from `freg`, this one leaves it missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from vraem_pipeline.core.lineage import lineage


def _finite(s: pd.Series) -> pd.Series:
    return pd.Series(np.isfinite(s.to_numpy(dtype="float64")), index=s.index)


def _definitive_export(s: pd.Series) -> pd.Series:
    import unicodedata

    def norm(v: str) -> str:
        return unicodedata.normalize("NFKD", v).encode("ascii", "ignore").decode().strip().lower()

    return s.map(norm) == "exportacion definitiva"


def _dates_in_year(df: pd.DataFrame) -> pd.Series:
    ok = pd.Series(True, index=df.index)
    for col in ("fecha_numeracion", "fecha_embarque"):
        years = pd.to_datetime(df[col]).dt.year
        ok &= years.isna() | years.between(df["anio"] - 1, df["anio"] + 1)
    return ok


KEY_PARTS = ("fano", "ndcl", "nser")


def _key_all_or_none(df: pd.DataFrame) -> pd.Series:
    missing = df[list(KEY_PARTS)].isna()
    return missing.all(axis=1) | ~missing.any(axis=1)


def _key_rule_sql() -> str:
    """On the values as they are (not `{fano}`, the typed one): a FANO that is not a number is `tipo_de_dato`,
    not a missing key part as well."""
    return " AND ".join(f'("{a}" IS NULL) = ("{b}" IS NULL)' for a, b in zip(KEY_PARTS, KEY_PARTS[1:], strict=False))


def _date_rule_sql() -> str:
    return " AND ".join(
        f"({{{c}}} IS NULL OR year({{{c}}}) BETWEEN {{anio}} - 1 AND {{anio}} + 1)"
        for c in ("fecha_numeracion", "fecha_embarque")
    )


KEYLESS = "vacío en las líneas de la entrega en texto sin clave de línea"


def _amount(description: str, unidad: str, nullable: bool, rule: str) -> pa.Column:
    return pa.Column(
        "float64",
        [
            pa.Check.ge(0, error=rule),
            pa.Check(_finite, name="valor_finito", error="valor_finito", statistics={"sql": "isfinite({col})"}),
        ],
        nullable=nullable,
        description=description,
        metadata={"unidad": unidad},
    )


EXPORTACIONES = pa.DataFrameSchema(
    {
        "regimen": pa.Column(
            str,
            pa.Check(
                _definitive_export,
                name="regimen_exportacion_definitiva",
                error="regimen_exportacion_definitiva",
                statistics={"sql": "lower(strip_accents({col})) = 'exportacion definitiva'"},
            ),
            nullable=True,
            description="Régimen aduanero (solo en la entrega en texto; los x*.zip son todos exportación definitiva)",
            metadata={"unidad": "texto"},
        ),
        "cadu": pa.Column(
            str,
            pa.Check.str_matches(r"^\d{3}$", error="aduana_3_digitos"),
            description="Código de la aduana de despacho",
            metadata={"unidad": "código"},
        ),
        "fano": pa.Column(
            "int64",
            pa.Check.in_range(1990, 2100, error="anio_dam_valido"),
            nullable=True,
            description=f"Año de la DAM ({KEYLESS})",
            metadata={"unidad": "año"},
        ),
        "ndcl": pa.Column(
            str,
            pa.Check.str_matches(r"^\d{6,}$", error="numero_dam"),
            nullable=True,
            description=f"Número de la DAM (declaración aduanera de mercancías; {KEYLESS})",
            metadata={"unidad": "código"},
        ),
        "nser": pa.Column(
            "int64",
            pa.Check.ge(1, error="serie_positiva"),
            nullable=True,
            description=f"Número de serie (ítem) dentro de la DAM ({KEYLESS})",
            metadata={"unidad": "número"},
        ),
        "fecha_numeracion": pa.Column(
            "date", nullable=True, description="Fecha de numeración de la DAM", metadata={"unidad": "fecha"}
        ),
        "fecha_embarque": pa.Column(
            "date", nullable=True, description="Fecha de embarque", metadata={"unidad": "fecha"}
        ),
        "ruc_exportador": pa.Column(
            str, nullable=True, description="RUC del exportador (NDOC), tal como viene", metadata={"unidad": "código"}
        ),
        "exportador": pa.Column(
            str, nullable=True, description="Razón social del exportador", metadata={"unidad": "texto"}
        ),
        "ubigeo": pa.Column(
            str,
            nullable=True,
            description="Ubigeo declarado de origen de la mercancía (vacío o 999999 en la fuente: sin ubigeo)",
            metadata={"unidad": "código"},
        ),
        "nandina": pa.Column(
            str,
            pa.Check.str_matches(r"^\d{10}$", error="nandina_10_digitos"),
            description="Subpartida NANDINA de 10 dígitos (sin puntos, ceros a la izquierda restituidos)",
            metadata={"unidad": "código"},
        ),
        "pais_sunat": pa.Column(
            str,
            nullable=True,
            description="Código SUNAT del país de destino, tal como viene",
            metadata={"unidad": "código"},
        ),
        "fob_usd": _amount("Valor FOB de la serie", "US$", False, "fob_no_negativo"),
        "peso_neto_kg": _amount("Peso neto de la serie", "kg", True, "peso_no_negativo"),
        **lineage(
            first_line=1,
            line_rule="linea_positiva",
            line_description="Número de registro en el DBF (desde 1, contando los borrados) o línea "
            "física del archivo de texto (la cabecera es la 1)",
        ),
    },
    checks=[
        pa.Check(
            _dates_in_year,
            name="fechas_del_anio",
            error="fechas_del_anio",
            statistics={"sql": _date_rule_sql(), "columnas": ["fecha_numeracion", "fecha_embarque", "anio"]},
        ),
        pa.Check(
            _key_all_or_none,
            name="clave_incompleta",
            error="clave_incompleta",
            statistics={"sql": _key_rule_sql(), "columnas": list(KEY_PARTS)},
        ),
    ],
    unique=["anio", "cadu", "fano", "ndcl", "nser"],
    report_duplicates="exclude_first",
    strict=True,
    coerce=True,
    name="staging.exportaciones",
    description="Exportaciones definitivas de SUNAT (Aduanet x*.zip y entrega en texto), una fila por serie de "
    "DAM, sin repeticiones entre archivos (salvo la entrega sin clave de línea: fano, ndcl y nser "
    "vacíos, repeticiones no detectables)",
)
