"""The quick start end to end: the calibrated national sample (`vraem sample-data`, seed 2024, national scale)
refreshed through `vraem refresh` publishes every figure of the published edition at the precision it was
printed, topic by topic — firms, employment, exports, credit and GDP.

The comparison is the project's own (`reconciliacion.reconcile`, `reconcile_rankings`, which the warning check
`reconciliacion_publicado` also runs), read from the analysts' warehouse the refresh published. A published figure
the pipeline did not compute counts as a miss: the warning check only counts those (`sin_dato`), this test fails.
It takes minutes (the sample ~80 s, the refresh ~200 s on an idle machine).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.support.reconciliation import TOPICS, misses, topic
from vraem_pipeline.core.reconciliation import published, published_rankings, reconcile, reconcile_rankings
from vraem_pipeline.core.references import reference_csv
from vraem_pipeline.core.settings import PAUSE_FOR_TEST


def _vraem(*args: str, env: dict, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vraem_pipeline.cli", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


def _by_topic(lines_of: dict[str, list[str]]) -> str:
    return "\n".join(f"{t}:\n  " + "\n  ".join(lines) for t, lines in lines_of.items() if lines)


def test_a_figure_never_computed_is_a_miss():
    """On a database without marts `reconcile` has no computed value for any figure: `coincide` is NA, which
    pandas' `.all()` skips — the trap `misses` exists for."""
    con = duckdb.connect()
    try:
        figures, orders = reconcile(con), reconcile_rankings(con)
    finally:
        con.close()
    assert bool(figures["coincide"].all()) and figures["coincide"].isna().all()  # .all() says yes to nothing
    lines = misses(figures) + misses(orders)
    assert len(lines) == len(published()) + len(published_rankings()) > 0
    assert all("sin calcular" in line for line in lines)
    assert any(line.startswith("2024 empresas_por_estrato_pct[micro]: publicado 97.1, sin calcular") for line in lines)


@pytest.mark.slow
def test_national_sample_refreshed_by_the_cli_reproduces_every_published_figure(tmp_path: Path):
    raw, warehouse = tmp_path / "raw", tmp_path / "w" / "vraem.duckdb"
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster_home")}
    for var in (
        "VRAEM_RAW_DIR",
        "VRAEM_WAREHOUSE",
        "VRAEM_OPERACION",
        "VRAEM_TEMP_DIR",
        "VRAEM_TERRITORY",
        "VRAEM_INFORME_DIR",
        PAUSE_FOR_TEST,
    ):
        env.pop(var, None)  # the shipped VRAEM territory; everything else under tmp_path
    sample = _vraem("sample-data", "--out", str(raw), "--seed", "2024", "--scale", "national", env=env, timeout=1200)
    assert sample.returncode == 0, sample.stdout[-2000:] + sample.stderr[-4000:]
    run = _vraem("refresh", "--raw", str(raw), "--warehouse", str(warehouse), env=env, timeout=2400)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]

    con = duckdb.connect(str(warehouse), read_only=True)  # what analysts read: the published file
    try:
        figures, orders = reconcile(con), reconcile_rankings(con)
    finally:
        con.close()

    # every published row that carries a figure is compared (a value, or the categories of a ranking)
    csv = reference_csv("publicado_vraem_2024.csv")
    assert len(figures) == (csv["valor"].str.strip() != "").sum() and len(orders) == (csv["unidad"] == "orden").sum()
    compared = {name: 0 for name in dict.fromkeys(TOPICS.values())}
    missed: dict[str, list[str]] = {name: [] for name in compared}
    for table in (figures, orders):
        for name, rows in table.groupby(table["indicador"].map(topic), sort=False):
            compared[name] += len(rows)
            missed[name] += misses(rows)
    assert all(compared.values()), f"temas sin ninguna cifra publicada comparada: {compared}"
    assert not any(missed.values()), (
        f"{sum(map(len, missed.values()))} de {len(figures) + len(orders)} cifras publicadas no coinciden a su "
        f"redondeo:\n{_by_topic(missed)}"
    )
