"""Publication guarantees, proven with a second OS process (an analyst) and failing refreshes.

Most start from the firm scenario published once for the session (`conftest.scenario_published`): a test that
refreshes again works on its own copy (`scenario_copy`)."""

import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.support.builders import padron_row, ruc, write_padron, write_ventas
from tests.support.runs import materialize, query
from tests.support.scenario import PADRON_2024, VENTAS_2024

pytestmark = pytest.mark.slow

READER = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    q = "SELECT n_empresas FROM marts.empresas_evolucion WHERE anio = 2024"
    print(con.execute(q).fetchone()[0], flush=True)
    sys.stdin.readline()                       # hold the connection open until the refresh is done
    print(con.execute(q).fetchone()[0], flush=True)
    """
)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _add_a_2024_firm(raw: Path) -> None:
    new = ruc("20", 55_555_555)
    write_padron(raw, 2024, 12, PADRON_2024 + [padron_row(new, ubigeo="050401")], dialect="comma")
    write_ventas(raw, 2024, VENTAS_2024 + [(new, 2024, "1000.00")])


def test_reader_in_another_process_neither_blocks_nor_sees_half_state(scenario_copy):
    scenario_raw, warehouse = scenario_copy  # 2023 and 2024 published (conftest.scenario_published)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(warehouse)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "7"
        _add_a_2024_firm(scenario_raw)
        result = materialize((2023, 2024))  # would raise/lock if the analyst's connection blocked the writer
        assert result.success
        assert (
            query(warehouse, "SELECT n_empresas FROM marts.empresas_evolucion WHERE anio = 2024")["n_empresas"][0] == 8
        )
        out, err = reader.communicate("\n", timeout=60)
    finally:
        reader.kill()
    assert reader.returncode == 0, err
    assert out.strip() == "7"  # the open connection keeps reading the complete old warehouse


def test_failed_blocking_check_leaves_published_file_byte_identical(scenario_copy):
    scenario_raw, warehouse = scenario_copy  # 2023 and 2024 published (conftest.scenario_published)
    before = _sha(warehouse)

    @dg.asset_check(asset=dg.AssetKey(["staging", "padron_ruc"]), name="siempre_falla", blocking=True)
    def always_fails() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=False)

    _add_a_2024_firm(scenario_raw)
    result = materialize((2024, 2024), extra=[always_fails])
    assert not result.success
    published = [
        e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(["almacen", "publicado"])
    ]
    assert published == []
    assert _sha(warehouse) == before


def test_bad_input_fails_the_cli_with_file_line_rule_and_keeps_the_warehouse(scenario_copy, tmp_path):
    scenario_raw, warehouse = scenario_copy  # 2023 and 2024 published (conftest.scenario_published)
    before = _sha(warehouse)
    broken = scenario_raw / "sunat" / "padron" / "2024" / "PadronRUC_202412.zip"
    broken.unlink()
    (broken.parent / "PadronRUC_202412.csv").write_bytes(b"RUC|Estado\n20512333797|ACTIVO\n")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "vraem_pipeline.cli",
            "refresh",
            "--years",
            "2024",
            "--raw",
            str(scenario_raw),
            "--warehouse",
            str(warehouse),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "DAGSTER_HOME": str(tmp_path / "dh")},
    )
    assert run.returncode == 1
    assert "PadronRUC_202412.csv, línea 1" in run.stderr and "[cabecera]" in run.stderr
    assert "esta ejecución no modificó el almacén publicado ni la base de operación" in run.stderr
    assert run.stderr.rstrip().splitlines()[-1].startswith("vraem refresh: falló")
    assert _sha(warehouse) == before


def test_published_file_is_readable_by_older_duckdb_clients(scenario_published):
    warehouse = scenario_published.almacen
    tags = query(warehouse, "SELECT tags FROM duckdb_databases() WHERE NOT internal")["tags"][0]
    assert tags["storage_version"].startswith("v1.4.0")
    assert not warehouse.with_name(warehouse.name + ".wal").exists()


def test_analysts_file_holds_aggregates_only_and_no_personal_identifier(scenario_published):
    """The scenario has a RUC 10 (a natural person with business) among its formal firms: it must stay in the
    operator database. Every text value of every published table is scanned for a RUC 10 or a DNI."""
    from tests.support.runs import operator
    from tests.support.scenario import P10

    warehouse, scenario_raw = scenario_published.almacen, scenario_published.raw
    tables = query(warehouse, "SELECT schema_name, table_name FROM duckdb_tables() ORDER BY ALL")
    assert set(tables["schema_name"]) == {"marts", "meta", "referencia"}
    texts = query(
        warehouse, "SELECT schema_name, table_name, column_name FROM duckdb_columns() WHERE data_type = 'VARCHAR'"
    )
    found = []
    con = duckdb.connect(str(warehouse), read_only=True)  # one connection for the whole scan
    try:
        for schema, table, column in texts.itertuples(index=False):
            if (table, column) == ("ejecuciones", "run_id"):  # a UUID: its first 8 hex digits are all digits ~2 %
                continue  # of runs
            hits = con.execute(f"""SELECT count(*) AS n FROM {schema}.{table} WHERE regexp_matches("{column}",
                                   '(^|[^0-9A-Za-z])(10[0-9]{{9}}|[0-9]{{8}})([^0-9A-Za-z]|$)')""").fetchone()[0]
            if hits:
                found.append((schema, table, column))
    finally:
        con.close()
    assert found == []
    # nor the operator's folders: meta.fuentes names each file relative to raw/ (exactly the files read)
    files = query(warehouse, "SELECT archivo FROM meta.fuentes ORDER BY archivo")["archivo"].tolist()
    assert files == [
        "sunat/padron/2023/PadronRUC_202312.csv",
        "sunat/padron/2024/PadronRUC_202412.zip",
        "sunat/ventas/2023/ventas_2023.txt",
        "sunat/ventas/2024/ventas_2024.txt",
    ]
    assert all((scenario_raw / f).is_file() for f in files)
    # ... while the operator database does have it, and the firm counts in the marts
    assert query(operator(warehouse), f"SELECT count(*) AS n FROM staging.padron_ruc WHERE ruc = '{P10}'")["n"][0] == 1
    assert query(warehouse, "SELECT n_empresas FROM marts.empresas_evolucion WHERE anio = 2024")["n_empresas"][0] == 7
    assert warehouse.stat().st_size < operator(warehouse).stat().st_size


def test_refresh_under_a_small_memory_limit(scenario_raw, env, monkeypatch):
    """VRAEM_MEMORIA reaches every connection of the run (DuckDB reports it back) and the run completes."""
    warehouse = env(scenario_raw)
    monkeypatch.setenv("VRAEM_MEMORIA", "100MB")
    from vraem_pipeline.definitions import defs
    from vraem_pipeline.lib.dagster_support import operator_connection

    with operator_connection(defs().resources["duckdb"]) as con:
        limit = con.execute("SELECT current_setting('memory_limit'), current_setting('temp_directory')").fetchone()
    assert limit[0] in ("95.3 MiB", "100.0 MB") and limit[1].endswith("vraem_operacion.tmp")
    assert materialize((2023, 2024)).success
    assert query(warehouse, "SELECT n_empresas FROM marts.empresas_evolucion WHERE anio = 2024")["n_empresas"][0] == 7
