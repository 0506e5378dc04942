"""The territory's value added: INEI's departmental GDP allocated to the territory's districts.

INEI publishes GDP by department only (docs/sources.md#inei-vab), so the value of a zone inside departments is an
allocation, and the allocation must be visible and replaceable:

    zone value = Σ_d [Σ_a] VAB[d(, a)] × participación[zona, d(, a)]

over the departments of the territory's districts, and over INEI's 12 activities where the per-activity
workbooks are in raw/inei/vab/ (else over the all-activity departmental value). The share (`participación`)
is, by default, the part of the department's declared net sales of formal firms (`intermedio.empresas_formales`)
that is made by firms domiciled in the territory's districts — by activity where the GDP is by activity, with
the CIIU division of each firm mapped to INEI's activities by the shipped table
`reference/ciiu_division_actividad_inei.csv`. A user may put a share table instead in `raw/inei/`
(`sources/shares.ARCHIVO_PARTICIPACIONES`, layout in `read_checked_share_table`). The method and the denominator of the
national share (PBI by default, VAB as the alternative) are named parameters recorded in `meta.parametros`.

Everything here is pure (frames in, frames out) so that every rule has a hand-worked test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pandera.errors import SchemaErrors

from vraem_pipeline.core.errors import SourceFileError
from vraem_pipeline.pbi.schema import SHARES_TABLE
from vraem_pipeline.sources.inei_vab import TOTAL_ACTIVITY, activities
from vraem_pipeline.sources.shares import SHARES_FILE, read_share_table

#: Half a unit of the published unit (miles de soles): each printed figure is rounded to the unit, so a sum of n
#: printed figures may differ from its printed total by up to 0.5 × (n + 1). This is the whole tolerance of the
#: consistency check; the real 2026 edition adds up exactly.
ROUNDING_TOLERANCE_THOUSANDS = 0.5

#: Denominators of the national share: PBI (VAB + taxes on products + import duties, INEI's GDP) by default,
#: as the report's "0.2 % del PBI Nacional" reads; or the national VAB, which is what the zone's value is a part of.
DENOMINATORS = {
    "pbi": "PBI nacional (valor agregado bruto + impuestos a los productos + derechos de importación)",
    "vab": "Valor agregado bruto nacional (sin impuestos a los productos ni derechos de importación)",
}
DENOMINATOR_DEFAULT = "pbi"

METHODS = {
    "ventas_declaradas": "Participación de los distritos del territorio en las ventas netas declaradas de las "
    "empresas formales del departamento (por actividad del INEI cuando hay cuadros por "
    "actividad; CIIU → actividad en referencia.ciiu_division_actividad_inei)",
    "tabla": "Participaciones dadas por el usuario en raw/inei/participaciones_territorio.csv",
}
#: `automatico`: the user's table when raw/inei/ has one, else declared sales.
METHOD_DEFAULT = "automatico"


def resolve_method(metodo: str, tabla: Path | None) -> str:
    """The allocation method a run uses: `automatico` is the user's share table when raw/inei/ has one, else
    declared sales; `tabla` without the file is an error."""
    if metodo == METHOD_DEFAULT:
        return "tabla" if tabla is not None else "ventas_declaradas"
    if metodo not in METHODS:
        raise ValueError(f"metodo {metodo!r}: use {METHOD_DEFAULT} o uno de {sorted(METHODS)}")
    if metodo == "tabla" and tabla is None:
        raise ValueError(f"metodo 'tabla' pero no hay raw/inei/{SHARES_FILE}")
    return metodo


#: Where a department has no declared sales in an activity, that cell's share is the department's share over all
#: activities (the only information left); the rule used is kept per row (`regla_participacion`).
NO_SALES_IN_ACTIVITY = "participacion_total_del_departamento"


def tolerance(n_terms: int) -> float:
    """Largest rounding difference between a sum of `n_terminos` printed figures and its printed total."""
    return ROUNDING_TOLERANCE_THOUSANDS * (n_terms + 1)


def activity_codes() -> list[str]:
    return list(activities()["actividad"])


# --------------------------------------------------------------------------------------------------------
# From the staged cells to 25 departments and the national rows


def _lima_callao(g: pd.DataFrame) -> tuple[str, float | None]:
    """How Lima's row relates to Callao in one (activity, year) table: ('incluye_callao' | 'sin_callao' |
    'inconsistente', difference). The 2026 edition prints Lima = Prov. Const. del Callao + Región Lima +
    Provincia de Lima; older ones print Callao apart and Lima = Lima Metropolitana + Lima Provincias."""
    deps = g[g["tipo_fila"] == "departamento"]
    sub = g[g["tipo_fila"] == "subdivision"]
    lima = deps.loc[deps["ubigeo_departamento"] == "15", "valor_miles_soles"]
    callao = deps.loc[deps["ubigeo_departamento"] == "07", "valor_miles_soles"]
    if sub.empty or len(lima) != 1 or len(callao) != 1:
        return "sin_callao", None
    lim, c, s = float(lima.iloc[0]), float(callao.iloc[0]), float(sub["valor_miles_soles"].sum())
    if abs(lim - (c + s)) <= tolerance(len(sub) + 1):
        return "incluye_callao", lim - (c + s)
    if abs(lim - s) <= tolerance(len(sub)):
        return "sin_callao", lim - s
    return "inconsistente", lim - s


def departamentos(cell_frame: pd.DataFrame) -> pd.DataFrame:
    """The 25 departments' value per (activity, year): Lima's sub-rows dropped, and Callao taken out of Lima
    where the edition prints Lima with Callao inside (`regla_lima`), so that no value is counted twice.

    Returns `anio, actividad, ubigeo_departamento, vab_miles_soles, estado_cifra, regla_lima, archivo, edicion`.
    """
    cols = [
        "anio",
        "actividad",
        "ubigeo_departamento",
        "vab_miles_soles",
        "estado_cifra",
        "regla_lima",
        "archivo",
        "edicion",
    ]
    if cell_frame.empty:
        return pd.DataFrame(columns=cols)
    out = []
    for _, g in cell_frame.groupby(["actividad", "anio"], sort=True):
        regla, _ = _lima_callao(g)
        d = g[g["tipo_fila"] == "departamento"].copy()
        if regla == "incluye_callao":
            callao = float(d.loc[d["ubigeo_departamento"] == "07", "valor_miles_soles"].iloc[0])
            d.loc[d["ubigeo_departamento"] == "15", "valor_miles_soles"] -= callao
        d["regla_lima"] = regla
        out.append(d)
    d = pd.concat(out, ignore_index=True).rename(columns={"valor_miles_soles": "vab_miles_soles"})
    return d[cols].sort_values(["actividad", "anio", "ubigeo_departamento"]).reset_index(drop=True)


NATIONAL = {
    "vab": "vab_miles_soles",
    "impuestos_productos": "impuestos_miles_soles",
    "derechos_importacion": "derechos_importacion_miles_soles",
    "pbi": "pbi_miles_soles",
}


def nacional(cell_frame: pd.DataFrame) -> pd.DataFrame:
    """Peru's rows of the all-activity table by year: VAB, taxes on products, import duties, PBI."""
    cols = ["anio", *NATIONAL.values(), "estado_cifra", "edicion"]
    t = cell_frame[(cell_frame["actividad"] == TOTAL_ACTIVITY) & cell_frame["tipo_fila"].isin(list(NATIONAL))]
    if t.empty:
        return pd.DataFrame(columns=cols)
    wide = t.pivot_table(index="anio", columns="tipo_fila", values="valor_miles_soles", aggfunc="first")
    wide = wide.reindex(columns=list(NATIONAL)).rename(columns=NATIONAL).reset_index()
    meta = t.groupby("anio", as_index=False).agg(estado_cifra=("estado_cifra", "first"), edicion=("edicion", "first"))
    return wide.merge(meta, on="anio")[cols].sort_values("anio").reset_index(drop=True)


def consistency(cell_frame: pd.DataFrame) -> pd.DataFrame:
    """Every way a staged table fails to add up, one row per (activity, year, rule); empty when consistent.

    Rules: `departamentos_25` (the 25 INEI departments once each), `lima_subdivisiones` (Lima equals its
    sub-rows, with or without Callao), `filas_nacionales` (the all-activity table has VAB, taxes, duties and
    PBI once each), `suma_departamentos_vab` (the 25 departments add up to VAB), `vab_impuestos_derechos_pbi`
    (VAB + taxes + duties = PBI), `actividades_completas` (a year has the 12 activities or none),
    `suma_actividades_departamento` (a department's 12 activities add up to its all-activity value). Sums are
    compared within `tolerance(n)` for n printed terms.
    """
    cols = ["actividad", "anio", "regla", "detalle", "diferencia_miles"]
    failures: list[tuple] = []
    if cell_frame.empty:
        return pd.DataFrame(columns=cols)
    all_items = {f"{c:02d}" for c in range(1, 26)}
    for (act, anio), g in cell_frame.groupby(["actividad", "anio"], sort=True):
        deps = g.loc[g["tipo_fila"] == "departamento", "ubigeo_departamento"].tolist()
        missing = sorted(all_items - set(deps))
        repeated = sorted({d for d in deps if deps.count(d) > 1})
        if missing or repeated:
            failures.append(
                (act, anio, "departamentos_25", f"faltan {missing or '—'}; repetidos {repeated or '—'}", None)
            )
        regla, diff = _lima_callao(g)
        if regla == "inconsistente":
            failures.append(
                (act, anio, "lima_subdivisiones", "Lima no es la suma de sus subfilas (con o sin Callao)", diff)
            )
        n_national = g["tipo_fila"].value_counts()
        if act == TOTAL_ACTIVITY:
            bad = [t for t in NATIONAL if n_national.get(t, 0) != 1]
            if bad:
                failures.append((act, anio, "filas_nacionales", f"filas ausentes o repetidas: {bad}", None))
        if missing or repeated or regla == "inconsistente":
            continue
        summed = float(departamentos(g)["vab_miles_soles"].sum())
        if n_national.get("vab", 0) == 1:
            vab = float(g.loc[g["tipo_fila"] == "vab", "valor_miles_soles"].iloc[0])
            if abs(summed - vab) > tolerance(25):
                failures.append(
                    (
                        act,
                        anio,
                        "suma_departamentos_vab",
                        f"Σ 25 departamentos {summed:,.1f} ≠ VAB {vab:,.1f}",
                        summed - vab,
                    )
                )
        if act == TOTAL_ACTIVITY and all(n_national.get(t, 0) == 1 for t in NATIONAL):
            v = {t: float(g.loc[g["tipo_fila"] == t, "valor_miles_soles"].iloc[0]) for t in NATIONAL}
            diff = v["vab"] + v["impuestos_productos"] + v["derechos_importacion"] - v["pbi"]
            if abs(diff) > tolerance(3):
                failures.append(
                    (
                        act,
                        anio,
                        "vab_impuestos_derechos_pbi",
                        f"VAB + impuestos + derechos {v['pbi'] + diff:,.1f} ≠ PBI {v['pbi']:,.1f}",
                        diff,
                    )
                )
    by_activity = cell_frame[cell_frame["actividad"] != TOTAL_ACTIVITY]
    if not by_activity.empty:
        codes = set(activity_codes())
        for anio, g in by_activity.groupby("anio"):
            missing = sorted(codes - set(g["actividad"]))
            if missing:
                failures.append(("(actividades)", anio, "actividades_completas", f"faltan {missing}", None))
                continue
            d = departamentos(g).groupby("ubigeo_departamento")["vab_miles_soles"].sum()
            t = departamentos(cell_frame[(cell_frame["actividad"] == TOTAL_ACTIVITY) & (cell_frame["anio"] == anio)])
            t = t.set_index("ubigeo_departamento")["vab_miles_soles"]
            for dept in sorted(set(d.index) & set(t.index)):
                diff = float(d[dept] - t[dept])
                if abs(diff) > tolerance(len(codes)):
                    failures.append(
                        (
                            "(actividades)",
                            anio,
                            "suma_actividades_departamento",
                            f"departamento {dept}: Σ 12 actividades {d[dept]:,.1f} ≠ total {t[dept]:,.1f}",
                            diff,
                        )
                    )
    return pd.DataFrame(failures, columns=cols)


# --------------------------------------------------------------------------------------------------------
# Shares


def shares_from_sales(ventas: pd.DataFrame) -> pd.DataFrame:
    """Shares from declared sales: `ventas(anio, ubigeo_departamento, actividad, ventas_territorio_soles,
    ventas_departamento_soles)` → adds `participacion` (a fraction).

    A department with no declared sales at all has no share (NaN: its year cannot be allocated and is reported,
    never filled with 0); an activity without sales in a department is dropped, so that the allocation uses the
    department's all-activity share there (`NO_SALES_IN_ACTIVITY`)."""
    v = ventas.copy()
    v["participacion"] = np.where(
        v["ventas_departamento_soles"] > 0,
        v["ventas_territorio_soles"] / v["ventas_departamento_soles"].where(v["ventas_departamento_soles"] > 0),
        np.nan,
    )
    keep = (v["actividad"] == TOTAL_ACTIVITY) | (v["ventas_departamento_soles"] > 0)
    return v[keep].reset_index(drop=True)


def read_checked_share_table(path: Path, territory_departments: list[str]) -> pd.DataFrame:
    """A user's share table (`raw/inei/participaciones_territorio.csv`), checked whole.

    Layout (UTF-8 or Windows-1252, `,` or `;`, one header row):

        ubigeo_departamento,actividad,anio,participacion_pct
        05,total,,12.5
        08,agricultura,2024,3.1

    `ubigeo_departamento`: 2-digit INEI code (a lost leading zero is restored); `actividad`: `total` or one
    of INEI's 12 activity codes (`reference/inei_actividades.csv`); `anio`: the year, or empty for every year;
    `participacion_pct`: the territory's share of that department's (activity's) value added, 0–100. Lookup
    order per (department, activity, year): that row, the same without year, the department's `total` row of
    the year, the same without year. Every department of the territory needs a row and no other department may
    have one. Any wrong row fails the file naming its line and rule: a share table is used whole or not at all.

    Returns `ubigeo_departamento, actividad, anio (Int64, <NA> = every year), participacion` (a fraction).
    """
    df, delim = read_share_table(path)
    df["ubigeo_departamento"] = df["ubigeo_departamento"].fillna("").str.zfill(2)
    df["actividad"] = df["actividad"].fillna("").str.lower()
    df["anio"] = (
        pd.to_numeric(df["anio"].replace("", None), errors="coerce").astype("Int64")
        if df["anio"].notna().any()
        else pd.array([pd.NA] * len(df), dtype="Int64")
    )
    df["participacion_pct"] = (
        df["participacion_pct"].str.replace(",", ".", regex=False) if delim == ";" else df["participacion_pct"]
    )
    try:
        df = SHARES_TABLE.validate(df, lazy=True)
    except SchemaErrors as err:
        fc = err.failure_cases
        row = fc[fc["index"].notna()].head(1)
        if len(row):
            i = int(row["index"].iloc[0])
            raise SourceFileError(
                path,
                f"columna {row['column'].iloc[0]}: {row['failure_case'].iloc[0]!r}",
                line=int(df.loc[i, "linea"]),
                rule=f"participaciones.{row['check'].iloc[0]}",
            ) from None
        raise SourceFileError(
            path, f"no cumple el esquema: {fc[['column', 'check']].to_dict('records')}", rule="participaciones.esquema"
        ) from None
    if df.empty:
        raise SourceFileError(path, "la tabla de participaciones no tiene filas", line=2, rule="participaciones.vacia")
    outside = sorted(set(df["ubigeo_departamento"]) - set(territory_departments))
    if outside:
        linea = int(df.loc[df["ubigeo_departamento"] == outside[0], "linea"].iloc[0])
        raise SourceFileError(
            path,
            f"departamentos sin distritos en el territorio: {outside}",
            line=linea,
            rule="participaciones.departamento_fuera_del_territorio",
        )
    missing = sorted(set(territory_departments) - set(df["ubigeo_departamento"]))
    if missing:
        raise SourceFileError(
            path,
            f"faltan participaciones para los departamentos del territorio {missing} (escriba 0 si no aportan)",
            rule="participaciones.departamento_sin_participacion",
        )
    df["participacion"] = df["participacion_pct"] / 100.0
    return df[["ubigeo_departamento", "actividad", "anio", "participacion", "linea"]].reset_index(drop=True)


# --------------------------------------------------------------------------------------------------------
# The allocation


def level_by_year(vab: pd.DataFrame) -> dict[int, str]:
    """`departamento_y_actividad` for the years whose 12 activities are all staged, else `departamento`."""
    codes = set(activity_codes())
    out = {}
    for anio, g in vab.groupby("anio"):
        out[int(anio)] = "departamento_y_actividad" if codes <= set(g["actividad"]) else "departamento"
    return out


def allocate(
    vab: pd.DataFrame, share_values: pd.DataFrame, territory_departments: list[str], anios: list[int] | None = None
) -> pd.DataFrame:
    """One row per (year, department[, activity]) of the territory's departments: the department's value, the
    share used and the zone's part of it.

    `vab`: `anio, actividad, ubigeo_departamento, vab_miles_soles, estado_cifra` (from `departamentos`).
    `participaciones`: `anio` (NA = every year), `actividad`, `ubigeo_departamento`, `participacion` (fraction).
    `anios`: restrict to these years (default: every year of `vab`).
    A year is allocated by activity when its 12 activities are all present (`level_by_year`). Each cell's
    share is looked up as (dept, activity, year), (dept, activity, any year), (dept, total, year), (dept, total,
    any year); `regla_participacion` says which (`actividad`, `total_departamento`), NaN when none exists.
    """
    cols = [
        "anio",
        "ubigeo_departamento",
        "actividad",
        "vab_departamento_miles_soles",
        "participacion",
        "regla_participacion",
        "vab_territorio_miles_soles",
        "estado_cifra",
        "nivel",
    ]
    if vab.empty:
        return pd.DataFrame(columns=cols)
    nivel = level_by_year(vab)
    v = vab[vab["ubigeo_departamento"].isin(territory_departments)].copy()
    if anios is not None:
        v = v[v["anio"].isin(anios)]
    v["nivel"] = v["anio"].map(nivel)
    v = v[(v["nivel"] == "departamento_y_actividad") == (v["actividad"] != TOTAL_ACTIVITY)]
    p = share_values.copy()
    p["anio"] = p["anio"].astype("Int64")

    def lookup(act_col: str, with_year: bool) -> pd.Series:
        sel = p[p["anio"].notna()] if with_year else p[p["anio"].isna()]
        keys = ["ubigeo_departamento", "actividad"] + (["anio"] if with_year else [])
        left = v[["ubigeo_departamento", act_col, "anio"]].rename(columns={act_col: "actividad"})
        left["anio"] = left["anio"].astype("Int64")
        m = left.merge(sel[[*keys, "participacion"]].drop_duplicates(keys), on=keys, how="left")
        return pd.Series(m["participacion"].to_numpy(), index=v.index)

    v["_total"] = TOTAL_ACTIVITY
    own = lookup("actividad", True).combine_first(lookup("actividad", False))
    total = lookup("_total", True).combine_first(lookup("_total", False))
    is_total = v["actividad"] == TOTAL_ACTIVITY
    v["participacion"] = own.where(own.notna(), total)
    v["regla_participacion"] = np.where(
        own.notna(),
        np.where(is_total, "departamento", "actividad"),
        np.where(total.notna() & ~is_total, "total_departamento", None),
    )
    v["vab_departamento_miles_soles"] = v["vab_miles_soles"]
    v["vab_territorio_miles_soles"] = v["vab_miles_soles"] * v["participacion"]
    return v[cols].sort_values(["anio", "ubigeo_departamento", "actividad"]).reset_index(drop=True)


@dataclass(frozen=True)
class AllocationResult:
    """The zone's yearly figures and the years left out (with why)."""

    anual: pd.DataFrame
    omitted: pd.DataFrame


def annual_summary(detalle: pd.DataFrame, national: pd.DataFrame, denominador: str) -> AllocationResult:
    """Zone value per year and its share of the national denominator (`DENOMINATORS`).

    A year with any cell without a share is left out (`omitidos` names the cells): a partial sum would be a
    smaller zone, not an unknown one. `anual`: `anio, vab_territorio_miles_soles, vab_nacional_miles_soles,
    pbi_nacional_miles_soles, denominador, denominador_miles_soles, participacion_nacional_pct, estado_cifra, nivel`.
    """
    if denominador not in DENOMINATORS:
        raise ValueError(f"denominador {denominador!r}: use uno de {sorted(DENOMINATORS)}")
    cols = [
        "anio",
        "vab_territorio_miles_soles",
        "vab_nacional_miles_soles",
        "pbi_nacional_miles_soles",
        "denominador",
        "denominador_miles_soles",
        "participacion_nacional_pct",
        "estado_cifra",
        "nivel",
    ]
    without = detalle[detalle["participacion"].isna()]
    omitted = without[["anio", "ubigeo_departamento", "actividad"]].assign(
        motivo="sin participación (el departamento no tiene ventas declaradas)"
    )
    ok = detalle[~detalle["anio"].isin(set(without["anio"]))]
    if ok.empty:
        return AllocationResult(pd.DataFrame(columns=cols), omitted.reset_index(drop=True))
    a = ok.groupby("anio", as_index=False).agg(
        vab_territorio_miles_soles=("vab_territorio_miles_soles", "sum"),
        estado_cifra=("estado_cifra", "first"),
        nivel=("nivel", "first"),
    )
    n = national.rename(
        columns={"vab_miles_soles": "vab_nacional_miles_soles", "pbi_miles_soles": "pbi_nacional_miles_soles"}
    )
    a = a.merge(n[["anio", "vab_nacional_miles_soles", "pbi_nacional_miles_soles"]], on="anio", how="inner")
    a["denominador"] = denominador
    a["denominador_miles_soles"] = a["pbi_nacional_miles_soles" if denominador == "pbi" else "vab_nacional_miles_soles"]
    a["participacion_nacional_pct"] = 100.0 * a["vab_territorio_miles_soles"] / a["denominador_miles_soles"]
    return AllocationResult(a[cols].sort_values("anio").reset_index(drop=True), omitted.reset_index(drop=True))
