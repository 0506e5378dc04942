"""The synthetic ENAHO files: published layouts and formats, design, dirt and determinism (small scale).

The calibration itself is checked at national scale by benchmarks/enaho_calibration.py.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from vraem_pipeline.empleo.estimates import REBUILT_SOURCE, compute_employment, is_resident
from vraem_pipeline.empleo.informality import INPUTS_M400, PERSON_KEY, add_rebuilt_flag
from vraem_pipeline.empleo.schema import COLUMNS_M500, OPTIONAL_M500, schema_for_year
from vraem_pipeline.sources.enaho import find_module_file, read_module
from vraem_sample import enaho as sample
from vraem_sample.calibration import read_published

YEARS = range(2019, 2025)
TERRITORY = ["03", "05", "08", "09", "12"]
SEED = 11


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("raw")
    sample.write_enaho(root, years=YEARS, seed=SEED, scale="small", departments=TERRITORY)
    return root


@pytest.fixture(scope="module")
def m500(raw) -> dict[int, pd.DataFrame]:
    return {
        year: read_module(
            find_module_file(raw / "enaho" / str(year), year, "500"),
            year,
            "500",
            COLUMNS_M500,
            optional=OPTIONAL_M500 + ["p203", "fac500_p"],
        )
        for year in YEARS
    }


def _files(raw: Path, year: int) -> list[str]:
    return sorted(p.name for p in (raw / "enaho" / str(year)).iterdir())


def test_each_year_is_published_in_its_own_layout(raw):
    assert _files(raw, 2019) == ["687-Modulo04.zip", "687-Modulo05.zip"]
    assert _files(raw, 2020) == ["Enaho01A-2020-400.sav", "Enaho01A-2020-500.sav"]
    assert _files(raw, 2021) == ["759-Modulo04.zip", "759-Modulo05.zip"]
    assert _files(raw, 2022) == ["enaho01a-2022-400.dta", "enaho01a-2022-500.dta"]
    assert _files(raw, 2023) == ["906-Modulo04.zip", "906-Modulo05.zip"]
    assert _files(raw, 2024) == ["966-Modulo04.zip", "966-Modulo05.zip"]
    with zipfile.ZipFile(raw / "enaho" / "2024" / "966-Modulo05.zip") as archive:
        assert archive.namelist() == [
            "966-Modulo05/",
            "966-Modulo05/enaho01a-2024-500.dta",
            "966-Modulo05/enaho_tabla_ciiu_rev4.dta",
            "966-Modulo05/Diccionario2024.pdf",
        ]
    with zipfile.ZipFile(raw / "enaho" / "2021" / "759-Modulo05.zip") as archive:
        assert archive.namelist() == ["Enaho01a-2021-500.csv", "Enaho_Tabla_CIIU_Rev4.csv", "Diccionario2021.pdf"]


def test_stata_files_are_old_format_latin1_with_ano_first(raw):
    data = (raw / "enaho" / "2022" / "enaho01a-2022-500.dta").read_bytes()
    assert data[0] == 114  # pre-118 release: latin-1
    assert "aÑo".encode("latin-1") + b"\x00" in data[:2000]


def test_csv_files_are_upper_case_latin1_crlf_with_blank_missing(raw):
    with zipfile.ZipFile(raw / "enaho" / "2021" / "759-Modulo05.zip") as archive:
        stripped = archive.read("Enaho01a-2021-500.csv")
    with zipfile.ZipFile(raw / "enaho" / "2023" / "906-Modulo05.zip") as archive:
        padded = archive.read("906-Modulo05/Enaho01a-2023-500.csv")
    for data in (stripped, padded):
        header, first = data.split(b"\r\n")[:2]
        assert header.startswith("AÑO,MES,CONGLOME,".encode("latin-1"))
        assert b"FAC500A" in header and b"OCUPINF" in header
        assert b", ," in data  # a single space for a missing value
    rows = pd.read_csv(io.BytesIO(stripped), encoding="latin-1", dtype=str, keep_default_na=False)
    assert rows["UBIGEO"].str.len().lt(6).any()  # leading zeros lost (departments 01–09)
    rows = pd.read_csv(io.BytesIO(padded), encoding="latin-1", dtype=str, keep_default_na=False)
    assert rows["UBIGEO"].str.len().eq(6).all() and rows["CONGLOME"].str.len().eq(6).all()


def test_official_flag_until_2023_absent_in_2024_and_face_to_face_factor_in_2020(m500):
    for year in range(2019, 2024):
        assert m500[year]["ocupinf"].notna().any(), year
    assert "ocupinf" not in m500[2024].columns
    assert "fac500_p" in m500[2020].columns and "fac500_p" not in m500[2019].columns


def test_keys_are_restored_identically_from_every_format(m500):
    for year, frame in m500.items():
        for key, width in {"conglome": 6, "vivienda": 3, "hogar": 2, "codperso": 2}.items():
            assert frame[key].str.fullmatch(rf"\d{{{width}}}").all(), (year, key)


def test_design_is_stratified_two_stage_over_all_departments(m500):
    frame = m500[2024]
    assert sorted(frame["ubigeo"].str[:2].unique()) == [f"{d:02d}" for d in range(1, 26)] + ["99"]
    assert set(frame["estrato"].dropna()) == set(range(1, 9))
    assert frame.groupby("conglome")["estrato"].nunique().max() == 1  # PSUs nested in strata
    households = frame.drop_duplicates(["conglome", "vivienda", "hogar"])
    assert set(households.groupby("conglome").size()) <= {6, 8}
    assert 1_600 <= len(households) <= 2_000  # 1/20 of ENAHO's ≈36,000
    assert frame.groupby("conglome").ngroups >= 2 * 25


def test_national_scale_has_enaho_size():
    persons, _ = sample._sample(np.random.default_rng(0), "national")
    households = persons.drop_duplicates(["conglome", "vivienda"])
    assert 34_000 <= len(households) <= 38_000
    assert 85_000 <= len(persons) <= 95_000


def test_dirt_is_there_and_only_the_bad_rows_are_rejected(m500):
    for year, frame in m500.items():
        assert set(frame["ocu500"].dropna()) == {0, 1, 2, 3, 4}
        assert frame.loc[frame["ocu500"] == 0, "fac500a"].isna().all()
        assert (~is_resident(frame) & (frame["ocu500"] == 1)).sum() > 0  # non-resident workers
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(pa.errors.SchemaErrors) as info:
                schema_for_year(year).validate(frame, lazy=True)
        failures = info.value.failure_cases
        rejected = frame.loc[sorted(failures["index"].dropna().unique())]
        assert len(rejected) == 2, year
        assert set(failures["check"]) == {"multiple_fields_uniqueness", "ubigeo_departamento_01_25"}
        assert rejected["ubigeo"].eq("990101").sum() == 1
        assert frame.duplicated(["conglome", "vivienda", "hogar", "codperso"]).sum() == 1


def test_same_seed_same_bytes_other_seed_other_data(raw, tmp_path):
    again = sample.write_enaho(tmp_path / "a", years=[2020, 2024], seed=SEED, scale="small", departments=TERRITORY)
    for path in again:
        assert path.read_bytes() == (raw / "enaho" / path.parent.name / path.name).read_bytes(), path.name
    other = sample.write_enaho(tmp_path / "b", years=[2024], seed=SEED + 1, scale="small", departments=TERRITORY)
    assert other[0].read_bytes() != (raw / "enaho" / "2024" / other[0].name).read_bytes()


def test_the_files_feed_the_indicators_through_the_whole_path(raw, m500):
    staged = []
    for year, frame in m500.items():
        m400 = read_module(
            find_module_file(raw / "enaho" / str(year), year, "400"), year, "400", PERSON_KEY + INPUTS_M400
        )
        valid = frame.drop_duplicates(PERSON_KEY)
        valid = valid[valid["ubigeo"] != "990101"]
        staged.append(add_rebuilt_flag(valid.drop(columns=["p203", "fac500_p"], errors="ignore"), m400))
    tables = compute_employment(pd.concat(staged, ignore_index=True), TERRITORY)
    assert tables.evolucion["anio"].tolist() == list(YEARS)
    assert tables.informality_source.set_index("anio").loc[2024, "informal_source"] == REBUILT_SOURCE
    assert len(tables.by_kind_table) == len(tables.by_sex_table) == 2 * len(YEARS)


def test_targets_come_from_the_reference_csv():
    published = read_published().copy()
    published.loc[published["indicador"] == "empleo_mujeres_pct", "valor"] = "40.0"
    targets = sample.load_targets(published)
    assert targets.women_pct == 40.0 and targets.anchor_year == 2024 and targets.base_year == 2019
    # the growth path: published change into the anchor year, and the window's mean annual change
    totals = [targets.territory_total(y) for y in range(targets.base_year, targets.anchor_year + 1)]
    changes = [100 * (b / a - 1) for a, b in zip(totals, totals[1:], strict=False)]
    assert changes[-1] == pytest.approx(targets.annual_var_pct)
    assert np.mean(changes) == pytest.approx(targets.mean_annual_var_pct)
    assert totals[-1] == targets.pea_ocupada


def test_territory_must_be_a_strict_subset_of_the_departments(tmp_path):
    with pytest.raises(ValueError, match="01–25"):
        sample.write_enaho(tmp_path, years=[2024], scale="small", departments=["99"])
