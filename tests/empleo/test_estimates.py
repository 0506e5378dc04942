"""Employment indicators on a hand-built person table whose every figure was worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from vraem_pipeline.empleo.estimates import (
    MYPE_VARIANTS,
    OFFICIAL_SOURCE,
    REBUILT_SOURCE,
    compute_employment,
    is_mype,
    is_resident,
    rebuild_validation,
)

NA = np.nan
TERRITORY = ["03", "05"]  # a two-department territory: the function must not assume any other

# One row per case. Strata: rows 1–6 → "1", rows 7–12 → "2"; every row is its own PSU.
# cols: ubigeo, p204, p205, p206, p207, ocu500, fac500a, ocupinf, p512a, p512b, p510, p507
ROWS = [
    ("030101", 1, 2, NA, 2, 1, 100, 1, 1, 3, NA, 2),  # 1 resident member, woman, informal, MYPE A B C D
    ("030101", 2, NA, 1, 1, 1, 200, 2, 4, NA, 6, 3),  # 2 resident guest, man, formal, 101–500 people: no MYPE
    ("050101", 1, 2, NA, 1, 1, 300, 1, 2, NA, 6, 4),  # 3 man, informal, 21–50: MYPE A C D, not B
    ("050101", 1, 2, NA, 2, 1, 400, 2, 3, NA, 2, 3),  # 4 woman, formal, public 51–100: MYPE A only
    ("050101", 1, 2, NA, 2, 1, 50, NA, 1, 2, NA, 1),  # 5 woman, informality undetermined: total only
    ("030101", 1, 1, NA, 1, 1, 1000, 1, 1, 1, NA, 2),  # 6 member away 30+ days: not resident
    ("030101", 1, 2, NA, 1, 2, 500, NA, NA, NA, NA, NA),  # 7 unemployed
    ("030101", 1, 2, NA, 1, 0, NA, NA, NA, NA, NA, NA),  # 8 not interviewed, no weight: out of the design
    ("150101", 1, 2, NA, 1, 1, 3000, 2, 5, NA, 6, 3),  # 9 other department: national only
    ("150101", 2, NA, 2, 1, 1, 700, 1, 1, 1, NA, 2),  # 10 guest not staying: not resident
    ("030101", 2, NA, 1, 2, 1, 150, 1, 1, 1, NA, 6),  # 11 live-in domestic worker, woman, informal: A B C
    ("050101", 1, 2, NA, 1, 1, 250, 2, 1, 15, 6, 3),  # 12 man, formal, up to 20 but 15 people: A C D, not B
]
COLUMNS = ["ubigeo", "p204", "p205", "p206", "p207", "ocu500", "fac500a", "ocupinf", "p512a", "p512b", "p510", "p507"]

# Hand results for one year at scale 1:
TOTAL = 100 + 200 + 300 + 400 + 50 + 150 + 250  # 1450, rows 1–5, 11, 12
NATIONAL = TOTAL + 3000
WOMEN = 100 + 400 + 50 + 150  # 700
CLASSIFIED = TOTAL - 50  # 1400: row 5 has no flag
INFORMAL = 100 + 300 + 150  # 550
MYPE_RATE = {  # informal / classified MYPE jobs
    "A": INFORMAL / (100 + 300 + 400 + 150 + 250),  # rows 1 3 4 11 12
    "B": (100 + 150) / (100 + 150),  # rows 1 11
    "C": INFORMAL / (100 + 300 + 150 + 250),  # rows 1 3 11 12
    "D": (100 + 300) / (100 + 300 + 250),  # rows 1 3 12
}
# PEA total SE, each row its own PSU, non-domain rows zeroed, row 8 (no weight) outside the design:
# stratum 1 z = 100 200 300 400 50 0 → mean 175, Σ(z−z̄)² = 118,750, × 6/5 = 142,500
# stratum 2 z = 0 0 0 150 250        → mean 80,  Σ(z−z̄)² = 53,000,  × 5/4 = 66,250
PEA_SE = math.sqrt(142_500 + 66_250)


def _year(anio: int, scale: float, *, official: bool) -> pd.DataFrame:
    frame = pd.DataFrame(ROWS, columns=COLUMNS)
    frame.insert(0, "anio", anio)
    frame["conglome"] = [f"{anio % 100:02d}{i:04d}" for i in range(1, len(ROWS) + 1)]
    frame["estrato"] = [1] * 6 + [2] * 6
    frame["fac500a"] = frame["fac500a"] * scale
    flag = frame.pop("ocupinf")
    if official:
        frame["ocupinf"] = flag
        frame["ocupinf_reconstruido"] = np.where(frame["ocu500"] == 1, 1.0, NA)  # wrong on purpose: unused
    else:
        frame["ocupinf"] = NA  # 2024: INEI ships no ocupinf
        frame["ocupinf_reconstruido"] = flag
    for column in frame.columns:
        if column not in ("ubigeo", "conglome", "fac500a"):
            frame[column] = frame[column].astype("Int64")
    frame["fac500a"] = frame["fac500a"].astype("Float64")
    return frame


@pytest.fixture(scope="module")
def persons() -> pd.DataFrame:
    return pd.concat(
        [_year(2022, 1.0, official=True), _year(2023, 1.2, official=True), _year(2024, 1.08, official=False)],
        ignore_index=True,
    )


@pytest.fixture(scope="module")
def tables(persons):
    return compute_employment(persons, TERRITORY)


def test_resident_filter_truth_table():
    cases = pd.DataFrame(
        [
            (1, 2, NA, True),  # member, not away
            (1, 1, NA, False),  # member away 30+ days
            (1, NA, NA, False),  # member, p205 missing: not provably resident
            (2, NA, 1, True),  # non-member present 30+ days
            (2, NA, 2, False),  # non-member not staying
            (2, NA, NA, False),  # non-member, p206 missing
            (2, 2, 1, True),  # p205 is irrelevant for non-members
            (NA, 2, 1, False),  # p204 missing
        ],
        columns=["p204", "p205", "p206", "expected"],
    ).astype({"p204": "Float64", "p205": "Float64", "p206": "Float64"})
    assert is_resident(cases).tolist() == cases["expected"].tolist()


def test_mype_variants_row_by_row(persons):
    year = persons[persons["anio"] == 2022]
    members = {v: [i + 1 for i, flag in enumerate(is_mype(year, v)) if flag] for v in MYPE_VARIANTS}
    assert members == {
        "A": [1, 3, 4, 5, 6, 10, 11, 12],
        "B": [1, 5, 6, 10, 11],
        "C": [1, 3, 5, 6, 10, 11, 12],
        "D": [1, 3, 5, 6, 10, 12],
    }


def test_evolution(tables):
    evo = tables.evolucion
    assert list(evo.columns) == ["anio", "pea_ocupada", "var_pct", "cv_pct", "referencial"]
    assert evo["anio"].tolist() == [2022, 2023, 2024]
    assert evo["pea_ocupada"].tolist() == pytest.approx([TOTAL, TOTAL * 1.2, TOTAL * 1.08])
    assert pd.isna(evo["var_pct"].iloc[0])
    assert evo["var_pct"].iloc[1:].tolist() == pytest.approx([20.0, -10.0])
    assert evo["cv_pct"].iloc[0] == pytest.approx(100 * PEA_SE / TOTAL)  # 31.5 %: scale-free, same every year
    assert evo["referencial"].tolist() == [True, True, True]


def test_by_employment_type(tables):
    tipo = tables.by_kind_table
    assert list(tipo.columns) == ["anio", "tipo_empleo", "trabajadores", "participacion_pct", "cv_pct", "referencial"]
    first = tipo[tipo["anio"] == 2022].set_index("tipo_empleo")
    assert first.loc["informal", "trabajadores"] == pytest.approx(INFORMAL)
    assert first.loc["formal", "trabajadores"] == pytest.approx(CLASSIFIED - INFORMAL)
    assert first.loc["informal", "participacion_pct"] == pytest.approx(100 * INFORMAL / CLASSIFIED)
    assert first.loc["formal", "participacion_pct"] == pytest.approx(100 * (CLASSIFIED - INFORMAL) / CLASSIFIED)
    # same SE for both shares, so the CVs are inversely proportional to the shares
    ratio = first.loc["informal", "cv_pct"] / first.loc["formal", "cv_pct"]
    assert ratio == pytest.approx((CLASSIFIED - INFORMAL) / INFORMAL)
    # 2024 comes from the rebuilt flag and gives the same shares (same rows, scaled weights)
    last = tipo[tipo["anio"] == 2024].set_index("tipo_empleo")
    assert last.loc["informal", "participacion_pct"] == pytest.approx(100 * INFORMAL / CLASSIFIED)


def test_by_sex(tables):
    sexo = tables.by_sex_table
    assert list(sexo.columns) == ["anio", "sexo", "trabajadores", "participacion_pct", "cv_pct", "referencial"]
    first = sexo[sexo["anio"] == 2022].set_index("sexo")
    assert first.loc["mujer", "trabajadores"] == pytest.approx(WOMEN)
    assert first.loc["hombre", "trabajadores"] == pytest.approx(TOTAL - WOMEN)
    assert first.loc["mujer", "participacion_pct"] == pytest.approx(100 * WOMEN / TOTAL)
    assert first["participacion_pct"].sum() == pytest.approx(100.0)


def test_key_figures(tables):
    figures = tables.indicadores
    assert list(figures.columns) == ["anio", "indicador", "valor", "unidad", "descripcion", "cv_pct", "referencial"]
    value = figures.set_index(["anio", "indicador"])["valor"]
    shares = [
        "empleo_pea_ocupada",
        "empleo_participacion_nacional_pct",
        "empleo_mujeres_pct",
        "empleo_informal_pct",
        "empleo_formal_pct",
        "empleo_informal_mype_pct",
    ]
    assert sorted(figures.loc[figures["anio"] == 2022, "indicador"]) == sorted(shares)
    assert sorted(figures.loc[figures["anio"] == 2024, "indicador"]) == sorted(shares)  # growth: test_crecimiento
    assert value[(2022, "empleo_participacion_nacional_pct")] == pytest.approx(100 * TOTAL / NATIONAL)
    assert value[(2022, "empleo_mujeres_pct")] == pytest.approx(100 * WOMEN / TOTAL)
    assert value[(2022, "empleo_informal_mype_pct")] == pytest.approx(100 * MYPE_RATE["A"])
    assert tables.evolucion.set_index("anio")["var_pct"][2024] == pytest.approx(-10.0)
    assert set(figures.loc[figures["indicador"].isin(shares), "unidad"]) == {"trabajadores", "%"}


def test_informal_source_per_year(tables):
    assert tables.informality_source.to_dict("list") == {
        "anio": [2022, 2023, 2024],
        "informal_source": [OFFICIAL_SOURCE, OFFICIAL_SOURCE, REBUILT_SOURCE],
    }
    text = tables.indicadores.set_index(["anio", "indicador"])["descripcion"]
    assert "reconstruida" in text[(2024, "empleo_informal_pct")]
    assert "reconstruida" not in text[(2023, "empleo_informal_pct")]


@pytest.mark.parametrize("variant", sorted(MYPE_VARIANTS))
def test_mype_variant_is_a_named_parameter_recorded_in_the_output(persons, variant):
    figures = compute_employment(persons, TERRITORY, mype_variant=variant).indicadores
    row = figures[(figures["anio"] == 2022) & (figures["indicador"] == "empleo_informal_mype_pct")].iloc[0]
    assert row["valor"] == pytest.approx(100 * MYPE_RATE[variant])
    assert f"Variante {variant}" in row["descripcion"]


def test_the_territory_is_a_parameter(persons):
    lima = compute_employment(persons, ["15"])
    assert lima.evolucion["pea_ocupada"].iloc[0] == pytest.approx(3000)


def test_year_gap_leaves_the_annual_change_out(persons):
    evolucion = compute_employment(persons[persons["anio"] != 2023], TERRITORY).evolucion.set_index("anio")
    assert pd.isna(evolucion.loc[2024, "var_pct"])


def test_year_without_any_informality_flag_has_no_informality_rows(persons):
    no_flag = persons[persons["anio"] == 2022].drop(columns=["ocupinf", "ocupinf_reconstruido"])
    tables = compute_employment(no_flag, TERRITORY)
    assert tables.by_kind_table.empty and tables.informality_source.empty
    assert "empleo_informal_pct" not in set(tables.indicadores["indicador"])


def test_departamento_estrato_strata_give_another_cv(persons):
    default = compute_employment(persons, TERRITORY).evolucion["cv_pct"].iloc[0]
    sensitivity = compute_employment(persons, TERRITORY, strata="departamento_estrato").evolucion["cv_pct"].iloc[0]
    assert sensitivity != pytest.approx(default)


def test_invalid_arguments(persons):
    with pytest.raises(ValueError, match="variante MYPE desconocida"):
        compute_employment(persons, TERRITORY, mype_variant="E")
    with pytest.raises(ValueError, match="vacía"):
        compute_employment(persons, [])


def test_rebuild_validation_by_hand(persons):
    # In 2022/2023 the rebuilt flag is 1 for every employed row. Employed residents with an official flag:
    # territory rows 1 2 3 4 11 12 (3 informal) and row 9 (formal) → agreement 3/6 and 3/7.
    table = rebuild_validation(persons, TERRITORY)
    assert table["anio"].tolist() == [2022, 2022, 2023, 2023]
    first = table[table["anio"] == 2022].set_index("ambito")
    assert first.loc["territorio", "coincidencia_pct"] == pytest.approx(50.0)
    assert first.loc["nacional", "coincidencia_pct"] == pytest.approx(300 / 7)
    assert first.loc["territorio", "informal_reconstruido_pct"] == pytest.approx(100.0)
    assert first.loc["territorio", "diferencia_pp"] == pytest.approx(100 - 100 * INFORMAL / CLASSIFIED)


def test_year_whose_rebuild_is_missing_has_no_informality_rows():
    # 2024 without module 400: the join leaves the rebuild column there but empty; the codes must be absent
    # (docs/methodology/empleo.md#figures), not formal 0 % / informal 0 %.
    year = _year(2024, 1.0, official=False)
    year["ocupinf_reconstruido"] = pd.array([pd.NA] * len(year), dtype="Int64")
    tables = compute_employment(year, TERRITORY)
    assert tables.by_kind_table.empty and tables.informality_source.empty
    codes = set(tables.indicadores["indicador"])
    assert "empleo_pea_ocupada" in codes
    assert not codes & {"empleo_informal_pct", "empleo_formal_pct", "empleo_informal_mype_pct"}
