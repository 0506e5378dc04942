"""Bad-input corpus, SBS debtor balances (`raw/sbs/deudores/<año>/deudores_<año>12.txt`, docs/sources.md#sbs-deudores).

Each case is a tiny broken file in the real format and the answer worked out by hand: either its lines go to
quarantine with their rule and line and the year is staged (read = accepted + rejected), or the year fails
with one line naming the file, the line and the rule. Debtors' documents are personal data: they stay in the
operator database (staging and quarantine), which is what these tests read.
"""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.support.builders import ruc
from tests.support.corpus_staging import assert_file_error, stage_year
from tests.support.malicious_zips import write_zip
from tests.support.scenario_credit import HEADER, write_deudores
from vraem_pipeline.credito.inputs import find_deudores_year
from vraem_pipeline.credito.schema import DEUDORES

Y = 2024
A = ruc("20", 30_000_001)
B = ruc("20", 30_000_002)
FILE = "deudores_202412.txt"
SQL = "x'); DROP TABLE meta.fuentes; --"


def line(doc=A, doc_type="6", entity="00002", credito="09", balance="100.00", periodo="202412") -> str:
    return f"{periodo}|{doc_type}|{doc}|{entity}|{credito}|{balance}"


def _folder(raw: Path) -> Path:
    folder = raw / "sbs" / "deudores" / str(Y)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _write(raw: Path, data: bytes, name: str = FILE) -> Path:
    path = _folder(raw) / name
    path.write_bytes(data)
    return path


def _zip(raw: Path, members: dict[str, bytes]) -> Path:
    path = _folder(raw) / "deudores_202412.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _truncated_zip(raw):
    path = write_deudores(raw, Y, [line()] * 50, zipped=True)
    path.write_bytes(path.read_bytes()[:50])


def _spreadsheet(raw):
    wb = openpyxl.Workbook()
    wb.active.append(HEADER.split("|"))
    wb.active.append(line().split("|"))
    wb.save(_folder(raw) / "deudores_202412.zip")  # a workbook saved where the zipped text was expected


def _utf8_in_latin1(raw):
    path = write_deudores(raw, Y, [line()])
    path.write_bytes(path.read_bytes() + line(doc="Ñ" + A[1:], entity="00003").encode("utf-8") + b"\n")


# (id, build(raw), expected): ("falla", file, rule, line, text in the message) or ("carga", accepted, quarantine)
CASES = [
    ("zip_truncado", _truncated_zip, ("falla", "deudores_202412.zip", "zip", None, "zip dañado")),
    (
        "zip_con_dos_miembros",
        lambda raw: _zip(raw, {"deudores_202412.txt": b"x", "deudores_202411.txt": b"y"}),
        ("falla", "deudores_202412.zip", "zip", None, "un solo archivo de datos"),
    ),
    (
        "zip_con_ruta_absoluta",
        lambda raw: _zip(raw, {"/tmp/deudores_202412.txt": b"x"}),
        ("falla", "deudores_202412.zip", "zip_ruta", None, "/tmp/deudores_202412.txt"),
    ),
    (
        "zip_con_clave",
        lambda raw: write_zip(
            _folder(raw) / "deudores_202412.zip", FILE, b"x" * 40, file_size=40, crc=0, method=0, encrypted=True
        ),
        ("falla", "deudores_202412.zip", "zip", None, "miembro deudores_202412.txt: no se puede abrir"),
    ),
    (
        "hoja_de_calculo_en_vez_de_texto",
        _spreadsheet,
        ("falla", "deudores_202412.zip", "zip", None, "el zip no contiene ningún archivo de datos"),
    ),
    ("vacio", lambda raw: _write(raw, b""), ("falla", FILE, "cabecera", 1, "archivo vacío")),
    (
        "basura_binaria",
        lambda raw: _write(raw, random.Random(3).randbytes(2048)),
        ("falla", FILE, "cabecera", 1, "cabecera inesperada"),
    ),
    (
        "columna_renombrada",
        lambda raw: _write(raw, (HEADER.replace("SALDO_SOLES", "SALDO") + "\n" + line() + "\n").encode("latin-1")),
        ("falla", FILE, "cabecera", 1, "cabecera inesperada"),
    ),
    (
        "columna_faltante",
        lambda raw: _write(raw, (HEADER.rsplit("|", 1)[0] + "\n").encode("latin-1")),
        ("falla", FILE, "cabecera", 1, "cabecera inesperada"),
    ),
    (
        "columna_extra",
        lambda raw: _write(raw, (HEADER + "|MONEDA\n" + line() + "|PEN\n").encode("latin-1")),
        ("falla", FILE, "cabecera", 1, "cabecera inesperada"),
    ),
    (
        "archivo_de_otro_anio_en_la_carpeta",
        lambda raw: _write(raw, (HEADER + "\n").encode(), "deudores_202312.txt"),
        ("falla", "deudores_202312.txt", "periodo_del_archivo", None, "periodo 202312"),
    ),
    ("solo_cabecera", lambda raw: write_deudores(raw, Y, []), ("carga", 0, [])),
    (
        "separador_equivocado_en_una_linea",
        lambda raw: write_deudores(raw, Y, [line(), line(B).replace("|", ";")]),
        ("carga", 1, [(FILE, 3, "numero_de_campos")]),
    ),
    (
        "linea_de_10_mb",
        lambda raw: write_deudores(raw, Y, [line(), "9" * (10 << 20)]),
        ("carga", 1, [(FILE, 3, "numero_de_campos")]),
    ),
    (
        "linea_en_blanco",
        lambda raw: write_deudores(raw, Y, [line(), "", line(B)]),
        ("carga", 2, [(FILE, 3, "numero_de_campos")]),
    ),
    # latin-1 decodes every byte: the UTF-8 "Ñ" arrives as two characters and fails the document's format
    ("codificaciones_mezcladas", _utf8_in_latin1, ("carga", 1, [(FILE, 3, "documento_formato; ruc_formato")])),
    (
        "clave_repetida",
        lambda raw: write_deudores(raw, Y, [line(), line(balance="5.00")]),
        ("carga", 1, [(FILE, 3, "clave_duplicada")]),
    ),
    (
        "saldos_negativo_y_no_numerico",
        lambda raw: write_deudores(raw, Y, [line(balance="-0.01"), line(B, balance="1.250,00"), line(entity="00003")]),
        ("carga", 1, [(FILE, 2, "saldo_no_negativo"), (FILE, 3, "tipo_de_dato")]),
    ),
    (
        "codigos_fuera_de_dominio",
        lambda raw: write_deudores(
            raw,
            Y,
            [line(credito="99"), line(B, doc_type="X"), line(periodo="202406", entity="00009"), line(entity="00003")],
        ),
        (
            "carga",
            1,
            [(FILE, 2, "tipo_credito_sbs"), (FILE, 3, "tipo_documento_formato"), (FILE, 4, "periodo_del_anio")],
        ),
    ),
    (
        "documentos_invalidos",
        lambda raw: write_deudores(raw, Y, [line("4521594", doc_type="1"), line(A[:-1] + str((int(A[-1]) + 1) % 10))]),
        ("carga", 0, [(FILE, 2, "dni_8_digitos"), (FILE, 3, "ruc_digito_verificador")]),
    ),
    (
        "documento_con_sql",
        lambda raw: write_deudores(raw, Y, [line(SQL, doc_type="4")]),
        ("carga", 0, [(FILE, 2, "documento_formato")]),
    ),
    # the rows' PERIODO against the name's AAAAMM (sources/periodos.py): November's balances saved as December's
    (
        "noviembre_con_nombre_de_diciembre",
        lambda raw: write_deudores(raw, Y, [line(periodo="202411", entity=f"{e:05d}") for e in range(1, 5)]),
        (
            "falla",
            FILE,
            "periodo_de_las_filas",
            None,
            "el nombre dice el periodo 202412 pero sus filas dicen 202411: 4 de 4 filas con PERIODO",
        ),
    ),
    (
        "mas_de_la_mitad_de_otro_periodo",
        lambda raw: write_deudores(
            raw, Y, [line(periodo="202411", entity=f"{e:05d}") for e in range(1, 4)] + [line(entity="00009")]
        ),
        ("falla", FILE, "periodo_de_las_filas", None, "3 de 4 filas con PERIODO (75.0 %)"),
    ),
    (
        "la_mitad_de_otro_periodo",
        lambda raw: write_deudores(
            raw,
            Y,
            [  # the boundary: half is not the bulk
                line(periodo="202312", entity="00001"),
                line(periodo="202411", entity="00002"),
                line(entity="00003"),
                line(entity="00004"),
            ],
        ),
        ("carga", 2, [(FILE, 2, "periodo_del_anio"), (FILE, 3, "periodo_del_anio")]),
    ),
    (
        "periodos_mal_formados_no_cuentan",
        lambda raw: write_deudores(
            raw,
            Y,
            [  # 1 of the 1 well-formed: the name's
                line(periodo="2024-11", entity="00001"),
                line(periodo="", entity="00002"),
                line(entity="00003"),
            ],
        ),
        ("carga", 1, [(FILE, 2, "periodo_del_anio"), (FILE, 3, "valor_obligatorio; periodo_del_anio")]),
    ),
]


@pytest.mark.parametrize("build, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_sbs_corpus(tmp_path, build, expected):
    build(tmp_path / "raw")
    stage = lambda: stage_year(tmp_path, "sbs_deudores", DEUDORES, Y, find_deudores_year)  # noqa: E731
    if expected[0] == "falla":
        _, name, rule, line_, says = expected
        assert_file_error(stage, name=name, rule=rule, line=line_, says=says)
        return
    _, accepted, quarantine = expected
    out = stage()
    assert (out.accepted, out.quarantine) == (accepted, quarantine)


def test_quarantined_sql_text_is_kept_as_data_in_the_operator_database(tmp_path):
    write_deudores(tmp_path / "raw", Y, [line(SQL, doc_type="4")])
    out = stage_year(tmp_path, "sbs_deudores", DEUDORES, Y, find_deudores_year)
    raw = out.con.execute("SELECT registro_crudo::JSON->>'numero_documento' FROM quarantine.sbs_deudores").fetchall()
    assert raw == [(SQL,)]
    assert out.con.execute("SELECT count(*) FROM meta.fuentes").fetchone()[0] == 1
