from pathlib import Path

import pytest

from vraem_pipeline.cli import _contiguous_blocks
from vraem_pipeline.core.settings import Settings, parse_years, years_found


def test_parse_years():
    assert parse_years("2019-2024") == [2019, 2020, 2021, 2022, 2023, 2024]
    assert parse_years("2024") == [2024]
    assert parse_years("2019, 2021,2024") == [2019, 2021, 2024]
    with pytest.raises(ValueError, match="rango de años invertido: 2024-2019"):
        parse_years("2024-2019")


def test_years_come_from_non_empty_year_folders(tmp_path: Path):
    (tmp_path / "sunat" / "padron" / "2023").mkdir(parents=True)
    (tmp_path / "sunat" / "padron" / "2024").mkdir(parents=True)
    (tmp_path / "sunat" / "padron" / "2024" / "x.zip").write_bytes(b"")
    (tmp_path / "enaho" / "2019").mkdir(parents=True)
    (tmp_path / "enaho" / "2019" / "a.zip").write_bytes(b"")
    assert years_found(tmp_path) == [2019, 2024]


def test_settings_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("VRAEM_WAREHOUSE", str(tmp_path / "w" / "x.duckdb"))
    monkeypatch.setenv("VRAEM_RAW_DIR", str(tmp_path / "r"))
    s = Settings.from_env()
    monkeypatch.delenv("VRAEM_OPERACION", raising=False)
    monkeypatch.delenv("VRAEM_MEMORIA", raising=False)
    s = Settings.from_env()
    assert s.operator == tmp_path / "w" / "vraem_operacion.duckdb"  # beside the analysts' file by default
    assert s.memoria == "2GB" and s.lock_path == tmp_path / "w" / "vraem_operacion.duckdb.lock"
    monkeypatch.setenv("VRAEM_OPERACION", str(tmp_path / "op" / "o.duckdb"))
    monkeypatch.setenv("VRAEM_MEMORIA", "512MB")
    s = Settings.from_env()
    assert s.operator == tmp_path / "op" / "o.duckdb" and s.memoria == "512MB"
    assert s.raw_dir == tmp_path / "r"
    assert s.territory.name == "vraem_distritos.csv"


def test_non_contiguous_years_run_as_blocks():
    assert _contiguous_blocks([2019, 2020, 2022, 2023, 2024]) == [(2019, 2020), (2022, 2024)]
