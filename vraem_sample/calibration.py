"""Every count the firm generator needs, derived at run time from the published edition.

The synthetic SUNAT files exist so that a refresh on them lands on the figures that PRODUCE printed in
*Desempeño económico del VRAEM 2024*. Those figures live in one place only,
``vraem_pipeline/reference/publicado_vraem_2024.csv``; this module reads them and turns them into integer
targets (firms per year, per stratum, sector and department, total declared sales). Nothing published is
typed here: when the CSV changes, the targets follow.

What the publication does not say has to be chosen. Each such choice is a named constant below with the
reason for it, so that a reader can tell a published number from a plausible one:

* ``VRAEM_VAR_PROFILE``: the shape of the 2020–2023 annual changes (a 2020 dip, then recovery). Only its
  shape is a choice: it is shifted so that the mean of the five annual changes equals the published
  "promedio anual" and the last year is pinned by the published annual change.
* ``NATIONAL_VAR``: national formal-firm changes 2020–2024; the 2024 level itself is the published VRAEM
  count divided by the published VRAEM share.
* ``VRAEM_OTHER_SECTORS``: how the share left by commerce and services splits over the five other sectors.
* ``NATIONAL_STRATA``, ``NATIONAL_SECTORS``, ``NATIONAL_DEPARTMENT_WEIGHT``: the national mix (only totals
  are calibrated nationally).
* ``EXIT_RATE``, ``FONDO_*``: firm exits and the non-formal rows of the Padrón.
* sales of earlier years: the 2024 total scaled by the firm count and the UIT (see ``_target_sales``).

``--scale small`` divides every count by 100 and uses largest-remainder apportionment instead of the exact
published rounding (which is impossible at ~170 firms: 0.1 % of 172 firms is 0.17 firms).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import pandas as pd

from vraem_pipeline.core.settings import PACKAGE_REFERENCE, REPO_ROOT

# --------------------------------------------------------------------------------------------------------
# Reference files
# --------------------------------------------------------------------------------------------------------

_SHIPPED_REFERENCE = PACKAGE_REFERENCE  # the pipeline's shipped reference tables
_REPO = REPO_ROOT
#: Where a reference table is looked for, in order. The package copy wins; the shared folder beside the
#: repository is only a fallback while a copy is missing. Dropping the fallback is deleting one line.
_REFERENCE_FOLDERS = (
    _SHIPPED_REFERENCE,
    _REPO.parent / "shared" / "reference",
)


def reference_path(nombre: str) -> Path:
    """Path of a reference CSV (``uit.csv``, ``ubigeo_inei.csv``…): the package copy, else the shared one.

    One function so that every generator module reads reference data the same way, and switching the
    source is a one-line change of ``_REFERENCE_FOLDERS``.
    """
    for folder_path in _REFERENCE_FOLDERS:
        path = folder_path / nombre
        if path.is_file():
            return path
    raise FileNotFoundError(f"tabla de referencia {nombre!r} no encontrada en {[str(c) for c in _REFERENCE_FOLDERS]}")


def read_reference(nombre: str) -> pd.DataFrame:
    """A reference CSV with every column as string: codes keep their leading zeros (``050401``, ``0111``)."""
    return pd.read_csv(reference_path(nombre), dtype=str, keep_default_na=False)


@lru_cache(maxsize=1)
def _published_cache() -> pd.DataFrame:
    return read_reference("publicado_vraem_2024.csv")


def read_published() -> pd.DataFrame:
    """The published figures (``publicado_vraem_2024.csv``), every column as text (exact decimals).

    A fresh copy each call: callers may edit it (tests do) without touching anyone else's targets.
    """
    return _published_cache().copy()


def _published(indicador: str, category: str = "") -> tuple[int, Decimal]:
    """(year, value) of one published figure; the value as a Decimal so that a printed 0.1 stays exactly 1/10."""
    df = _published_cache()
    row = df[(df["indicador"] == indicador) & (df["categoria"] == category)]
    if len(row) != 1:
        raise KeyError(f"publicado_vraem_2024.csv: se esperaba una fila para {indicador}/{category!r}, hay {len(row)}")
    return int(row["anio"].iloc[0]), Decimal(row["valor"].iloc[0])


def _published_by_category(indicador: str) -> dict[str, Decimal]:
    df = _published_cache()
    filas = df[df["indicador"] == indicador]
    if filas.empty:
        raise KeyError(f"publicado_vraem_2024.csv: no hay filas para {indicador}")
    return {c: Decimal(v) for c, v in zip(filas["categoria"], filas["valor"], strict=True)}


@lru_cache(maxsize=1)
def uit_by_year() -> dict[int, int]:
    """UIT in soles by year (``uit.csv``): the Ley 30056 strata are multiples of the year's UIT."""
    df = read_reference("uit.csv")
    return {int(a): int(u) for a, u in zip(df["anio"], df["uit_soles"], strict=True)}


# --------------------------------------------------------------------------------------------------------
# Integer allocation
# --------------------------------------------------------------------------------------------------------


def _fraction(x: float | int | str | Decimal) -> Fraction:
    """Exact value of a printed percentage: 45.1 means 451/10, not the nearest binary float."""
    return Fraction(Decimal(str(x)))


def allocate(total: int, pcts, decimals: int = 1):
    """Integer counts summing to ``total`` whose percentages each round to the given published value.

    A publication rounds every share on its own, so the shares may add to 100.1 (the VRAEM departments do)
    or 99.9, and the naive ``round(total * pct / 100)`` counts then miss ``total`` by a few. Here every count is
    kept strictly inside its rounding interval ``(pct - h, pct + h)`` with ``h`` half a unit of the last
    decimal — strictly, so the count rounds to the published value under half-up and half-even alike — and
    the counts are moved one at a time from the nearest integers to ``total * pct / 100`` until they sum to
    ``total``. Each move is the one that increases ``sum((count - ideal)**2 / ideal)`` least, so a surplus
    such as 100.1 % is taken from the categories in proportion to their size (as if the shares were scaled
    by 100/100.1) instead of pushing one category to the edge of its interval; ties go to the larger share,
    then to the earlier position.

    Hand-worked: ``allocate(3000, [45.1, 35.0, 20.0])``. The ideals are 1353, 1050, 600 (sum 3003) and
    each count may move by one (45.1 % of 3000 allows 1352–1354). Three units must go; the cheapest cut is
    on the largest (cost 1/1353), then 1050 (1/1050 < 3/1353), then 600 (1/600 < 3/1353): the answer is
    [1352, 1049, 599].

    ``pcts`` is a sequence (a list comes back) or a mapping (a dict with the same keys comes back).
    Raises ``ValueError`` when no such counts exist, e.g. ``allocate(1000, [45.1, 35.0, 20.0])``: at 1,000
    units each share pins a single count and those add to 1,001.
    """
    if total < 0:
        raise ValueError(f"total negativo: {total}")
    key_list = list(pcts.keys()) if isinstance(pcts, Mapping) else None
    vals = [_fraction(p) for p in (pcts.values() if key_list is not None else pcts)]
    h = Fraction(1, 2 * 10**decimals)
    lo: list[int] = []
    hi: list[int] = []
    ideal: list[Fraction] = []
    for p in vals:
        x = p * total / 100
        ideal.append(x)
        lower = (p - h) * total / 100
        upper = (p + h) * total / 100
        a = 0 if p - h < 0 else math.floor(lower) + 1
        b = math.ceil(upper) - 1
        a, b = max(a, 0), min(b, total)
        if a > b:
            raise ValueError(
                f"allocate: con total={total} ningún entero redondea a {float(p)} % con {decimals} decimales"
            )
        lo.append(a)
        hi.append(b)
    if not (sum(lo) <= total <= sum(hi)):
        raise ValueError(
            f"allocate: no hay conteos que sumen {total} y redondeen a {[float(p) for p in vals]} "
            f"(posibles: {sum(lo)}..{sum(hi)})"
        )
    allotted = [min(max(round(x), a), b) for x, a, b in zip(ideal, lo, hi, strict=True)]
    difference = total - sum(allotted)
    step = 1 if difference > 0 else -1
    while difference != 0:
        best = None
        for i, (c, x) in enumerate(zip(allotted, ideal, strict=True)):
            new = c + step
            if not (lo[i] <= new <= hi[i]):
                continue
            scale_name = x if x > 0 else Fraction(1, 10**6)
            cost = ((new - x) ** 2 - (c - x) ** 2) / scale_name
            clave = (cost, -vals[i], i)
            if best is None or clave < best[0]:
                best = (clave, i)
        assert best is not None  # guaranteed by the sum(lo)..sum(hi) check above
        allotted[best[1]] += step
        difference -= step
    return dict(zip(key_list, allotted, strict=True)) if key_list is not None else allotted


def apportion(total: int, weight_values):
    """Largest-remainder (Hamilton) apportionment of ``total`` by non-negative weights.

    Used where the published rounding cannot be met (``--scale small``) or is not required (plausible mixes):
    the counts sum to ``total`` and each is within one unit of its exact quota. Same container rules as
    :func:`allocate`.
    """
    key_list = list(weight_values.keys()) if isinstance(weight_values, Mapping) else None
    w = [_fraction(p) for p in (weight_values.values() if key_list is not None else weight_values)]
    summed = sum(w)
    if summed <= 0 or any(x < 0 for x in w):
        raise ValueError("apportion: pesos no negativos con suma positiva")
    quotas = [x * total / summed for x in w]
    allotted = [math.floor(q) for q in quotas]
    rest = total - sum(allotted)
    orden = sorted(range(len(w)), key=lambda i: (-(quotas[i] - allotted[i]), -w[i], i))
    for i in orden[:rest]:
        allotted[i] += 1
    return dict(zip(key_list, allotted, strict=True)) if key_list is not None else allotted


def rounds_to(valor: Fraction | float, publicado: Decimal | float, decimals: int = 1) -> bool:
    """True when ``valor`` lies strictly inside the rounding interval of the published ``publicado``."""
    p = _fraction(publicado)
    h = Fraction(1, 2 * 10**decimals)
    v = valor if isinstance(valor, Fraction) else _fraction(valor)
    return p - h < v < p + h


# --------------------------------------------------------------------------------------------------------
# Derived (non-published) choices
# --------------------------------------------------------------------------------------------------------

#: Shape of the VRAEM annual changes 2020–2023, in %: a 2020 fall (the pandemic year closed or suspended
#: many micro firms), a 2021 rebound and a slower 2022–2023. Only the shape is chosen: every value is
#: shifted by the same amount so that the mean of the five changes 2020–2024 equals the published mean.
VRAEM_VAR_PROFILE: dict[int, float] = {2020: -4.0, 2021: 5.0, 2022: 3.5, 2023: 3.0}

#: National formal-firm annual changes, in %: a milder 2020 fall than the VRAEM's and a steadier growth
#: afterwards. Chosen so that the VRAEM share rounds to the published share in every year 2019–2024
#: (checked in :func:`calibrar`), not only in 2024.
NATIONAL_VAR: dict[int, float] = {2020: -2.0, 2021: 6.0, 2022: 4.5, 2023: 4.0, 2024: 5.0}

#: Split of the VRAEM firms that are neither commerce nor services (the publication gives only
#: those two). The VRAEM is a coffee/cocoa valley: agriculture and small food/wood manufacturing lead,
#: construction follows public works, mining is small, fishing is fish farming (trout, tilapia).
#: The five values are only relative weights: the remainder is apportioned with them and then ``allocate``
#: checks that every share rounds to the one decimal derived here.
VRAEM_OTHER_SECTORS: dict[str, float] = {
    "agropecuario": 4.1,
    "manufactura": 4.5,
    "construccion": 3.2,
    "mineria": 1.1,
    "pesca": 0.5,
}

#: National stratum mix (%), close to PRODUCE's national tables (~96 % micro, ~0.5 % large).
NATIONAL_STRATA: dict[str, float] = {"micro": 96.0, "pequena": 3.4, "mediana": 0.1, "grande": 0.5}

#: National sector mix (%), close to PRODUCE's "Mipyme formales según sector económico".
NATIONAL_SECTORS: dict[str, float] = {
    "comercio": 46.0,
    "servicios": 41.5,
    "manufactura": 8.0,
    "construccion": 2.6,
    "agropecuario": 1.1,
    "mineria": 0.6,
    "pesca": 0.2,
}

#: Relative weight of each department in the national count of formal firms outside the VRAEM districts
#: (Lima concentrates close to half of Peru's formal firms). Only the distribution of synthetic rows
#: depends on it; no published figure does.
NATIONAL_DEPARTMENT_WEIGHT: dict[str, float] = {
    "15": 44.0,
    "04": 6.0,
    "13": 5.5,
    "20": 4.5,
    "14": 3.5,
    "08": 3.5,
    "12": 3.5,
    "07": 3.5,
    "11": 2.5,
    "02": 2.5,
    "06": 2.3,
    "21": 2.3,
    "22": 2.0,
    "16": 1.8,
    "05": 1.3,
    "23": 1.5,
    "10": 1.4,
    "25": 1.3,
    "03": 0.8,
    "18": 0.7,
    "24": 0.7,
    "01": 0.8,
    "09": 0.5,
    "19": 0.6,
    "17": 0.6,
}

#: Share of the previous year's formal firms that stop being formal (baja, suspension, no more sales).
#: 2020 is high (pandemic); the exits make room for entrants, so that firms keep their RUC across years
#: while the stock moves along the calibrated path.
EXIT_RATE: dict[int, float] = {2020: 0.055, 2021: 0.015, 2022: 0.015, 2023: 0.015, 2024: 0.015}

#: Non-formal rows present from the first year, as a share of the first year's formal firms:
#: old bajas, dormant ACTIVO firms (zero or no declared sales), suspended ones, and taxpayers of
#: non-business types (persona natural sin negocio, asociaciones, public bodies…). Together with the
#: exits and the pre-entry rows they make the Padrón ~21 % (2019) to ~30 % (2024) larger than the count of
#: formal firms, the range the sample is calibrated to.
INITIAL_BACKGROUND: dict[str, float] = {"baja_antigua": 0.10, "inactivo": 0.04, "suspendido": 0.01, "excluido": 0.06}
#: New non-business registrations each year, as a share of that year's formal firms.
NEW_EXCLUDED_BACKGROUND = 0.004
#: Share of a year's entrants whose RUC already shows, ACTIVO without sales, in the previous year's cut.
PRE_REGISTERED = 0.30

SCALES = {"national": 1, "small": 100}
#: Scales that are another scale's sample with only the Padrón cuts made bigger: ``real`` is the national
#: sample whose December cuts are padded with filler lines (never formal firms) up to SUNAT's real size
#: (``padron.REAL_CUT_LINES``). They have no targets of their own, so they get the other's calibration
#: and every figure computed from them is the other scale's.
CALIBRATION_SCALE = {"real": "national"}
SIZE_STRATA = ("micro", "pequena", "mediana", "grande")
SECTORS = ("agropecuario", "pesca", "mineria", "manufactura", "construccion", "comercio", "servicios")


# --------------------------------------------------------------------------------------------------------
# Calibration
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flow:
    """Formal-firm flows of one segment (VRAEM districts, or the rest of the country) per year."""

    formales: dict[int, int]
    exits: dict[int, int]
    entries: dict[int, int]


@dataclass(frozen=True)
class Calibration:
    """Integer targets for the firm generator; see the module docstring for which are published."""

    scale_name: str
    anios: tuple[int, ...]
    published_year: int
    vraem_formal: dict[int, int]
    national_formals: dict[int, int]
    #: exact counts of the VRAEM formal firms of ``anio_publicado`` (published rounding at national scale)
    vraem_by_stratum: dict[str, int]
    vraem_by_sector: dict[str, int]
    vraem_by_department: dict[str, int]
    #: shares used to draw the attributes of every other firm (VRAEM firms of other years, national firms)
    stratum_pct_vraem: dict[str, float]
    sector_pct_vraem: dict[str, float]
    department_pct_vraem: dict[str, float]
    stratum_pct_national: dict[str, float]
    sector_pct_national: dict[str, float]
    #: total declared sales of the VRAEM formal firms, in cents; ``None`` = no target (small scale)
    vraem_sales_cents: dict[int, int | None]
    uit: dict[int, int]
    flow_vraem: Flow
    flow_rest: Flow
    background: dict[str, dict[str, int]] = field(default_factory=dict)
    new_excluded_background: dict[str, dict[int, int]] = field(default_factory=dict)


def _var_pct(new: int, old: int) -> Fraction:
    return (Fraction(new, old) - 1) * 100


def _vraem_series(n_final: int, final_year: int, var_final: Decimal, mean_var: Decimal) -> dict[int, int]:
    """VRAEM formal firms 2019…anio_final from the published level, last change and mean change.

    The year before the last is the integer nearest to ``n_final / (1 + var/100)`` whose change rounds to
    the published one. The earlier changes take the shape of ``VRAEM_VAR_PROFILE`` shifted so that the mean
    of all changes equals the published mean exactly; levels are rounded going backwards and the result is
    checked (and the first level nudged by one firm at a time if rounding pushed the mean out).
    """
    profile_years = sorted(VRAEM_VAR_PROFILE)
    first = profile_years[0] - 1
    if profile_years[-1] != final_year - 1:
        raise ValueError("PERFIL_VAR_VRAEM debe cubrir los años anteriores al publicado")
    n_prev = round(Fraction(n_final) / (1 + _fraction(var_final) / 100))
    for delta in (0, 1, -1, 2, -2):
        if rounds_to(_var_pct(n_final, n_prev + delta), var_final):
            n_prev += delta
            break
    else:
        raise ValueError("no hay un nivel previo cuyo cambio redondee al publicado")
    serie = {final_year: n_final, final_year - 1: n_prev}
    n_changes = final_year - first
    rest = _fraction(mean_var) * n_changes - _var_pct(n_final, n_prev)
    profile = {a: _fraction(VRAEM_VAR_PROFILE[a]) for a in profile_years}
    adjustment = (rest - sum(profile.values())) / len(profile)
    for a in sorted(profile_years[1:], reverse=True):  # changes of years primero+2 … anio_final-1
        serie[a - 1] = round(Fraction(serie[a]) / (1 + (profile[a] + adjustment) / 100))
    serie[first] = round(Fraction(serie[first + 1]) / (1 + (profile[first + 1] + adjustment) / 100))

    def mean_of(s: dict[int, int]) -> Fraction:
        return sum(_var_pct(s[a], s[a - 1]) for a in range(first + 1, final_year + 1)) / n_changes

    for _step in range(200):
        m = mean_of(serie)
        if rounds_to(m, mean_var, 1) and abs(m - _fraction(mean_var)) < Fraction(1, 100):
            return dict(sorted(serie.items()))
        serie[first] += 1 if m > _fraction(mean_var) else -1
    raise ValueError("no se pudo ajustar la serie VRAEM a la media publicada")


def _target_sales(
    vraem: dict[int, int], uit: dict[int, int], published_year: int, sales_millions: Decimal
) -> dict[int, int]:
    """Target total sales (cents) of the VRAEM formal firms per year.

    The published year gets the published S/ millions exactly (the centre of its rounding interval).
    Earlier years are not published: they scale the published total by the firm count and by the UIT,
    i.e. the average firm's nominal sales move with the UIT (which tracks prices). Plausible, documented,
    and it keeps every year's total far from the stratum bounds that the generator must respect.
    """
    base = int(sales_millions * 1_000_000 * 100)
    return {
        a: round(Fraction(base) * Fraction(vraem[a], vraem[published_year]) * Fraction(uit[a], uit[published_year]))
        for a in vraem
    }


def _flow(formales: dict[int, int]) -> Flow:
    """Exits and entries that carry one segment's formal firms along their path (entries never negative)."""
    anios = sorted(formales)
    exits = {anios[0]: 0}
    entries = {anios[0]: formales[anios[0]]}
    for a in anios[1:]:
        s = round(EXIT_RATE[a] * formales[a - 1])
        e = formales[a] - formales[a - 1] + s
        if e < 0:
            raise ValueError(f"TASA_SALIDA[{a}] demasiado baja: entradas negativas ({e})")
        exits[a], entries[a] = s, e
    return Flow(dict(formales), exits, entries)


def calibrate(scale: str = "national", years=range(2019, 2025)) -> Calibration:
    """Integer targets for ``scale`` ("national", "small", or "real" = national's); the path always covers
    2019–2024.

    ``years`` only validates what the caller wants written: the simulation runs over the report's whole
    window so that a firm keeps its RUC, location and activity whatever years are written.
    """
    if scale not in SCALES and scale not in CALIBRATION_SCALE:
        raise ValueError(f"escala desconocida {scale!r}: use una de {sorted(SCALES | CALIBRATION_SCALE)}")
    scale = CALIBRATION_SCALE.get(scale, scale)
    divisor = SCALES[scale]
    pub_year, n_pub = _published("empresas_formales")
    _, var_pub = _published("empresas_var_anual_pct")
    _, mean_pub = _published("empresas_var_promedio_anual_pct")
    _, share_pub = _published("empresas_participacion_nacional_pct")
    _, sales_pub = _published("ventas_millones_soles")
    stratum_pub = _published_by_category("empresas_por_estrato_pct")
    sector_pub = _published_by_category("empresas_por_sector_pct")
    dept_pub = _published_by_category("empresas_por_departamento_pct")

    first = min(VRAEM_VAR_PROFILE) - 1
    sim_years = tuple(range(first, pub_year + 1))
    requested = tuple(years)
    if not requested or not set(requested) <= set(sim_years):
        raise ValueError(f"años {requested} fuera de la ventana calibrada {sim_years[0]}–{sim_years[-1]}")

    vraem = _vraem_series(int(n_pub), pub_year, var_pub, mean_pub)
    nacional = {pub_year: round(Fraction(int(n_pub)) / (_fraction(share_pub) / 100))}
    for a in range(pub_year, first, -1):
        nacional[a - 1] = round(Fraction(nacional[a]) / (1 + _fraction(NATIONAL_VAR[a]) / 100))
    nacional = dict(sorted(nacional.items()))
    for a in sim_years:
        share = Fraction(vraem[a], nacional[a]) * 100
        if not rounds_to(share, share_pub):
            raise ValueError(f"{a}: participación VRAEM {float(share):.3f} % no redondea a {share_pub} %")
    uit = uit_by_year()
    ventas = _target_sales(vraem, uit, pub_year, sales_pub)

    # Sector shares: the published two plus the derived split of what they leave.
    rest_pct = Decimal(100) - sum(sector_pub.values())
    other_ones = apportion(int(rest_pct * 10), VRAEM_OTHER_SECTORS)
    sector_pct = {k: Decimal(v) / 10 for k, v in other_ones.items()} | dict(sector_pub)
    sector_pct = {s: sector_pct[s] for s in SECTORS}
    stratum_pct = {e: stratum_pub[e] for e in SIZE_STRATA}
    dept_pct = dict(dept_pub)

    if divisor == 1:
        by_stratum = allocate(vraem[pub_year], stratum_pct, 1)
        by_sector = allocate(vraem[pub_year], sector_pct, 1)
        by_dept = allocate(vraem[pub_year], dept_pct, 1)
        sales_target: dict[int, int | None] = dict(ventas)
    else:
        vraem = {a: round(Fraction(v, divisor)) for a, v in vraem.items()}
        nacional = {a: round(Fraction(v, divisor)) for a, v in nacional.items()}
        by_stratum = apportion(vraem[pub_year], stratum_pct)
        by_sector = apportion(vraem[pub_year], sector_pct)
        by_dept = apportion(vraem[pub_year], dept_pct)
        sales_target = {a: None for a in vraem}

    flow_v = _flow(vraem)
    flow_r = _flow({a: nacional[a] - vraem[a] for a in sim_years})
    background = {}
    new_ones = {}
    for nombre, flow in (("vraem", flow_v), ("resto", flow_r)):
        f0 = flow.formales[first]
        background[nombre] = {k: round(v * f0) for k, v in INITIAL_BACKGROUND.items()}
        new_ones[nombre] = {a: round(NEW_EXCLUDED_BACKGROUND * flow.formales[a]) for a in sim_years[1:]}

    return Calibration(
        scale_name=scale,
        anios=sim_years,
        published_year=pub_year,
        vraem_formal=vraem,
        national_formals=nacional,
        vraem_by_stratum=by_stratum,
        vraem_by_sector=by_sector,
        vraem_by_department=by_dept,
        stratum_pct_vraem={k: float(v) for k, v in stratum_pct.items()},
        sector_pct_vraem={k: float(v) for k, v in sector_pct.items()},
        department_pct_vraem={k: float(v) for k, v in dept_pct.items()},
        stratum_pct_national=dict(NATIONAL_STRATA),
        sector_pct_national=dict(NATIONAL_SECTORS),
        vraem_sales_cents=sales_target,
        uit={a: uit[a] for a in sim_years},
        flow_vraem=flow_v,
        flow_rest=flow_r,
        background=background,
        new_excluded_background=new_ones,
    )


def published_pbi() -> tuple[int, Decimal, Decimal]:
    """(year, the territory's value added in S/ millones de 2007, its % of national GDP) as printed: the targets
    of the sales outside the territory (:mod:`.pbi`), which the GDP allocation turns into those figures."""
    anio, valor = _published("pbi_vraem_millones_soles_2007")
    _, pct = _published("pbi_participacion_nacional_pct")
    return anio, valor, pct


def summary(cal: Calibration) -> str:
    """One-screen text of the derived targets, for the benchmark and for a curious reader."""
    filas = [f"escala={cal.scale_name} año publicado={cal.published_year}"]
    for a in cal.anios:
        v, n = cal.vraem_formal[a], cal.national_formals[a]
        var = "" if a == cal.anios[0] else f" var={float(_var_pct(v, cal.vraem_formal[a - 1])):+.2f}%"
        ventas = cal.vraem_sales_cents[a]
        vt = "" if ventas is None else f" ventas=S/{ventas / 1e8:,.2f} M"
        filas.append(f"  {a}: VRAEM={v:,} nacional={n:,} share={100 * v / n:.3f}%{var}{vt}")
    filas.append(f"  estrato {cal.vraem_by_stratum}")
    filas.append(f"  sector {cal.vraem_by_sector}")
    filas.append(f"  departamento {cal.vraem_by_department}")
    return "\n".join(filas)


__all__ = [
    "CALIBRATION_SCALE",
    "Calibration",
    "Flow",
    "allocate",
    "apportion",
    "calibrate",
    "read_published",
    "read_reference",
    "published_pbi",
    "rounds_to",
    "summary",
    "reference_path",
    "uit_by_year",
]
