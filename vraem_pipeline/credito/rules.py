"""Business credit: which SBS balances count, what amount is "credit", and where a debtor is
(docs/sources.md#sbs-deudores).

Every choice is a named parameter recorded next to the results (`meta.parametros`, tema `credito`), because
none of them is printed in the report and each moves its figures:

* **Which credit.** Business credit = the SBS types flagged `credito_empresarial` in `sbs_tipo_credito.csv`
  (06 corporativos … 10 microempresas). The split is by the SBS type — set by the debtor's debt in the
  system, not by its sales — so it is not the Ley 30056 stratum of the firm block (docs/sources.md#sbs-tipos-credito).
* **Which amount.** The report says "crédito otorgado", but its figures behave like a year-end stock
  (docs/sources.md#sbs-saldo): the amount is the direct-credit balance at December, the only month read.
* **Where.** A debtor is placed by the fiscal-domicile ubigeo of the same year's Padrón RUC cut, whatever its
  Estado or Tipo there (the credit type, not the tax status, makes it business credit): a RUC by its own row,
  a DNI through the RUC 10 that carries it ('10' + DNI + check digit). A debtor that cannot be placed keeps
  its balance in `intermedio.credito_empresarial` with no ubigeo and the reason; it is counted, never
  dropped, and a warning check reports it per year.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import duckdb
import pandas as pd

from vraem_pipeline.core.databases import replace_years_from_sql
from vraem_pipeline.core.marts import sql_text
from vraem_pipeline.core.references import reference_csv
from vraem_pipeline.core.sqlrules import register_macros

TABLE = "intermedio.credito_empresarial"


@cache
def _credit_types() -> pd.DataFrame:
    df = reference_csv("sbs_tipo_credito.csv")
    bad = sorted(set(df["credito_empresarial"]) - {"si", "no"})
    if bad:
        raise ValueError(f"sbs_tipo_credito.csv: credito_empresarial debe ser si/no, hay {bad}")
    return pd.DataFrame(
        {
            "codigo": df["codigo"],
            "nombre": df["tipo_credito"],
            "clave": df["clave"],
            "credito_empresarial": df["credito_empresarial"] == "si",
            "criterio_resumen": df["criterio_resumen"],
        }
    )


def credit_types() -> pd.DataFrame:
    """SBS credit types 06–13 (`referencia.tipos_credito`): code, official name, the key the marts use and
    whether it is business credit."""
    return _credit_types().copy()


@dataclass(frozen=True)
class CreditRule:
    """The definitions behind the credit block; defaults are the working hypothesis of docs/sources.md#sbs."""

    business_credit_kinds: tuple[str, ...] = field(
        default_factory=lambda: tuple(credit_types().query("credito_empresarial")["codigo"])
    )
    #: tipo_documento codes that can be placed: a DNI through its RUC 10, a RUC by itself
    dni_document_code: str = "1"
    ruc_document_code: str = "6"
    #: the warning check fails when more than this share of a year's business balance (national) has no place
    max_unlocated_balance_pct: float = 2.0

    def descriptions(self) -> dict[str, tuple[object, str]]:
        return {
            "tipos_credito_empresarial": (
                list(self.business_credit_kinds),
                "Tipos de crédito SBS que son crédito empresarial (sbs_tipo_credito.csv, "
                "columna credito_empresarial; Res. SBS N° 11356-2008). La apertura por tipo "
                "es la del tipo de crédito SBS (según endeudamiento), no el estrato por "
                "ventas de la Ley 30056",
            ),
            "monto": (
                "saldo_a_diciembre",
                "El crédito que el reporte llama 'otorgado' se mide como el saldo de créditos directos a "
                "diciembre del año (archivo deudores_<año>12), no como desembolsos del año",
            ),
            "ubicacion": (
                "padron_ruc_del_anio",
                "Cada deudor se ubica con el ubigeo del domicilio fiscal en el corte del Padrón RUC que "
                "cierra el mismo año (staging.padron_ruc, todas sus filas), cualquiera sea su Estado o Tipo",
            ),
            "ubicacion_por_documento": (
                {
                    self.ruc_document_code: "RUC propio",
                    self.dni_document_code: "RUC 10 = '10' + DNI + dígito verificador",
                },
                "Cómo se ubica cada tipo de documento; otros tipos de documento no se pueden "
                "ubicar y quedan sin ubigeo",
            ),
            "territorio": (
                "distritos_del_territorio",
                "Crédito del territorio = saldo de los deudores ubicados en los distritos de "
                "referencia.territorio; un deudor sin ubicar no entra en ningún territorio",
            ),
            "max_saldo_sin_ubicar_pct": (
                self.max_unlocated_balance_pct,
                "El control deudores_sin_ubicar advierte si el saldo empresarial sin ubicar "
                "supera este porcentaje del saldo empresarial nacional del año",
            ),
        }


def _params(years: list[int], rule: CreditRule) -> dict:
    return {
        "anios": years,
        "tipos": list(rule.business_credit_kinds),
        "dni": rule.dni_document_code,
        "ruc": rule.ruc_document_code,
    }


def build_business_credit(con: duckdb.DuckDBPyConnection, years: list[int], rule: CreditRule) -> pd.DataFrame:
    """Replace the `years` of intermedio.credito_empresarial (business-credit rows, located); returns per year
    the rows, debtors and balance, and how much of them has no place."""
    register_macros(con)
    select = sql_text("intermedio/credito_empresarial.sql")
    shape = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM ({select})", _params(years, rule)).fetchall()]
    existing = [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'intermedio' "
            "AND table_name = 'credito_empresarial' ORDER BY column_index"
        ).fetchall()
    ]
    if existing and existing != shape:
        # a table built by an older version of this SQL: it is derived data, so rebuild every staged year
        staged = [r[0] for r in con.execute("SELECT DISTINCT anio FROM staging.sbs_deudores").fetchall()]
        years = sorted(set(years) | set(staged))
        con.execute(f"DROP TABLE {TABLE}")
    params = _params(years, rule)
    replace_years_from_sql(con, TABLE, select, params, years)
    return unlocated_by_year(con, years)


def unlocated_by_year(con: duckdb.DuckDBPyConnection, years: list[int] | None) -> pd.DataFrame:
    """Per year: business-credit debtors and balance, and those with no ubigeo (count, S/ millions, %)."""
    where = f"WHERE anio IN ({','.join(map(str, years))})" if years else ""
    return con.execute(
        f"""SELECT anio, count(*) AS filas,
                   count(DISTINCT (tipo_documento, numero_documento)) AS deudores,
                   round(sum(saldo_soles) / 1e6, 3) AS saldo_millones,
                   count(DISTINCT (tipo_documento, numero_documento)) FILTER (WHERE ubigeo IS NULL)
                       AS deudores_sin_ubicar,
                   round(coalesce(sum(saldo_soles) FILTER (WHERE ubigeo IS NULL), 0) / 1e6, 3)
                       AS saldo_sin_ubicar_millones,
                   round(100.0 * coalesce(sum(saldo_soles) FILTER (WHERE ubigeo IS NULL), 0)
                         / nullif(sum(saldo_soles), 0), 3) AS saldo_sin_ubicar_pct
            FROM {TABLE} {where} GROUP BY anio ORDER BY anio"""
    ).df()


def unlocated_by_reason(con: duckdb.DuckDBPyConnection, years: list[int] | None) -> pd.DataFrame:
    where = f"AND anio IN ({','.join(map(str, years))})" if years else ""
    return con.execute(
        f"""SELECT anio, motivo_sin_ubicar, count(DISTINCT (tipo_documento, numero_documento)) AS deudores,
                   round(sum(saldo_soles) / 1e6, 3) AS saldo_millones
            FROM {TABLE} WHERE ubigeo IS NULL {where} GROUP BY ALL ORDER BY anio, motivo_sin_ubicar"""
    ).df()
