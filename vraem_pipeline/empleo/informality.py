"""Rebuild INEI's informal-employment flag (`ocupinf`) where the file does not ship it (ENAHO 2024 onwards).

The rule is INEI's own construction syntax for the main job (docs/sources.md#enaho-informalidad), ported step by step.
It is written in Stata, where a missing number is *greater than every number*: `p510a1 > 1` is true for a
missing `p510a1`, while `p510a1 <= 2` and `p512b < 6` are false. The helpers `_gt`, `_le`… below reproduce
that, so every comparison states how a missing value falls.

Join between modules: module 500 (employment) and module 400 (health) are person-level files of the same
survey year and are joined 1:1 on the person key `conglome, vivienda, hogar, codperso` (plus `anio` when both
frames carry several years). A module-500 person absent from module 400 has no insurance data; INEI's syntax
then treats the employer as not paying any insurance (`seguro_empleador` missing → 1), and so does this port.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Person key shared by modules 400 and 500 (string keys with their leading zeros).
#: Rebuilt vs official ocupinf, years with both: the rebuild is accepted when the weighted informal rate differs
#: by at most this many percentage points (national and territory) and at least this share of rows agree.
#: ±1 pp is what docs/sources.md#enaho-informalidad suggests; row agreement below 95 % would mean a wrong rule, not
#: sampling noise.
TOLERANCE_PP = 1.0
MIN_AGREEMENT_PCT = 95.0

PERSON_KEY = ["conglome", "vivienda", "hogar", "codperso"]

#: Module-500 inputs of the rule.
INPUTS_M500 = ["ocu500", "p507", "p510", "p510a1", "p512a", "p512b", "p506r4"]

#: Module-400 inputs: who pays each health insurance (1 = su centro de trabajo). p419a6/a7 (university and
#: private school insurance) are not in INEI's list.
INPUTS_M400 = ["p419a1", "p419a2", "p419a3", "p419a4", "p419a5", "p419a8"]

#: CIIU Rev.4 classes of government activity: always in the corporate/government sector.
_CIIU_GOVERNMENT = [8411, 8412, 8413, 8421, 8422, 8423, 8430]

INFORMAL, FORMAL = 1, 2

#: ILO sector of the main job as INEI codes it.
SECTOR_CODES = {1: "sector formal", 2: "sector informal", 3: "hogar con servicio doméstico", 9: "no determinado"}


def rebuild_ocupinf(m500: pd.DataFrame, m400: pd.DataFrame) -> pd.DataFrame:
    """INEI's `ocupinf` (1 informal, 2 formal, <NA>) and the intermediate ILO `sector`, one row per m500 row.

    Returned in m500's row order with the person key (and `anio` when present) so it can be merged back or
    aligned by position. Rows not employed (`ocu500 != 1`) get <NA> in both columns, as in INEI's files.
    """
    keys = _join_keys(m500, m400)
    _require(m500, keys + INPUTS_M500, "módulo 500")
    _require(m400, keys + INPUTS_M400, "módulo 400")
    for frame, name in ((m500, "módulo 500"), (m400, "módulo 400")):
        duplicated = frame.duplicated(keys)
        if duplicated.any():
            raise ValueError(
                f"{name}: {int(duplicated.sum())} personas con clave repetida ({', '.join(keys)}); "
                "la reconstrucción une 1:1 y necesita claves únicas (valide el módulo antes)"
            )
    insurance = m400[keys + INPUTS_M400]
    joined = m500[keys + INPUTS_M500].merge(insurance, on=keys, how="left", validate="one_to_one")
    v = {c: _num(joined[c]) for c in INPUTS_M500 + INPUTS_M400}
    employed = v["ocu500"] == 1

    sector = _ilo_sector(v)
    ocupinf = _informal_flag(v, sector)

    out = joined[keys].copy()
    out["ocupinf"] = pd.array(np.where(employed & ~np.isnan(ocupinf), ocupinf, np.nan), dtype="Float64").astype("Int64")
    out["sector"] = pd.array(np.where(employed, sector, np.nan), dtype="Float64").astype("Int64")
    out.index = m500.index
    return out


def add_rebuilt_flag(m500: pd.DataFrame, m400: pd.DataFrame) -> pd.DataFrame:
    """m500 with `ocupinf_reconstruido` and `sector_reconstruido` appended: the staging table's rebuild columns.

    Computed for every year, also when INEI ships `ocupinf`, so that the rebuild can be validated against it.
    """
    rebuilt = rebuild_ocupinf(m500, m400)
    out = m500.copy()
    out["ocupinf_reconstruido"] = rebuilt["ocupinf"]
    out["sector_reconstruido"] = rebuilt["sector"]
    return out


def _ilo_sector(v: dict[str, np.ndarray]) -> np.ndarray:
    """Steps 1–4 of INEI's syntax (docs/sources.md#enaho-informalidad): agro flag, size class, institutional unit
    (`hogar`), then the ILO sector."""
    p506r4, p507, p510, p510a1, p512a, p512b = (v[c] for c in ("p506r4", "p507", "p510", "p510a1", "p512a", "p512b"))

    # 1. recode p506r4 (111/990=1)(1000/max=2): `max` is the largest non-missing value, so missing stays missing.
    a_rev4 = np.select([(p506r4 >= 111) & (p506r4 <= 990), p506r4 >= 1000], [1.0, 2.0], np.nan)

    # 2. size class from p512b; 9999 or missing → 9 ("no especificado"). Like Stata's recode, a value that no
    #    rule matches (there should be none) is carried over unchanged.
    num = np.select(
        [
            (p512b >= 1) & (p512b <= 5),
            (p512b >= 6) & (p512b <= 10),
            (p512b >= 11) & (p512b <= 30),
            (p512b >= 31) & (p512b <= 9998),
            (p512b == 9999) | np.isnan(p512b),
        ],
        [1.0, 2.0, 3.0, 4.0, 9.0],
        p512b,
    )
    num = np.where(_isin(p507, 2, 6), 1.0, num)
    num = np.where((num == 9) & _gt(p512a, 2) & _lt(p512a, 6), 4.0, num)  # missing p512a: "< 6" fails
    num = np.where((num == 9) & _lt(p510, 4), 4.0, num)  # missing p510 is not < 4

    # 3. institutional unit: 1 corporations and government, 0 household sector.
    hogar = np.select([_isin(p510, 1, 2, 3), _isin(p510, 5, 6, 7) | np.isnan(p510)], [1.0, 9.0], np.nan)
    hogar = np.where((hogar == 9) & (p510a1 == 1), 1.0, hogar)
    hogar = np.where((hogar == 9) & _gt(p510a1, 1), 0.0, hogar)  # Stata: missing p510a1 > 1 is true
    hogar = np.where(p507 == 6, 0.0, hogar)
    hogar = np.where((a_rev4 == 2) & (hogar == 0) & _gt(num, 3), 1.0, hogar)  # quasi-corporations
    hogar = np.where((hogar == 1) & _isin(p507, 5, 7), 0.0, hogar)
    hogar = np.where(_isin(p506r4, *_CIIU_GOVERNMENT), 1.0, hogar)
    hogar = np.where((hogar == 0) & (p507 == 7) & (p510 == 2), 1.0, hogar)

    # 4. ILO sector.
    sector = np.where(hogar == 1, 1.0, np.nan)
    sector = np.where(p507 == 6, 3.0, sector)
    sector = np.where(np.isnan(sector), 9.0, sector)
    sector = np.where((sector == 9) & (hogar == 0) & (a_rev4 == 1), 2.0, sector)
    sector = np.where((sector == 9) & _le(p510a1, 2), 1.0, sector)  # missing p510a1 is not <= 2
    sector = np.where((sector == 9) & (p510a1 == 3), 2.0, sector)
    sector = np.where((sector == 1) & _isin(p507, 5, 7) & _lt(p512b, 6), 2.0, sector)  # missing p512b: no change
    return sector


def _informal_flag(v: dict[str, np.ndarray], sector: np.ndarray) -> np.ndarray:
    """Steps 5–7 of INEI's syntax (docs/sources.md#enaho-informalidad): employment category, employer-paid insurance,
    then `ocupinf`."""
    p507 = v["p507"]
    cat = np.select([p507 == 2, p507 == 1, _isin(p507, 5, 7), _isin(p507, 3, 4, 6)], [1.0, 2.0, 3.0, 4.0], np.nan)
    employer_pays = np.zeros(len(p507), dtype=bool)
    for column in INPUTS_M400:
        employer_pays |= v[column] == 1
    insurance_flag = np.where(employer_pays, 2.0, 1.0)

    flag = np.where(cat == 4, insurance_flag, np.nan)
    flag = np.where(cat == 3, INFORMAL, flag)
    flag = np.where(_isin(cat, 1, 2) & (sector == 1), FORMAL, flag)
    flag = np.where(_isin(cat, 1, 2) & (sector == 2), INFORMAL, flag)
    flag = np.where((cat == 4) & (sector == 2), INFORMAL, flag)
    return flag


@dataclass(frozen=True)
class Comparison:
    """Rebuilt flag against INEI's official one on the same rows.

    `agreement_share`: share of rows with an official flag where the rebuilt flag is equal (a missing rebuilt
    flag counts as a disagreement). Rates are weighted informal shares in % over each flag's own non-missing
    rows, as INEI tabulates; `diff_pp` = rebuilt − official, in percentage points.
    """

    n_rows: int
    agreement_share: float
    rate_rebuilt_pct: float
    rate_official_pct: float
    diff_pp: float


def compare_with_official(rebuilt, official, weights, mask=None) -> Comparison:
    """Check the rebuild on years that ship `ocupinf` (2019–2023) before trusting it for 2024.

    `mask` restricts the comparison (e.g. resident employed persons of the territory); all inputs are aligned
    by position.
    """
    r = _num(pd.Series(rebuilt).reset_index(drop=True))
    o = _num(pd.Series(official).reset_index(drop=True))
    w = _num(pd.Series(weights).reset_index(drop=True))
    keep = (
        np.ones(len(o), dtype=bool)
        if mask is None
        else pd.Series(mask).reset_index(drop=True).astype("boolean").fillna(False).to_numpy(dtype=bool)
    )
    keep &= ~np.isnan(w)
    has_official = keep & ~np.isnan(o)
    n_rows = int(has_official.sum())
    agreement = float(np.mean(r[has_official] == o[has_official])) if n_rows else float("nan")
    rate_r = _weighted_informal_pct(r, w, keep)
    rate_o = _weighted_informal_pct(o, w, keep)
    return Comparison(n_rows, agreement, rate_r, rate_o, rate_r - rate_o)


def _weighted_informal_pct(flag: np.ndarray, w: np.ndarray, keep: np.ndarray) -> float:
    valid = keep & ~np.isnan(flag)
    total = w[valid].sum()
    return float(100.0 * w[valid & (flag == INFORMAL)].sum() / total) if total > 0 else float("nan")


# --- Stata comparison semantics (missing = +∞) -------------------------------------------------------------


def _gt(x: np.ndarray, k: float) -> np.ndarray:
    return np.isnan(x) | (x > k)


def _lt(x: np.ndarray, k: float) -> np.ndarray:
    return ~np.isnan(x) & (x < k)


def _le(x: np.ndarray, k: float) -> np.ndarray:
    return ~np.isnan(x) & (x <= k)


def _isin(x: np.ndarray, *values: float) -> np.ndarray:
    return np.isin(x, values)  # NaN is never in the list, as Stata's inlist() with a missing argument


def _num(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="raise").astype("Float64").to_numpy(dtype="float64", na_value=np.nan)


def _join_keys(m500: pd.DataFrame, m400: pd.DataFrame) -> list[str]:
    return (["anio"] if "anio" in m500.columns and "anio" in m400.columns else []) + PERSON_KEY


def _require(frame: pd.DataFrame, columns: list[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: faltan las columnas {missing} que necesita la reconstrucción de ocupinf")
