"""Employment indicators of the report from the staged ENAHO person table (docs/sources.md#enaho-universo).

Input: `staging.enaho_personas` as a DataFrame, one year or several (column `anio`). Output: the three
`marts.empleo_*` tables and the `empleo_*` rows of `marts.indicadores_clave` (docs/methodology/README.md#marts-tables),
every estimate with its linearized CV. The territory enters only as a list of department codes, so the same code serves
any zone.

Universe of every figure: habitual residents (`residente`) who are employed (`ocu500 = 1`), weighted by
`fac500a`, in the departments given (department = first two digits of `ubigeo`). Each year is estimated with its
own file and design (PSU `conglome` within strata), never pooled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from vraem_pipeline.empleo.informality import FORMAL, INFORMAL, compare_with_official
from vraem_pipeline.empleo.survey import SINGLE_PSU_DEFAULT, Estimate, SinglePsu, estimate_ratio, estimate_total

#: Size proxies for "MYPE" jobs. PRODUCE's household-survey definition is not public
#: (docs/sources.md#enaho-mype), so the proxy is a parameter; these texts go into the data dictionary as they are.
MYPE_VARIANTS: dict[str, str] = {
    "A": "MYPE aproximada por el tamaño del establecimiento: de 1 a 100 personas (p512a = 1, 2 o 3), es decir "
    "micro (1–10) y pequeña empresa (11–100).",
    "B": "Solo microempresa: establecimientos de hasta 20 personas con 10 trabajadores o menos "
    "(p512a = 1 y p512b <= 10).",
    "C": "Variante A sin el sector público (se excluye p510 = 1 FFAA/PNP, 2 administración pública, "
    "3 empresa pública).",
    "D": "Variante C sin los trabajadores del hogar (se excluye p507 = 6).",
}
MYPE_VARIANT_DEFAULT = "A"

#: How the informal flag of a year was obtained.
OFFICIAL_SOURCE = "oficial"  # INEI's ocupinf, shipped in the file (2007–2023)
REBUILT_SOURCE = "reconstruido"  # rebuilt with INEI's syntax from modules 500 and 400 (2024 onwards)

_SOURCE_DESCRIPTION = {
    OFFICIAL_SOURCE: "variable ocupinf del INEI",
    REBUILT_SOURCE: "ocupinf reconstruida con la sintaxis del INEI (módulos 500 y 400)",
}

Strata = Literal["estrato", "departamento_estrato"]


@dataclass(frozen=True)
class EmploymentTables:
    """The employment marts and key figures; `fuente_informalidad` records per year where the flag came from."""

    evolucion: pd.DataFrame
    by_kind_table: pd.DataFrame
    by_sex_table: pd.DataFrame
    indicadores: pd.DataFrame
    informality_source: pd.DataFrame


# --- universe -----------------------------------------------------------------------------------------------


def is_resident(persons: pd.DataFrame) -> pd.Series:
    """Habitual resident: a member not away 30+ days, or a non-member present 30+ days. Missing answers make the
    condition false (SQL `IS TRUE`), as INEI's tabulation does."""
    p204, p205, p206 = (pd.to_numeric(persons[c]).astype("Float64") for c in ("p204", "p205", "p206"))
    member_present = (p204 == 1) & (p205 == 2)
    guest_staying = (p204 == 2) & (p206 == 1)
    return (member_present.fillna(False) | guest_staying.fillna(False)).astype(bool)


def department(persons: pd.DataFrame) -> pd.Series:
    return persons["ubigeo"].astype("string").str.zfill(6).str[:2]


def is_employed(persons: pd.DataFrame) -> pd.Series:
    return (pd.to_numeric(persons["ocu500"]).astype("Float64") == 1).fillna(False).astype(bool)


def is_mype(persons: pd.DataFrame, variant: str = MYPE_VARIANT_DEFAULT) -> pd.Series:
    """Jobs counted as MYPE under `variant` (see VARIANTES_MYPE). Missing answers never qualify a job as MYPE and
    never exclude it from one (a missing p510 is not public sector)."""
    if variant not in MYPE_VARIANTS:
        raise ValueError(f"variante MYPE desconocida {variant!r}; use una de {sorted(MYPE_VARIANTS)}")
    p512a = _codes(persons, "p512a")
    if variant == "B":
        return ((p512a == 1) & (_codes(persons, "p512b") <= 10)).fillna(False).astype(bool)
    mype = p512a.isin([1, 2, 3]).fillna(False).astype(bool)
    if variant in ("C", "D"):
        mype &= ~_codes(persons, "p510").isin([1, 2, 3]).fillna(False).astype(bool)
    if variant == "D":
        mype &= ~(_codes(persons, "p507") == 6).fillna(False).astype(bool)
    return mype


def informal_flag(persons_year: pd.DataFrame) -> tuple[pd.Series, str | None]:
    """The year's informal flag (1 informal, 2 formal, <NA>) and its source.

    INEI's `ocupinf` when the year's file ships it (non-missing for some employed resident), otherwise the rebuild
    (`ocupinf_reconstruido`, same test); (<NA>…, None) when neither exists, so the informality figures are left
    out. The column of the rebuild exists for every year once any year was rebuilt (a join), so a year without
    module 400 has it all missing: testing only for the column made that year formal 0 % / informal 0 %, where
    docs/methodology/empleo.md#figures wants the codes absent.
    """
    employed = is_employed(persons_year) & is_resident(persons_year)
    for column, source in (("ocupinf", OFFICIAL_SOURCE), ("ocupinf_reconstruido", REBUILT_SOURCE)):
        if column in persons_year.columns and persons_year.loc[employed, column].notna().any():
            return _codes(persons_year, column), source
    return pd.Series(pd.NA, index=persons_year.index, dtype="Int64"), None


# --- estimates per year -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _YearEstimates:
    anio: int
    pea: Estimate
    share_national: Estimate
    by_sex: dict[str, tuple[Estimate, Estimate]]  # sexo -> (total, share)
    by_type: dict[str, tuple[Estimate, Estimate]]  # tipo_empleo -> (total, share)
    informal_mype: Estimate | None
    source: str | None


def _estimate_year(
    persons: pd.DataFrame,
    departments: Sequence[str],
    mype_variant: str,
    strata: Strata,
    single_psu: SinglePsu,
) -> _YearEstimates:
    dept = department(persons)
    by_department = dept + "-" + persons["estrato"].astype("string")
    design = {
        "w": pd.to_numeric(persons["fac500a"]).astype("Float64"),
        "strata": persons["estrato"] if strata == "estrato" else by_department,
        "psu": persons["conglome"],
        "single_psu": single_psu,
    }
    one = np.ones(len(persons))
    employed = is_resident(persons) & is_employed(persons)
    in_territory = dept.isin(list(departments)).fillna(False).astype(bool)
    universe = employed & in_territory

    pea = estimate_total(one, domain=universe, **design)
    share = estimate_ratio(in_territory.astype(float), one, domain=employed, **design)
    sex = _codes(persons, "p207")
    by_sex = {
        label: (
            estimate_total((sex == code).fillna(False).astype(float), domain=universe, **design),
            estimate_ratio((sex == code).fillna(False).astype(float), one, domain=universe, **design),
        )
        for label, code in (("hombre", 1), ("mujer", 2))
    }
    flag, source = informal_flag(persons)
    by_type: dict[str, tuple[Estimate, Estimate]] = {}
    informal_mype = None
    if source is not None:
        with_flag = universe & flag.notna().to_numpy()
        marks = {
            label: (flag == code).fillna(False).astype(float)
            for label, code in (("informal", INFORMAL), ("formal", FORMAL))
        }
        for label, y in marks.items():
            by_type[label] = (
                estimate_total(y, domain=with_flag, **design),
                estimate_ratio(y, one, domain=with_flag, **design),
            )
        mype = with_flag & is_mype(persons, mype_variant)
        informal_mype = estimate_ratio(marks["informal"], one, domain=mype, **design)
    return _YearEstimates(int(persons["anio"].iloc[0]), pea, share, by_sex, by_type, informal_mype, source)


# --- public entry point -------------------------------------------------------------------------------------


def compute_employment(
    persons: pd.DataFrame,
    departments: Sequence[str],
    *,
    mype_variant: str = MYPE_VARIANT_DEFAULT,
    strata: Strata = "estrato",
    single_psu: SinglePsu = SINGLE_PSU_DEFAULT,
) -> EmploymentTables:
    """All employment marts and key figures for every year in `persons`.

    `departments`: two-digit INEI codes of the territory's departments (derived from the territory file, never
    assumed here). `mype_variant`: the MYPE size proxy (VARIANTES_MYPE). `strata`: the variance strata,
    `estrato` (the community standard) or `departamento_estrato` (sensitivity run; expect single-PSU strata).
    Percentages are stored as percentages; totals are unrounded weighted counts of workers.
    """
    departments = [str(d).zfill(2) for d in departments]
    if not departments:
        raise ValueError("la lista de departamentos del territorio está vacía")
    if mype_variant not in MYPE_VARIANTS:
        raise ValueError(f"variante MYPE desconocida {mype_variant!r}; use una de {sorted(MYPE_VARIANTS)}")
    if strata not in ("estrato", "departamento_estrato"):
        raise ValueError(f"strata debe ser 'estrato' o 'departamento_estrato', no {strata!r}")
    years = [
        _estimate_year(group, departments, mype_variant, strata, single_psu)
        for _, group in persons.groupby("anio", sort=True)
    ]
    return EmploymentTables(
        evolucion=_evolution(years),
        by_kind_table=_shares_table(years, "by_type", "tipo_empleo", ("formal", "informal")),
        by_sex_table=_shares_table(years, "by_sex", "sexo", ("hombre", "mujer")),
        indicadores=_key_figures(years, mype_variant),
        informality_source=pd.DataFrame(
            {"anio": [y.anio for y in years if y.source], "informal_source": [y.source for y in years if y.source]}
        ),
    )


def rebuild_validation(persons: pd.DataFrame, departments: Sequence[str]) -> pd.DataFrame:
    """Rebuilt vs official `ocupinf` per year that has both, nationally and in the territory
    (docs/sources.md#enaho-informalidad).

    Columns: anio, ambito (nacional|territorio), n_casos, coincidencia_pct, informal_oficial_pct,
    informal_reconstruido_pct, diferencia_pp. Universe: employed residents.
    """
    rows = []
    departments = [str(d).zfill(2) for d in departments]
    for year, group in persons.groupby("anio", sort=True):
        if "ocupinf" not in group.columns or "ocupinf_reconstruido" not in group.columns:
            continue
        if group["ocupinf"].isna().all():
            continue
        employed = is_resident(group) & is_employed(group)
        for scope, mask in (("nacional", employed), ("territorio", employed & department(group).isin(departments))):
            c = compare_with_official(group["ocupinf_reconstruido"], group["ocupinf"], group["fac500a"], mask)
            rows.append(
                {
                    "anio": int(year),
                    "ambito": scope,
                    "n_casos": c.n_rows,
                    "coincidencia_pct": 100 * c.agreement_share,
                    "informal_oficial_pct": c.rate_official_pct,
                    "informal_reconstruido_pct": c.rate_rebuilt_pct,
                    "diferencia_pp": c.diff_pp,
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "anio",
            "ambito",
            "n_casos",
            "coincidencia_pct",
            "informal_oficial_pct",
            "informal_reconstruido_pct",
            "diferencia_pp",
        ],
    )


# --- tables ---------------------------------------------------------------------------------------------------


def _evolution(years: list[_YearEstimates]) -> pd.DataFrame:
    values = {y.anio: y.pea.value for y in years}
    return pd.DataFrame(
        {
            "anio": pd.array([y.anio for y in years], dtype="Int64"),
            "pea_ocupada": [y.pea.value for y in years],
            "var_pct": pd.array([_annual_change(values, y.anio) for y in years], dtype="Float64"),
            "cv_pct": [y.pea.cv_pct for y in years],
            "referencial": [y.pea.referencial for y in years],
        }
    )


def _shares_table(years: list[_YearEstimates], attribute: str, category: str, labels: tuple[str, ...]):
    rows = []
    for y in years:
        estimates = getattr(y, attribute)
        for label in labels:
            if label not in estimates:
                continue
            total, share = estimates[label]
            rows.append(
                {
                    "anio": y.anio,
                    category: label,
                    "trabajadores": total.value,
                    "participacion_pct": 100 * share.value,
                    "cv_pct": share.cv_pct,
                    "referencial": share.referencial,
                }
            )
    table = pd.DataFrame(rows, columns=["anio", category, "trabajadores", "participacion_pct", "cv_pct", "referencial"])
    table["anio"] = table["anio"].astype("Int64")
    table["referencial"] = table["referencial"].astype(bool)
    return table


_UNIT_PCT = "%"


def _key_figures(years: list[_YearEstimates], mype_variant: str) -> pd.DataFrame:
    rows: list[dict] = []

    def add(anio, code, value, unit, text, estimate: Estimate | None):
        rows.append(
            {
                "anio": anio,
                "indicador": code,
                "valor": value,
                "unidad": unit,
                "descripcion": text,
                "cv_pct": estimate.cv_pct if estimate else math.nan,
                "referencial": estimate.referencial if estimate else pd.NA,
            }
        )

    # Growth codes (_var_anual_pct, _tcpa_pct, _var_promedio_anual_pct) are not computed here: every topic
    # gets them from the same SQL (sql/indicadores/_crecimiento.sql) over its yearly series.
    for y in years:
        add(
            y.anio,
            "empleo_pea_ocupada",
            y.pea.value,
            "trabajadores",
            "PEA ocupada residente de los departamentos del territorio (ocu500 = 1, factor fac500a).",
            y.pea,
        )
        add(
            y.anio,
            "empleo_participacion_nacional_pct",
            100 * y.share_national.value,
            _UNIT_PCT,
            "Participación de la PEA ocupada del territorio en la PEA ocupada residente nacional.",
            y.share_national,
        )
        women = y.by_sex["mujer"][1]
        add(
            y.anio,
            "empleo_mujeres_pct",
            100 * women.value,
            _UNIT_PCT,
            "Mujeres (p207 = 2) como porcentaje de la PEA ocupada del territorio.",
            women,
        )
        if y.source is not None:
            source = _SOURCE_DESCRIPTION[y.source]
            informal = y.by_type["informal"][1]
            formal = y.by_type["formal"][1]
            add(
                y.anio,
                "empleo_informal_pct",
                100 * informal.value,
                _UNIT_PCT,
                f"Empleo informal como porcentaje de la PEA ocupada del territorio con condición de informalidad "
                f"conocida; fuente: {source}.",
                informal,
            )
            add(
                y.anio,
                "empleo_formal_pct",
                100 * formal.value,
                _UNIT_PCT,
                f"Empleo formal como porcentaje de la PEA ocupada del territorio; fuente: {source}.",
                formal,
            )
            add(
                y.anio,
                "empleo_informal_mype_pct",
                100 * y.informal_mype.value,
                _UNIT_PCT,
                f"Empleo informal como porcentaje del empleo en la MYPE del territorio. Variante {mype_variant}: "
                f"{MYPE_VARIANTS[mype_variant]} Fuente: {source}.",
                y.informal_mype,
            )
    table = pd.DataFrame(rows, columns=["anio", "indicador", "valor", "unidad", "descripcion", "cv_pct", "referencial"])
    table["anio"] = table["anio"].astype("Int64")
    table["referencial"] = table["referencial"].astype("boolean")
    return table


def _annual_change(values: dict[int, float], year: int) -> float | None:
    previous, current = values.get(year - 1), values.get(year)
    if previous is None or current is None or previous == 0:
        return None
    return 100 * (current / previous - 1)


def _codes(persons: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(persons[column]).astype("Float64")
