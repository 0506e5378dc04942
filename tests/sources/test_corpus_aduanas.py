"""Bad-input corpus, SUNAT customs (`raw/aduanas/<año>/`): Aduanet's weekly DBF zips and the pipe delivery.

Each case is a tiny broken file in the real format and the answer worked out by hand: either its rows go to
quarantine with their rule and record/line and the year is staged (read = accepted + rejected), or the year
fails with one line naming the file, the record or line, and the rule.
"""

from __future__ import annotations

import random
import struct
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.support.builders import (
    EXPORT_DBF_FIELDS,
    EXPORT_PIPE_HEADER,
    EXPORT_PIPE_HEADER_WITHOUT_KEY,
    dbf_bytes,
    export_pipe_row,
    export_pipe_row_without_key,
    export_record,
    write_export_pipe,
    write_export_week,
)
from tests.support.corpus_staging import assert_file_error, stage_year
from vraem_pipeline.exportaciones.inputs import find_exportaciones_year
from vraem_pipeline.exportaciones.schema import EXPORTACIONES

Y = 2024
SQL = "'; DROP TABLE meta.fuentes;--"  # fits the 30-character DNOMBRE field


def _folder(raw: Path) -> Path:
    folder = raw / "aduanas" / str(Y)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _stage(tmp_path):
    return stage_year(tmp_path, "exportaciones", EXPORTACIONES, Y, find_exportaciones_year)


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _pipe(raw: Path, rows, **kw) -> Path:
    rows = [
        export_pipe_row(i + 1, fano="2024", date_value="20240315", **r) if isinstance(r, dict) else r
        for i, r in enumerate(rows)
    ]
    return write_export_pipe(raw, Y, rows, **kw)


# --- dBase weekly files: (id, build(raw), expected) -------------------------------------------------------------
# expected: ("falla", file name, rule, record, text in the message) or ("carga", accepted, [(file, record, rule)])


def _truncated_zip(raw):
    path = write_export_week(raw, Y, "x01070324", [export_record(1), export_record(2)])
    path.write_bytes(path.read_bytes()[:60])


def _two_dbfs(raw):
    _zip(
        _folder(raw) / "x01070324.zip",
        {"X01070324.DBF": dbf_bytes([export_record(1)]), "X01070324_BIS.DBF": dbf_bytes([export_record(2)])},
    )


def _traversal(raw):
    _zip(_folder(raw) / "x01070324.zip", {"../../../fuera/X01070324.DBF": dbf_bytes([export_record(1)])})


def _truncated_dbf(raw):
    (_folder(raw) / "X01070324.DBF").write_bytes(dbf_bytes([export_record(k) for k in (1, 2, 3)])[:-200])


def _renamed_field(raw):
    fields = [("PARTNANDI", *f[1:]) if f[0] == "PART_NANDI" else f for f in EXPORT_DBF_FIELDS]
    (_folder(raw) / "X01070324.DBF").write_bytes(dbf_bytes([export_record(1)], fields=fields))


def _extra_field(raw):
    fields = EXPORT_DBF_FIELDS + [("OBSERVA", "C", 20, 0)]
    (_folder(raw) / "X01070324.DBF").write_bytes(dbf_bytes([{**export_record(1), "OBSERVA": "X"}], fields=fields))


def _garbage(raw):
    (_folder(raw) / "X01070324.DBF").write_bytes(random.Random(11).randbytes(4096))


def _text_as_dbf(raw):
    (_folder(raw) / "X01070324.DBF").write_bytes(b"cadu|fano|ndcl\n118|2024|000001\n")


def _spreadsheet_zip(raw, name="x01070324.zip"):
    wb = openpyxl.Workbook()
    wb.active.append(["CADU", "FANO"])
    wb.save(_folder(raw) / name)  # an xlsx is a zip: of XML, not of a DBF or a text file


def _unknown_code_page(raw):
    (_folder(raw) / "X01070324.DBF").write_bytes(dbf_bytes([export_record(1)], language_driver=0xEE))


def _bad_flag(raw):
    data = bytearray(dbf_bytes([export_record(1), export_record(2)]))
    header_len, reclen = struct.unpack("<HH", data[8:12])
    data[header_len + reclen] = 0
    (_folder(raw) / "X01070324.DBF").write_bytes(bytes(data))


DBF_CASES = [
    ("zip_truncado", _truncated_zip, ("falla", "x01070324.zip", "zip", None, "zip dañado")),
    (
        "zip_vacio",
        lambda raw: (_folder(raw) / "x01070324.zip").write_bytes(b""),
        ("falla", "x01070324.zip", "zip", None, "zip dañado"),
    ),
    ("zip_con_dos_dbf", _two_dbfs, ("falla", "x01070324.zip", "zip", None, "un solo .DBF")),
    ("zip_con_ruta_fuera_de_la_carpeta", _traversal, ("falla", "x01070324.zip", "zip_ruta", None, "../../../fuera")),
    (
        "hoja_de_calculo_en_vez_de_zip_dbf",
        _spreadsheet_zip,
        ("falla", "x01070324.zip", "zip", None, "no contiene un .DBF ni un .txt"),
    ),
    (
        "dbf_vacio",
        lambda raw: (_folder(raw) / "X01070324.DBF").write_bytes(b""),
        ("falla", "X01070324.DBF", "dbf", None, "no es un archivo dBase legible"),
    ),
    ("basura_binaria", _garbage, ("falla", "X01070324.DBF", "dbf", None, "no es un archivo dBase")),
    ("texto_con_extension_dbf", _text_as_dbf, ("falla", "X01070324.DBF", "dbf", None, "no es un archivo dBase")),
    ("dbf_truncado", _truncated_dbf, ("falla", "X01070324.DBF", "dbf_truncado", 2, "declara 3 registros")),
    ("campo_renombrado", _renamed_field, ("falla", "X01070324.DBF", "campos_dbf", None, "PART_NANDI")),
    (
        "pagina_de_codigos_desconocida",
        _unknown_code_page,
        ("falla", "X01070324.DBF", "dbf", None, "código de página dBase desconocido: 0xee"),
    ),
    ("solo_cabecera", lambda raw: write_export_week(raw, Y, "x01070324", []), ("carga", 0, [])),
    ("campo_extra", _extra_field, ("carga", 1, [])),
    ("marca_de_borrado_invalida", _bad_flag, ("carga", 1, [("X01070324.DBF", 2, "registro_dbf_malformado")])),
    (
        "clave_repetida_entre_semanas",
        lambda raw: (
            write_export_week(raw, Y, "x01070324", [export_record(1), export_record(2)]),
            write_export_week(raw, Y, "x08140324", [export_record(2, fob="5.00")]),
        ),
        ("carga", 2, [("x01070324.zip!X01070324.DBF", 2, "clave_duplicada")]),
    ),  # the newer week wins
    (
        "montos_negativo_y_no_numerico",
        lambda raw: write_export_week(
            raw, Y, "x01070324", [export_record(1, fob="-5.00"), export_record(2, fob="ABC"), export_record(3)]
        ),
        (
            "carga",
            1,
            [("x01070324.zip!X01070324.DBF", 1, "fob_no_negativo"), ("x01070324.zip!X01070324.DBF", 2, "tipo_de_dato")],
        ),
    ),
    (
        "codigos_fuera_de_dominio",
        lambda raw: write_export_week(
            raw, Y, "x01070324", [export_record(1, cadu="ZZZ"), export_record(2, nandina="12AB"), export_record(3)]
        ),
        (
            "carga",
            1,
            [
                ("x01070324.zip!X01070324.DBF", 1, "aduana_3_digitos"),
                ("x01070324.zip!X01070324.DBF", 2, "nandina_10_digitos"),
            ],
        ),
    ),
    # an unknown ubigeo keeps its line: its FOB counts for Peru, the warning check reports it (schema docstring)
    (
        "ubigeo_desconocido",
        lambda raw: write_export_week(raw, Y, "x01070324", [export_record(1, ubigeo="999998")]),
        ("carga", 1, []),
    ),
    # a week of 2021 in 2024's folder: refused by its name (its lines would fail fechas_del_anio one by one)
    (
        "archivo_de_otro_anio_en_la_carpeta",
        lambda raw: write_export_week(raw, Y, "x01070321", [export_record(1, fano="2021", date_value="20210301")]),
        ("falla", "x01070321.zip", "semana_de_otro_anio", None, "semana del 01/03/2021 al 07/03/2021, fuera de 2024"),
    ),
    (
        "nombre_con_sql",
        lambda raw: write_export_week(raw, Y, "x01070324", [export_record(1, nombre=SQL)]),
        ("carga", 1, []),
    ),
]


@pytest.mark.parametrize("build, expected", [c[1:] for c in DBF_CASES], ids=[c[0] for c in DBF_CASES])
def test_dbf_corpus(tmp_path, build, expected):
    build(tmp_path / "raw")
    _check(tmp_path, expected)


def _check(tmp_path, expected):
    if expected[0] == "falla":
        _, name, rule, line, says = expected
        assert_file_error(lambda: _stage(tmp_path), name=name, rule=rule, line=line, says=says)
        return
    _, accepted, quarantine = expected
    out = _stage(tmp_path)
    assert (out.accepted, out.quarantine) == (accepted, quarantine)


def test_dbf_name_holding_sql_is_stored_verbatim(tmp_path):
    write_export_week(tmp_path / "raw", Y, "x01070324", [export_record(1, nombre=SQL)])
    out = _stage(tmp_path)
    assert out.con.execute("SELECT exportador FROM staging.exportaciones").fetchall() == [(SQL,)]
    assert out.con.execute("SELECT count(*) FROM meta.fuentes").fetchone()[0] == 1


# --- the pipe delivery ------------------------------------------------------------------------------------------


def _ten_mb_line(raw):
    _pipe(raw, [{}], extra_lines=["A" * (10 << 20)])


def _mixed_encodings(raw):
    path = _pipe(raw, [{}])
    row = "|".join(export_pipe_row(2, fano="2024", date_value="20240315"))
    path.write_bytes(path.read_bytes() + row.encode("utf-8") + b"\n")  # one UTF-8 line in a latin-1 file


def _wrong_delimiter(raw):
    _pipe(raw, [{}], extra_lines=[",".join(export_pipe_row(2, fano="2024", date_value="20240315"))])


PIPE_CASES = [
    (
        "vacio",
        lambda raw: (_folder(raw) / "exportaciones_2024.txt").write_bytes(b""),
        ("falla", "exportaciones_2024.txt", "cabecera", 1, "archivo vacío"),
    ),
    (
        "basura_binaria",
        lambda raw: (_folder(raw) / "exportaciones_2024.txt").write_bytes(
            random.Random(7)
            .randbytes(4096)
            .replace(b"|", b"")
            .replace(b",", b"")
            .replace(b";", b"")
            .replace(b"\t", b"")
        ),
        ("falla", "exportaciones_2024.txt", "cabecera", 1, "no se reconoce el separador"),
    ),
    (
        "zip_con_dos_txt",
        lambda raw: _zip(_folder(raw) / "exportaciones_2024.zip", {"a.txt": b"x", "b.txt": b"y"}),
        ("falla", "exportaciones_2024.zip", "zip", None, "un solo archivo de datos"),
    ),
    (
        "zip_truncado",
        lambda raw: (
            _zip(_folder(raw) / "exportaciones_2024.zip", {"e.txt": b"cadu|x\n" * 500}),
            (_folder(raw) / "exportaciones_2024.zip").write_bytes(
                (_folder(raw) / "exportaciones_2024.zip").read_bytes()[:40]
            ),
        ),
        ("falla", "exportaciones_2024.zip", "zip", None, "zip dañado"),
    ),
    (
        "hoja_de_calculo_con_extension_txt",
        lambda raw: _spreadsheet_zip(raw, "exportaciones_2024.txt"),
        ("falla", "exportaciones_2024.txt", "zip", None, "el zip no contiene ningún archivo de datos"),
    ),
    (
        "columna_renombrada",
        lambda raw: _pipe(raw, [{}], header=["fob" if h == "vfobserdol" else h for h in EXPORT_PIPE_HEADER]),
        ("falla", "exportaciones_2024.txt", "cabecera", 1, "faltan columnas ['vfobserdol']"),
    ),
    ("solo_cabecera", lambda raw: _pipe(raw, []), ("carga", 0, [])),
    (
        "columna_extra",
        lambda raw: write_export_pipe(
            raw,
            Y,
            [export_pipe_row(1, fano="2024", date_value="20240315") + ["x"]],
            header=EXPORT_PIPE_HEADER + ["observacion"],
        ),
        ("carga", 1, []),
    ),
    (
        "separador_equivocado_en_una_linea",
        _wrong_delimiter,
        ("carga", 1, [("exportaciones_2024.txt", 3, "numero_de_campos")]),
    ),
    ("linea_de_10_mb", _ten_mb_line, ("carga", 1, [("exportaciones_2024.txt", 3, "numero_de_campos")])),
    # latin-1 decodes every byte: the UTF-8 line is read garbled ("ExportaciÃ³n Definitiva"), and the garbled
    # régimen sends it to quarantine; no row is lost or invented
    (
        "codificaciones_mezcladas",
        _mixed_encodings,  # a latin-1 file with a UTF-8 line: fails naming it
        ("falla", "exportaciones_2024.txt", "codificacion", 3, "codificación mixta"),
    ),
    (
        "clave_repetida",
        lambda raw: _pipe(raw, [export_pipe_row(1, fano="2024", date_value="20240315")] * 2),
        ("carga", 1, [("exportaciones_2024.txt", 3, "clave_duplicada")]),
    ),
    (
        "montos_negativo_y_no_numerico",
        lambda raw: _pipe(raw, [{"fob": "-1"}, {"fob": "1.000,50"}, {}]),
        ("carga", 1, [("exportaciones_2024.txt", 2, "fob_no_negativo"), ("exportaciones_2024.txt", 3, "tipo_de_dato")]),
    ),
    (
        "codigos_fuera_de_dominio",
        lambda raw: _pipe(raw, [{"regimen": "Importación"}, {"cadu": "ABC"}, {}]),
        (
            "carga",
            1,
            [
                ("exportaciones_2024.txt", 2, "regimen_exportacion_definitiva"),
                ("exportaciones_2024.txt", 3, "aduana_3_digitos"),
            ],
        ),
    ),
    ("ubigeo_desconocido", lambda raw: _pipe(raw, [{"ubigeo": "999998"}]), ("carga", 1, [])),
    (
        "archivo_de_otro_anio_en_la_carpeta",
        lambda raw: write_export_pipe(
            raw, Y, [export_pipe_row(1, fano="2020", date_value="20200315")], name="exportaciones_2020.txt"
        ),
        (
            "falla",
            "exportaciones_2020.txt",
            "lineas_de_otro_anio",
            None,
            "el 100 % de sus líneas son de 2020 (FANO) y está en la carpeta de 2024",
        ),
    ),
]


@pytest.mark.parametrize("build, expected", [c[1:] for c in PIPE_CASES], ids=[c[0] for c in PIPE_CASES])
def test_pipe_corpus(tmp_path, build, expected):
    build(tmp_path / "raw")
    _check(tmp_path, expected)


def test_file_name_holding_a_quote_and_sql_loads_correctly(tmp_path):
    """File-derived text never becomes SQL: the name reaches staging, quarantine and meta.fuentes as data."""
    name = "x'); DROP TABLE meta.fuentes; --.txt"
    path = _pipe(tmp_path / "raw", [{}, {"fob": "-1"}], name=name)
    out = _stage(tmp_path)
    assert (out.accepted, out.quarantine) == (1, [(name, 3, "fob_no_negativo")])
    # meta.fuentes names the file relative to raw/ (the analysts' file must not hold the operator's folders)
    assert out.con.execute(
        "SELECT archivo, filas_leidas, filas_aceptadas, filas_rechazadas FROM meta.fuentes"
    ).fetchall() == [(path.relative_to(tmp_path / "raw").as_posix(), 2, 1, 1)]
    assert out.con.execute("SELECT archivo FROM staging.exportaciones").fetchall() == [(str(path),)]


def test_pipe_file_name_with_glob_characters_reads_its_own_lines(tmp_path):
    """DuckDB's read_csv expands globs: read directly, `exportaciones_202[4].txt` gave the rows of
    `exportaciones_2024.txt` (found by this corpus); such a name is now read through the temp copy."""
    for name, ndcl in (("exportaciones_2024.txt", 1), ("exportaciones_202[4].txt", 2)):
        path = write_export_pipe(
            tmp_path / "raw", Y, [export_pipe_row(ndcl, fano="2024", date_value="20240315")], name=name
        )
        path.write_bytes(path.read_bytes().decode("latin-1").encode("utf-8"))  # UTF-8: DuckDB would read it itself
    out = _stage(tmp_path)
    got = out.con.execute(
        "SELECT regexp_extract(archivo, '[^/]+$'), ndcl FROM staging.exportaciones ORDER BY 1"
    ).fetchall()
    assert (got, out.quarantine) == ([("exportaciones_2024.txt", "000001"), ("exportaciones_202[4].txt", "000002")], [])


def test_zipped_dbf_whose_name_holds_a_quote_loads_correctly(tmp_path):
    folder = _folder(tmp_path / "raw")
    path = _zip(
        folder / "x01070324 '); DROP TABLE meta.fuentes; --.zip", {"X01070324'--.DBF": dbf_bytes([export_record(1)])}
    )
    out = _stage(tmp_path)
    assert out.accepted == 1
    assert out.con.execute("SELECT archivo FROM staging.exportaciones").fetchall() == [(f"{path}!X01070324'--.DBF",)]


# --- one whole refresh: a failing customs file leaves the analysts' file byte-identical ---------------------------


@pytest.mark.slow
def test_failing_customs_file_leaves_the_published_warehouse_byte_identical(scenario_raw, env):
    import hashlib

    from tests.support.builders import ruc
    from tests.support.runs import materialize, operator, query

    person = ruc("10", 41_999_999)  # a natural person exporting: personal data, never in the analysts' file
    week = write_export_week(
        scenario_raw,
        Y,
        "x01070324",
        [export_record(1, ruc_=person, nombre="QUISPE MAMANI JUAN"), export_record(2, fob="-1")],
    )
    warehouse = env(scenario_raw)
    assert materialize((2023, 2024)).success
    before = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    fuentes = query(
        warehouse,
        "SELECT filas_leidas, filas_aceptadas, filas_rechazadas FROM meta.fuentes WHERE fuente = 'exportaciones'",
    ).values.tolist()
    assert fuentes == [[2, 1, 1]]
    published = query(
        warehouse,
        "SELECT table_schema, table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR'",
    )
    for schema, table, column in published.itertuples(index=False):
        hits = query(
            warehouse,
            f"""SELECT count(*) AS n FROM {schema}.{table}
                                    WHERE "{column}" LIKE '%{person}%' OR "{column}" LIKE '%QUISPE%'""",
        )
        assert hits["n"][0] == 0, (schema, table, column)
    operator_before = query(operator(warehouse), "SELECT * FROM staging.exportaciones ORDER BY linea")

    write_export_week(scenario_raw, Y, "x08140324", [export_record(3)])
    broken = scenario_raw / "aduanas" / str(Y) / "x08140324.zip"
    broken.write_bytes(broken.read_bytes()[:-30])  # the weekly zip cut short: its central directory is gone
    result = materialize((2024, 2024))
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.event_specific_data.error.to_string()  # what `vraem refresh` prints: the file, the rule
    assert f"{broken}: zip dañado" in message and "[zip]" in message
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == before
    assert week.exists()
    # the operator database kept the year as it was: the failed asset wrote nothing
    after = query(operator(warehouse), "SELECT * FROM staging.exportaciones ORDER BY linea")
    assert after.equals(operator_before)


def test_header_names_holding_quotes_and_sql_are_identifiers_not_sql(tmp_path):
    """A reader that keeps a file's own header names (no fixed layout) quotes them as identifiers."""
    from vraem_pipeline.sources.textfiles import parse_delimited

    path = tmp_path / "cabecera.txt"
    path.write_text("cadu|a\"b|x'); DROP TABLE t; --\n118|1|2\n", encoding="utf-8")
    parsed = parse_delimited(path)
    assert parsed.header == ["cadu", 'a"b', "x'); DROP TABLE t; --"]
    assert parsed.frame.to_dict("records") == [{"cadu": "118", 'a"b': "1", "x'); DROP TABLE t; --": "2", "linea": 2}]


# --- a delivery without the line key (docs/sources.md#aduanas-entrega-produce) and files of another period ----------


def _without_key(raw: Path, rows: list[list[str]], year: int = Y, name: str | None = None) -> Path:
    return write_export_pipe(raw, year, rows, name=name or f"entrega_{year}.txt", header=EXPORT_PIPE_HEADER_WITHOUT_KEY)


def test_delivery_without_the_line_key_loads_every_line_once(tmp_path):
    """Exactly the pipe delivery's columns: refused before (`faltan columnas ['fano', 'ndcl', 'nser']`). Every line
    counts, two identical lines included (no key tells a repeat from a second shipment of the same goods); the rules
    still apply, the date rule on `femb` (no `fnum`)."""
    from vraem_pipeline.core.sqlrules import table_failures

    same = export_pipe_row_without_key(femb="20240315", freg="20240402")
    path = _without_key(
        tmp_path / "raw",
        [
            same,  # l2 accepted
            same,  # l3 accepted: the same text, not a repeat
            export_pipe_row_without_key(femb="20210105"),  # l4 fechas_del_anio (2021 < 2023)
            export_pipe_row_without_key(femb="0", freg="20240110"),  # l5 accepted: no femb, freg is not a date rule's
            export_pipe_row_without_key(femb="20240315", fob="-1"),  # l6 fob_no_negativo
        ],
    )
    out = _stage(tmp_path)
    assert (out.accepted, out.quarantine) == (
        3,
        [("entrega_2024.txt", 4, "fechas_del_anio"), ("entrega_2024.txt", 6, "fob_no_negativo")],
    )
    staged = out.con.execute(
        "SELECT linea, cadu, fano, ndcl, nser, fecha_numeracion, fecha_embarque::VARCHAR, "
        "ruc_exportador, nandina, fob_usd FROM staging.exportaciones ORDER BY linea"
    ).fetchall()
    assert staged == [
        (2, "118", None, None, None, None, "2024-03-15", None, "2603000000", 1000.0),
        (3, "118", None, None, None, None, "2024-03-15", None, "2603000000", 1000.0),
        (5, "118", None, None, None, None, None, None, "2603000000", 1000.0),
    ]
    fuentes = out.con.execute(
        "SELECT archivo, filas_leidas, filas_aceptadas, filas_rechazadas, filas_duplicadas, nota FROM meta.fuentes"
    ).fetchall()
    assert [f[:5] for f in fuentes] == [(path.relative_to(tmp_path / "raw").as_posix(), 5, 3, 2, 0)]
    assert "sin clave de línea (fano, ndcl, nser): no se pudo detectar si hay líneas repetidas" in fuentes[0][5]
    assert table_failures(out.con, "staging.exportaciones", EXPORTACIONES, [Y]).empty  # the blocking check agrees


@pytest.mark.parametrize("other", ["semanal", "entrega_con_clave", "otra_entrega_sin_clave"])
def test_delivery_without_the_line_key_beside_another_export_file_refuses_the_year(tmp_path, other):
    raw = tmp_path / "raw"
    _without_key(raw, [export_pipe_row_without_key(femb="20240315")], name="entrega_2024.txt")
    name = {
        "semanal": "x01070324.zip",
        "entrega_con_clave": "exportaciones_2024.txt",
        "otra_entrega_sin_clave": "entrega_2024_12.txt",
    }[other]
    if other == "semanal":
        write_export_week(raw, Y, "x01070324", [export_record(1)])
    elif other == "entrega_con_clave":
        _pipe(raw, [{}])
    else:
        _without_key(raw, [export_pipe_row_without_key(femb="20241215")], name=name)
    err = assert_file_error(
        lambda: _stage(tmp_path),
        name="entrega_2024.txt",
        rule="entrega_sin_clave_mezclada",
        line=None,
        says=f"junto a otros archivos de exportación del año: {name}",
    )
    assert "solo los archivos semanales o solo la entrega" in str(err)


def test_keyed_delivery_line_missing_a_key_part_is_quarantined(tmp_path):
    """A file that has the key columns must give every line its key: a blank part could hide a repeat."""

    def without(ndcl: int, *blank: int) -> list[str]:
        row = export_pipe_row(ndcl, fano="2024", date_value="20240315")
        for i in blank:  # EXPORT_PIPE_HEADER: fano 2, ndcl 3, nser 4
            row[i] = ""
        return row

    _pipe(tmp_path / "raw", [without(1), without(2, 4), without(3, 3), without(4, 2, 3, 4), without(5)])
    write_export_week(tmp_path / "raw", Y, "x01070324", [export_record(6), {**export_record(7), "NSER": ""}])
    out = _stage(tmp_path)
    assert (out.accepted, out.quarantine) == (
        3,
        [
            ("exportaciones_2024.txt", 3, "clave_incompleta"),  # nser blank
            ("exportaciones_2024.txt", 4, "clave_incompleta"),  # ndcl blank
            ("exportaciones_2024.txt", 5, "clave_incompleta"),  # all three blank, in a file with the key
            ("x01070324.zip!X01070324.DBF", 2, "clave_incompleta"),
        ],
    )
    got = out.con.execute(
        "SELECT linea, columna, valor FROM quarantine.exportaciones WHERE linea IN (3, 5) "
        "AND archivo LIKE '%.txt' ORDER BY linea"
    ).fetchall()
    assert got == [
        (3, "fano, ndcl, nser", "fano=2024, ndcl=000002, nser="),
        (5, "", "CLAVE VACIA: sin fano, ndcl ni nser en un archivo con la clave de línea"),
    ]


def test_weekly_zip_of_another_year_is_refused_naming_its_week_and_the_folder_year(tmp_path):
    """`x01070122.zip` (1–7 January 2022, its lines' FANO 2022) copied into 2023's folder: its lines were all within
    2023 ± 1 and were counted in 2023."""
    write_export_week(
        tmp_path / "raw", 2023, "x01070122", [export_record(k, fano="2022", date_value="20220103") for k in (1, 2)]
    )
    assert_file_error(
        lambda: stage_year(tmp_path, "exportaciones", EXPORTACIONES, 2023, find_exportaciones_year),
        name="x01070122.zip",
        rule="semana_de_otro_anio",
        line=None,
        says="el nombre indica la semana del 01/01/2022 al 07/01/2022, fuera de 2023, el año de su carpeta",
    )


@pytest.mark.parametrize("name", ["x28030124", "x28031223"])  # the name's month: the last day's, or the first's
@pytest.mark.parametrize("year", [2023, 2024])
def test_week_across_new_year_belongs_to_either_year(tmp_path, name, year):
    """28 December 2023 – 3 January 2024 touches both years: it is accepted in either folder, and its lines, mostly
    DAMs of 2024, are not taken for a misplaced file in 2023's folder."""
    write_export_week(
        tmp_path / "raw",
        year,
        name,
        [
            export_record(1, fano="2023", date_value="20231229"),
            export_record(2, fano="2024", date_value="20240102"),
            export_record(3, fano="2024", date_value="20240103"),
        ],
    )
    out = stage_year(tmp_path, "exportaciones", EXPORTACIONES, year, find_exportaciones_year)
    assert (out.accepted, out.quarantine) == (3, [])


@pytest.mark.parametrize(
    "name, fanos, expected",
    [
        # 2 of 4 lines of another year: half, not more than half → the file is the folder's, its lines are checked
        ("exportaciones_2024.txt", ["2024", "2024", "2023", "2023"], ("carga", 4, [])),
        # 3 of 4 → refused (the lines' dates, 2023, are within 2024 ± 1: every one would have counted in 2024)
        (
            "exportaciones_2024.txt",
            ["2024", "2023", "2023", "2023"],
            (
                "falla",
                "exportaciones_2024.txt",
                "lineas_de_otro_anio",
                None,
                "el 75 % de sus líneas son de 2023 (FANO) y está en la carpeta de 2024",
            ),
        ),
        (
            "exportaciones_2024.txt",
            ["2022", "2023", "2023", "2023"],
            (
                "falla",
                "exportaciones_2024.txt",
                "lineas_de_otro_anio",
                None,
                "el 100 % de sus líneas son de 2023, 2022",
            ),
        ),
    ],
)
def test_delivery_whose_lines_are_of_another_year_is_refused(tmp_path, name, fanos, expected):
    rows = [export_pipe_row(i + 1, fano=f, date_value=f"{f}1215") for i, f in enumerate(fanos)]
    write_export_pipe(tmp_path / "raw", Y, rows, name=name)
    _check(tmp_path, expected)


def test_delivery_without_the_key_whose_dates_are_of_another_year_is_refused(tmp_path):
    _without_key(
        tmp_path / "raw",
        [
            export_pipe_row_without_key(femb="20221115"),
            export_pipe_row_without_key(femb="20221120"),
            export_pipe_row_without_key(femb="0"),
        ],
    )  # a line without a date is not counted
    assert_file_error(
        lambda: _stage(tmp_path),
        name="entrega_2024.txt",
        rule="lineas_de_otro_anio",
        line=None,
        says="el 100 % de sus líneas son de 2022 (fecha de numeración o de embarque) y está en la carpeta de 2024",
    )


@pytest.mark.parametrize(
    "week, expected",
    [
        # a January week may hold mostly DAMs numbered in December (shipped, regularized in January)
        ("x01070124", ("carga", 4, [])),
        # a March week of DAMs of the year before is a file of that year under another name
        (
            "x01070324",
            ("falla", "x01070324.zip", "lineas_de_otro_anio", None, "el 75 % de sus líneas son de 2023 (FANO)"),
        ),
        # a name that is not a date keeps the check of its lines alone (and no name check)
        (
            "x31310224",
            ("falla", "x31310224.zip", "lineas_de_otro_anio", None, "el 75 % de sus líneas son de 2023 (FANO)"),
        ),
    ],
)
def test_weekly_file_lines_of_the_year_before(tmp_path, week, expected):
    write_export_week(
        tmp_path / "raw",
        Y,
        week,
        [
            export_record(1, fano="2023", date_value="20231228"),
            export_record(2, fano="2023", date_value="20231229"),
            export_record(3, fano="2023", date_value="20231230"),
            export_record(4, fano="2024", date_value="20240102"),
        ],
    )
    _check(tmp_path, expected)
