"""The synthetic SBS debtor files (small scale): format, determinism, who the debtors are, planted dirt, and the
calibration to the published credit figures."""

import zipfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vraem_pipeline.core.reconciliation import published
from vraem_pipeline.core.ruc import check_digit_ok
from vraem_sample.calibration import calibrate
from vraem_sample.credito import (
    CRLF_YEARS,
    DEUDORES_DIRT,
    HEADER,
    ZIP_YEARS,
    cell_frame,
    credit_series,
    share_values,
    write_credito,
)
from vraem_sample.padron import build_universe

SEED = 7
YEARS = range(2019, 2025)


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("credito")
    counts: dict = {}
    write_credito(out, seed=SEED, scale="small", years=YEARS, counts=counts)
    return out, counts


def _path(out: Path, anio: int) -> Path:
    folder = out / "sbs" / "deudores" / str(anio)
    return next(folder.iterdir())


def _bytes(path: Path) -> bytes:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            (name,) = zf.namelist()
            assert name == path.stem + ".txt"
            return zf.read(name)
    return path.read_bytes()


KEY = ["TIPO_DOCUMENTO", "NUMERO_DOCUMENTO", "CODIGO_ENTIDAD", "TIPO_CREDITO"]


def _good_lines(out: Path, anio: int) -> pd.DataFrame:
    """Lines with six fields, without the planted ones (their entity codes are 009xx or empty); the planted
    duplicate repeats a good line's key, so it stays here as the second occurrence of that key."""
    text = _bytes(_path(out, anio)).decode("latin-1").replace("\r\n", "\n")
    rows = [line.split("|") for line in text.splitlines()[1:]]
    df = pd.DataFrame([r for r in rows if len(r) == 6], columns=HEADER.split("|"))
    return df[~df["CODIGO_ENTIDAD"].str.startswith("009") & (df["CODIGO_ENTIDAD"] != "")]


@pytest.mark.parametrize("anio", list(YEARS))
def test_file_format_of_each_year(raw, anio):
    out, counts = raw
    path = _path(out, anio)
    assert path.name == f"deudores_{anio}12.{'zip' if anio in ZIP_YEARS else 'txt'}"
    data = _bytes(path)
    first = data.split(b"\n", 1)[0]
    assert first.rstrip(b"\r").decode("latin-1") == HEADER
    assert first.endswith(b"\r") == (anio in CRLF_YEARS)
    assert data.count(b"\n") == 1 + counts[anio]["lineas_datos"]


def test_deterministic_by_seed(raw, tmp_path):
    out, _ = raw
    write_credito(tmp_path, seed=SEED, scale="small", years=[2020, 2024])
    for anio in (2020, 2024):
        assert _bytes(_path(tmp_path, anio)) == _bytes(_path(out, anio))
    write_credito(tmp_path / "otra", seed=SEED + 1, scale="small", years=[2024])
    assert _bytes(_path(tmp_path / "otra", 2024)) != _bytes(_path(out, 2024))


@pytest.mark.parametrize("anio", [2019, 2024])
def test_debtors_mix_located_unlocated_dni_ruc_and_every_credit_kind(raw, anio):
    out, counts = raw
    uni = build_universe(calibrate("small"), SEED)
    t = uni.t(anio)
    present = uni.estado[:, t] != 0
    ruc10 = {int(r) for r in uni.ruc[present & (uni.ruc // 1_000_000_000 == 10)]}
    territory_ruc = {str(r) for r in uni.ruc[present & uni.vraem]}
    cut_ruc = {str(r) for r in uni.ruc[present]}
    df = _good_lines(out, anio)
    dni = df[df["TIPO_DOCUMENTO"] == "1"]
    as_ruc10 = dni["NUMERO_DOCUMENTO"].map(lambda d: int(f"10{d}") * 10)  # body without the check digit
    maps = np.array([any(base + check_digit in ruc10 for check_digit in range(10)) for base in as_ruc10])
    business = df["TIPO_CREDITO"].astype(int) <= 10
    assert maps.any() and (~maps).any()  # DNIs that map to a RUC 10 of the register, and DNIs that do not
    ruc = df[df["TIPO_DOCUMENTO"] == "6"]
    assert ruc["NUMERO_DOCUMENTO"].isin(territory_ruc).any() and (~ruc["NUMERO_DOCUMENTO"].isin(territory_ruc)).any()
    assert (~ruc["NUMERO_DOCUMENTO"].isin(cut_ruc)).any()  # RUCs in no cut (unlocated)
    assert check_digit_ok(ruc["NUMERO_DOCUMENTO"]).all()
    assert df["CODIGO_ENTIDAD"].nunique() >= 10
    assert set(df["TIPO_CREDITO"]) == {f"{c:02d}" for c in range(6, 14)}
    assert (~business).mean() > 0.5  # most lines are consumer and mortgage credit
    assert set(df["TIPO_DOCUMENTO"]) == {"1", "6", "4", "7"}
    assert df.duplicated(KEY).sum() == DEUDORES_DIRT["small"]["duplicado"]  # only the planted one
    assert counts[anio]["lineas_buenas"] == len(df) - DEUDORES_DIRT["small"]["duplicado"]


def test_planted_dirt_is_counted(raw):
    _, counts = raw
    for anio in YEARS:
        got = {k: v for k, v in counts[anio].items() if k in DEUDORES_DIRT["small"]}
        assert got == DEUDORES_DIRT["small"]
        assert counts[anio]["lineas_datos"] == counts[anio]["lineas_buenas"] + sum(got.values())


def test_small_scale_stays_small(raw):
    _, counts = raw
    assert all(c["lineas_datos"] < 20_000 for c in counts.values())


def test_series_meets_the_published_endpoints_and_mean():
    pub = published().set_index(["anio", "indicador", "categoria"])["publicado"]
    s = credit_series()
    assert s[2019] == pub[(2019, "credito_millones_soles", "")] * 1e8
    assert s[2024] == pub[(2024, "credito_millones_soles", "")] * 1e8
    changes = [Fraction(s[a], s[a - 1]) - 1 for a in range(2020, 2025)]
    mean = float(sum(changes) * 100 / 5)
    assert mean == pytest.approx(pub[(2024, "credito_var_promedio_anual_pct", "")], abs=0.01)
    compound = 100 * ((s[2024] / s[2019]) ** 0.2 - 1)
    assert compound == pytest.approx(10.8, abs=0.05)  # the note in the published text: both are right


def test_cells_add_up_to_the_published_split():
    tipo, dept = share_values()
    total = 98_100_000_000
    c = cell_frame(total, tipo, dept)
    assert sum(c.values()) == total
    by_type = pd.Series(c).groupby(level=1).sum() / total * 100
    by_dept = pd.Series(c).groupby(level=0).sum() / total * 100
    assert by_type.to_dict() == pytest.approx({k: float(v) for k, v in tipo.items()}, abs=1e-6)
    assert by_dept.to_dict() == pytest.approx({k: float(v) for k, v in dept.items() if v > 0}, abs=1e-6)
    assert "09" not in by_dept  # Huancavelica: no business credit
