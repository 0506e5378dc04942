"""Synthetic ENAHO module 500 (employment) and 400 (health) files, written the way INEI publishes them.

Why synthetic: the real microdata cannot be fetched in CI. These files carry the real formats and quirks
(docs/sources.md#enaho-codigos, docs/sources.md#enaho-archivos) so that the reader, the schema and the indicators are
exercised end to end:

- formats vary by year: Stata release 115 (latin-1, first variable `aÑo`) in a zip with an inner folder or
  loose; SPSS `.sav` with upper-case names; upper-case latin-1 CRLF CSV with a space for missing values and
  keys that lost their leading zeros, inside `<código>-Modulo05.zip` without an inner folder;
- zips also hold a classifier table and a dictionary PDF, which the reader must ignore;
- 2024 (code 966) ships no `ocupinf`; 2020 also carries the face-to-face factor `fac500_p`;
- dirt: non-residents, `ocu500` 0/2/3/4, persons with no weight (`ocu500 = 0`), a row with an impossible
  ubigeo and a duplicated person key (both must be quarantined by the schema).

The sample is a stratified two-stage design of ENAHO's size (`scale="national"`: ≈36,000 households and
≈90,000 persons of 14+ a year in all 25 departments; `scale="small"`: 1/20 of that): conglomerates within
`estrato`, households within conglomerates. Weights (`fac500a`) are calibrated so that the indicators of
`vraem_pipeline.empleo.estimates` land on the published edition's figures, which are read at run time from
`reference/publicado_vraem_2024.csv` — no published figure is typed here.

A synthetic-world choice to know about: `p512a`/`p512b` (establishment size) are left blank for workers of
agricultural household units. With every worker answering them, MYPE-proxy A covers almost everybody but the
large formal employers, and its informality rate comes out above the overall rate (≈90 %), whereas the published
"8 de cada 10" is below the published overall rate. Whether INEI skips the question for farm units is not known
(docs/sources.md#enaho-variables marks p512b's skip pattern [U]); check it on the first real file.
"""

from __future__ import annotations

import datetime
import io
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyreadstat

from vraem_pipeline.core.references import load_territory, territory_departments
from vraem_pipeline.empleo.estimates import department, informal_flag, is_employed, is_mype, is_resident
from vraem_pipeline.empleo.informality import FORMAL, INFORMAL, rebuild_ocupinf
from vraem_pipeline.empleo.schema import YEARS_WITH_OCUPINF
from vraem_pipeline.sources.enaho import survey_code_years
from vraem_sample.calibration import read_published

#: INEI survey code of each annual cross-section (docs/sources.md#enaho-codigos): it names the download zips. The
#: reader's table (`reference/enaho_codigos_encuesta.csv`), so the sample's zips pass its code check by construction.
YEAR_CODES = {anio: codigo for codigo, anio in survey_code_years().items()}

Scale = Literal["national", "small"]
HOUSEHOLDS = {"national": 36_000, "small": 1_800}

#: How each year is published here: (format, layout). Layouts: "zip_folder" (<code>-ModuloNN/<file> inside the
#: zip), "zip_flat" (the file at the zip's root), "loose" (the extracted file in the year folder).
LAYOUTS: dict[int, tuple[str, str]] = {  # years not listed: Stata in a zip with an inner folder
    2019: ("dta", "zip_folder"),
    2020: ("sav", "loose"),
    2021: ("csv", "zip_flat"),
    2022: ("dta", "loose"),
    2023: ("csv", "zip_folder"),
    2024: ("dta", "zip_folder"),
}
#: CSV years whose keys were written without their leading zeros (INEI's own CSVs keep them, spreadsheets
#: re-saving them do not): the reader must restore both.
CSV_WITHOUT_ZEROS = {2021}

# Department frame: code, relative size of the employed population, urban share, dominio, size stratum of the
# main city (1 ≥500k … 3 50k–99,999). Plausible magnitudes for a synthetic frame, not published figures: the
# calibration sets the territory and national totals.
_DEPARTMENTS = [
    ("01", 230, 0.42, 7, 3),
    ("02", 620, 0.64, 1, 2),
    ("03", 260, 0.46, 6, 3),
    ("04", 760, 0.92, 3, 1),
    ("05", 380, 0.58, 6, 2),
    ("06", 850, 0.35, 4, 2),
    ("07", 560, 1.00, 8, 1),
    ("08", 790, 0.61, 6, 2),
    ("09", 260, 0.31, 5, 3),
    ("10", 460, 0.42, 5, 2),
    ("11", 460, 0.90, 3, 2),
    ("12", 740, 0.69, 5, 2),
    ("13", 1020, 0.79, 1, 1),
    ("14", 680, 0.81, 1, 1),
    ("15", 5500, 0.97, 8, 1),
    ("16", 470, 0.69, 7, 2),
    ("17", 100, 0.83, 7, 3),
    ("18", 110, 0.87, 3, 3),
    ("19", 160, 0.63, 5, 3),
    ("20", 1000, 0.79, 1, 1),
    ("21", 790, 0.54, 6, 2),
    ("22", 510, 0.68, 7, 2),
    ("23", 200, 0.91, 3, 2),
    ("24", 140, 0.94, 1, 3),
    ("25", 300, 0.81, 7, 2),
]

_AGRO_CIIU = np.array([111, 112, 113, 121, 141, 144, 145, 150, 161, 210, 311, 322])
_OTHER_CIIU = np.array([1071, 1410, 1610, 2395, 4100, 4520, 4711, 4721, 4772, 4922, 5510, 5610, 8510, 8610, 9609])
_PUBLIC_CIIU = np.array([8411, 8510, 8610])
_MINING_CIIU = np.array([729, 990])

_M500_COLUMNS = [
    "año",
    "mes",
    "conglome",
    "vivienda",
    "hogar",
    "codperso",
    "ubigeo",
    "dominio",
    "estrato",
    "codinfor",
    "p500i",
    "p203",
    "p204",
    "p205",
    "p206",
    "p207",
    "p208a",
    "p301a",
    "ocu500",
    "p505r4",
    "p506r4",
    "p507",
    "p510",
    "p510a1",
    "p510b",
    "p511a",
    "p512a",
    "p512b",
    "p513t",
    "i524a1",
    "ocupinf",
    "emplpsec",
    "fac500a",
    "fac500_p",
]
_M400_COLUMNS = (
    ["año", "mes", "conglome", "vivienda", "hogar", "codperso", "ubigeo", "dominio", "estrato", "p203", "p207", "p208a"]
    + [f"p419{i}" for i in range(1, 9)]
    + [f"p419a{i}" for i in range(1, 9)]
    + ["factor07"]
)
_KEYS = {"conglome": 6, "vivienda": 3, "hogar": 2, "codperso": 2, "ubigeo": 6}
_TEXT = set(_KEYS) | {"año", "mes", "codinfor", "p500i"}


# --- calibration targets -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalibrationTargets:
    """The published employment figures the synthetic weights reproduce (read from the reference CSV)."""

    anchor_year: int  # year of the published edition (2024)
    base_year: int  # start of the published growth window (2019)
    pea_ocupada: float
    participacion_nacional_pct: float
    informal_pct: float
    women_pct: float
    annual_var_pct: float
    mean_annual_var_pct: float
    informal_mype_pct: float

    def territory_total(self, year: int) -> float:
        """The year's territory PEA ocupada: the anchor value, the published change into the anchor year, and
        an even change in the other years of the window so that the annual changes average the published mean."""
        n = self.anchor_year - self.base_year
        other = (n * self.mean_annual_var_pct - self.annual_var_pct) / (n - 1) if n > 1 else self.annual_var_pct
        total = self.pea_ocupada
        if year >= self.anchor_year:
            return total * (1 + other / 100) ** (year - self.anchor_year)
        total /= 1 + self.annual_var_pct / 100
        return total / (1 + other / 100) ** (self.anchor_year - 1 - year)


def load_targets(published: pd.DataFrame | None = None) -> CalibrationTargets:
    """The employment targets from the published edition (`publicado_vraem_2024.csv`, every column as text)."""
    published = read_published() if published is None else published
    rows = published[published["indicador"].str.startswith("empleo_")]

    def value(code: str, year: int | None = None) -> float:
        match = rows[(rows["indicador"] == code) & ((rows["anio"] == str(year)) if year else True)]
        if match.empty:
            raise ValueError(f"publicado_vraem_2024.csv: falta la cifra publicada {code}")
        return float(match["valor"].iloc[0])

    pea_years = sorted(int(a) for a in rows.loc[rows["indicador"] == "empleo_pea_ocupada", "anio"])
    anchor = pea_years[-1]
    base = pea_years[0] if len(pea_years) > 1 else anchor - 5
    return CalibrationTargets(
        anchor_year=anchor,
        base_year=base,
        pea_ocupada=value("empleo_pea_ocupada", anchor),
        participacion_nacional_pct=value("empleo_participacion_nacional_pct"),
        informal_pct=value("empleo_informal_pct"),
        women_pct=value("empleo_mujeres_pct"),
        annual_var_pct=value("empleo_var_anual_pct"),
        mean_annual_var_pct=value("empleo_var_promedio_anual_pct"),
        informal_mype_pct=value("empleo_informal_mype_pct"),
    )


# --- entry point ------------------------------------------------------------------------------------------------


def write_enaho(
    raw_dir: Path,
    years: Iterable[int] = range(2019, 2025),
    seed: int = 20240,
    scale: Scale = "national",
    *,
    departments: Sequence[str] | None = None,
    targets: CalibrationTargets | None = None,
) -> list[Path]:
    """Write `raw_dir/enaho/<year>/…` for each year and return the files written.

    `departments`: the territory's department codes the weights are calibrated on (default: those of the shipped
    territory file). Deterministic for a given seed, scale and years.
    """
    if scale not in HOUSEHOLDS:
        raise ValueError(f"scale debe ser 'national' o 'small', no {scale!r}")
    departments = sorted({str(d).zfill(2) for d in (departments or territory_departments(load_territory()))})
    frame_codes = [d[0] for d in _DEPARTMENTS]
    if not departments or set(departments) - set(frame_codes) or set(departments) == set(frame_codes):
        raise ValueError(f"los departamentos del territorio deben ser parte de 01–25, sin ser todos: {departments}")
    targets = targets or load_targets()
    written: list[Path] = []
    for year in years:
        rng = np.random.default_rng([seed, year])
        m500, m400 = simulate_year(rng, year, scale, departments, targets)
        m500 = _add_dirt(rng, m500, departments)
        written += _publish(Path(raw_dir) / "enaho" / str(year), year, m500, m400)
    return written


def simulate_year(
    rng: np.random.Generator, year: int, scale: Scale, departments: Sequence[str], targets: CalibrationTargets
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean, calibrated module 500 and module 400 frames of one year (codes as numbers, keys as strings)."""
    persons, children = _sample(rng, scale)
    _activity(rng, persons)
    _jobs(rng, persons)
    _insurance(rng, persons)
    _insurance(rng, children)
    rebuilt = rebuild_ocupinf(persons, persons)
    if year in YEARS_WITH_OCUPINF:
        persons["ocupinf"] = _official_flag(rng, rebuilt["ocupinf"].to_numpy(dtype="float64", na_value=np.nan))
        sector = rebuilt["sector"].to_numpy(dtype="float64", na_value=np.nan)
        informal = persons["ocupinf"].to_numpy() == INFORMAL
        persons["emplpsec"] = np.select(
            [informal & (sector == 2), informal & np.isin(sector, (1, 3))], [1.0, 2.0], np.nan
        )
    else:
        persons["ocupinf_reconstruido"] = rebuilt["ocupinf"].to_numpy(dtype="float64", na_value=np.nan)
    persons["fac500a"] = _calibrate(persons, departments, targets.territory_total(year), targets)
    persons.loc[persons["ocu500"] == 0, "fac500a"] = np.nan
    if year == 2020:
        persons["fac500_p"] = persons["fac500a"] * rng.uniform(0.9, 1.1, len(persons))
    persons = persons.drop(columns=["ocupinf_reconstruido"], errors="ignore")
    everyone = pd.concat([persons, children], ignore_index=True).sort_values(
        ["conglome", "vivienda", "hogar", "codperso"], kind="stable"
    )
    everyone["factor07"] = everyone.groupby(["conglome", "vivienda", "hogar"])["fac500a"].transform("mean")
    everyone["factor07"] = everyone["factor07"].fillna(everyone["fac500a"].mean())
    for frame in (persons, everyone):
        frame["año"] = str(year)
    return (
        persons[[c for c in _M500_COLUMNS if c in persons.columns]].reset_index(drop=True),
        everyone[_M400_COLUMNS].reset_index(drop=True),
    )


# --- sample design ------------------------------------------------------------------------------------------------


def _sample(rng: np.random.Generator, scale: Scale) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Strata → conglomerates → households → persons, for all 25 departments."""
    codes = np.array([d[0] for d in _DEPARTMENTS])
    size = np.array([d[1] for d in _DEPARTMENTS], dtype=float)
    urban_share = np.array([d[2] for d in _DEPARTMENTS])
    dominio = np.array([d[3] for d in _DEPARTMENTS])
    city_stratum = np.array([d[4] for d in _DEPARTMENTS])
    households = HOUSEHOLDS[scale] * (0.6 / len(codes) + 0.4 * size / size.sum())

    # conglomerates: 6 dwellings in urban areas, 8 in rural ones; at least two per department and area.
    urban_psu = np.maximum(2, np.round(households * urban_share / 6)).astype(int)
    rural_psu = np.where(urban_share < 1, np.maximum(2, np.round(households * (1 - urban_share) / 8)), 0)
    rural_psu = rural_psu.astype(int)
    departments = np.arange(len(codes))
    d_idx = np.concatenate([np.repeat(departments, urban_psu), np.repeat(departments, rural_psu)])
    urban = np.concatenate([np.ones(urban_psu.sum(), bool), np.zeros(rural_psu.sum(), bool)])
    order = np.lexsort((~urban, d_idx))
    d_idx, urban = d_idx[order], urban[order]
    n_psu = len(d_idx)

    s0 = city_stratum[d_idx]
    step = rng.integers(0, 6, n_psu)  # main city half of the time, smaller towns otherwise
    urban_stratum = np.where(rng.random(n_psu) < 0.55, s0, np.minimum(5, s0 + 1 + step % (6 - s0)))
    urban_stratum = np.where(np.isin(codes[d_idx], ["07", "15"]), 1, urban_stratum)
    rural_stratum = 6 + np.searchsorted(np.cumsum([0.35, 0.35, 0.30]), rng.random(n_psu), side="right")
    estrato = np.where(urban, urban_stratum, np.minimum(rural_stratum, 8))

    conglome = np.sort(rng.choice(np.arange(1, 200_000), n_psu, replace=False))
    province = rng.integers(1, 8, n_psu)
    district = rng.integers(1, 12, n_psu)
    ubigeo = np.char.add(
        codes[d_idx], np.char.add(np.char.zfill(province.astype(str), 2), np.char.zfill(district.astype(str), 2))
    )
    psu_weight = rng.lognormal(0.0, 0.35, n_psu)

    hh_per_psu = np.where(urban, 6, 8)
    psu_of_hh = np.repeat(np.arange(n_psu), hh_per_psu)
    hh_rank = np.arange(len(psu_of_hh)) - np.repeat(np.cumsum(hh_per_psu) - hh_per_psu, hh_per_psu)
    vivienda = (hh_rank * 9 + rng.integers(1, 9, len(psu_of_hh))).astype(int) + 1
    adults = 1 + np.minimum(rng.poisson(1.55, len(psu_of_hh)), 8)
    kids = np.minimum(rng.poisson(0.8, len(psu_of_hh)), 6)

    def people(count: np.ndarray, first_code: np.ndarray) -> pd.DataFrame:
        hh = np.repeat(np.arange(len(count)), count)
        rank = np.arange(len(hh)) - np.repeat(np.cumsum(count) - count, count)
        psu = psu_of_hh[hh]
        return pd.DataFrame(
            {
                "conglome": np.char.zfill(conglome[psu].astype(str), 6),
                "vivienda": np.char.zfill(vivienda[hh].astype(str), 3),
                "hogar": "11",
                "codperso": np.char.zfill((first_code[hh] + rank).astype(str), 2),
                "ubigeo": ubigeo[psu],
                "dominio": dominio[d_idx[psu]].astype(float),
                "estrato": estrato[psu].astype(float),
                "mes": np.char.zfill(rng.integers(1, 13, len(count))[hh].astype(str), 2),
                "_rank": rank,
                "_urban": urban[psu],
                "_w": psu_weight[psu] * rng.lognormal(0.0, 0.12, len(hh)),
                # How formal the department's economy is: scales SUNAT registration and employer-paid insurance.
                "_formality": 0.5 + 0.6 * urban_share[d_idx[psu]],
            }
        )

    persons = people(adults, np.ones(len(adults), dtype=int))
    children = people(kids, 1 + adults)
    _demography(rng, persons, adult=True)
    _demography(rng, children, adult=False)
    return persons, children


def _demography(rng: np.random.Generator, frame: pd.DataFrame, *, adult: bool) -> None:
    n = len(frame)
    rank = frame["_rank"].to_numpy()
    frame["p207"] = np.where(rng.random(n) < np.where(rank == 0, 0.72, 0.40), 1.0, 2.0)
    if adult:
        age = 14 + np.floor(rng.gamma(2.2, 13.0, n))
        age = np.where(rank == 0, np.maximum(age, 20), age)
        frame["p208a"] = np.minimum(age, 98)
        relation = np.select(
            [rank == 0, (rank == 1) & (rng.random(n) < 0.8)], [1, 2], rng.choice([3, 3, 3, 5, 7, 8, 10], n)
        )
    else:
        frame["p208a"] = rng.integers(0, 14, n).astype(float)
        relation = np.where(rng.random(n) < 0.8, 3, 5)
    frame["p203"] = relation.astype(float)
    frame["p301a"] = np.where(adult, rng.integers(1, 12, n), rng.integers(1, 5, n)).astype(float)


# --- person and job answers ---------------------------------------------------------------------------------------


def _activity(rng: np.random.Generator, p: pd.DataFrame) -> None:
    """Residence (p204–p206) and activity status (ocu500), with the dirt the filters must remove."""
    n = len(p)
    head = p["p203"].to_numpy() == 1
    live_in = p["p203"].to_numpy() == 8
    member = head | (~live_in & (rng.random(n) < 0.975))
    p["p204"] = np.where(member, 1.0, 2.0)
    p["p205"] = np.where(member, np.where(rng.random(n) < 0.035, 1.0, 2.0), np.nan)
    p["p206"] = np.where(member, np.nan, np.where(live_in | (rng.random(n) < 0.55), 1.0, 2.0))

    man = p["p207"].to_numpy() == 1
    urban = p["_urban"].to_numpy()
    age = p["p208a"].to_numpy()
    base = np.select([man & urban, man & ~urban, ~man & urban], [0.77, 0.86, 0.68], 0.82)
    age_factor = np.select([age < 18, age < 25, age < 60, age < 70], [0.45, 0.85, 1.0, 0.85], 0.55)
    employed = rng.random(n) < np.minimum(base * age_factor, 0.97)
    u = rng.random(n)
    inactive_code = np.select([u < np.where(urban, 0.10, 0.05), u < np.where(urban, 0.14, 0.09)], [2, 3], 4)
    ocu500 = np.where(employed, 1, inactive_code)
    ocu500 = np.where(rng.random(n) < 0.006, 0, ocu500)  # not interviewed in chapter 500
    p["ocu500"] = ocu500.astype(float)
    p["p500i"] = np.where(ocu500 == 0, "00", np.char.zfill(rng.integers(1, 4, n).astype(str), 2))
    p["codinfor"] = p["codperso"]


def _pick(rng: np.random.Generator, n: int, codes, probs) -> np.ndarray:
    return np.asarray(codes)[np.searchsorted(np.cumsum(probs) / np.sum(probs), rng.random(n), side="right")]


def _jobs(rng: np.random.Generator, p: pd.DataFrame) -> None:
    """Main-job answers of the employed: category, industry, employer type, SUNAT registration, size."""
    n = len(p)
    emp = p["ocu500"].to_numpy() == 1
    urban = p["_urban"].to_numpy()
    cat = np.where(
        urban,
        _pick(rng, n, [1, 2, 3, 4, 5, 6, 7], [0.05, 0.36, 0.30, 0.14, 0.07, 0.035, 0.045]),
        _pick(rng, n, [1, 2, 3, 4, 5, 6, 7], [0.04, 0.44, 0.05, 0.22, 0.23, 0.01, 0.01]),
    ).astype(float)
    employee = np.isin(cat, (3, 4))
    p510 = np.select(
        [cat == 3, cat == 4, cat == 7],
        [
            _pick(rng, n, [1, 2, 3, 5, 6, 7], [0.03, 0.30, 0.04, 0.01, 0.60, 0.02]),
            _pick(rng, n, [2, 6, 7], [0.05, 0.92, 0.03]),
            _pick(rng, n, [6, 7], [0.7, 0.3]),
        ],
        np.nan,
    )
    public = np.isin(p510, (1, 2, 3))
    mining = (cat == 4) & ~urban & ~public & (rng.random(n) < 0.06)
    agro = np.isin(cat, (1, 2, 4, 5)) & ~public & ~mining & (rng.random(n) < np.where(urban, 0.08, 0.80))
    ciiu = np.select(
        [public, mining, agro, cat == 6],
        [rng.choice(_PUBLIC_CIIU, n), rng.choice(_MINING_CIIU, n), rng.choice(_AGRO_CIIU, n), 9700],
        rng.choice(_OTHER_CIIU, n),
    ).astype(float)

    own_unit = np.isin(cat, (1, 2, 5, 7))
    formality = p["_formality"].to_numpy()

    def registered(legal, natural):
        """SUNAT registration drawn with the department's formality: 1 jurídica, 2 natural, 3 not registered."""
        u = rng.random(n)
        j, nat = np.asarray(legal) * formality, np.asarray(natural) * formality
        return np.where(u < j, 1, np.where(u < j + nat, 2, 3))

    registration = np.select(
        [mining, own_unit & urban, own_unit, employee & agro, cat == 3, cat == 4],
        [
            1,
            registered(0.03, 0.24),
            registered(0.005, 0.06),
            registered(0.10, 0.10),
            registered(np.where(urban, 0.55, 0.30), 0.20),
            registered(np.where(urban, 0.25, 0.12), np.where(urban, 0.15, 0.10)),
        ],
        np.nan,
    )
    registration = np.where(public | (cat == 6), np.nan, registration)
    # Item non-response: a few own-account workers and employers without a SUNAT answer (sector undetermined).
    registration = np.where(np.isin(cat, (1, 2)) & ~agro & (rng.random(n) < 0.006), np.nan, registration)

    size = np.select(
        [public, mining, cat == 6, np.isin(cat, (2, 5)), cat == 1, registration == 1, registration == 2],
        [
            _pick(rng, n, [2, 3, 4, 5], [0.10, 0.15, 0.35, 0.40]),
            _pick(rng, n, [4, 5], [0.4, 0.6]),
            1,
            1,
            _pick(rng, n, [1, 2, 3], [0.90, 0.08, 0.02]),
            _pick(rng, n, [1, 2, 3, 4, 5], [0.35, 0.15, 0.12, 0.20, 0.18]),
            _pick(rng, n, [1, 2, 3], [0.85, 0.10, 0.05]),
        ],
        _pick(rng, n, [1, 2], [0.95, 0.05]),
    ).astype(float)
    count = np.select(
        [cat == 6, cat == 2, cat == 5, cat == 1],
        [1, np.where(rng.random(n) < 0.7, 1, rng.integers(2, 4, n)), rng.integers(2, 7, n), rng.integers(2, 16, n)],
        rng.integers(1, 21, n),
    ).astype(float)
    count = np.where(size == 1, count, np.nan)
    # Synthetic skip (see the module docstring): no establishment size for agricultural household units.
    farm_unit = agro & (registration != 1)
    size = np.where(farm_unit, np.nan, size)
    count = np.where(farm_unit, np.nan, count)

    def only_employed(values):
        return np.where(emp, values, np.nan)

    p["p507"] = only_employed(cat)
    p["p506r4"] = only_employed(ciiu)
    p["p505r4"] = only_employed(rng.integers(1111, 9629, n).astype(float))
    p["p510"] = only_employed(p510)
    p["p510a1"] = only_employed(registration)
    p["p510b"] = only_employed(np.where(registration == 1, 1.0, np.where(np.isnan(registration), np.nan, 2.0)))
    p["p511a"] = only_employed(np.where(employee, _pick(rng, n, [1, 2, 5, 6, 7], [0.15, 0.2, 0.1, 0.1, 0.45]), np.nan))
    p["p512a"] = only_employed(size)
    p["p512b"] = only_employed(count)
    p["p513t"] = only_employed(rng.integers(4, 72, n).astype(float))
    p["i524a1"] = only_employed(np.where(employee, np.round(rng.lognormal(9.5, 0.6, n), 2), np.nan))
    p["_employer_pays"] = np.minimum(
        0.97,
        formality
        * np.select(
            [public, mining, cat == 6, registration == 1, registration == 2],
            [0.88, 0.95, 0.08, np.where(urban, 0.72, 0.55), np.where(urban, 0.30, 0.18)],
            0.04,
        ),
    ) * (emp & np.isin(cat, (3, 4, 6)))


def _insurance(rng: np.random.Generator, p: pd.DataFrame) -> None:
    """Module 400: affiliation (p4191…p4198) and who pays each insurance (p419a1…p419a8; 1 = su centro de
    trabajo)."""
    n = len(p)
    employer = rng.random(n) < p["_employer_pays"].to_numpy() if "_employer_pays" in p else np.zeros(n, bool)
    private_by_employer = employer & (rng.random(n) < 0.05)
    self_paid = ~employer & (rng.random(n) < 0.04)
    family = ~employer & ~self_paid & (rng.random(n) < 0.12)
    sis = ~employer & ~self_paid & ~family & (rng.random(n) < np.where(p["_urban"].to_numpy(), 0.55, 0.80))
    essalud = employer | self_paid | family
    for i in range(1, 9):
        p[f"p419{i}"] = 2.0
        p[f"p419a{i}"] = np.nan
    p["p4191"] = np.where(essalud, 1.0, 2.0)
    p["p419a1"] = np.select([employer, self_paid, family], [1.0, 2.0, 4.0], np.nan)
    p["p4192"] = np.where(private_by_employer, 1.0, 2.0)
    p["p419a2"] = np.where(private_by_employer, 1.0, np.nan)
    p["p4195"] = np.where(sis, 1.0, 2.0)
    p["p419a5"] = np.where(sis, 5.0, np.nan)


def _official_flag(rng: np.random.Generator, rebuilt: np.ndarray) -> np.ndarray:
    """INEI's shipped `ocupinf`: the rebuild with ~1.5 % of the classified jobs disagreeing (INEI's own hot-deck
    and national-accounts adjustments), balanced so that the rate itself moves by a few hundredths of a point."""
    informal = rebuilt == INFORMAL
    formal = rebuilt == FORMAL
    each_way = 0.0075 * (informal.sum() + formal.sum())  # jobs moved in each direction
    u = rng.random(len(rebuilt))
    flip_to_formal = informal & (u < each_way / max(informal.sum(), 1))
    flip_to_informal = formal & (u < each_way / max(formal.sum(), 1))
    official = rebuilt.copy()
    official[flip_to_formal] = FORMAL
    official[flip_to_informal] = INFORMAL
    return official


# --- calibration ---------------------------------------------------------------------------------------------------


def _calibrate(p: pd.DataFrame, departments: Sequence[str], territory_total: float, t: CalibrationTargets):
    """fac500a: design weights scaled by department, then raked within the territory's employed residents.

    Outside the territory the employed residents add up to national − territory, so the territory's share is
    the published one; inside, iterative proportional fitting hits the total, the women's share, the informal
    share and the MYPE informal share at once (to 1e-12), the total exactly last.
    """
    w = p["_w"].to_numpy().copy()
    dept = department(p).to_numpy()
    employed = (is_resident(p) & is_employed(p)).to_numpy()
    inside = np.isin(dept, list(departments))
    national = territory_total / (t.participacion_nacional_pct / 100)
    size = {d[0]: d[1] for d in _DEPARTMENTS}
    outside_size = sum(v for k, v in size.items() if k not in departments)
    inside_size = sum(v for k, v in size.items() if k in departments)
    for code in np.unique(dept):
        plan = (
            (territory_total * size[code] / inside_size)
            if code in departments
            else ((national - territory_total) * size[code] / outside_size)
        )
        rows = dept == code
        w[rows] *= plan / w[rows & employed].sum()

    u = employed & inside
    flag, _ = informal_flag(p)
    flag = flag.to_numpy(dtype="float64", na_value=np.nan)
    classified = u & ~np.isnan(flag)
    informal = flag == INFORMAL
    woman = p["p207"].to_numpy() == 2
    mype = is_mype(p).to_numpy() & classified
    for _ in range(500):
        _rake_share(w, mype, informal, t.informal_mype_pct / 100)
        _rake_share(w, classified, informal, t.informal_pct / 100)
        _rake_share(w, u, woman, t.women_pct / 100)
        w[u] *= territory_total / w[u].sum()
        gaps = [
            _share(w, mype, informal) - t.informal_mype_pct / 100,
            _share(w, classified, informal) - t.informal_pct / 100,
            _share(w, u, woman) - t.women_pct / 100,
        ]
        if max(abs(g) for g in gaps) < 1e-12:
            break
    else:
        raise RuntimeError(f"la calibración de fac500a no convergió: desvíos {gaps}")
    return w


def _rake_share(w: np.ndarray, within: np.ndarray, mark: np.ndarray, share: float) -> None:
    total = w[within].sum()
    yes, no = within & mark, within & ~mark
    w[yes] *= share * total / w[yes].sum()
    w[no] *= (1 - share) * total / w[no].sum()


def _share(w: np.ndarray, within: np.ndarray, mark: np.ndarray) -> float:
    return w[within & mark].sum() / w[within].sum()


# --- dirt ---------------------------------------------------------------------------------------------------


def _add_dirt(rng: np.random.Generator, m500: pd.DataFrame, departments: Sequence[str]) -> pd.DataFrame:
    """Rows the schema must quarantine: a person key repeated right after its first occurrence, and an extra
    employed person whose ubigeo names no department (99). Neither counts in any calibrated figure."""
    dept = m500["ubigeo"].str[:2]
    employed = m500["ocu500"] == 1
    duplicated_at = int(rng.choice(np.flatnonzero((employed & dept.isin(departments)).to_numpy())))
    bad_source = int(rng.choice(np.flatnonzero((employed & ~dept.isin(departments)).to_numpy())))
    bad = m500.iloc[[bad_source]].copy()
    bad["ubigeo"] = "990101"
    bad["codperso"] = "41"
    parts = [m500.iloc[: duplicated_at + 1], m500.iloc[[duplicated_at]], m500.iloc[duplicated_at + 1 :], bad]
    return pd.concat(parts, ignore_index=True)


# --- writing the files as INEI publishes them ---------------------------------------------------------------------


def _publish(year_dir: Path, year: int, m500: pd.DataFrame, m400: pd.DataFrame) -> list[Path]:
    fmt, layout = LAYOUTS.get(year, ("dta", "zip_folder"))
    code = YEAR_CODES.get(year, year)
    year_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for module, frame in (("05", m500), ("04", m400)):
        name = _data_file_name(fmt, year, f"{int(module)}00")
        payload = _serialize(frame, fmt, strip_zeros=year in CSV_WITHOUT_ZEROS)
        if layout == "loose":
            target = year_dir / name
            target.write_bytes(payload)
        else:
            target = year_dir / f"{code}-Modulo{module}.zip"
            folder = f"{code}-Modulo{module}/" if layout == "zip_folder" else ""
            extras = {
                f"{folder}{_classifier_name(fmt)}": _serialize(_classifier_table(), fmt),
                f"{folder}Diccionario{year}.pdf": b"%PDF-1.4\n% diccionario sintetico\n%%EOF\n",
            }
            with zipfile.ZipFile(target, "w") as archive:
                if folder:
                    archive.writestr(zipfile.ZipInfo(folder, date_time=_FILE_DATE), b"")
                for member, content in {f"{folder}{name}": payload, **extras}.items():
                    # level 1: speed over size, these are throwaway sample files
                    archive.writestr(
                        zipfile.ZipInfo(member, date_time=_FILE_DATE),
                        content,
                        compress_type=zipfile.ZIP_DEFLATED,
                        compresslevel=1,
                    )
        written.append(target)
    return written


_FILE_DATE = (2025, 5, 15, 9, 0, 0)  # a fixed date inside the files, so that the same seed gives the same bytes


def _data_file_name(fmt: str, year: int, module: str) -> str:
    # The case of INEI's file names varies by format; the reader matches them case-insensitively.
    return {
        "dta": f"enaho01a-{year}-{module}.dta",
        "sav": f"Enaho01A-{year}-{module}.sav",
        "csv": f"Enaho01a-{year}-{module}.csv",
    }[fmt]


def _classifier_name(fmt: str) -> str:
    return {"dta": "enaho_tabla_ciiu_rev4.dta", "sav": "Enaho_Tabla_CIIU_Rev4.sav", "csv": "Enaho_Tabla_CIIU_Rev4.csv"}[
        fmt
    ]


def _classifier_table() -> pd.DataFrame:
    classes = np.concatenate([_AGRO_CIIU, _OTHER_CIIU])
    return pd.DataFrame({"año": "2024", "ciiu": np.char.zfill(classes.astype(str), 4), "nivel": 4.0})


def _serialize(frame: pd.DataFrame, fmt: str, *, strip_zeros: bool = False) -> bytes:
    if fmt == "dta":
        return _stata_bytes(frame)
    if fmt == "sav":
        return _spss_bytes(frame)
    return _csv_bytes(frame, strip_zeros=strip_zeros)


_PLACEHOLDER = "aQz"  # Stata writers refuse a non-ASCII name before release 118; patched to latin-1 `aÑo` after


def _stata_bytes(frame: pd.DataFrame) -> bytes:
    """Old-format Stata file (release 114, latin-1) with the lower-case names of INEI's .dta files.

    INEI's 2014–2024 files are releases 113/115 of the same pre-118 family; pandas writes 114 vectorized
    (pyreadstat's writer loops over rows in Python, ~4× slower on 90,000 rows).
    """
    buffer = io.BytesIO()
    _typed(frame).rename(columns={"año": _PLACEHOLDER}).to_stata(
        buffer, version=114, write_index=False, time_stamp=datetime.datetime(*_FILE_DATE)
    )
    data = bytearray(buffer.getvalue())
    at = data.find(_PLACEHOLDER.encode() + b"\x00")
    if at >= 0:
        data[at : at + 3] = "aÑo".encode("latin-1")
    return bytes(data)


def _spss_bytes(frame: pd.DataFrame) -> bytes:
    """SPSS .sav with INEI's upper-case names."""
    out = _typed(frame).rename(columns=str.upper)
    with _temporary_path(".sav") as path:
        pyreadstat.write_sav(out, str(path))
        data = bytearray(path.read_bytes())
    # The header's creation date and time (offsets 92–108) would make every run differ.
    data[92:109] = datetime.datetime(*_FILE_DATE).strftime("%d %b %y%H:%M:%S").encode("ascii")
    return bytes(data)


def _csv_bytes(frame: pd.DataFrame, *, strip_zeros: bool) -> bytes:
    """INEI's CSV: upper-case names, latin-1, CRLF, a single space for missing values."""
    out = {}
    for name in frame.columns:
        series = frame[name]
        if name in _KEYS and strip_zeros:
            text = series.astype(str).str.lstrip("0")
            out[name.upper()] = text.where(text != "", "0")
        elif name in _TEXT:
            out[name.upper()] = series.astype(str)
        elif name.startswith("fac") or name.startswith("i5"):
            out[name.upper()] = series.map(lambda v: " " if pd.isna(v) else f"{v:.6f}")
        else:
            values = pd.to_numeric(series)
            out[name.upper()] = values.astype("Int64").astype("string").fillna(" ")
    buffer = io.StringIO()
    pd.DataFrame(out).to_csv(buffer, index=False, lineterminator="\r\n")
    return buffer.getvalue().encode("latin-1")


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for name in out.columns:
        if name in _TEXT or name in ("ciiu",):
            out[name] = out[name].astype(object)
        else:
            out[name] = pd.to_numeric(out[name]).astype("float64")
    return out


@contextmanager
def _temporary_path(suffix: str) -> Iterator[Path]:
    """pyreadstat writes to a path, not to a buffer."""
    with tempfile.TemporaryDirectory(prefix="enaho_sample_") as folder:
        yield Path(folder) / f"file{suffix}"
