"""The sample's GDP: INEI's real workbook copied as published, and the calibration of the sales outside the
territory that makes the default allocation land on the published figures.

The allocation is recomputed here in plain Python from the generator's own arrays (`uni.formal`, the ubigeo of
each firm), the published CSV and the workbook's numbers pinned by hand, not with the pipeline's code.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from vraem_sample import pbi as sample_pbi
from vraem_sample import ventas
from vraem_sample.amounts import cents_bounds
from vraem_sample.calibration import calibrate, read_published
from vraem_sample.padron import build_universe
from vraem_sample.ventas import sales_cents

#: INEI, 2026 edition, 2024P/ (miles de soles), read by hand from the workbook.
VAB_2024 = {"03": 7_219_959, "05": 6_212_319, "08": 22_767_865, "09": 3_912_627, "12": 15_992_658}
PBI_2024 = 585_617_509


def published(code: str) -> Decimal:
    pub = read_published()
    return Decimal(pub.loc[pub["indicador"] == code, "valor"].iloc[0])


def allocation(uni, year: int, cents: np.ndarray) -> Fraction:
    """Σ_d VAB_d × (territory's formal sales in d / all formal sales in d), in miles de soles."""
    formal = uni.formal(year)
    ubigeo = np.array(uni.cat.ubigeo + ("",), dtype=object)[uni.geo]  # geo −1 → ""
    dept = np.array([u[:2] for u in ubigeo], dtype=object)
    total = Fraction(0)
    for d, vab in VAB_2024.items():
        inside = int(cents[formal & uni.vraem & (dept == d)].sum())
        every = int(cents[formal & (dept == d)].sum())
        total += Fraction(vab) * Fraction(inside, every)
    return total


def test_workbook_values_read_by_the_generator():
    vab, pbi_ = sample_pbi.departmental_vab()
    assert {d: vab[2024][d] for d in VAB_2024} == VAB_2024 and pbi_[2024] == PBI_2024


@pytest.mark.parametrize(
    "scale,seed", [("small", 2024), ("small", 7), pytest.param("national", 2024, marks=pytest.mark.slow)]
)
def test_default_allocation_lands_on_the_published_gdp(scale, seed):
    uni = build_universe(calibrate(scale), seed)
    value = allocation(uni, 2024, sales_cents(uni, 2024))
    millions = value / 1000
    assert abs(millions - Fraction(published("pbi_vraem_millones_soles_2007"))) < Fraction(1, 10**6)
    pct = Decimal(float(value / PBI_2024 * 100)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    assert pct == published("pbi_participacion_nacional_pct")


def test_only_large_firms_outside_the_territory_in_its_departments_move(monkeypatch):
    uni = build_universe(calibrate("small"), 2024)
    calibrated = {y: sales_cents(uni, y) for y in (2019, 2024)}
    monkeypatch.setattr(ventas, "adjust_sales_outside_territory", lambda *a: None)
    drawn = {y: sales_cents(uni, y) for y in (2019, 2024)}
    dept = np.where(uni.geo >= 0, uni.cat.geo_department.astype(int)[np.maximum(uni.geo, 0)], -1)
    lever = ~uni.vraem & (uni.estrato == 3) & np.isin(dept, [int(d) for d in VAB_2024])
    for year in (2019, 2024):
        moved = calibrated[year] != drawn[year]
        assert moved.any() and not (moved & ~lever).any()
        formal = uni.formal(year)
        assert calibrated[year][formal & uni.vraem].sum() == drawn[year][formal & uni.vraem].sum()
        lim = cents_bounds(uni.cal.uit[year])
        pos = calibrated[year] > 0
        e = uni.estrato[pos]
        assert np.all(calibrated[year][pos] >= lim[e, 0]) and np.all(calibrated[year][pos] <= lim[e, 1])


def test_a_seed_without_a_lever_warns_instead_of_failing():
    """Small scale, seed 1: Huancavelica has no large firm outside the VRAEM districts, so its share cannot be
    lowered; the sample is still written, with a warning (the reconciliation check will show the gap)."""
    uni = build_universe(calibrate("small"), 1)
    with pytest.warns(UserWarning, match="inalcanzable"):
        sales_cents(uni, 2024)


def test_sample_writes_the_workbook_as_published(tmp_path):
    path = sample_pbi.write_pbi(tmp_path)
    assert path == tmp_path / "inei" / "vab" / "pbi_peru_17.xlsx"
    assert path.read_bytes() == sample_pbi.WORKBOOK.read_bytes()
    provenance = (sample_pbi.WORKBOOK.parents[1] / "README.md").read_text(encoding="utf-8")
    assert "leydimolina20/PBIdepartamental" in provenance and "86ead79b" in provenance


def test_the_published_gdp_is_not_typed_in_code():
    folder = Path(sample_pbi.__file__).parent
    src = "".join((folder / f).read_text(encoding="utf-8") for f in ("pbi.py", "calibration.py", "ventas.py"))
    for literal in ("1093", "1,093", "1_093", "585617509", "585_617_509"):
        assert literal not in src, literal
