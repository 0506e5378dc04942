"""Bad-input corpus, INEI's departmental GDP workbook (`raw/inei/vab/`, docs/sources.md#inei-vab-libro).

Each case is a tiny broken workbook (or a file posing as one) and the answer worked out by hand: either its
cells go to quarantine with their rule, sheet row and column and the rest is staged (cells read = accepted +
rejected, as `defs/pbi.inei_vab_staging` counts them), or the read fails with one line naming the file, the row
and the rule. Layout of `write_workbook`: title rows 1–5, header (`Departamentos`) row 7, data from row 9.
"""

from __future__ import annotations

import json
import random
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.support.corpus_staging import assert_file_error
from tests.support.inei_workbooks import write_workbook
from tests.support.malicious_zips import write_bomb
from vraem_pipeline.core.quality import split_valid
from vraem_pipeline.pbi.schema import INEI_VAB
from vraem_pipeline.sources import inei_vab

YEARS = [2022, "2023P/"]
SQL = "Lima'); DROP TABLE meta.fuentes; --"


def _folder(raw: Path) -> Path:
    folder = raw / "inei" / "vab"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _book(raw: Path, rows, years=YEARS, name="pbi.xlsx", **kw) -> Path:
    return write_workbook(_folder(raw) / name, rows, years, **kw)


def _edit(path: Path, row: int, col: int, value) -> None:
    wb = openpyxl.load_workbook(path)
    wb["cuadro1"].cell(row, col, value)
    wb.save(path)


def _truncated(raw):
    path = _book(raw, [("Amazonas", [1, 2])])
    path.write_bytes(path.read_bytes()[:300])


def _renamed_header(raw):
    _edit(_book(raw, [("Amazonas", [1, 2])]), 7, 1, "Regiones")


def _zip_of_text(raw):
    with zipfile.ZipFile(_folder(raw) / "pbi.xlsx", "w") as zf:
        zf.writestr("pbi.csv", "Departamentos,2022\nAmazonas,1\n")


def _two_same_editions(raw):
    _book(raw, [("Amazonas", [1, 2])], name="a.xlsx")
    _book(raw, [("Amazonas", [1, 2])], name="b.xlsx")


# (id, build(raw), expected)
# expected: ("falla", file, rule, row, text) or ("carga", accepted cells, [(row, column, rule), …])
CASES = [
    (
        "vacio",
        lambda raw: (_folder(raw) / "pbi.xlsx").write_bytes(b""),
        ("falla", "pbi.xlsx", "formato_xlsx", None, "no es un libro Excel .xlsx"),
    ),
    (
        "texto_con_extension_xlsx",
        lambda raw: (_folder(raw) / "pbi.xlsx").write_bytes(b"Departamentos;2022\nAmazonas;1\n"),
        ("falla", "pbi.xlsx", "formato_xlsx", None, "no es un libro Excel .xlsx"),
    ),
    (
        "basura_binaria",
        lambda raw: (_folder(raw) / "pbi.xlsx").write_bytes(b"PK" + random.Random(5).randbytes(4000)),
        ("falla", "pbi.xlsx", "formato_xlsx", None, "no se puede abrir el libro"),
    ),
    ("zip_truncado", _truncated, ("falla", "pbi.xlsx", "formato_xlsx", None, "no se puede abrir el libro")),
    ("zip_sin_libro", _zip_of_text, ("falla", "pbi.xlsx", "formato_xlsx", None, "no se puede abrir el libro")),
    (
        "bomba_de_descompresion",
        lambda raw: write_bomb(_folder(raw) / "pbi.xlsx", "xl/worksheets/sheet1.xml"),
        ("falla", "pbi.xlsx", "zip_bomba", None, "xl/worksheets/sheet1.xml"),
    ),
    (
        "biff8",
        lambda raw: (_folder(raw) / "pbi.xls").write_bytes(b"\xd0\xcf\x11\xe0" + bytes(508)),
        ("falla", "pbi.xls", "formato_xlsx", None, "BIFF8"),
    ),
    (
        "hoja_faltante",
        lambda raw: _book(raw, [("Amazonas", [1, 2])], sheet="Hoja1"),
        ("falla", "pbi.xlsx", "hoja_cuadro1", None, "no tiene la hoja cuadro1"),
    ),
    ("cabecera_renombrada", _renamed_header, ("falla", "pbi.xlsx", "cabecera_departamentos", None, "Departamentos")),
    (
        "anio_de_cabecera_no_es_anio",
        lambda raw: _book(raw, [("Amazonas", [1, 2])], years=[2022, "Año 2023"]),
        ("falla", "pbi.xlsx", "anio_cabecera", 7, "columna C: la cabecera 'Año 2023'"),
    ),
    (
        "anios_repetidos",
        lambda raw: _book(raw, [("Amazonas", [1, 2])], years=[2022, "2022P/"]),
        ("falla", "pbi.xlsx", "anio_cabecera", 7, "repetidos [2022, 2022]"),
    ),
    (
        "precios_corrientes",
        lambda raw: _book(raw, [("Amazonas", [1, 2])], subtitle="Valores a Precios Corrientes"),
        ("falla", "pbi.xlsx", "precios_constantes_2007", 7, "precios constantes de 2007"),
    ),
    (
        "sin_unidad",
        lambda raw: _book(raw, [("Amazonas", [1, 2])], unit="(Índice)"),
        ("falla", "pbi.xlsx", "unidad", 7, "no dice la unidad"),
    ),
    (
        "fila_desconocida",
        lambda raw: _book(raw, [("Amazonas", [1, 2]), ("Atlántida", [3, 4])]),
        ("falla", "pbi.xlsx", "fila_desconocida", 10, "'Atlántida'"),
    ),
    (
        "etiqueta_con_sql",
        lambda raw: _book(raw, [(SQL, [1, 2])]),
        ("falla", "pbi.xlsx", "fila_desconocida", 9, "DROP TABLE"),
    ),
    (
        "cifras_sin_etiqueta",
        lambda raw: _book(raw, [("Amazonas", [1, 2]), ("", [3, 4])]),
        ("falla", "pbi.xlsx", "fila_sin_etiqueta", 10, "sin etiqueta"),
    ),
    (
        "dos_libros_de_la_misma_edicion",
        _two_same_editions,
        ("falla", "vab", "edicion", None, "no se puede decidir la edición"),
    ),
    (
        "libro_en_carpeta_de_anio",
        lambda raw: write_workbook(_folder(raw) / "2024" / "pbi.xlsx", [("Amazonas", [1, 2])], YEARS),
        ("falla", "2024", "carpeta_vab", None, "directamente en raw/inei/vab/"),
    ),
    ("solo_cabecera", lambda raw: _book(raw, []), ("carga", 0, [])),
    (
        "montos_negativo_y_no_numerico",
        lambda raw: _book(raw, [("Amazonas", [-5, "1.234,5"]), ("Áncash", [7, 8])]),
        ("carga", 2, [(9, "B", "valor_no_negativo"), (9, "C", "tipo_de_dato")]),
    ),
    (
        "texto_donde_va_una_cifra",
        lambda raw: _book(raw, [("Amazonas", ["s.d.", 2])]),
        ("carga", 1, [(9, "B", "tipo_de_dato")]),
    ),
]


@pytest.mark.parametrize("build, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_pbi_corpus(tmp_path, build, expected):
    raw = tmp_path / "raw"
    build(raw)
    read = lambda: inei_vab.read_folder(raw / "inei" / "vab")  # noqa: E731
    if expected[0] == "falla":
        _, name, rule, row, says = expected
        assert_file_error(read, name=name, rule=rule, line=row, says=says)
        return
    _, accepted, quarantined = expected
    (workbook_table,) = read().used
    split = split_valid(workbook_table.cell_frame.copy(), INEI_VAB, anio=0, source=workbook_table.label)
    got = sorted((int(r.linea), json.loads(r.registro_crudo)["columna"], r.regla) for r in split.rejected.itertuples())
    assert (split.n_accepted, got) == (accepted, quarantined)
    assert workbook_table.filas_leidas == split.n_accepted + len(split.rejected)


def test_a_workbook_label_holding_sql_is_only_ever_data(tmp_path):
    """The label is named in the error as text; no statement is built from it (the staging asset writes frames)."""
    raw = tmp_path / "raw"
    _book(raw, [(SQL, [1, 2])])
    with pytest.raises(inei_vab.SourceFileError) as info:
        inei_vab.read_folder(raw / "inei" / "vab")
    assert repr(SQL) in str(info.value)
