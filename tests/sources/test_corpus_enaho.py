"""Bad-input corpus of ENAHO modules 500 and 400: each broken file, written in INEI's formats (CSV, SPSS, Stata,
zip), either sends its rows to quarantine with their rule and line while the rest is staged, or fails with one
line naming the file, the line or record, and the rule. Each case reads → validates → stages one year on a tmp
operator database (the asset's own functions, no Dagster run); rows read = accepted + rejected in meta.fuentes.

Physical lines: the header is line 1, so the i-th data row of a CSV without embedded line breaks is line i + 1.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import duckdb
import pandas as pd
import pyreadstat
import pytest

from vraem_pipeline.core.databases import ensure_schemas
from vraem_pipeline.core.errors import SourceFileError
from vraem_pipeline.core.ingest import stage_years, validate_file
from vraem_pipeline.empleo import schema as schemas
from vraem_pipeline.empleo.inputs import read_health_year, read_persons_year

YEAR = 2024

#: One valid person of module 500, as INEI's CSV writes it (upper-case names, keys without their zeros in CSV
#: would be padded back; written here with them).
M500 = {
    "CONGLOME": "005030",
    "VIVIENDA": "002",
    "HOGAR": "11",
    "CODPERSO": "01",
    "UBIGEO": "030101",
    "DOMINIO": "6",
    "ESTRATO": "3",
    "P204": "1",
    "P205": "2",
    "P206": " ",
    "P207": "1",
    "P208A": "35",
    "OCU500": "1",
    "P506R4": "111",
    "P507": "2",
    "P510": "6",
    "P510A1": "3",
    "P512A": "1",
    "P512B": "2",
    "FAC500A": "150.5",
    "OBSERVACION": "SIN OBSERVACION",
}
#: One valid person of module 400 (who pays each insurance; blank when not insured).
M400 = {
    "CONGLOME": "005030",
    "VIVIENDA": "002",
    "HOGAR": "11",
    "CODPERSO": "01",
    "P419A1": "1",
    "P419A2": " ",
    "P419A3": " ",
    "P419A4": " ",
    "P419A5": "5",
    "P419A8": " ",
    "OBSERVACION": "SIN OBSERVACION",
}
BASE = {"500": M500, "400": M400}
SOURCE = {
    "500": ("enaho_personas", schemas.schema_for_year(YEAR), read_persons_year),
    "400": ("enaho_salud", schemas.SCHEMA_HEALTH, read_health_year),
}
N_ROWS = 5  # persons codperso 01–05, lines 2–6


def persons(module: str, changes: dict[int, dict[str, str]] | None = None) -> list[dict[str, str]]:
    """N_ROWS valid persons (codperso 01…), row i changed by `changes[i]` (0-based)."""
    rows = [dict(BASE[module], CODPERSO=f"{i + 1:02d}") for i in range(N_ROWS)]
    for i, change in (changes or {}).items():
        rows[i].update(change)
    return rows


def csv_text(rows: list[dict[str, str]], *, year: str = str(YEAR), sep: str = ",") -> str:
    header = ["AÑO", *rows[0]]
    lines = [sep.join(header)] + [sep.join([year, *r.values()]) for r in rows]
    return "\r\n".join(lines) + "\r\n"


def year_dir(raw: Path) -> Path:
    folder = raw / "enaho" / str(YEAR)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def name(module: str, ext: str) -> str:
    return f"Enaho01a-{YEAR}-{module}.{ext}"


def write_csv(raw: Path, module: str, text: str | bytes, encoding: str = "latin-1") -> Path:
    path = year_dir(raw) / name(module, "csv")
    path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
    return path


def frame(module: str, n: int = N_ROWS) -> pd.DataFrame:
    rows = persons(module)
    df = pd.DataFrame([rows[i % N_ROWS] | {"CODPERSO": f"{i + 1:02d}"} for i in range(n)])
    for col in df.columns:
        if col not in ("CONGLOME", "VIVIENDA", "HOGAR", "CODPERSO", "UBIGEO", "OBSERVACION"):
            df[col] = pd.to_numeric(df[col].str.strip().replace("", None), errors="coerce")
    return df


def write_sav(raw: Path, module: str, n: int = N_ROWS, path: Path | None = None) -> Path:
    path = path or year_dir(raw) / name(module, "sav")
    pyreadstat.write_sav(frame(module, n), str(path))
    return path


def write_dta(raw: Path, module: str) -> Path:
    path = year_dir(raw) / name(module, "dta")
    pyreadstat.write_dta(frame(module), str(path), version=12)
    return path


def stage(raw: Path, module: str, tmp_path: Path):
    """The staging asset's steps for one year: (quarantine (linea, regla), accepted rows, meta.fuentes row)."""
    fuente, schema, read_year = SOURCE[module]
    con = duckdb.connect(str(tmp_path / "operacion.duckdb"))
    try:
        ensure_schemas(con)
        loads = [validate_file(fuente, parsed, schema, YEAR, nota) for parsed, nota in read_year(raw, YEAR)]
        stage_years(con, fuente, f"staging.{fuente}", schema, [YEAR], loads)
        quarantine = con.execute(f"SELECT linea, regla FROM quarantine.{fuente} ORDER BY linea").fetchall()
        staged = con.execute(f"SELECT count(*) FROM staging.{fuente}").fetchone()[0]
        read_rows, accepted_rows, rejected_rows = con.execute(
            "SELECT filas_leidas, filas_aceptadas, filas_rechazadas FROM meta.fuentes WHERE fuente = ?", [fuente]
        ).fetchone()
    finally:
        con.close()
    assert read_rows == accepted_rows + rejected_rows and accepted_rows == staged and rejected_rows == len(quarantine)
    return quarantine, staged, read_rows


# --- rows to quarantine, the run goes on ----------------------------------------------------------------------


def _extra_field(raw, module):
    text = csv_text(persons(module)).split("\r\n")
    text[3] += ",SOBRA"  # line 4
    write_csv(raw, module, "\r\n".join(text))


def _multiline_record(raw, module):
    """Record 2 spans lines 3–4 (a quoted note with a line break) and breaks a rule: it is named by its first
    line; record 3, physically on line 5, keeps its line."""
    rows = persons(module, {1: {"OBSERVACION": '"VIVE EN\r\nOTRA CASA"', "CONGLOME": "5030X"}, 2: {"CONGLOME": "12"}})
    rows[2]["CONGLOME"] = "ABC"
    write_csv(raw, module, csv_text(rows))


def _mixed_encodings(raw, module):
    """UTF-8 (the header's AÑO) with one latin-1 byte in a key on line 5: that line is quarantined."""
    rows = persons(module, {3: {"CONGLOME": "00503\xd1"}})
    text = csv_text(rows).encode("utf-8").replace("00503\xd1".encode(), b"00503\xd1")
    write_csv(raw, module, text)


def _bom_bad_byte(raw, module):
    rows = persons(module, {4: {"HOGAR": "1\xff"}})
    text = b"\xef\xbb\xbf" + csv_text(rows).encode("utf-8").replace("1\xff".encode(), b"1\xff")
    write_csv(raw, module, text)


QUARANTINE_CASES = {
    # id: (module, writer, [(linea, regla)], rows read)
    "m500_departamento_inexistente": (
        "500",
        lambda raw: write_csv(raw, "500", csv_text(persons("500", {2: {"UBIGEO": "990101"}}))),
        [(4, "ubigeo_departamento_01_25")],
        5,
    ),
    "m500_codigo_fuera_de_dominio": (
        "500",
        lambda raw: write_csv(raw, "500", csv_text(persons("500", {0: {"P207": "3"}}))),
        [(2, "p207_1_2")],
        5,
    ),
    "m500_clave_duplicada": (
        "500",
        lambda raw: write_csv(raw, "500", csv_text(persons("500", {4: {"CODPERSO": "01"}}))),
        [(6, "clave_duplicada")],
        5,
    ),
    "m500_factor_infinito": (
        "500",
        lambda raw: write_csv(raw, "500", csv_text(persons("500", {1: {"FAC500A": "1e400"}}))),
        [(3, "valor_finito")],
        5,
    ),
    "m500_factor_negativo": (
        "500",
        lambda raw: write_csv(raw, "500", csv_text(persons("500", {1: {"FAC500A": "-1"}}))),
        [(3, "fac500a_positivo")],
        5,
    ),
    "m500_codigo_infinito": (
        "500",
        lambda raw: write_csv(raw, "500", csv_text(persons("500", {3: {"P207": "inf"}}))),
        [(5, "tipo_de_dato; p207_1_2")],
        5,
    ),
    "m500_campo_de_mas": ("500", lambda raw: _extra_field(raw, "500"), [(4, "numero_de_campos")], 5),
    "m500_registro_en_dos_lineas": (
        "500",
        lambda raw: _multiline_record(raw, "500"),
        [(3, "conglome_6_digitos"), (5, "conglome_6_digitos")],
        5,
    ),
    "m500_codificacion_mixta": ("500", lambda raw: _mixed_encodings(raw, "500"), [(5, "codificacion")], 5),
    "m500_bom_y_un_byte_malo": ("500", lambda raw: _bom_bad_byte(raw, "500"), [(6, "codificacion")], 5),
    "m400_codigo_fuera_de_dominio": (
        "400",
        lambda raw: write_csv(raw, "400", csv_text(persons("400", {1: {"P419A1": "7"}}))),
        [(3, "p419a1_1_5")],
        5,
    ),
    "m400_clave_duplicada": (
        "400",
        lambda raw: write_csv(raw, "400", csv_text(persons("400", {2: {"CODPERSO": "01"}}))),
        [(4, "clave_duplicada")],
        5,
    ),
    "m400_hogar_de_un_digito_en_stata": ("400", None, [(2, "hogar_2_digitos")], 5),  # record 2
    "m400_campo_de_mas": ("400", lambda raw: _extra_field(raw, "400"), [(4, "numero_de_campos")], 5),
    "m400_registro_en_dos_lineas": (
        "400",
        lambda raw: _multiline_record(raw, "400"),
        [(3, "conglome_6_digitos"), (5, "conglome_6_digitos")],
        5,
    ),
    "m400_codificacion_mixta": ("400", lambda raw: _mixed_encodings(raw, "400"), [(5, "codificacion")], 5),
    "m400_punto_y_coma_con_codigo_negativo": (
        "400",
        lambda raw: write_csv(raw, "400", csv_text(persons("400", {4: {"P419A5": "-5"}}), sep=";")),
        [(6, "p419a5_1_5")],
        5,
    ),
}


def _short_household_in_stata(raw):
    """Stata stores keys as text: a one-digit `hogar` is kept as stored and fails, by record number."""
    df = frame("400")
    df.loc[1, "HOGAR"] = "1"
    pyreadstat.write_dta(df, str(year_dir(raw) / name("400", "dta")), version=12)


@pytest.mark.parametrize("case", sorted(QUARANTINE_CASES))
def test_bad_rows_go_to_quarantine_with_their_rule_and_line(tmp_path, case):
    module, write, expected, read = QUARANTINE_CASES[case]
    raw = tmp_path / "raw"
    (write or _short_household_in_stata)(raw)
    quarantine, staged, read_rows = stage(raw, module, tmp_path)
    assert quarantine == expected
    assert read_rows == read and staged == read - len(expected)


def test_sql_in_a_text_column_is_only_text(tmp_path):
    raw = tmp_path / "raw"
    rows = persons("500", {0: {"OBSERVACION": "'); DROP TABLE staging.enaho_personas; --"}})
    write_csv(raw, "500", csv_text(rows))
    quarantine, staged, _ = stage(raw, "500", tmp_path)
    assert quarantine == [] and staged == N_ROWS  # the table it names still holds every row


# --- the file fails: one line naming the file, the line or record, and the rule ---------------------------------


def _renamed(raw, module, old, new):
    write_csv(raw, module, csv_text(persons(module)).replace(f",{old},", f",{new},", 1))


def _sav_as_dta(raw, module):
    write_sav(raw, module, path=year_dir(raw) / name(module, "dta"))


def _truncated_sav(raw, module):
    path = write_sav(raw, module, n=200)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 1500])


def _xlsx_as_csv(raw, module):
    path = year_dir(raw) / name(module, "csv")
    with zipfile.ZipFile(path, "w") as zf:  # what openpyxl writes: a zip of XML parts
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")


def _labels(raw, module):
    write_csv(raw, module, csv_text(persons(module, {2: {"P207" if module == "500" else "P419A1": "hombre"}})))


def _broken_zip(raw, module):
    data = year_dir(raw)
    tmp = data / "tmp.csv"
    tmp.write_text(csv_text(persons(module)), encoding="latin-1")
    path = data / "966-Modulo05.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(tmp, f"966-Modulo05/{name(module, 'csv')}")
    tmp.unlink()
    path.write_bytes(path.read_bytes()[:60])


def _two_copies(raw, module):
    write_csv(raw, module, csv_text(persons(module)))
    write_dta(raw, module)


FAILING_CASES = {
    # id: (module, writer, file name, line, rule)
    "m500_sav_renombrado_dta": ("500", _sav_as_dta, name("500", "dta"), None, "enaho_formato"),
    "m500_sav_truncado": ("500", _truncated_sav, name("500", "sav"), None, "enaho_archivo_legible"),
    "m500_vacio": ("500", lambda raw, m: write_csv(raw, m, b""), name("500", "csv"), 1, "cabecera"),
    "m500_solo_cabecera": (
        "500",
        lambda raw, m: write_csv(raw, m, csv_text(persons(m)).split("\r\n")[0] + "\r\n"),
        name("500", "csv"),
        1,
        "enaho_sin_registros",
    ),
    "m500_sin_factor": (
        "500",
        lambda raw, m: _renamed(raw, m, "FAC500A", "FAC500"),
        name("500", "csv"),
        None,
        "enaho_factor_fac500a",
    ),
    "m500_columna_faltante": (
        "500",
        lambda raw, m: _renamed(raw, m, "P207", "SEXO"),
        name("500", "csv"),
        None,
        "enaho_columnas_requeridas",
    ),
    "m500_etiquetas_en_vez_de_codigos": ("500", _labels, name("500", "csv"), 4, "enaho_codigos_numericos"),
    "m500_anio_en_otra_carpeta": (
        "500",
        lambda raw, m: write_csv(raw, m, csv_text(persons(m), year="2023")),
        name("500", "csv"),
        2,
        "enaho_anio_coincide",
    ),
    "m500_hoja_de_calculo_como_csv": ("500", _xlsx_as_csv, name("500", "csv"), None, "enaho_formato"),
    "m500_basura_binaria": (
        "500",
        lambda raw, m: (year_dir(raw) / name(m, "dta")).write_bytes(bytes(range(256)) * 8),
        name("500", "dta"),
        None,
        "enaho_archivo_legible",
    ),
    "m500_dos_copias": ("500", _two_copies, "2024", None, "enaho_modulo_unico"),
    "m400_sav_renombrado_dta": ("400", _sav_as_dta, name("400", "dta"), None, "enaho_formato"),
    "m400_sav_truncado": ("400", _truncated_sav, name("400", "sav"), None, "enaho_archivo_legible"),
    "m400_vacio": ("400", lambda raw, m: write_csv(raw, m, b""), name("400", "csv"), 1, "cabecera"),
    "m400_solo_cabecera": (
        "400",
        lambda raw, m: write_csv(raw, m, csv_text(persons(m)).split("\r\n")[0] + "\r\n"),
        name("400", "csv"),
        1,
        "enaho_sin_registros",
    ),
    "m400_columna_faltante": (
        "400",
        lambda raw, m: _renamed(raw, m, "P419A5", "P419A6"),
        name("400", "csv"),
        None,
        "enaho_columnas_requeridas",
    ),
    "m400_etiquetas_en_vez_de_codigos": ("400", _labels, name("400", "csv"), 4, "enaho_codigos_numericos"),
    "m400_anio_en_otra_carpeta": (
        "400",
        lambda raw, m: write_csv(raw, m, csv_text(persons(m), year="2023")),
        name("400", "csv"),
        2,
        "enaho_anio_coincide",
    ),
    "m400_zip_truncado": ("400", _broken_zip, "966-Modulo05.zip", None, "zip_legible"),
    "m400_latin1_con_texto_utf8": (
        "400",
        lambda raw, m: write_csv(
            raw,
            m,
            csv_text(persons(m, {0: {"OBSERVACION": "AÑO"}, 3: {"OBSERVACION": "CRÍA"}}), sep=",")
            .encode("latin-1")
            .replace("CRÍA".encode("latin-1"), "CRÍA".encode()),
        ),
        name("400", "csv"),
        5,
        "codificacion",
    ),
}


@pytest.mark.parametrize("case", sorted(FAILING_CASES))
def test_unreadable_file_fails_in_one_line_naming_file_line_and_rule(tmp_path, case):
    module, write, file_name, line, rule = FAILING_CASES[case]
    raw = tmp_path / "raw"
    write(raw, module)
    with pytest.raises(SourceFileError) as info:
        stage(raw, module, tmp_path)
    err = info.value
    message = str(err)
    assert (err.rule, err.line) == (rule, line), message
    assert "\n" not in message and message.startswith(str(err.path)), message
    assert Path(str(err.path).split("!")[0]).name == file_name
    assert f"[{rule}]" in message and (line is None or f"línea {line}" in message)


def test_cli_reports_the_file_not_the_library_error_it_wraps(tmp_path, env):
    """A `.sav` renamed `.dta` failing the staging asset: `vraem refresh` prints the reader's one line (file and
    rule), not the deepest cause of the chain."""
    from tests.support.runs import materialize
    from vraem_pipeline.cli import _report

    raw = tmp_path / "raw"
    _sav_as_dta(raw, "500")
    env(raw)
    result = materialize((YEAR, YEAR), selection="staging/enaho_personas")
    errors, _ = _report(result)
    path = year_dir(raw) / name("500", "dta")
    assert errors == [
        f"staging/enaho_personas: {path}: el archivo .dta es en realidad sav: revise la descarga "
        "del INEI [enaho_formato]"
    ]


def test_root_cause_keeps_the_first_error_that_names_the_file():
    import sys

    from dagster._utils.error import serializable_error_info_from_exc_info

    from vraem_pipeline.cli import _root_cause

    try:
        try:
            raise ValueError("File did not contain the expected number of rows")
        except ValueError as exc:
            raise SourceFileError("/raw/enaho/2024/x.sav", "archivo SPSS dañado", rule="enaho_archivo_legible") from exc
    except SourceFileError:
        info = serializable_error_info_from_exc_info(sys.exc_info())
    assert _root_cause(info) == "/raw/enaho/2024/x.sav: archivo SPSS dañado [enaho_archivo_legible]"
    try:
        raise ValueError("sin archivo")
    except ValueError:
        info = serializable_error_info_from_exc_info(sys.exc_info())
    assert _root_cause(info) == "sin archivo"  # no error names a file: the deepest message, its class dropped


def test_zip_member_with_garbage_fails_naming_the_member(tmp_path):
    """4 KB of random bytes over INEI's compressed module: a bare zlib or CRC error before."""
    import random

    raw = tmp_path / "raw"
    path = year_dir(raw) / "966-Modulo05.zip"
    text = csv_text([dict(M500, CODPERSO=f"{i % 100:02d}", CONGLOME=f"{i // 100:06d}") for i in range(3000)])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"966-Modulo05/{name('500', 'csv')}", text.encode("latin-1"))
    data = bytearray(path.read_bytes())
    data[200 : 200 + 4096] = random.Random(200).randbytes(4096)
    path.write_bytes(bytes(data))
    with pytest.raises(SourceFileError) as info:
        stage(raw, "500", tmp_path)
    err = info.value
    assert err.rule == "zip" and str(err.path) == f"{path}!966-Modulo05/{name('500', 'csv')}"
    assert "\n" not in str(err) and str(err).startswith(str(err.path))


# --- INEI's survey code in the download zip's name (reference/enaho_codigos_encuesta.csv) -------------------------


def _zipped(raw: Path, module: str, zip_name: str) -> Path:
    """The module's CSV inside a download zip named `zip_name`, under the zip's own inner folder as INEI ships."""
    path = year_dir(raw) / zip_name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{Path(zip_name).stem}/{name(module, 'csv')}", csv_text(persons(module)).encode("latin-1"))
    return path


UNKNOWN_CODE_NOTE = (
    "código de encuesta 1100 (1100-Modulo05.zip) no figura en reference/enaho_codigos_encuesta.csv: "
    "su año no se pudo comprobar por el código"
)


@pytest.mark.parametrize(
    ("module", "zip_name", "nota"),
    [
        ("500", "966-Modulo05.zip", "módulo 500"),  # 2024's code in the 2024 folder
        ("400", "966-Modulo04.zip", "módulo 400"),
        ("500", "1100-Modulo05.zip", f"módulo 500; {UNKNOWN_CODE_NOTE}"),  # a code the table does not know yet
        ("500", "enaho_2024_modulo05.zip", "módulo 500"),  # a renamed download: no code to check
    ],
)
def test_a_zip_of_the_folders_survey_or_an_unknown_code_is_read(tmp_path, module, zip_name, nota):
    raw = tmp_path / "raw"
    _zipped(raw, module, zip_name)
    [(parsed, got)] = SOURCE[module][2](raw, YEAR)
    assert got == nota and len(parsed.frame) == N_ROWS
    quarantine, staged, _ = stage(raw, module, tmp_path)
    assert quarantine == [] and staged == N_ROWS


@pytest.mark.parametrize(
    ("module", "zip_name", "code_year"),
    [
        ("500", "906-Modulo05.zip", 2023),  # codes are not chronological: 906 is 2023's survey, not 2024's
        ("400", "906-Modulo04.zip", 2023),
        ("500", "1031-Modulo05.zip", 2025),  # the next year's survey
    ],
)
def test_a_zip_of_another_years_survey_is_refused_naming_the_file_and_both_years(tmp_path, module, zip_name, code_year):
    raw = tmp_path / "raw"
    path = _zipped(raw, module, zip_name)
    with pytest.raises(SourceFileError) as info:
        stage(raw, module, tmp_path)
    err = info.value
    assert (err.rule, err.line, err.path) == ("enaho_codigo_encuesta", None, path)
    code = zip_name.split("-")[0]
    assert str(err) == (
        f"{path}: el código de encuesta {code} del nombre es la ENAHO {code_year}, no la de {YEAR} de "
        f"la carpeta (reference/enaho_codigos_encuesta.csv): muévalo a la carpeta de {code_year} "
        "[enaho_codigo_encuesta]"
    )


def test_the_survey_code_table_matches_the_documented_codes():
    """docs/sources.md#enaho-codigos [V]: 2017=603 … 2024=966, 2025=1031; the sample's zips are named from it."""
    from vraem_pipeline.sources.enaho import survey_code_years
    from vraem_sample.enaho import YEAR_CODES

    assert survey_code_years() == {
        603: 2017,
        634: 2018,
        687: 2019,
        737: 2020,
        759: 2021,
        784: 2022,
        906: 2023,
        966: 2024,
        1031: 2025,
    }
    assert YEAR_CODES == {v: k for k, v in survey_code_years().items()}
