"""Bad-input corpus of the SUNAT Padrón RUC cut and the declared-sales file: each broken file, written in SUNAT's
formats (zip or CSV, `|`/latin-1 or `,`/UTF-8 with BOM; pipe text for sales), either sends its lines to
quarantine with their rule and line while the rest is staged, or fails with one line naming the file, the line
and the rule. Each case runs the staging asset's own steps for one year (find → load into DuckDB → SQL rules →
stage → meta.fuentes) on a tmp operator database; rows read = accepted + rejected.

Physical lines: the header is line 1, the i-th data row (0-based) is line i + 2.
"""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import pytest

from tests.support.builders import bad_ruc, padron_bytes, padron_row, ruc, write_padron, write_ventas
from tests.support.corpus_staging import stage_year
from vraem_pipeline.core.errors import SourceFileError
from vraem_pipeline.empresas import schema as schemas
from vraem_pipeline.empresas.inputs import find_padron_year, find_ventas_year

YEAR = 2024
N_ROWS = 6
SOURCES = {
    "padron": ("padron_ruc", schemas.PADRON, find_padron_year),
    "ventas": ("ventas_declaradas", schemas.VENTAS, find_ventas_year),
}


def stage(raw: Path, source: str, tmp_path: Path):
    """The staging asset's steps for one year (`corpus_staging.stage_year`, which also checks read = accepted +
    rejected per file): (quarantine (linea, regla), staged rows as dicts, rows read)."""
    fuente, schema, find_year = SOURCES[source]
    assert raw == tmp_path / "raw"
    out = stage_year(tmp_path, fuente, schema, YEAR, find_year)
    try:
        rows = out.con.execute(f"SELECT * FROM staging.{fuente} ORDER BY linea").df().to_dict("records")
    finally:
        out.con.close()
    assert out.accepted == len(rows)
    return [(line, rule) for _, line, rule in out.quarantine], rows, sum(r.read_rows for r in out.reads)


# --- Padrón RUC -----------------------------------------------------------------------------------------------


def firms(changes: dict[int, dict[int, str]] | None = None) -> list[list[str]]:
    """N_ROWS valid firms, field j of row i replaced by `changes[i][j]`."""
    rows = [padron_row(ruc("20", i + 1)) for i in range(N_ROWS)]
    for i, change in (changes or {}).items():
        for j, value in change.items():
            rows[i][j] = value
    return rows


def padron_file(
    raw: Path,
    data: bytes,
    *,
    zipped: bool = False,
    members: tuple[str, ...] = ("PadronRUC_202412.csv",),
    name: str = "PadronRUC_202412",
) -> Path:
    folder = raw / "sunat" / "padron" / str(YEAR)
    folder.mkdir(parents=True, exist_ok=True)
    if not zipped:
        path = folder / f"{name}.csv"
        path.write_bytes(data)
        return path
    path = folder / f"{name}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member in members:
            zf.writestr(member, data)
    return path


ACTIVITY, UBIGEO, N_WORKERS = 6, 11, 7


def _bom_with_one_bad_byte(raw):
    """UTF-8 with BOM (SUNAT's `,` cut), one 0xFF in an activity on line 5: that line, not the header, is wrong."""
    data = padron_bytes(firms({3: {ACTIVITY: "CULTIVO DE PAPA"}}), "comma")
    padron_file(raw, data.replace(b"CULTIVO DE PAPA", b"CULTIVO DE \xffPAPA"))


def _mixed_encodings(raw):
    """UTF-8 on line 3, latin-1 on line 6 (inside the zip): line 6 is quarantined, line 3 staged as written."""
    data = padron_bytes(firms({1: {ACTIVITY: "CRÍA DE GANADO BOVINO"}, 4: {ACTIVITY: "CRÍA DE OVEJAS"}}), "comma")
    data = data.replace("CRÍA DE OVEJAS".encode(), "CRÍA DE OVEJAS".encode("latin-1"))
    padron_file(raw, data, zipped=True)


def _long_line(raw):
    """A 10 MB line with no delimiter on line 4 (a blob pasted into the export)."""
    lines = padron_bytes(firms(), "pipe").split(b"\r\n")
    lines.insert(3, b"X" * (10 << 20))
    padron_file(raw, b"\r\n".join(lines), zipped=True)


def _data_with_other_delimiter(raw):
    lines = padron_bytes(firms(), "pipe").split(b"\r\n")
    lines[2] = lines[2].replace(b"|", b";")  # line 3
    padron_file(raw, b"\r\n".join(lines))


SQL = "'); DROP TABLE staging.padron_ruc; --"

PADRON_QUARANTINE = {
    # id: (writer, [(linea, regla)], rows read)
    "bom_y_un_byte_no_utf8": (_bom_with_one_bad_byte, [(5, "codificacion")], 6),
    "codificacion_mixta_en_zip": (_mixed_encodings, [(6, "codificacion")], 6),
    "campo_de_mas": (
        lambda raw: write_padron(raw, YEAR, 12, firms(), extra_lines={2: padron_row(ruc("20", 50)) + ["X"]}),
        [(4, "numero_de_campos")],
        7,
    ),
    "campo_de_menos": (
        lambda raw: write_padron(raw, YEAR, 12, firms(), extra_lines={5: padron_row(ruc("20", 51))[:15]}),
        [(7, "numero_de_campos")],
        7,
    ),
    "ruc_duplicado": (
        lambda raw: write_padron(raw, YEAR, 12, firms({5: {0: ruc("20", 1)}})),
        [(7, "clave_duplicada")],
        6,
    ),
    "digito_verificador": (
        lambda raw: write_padron(raw, YEAR, 12, firms({2: {0: bad_ruc("20", 3)}})),
        [(4, "ruc_digito_verificador")],
        6,
    ),
    "ubigeo_no_numerico": (
        lambda raw: write_padron(raw, YEAR, 12, firms({0: {UBIGEO: "AYAC01"}})),
        [(2, "ubigeo_6_digitos")],
        6,
    ),
    "trabajadores_en_letras": (
        lambda raw: write_padron(raw, YEAR, 12, firms({1: {N_WORKERS: "DIEZ"}})),
        [(3, "nro_trab_entero")],
        6,
    ),
    "linea_de_10_mb": (_long_line, [(4, "numero_de_campos")], 7),
    "otro_separador_en_una_linea": (_data_with_other_delimiter, [(3, "numero_de_campos")], 6),
    "ruc_con_sql": (
        lambda raw: write_padron(raw, YEAR, 12, firms({4: {0: SQL}}), dialect="comma"),
        [(6, "ruc_formato; ruc_digito_verificador")],
        6,
    ),
}


@pytest.mark.parametrize("case", sorted(PADRON_QUARANTINE))
def test_padron_bad_lines_go_to_quarantine_with_their_rule_and_line(tmp_path, case):
    write, expected, read = PADRON_QUARANTINE[case]
    raw = tmp_path / "raw"
    write(raw)
    quarantine, rows, read_rows = stage(raw, "padron", tmp_path)
    assert quarantine == expected
    assert read_rows == read and len(rows) == read - len(expected)


def test_padron_text_is_staged_as_written_around_a_mixed_line(tmp_path):
    raw = tmp_path / "raw"
    _mixed_encodings(raw)
    _, rows, _ = stage(raw, "padron", tmp_path)
    assert {r["linea"]: r["actividad_ciiu4"] for r in rows}[3] == "CRÍA DE GANADO BOVINO"


def test_padron_sql_in_a_text_field_is_only_text(tmp_path):
    raw = tmp_path / "raw"
    write_padron(raw, YEAR, 12, firms({0: {ACTIVITY: SQL}}), dialect="comma")
    quarantine, rows, _ = stage(raw, "padron", tmp_path)
    assert quarantine == [] and len(rows) == N_ROWS and rows[0]["actividad_ciiu4"] == SQL


def _garbage_in_zip(raw):
    """4 KB of random bytes written over the middle of the compressed member."""
    path = padron_file(raw, padron_bytes([padron_row(ruc("20", i)) for i in range(1, 3000)], "pipe"), zipped=True)
    data = bytearray(path.read_bytes())
    data[200 : 200 + 4096] = random.Random(200).randbytes(4096)
    path.write_bytes(bytes(data))


def _truncated_zip(raw):
    path = padron_file(raw, padron_bytes(firms(), "pipe"), zipped=True)
    path.write_bytes(path.read_bytes()[:-40])  # the central directory is gone


def _xlsx_named_csv(raw):
    folder = raw / "sunat" / "padron" / str(YEAR)
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(folder / "PadronRUC_202412.csv", "w") as zf:  # a workbook: a zip of XML parts
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")


def _renamed_column(raw):
    data = padron_bytes(firms(), "pipe")
    padron_file(raw, data.replace(b"|UBIGEO|", b"|COD_UBIGEO|", 1))


PADRON_FAILING = {
    # id: (writer, file name in the message, line, rule)
    "vacio": (lambda raw: padron_file(raw, b""), "PadronRUC_202412.csv", 1, "cabecera"),
    "solo_cabecera": (lambda raw: padron_file(raw, padron_bytes([], "pipe")), "PadronRUC_202412.csv", 1, "sin_filas"),
    "columna_renombrada": (_renamed_column, "PadronRUC_202412.csv", 1, "cabecera"),
    "basura_binaria": (lambda raw: padron_file(raw, bytes(range(256)) * 64), "PadronRUC_202412.csv", 1, "cabecera"),
    "zip_con_dos_archivos": (
        lambda raw: padron_file(
            raw, padron_bytes(firms(), "pipe"), zipped=True, members=("PadronRUC_202412.csv", "PadronRUC_202411.csv")
        ),
        "PadronRUC_202412.zip",
        None,
        "zip",
    ),
    "zip_con_basura": (_garbage_in_zip, "PadronRUC_202412.zip", None, "zip"),
    "zip_truncado": (_truncated_zip, "PadronRUC_202412.zip", None, "zip"),
    "hoja_de_calculo_como_csv": (_xlsx_named_csv, "PadronRUC_202412.csv", None, "zip"),
    "corte_en_carpeta_de_otro_anio": (
        lambda raw: padron_file(raw, padron_bytes(firms(), "pipe"), name="PadronRUC_202312"),
        "PadronRUC_202312.csv",
        None,
        "corte_del_anio",
    ),
    "latin1_con_texto_utf8": (
        lambda raw: padron_file(
            raw,
            padron_bytes(firms({0: {ACTIVITY: "AÑIL"}, 3: {ACTIVITY: "CRÍA"}}), "pipe").replace(
                "CRÍA".encode("latin-1"), "CRÍA".encode()
            ),
        ),
        "PadronRUC_202412.csv",
        5,
        "codificacion",
    ),
}


def _assert_one_line(err: SourceFileError, file_name: str, line: int | None, rule: str) -> None:
    message = str(err)
    assert (err.rule, err.line) == (rule, line), message
    assert "\n" not in message and message.startswith(str(err.path)), message
    assert Path(str(err.path).split("!")[0]).name == file_name
    assert f"[{rule}]" in message and (line is None or f"línea {line}" in message)


# --- declared sales -------------------------------------------------------------------------------------------


def sales(changes: dict[int, tuple] | None = None) -> list[tuple]:
    rows = [(ruc("20", i + 1), YEAR, f"{1000 * (i + 1)}.50") for i in range(N_ROWS)]
    for i, row in (changes or {}).items():
        rows[i] = row
    return rows


def _sales_file(raw, text: bytes, name: str = f"ventas_{YEAR}.txt") -> Path:
    folder = raw / "sunat" / "ventas" / str(YEAR)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text)
    return path


VENTAS_QUARANTINE = {
    "infinito_1e400": ({1: (ruc("20", 2), YEAR, "1e400")}, [(3, "valor_finito")]),
    "infinito_negativo": ({2: (ruc("20", 3), YEAR, "-1e400")}, [(4, "ventas_no_negativas; valor_finito")]),
    "nan": ({3: (ruc("20", 4), YEAR, "NaN")}, [(5, "valor_finito")]),
    "inf_en_texto": ({4: (ruc("20", 5), YEAR, "Infinity")}, [(6, "valor_finito")]),
    "negativo": ({0: (ruc("20", 1), YEAR, "-5.00")}, [(2, "ventas_no_negativas")]),
    "no_numerico": ({5: (ruc("20", 6), YEAR, "1.234,50")}, [(7, "tipo_de_dato")]),
    "ejercicio_de_otro_anio": ({1: (ruc("20", 2), YEAR - 1, "10.00")}, [(3, "ejercicio_del_anio")]),
    "ruc_duplicado": ({5: (ruc("20", 1), YEAR, "10.00")}, [(7, "clave_duplicada")]),
    "ruc_con_sql": (
        {2: ("'); DROP TABLE staging.ventas_declaradas; --", YEAR, "10.00")},
        [(4, "ruc_formato; ruc_digito_verificador")],
    ),
}


@pytest.mark.parametrize("case", sorted(VENTAS_QUARANTINE))
def test_sales_bad_lines_go_to_quarantine_with_their_rule_and_line(tmp_path, case):
    changes, expected = VENTAS_QUARANTINE[case]
    raw = tmp_path / "raw"
    write_ventas(raw, YEAR, sales(changes))
    quarantine, rows, read_rows = stage(raw, "ventas", tmp_path)
    assert quarantine == expected
    assert read_rows == N_ROWS and len(rows) == N_ROWS - len(expected)
    assert all(r["ventas_netas"] is None or abs(r["ventas_netas"]) < 1e300 for r in rows)


def test_sales_extra_field_is_a_bad_line(tmp_path):
    raw = tmp_path / "raw"
    write_ventas(raw, YEAR, sales(), extra_lines=[f"{ruc('20', 40)}|{YEAR}|10.00|SOBRA"])  # line 8
    quarantine, rows, read_rows = stage(raw, "ventas", tmp_path)
    assert quarantine == [(8, "numero_de_campos")] and read_rows == N_ROWS + 1 and len(rows) == N_ROWS


def _sales_zip(raw, members):
    folder = raw / "sunat" / "ventas" / str(YEAR)
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(folder / f"ventas_{YEAR}.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for m in members:
            zf.writestr(m, b"RUC|EJERCICIO|VENTAS_NETAS\n")


VENTAS_FAILING = {
    "vacio": (lambda raw: _sales_file(raw, b""), f"ventas_{YEAR}.txt", 1, "cabecera"),
    "solo_cabecera": (
        lambda raw: _sales_file(raw, b"RUC|EJERCICIO|VENTAS_NETAS\r\n"),
        f"ventas_{YEAR}.txt",
        1,
        "sin_filas",
    ),
    "columna_renombrada": (
        lambda raw: _sales_file(raw, b"RUC|EJERCICIO|VENTAS\n20100000001|2024|1.00\n"),
        f"ventas_{YEAR}.txt",
        1,
        "cabecera",
    ),
    "columna_faltante": (
        lambda raw: _sales_file(raw, b"RUC|VENTAS_NETAS\n20100000001|1.00\n"),
        f"ventas_{YEAR}.txt",
        1,
        "cabecera",
    ),
    "basura_binaria": (lambda raw: _sales_file(raw, bytes(range(256)) * 8), f"ventas_{YEAR}.txt", 1, "cabecera"),
    "zip_con_dos_archivos": (
        lambda raw: _sales_zip(raw, ["ventas_2024.txt", "copia/ventas_2024.txt"]),
        f"ventas_{YEAR}.zip",
        None,
        "zip",
    ),
    "dos_entregas": (
        lambda raw: (_sales_file(raw, b"RUC|EJERCICIO|VENTAS_NETAS\n"), _sales_zip(raw, ["ventas_2024.txt"])),
        str(YEAR),
        None,
        "archivo_unico",
    ),
}


FAILING = {
    **{("padron", case): spec for case, spec in PADRON_FAILING.items()},
    **{("ventas", case): spec for case, spec in VENTAS_FAILING.items()},
}


@pytest.mark.parametrize(("source", "case"), sorted(FAILING), ids=[f"{s}-{c}" for s, c in sorted(FAILING)])
def test_unreadable_file_fails_in_one_line_naming_file_line_and_rule(tmp_path, source, case):
    write, file_name, line, rule = FAILING[(source, case)]
    raw = tmp_path / "raw"
    write(raw)
    with pytest.raises(SourceFileError) as info:
        stage(raw, source, tmp_path)
    _assert_one_line(info.value, file_name, line, rule)


def test_padron_mixed_encodings_with_records_spanning_lines_fail_naming_the_line(tmp_path):
    """Records spanning lines are read by the csv module, which cannot set a line aside: the file fails naming the
    first line that is not UTF-8 (7) instead of being read again as latin-1 (`CRÃ\x8dA`)."""
    rows = firms({0: {ACTIVITY: "CRÍA DE GANADO\nBOVINO"}, 4: {ACTIVITY: "CRÍA DE OVEJAS"}})
    data = padron_bytes(rows, "comma").replace("CRÍA DE OVEJAS".encode(), "CRÍA DE OVEJAS".encode("latin-1"))
    raw = tmp_path / "raw"
    padron_file(raw, data)
    with pytest.raises(SourceFileError) as info:
        stage(raw, "padron", tmp_path)
    _assert_one_line(info.value, "PadronRUC_202412.csv", 7, "codificacion")


# --- what the rows say about their period against the name (sources/periodos.py) -------------------------------

PERIOD = 15  # PERIODO_PUBLICACION


def periods(values: list[str]) -> list[list[str]]:
    """N_ROWS valid firms whose PERIODO_PUBLICACION are `values`, in order."""
    return firms({i: {PERIOD: v} for i, v in enumerate(values)})


PADRON_PERIOD_ACCEPTED = {
    # id: (the six rows' PERIODO_PUBLICACION in PadronRUC_202412, [(linea, regla)])
    "todas_del_corte": (["202412"] * 6, []),
    "una_de_otro_anio": (["202412"] * 5 + ["202312"], [(7, "periodo_publicacion_del_anio")]),
    "otro_mes_del_mismo_anio": (["202412"] * 5 + ["202411"], []),  # the row's year is the folder's: kept
    "la_mitad_de_otro_periodo": (
        ["202412"] * 3 + ["202312"] * 3,  # the boundary: half is not the bulk
        [(5, "periodo_publicacion_del_anio"), (6, "periodo_publicacion_del_anio"), (7, "periodo_publicacion_del_anio")],
    ),
    "sin_periodo": (["-"] * 5 + [""], []),  # SUNAT's empty: the row is its cut's, it counts for no period
    "mal_formado": (["202412"] * 5 + ["2024-12"], [(7, "periodo_aaaamm")]),  # the format's rule, not the year's
}


@pytest.mark.parametrize("case", sorted(PADRON_PERIOD_ACCEPTED))
def test_padron_rows_of_another_period_are_quarantined_while_they_are_not_the_bulk(tmp_path, case):
    values, expected = PADRON_PERIOD_ACCEPTED[case]
    raw = tmp_path / "raw"
    write_padron(raw, YEAR, 12, periods(values))
    quarantine, rows, read_rows = stage(raw, "padron", tmp_path)
    assert quarantine == expected and read_rows == N_ROWS and len(rows) == N_ROWS - len(expected)
    if case == "sin_periodo":
        assert all(r["periodo_publicacion"] is None for r in rows)


PADRON_PERIOD_REFUSED = {
    # id: (the six rows' PERIODO_PUBLICACION in PadronRUC_202412, the rows' period, "n de m")
    "el_corte_de_2023_con_nombre_de_2024": (["202312"] * 6, "202312", "6 de 6"),  # 2023's cut under 2024's name
    "mas_de_la_mitad": (["202412"] * 2 + ["202312"] * 4, "202312", "4 de 6"),
    "otro_mes_del_mismo_anio": (["202406"] * 6, "202406", "6 de 6"),  # the name's AAAAMM, not only its year
    "las_que_dicen_periodo_son_de_otro": (["-"] * 4 + ["202312"] * 2, "202312", "2 de 2"),  # missing: no vote
}


@pytest.mark.parametrize("case", sorted(PADRON_PERIOD_REFUSED))
def test_padron_cut_whose_rows_are_mostly_of_another_period_is_refused_naming_both(tmp_path, case):
    values, rows_period, count = PADRON_PERIOD_REFUSED[case]
    raw = tmp_path / "raw"
    path = write_padron(raw, YEAR, 12, periods(values), zipped=True)
    with pytest.raises(SourceFileError) as info:
        stage(raw, "padron", tmp_path)
    _assert_one_line(info.value, "PadronRUC_202412.zip", None, "periodo_de_las_filas")
    assert str(info.value).startswith(
        f"{path}: el nombre dice el corte 202412 pero sus filas dicen {rows_period}: "
        f"{count} filas con PERIODO_PUBLICACION"
    )
    assert "(se rechaza el archivo si pasan del 50 %)" in str(info.value)


def test_padron_cut_of_another_year_anywhere_in_the_folder_is_refused(tmp_path):
    """A 2023 cut beside the June 2024 cut used to pass as an earlier cut of 2024 (and June closed 2024 silently):
    any cut of another year in the folder is refused, naming it, even when it is not the one read."""
    raw = tmp_path / "raw"
    write_padron(raw, YEAR, 6, periods(["202406"] * 6))
    stray = write_padron(raw, YEAR - 1, 12, periods(["202312"] * 6))
    stray = stray.rename(raw / "sunat" / "padron" / str(YEAR) / stray.name)
    with pytest.raises(SourceFileError) as info:
        stage(raw, "padron", tmp_path)
    _assert_one_line(info.value, "PadronRUC_202312.zip", None, "corte_del_anio")
    assert str(info.value) == (
        f"{stray}: el corte 202312 no pertenece al año {YEAR} de la carpeta: muévalo a la "
        "carpeta de su año [corte_del_anio]"
    )


@pytest.mark.parametrize(
    ("months", "read", "nota"),
    [
        (
            (1, 6),
            "PadronRUC_202406.zip",
            "corte 202406, no el cierre de diciembre; cortes anteriores ignorados: PadronRUC_202401.zip",
        ),  # January of the folder's year: its own, kept
        ((6, 12), "PadronRUC_202412.zip", "corte 202412; cortes anteriores ignorados: PadronRUC_202406.zip"),
    ],
)
def test_padron_latest_cut_of_the_folders_year_wins_and_says_when_it_is_not_december(tmp_path, months, read, nota):
    raw = tmp_path / "raw"
    for month in months:
        write_padron(raw, YEAR, month, periods([f"{YEAR}{month:02d}"] * 6))
    out = stage_year(tmp_path, "padron_ruc", schemas.PADRON, YEAR, find_padron_year)
    out.con.close()
    [source] = out.reads
    assert (source.path.name, source.nota, source.accepted_rows) == (read, nota, N_ROWS)


def test_padron_period_rule_gives_the_same_verdict_in_sql_and_in_pandas():
    """The schema rule `periodo_publicacion_del_anio`, one row per branch, against pandera's pandas backend."""
    import duckdb
    import pandas as pd

    from vraem_pipeline.core.quality import split_valid
    from vraem_pipeline.core.sqlrules import rules

    values = ["202412", "202401", "202312", "202501", None, "2024-12"]
    expected = [True, True, False, False, True, True]  # a malformed period is the format rule's, not this one's
    frame = pd.DataFrame(
        [
            dict(
                zip(
                    schemas.PADRON.columns,
                    [ruc("20", i + 1), "ACTIVO", None, None, None, None, None, None, v, YEAR, "f", i + 2],
                    strict=False,
                )
            )
            for i, v in enumerate(values)
        ]
    )
    [rule] = [r for r in rules(schemas.PADRON, from_text=False)[1] if r.regla == "periodo_publicacion_del_anio"]
    con = duckdb.connect()
    con.register("filas", frame)
    assert [ok for (ok,) in con.execute(f"SELECT {rule.ok} FROM filas ORDER BY linea").fetchall()] == expected
    rejected = split_valid(frame, schemas.PADRON, anio=YEAR, source="f").rejected
    failing = set(rejected.loc[rejected["regla"].str.contains("periodo_publicacion_del_anio"), "linea"])
    assert [line not in failing for line in frame["linea"]] == expected


# --- declared sales: the rows' EJERCICIO against the name's year ---------------------------------------------


@pytest.mark.parametrize(
    ("other", "quarantined"),
    [
        (0, []),
        (3, [(2, "ejercicio_del_anio"), (3, "ejercicio_del_anio"), (4, "ejercicio_del_anio")]),  # half: the boundary
    ],
)
def test_sales_rows_of_another_year_are_quarantined_while_they_are_not_the_bulk(tmp_path, other, quarantined):
    raw = tmp_path / "raw"
    write_ventas(raw, YEAR, sales({i: (ruc("20", i + 1), YEAR - 1, "10.00") for i in range(other)}))
    quarantine, rows, read_rows = stage(raw, "ventas", tmp_path)
    assert quarantine == quarantined and read_rows == N_ROWS and len(rows) == N_ROWS - other


@pytest.mark.parametrize(("other", "count"), [(6, "6 de 6"), (4, "4 de 6")])
def test_sales_file_of_another_fiscal_year_is_refused_naming_both_years(tmp_path, other, count):
    """`ventas_2024.txt` holding 2023's declarations would stage a year with no sales: refused."""
    raw = tmp_path / "raw"
    path = write_ventas(raw, YEAR, sales({i: (ruc("20", i + 1), YEAR - 1, "10.00") for i in range(other)}))
    with pytest.raises(SourceFileError) as info:
        stage(raw, "ventas", tmp_path)
    _assert_one_line(info.value, f"ventas_{YEAR}.txt", None, "periodo_de_las_filas")
    assert str(info.value).startswith(
        f"{path}: el nombre dice el ejercicio {YEAR} pero sus filas dicen {YEAR - 1}: {count} filas con EJERCICIO"
    )
