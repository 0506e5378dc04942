"""What the tests build and read: a refresh in a subprocess as a person types it (`vraem`, `refresh_env`), an
in-process materialization (`materialize`, `materialize_once`), copies of a published folder, and reading a
warehouse back (`query`, `marts_content`). The session's shared fixtures built from these live in conftest."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.instance.ref import InstanceRef

from vraem_pipeline.core.settings import PAUSE_FOR_TEST
from vraem_pipeline.definitions import defs

#: Every wait on a CLI command of a fixture is bounded.
CLI_MAX_S = 900


#: The browser the tests that do not test the report print with: it writes a minimal PDF at once (Chromium takes
#: seconds per refresh). The value the environment had is what `real_chromium` restores.
CHROMIUM_STAND_IN = Path(__file__).with_name("chromium_stand_in")


def materialize(
    years: tuple[int, int], selection: str | None = None, extra=(), instance=None, tags: dict[str, str] | None = None
) -> dg.ExecuteInProcessResult:
    """Materialize the project's assets in-process for a year range (the test's env must be configured); `tags`
    are added to the run's (e.g. the publish guard's override)."""
    d = defs()
    return dg.materialize(
        [*d.assets, *d.asset_checks, *extra],
        resources=d.resources,
        selection=selection,
        instance=instance or dg.DagsterInstance.ephemeral(),
        tags={
            "dagster/asset_partition_range_start": str(years[0]),
            "dagster/asset_partition_range_end": str(years[1]),
            **(tags or {}),
        },
        raise_on_error=False,
    )


def operator(warehouse: Path) -> Path:
    """The operator database the tests' settings put beside the analysts' file (VRAEM_OPERACION unset)."""
    return warehouse.with_name("vraem_operacion.duckdb")


def query(path: Path, sql: str):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def evaluations(events) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    """A run's check evaluations by (asset, check name)."""
    return {(e.asset_key.to_user_string(), e.check_name): e for e in events}


def vraem(*args: str, env: dict, timeout: float = CLI_MAX_S) -> subprocess.CompletedProcess:
    """`vraem ARGS` in a subprocess, as a person runs it."""
    return subprocess.run(
        [sys.executable, "-m", "vraem_pipeline.cli", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


def refresh_env(folder_path: Path, home: Path | None = None, op: bool = True) -> dict[str, str]:
    """The environment of a `vraem refresh` that keeps everything in `carpeta`: `dagster_home/`, the analysts' file
    `w/v.duckdb` and the operator database `op/o.duckdb` (with `op=False`, where the settings put it by default:
    `w/vraem_operacion.duckdb`); the shipped territory, no raw folder, temp folder or pause set."""
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home or folder_path / "dagster_home"),
        "VRAEM_WAREHOUSE": str(folder_path / "w" / "v.duckdb"),
        "VRAEM_OPERACION": str(folder_path / "op" / "o.duckdb"),
    }
    drop = ["VRAEM_RAW_DIR", "VRAEM_TEMP_DIR", "VRAEM_TERRITORY", "VRAEM_INFORME_DIR", PAUSE_FOR_TEST]
    for var in drop + ([] if op else ["VRAEM_OPERACION"]):
        env.pop(var, None)
    return env


def years_of(sample: Path, anios: tuple[str, ...], destination: Path) -> Path:
    """A raw folder with only the year folders `anios` of `muestra` (every source's) and INEI's workbook."""
    for folder_path in [p for p in sample.rglob("*") if p.is_dir() and p.name in anios] + [sample / "inei"]:
        shutil.copytree(folder_path, destination / folder_path.relative_to(sample))
    return destination


@dataclass
class Published:
    """A published refresh: its folder, raw files, analysts' file, operator database, and what the run said (its
    check evaluations and log messages from its Dagster instance, and the CLI's output)."""

    folder_path: Path
    raw: Path
    almacen: Path
    operator: Path
    dagster_home: Path
    checks: dict[tuple[str, str], dg.AssetCheckEvaluation] = field(default_factory=dict)
    messages: set[str] = field(default_factory=set)
    stdout: str = ""


def read_published(folder_path: Path, raw: Path, almacen: Path, op: Path, home: Path) -> Published:
    """What a published folder's run said, read back from its Dagster instance (any worker can)."""
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    try:
        runs = instance.get_runs()
        checks = evaluations(
            e.dagster_event.event_specific_data
            for r in runs
            for e in instance.all_logs(r.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        )
        messages = {e.user_message for r in runs for e in instance.all_logs(r.run_id)}
    finally:
        instance.dispose()
    exit_year = folder_path / "refresh.stdout"
    return Published(
        folder_path,
        raw,
        almacen,
        op,
        home,
        checks,
        messages,
        exit_year.read_text(encoding="utf-8") if exit_year.exists() else "",
    )


def copy_of(publicado: Published, destination: Path) -> dict[str, str]:
    """A copy of a CLI-published folder (analysts' file, operator database, DAGSTER_HOME) in `destino`; returns the
    environment of a refresh there."""
    for part in ("w", "op", "dagster_home"):
        shutil.copytree(publicado.folder_path / part, destination / part)
    return refresh_env(destination)


def materialize_once(base: Path, years: tuple[int, int]) -> Published:
    """Materialize `base/raw` into `base/wh/vraem.duckdb` in-process, outside any test's environment, with the
    run's Dagster instance in `base/dagster_home` (for a fixture shared by several tests: their copies come from
    `materialized_copy`)."""
    warehouse, home = base / "wh" / "vraem.duckdb", base / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("VRAEM_RAW_DIR", str(base / "raw"))
            mp.setenv("VRAEM_WAREHOUSE", str(warehouse))
            for var in ("VRAEM_OPERACION", "VRAEM_TERRITORY", "VRAEM_TEMP_DIR", "VRAEM_INFORME_DIR", "VRAEM_MEMORIA"):
                mp.delenv(var, raising=False)
            assert materialize(years, instance=instance).success
    finally:
        instance.dispose()
    return read_published(base, base / "raw", warehouse, operator(warehouse), home)


def materialized_copy(publicado: Published, destination: Path) -> tuple[Path, Path]:
    """A copy of a folder `materialize_once` published (raw files, analysts' file, operator database) in
    `destino`: (raw, warehouse)."""
    for part in ("raw", "wh"):
        shutil.copytree(publicado.folder_path / part, destination / part)
    return destination / "raw", destination / "wh" / "vraem.duckdb"


def bits(value):
    """A value as compared here: floats by their bit pattern (float.hex), everything else as is."""
    return value.hex() if isinstance(value, float) else value


def exact_rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> list[tuple]:
    filas = con.execute(f"FROM ({sql}) ORDER BY ALL", params or {}).fetchall()
    return [tuple(bits(v) for v in row) for row in filas]


def marts_content(path: Path) -> dict[str, list[tuple]]:
    """Every `marts` table of a DuckDB file, rows sorted, floats as bit patterns: equal means identical."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tablas = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' ORDER BY table_name"
            ).fetchall()
        ]
        return {t: exact_rows(con, f"FROM marts.{t}") for t in tablas}
    finally:
        con.close()
