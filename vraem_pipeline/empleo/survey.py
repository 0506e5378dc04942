"""Design-based standard errors for ENAHO totals and ratios (Taylor linearization).

ENAHO is a stratified two-stage area sample. Like Stata's `svy` (vce linearized), samplics and svy, the
first-stage units (PSU, `conglome`) are treated as drawn with replacement within strata (`estrato`) and no
finite-population correction is applied:

    V = Σ_h n_h/(n_h − 1) · Σ_i (z_hi − z̄_h)²

where z_hi is the total of the linearized values of PSU i in stratum h. Domains (residents, a department,
the employed) are estimated by zeroing every row outside the domain while keeping the whole file in the design:
subsetting first would drop PSUs from n_h and bias the variance.

No Dagster and no warehouse here: these are plain functions of arrays so that any asset (or a notebook) can
call them and a test can compare them with samplics.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

#: CV (in %) above which INEI-style tables flag an estimate as "referencial". Exactly 15 is not flagged.
INDICATIVE_CV_THRESHOLD = 15.0

SinglePsu = Literal["certainty", "center", "fail"]

#: Default for strata with one PSU. With ENAHO's national `estrato` codes no stratum has a single PSU; they
#: appear in sensitivity runs (department × estrato). Centering is the conservative choice: the lone PSU still
#: adds variance (its deviation from the grand mean), whereas "certainty" would add none.
SINGLE_PSU_DEFAULT: SinglePsu = "center"


@dataclass(frozen=True)
class Estimate:
    """A survey estimate with its precision.

    `value` is the point estimate (a total in persons, or a ratio as a fraction: 0.75, not 75.0);
    `se` its linearized standard error; `cv_pct` the coefficient of variation in percent (100·se/|value|);
    `n_obs` the unweighted number of rows in the domain (INEI's "casos muestrales", for an n < 30 rule).
    """

    value: float
    se: float
    cv_pct: float
    n_obs: int

    @property
    def referencial(self) -> bool:
        """True when the CV exceeds 15 %: exactly 15 is still publishable as a firm figure."""
        return bool(self.cv_pct > INDICATIVE_CV_THRESHOLD)


def estimate_total(
    y,
    w,
    strata,
    psu,
    domain=None,
    *,
    single_psu: SinglePsu = SINGLE_PSU_DEFAULT,
) -> Estimate:
    """Weighted total Σ w·y·d with its linearized SE.

    Rows with a missing weight are left out of the design altogether, as Stata's `svy` does; `y` may be missing
    only outside the domain.
    """
    frame = _design_frame(y=y, w=w, strata=strata, psu=psu, domain=domain)
    u = frame["w"] * frame["y"]
    value = float(u.sum())
    se = _linearized_se(u, frame["strata"], frame["psu"], single_psu)
    return Estimate(value=value, se=se, cv_pct=_cv_pct(value, se), n_obs=int(frame["d"].sum()))


def estimate_ratio(
    num,
    den,
    w,
    strata,
    psu,
    domain=None,
    *,
    single_psu: SinglePsu = SINGLE_PSU_DEFAULT,
) -> Estimate:
    """Ratio Σ w·num·d / Σ w·den·d (e.g. informal workers over workers) with its linearized SE.

    The value is a fraction; multiply by 100 for a percentage (the CV does not change). `n_obs` counts domain rows
    with a non-zero denominator, i.e. the cases the ratio is computed on.
    """
    frame = _design_frame(y=num, w=w, strata=strata, psu=psu, domain=domain, x=den)
    wy = frame["w"] * frame["y"]
    wx = frame["w"] * frame["x"]
    total_y = float(wy.sum())
    total_x = float(wx.sum())
    n_obs = int((frame["d"] & (frame["x"] != 0)).sum())
    if total_x == 0:
        return Estimate(value=float("nan"), se=float("nan"), cv_pct=float("nan"), n_obs=n_obs)
    ratio = total_y / total_x
    u = (wy - ratio * wx) / total_x
    se = _linearized_se(u, frame["strata"], frame["psu"], single_psu)
    return Estimate(value=ratio, se=se, cv_pct=_cv_pct(ratio, se), n_obs=n_obs)


def _design_frame(*, y, w, strata, psu, domain, x=None) -> pd.DataFrame:
    """Align the inputs by position, drop rows without weight and zero the analysis variables outside the domain."""
    weights = _as_float(w, "w")
    n = len(weights)
    if domain is None:
        d = np.ones(n, dtype=bool)
    else:
        d = pd.Series(domain).reset_index(drop=True).astype("boolean").fillna(False).to_numpy(dtype=bool)
    columns = {"y": y} if x is None else {"y": y, "x": x}
    frame = pd.DataFrame({"w": weights, "d": d})
    for name, values in columns.items():
        arr = _as_float(values, name)
        if len(arr) != n:
            raise ValueError(f"'{name}' tiene {len(arr)} filas y el peso {n}")
        frame[name] = arr
    frame["strata"] = pd.Series(strata).reset_index(drop=True)
    frame["psu"] = pd.Series(psu).reset_index(drop=True)
    frame = frame[frame["w"].notna()]
    if frame[["strata", "psu"]].isna().any().any():
        raise ValueError("hay filas con peso pero sin estrato o conglomerado: el diseño no está definido para ellas")
    for name in columns:
        if frame.loc[frame["d"], name].isna().any():
            raise ValueError(f"'{name}' tiene valores faltantes dentro del dominio: defina el dominio sin ellos")
        frame[name] = frame[name].where(frame["d"], 0.0)
    return frame


def _as_float(values, name: str) -> np.ndarray:
    series = pd.Series(values).reset_index(drop=True)
    if series.dtype == object or pd.api.types.is_string_dtype(series):
        series = pd.to_numeric(series, errors="raise")
    try:
        return series.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"'{name}' no es numérico: {exc}") from exc


def _linearized_se(u: pd.Series, strata: pd.Series, psu: pd.Series, single_psu: SinglePsu) -> float:
    """√V with V = Σ_h n_h/(n_h−1) Σ_i (z_hi − z̄_h)², z_hi the PSU totals of the linearized values u."""
    h_codes, h_labels = pd.factorize(strata, sort=True)
    p_codes, p_labels = pd.factorize(psu, sort=True)
    # A PSU is identified within its stratum: the same conglomerate code in two strata is two PSUs.
    pair = h_codes.astype("int64") * len(p_labels) + p_codes
    c_index, c_codes = np.unique(pair, return_inverse=True)
    z = np.bincount(c_codes, weights=u.to_numpy(dtype="float64"), minlength=len(c_index))
    z_stratum = c_index // len(p_labels)
    n_h = np.bincount(z_stratum, minlength=len(h_labels)).astype("float64")
    sum_z = np.bincount(z_stratum, weights=z, minlength=len(h_labels))
    sum_z2 = np.bincount(z_stratum, weights=z * z, minlength=len(h_labels))
    multi = n_h > 1
    variance = float(np.sum(n_h[multi] / (n_h[multi] - 1) * (sum_z2[multi] - sum_z[multi] ** 2 / n_h[multi])))
    singles = np.flatnonzero(n_h == 1)
    if singles.size:
        variance += _single_psu_variance(z, z_stratum, singles, [h_labels[i] for i in singles], single_psu)
    return float(np.sqrt(max(variance, 0.0)))


def _single_psu_variance(z, z_stratum, singles, labels, single_psu: SinglePsu) -> float:
    """Variance added by strata holding one PSU, by the rule the caller chose (logged, never silent)."""
    if single_psu == "fail":
        raise ValueError(f"estratos con un solo conglomerado: {labels}")
    if single_psu == "certainty":
        logger.info("estratos con un solo conglomerado tratados como de inclusión forzosa (varianza 0): %s", labels)
        return 0.0
    if single_psu == "center":
        # Stata's singleunit(centered): the lone PSU deviates from the grand mean of all PSU totals.
        logger.info("estratos con un solo conglomerado centrados en la media general: %s", labels)
        lone = z[np.isin(z_stratum, singles)]
        return float(np.sum((lone - z.mean()) ** 2))
    raise ValueError(f"single_psu debe ser 'certainty', 'center' o 'fail', no {single_psu!r}")


def _cv_pct(value: float, se: float) -> float:
    if value == 0:
        return float("inf") if se > 0 else float("nan")
    return 100.0 * se / abs(value)
