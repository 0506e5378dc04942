"""The sensor on raw/: which years and which sources a changed file asks to refresh.

Evaluated like the daemon does (`evaluate_tick` with the project's definitions), so every request's partition
and asset selection is also resolved against the real job. The daemon itself runs it in
`tests/integration/test_daemon.py`.
"""

import hashlib
import json
import os
import time

import dagster as dg
import duckdb
import pytest

from vraem_pipeline.definitions import defs
from vraem_pipeline.defs import automation
from vraem_pipeline.defs.automation import nuevos_archivos

PADRON = "sunat/padron/2024/PadronRUC_202412.zip"
VENTAS = "sunat/ventas/2024/ventas_2024.txt"
WORKBOOK = "inei/vab/pbi_peru_18.xlsx"


#: The instance a tick reads (it recovers the runs a dead process left unfinished: none here).
INSTANCE = dg.DagsterInstance.ephemeral()


@pytest.fixture(scope="module")
def definitions():
    return defs()


@pytest.fixture
def raw(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    monkeypatch.setenv("VRAEM_RAW_DIR", str(raw))
    monkeypatch.setenv("VRAEM_WAREHOUSE", str(tmp_path / "w" / "vraem.duckdb"))  # none published unless a test says
    monkeypatch.setenv("VRAEM_OPERACION", str(tmp_path / "op" / "vraem_operacion.duckdb"))  # the tick takes its lock
    return raw


def write(raw, relative, data: bytes, mtime: int | None = None):
    path = raw / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def tick(cursor, definitions) -> dg.SensorEvaluationContext:
    return dg.build_sensor_context(cursor=cursor, definitions=definitions, instance=INSTANCE)


def evaluate(definitions, cursor=None):
    """(requests as (partition, selected asset keys), new cursor)."""
    result = nuevos_archivos.evaluate_tick(tick(cursor, definitions))
    requests = [(r.partition_key, {k.to_user_string() for k in r.asset_selection}) for r in result.run_requests]
    return sorted(requests, key=lambda r: r[0] or ""), result.cursor


def staging(selection):
    return {k for k in selection if k.startswith("staging/")}


def test_a_new_file_requests_its_year_with_its_source_and_everything_downstream(raw, definitions):
    write(raw, PADRON, b"cut")
    write(raw, "README.md", b"not a source")
    write(raw, "otra_fuente/2024/x.csv", b"no asset reads it")
    [(partition, selection)], cursor = evaluate(definitions)
    assert partition == "2024"
    assert staging(selection) == {"staging/padron_ruc"}
    # downstream of the Padrón: formal firms, the exporters' and debtors' location, the GDP shares, marts, publish
    assert {
        "intermedio/empresas_formales",
        "intermedio/exportaciones",
        "intermedio/credito_empresarial",
        "intermedio/pbi_asignacion",
        "marts/empresas_evolucion",
        "marts/indicadores_clave",
        "almacen/publicado",
        "referencia/tablas",
    } <= selection
    assert not {"intermedio/enaho_informalidad", "marts/empleo_evolucion", "intermedio/pbi_departamentos"} & selection
    assert json.loads(cursor)[PADRON][0] == 3  # size, mtime, sha256 per file; other files are not tracked
    assert set(json.loads(cursor)) == {PADRON}


def test_a_touched_file_with_the_same_content_requests_nothing_and_is_hashed_once(raw, definitions, monkeypatch):
    write(raw, PADRON, b"cut", mtime=1_000)
    _, cursor = evaluate(definitions)
    hashed = []
    monkeypatch.setattr(
        automation,
        "sha256_of",
        lambda p: hashed.append(p.name) or automation.hashlib.sha256(p.read_bytes()).hexdigest(),
    )
    assert evaluate(definitions, cursor)[0] == [] and hashed == []  # nothing moved: no file read
    write(raw, PADRON, b"cut", mtime=2_000)  # touched, same bytes
    requests, cursor = evaluate(definitions, cursor)
    assert requests == [] and hashed == ["PadronRUC_202412.zip"]
    assert json.loads(cursor)[PADRON][1] == 2_000 * 10**9  # the new time stamp is remembered: not hashed again
    assert evaluate(definitions, cursor)[0] == [] and hashed == ["PadronRUC_202412.zip"]


def test_a_content_change_of_the_same_size_requests_the_year(raw, definitions):
    write(raw, PADRON, b"cut", mtime=1_000)
    _, cursor = evaluate(definitions)
    write(raw, PADRON, b"CUT", mtime=2_000)
    [(partition, selection)], _ = evaluate(definitions, cursor)
    assert partition == "2024" and staging(selection) == {"staging/padron_ruc"}


def test_two_changed_sources_are_both_selected_in_one_run_per_year(raw, definitions):
    write(raw, PADRON, b"cut")
    write(raw, "sunat/padron/2023/PadronRUC_202312.csv", b"old cut")
    write(raw, VENTAS, b"sales")
    write(raw, "enaho/2023/sub/enaho01a-2023-500.sav", b"survey")  # any depth below the year folder
    _, cursor = evaluate(definitions)
    write(raw, PADRON, b"new cut")
    write(raw, VENTAS, b"new sales")
    write(raw, "enaho/2023/sub/enaho01a-2023-500.sav", b"new survey")
    requests, _ = evaluate(definitions, cursor)
    assert [(p, staging(s)) for p, s in requests] == [
        ("2023", {"staging/enaho_personas", "staging/enaho_salud"}),
        ("2024", {"staging/padron_ruc", "staging/ventas_declaradas"}),
    ]


def test_the_gdp_workbook_is_unpartitioned_and_joins_the_latest_years_run(raw, definitions):
    write(raw, PADRON, b"cut")
    write(raw, "sunat/padron/2023/PadronRUC_202312.csv", b"old cut")
    _, cursor = evaluate(definitions)
    write(raw, WORKBOOK, b"edition")
    [(partition, selection)], cursor = evaluate(definitions, cursor)
    assert partition is None  # alone: GDP assets only, no partition (they carry every year)
    assert staging(selection) == {"staging/inei_vab"}
    assert {
        "intermedio/pbi_departamentos",
        "intermedio/pbi_asignacion",
        "marts/pbi_evolucion",
        "almacen/publicado",
    } <= selection
    assert "intermedio/empresas_formales" not in selection
    write(raw, WORKBOOK, b"newer edition")
    write(raw, "sunat/padron/2023/PadronRUC_202312.csv", b"corrected cut")
    write(raw, "inei/participaciones_territorio.csv", b"ubigeo_departamento,actividad,anio,participacion_pct")
    [(partition, selection)], _ = evaluate(definitions, cursor)
    assert partition == "2023" and staging(selection) == {"staging/padron_ruc", "staging/inei_vab"}


def test_a_removed_file_requests_its_year_and_a_former_cursor_is_honoured(raw, definitions):
    write(raw, PADRON, b"cut", mtime=1_000)
    write(raw, VENTAS, b"sales", mtime=1_000)
    _, cursor = evaluate(definitions)
    (raw / VENTAS).unlink()
    [(partition, selection)], cursor = evaluate(definitions, cursor)
    assert partition == "2024" and staging(selection) == {"staging/ventas_declaradas"}
    # the cursor before content hashes held the time stamp alone: same time stamp, nothing to refresh
    assert evaluate(definitions, json.dumps({PADRON: 1_000.0}))[0] == []


def test_every_folder_the_sensor_watches_is_read_by_an_asset_of_the_graph():
    """The sensor's folders come from the registry's sources; each must name a real asset."""
    from vraem_pipeline.definitions import defs
    from vraem_pipeline.defs.automation import EDITION_SOURCES, YEARLY_SOURCES

    keys = {k.to_user_string() for k in defs().resolve_asset_graph().get_all_asset_keys()}
    watched = {a for assets in (*YEARLY_SOURCES.values(), *EDITION_SOURCES.values()) for a in assets}
    assert watched <= keys and len(YEARLY_SOURCES) == 5


# --- year folders outside the partitions -----------------------------------------------------------------------


def test_a_year_folder_outside_the_partitions_is_reported_and_does_not_fail_the_tick(raw, definitions, capfd):
    """2014 is before the partitions' start (2015) and 2031 is not a complete year yet: a run for either would
    fail the whole tick, so they are named in a warning and not watched; the valid year is still requested."""
    write(raw, "sunat/padron/2014/PadronRUC_201412.zip", b"too old")
    write(raw, "sbs/deudores/2031/deudores_203112.txt", b"the future")
    write(raw, VENTAS, b"sales")
    [(partition, selection)], cursor = evaluate(definitions)
    assert partition == "2024" and staging(selection) == {"staging/ventas_declaradas"}
    assert set(json.loads(cursor)) == {VENTAS}  # not in the cursor: requested once its year becomes valid
    [warning] = [line for line in capfd.readouterr().err.splitlines() if " - WARNING - " in line]
    assert "fuera de los años que se pueden refrescar (2015–" in warning
    assert warning.endswith(
        "no vigiladas: raw/sbs/deudores/2031/, raw/sunat/padron/2014/; muévalas a la carpeta "
        "del año que corresponda (un año aún en curso se podrá refrescar cuando termine)"
    )
    # a quiet tick says so in its skip reason, the one line the Dagster UI shows per tick
    result = nuevos_archivos.evaluate_tick(tick(cursor, definitions))
    assert (
        result.run_requests == []
        and "no vigiladas: raw/sbs/deudores/2031/, raw/sunat/padron/2014/" in result.skip_message
    )


# --- what the published warehouse already holds (the sensor's first tick) --------------------------------------


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def publish(warehouse, rows, runs):
    """A published warehouse reduced to what the sensor reads: meta.fuentes (fuente, anio, archivo, sha256,
    leido_en) and meta.ejecuciones (the runs' starts), times in seconds from now (UTC, as the refresh writes)."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse))
    con.execute("CREATE SCHEMA meta")
    con.execute(
        "CREATE TABLE meta.fuentes (fuente VARCHAR, anio INTEGER, archivo VARCHAR, sha256 VARCHAR, leido_en TIMESTAMP)"
    )
    con.execute("CREATE TABLE meta.ejecuciones (run_id VARCHAR, inicio TIMESTAMP)")
    now = time.time()
    for fuente, anio, archivo, digest, read_at in rows:
        con.execute(
            "INSERT INTO meta.fuentes VALUES (?, ?, ?, ?, to_timestamp(?)::TIMESTAMP)",
            [fuente, anio, archivo, digest, now + read_at],
        )
    for i, start in enumerate(runs):
        con.execute("INSERT INTO meta.ejecuciones VALUES (?, to_timestamp(?)::TIMESTAMP)", [f"run{i}", now + start])
    con.close()


def test_first_tick_requests_only_what_the_published_warehouse_does_not_hold(raw, definitions, tmp_path):
    """Turned on after a `vraem refresh` (no cursor), the sensor compares raw/ with the published meta.fuentes.
    By hand, file by file:
    - the Padrón 2024 cut, published with these bytes under this raw/ (absolute path, as refreshes wrote it): no;
    - SBS 2024, published with these bytes as a path relative to raw/: no;
    - exports 2022, published with these bytes from a raw/ folder that was elsewhere (absolute, other root): no;
    - an older Padrón 2024 cut the refresh left aside (not in meta.fuentes, already there when the run that read
      the Padrón 2024 started, an hour from now in this warehouse): no;
    - sales 2024, published with other bytes: 2024, sales;
    - an ENAHO 2024 module not in meta.fuentes, newer than the run that read ENAHO 2024 (two hours ago): 2024;
    - the Padrón 2023 cut, 2023 never published for the Padrón: 2023, Padrón;
    - SBS 2023 (relative path) and the Padrón 2022 (absolute path), published but gone from raw/: 2023, SBS;
      2022, Padrón.
    """
    warehouse = tmp_path / "w" / "vraem.duckdb"
    for relative, data in [
        (PADRON, b"cut"),
        ("sbs/deudores/2024/deudores_202412.txt", b"debtors"),
        ("aduanas/2022/exportaciones_2022.txt", b"exports"),
        ("sunat/padron/2024/PadronRUC_202406.zip", b"older cut"),
        (VENTAS, b"sales, corrected"),
        ("enaho/2024/enaho01a-2024-500.sav", b"survey"),
        ("sunat/padron/2023/PadronRUC_202312.zip", b"cut 2023"),
    ]:
        write(raw, relative, data)
    publish(
        warehouse,
        [
            ("padron_ruc", 2024, str(raw.resolve() / PADRON), sha(b"cut"), 7200),
            ("sbs_deudores", 2024, "sbs/deudores/2024/deudores_202412.txt", sha(b"debtors"), 7200),
            ("exportaciones", 2022, "/srv/antes/raw/aduanas/2022/exportaciones_2022.txt", sha(b"exports"), 7200),
            ("ventas_declaradas", 2024, VENTAS, sha(b"sales"), 7200),
            ("enaho_personas", 2024, "enaho/2024/otro-2024-500.sav", sha(b"other"), -3600),
            ("enaho_salud", 2024, "enaho/2024/otro-2024-400.sav", sha(b"other"), -3600),
            ("padron_ruc", 2022, str(raw.resolve() / "sunat/padron/2022/PadronRUC_202212.zip"), sha(b"x"), 7200),
            ("sbs_deudores", 2023, "sbs/deudores/2023/deudores_202312.txt", sha(b"gone"), 7200),
        ],
        runs=[-7200, 3600],
    )
    requests, cursor = evaluate(definitions)
    assert [(p, staging(s)) for p, s in requests] == [
        ("2022", {"staging/padron_ruc"}),
        ("2023", {"staging/padron_ruc", "staging/sbs_deudores"}),
        ("2024", {"staging/ventas_declaradas", "staging/enaho_personas", "staging/enaho_salud"}),
    ]
    assert len(json.loads(cursor)) == 7  # every file present, hashed once
    # From then on the cursor decides: nothing moved, nothing requested (the files gone are not asked again).
    assert evaluate(definitions, cursor)[0] == []
    write(raw, "sunat/padron/2024/PadronRUC_202406.zip", b"older cut, replaced")
    [(partition, selection)], _ = evaluate(definitions, cursor)
    assert partition == "2024" and staging(selection) == {"staging/padron_ruc"}


def test_first_tick_with_nothing_published_requests_every_year(raw, definitions):
    write(raw, PADRON, b"cut")
    write(raw, "sunat/ventas/2023/ventas_2023.txt", b"sales")
    requests, _ = evaluate(definitions)
    assert [(p, staging(s)) for p, s in requests] == [
        ("2023", {"staging/ventas_declaradas"}),
        ("2024", {"staging/padron_ruc"}),
    ]
