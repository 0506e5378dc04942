"""The customs-exports reader and rules on hand-built files: one fixture row per branch, answers worked by hand."""

import struct
import zipfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.support.builders import (
    EXPORT_DBF_FIELDS,
    dbf_bytes,
    export_pipe_row,
    export_record,
    write_export_pipe,
    write_export_week,
)
from vraem_pipeline.core import references as referencia
from vraem_pipeline.core.databases import ensure_schemas
from vraem_pipeline.core.errors import SourceFileError
from vraem_pipeline.core.sqlrules import stage_text_load
from vraem_pipeline.exportaciones.schema import EXPORTACIONES
from vraem_pipeline.sources import aduanas

# --- dBase ------------------------------------------------------------------------------------------------------


def test_dbf_live_records_keep_their_record_numbers_and_cp850_text(tmp_path):
    recs = [export_record(1, nombre="AGRÍCOLA CAÑETE"), export_record(2), export_record(3, nandina="0804400000")]
    path = write_export_week(tmp_path, 2024, "x01070324", recs, deleted={1}, zipped=False)
    block = aduanas.read_dbf(path)
    assert block.record.tolist() == [1, 3]  # record 2 is deleted: not a row, but it keeps its place
    assert block.deleted == 1
    assert block.columns["dnombre"].to_pylist() == ["AGRÍCOLA CAÑETE", "MINERA ÑAHUI S.A."]
    assert block.columns["nandina"].to_pylist() == ["2603000000", "804400000"]  # the numeric field lost the zero
    assert block.columns["regimen"].to_pylist() == ["", ""]  # not a DBF field: the x files are all régimen 40


def test_dbf_code_page_from_the_language_driver(tmp_path):
    path = tmp_path / "x.dbf"
    path.write_bytes(dbf_bytes([export_record(1, nombre="AÑO")], encoding="cp1252", language_driver=0x57))
    block = aduanas.read_dbf(path)
    assert block.encoding == "cp1252" and block.columns["dnombre"].to_pylist() == ["AÑO"]


def test_dbf_missing_required_field_and_truncated_file_fail_naming_the_file(tmp_path):
    fields = [f for f in EXPORT_DBF_FIELDS if f[0] != "VFOBSERDOL"]
    path = tmp_path / "sin_fob.dbf"
    path.write_bytes(dbf_bytes([export_record(1)], fields=fields))
    with pytest.raises(SourceFileError, match=r"sin_fob\.dbf.*VFOBSERDOL.*campos_dbf"):
        aduanas.read_dbf(path)
    data = dbf_bytes([export_record(1), export_record(2)])
    cut = tmp_path / "cortado.dbf"
    cut.write_bytes(data[:-60])
    with pytest.raises(SourceFileError, match=r"cortado\.dbf, línea 2: archivo truncado: la cabecera declara 2"):
        aduanas.read_dbf(cut)


def test_dbf_record_with_a_broken_flag_byte_is_a_bad_line(tmp_path):
    data = bytearray(dbf_bytes([export_record(1), export_record(2)]))
    header_len = struct.unpack("<H", data[8:10])[0]
    reclen = struct.unpack("<H", data[10:12])[0]
    data[header_len + reclen] = ord("?")
    path = tmp_path / "x.dbf"
    path.write_bytes(bytes(data))
    block = aduanas.read_dbf(path)
    assert block.record.tolist() == [1] and [r for r, _ in block.bad_flags] == [2]


# --- the files of a year ----------------------------------------------------------------------------------------


def test_find_files_pipe_first_then_newest_week_and_reports_others(tmp_path):
    write_export_week(tmp_path, 2024, "x01070324", [export_record(1)])
    write_export_week(tmp_path, 2024, "x05110324", [export_record(1)])
    write_export_week(tmp_path, 2024, "x02080124", [export_record(1)], zipped=False)
    write_export_pipe(tmp_path, 2024, [export_pipe_row(1)])
    (tmp_path / "aduanas" / "2024" / "estructura_bases.xls").write_bytes(b"x")
    files, others = aduanas.find_files(tmp_path / "aduanas" / "2024")
    assert [f.path.name for f in files] == ["exportaciones_2024.txt", "x05110324.zip", "x01070324.zip", "X02080124.DBF"]
    assert [p.name for p in others] == ["estructura_bases.xls"]
    bad = tmp_path / "aduanas" / "2024" / "x09150324.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("leeme.pdf", b"x")
    with pytest.raises(SourceFileError, match="no contiene un .DBF ni un .txt"):
        aduanas.find_files(tmp_path / "aduanas" / "2024")


@pytest.mark.parametrize(
    "name, periods",
    [
        ("x01070324.zip", [("2024-03-01", "2024-03-07")]),
        # across a month end the name's month is the first day's or the last day's ([I]): both readings
        ("x28030124.zip", [("2024-01-28", "2024-02-03"), ("2023-12-28", "2024-01-03")]),
        ("X28031223.DBF", [("2023-12-28", "2024-01-03"), ("2023-11-28", "2023-12-03")]),
        ("x30020324.zip", [("2024-03-30", "2024-04-02")]),  # 30 February does not exist: one reading
        ("x31310224.zip", []),  # not a date: no period, as `week` says None
        ("exportaciones_2024.txt", []),
    ],
)
def test_weekly_name_periods(name, periods):
    from datetime import date

    got = aduanas.ExportFile(Path(name), "dbf").week_spans
    assert got == [(date.fromisoformat(a), date.fromisoformat(b)) for a, b in periods]


@pytest.mark.parametrize(
    "name, anio, years",
    [
        ("x01070324.zip", 2024, {2024}),
        ("x01070124.zip", 2024, {2023, 2024}),  # a January week: DAMs numbered in December may be most of it
        ("x28030124.zip", 2023, {2023, 2024}),  # the weeks the name may mean touch both years
        ("x28031223.zip", 2024, {2023, 2024}),
        ("exportaciones_2024.txt", 2024, {2024}),
    ],
)
def test_years_a_file_may_hold(name, anio, years):
    assert aduanas.ExportFile(Path(name), "pipe").possible_years(anio) == years


def test_week_names_must_overlap_the_folder_year():
    files = [aduanas.ExportFile(Path(n), "dbf") for n in ("x28030124.zip", "x28031223.zip", "x31310224.zip")]
    for anio in (2023, 2024):
        aduanas.check_week_names(files, anio)  # none refused: each touches 2023 and 2024, or is not a date
    with pytest.raises(
        SourceFileError,
        match=r"x28030122\.zip: el nombre indica la semana del 28/01/2022 al "
        r"03/02/2022 o del 28/12/2021 al 03/01/2022, fuera de 2023, el año de "
        r"su carpeta.*\[semana_de_otro_anio\]",
    ):
        aduanas.check_week_names([aduanas.ExportFile(Path("x28030122.zip"), "dbf")], 2023)


def _stage(tmp_path, anio=2024):
    con = duckdb.connect()
    ensure_schemas(con)
    files, _ = aduanas.find_files(tmp_path / "aduanas" / str(anio))
    load = aduanas.load_year(con, files, table="trabajo.exportaciones", anio=anio, workdir=tmp_path / "tmp")
    staged = stage_text_load(
        con, load, fuente="exportaciones", schema=EXPORTACIONES, table="staging.exportaciones", anio=anio
    )
    return con, load, staged


def test_pipe_delivery_without_ubigeo_column_and_normalization(tmp_path):
    header = [h for h in aduanas.PIPE_FIELDS.values() if h != "ubigeo"]
    row = dict(
        zip(
            [
                "regimen",
                "cadu",
                "fano",
                "ndcl",
                "nser",
                "fnum",
                "femb",
                "ndoc",
                "dnombre",
                "cnan",
                "cpaides",
                "vfobserdol",
                "vpesnet",
            ],
            [
                "Exportación Definitiva",
                "19",
                "2024",
                "77",
                "1",
                "0",
                "20240110",
                "",
                "X",
                "0804.40.00.00",
                "fx",
                "12.50",
                "",
            ],
            strict=False,
        )
    )
    write_export_pipe(tmp_path, 2024, [[row[h] for h in header]], header=header)
    con, load, staged = _stage(tmp_path)
    got = con.execute(
        "SELECT cadu, ndcl, fecha_numeracion, fecha_embarque::VARCHAR, ubigeo, nandina, pais_sunat, "
        "fob_usd, peso_neto_kg FROM staging.exportaciones"
    ).fetchall()
    assert got == [("019", "000077", None, "2024-01-10", None, "0804400000", "FX", 12.5, None)]
    assert (staged.accepted_rows, staged.rejected_rows) == (1, 0)


def test_pipe_delivery_missing_a_key_column_fails_naming_it(tmp_path):
    header = [h for h in aduanas.PIPE_FIELDS.values() if h != "nser"]
    write_export_pipe(tmp_path, 2024, [], header=header)
    with pytest.raises(SourceFileError, match=r"exportaciones_2024\.txt, línea 1: faltan columnas \['nser'\]"):
        _stage(tmp_path)


def test_pipe_delivery_with_part_of_the_line_key_fails_naming_the_missing_parts(tmp_path):
    header = [h for h in aduanas.PIPE_FIELDS.values() if h not in ("fano", "ndcl")]
    write_export_pipe(tmp_path, 2024, [], header=header)
    with pytest.raises(SourceFileError, match=r"faltan columnas \['fano', 'ndcl'\]"):
        _stage(tmp_path)


def test_each_quarantine_rule_once(tmp_path):
    rows = [
        export_pipe_row(1, fano="2024", date_value="20240105"),  # l2 accepted
        export_pipe_row(2, fano="2024", date_value="20240105", fob="-0.01"),  # l3 fob_no_negativo
        export_pipe_row(3, fano="2024", date_value="20240105", fob="1,5"),  # l4 tipo_de_dato (fob)
        export_pipe_row(4, fano="2024", date_value="20240230"),  # l5 tipo_de_dato ×2 (dates)
        export_pipe_row(5, fano="2024", date_value="20210105"),  # l6 fechas_del_anio (2021 < 2023)
        export_pipe_row(6, fano="2024", date_value="20240105", cnan="0804.4A.00.00"),  # l7 nandina_10_digitos
        export_pipe_row(7, fano="2024", date_value="20240105", regimen="Reexportación"),  # l8 régimen
        export_pipe_row(1, fano="2024", date_value="20240105"),  # l9 clave_duplicada (of l2)
        export_pipe_row(8, fano="2024", date_value="20240105", fob="inf"),  # l10 valor_finito
        export_pipe_row(9, fano="2024", date_value="0", fob="0"),  # l11 accepted: no date, zero FOB
    ]
    write_export_pipe(tmp_path, 2024, rows, extra_lines=["solo|tres|campos"])  # l12 numero_de_campos
    con, load, staged = _stage(tmp_path)
    q = con.execute("SELECT linea, regla FROM quarantine.exportaciones ORDER BY linea").fetchall()
    assert q == [
        (3, "fob_no_negativo"),
        (4, "tipo_de_dato"),
        (5, "tipo_de_dato; tipo_de_dato"),
        (6, "fechas_del_anio"),
        (7, "nandina_10_digitos"),
        (8, "regimen_exportacion_definitiva"),
        (9, "clave_duplicada"),
        (10, "valor_finito"),
        (12, "numero_de_campos"),
    ]
    assert (load.rows_read, staged.accepted_rows, staged.rejected_rows) == (11, 2, 9)
    msg = con.execute("SELECT valor FROM quarantine.exportaciones WHERE linea = 12").fetchone()[0]
    assert msg == "3 campos, se esperaban 17"


# --- reference tables -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hs6, clase",
    [
        ("260300", "0729"),
        ("260800", "0729"),
        ("261610", "0729"),
        ("261690", "0729"),  # ores: 0990 dropped
        ("260111", "0710"),
        ("261210", "0721"),  # iron, uranium/thorium ores
        ("090111", "0127"),
        ("180100", "0127"),
        ("080440", "0122"),  # coffee, cocoa, avocados (exceptions)
        ("710812", "2420"),
        ("740311", "2420"),
        ("610910", "1430"),
    ],
)
def test_hs_resolution_on_known_cases(hs6, clase):
    table = referencia.hs_ciiu_resolved().set_index("hs6")
    assert table.loc[hs6, "ciiu_clase"] == clase


def test_hs_resolution_rules_one_row_per_branch():
    pairs = pd.DataFrame(
        {
            "hs": ["111111", "222222", "222222", "333333", "333333", "444444", "444444", "990000"],
            "isic4": ["0111", "0729", "0990", "1391", "1430", "0121", "0127", "9810"],
        }
    )
    rule_table = pd.DataFrame({"prefijo_hs": ["44", "4444"], "ciiu_clase": ["0121", "0127"], "motivo": ["", ""]})
    got = referencia.resolve_hs_ciiu(pairs, rule_table).set_index("hs6")
    assert got[["ciiu_clase", "regla"]].to_dict("index") == {
        "111111": {"ciiu_clase": "0111", "regla": "unico"},
        "222222": {"ciiu_clase": "0729", "regla": "sin_0990"},
        "333333": {"ciiu_clase": "1391", "regla": "menor_codigo"},
        "444444": {"ciiu_clase": "0127", "regla": "excepcion_4444"},  # the longest prefix wins
    }  # 99xxxx: no class


def test_shipped_hs_table_is_the_resolution_of_its_inputs():
    rebuilt = referencia.resolve_hs_ciiu(
        referencia.reference_csv("hs_isic4.csv"), referencia.reference_csv("hs_ciiu4_reglas.csv")
    )
    pd.testing.assert_frame_equal(rebuilt, referencia.hs_ciiu_resolved())


@pytest.mark.parametrize(
    "codigo, iso, pais",
    [
        ("CN", "CN", "China"),
        ("FX", "FR", "Francia"),
        ("AN", "NL", "Países Bajos"),
        ("1G", "GB", "Reino Unido"),
        ("1M", "DE", "Alemania"),
        ("1K", "CI", "Côte d’Ivoire"),
        ("1P", "BZ", "Belice"),
        ("99", "ZZ", "Destino no identificado"),
        ("YU", "ZZ", "Destino no identificado"),
        ("1C", "ZZ", "Destino no identificado"),
        ("GF", "GF", "Guayana Francesa"),
    ],
)
def test_country_codes(codigo, iso, pais):
    table = referencia.export_countries().set_index("codigo")
    assert (table.loc[codigo, "pais_iso2"], table.loc[codigo, "pais"]) == (iso, pais)


@pytest.mark.parametrize("batch", [2, 4, 1_000_000])
def test_a_year_larger_than_one_batch_of_dbf_rows_stages_the_same(tmp_path, monkeypatch, batch):
    for i, week in enumerate(["x01070324", "x08140324", "x15210324"]):  # 3 files × 3 records
        write_export_week(tmp_path, 2024, week, [export_record(10 * i + k) for k in range(3)])
    monkeypatch.setattr(aduanas, "DBF_BATCH_ROWS", batch)
    con, load, staged = _stage(tmp_path)
    rows = con.execute(
        "SELECT regexp_extract(archivo, 'x\\d+'), linea, ndcl FROM staging.exportaciones ORDER BY ALL"
    ).fetchall()
    assert rows == [
        (w, k + 1, f"{10 * i + k:06d}") for i, w in enumerate(["x01070324", "x08140324", "x15210324"]) for k in range(3)
    ]
    load.drop(con)
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'trabajo'").fetchall() == [(0,)]
