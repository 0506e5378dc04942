"""Taylor-linearized totals and ratios: hand-worked cases, the samplics oracle, domains, single-PSU strata."""

from __future__ import annotations

import logging
import math
import warnings

import numpy as np
import pytest

from vraem_pipeline.empleo.survey import Estimate, estimate_ratio, estimate_total

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # samplics warns on import that it is archived; it is only a test oracle here
    from samplics import PopParam, SinglePSUEst, TaylorEstimator


# Two strata. Stratum A: PSU a1 (rows y=1,w=10 and y=0,w=10), PSU a2 (y=1,w=20). Stratum B: PSU b1 (y=1,w=5),
# PSU b2 (y=1,w=5), PSU b3 (y=0,w=5).
# PSU totals of w·y: a1=10, a2=20 → mean 15, Σ(z−z̄)² = 50, n/(n−1) = 2 → 100.
#                    b1=5, b2=5, b3=0 → mean 10/3, Σ(z−z̄)² = 2·(5/3)² + (10/3)² = 150/9, ×3/2 → 25.
# V = 125, SE = √125, total = 40.
HAND = {
    "y": [1, 0, 1, 1, 1, 0],
    "w": [10, 10, 20, 5, 5, 5],
    "strata": ["A", "A", "A", "B", "B", "B"],
    "psu": ["a1", "a1", "a2", "b1", "b2", "b3"],
}


def test_total_matches_the_hand_computation():
    est = estimate_total(HAND["y"], HAND["w"], HAND["strata"], HAND["psu"])
    assert est.value == 40
    assert est.se == pytest.approx(math.sqrt(125), rel=1e-12)
    assert est.cv_pct == pytest.approx(100 * math.sqrt(125) / 40, rel=1e-12)
    assert est.n_obs == 6


def test_ratio_matches_the_hand_computation():
    # R = 40 / 55. u_i = w_i (y_i − R) / 55; PSU totals: a1 = (10 − 20R)/55, a2 = (20 − 20R)/55,
    # b1 = b2 = (5 − 5R)/55, b3 = −5R/55. Stratum A: 2·((a1−a2)²/2) = (10/55)²; stratum B: 3/2·Σ(z−z̄)².
    r = 40 / 55
    a = [(10 - 20 * r) / 55, (20 - 20 * r) / 55]
    b = [(5 - 5 * r) / 55, (5 - 5 * r) / 55, -5 * r / 55]
    var_a = 2 * sum((z - np.mean(a)) ** 2 for z in a)
    var_b = 1.5 * sum((z - np.mean(b)) ** 2 for z in b)
    est = estimate_ratio(HAND["y"], [1] * 6, HAND["w"], HAND["strata"], HAND["psu"])
    assert est.value == pytest.approx(r, rel=1e-12)
    assert est.se == pytest.approx(math.sqrt(var_a + var_b), rel=1e-12)


@pytest.fixture(scope="module")
def design():
    """A synthetic stratified cluster sample: 8 strata × 30 PSUs, 5–15 persons per PSU, unequal weights."""
    rng = np.random.default_rng(7)
    sizes = rng.integers(5, 16, 8 * 30)
    psu = np.repeat(np.arange(8 * 30), sizes)
    strata = psu // 30
    n = len(psu)
    psu_effect = rng.normal(0, 0.6, 8 * 30)[psu]
    return {
        "strata": strata,
        "psu": psu,
        "w": rng.uniform(40, 400, 8 * 30)[psu] * rng.lognormal(0, 0.2, n),
        "y": (rng.normal(0, 1, n) + psu_effect > -0.4).astype(float),  # e.g. informal
        "x": (rng.random(n) < 0.7).astype(float),  # e.g. employed
        "domain": rng.random(n) < 0.35,  # e.g. one department's residents
    }


def _samplics(param, design, *, domain=None, x=None, single_psu=SinglePSUEst.error):
    est = TaylorEstimator(param)
    est.estimate(
        y=design["y"],
        x=x,
        samp_weight=design["w"],
        stratum=design["strata"],
        psu=design["psu"],
        domain=None if domain is None else domain.astype(int),
        single_psu=single_psu,
        remove_nan=False,
    )
    if domain is None:
        return est.point_est, est.stderror
    return est.point_est[1], est.stderror[1]


def test_total_equals_samplics(design):
    ours = estimate_total(design["y"], design["w"], design["strata"], design["psu"])
    value, se = _samplics(PopParam.total, design)
    assert ours.value == pytest.approx(value, rel=1e-9)
    assert ours.se == pytest.approx(se, rel=1e-9)


def test_domain_total_equals_samplics(design):
    ours = estimate_total(design["y"], design["w"], design["strata"], design["psu"], domain=design["domain"])
    value, se = _samplics(PopParam.total, design, domain=design["domain"])
    assert ours.value == pytest.approx(value, rel=1e-9)
    assert ours.se == pytest.approx(se, rel=1e-9)


def test_domain_ratio_equals_samplics(design):
    d = design
    ours = estimate_ratio(d["y"] * d["x"], d["x"], d["w"], d["strata"], d["psu"], domain=d["domain"])
    value, se = _samplics(PopParam.ratio, {**d, "y": d["y"] * d["x"]}, domain=d["domain"], x=d["x"])
    assert ours.value == pytest.approx(value, rel=1e-9)
    assert ours.se == pytest.approx(se, rel=1e-9)
    assert ours.n_obs == int((d["domain"] & (d["x"] != 0)).sum())


def test_domain_is_estimated_on_the_whole_file_not_a_subset(design):
    d = design
    whole = estimate_total(d["y"], d["w"], d["strata"], d["psu"], domain=d["domain"])
    keep = d["domain"]
    subset = estimate_total(d["y"][keep], d["w"][keep], d["strata"][keep], d["psu"][keep])
    assert whole.value == pytest.approx(subset.value, rel=1e-12)  # same point estimate…
    assert abs(whole.se - subset.se) / whole.se > 0.01  # …but subsetting changes the variance


def test_rows_without_weight_leave_the_design_like_stata():
    with_missing = estimate_total(
        HAND["y"] + [1], HAND["w"] + [float("nan")], HAND["strata"] + ["C"], HAND["psu"] + ["c1"]
    )
    assert with_missing == estimate_total(HAND["y"], HAND["w"], HAND["strata"], HAND["psu"])


def test_missing_analysis_value_inside_the_domain_is_an_error_outside_it_is_ignored():
    y = [1, 0, 1, 1, 1, float("nan")]
    with pytest.raises(ValueError, match="dentro del dominio"):
        estimate_total(y, HAND["w"], HAND["strata"], HAND["psu"])
    est = estimate_total(y, HAND["w"], HAND["strata"], HAND["psu"], domain=[True] * 5 + [False])
    assert est.value == 40


# Single-PSU stratum C (one PSU c1 with w·y = 30) next to the hand design above.
SINGLE = {k: v + extra for (k, v), extra in zip(HAND.items(), ([1], [30], ["C"], ["c1"]), strict=False)}


def test_single_psu_fail_raises_naming_the_stratum():
    with pytest.raises(ValueError, match="'C'"):
        estimate_total(**SINGLE, single_psu="fail")


def test_single_psu_certainty_adds_no_variance_like_samplics_skip(caplog):
    with caplog.at_level(logging.INFO, logger="vraem_pipeline.empleo.survey"):
        est = estimate_total(**SINGLE, single_psu="certainty")
    assert est.se == pytest.approx(math.sqrt(125), rel=1e-12)
    assert "C" in caplog.text
    design = {
        "y": np.array(SINGLE["y"], float),
        "w": np.array(SINGLE["w"], float),
        "strata": np.array(SINGLE["strata"]),
        "psu": np.array(SINGLE["psu"]),
    }
    _, se = _samplics(PopParam.total, design, single_psu=SinglePSUEst.skip)
    assert est.se == pytest.approx(se, rel=1e-9)


def test_single_psu_center_uses_the_grand_mean_of_psu_totals(caplog):
    # PSU totals: 10, 20, 5, 5, 0, 30 → grand mean 70/6; the lone PSU adds (30 − 70/6)².
    with caplog.at_level(logging.INFO, logger="vraem_pipeline.empleo.survey"):
        est = estimate_total(**SINGLE, single_psu="center")
    assert est.se == pytest.approx(math.sqrt(125 + (30 - 70 / 6) ** 2), rel=1e-12)
    assert "centrados" in caplog.text


@pytest.mark.parametrize(("cv", "flagged"), [(14.99, False), (15.0, False), (15.01, True), (float("inf"), True)])
def test_referencial_only_above_15(cv, flagged):
    assert Estimate(value=1.0, se=cv / 100, cv_pct=cv, n_obs=10).referencial is flagged


def test_zero_estimate_has_no_finite_cv():
    est = estimate_total([0, 0], [1, 1], ["A", "A"], ["p", "q"])
    assert est.value == 0 and math.isnan(est.cv_pct) and not est.referencial
