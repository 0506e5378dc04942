"""The data engineer's path, as a person runs it: `vraem sample-data` then `vraem refresh`, in subprocesses.

Both commands run once for the session (`conftest.small_sample`, `conftest.small_published`, which assert that
each exited 0): this test reads what the refresh printed and wrote, then runs `vraem report`."""

import os

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef

from tests.support.runs import query, vraem


@pytest.mark.slow
def test_sample_data_then_refresh_small(small_published, tmp_path):
    out = small_published.stdout
    assert "años 2019–2024" in out
    assert "padron_ruc 2024:" in out and "leídas=" in out and "rechazadas=" in out  # progress per file and year
    assert "enaho_personas 2024:" in out and "listo" in out

    warehouse = small_published.almacen
    assert not list(warehouse.parent.glob(f".{warehouse.name}.*.tmp*"))  # no publish copy left behind
    operator = small_published.operator
    assert query(operator, "SELECT count(*) AS n FROM staging.padron_ruc")["n"][0] > 0  # row-level data stays there
    key = query(warehouse, "SELECT DISTINCT indicador FROM marts.indicadores_clave WHERE anio = 2024")["indicador"]
    assert {"empresas_formales", "ventas_millones_soles", "empleo_pea_ocupada", "empleo_informal_pct"} <= set(key)
    assert len(query(warehouse, "SELECT * FROM meta.ejecuciones")) == 1
    comments = query(
        warehouse, "SELECT count(*) AS n FROM duckdb_columns() WHERE schema_name = 'marts' AND comment IS NULL"
    )
    assert comments["n"][0] == 0  # every marts column is described

    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(small_published.dagster_home)))
    runs = instance.get_runs()
    assert len(runs) == 1 and runs[0].is_success
    instance.dispose()

    # The refresh wrote the latest year's report beside the warehouse (VRAEM_INFORME_DIR's default) and said so …
    assert "informe 2024:" in out and "informe_vraem_2024.html" in out
    assert {p.name for p in (warehouse.parent / "informe").glob("informe_vraem_2024.*")} >= {
        "informe_vraem_2024.html",
        "informe_vraem_2024.xlsx",
    }
    # … and `vraem report` writes any published year where it is told, its key figures the warehouse's.
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster_home"), "VRAEM_WAREHOUSE": str(warehouse)}
    rep = vraem("report", "--year", "2023", "--out", str(tmp_path / "rep"), "--sin-pdf", env=env)
    assert rep.returncode == 0, rep.stderr
    html = (tmp_path / "rep" / "informe_vraem_2023.html").read_text(encoding="utf-8")
    firms = query(
        warehouse, "SELECT valor FROM marts.indicadores_clave WHERE anio = 2023 AND indicador = 'empresas_formales'"
    )["valor"][0]
    assert f'data-indicador="empresas_formales" data-valor="{firms}"' in html
    assert (tmp_path / "rep" / "informe_vraem_2023.xlsx").stat().st_size > 0
    missing = vraem("report", "--year", "2031", "--out", str(tmp_path / "rep"), env=env)
    assert missing.returncode == 2 and "no tiene cifras de 2031" in missing.stderr


def test_refresh_without_data_says_so(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dh")}
    run = vraem("refresh", "--raw", str(tmp_path / "vacio"), "--warehouse", str(tmp_path / "w.duckdb"), env=env)
    assert run.returncode == 2 and "no hay carpetas de año" in run.stderr
