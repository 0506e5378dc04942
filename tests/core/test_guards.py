"""The publish guard: a year that loses its rows is not published without the user saying so.

Unit tests pin each branch of the comparison on hand-built DuckDB files and the raw/ scan on a hand-built folder;
the scenario tests reproduce each defect the guard stops with `vraem refresh` (in-process) on the hand-worked firm
scenario plus two small ENAHO years: first refresh publishes, then the damage, then the refresh fails naming the
source and year and the published file keeps its bytes; with `--permitir-perdidas` it publishes.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.support.runs import materialize, materialized_copy, operator, query
from vraem_pipeline import cli
from vraem_pipeline.core.errors import SourceFileError
from vraem_pipeline.core.guards import ALLOW_LOSSES_TAG, MIN_ROW_FRACTION, DataLoss, Loss, data_losses
from vraem_pipeline.core.raw_scan import unrecognised_files, years_without_files
from vraem_pipeline.core.run_copy import failed_build_path
from vraem_pipeline.registry import SOURCES

# --- the comparison, on hand-built files ---------------------------------------------------------------------

# The published warehouse: padron_ruc 2023 with 100 accepted rows; exports 2023 in two weekly files (60 + 40);
# two key figures and one mart with the years 2022 and 2023.
PUBLISHED_SOURCES = [
    ("padron_ruc", 2023, "c.csv", 100),
    ("exportaciones", 2023, "x1.zip", 60),
    ("exportaciones", 2023, "x2.zip", 40),
    ("inei_vab", None, "pbi.xlsx", 589),
    ("sbs_deudores", 2023, "d.txt", 0),
]
PUBLISHED_INDICATORS = [
    (2023, "empresas_formales", 7.0),
    (2023, "empleo_informal_pct", 75.0),
    (2023, "exportaciones_var_anual_pct", 0.0),
]
PUBLISHED_EVOLUTION = [2022, 2023]


def _write(path: Path, fuentes, indicadores, evolucion) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA meta; CREATE SCHEMA marts")
    con.execute("CREATE TABLE meta.fuentes (fuente VARCHAR, anio INTEGER, archivo VARCHAR, filas_aceptadas BIGINT)")
    con.execute("CREATE TABLE marts.indicadores_clave (anio INTEGER, indicador VARCHAR, valor DOUBLE)")
    con.execute("CREATE TABLE marts.empresas_evolucion (anio INTEGER, n_empresas BIGINT)")
    con.execute("CREATE TABLE marts.sin_anio (x INTEGER)")  # a mart without years is not compared
    for table, rows in (
        ("meta.fuentes", fuentes),
        ("marts.indicadores_clave", indicadores),
        ("marts.empresas_evolucion", [(y, 1) for y in evolucion]),
    ):
        for row in rows:
            con.execute(f"INSERT INTO {table} VALUES ({', '.join('?' * len(row))})", list(row))
    return con


@pytest.fixture
def published(tmp_path) -> Path:
    path = tmp_path / "vraem.duckdb"
    _write(path, PUBLISHED_SOURCES, PUBLISHED_INDICATORS, PUBLISHED_EVOLUTION).close()
    return path


def _losses(
    tmp_path, published, fuentes=PUBLISHED_SOURCES, indicadores=PUBLISHED_INDICATORS, evolucion=PUBLISHED_EVOLUTION
) -> list[Loss]:
    (tmp_path / "nuevo.duckdb").unlink(missing_ok=True)
    con = _write(tmp_path / "nuevo.duckdb", fuentes, indicadores, evolucion)
    try:
        return data_losses(con, published, SOURCES)
    finally:
        con.close()


def _replace(rows, key, new):
    return [new if r[: len(key)] == key else r for r in rows]


def test_unchanged_build_loses_nothing(tmp_path, published):
    assert _losses(tmp_path, published) == []


def test_no_published_warehouse_nothing_to_compare(tmp_path):
    assert _losses(tmp_path, tmp_path / "no_existe.duckdb", fuentes=[], indicadores=[], evolucion=[]) == []


def test_rows_below_the_fraction_stop_at_the_fraction_do_not(tmp_path, published):
    assert MIN_ROW_FRACTION == 0.10  # 10 % of 100 published rows = 10
    at = _replace(PUBLISHED_SOURCES, ("padron_ruc",), ("padron_ruc", 2023, "c.csv", 10))
    assert _losses(tmp_path, published, fuentes=at) == []
    below = _replace(PUBLISHED_SOURCES, ("padron_ruc",), ("padron_ruc", 2023, "c.csv", 9))
    (loss,) = _losses(tmp_path, published, fuentes=below)
    assert loss == Loss("fuente", "padron_ruc", 2023, 100.0, 9.0)
    assert str(loss) == (
        "fuente padron_ruc (raw/sunat/padron/2023/), año 2023: filas aceptadas 100 en el almacén "
        "publicado → 9 (9.0 % < 10 %)"
    )


def test_source_year_to_zero_or_gone(tmp_path, published):
    gone = [r for r in PUBLISHED_SOURCES if r[0] != "padron_ruc"]
    assert _losses(tmp_path, published, fuentes=gone) == [Loss("fuente", "padron_ruc", 2023, 100.0, 0.0)]
    # a source that had 0 accepted rows (sbs_deudores) has nothing to lose
    assert _losses(tmp_path, published, fuentes=[r for r in PUBLISHED_SOURCES if r[0] != "sbs_deudores"]) == []


def test_several_files_of_a_year_are_compared_as_one_source_year(tmp_path, published):
    # the two weekly files (60 + 40) replaced by one delivery of 95 lines: no loss; by a delivery of 9: a loss
    one = [r for r in PUBLISHED_SOURCES if r[0] != "exportaciones"]
    assert _losses(tmp_path, published, fuentes=one + [("exportaciones", 2023, "entrega.txt", 95)]) == []
    assert _losses(tmp_path, published, fuentes=one + [("exportaciones", 2023, "entrega.txt", 9)]) == [
        Loss("fuente", "exportaciones", 2023, 100.0, 9.0)
    ]


def test_source_without_year_is_compared_on_its_null_year(tmp_path, published):
    fuentes = _replace(PUBLISHED_SOURCES, ("inei_vab",), ("inei_vab", None, "pbi.xlsx", 0))
    assert _losses(tmp_path, published, fuentes=fuentes) == [Loss("fuente", "inei_vab", None, 589.0, 0.0)]


def test_key_figure_to_zero_or_vanishing(tmp_path, published):
    zero = _replace(PUBLISHED_INDICATORS, (2023, "empleo_informal_pct"), (2023, "empleo_informal_pct", 0.0))
    assert _losses(tmp_path, published, indicadores=zero) == [Loss("indicador", "empleo_informal_pct", 2023, 75.0, 0.0)]
    gone = [r for r in PUBLISHED_INDICATORS if r[1] != "empresas_formales"]
    (loss,) = _losses(tmp_path, published, indicadores=gone)
    assert loss == Loss("indicador", "empresas_formales", 2023, 7.0, None)
    assert str(loss) == "indicador empresas_formales, año 2023: 7 en el almacén publicado → desaparece"
    # a figure published as 0 may vanish: there was nothing to lose
    assert _losses(tmp_path, published, indicadores=[r for r in PUBLISHED_INDICATORS if r[2] != 0]) == []


def test_year_vanishing_from_a_mart(tmp_path, published):
    (loss,) = _losses(tmp_path, published, evolucion=[2023])
    assert loss == Loss("mart", "marts.empresas_evolucion", 2022)
    assert str(loss) == "año 2022: desaparece de marts.empresas_evolucion"
    assert _losses(tmp_path, published, evolucion=[2021, 2022, 2023]) == []  # a new year is no loss


def test_an_unreadable_published_file_is_named(tmp_path):
    broken = tmp_path / "vraem.duckdb"
    broken.write_bytes(b"no es una base DuckDB" * 100)
    with pytest.raises(SourceFileError, match=r"vraem\.duckdb: no se puede abrir el almacén publicado") as err:
        _losses(tmp_path, broken)
    assert err.value.rule == "guarda_publicacion"


def test_the_error_has_one_line_per_loss_and_says_how_to_accept():
    error = DataLoss(
        [
            Loss("fuente", "padron_ruc", 2022, 100.0, 0.0, folder_path="sunat/padron/2022/"),
            Loss("mart", "marts.x", 2022),
        ]
    )
    lines = str(error).splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("no se publica: fuente padron_ruc (raw/sunat/padron/2022/), año 2022")
    assert "--permitir-perdidas" in lines[2]


# --- raw/ scan --------------------------------------------------------------------------------------------------

EXPECTED = [
    "README.md",
    "sunat/padron/2023/PadronRUC_202312.csv",
    "sunat/padron/2024/padronruc_202412.CSV",
    "sunat/ventas/2024/VENTAS_2024.txt",
    "enaho/2024/Enaho01A-2024-500.sav",
    "enaho/2024/extraido/enaho01a-2024-400.dta",
    "aduanas/2024/x01070124.zip",
    "aduanas/2024/exportaciones_2024.txt",
    "sbs/deudores/2024/deudores_202412.txt",
    "inei/vab/pbi_peru_17.xlsx",
    "inei/participaciones_territorio.csv",
    "sunat/README.md",
    ".DS_Store",
]
UNEXPECTED = {
    "sunat/padron/2023/PadronRUC_2023-12.zip": "en sunat/padron/<año>/ se espera PadronRUC_<año><mes>.zip|csv|txt",
    "sunat/ventas/2024/ventas_2023.txt": "en sunat/ventas/<año>/ se espera ventas_<año>.txt|zip",
    "aduanas/2024/exportaciones_2024.csv": "en aduanas/<año>/ se espera x<dd>",
    "enaho/2024/extraido/Diccionario.pdf": "en enaho/<año>/ se espera",
    "inei/vab/notas.docx": "en inei/vab/ se espera libros del INEI",
    "notas.docx": "no está en ninguna carpeta de fuente",
    "sunat/padron/notas.docx": "no está en ninguna carpeta de fuente",
}


def _raw(tmp_path, names) -> Path:
    raw = tmp_path / "raw"
    for name in names:
        path = raw / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith("x01070124.zip"):
            with zipfile.ZipFile(path, "w") as zf:
                zf.writestr("X01070124.DBF", b"")
        else:
            path.write_bytes(b"x")
    return raw


def test_scan_reports_every_file_no_source_recognises(tmp_path):
    raw = _raw(tmp_path, EXPECTED + list(UNEXPECTED))
    found = unrecognised_files(raw, SOURCES).set_index("archivo")
    assert sorted(found.index) == sorted(UNEXPECTED)
    for name, note in UNEXPECTED.items():
        assert note in found.loc[name, "nota"], name
    assert (found["bytes"] == 1).all()


def test_years_without_any_file_are_the_ones_refresh_refuses(tmp_path):
    raw = _raw(
        tmp_path,
        [
            "sunat/padron/2024/PadronRUC_202412.csv",
            "sunat/padron/2023/PadronRUC_2023-12.zip",
            "enaho/2022/enaho01a-2022-400.dta",
        ],
    )
    assert years_without_files(raw, [2021, 2022, 2023, 2024], SOURCES) == [2021, 2023]  # 2023 only has a misnamed cut


# --- the defects' scenarios, end to end --------------------------------------------------------------------------
# Through `vraem refresh` (in-process) where its output or exit code is the point; through `materialize` (the same
# job's assets, an ephemeral Dagster instance, ~2× faster) elsewhere.


def _refresh(capsys, raw: Path, warehouse: Path, *args: str) -> tuple[int, str, str]:
    code = cli.main(["refresh", "--raw", str(raw), "--warehouse", str(warehouse), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.slow
def test_unrecognised_file_is_logged_and_recorded_in_the_published_warehouse(enaho_scenario_published):
    """raw/ of the firm scenario (2023, 2024), ENAHO (small, 2023, 2024) and a stray file, materialized and
    published once for the session (conftest.escenario_enaho_publicado)."""
    base = enaho_scenario_published.folder_path
    recorded = query(base / "wh" / "vraem.duckdb", "SELECT * FROM meta.archivos_no_reconocidos")
    assert recorded[["archivo", "bytes"]].values.tolist() == [["aduanas/2024/exportaciones_2024.csv", 8]]
    assert recorded["nota"][0].startswith("en aduanas/<año>/ se espera x<dd><DD><mm><aa>.zip|dbf")
    logged = enaho_scenario_published.messages
    assert any("archivo no reconocido, no se lee: raw/aduanas/2024/exportaciones_2024.csv" in m for m in logged)


@pytest.fixture
def damaged(enaho_scenario_published, tmp_path, monkeypatch):
    """A copy of the published base (raw, warehouse, operator database), the settings pointing at it."""
    raw, warehouse = materialized_copy(enaho_scenario_published, tmp_path)
    monkeypatch.setenv("VRAEM_RAW_DIR", str(raw))  # the CLI sets them too: monkeypatch restores them afterwards
    monkeypatch.setenv("VRAEM_WAREHOUSE", str(warehouse))
    monkeypatch.delenv("VRAEM_OPERACION", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    return raw, warehouse


@pytest.mark.slow
def test_refreshing_unchanged_files_publishes(damaged):
    raw, warehouse = damaged
    before = warehouse.read_bytes()
    result = materialize((2024, 2024))
    assert result.success
    assert warehouse.read_bytes() != before  # published anew
    (event,) = [
        e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(["almacen", "publicado"])
    ]
    assert event.materialization.metadata["perdidas_aceptadas"].value == []
    params = query(warehouse, "SELECT nombre, valor FROM meta.parametros WHERE tema = 'publicacion'")
    assert dict(zip(params["nombre"], params["valor"], strict=False)) == {
        "fraccion_minima_filas": "0.1",
        "permitir_perdidas": "false",
    }


def _files(warehouse: Path) -> tuple[bytes, bytes, list[str]]:
    """Both databases' bytes and the operator folder's file names (no run copy, WAL or temp file left behind; the
    build of a run that did not publish, kept for diagnosis, aside)."""
    kept = failed_build_path(operator(warehouse)).name
    return (
        warehouse.read_bytes(),
        operator(warehouse).read_bytes(),
        sorted(p.name for p in warehouse.parent.iterdir() if p.is_file() and p.name != kept),
    )


def _cli_stopped(capsys, raw, warehouse, years, *expected) -> str:
    """`vraem refresh --years …` exits 1, prints each expected line on stderr, and leaves the published file and
    the operator database byte for byte as they were (write-audit-publish)."""
    before = _files(warehouse)
    code, out, err = _refresh(capsys, raw, warehouse, "--years", years)
    assert code == 1, err
    for text in expected:
        assert text in err, (text, err)
    assert "--permitir-perdidas" in err and "el almacén publicado y la base de operación no se modificaron" in err
    assert err.rstrip().splitlines()[-1].startswith("vraem refresh: falló la ejecución")
    assert _files(warehouse) == before  # byte-identical, nothing left beside them
    return out


def _run_stopped(warehouse, year, *expected) -> None:
    """The run fails at the publish asset with each expected line in its error; the published file and the
    operator database stay byte for byte (a stopped publish used to leave the damaged year in staging)."""
    before = _files(warehouse)
    result = materialize((year, year))
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.step_key == "almacen__publicado"
    message = cli._root_cause(failure.event_specific_data.error)
    for text in expected:
        assert text in message, (text, message)
    assert _files(warehouse) == before  # byte-identical


@pytest.mark.slow
def test_header_only_padron_cut(damaged, capsys):
    """A cut with its header and no line is a failed export: its staging asset fails naming the file (the
    reader's `sin_filas`), before any guard, and even `--permitir-perdidas` cannot publish it."""
    raw, warehouse = damaged
    cut = raw / "sunat" / "padron" / "2023" / "PadronRUC_202312.csv"
    cut.write_bytes(cut.read_bytes().splitlines(keepends=True)[0])
    before = _files(warehouse)
    for flags in ((), ("--permitir-perdidas",)):
        code, out, err = _refresh(capsys, raw, warehouse, "--years", "2023", *flags)
        assert code == 1, err
        assert (
            f"ERROR staging/padron_ruc: {cut}, línea 1: el archivo solo trae la cabecera, ninguna fila [sin_filas]"
        ) in err
        assert "esta ejecución no modificó el almacén publicado ni la base de operación" in err
        assert _files(warehouse) == before  # byte-identical


@pytest.mark.slow
def test_misnamed_padron_cut_is_reported_and_stops_the_publish(damaged, capsys):
    raw, warehouse = damaged
    folder = raw / "sunat" / "padron" / "2023"
    with zipfile.ZipFile(folder / "PadronRUC_2023-12.zip", "w") as zf:
        zf.write(folder / "PadronRUC_202312.csv", "PadronRUC_202312.csv")
    (folder / "PadronRUC_202312.csv").unlink()
    out = _cli_stopped(capsys, raw, warehouse, "2023", "fuente padron_ruc (raw/sunat/padron/2023/), año 2023")
    assert (
        "  ADVERTENCIA archivo no reconocido, no se lee: raw/sunat/padron/2023/PadronRUC_2023-12.zip (en "
        "sunat/padron/<año>/ se espera PadronRUC_<año><mes>.zip|csv|txt)\n"
    ) in out


@pytest.mark.slow
def test_sales_rows_with_another_delimiter(damaged):
    raw, warehouse = damaged
    staged_before = query(operator(warehouse), "SELECT count(*) AS n FROM staging.ventas_declaradas WHERE anio = 2024")
    sales = raw / "sunat" / "ventas" / "2024" / "ventas_2024.txt"
    header, *rows = sales.read_bytes().splitlines()
    sales.write_bytes(b"\n".join([header, *(r.replace(b"|", b";") for r in rows)]) + b"\n")
    _run_stopped(
        warehouse,
        2024,
        "fuente ventas_declaradas (raw/sunat/ventas/2024/), año 2024: filas aceptadas 14 en el almacén publicado → 0",
        "año 2024: desaparece de marts.empresas_evolucion",
    )
    # the operator database still has the year's 14 sales rows (it used to go to 0, all quarantined) ...
    assert (
        query(operator(warehouse), "SELECT count(*) AS n FROM staging.ventas_declaradas WHERE anio = 2024")["n"][0]
        == staged_before["n"][0]
        == 14
    )
    # ... and the stopped run's build, kept beside it, shows why: every line quarantined
    kept = query(
        failed_build_path(operator(warehouse)),
        "SELECT regla, count(*) AS n FROM quarantine.ventas_declaradas WHERE anio = 2024 GROUP BY ALL",
    )
    assert kept.values.tolist() == [["numero_de_campos", len(rows)]]


@pytest.mark.slow
def test_missing_module_400_makes_informality_absent_not_zero(damaged):
    raw, warehouse = damaged
    for path in (raw / "enaho" / "2024").glob("*Modulo04*"):
        path.unlink()
    _run_stopped(
        warehouse,
        2024,
        "fuente enaho_salud (raw/enaho/2024/), año 2024",
        "indicador empleo_informal_pct, año 2024",
        "indicador empleo_formal_pct, año 2024",
        "año 2024: desaparece de marts.empleo_por_tipo",
    )
    assert materialize((2024, 2024), tags={ALLOW_LOSSES_TAG: "true"}).success
    assert query(warehouse, "SELECT DISTINCT anio FROM marts.empleo_por_tipo")["anio"].tolist() == [2023]
    codes = set(query(warehouse, "SELECT indicador FROM marts.indicadores_clave WHERE anio = 2024")["indicador"])
    assert "empleo_pea_ocupada" in codes and not codes & {
        "empleo_informal_pct",
        "empleo_formal_pct",
        "empleo_informal_mype_pct",
    }


@pytest.mark.slow
def test_years_beyond_the_files_are_refused_up_front(damaged, capsys):
    raw, warehouse = damaged
    for folder in ("sunat/padron/2023", "sunat/ventas/2023", "enaho/2023"):
        shutil.rmtree(raw / folder)
    before, operator_before = warehouse.read_bytes(), operator(warehouse).read_bytes()
    code, out, err = _refresh(capsys, raw, warehouse, "--years", "2023-2024")
    assert code == 2
    assert "ninguna fuente tiene archivos en raw/ para 2023 (sunat/padron/, sunat/ventas/, enaho/" in err
    assert "--permitir-perdidas" in err
    assert warehouse.read_bytes() == before and operator(warehouse).read_bytes() == operator_before
    code, out, err = _refresh(capsys, raw, warehouse, "--years", "2023-2024", "--permitir-perdidas")
    assert code == 0, err
    assert query(warehouse, "SELECT anio FROM marts.empresas_evolucion")["anio"].tolist() == [2024]
