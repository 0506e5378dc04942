"""Bad-input corpus, the territory file (`VRAEM_TERRITORY`, `referencia.load_territory`).

The territory is configuration, not a delivery: a wrong district list silently changes every figure, so it
has no quarantine — each broken file fails at load with one line naming the file, the line and the rule
(`ReferenceDataError`), and a good file loads every district exactly as written.
"""

from __future__ import annotations

import random
from pathlib import Path

import openpyxl
import pytest

from tests.support.corpus_staging import assert_file_error
from vraem_pipeline.core.references import MAX_TERRITORY_TEXT, load_territory

HEADER = "ubigeo,departamento,provincia,distrito,ambito,fuente"
HUANTA = "050401,Ayacucho,Huanta,Huanta,influencia,x"
PICHARI = "080910,Cusco,La Convención,Pichari,directo,x"
SQL = "x'); DROP TABLE referencia.territorio; --"


def _write(tmp_path: Path, data: bytes | str, name: str = "territorio.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _lines(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def _spreadsheet(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(HEADER.split(","))
    wb.active.append(HUANTA.split(","))
    wb.save(tmp_path / "territorio.csv")  # "saved as" a workbook under the old name
    return tmp_path / "territorio.csv"


def _mixed(tmp_path):
    utf8 = _lines(HEADER, PICHARI).encode("utf-8")
    return _write(tmp_path, utf8 + "030202,Apurímac,Andahuaylas,Andarapa,,\n".encode("cp1252"))


# (id, build(tmp_path) → path, rule, line, text in the message)
FAILS = [
    ("vacio", lambda t: _write(t, b""), "territorio.vacio", 1, "está vacío"),
    ("solo_cabecera", lambda t: _write(t, _lines(HEADER)), "territorio.vacio", 1, "no tiene distritos"),
    (
        "columna_renombrada",
        lambda t: _write(t, _lines(HEADER.replace("distrito", "nombre"), HUANTA)),
        "territorio.cabecera",
        1,
        "faltan distrito",
    ),
    (
        "columna_faltante",
        lambda t: _write(t, _lines("ubigeo,departamento,provincia", "050401,Ayacucho,Huanta")),
        "territorio.cabecera",
        1,
        "faltan distrito",
    ),
    (
        "columna_extra",
        lambda t: _write(t, _lines(HEADER + ",poblacion", HUANTA + ",1000")),
        "territorio.cabecera",
        1,
        "columnas desconocidas 'poblacion'",
    ),
    (
        "separador_equivocado",
        lambda t: _write(t, _lines(HEADER.replace(",", "\t"), HUANTA.replace(",", "\t"))),
        "territorio.cabecera",
        1,
        "faltan ubigeo, departamento",
    ),
    (
        "campos_de_mas_en_una_fila",
        lambda t: _write(t, _lines(HEADER, HUANTA, PICHARI + ",extra")),
        "territorio.campos",
        3,
        "7 campos y la cabecera 6",
    ),
    (
        "ubigeo_duplicado",
        lambda t: _write(t, _lines(HEADER, HUANTA, PICHARI, HUANTA)),
        "territorio.ubigeo_duplicado",
        4,
        "ya está en la línea 2",
    ),
    (
        "ubigeo_desconocido",
        lambda t: _write(t, _lines(HEADER, HUANTA, "999999,X,X,X,,")),
        "territorio.ubigeo_inei",
        3,
        "999999 no es un distrito",
    ),
    (
        "ubigeo_fuera_de_dominio",
        lambda t: _write(t, _lines(HEADER, "5040A1,Ayacucho,Huanta,Huanta,,")),
        "territorio.ubigeo_formato",
        2,
        "'5040A1'",
    ),
    (
        "ubigeo_con_sql",
        lambda t: _write(t, _lines(HEADER, f"{SQL},Ayacucho,Huanta,Huanta,,")),
        "territorio.ubigeo_formato",
        2,
        "DROP TABLE",
    ),
    (
        "basura_binaria",
        lambda t: _write(t, random.Random(1).randbytes(3000)),
        "territorio.formato",
        1,
        "no es un archivo de texto",
    ),
    ("hoja_de_calculo", _spreadsheet, "territorio.formato", 1, "libro Excel"),
    ("codificaciones_mezcladas", _mixed, "territorio.codificacion", 3, "no es UTF-8"),
    (
        "linea_de_10_mb",
        lambda t: _write(t, _lines(HEADER, "050401,Ayacucho,Huanta," + "H" * (10 << 20) + ",,")),
        "territorio.texto_largo",
        2,
        f"pasa de {MAX_TERRITORY_TEXT} caracteres",
    ),
    (
        "nombre_de_300_caracteres",
        lambda t: _write(t, _lines(HEADER, "050401,Ayacucho,Huanta," + "H" * 300 + ",,")),
        "territorio.texto_largo",
        2,
        "el campo distrito tiene 300 caracteres",
    ),
    (
        "comilla_sin_cerrar",
        lambda t: _write(t, _lines(HEADER, HUANTA, '080910,Cusco,"La Convención,Pichari,,', PICHARI)),
        "territorio.campos",
        3,
        "la fila tiene 3 campos y la cabecera 6",
    ),  # the quote swallows the next line
]


@pytest.mark.parametrize("build, rule, line, says", [c[1:] for c in FAILS], ids=[c[0] for c in FAILS])
def test_territory_corpus_fails_naming_file_line_and_rule(tmp_path, build, rule, line, says):
    path = build(tmp_path)
    assert_file_error(lambda: load_territory(path), name=path.name, rule=rule, line=line, says=says)


LOADS = [
    # names are data: SQL in a district's name is kept verbatim (it reaches the warehouse as a value)
    ("nombre_con_sql", _lines(HEADER, f"050401,Ayacucho,Huanta,{SQL},,"), [("050401", SQL)]),
    (
        "cp1252_de_excel_con_punto_y_coma",
        _lines(HEADER.replace(",", ";"), PICHARI.replace(",", ";")).encode("cp1252"),
        [("080910", "Pichari")],
    ),
    ("ubigeo_sin_cero_inicial", _lines(HEADER, "30202,Apurímac,Andahuaylas,Andarapa,,"), [("030202", "Andarapa")]),
    ("lineas_en_blanco_y_bom", "\ufeff" + _lines(HEADER, "", HUANTA, ",,,,,"), [("050401", "Huanta")]),
]


@pytest.mark.parametrize("data, expected", [c[1:] for c in LOADS], ids=[c[0] for c in LOADS])
def test_territory_corpus_loads(tmp_path, data, expected):
    frame = load_territory(_write(tmp_path, data))
    assert list(zip(frame["ubigeo"], frame["distrito"], strict=False)) == expected
