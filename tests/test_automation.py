"""The sensor on raw/: which years and which sources a changed file asks to refresh.

Evaluated like the daemon does (`evaluate_tick` with the project's definitions), so every request's partition
and asset selection is also resolved against the real job.
"""

import json
import os

import dagster as dg
import pytest

from vraem_pipeline.defs import automation
from vraem_pipeline.defs.automation import nuevos_archivos
from vraem_pipeline.definitions import defs

PADRON = "sunat/padron/2024/PadronRUC_202412.zip"
VENTAS = "sunat/ventas/2024/ventas_2024.txt"
WORKBOOK = "inei/vab/pbi_peru_18.xlsx"


@pytest.fixture(scope="module")
def definitions():
    return defs()


@pytest.fixture
def raw(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    monkeypatch.setenv("VRAEM_RAW_DIR", str(raw))
    return raw


def write(raw, relative, data: bytes, mtime: int | None = None):
    path = raw / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def evaluate(definitions, cursor=None):
    """(requests as (partition, selected asset keys), new cursor)."""
    result = nuevos_archivos.evaluate_tick(dg.build_sensor_context(cursor=cursor, definitions=definitions))
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
    assert {"intermedio/empresas_formales", "intermedio/exportaciones", "intermedio/credito_empresarial",
            "intermedio/pbi_asignacion", "marts/empresas_evolucion", "marts/indicadores_clave",
            "almacen/publicado", "referencia/tablas"} <= selection
    assert not {"intermedio/enaho_informalidad", "marts/empleo_evolucion", "intermedio/pbi_departamentos"} & selection
    assert json.loads(cursor)[PADRON][0] == 3  # size, mtime, sha256 per file; other files are not tracked
    assert set(json.loads(cursor)) == {PADRON}


def test_a_touched_file_with_the_same_content_requests_nothing_and_is_hashed_once(raw, definitions, monkeypatch):
    write(raw, PADRON, b"cut", mtime=1_000)
    _, cursor = evaluate(definitions)
    hashed = []
    monkeypatch.setattr(automation, "sha256_of", lambda p: hashed.append(p.name) or automation.hashlib.sha256(
        p.read_bytes()).hexdigest())
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
    assert {"intermedio/pbi_departamentos", "intermedio/pbi_asignacion", "marts/pbi_evolucion",
            "almacen/publicado"} <= selection
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
    """The sensor's folders come from the sources' list (archivos.FUENTES); each must name a real asset."""
    from vraem_pipeline.defs.automation import EDITION_SOURCES, YEARLY_SOURCES
    from vraem_pipeline.definitions import defs

    keys = {k.to_user_string() for k in defs().resolve_asset_graph().get_all_asset_keys()}
    watched = {a for assets in (*YEARLY_SOURCES.values(), *EDITION_SOURCES.values()) for a in assets}
    assert watched <= keys and len(YEARLY_SOURCES) == 5
