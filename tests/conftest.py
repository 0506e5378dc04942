from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.scenario import write_scenario


@pytest.fixture
def scenario_raw(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    write_scenario(raw)
    return raw


@pytest.fixture
def env(monkeypatch, tmp_path: Path):
    """Point the settings at a temporary raw folder and warehouse; returns a function to (re)configure."""

    def configure(raw: Path, warehouse: Path | None = None, territory: Path | None = None) -> Path:
        warehouse = warehouse or tmp_path / "wh" / "vraem.duckdb"
        monkeypatch.setenv("VRAEM_RAW_DIR", str(raw))
        monkeypatch.setenv("VRAEM_WAREHOUSE", str(warehouse))
        monkeypatch.delenv("VRAEM_OPERACION", raising=False)
        if territory is not None:
            monkeypatch.setenv("VRAEM_TERRITORY", str(territory))
        return warehouse

    return configure


def materialize(years: tuple[int, int], selection: str | None = None, extra=(), instance=None,
                tags: dict[str, str] | None = None) -> dg.ExecuteInProcessResult:
    """Materialize the project's assets in-process for a year range (the test's env must be configured); `tags`
    are added to the run's (e.g. the publish guard's override)."""
    from vraem_pipeline.definitions import defs

    d = defs()
    return dg.materialize(
        [*d.assets, *d.asset_checks, *extra],
        resources=d.resources,
        selection=selection,
        instance=instance or dg.DagsterInstance.ephemeral(),
        tags={"dagster/asset_partition_range_start": str(years[0]), "dagster/asset_partition_range_end": str(years[1]),
              **(tags or {})},
        raise_on_error=False,
    )


def operacion(warehouse: Path) -> Path:
    """The operator database the tests' settings put beside the analysts' file (VRAEM_OPERACION unset)."""
    return warehouse.with_name("vraem_operacion.duckdb")


def query(path: Path, sql: str):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()
