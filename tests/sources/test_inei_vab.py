"""INEI's departmental GDP workbooks: the real 2026 edition as published, hand-made per-activity workbooks, name
matching, editions, units, and the consistency check on inconsistent tables."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tests.support.inei_workbooks import (
    ACTIVITIES,
    DEPARTMENTS,
    department_rows,
    total_workbook,
    write_activity_set,
    write_workbook,
)
from vraem_pipeline.core.errors import SourceFileError
from vraem_pipeline.core.quality import split_valid
from vraem_pipeline.pbi import allocation as pbi
from vraem_pipeline.pbi.schema import INEI_VAB
from vraem_pipeline.sources import inei_vab
from vraem_pipeline.sources.inei_vab import classify_label, read_folder, read_workbook
from vraem_sample.pbi import WORKBOOK

SHARED = Path(__file__).resolve().parents[3] / "shared" / "realdata" / "inei" / "pbi_peru_17.xlsx"


def staged(tables) -> pd.DataFrame:
    """What the staging asset keeps: the cells that pass the schema."""
    frames = [split_valid(c.cell_frame.copy(), INEI_VAB, anio=0, source=c.label).accepted for c in tables]
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------------------------- the real workbook


def test_shipped_copy_is_inei_file_byte_for_byte():
    """The package copy (CI has no ../shared) is the realdata file itself."""
    digest = hashlib.sha256(WORKBOOK.read_bytes()).hexdigest()
    assert digest == "86ead79ba191546d8e0be5c452901d5af28d08cc9f6fd22d1fa3414ea852c943"
    if SHARED.exists():
        assert SHARED.read_bytes() == WORKBOOK.read_bytes()


def test_real_workbook_national_pbi_and_the_five_departments():
    c = read_workbook(WORKBOOK)
    assert (c.actividad, c.unidad, c.thousands_factor) == ("total", "miles de soles", 1.0)
    assert c.anios == tuple(range(2007, 2026))
    assert c.edicion == "Con información disponible a junio del 2026" and c.edition_key == (2026, 6)
    assert c.filas_leidas == 31 * 19  # 24 departments + Lima's 3 sub-rows + 4 national rows, × 19 years
    cells = staged([c])
    assert len(cells) == c.filas_leidas  # nothing quarantined
    assert pbi.consistency(cells).empty

    national = pbi.nacional(cells).set_index("anio")
    assert national.loc[2024, "pbi_miles_soles"] == 585_617_509  # exactly, as INEI prints it
    assert national.loc[2024, "vab_miles_soles"] == 533_152_582
    assert national.loc[2024, "impuestos_miles_soles"] == 48_589_875
    assert national.loc[2024, "derechos_importacion_miles_soles"] == 3_875_052
    flags = cells.drop_duplicates("anio").set_index("anio")["estado_cifra"]
    assert (flags[2022], flags[2023], flags[2024], flags[2025]) == (
        "definitiva",
        "preliminar",
        "preliminar",
        "estimada",
    )

    deps = pbi.departamentos(cells)
    d24 = deps[deps["anio"] == 2024].set_index("ubigeo_departamento")["vab_miles_soles"]
    assert len(d24) == 25
    assert d24[["03", "05", "08", "09", "12"]].to_dict() == {
        "03": 7_219_959,
        "05": 6_212_319,
        "08": 22_767_865,
        "09": 3_912_627,
        "12": 15_992_658,
    }
    # Lima's row is Callao + Región Lima + Provincia de Lima in this edition: Callao comes out of Lima
    assert d24["07"] == 23_148_604 and d24["15"] == 255_670_998 - 23_148_604
    assert set(deps.loc[deps["anio"] == 2024, "regla_lima"]) == {"incluye_callao"}
    assert d24.sum() == 533_152_582  # the 25 departments add up to VAB once the sub-rows are dropped


def test_real_workbook_other_sheets_are_refused():
    """cuadro2 is shares of GDP, not values: no unit in its title, so it cannot be taken for cuadro1."""
    with pytest.raises(SourceFileError) as err:
        read_workbook(WORKBOOK, sheet="cuadro2")
    assert err.value.rule == "unidad" and "pbi_peru_17.xlsx" in str(err.value)
    with pytest.raises(SourceFileError, match=r"pbi_peru_17\.xlsx: no tiene la hoja cuadro9 \(hojas: .*cuadro1") as err:
        read_workbook(WORKBOOK, sheet="cuadro9")
    assert err.value.rule == "hoja_cuadro1"


# ----------------------------------------------------------------------------------------- name matching


@pytest.mark.parametrize(
    "label,expected",
    [
        ("Apurímac", ("departamento", "03")),
        ("APURIMAC", ("departamento", "03")),
        ("apurimac", ("departamento", "03")),
        ("Junín", ("departamento", "12")),
        ("JUNIN", ("departamento", "12")),
        ("Huánuco 1/", ("departamento", "10")),
        ("Áncash", ("departamento", "02")),
        ("Ancash", ("departamento", "02")),
        ("San Martin", ("departamento", "22")),
        ("  Madre de  Dios ", ("departamento", "17")),
        ("Callao", ("departamento", "07")),
        ("Prov. Const. del Callao", ("departamento", "07")),
        ("PROV CONST DEL CALLAO", ("departamento", "07")),
        ("Región Lima", ("subdivision", "15")),
        ("REGION LIMA", ("subdivision", "15")),
        ("Lima Metropolitana 2/", ("subdivision", "15")),
        ("Valor Agregado Bruto", ("vab", None)),
        ("Derechos de Importacion", ("derechos_importacion", None)),
        ("PRODUCTO BRUTO INTERNO", ("pbi", None)),
        ("Lima Sur", None),
        ("Ayacuchos", None),
    ],
)
def test_names_map_to_codes_with_or_without_accents(label, expected):
    assert classify_label(label) == expected


@pytest.mark.parametrize(
    "cell,expected",
    [
        (2007, (2007, "")),
        (2019.0, (2019, "")),
        ("2023P/", (2023, "P")),
        ("2024 P/", (2024, "P")),
        ("2025E/", (2025, "E")),
        ("2016p/", (2016, "P")),
        ("Total", None),
        (2019.5, None),
    ],
)
def test_year_headers_keep_their_flag(cell, expected):
    assert inei_vab._header_year(cell) == expected


# ------------------------------------------------------------------------------ hand-made per-activity set


def test_hand_made_per_activity_workbooks(tmp_path):
    """12 per-activity workbooks and the all-activity one, older layout (Callao apart, Lima Metropolitana and
    Lima Provincias under Lima). Values: department d, activity a, year k → 100·d + a + k miles."""
    folder = tmp_path / "inei" / "vab"
    written = write_activity_set(folder, ["2023P/", "2024P/"])
    sel = read_folder(folder)
    assert sel.total.path.name == "pbi_departamentos.xlsx" and not sel.ignored
    assert [c.actividad for c in sel.activities] == [a for a, _ in ACTIVITIES]
    cells = staged(sel.used)
    assert pbi.consistency(cells).empty

    deps = pbi.departamentos(cells)
    agro = deps[(deps["actividad"] == "agricultura") & (deps["anio"] == 2024)].set_index("ubigeo_departamento")
    # Ayacucho (05), agriculture (a = 1), 2024 (k = 1): 100·5 + 1 + 1 = 502; Lima keeps its row (no Callao inside)
    assert agro.loc["05", "vab_miles_soles"] == 502 and agro.loc["15", "vab_miles_soles"] == 1502
    assert set(agro["regla_lima"]) == {"sin_callao"}
    tot = deps[(deps["actividad"] == "total") & (deps["anio"] == 2024)].set_index("ubigeo_departamento")
    # Ayacucho all activities 2024: Σ_a (500 + a + 1) = 12·501 + 78 = 6,090
    assert tot.loc["05", "vab_miles_soles"] == 6090 == written["total"]["05"][1]
    assert pbi.level_by_year(deps) == {2023: "departamento_y_actividad", 2024: "departamento_y_actividad"}


def test_partial_activity_set_is_refused(tmp_path):
    folder = tmp_path / "vab"
    write_activity_set(folder, [2023, 2024], skip=("pesca",))
    with pytest.raises(SourceFileError) as err:
        read_folder(folder)
    assert err.value.rule == "actividades_incompletas" and "pesca" in str(err.value)


def test_activities_that_do_not_add_up_to_the_department_fail(tmp_path):
    folder = tmp_path / "vab"
    write_activity_set(folder, [2024])
    path = folder / "A.26.xlsx"  # agriculture: add 40 miles to Ayacucho, beyond 0.5 × 13 of rounding
    wb = openpyxl.load_workbook(path)
    ws = wb["cuadro1"]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Ayacucho")
    ws.cell(row, 2).value += 40
    vab = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Valor Agregado Bruto")
    ws.cell(vab, 2).value += 40
    wb.save(path)
    failures = pbi.consistency(staged(read_folder(folder).used))
    assert failures[["anio", "regla"]].values.tolist() == [[2024, "suma_actividades_departamento"]]
    assert failures["diferencia_miles"].iloc[0] == 40


# -------------------------------------------------------------------------------------- editions and files


def test_newest_edition_wins_and_the_older_one_is_named(tmp_path):
    total_workbook(tmp_path / "pbi_2026.xlsx", "Con información disponible a junio del 2026", bump=5)
    total_workbook(tmp_path / "pbi_2025.xlsx", "Con información disponible a marzo del 2025")
    (tmp_path / "~$pbi_2026.xlsx").write_bytes(b"lock")  # Excel's lock file
    (tmp_path / "LEEME.txt").write_text("notas")
    sel = read_folder(tmp_path)
    assert sel.total.path.name == "pbi_2026.xlsx" and sel.total.edition_key == (2026, 6)
    assert {p.name: m for p, m in sel.ignored} == {
        "pbi_2025.xlsx": "edición anterior (Con información disponible a marzo del 2025)",
        "LEEME.txt": "no es un libro .xlsx",
        "~$pbi_2026.xlsx": "no es un libro .xlsx",
    }


def test_two_workbooks_of_one_edition_cannot_be_ranked(tmp_path):
    total_workbook(tmp_path / "a.xlsx", "Con información disponible a junio del 2026")
    total_workbook(tmp_path / "b.xlsx", "Con información disponible a junio del 2026")
    with pytest.raises(
        SourceFileError, match=r"no se puede decidir la edición más reciente entre a\.xlsx .*b\.xlsx"
    ) as err:
        read_folder(tmp_path)
    assert err.value.rule == "edicion"


def test_units_are_converted_explicitly(tmp_path):
    """A table in millones de soles is staged in miles: 1.5 millones = 1,500 miles."""
    vals = {code: [1.5, 2.0] for _, code in DEPARTMENTS}
    path = write_workbook(tmp_path / "m.xlsx", department_rows(vals), [2023, 2024], unit="(Millones de soles)")
    c = read_workbook(path)
    assert c.unidad == "millones de soles" and c.thousands_factor == 1000
    assert set(c.cell_frame["valor_miles_soles"]) == {1500.0, 2000.0}


def test_current_prices_or_unknown_rows_fail_naming_file_row_and_rule(tmp_path):
    vals = {code: [1, 2] for _, code in DEPARTMENTS}
    current_prices = write_workbook(
        tmp_path / "c.xlsx", department_rows(vals), [2023, 2024], subtitle="Valores a Precios Corrientes"
    )
    with pytest.raises(SourceFileError) as err:
        read_workbook(current_prices)
    assert err.value.rule == "precios_constantes_2007" and str(current_prices) in str(err.value)
    rows = department_rows(vals)
    rows.insert(3, ("Lima Sur", [1, 2]))
    unknown_row_book = write_workbook(tmp_path / "u.xlsx", rows, [2023, 2024])
    with pytest.raises(SourceFileError) as err:
        read_workbook(unknown_row_book)
    assert (err.value.rule, err.value.line) == ("fila_desconocida", 9 + 3)  # header at row 7, data from row 9
    bad = write_workbook(tmp_path / "y.xlsx", department_rows(vals), [2023, "Var %"])
    with pytest.raises(SourceFileError) as err:
        read_workbook(bad)
    assert (err.value.rule, err.value.line) == ("anio_cabecera", 7)


def test_biff_xls_is_refused_and_an_xlsx_named_xls_is_read(tmp_path):
    (tmp_path / "viejo.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(SourceFileError) as err:
        read_workbook(tmp_path / "viejo.xls")
    assert err.value.rule == "formato_xlsx" and "BIFF8" in str(err.value)
    shutil.copy(WORKBOOK, tmp_path / "PBI.XLS")
    assert read_workbook(tmp_path / "PBI.XLS").edition_key == (2026, 6)


def test_bad_cells_go_to_quarantine_with_their_row_and_column(tmp_path):
    vals = {code: [1000, 2000] for _, code in DEPARTMENTS}
    vals["05"] = ["n.d.", -5]
    c = read_workbook(write_workbook(tmp_path / "q.xlsx", department_rows(vals), [2023, 2024]))
    split = split_valid(c.cell_frame.copy(), INEI_VAB, anio=0, source=c.label)
    assert split.n_accepted == 48
    got = sorted(zip(split.rejected["linea"], split.rejected["regla"], strict=False))
    assert got == [(13, "tipo_de_dato"), (13, "valor_no_negativo")]  # Ayacucho is the 5th row from row 9


# --------------------------------------------------------------------------------- the consistency check


def _real_cells() -> pd.DataFrame:
    return staged([read_workbook(WORKBOOK)])


def _edit(cells: pd.DataFrame, label: str, anio: int, delta: float) -> pd.DataFrame:
    out = cells.copy()
    out.loc[(out["etiqueta"] == label) & (out["anio"] == anio), "valor_miles_soles"] += delta
    return out


def test_consistency_tolerates_rounding_only():
    """25 departments against VAB: 0.5 × 26 = 13 miles of rounding; 13 passes, 14 fails."""
    cells = _real_cells()
    assert pbi.consistency(_edit(cells, "Cusco", 2024, 13)).empty
    failures = pbi.consistency(_edit(cells, "Cusco", 2024, 14))
    assert failures[["actividad", "anio", "regla", "diferencia_miles"]].values.tolist() == [
        ["total", 2024, "suma_departamentos_vab", 14.0]
    ]


def test_consistency_check_fails_on_an_inconsistent_workbook():
    cells = _real_cells()
    broken = _edit(cells, "Producto Bruto Interno", 2023, 1000)  # VAB + taxes + duties ≠ PBI
    broken = _edit(broken, "Región Lima", 2022, 500)  # Lima ≠ its sub-rows
    broken = broken[~((broken["etiqueta"] == "Ayacucho") & (broken["anio"] == 2021))]  # a department missing
    failures = pbi.consistency(broken)
    assert failures[["anio", "regla"]].values.tolist() == [
        [2021, "departamentos_25"],
        [2022, "lima_subdivisiones"],
        [2023, "vab_impuestos_derechos_pbi"],
    ]
    assert "05" in failures["detalle"].iloc[0]
    assert failures["diferencia_miles"].iloc[2] == -1000


# ------------------------------------------------------------- what the file says about its edition agrees

EDITION = "Con información disponible a junio del 2026"


@pytest.mark.parametrize(
    "name",
    [
        "pbi_departamentos_2026.xlsx",  # the edition's year
        "pbi_2026-06.xlsx",
        "pbi_202606.xlsx",  # its year and month
        "pbi_peru_17.xlsx",
        "A.26.xlsx",  # INEI's own names: 17 and 26 are table numbers, not years
        "pbi_precios_2007.xlsx",  # the price base names the prices, not an edition
    ],
)
def test_a_name_that_agrees_with_the_edition_or_names_none_is_read(tmp_path, name):
    assert read_workbook(total_workbook(tmp_path / name, EDITION)).edition_key == (2026, 6)


def test_the_real_workbook_name_carries_no_year():
    assert inei_vab._periods_of_name(WORKBOOK) == [] and WORKBOOK.name == "pbi_peru_17.xlsx"


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("pbi_departamentos_2025.xlsx", "2025"),  # the year before the edition's
        ("pbi_2026-05.xlsx", "mayo del 2026"),  # the edition's year, another month
        ("pbi_2007_2027.xlsx", "2027"),  # the base year aside, the name still says another year
    ],
)
def test_a_name_of_another_period_than_the_edition_is_refused_naming_both(tmp_path, name, says):
    path = total_workbook(tmp_path / name, EDITION)
    with pytest.raises(SourceFileError) as err:
        read_workbook(path)
    assert (err.value.rule, err.value.line) == ("edicion_del_nombre", None)
    assert str(err.value) == (
        f"{path}: el nombre del archivo dice {says} pero el libro es la edición de junio del "
        f"2026 («{EDITION}»): renómbrelo con su edición o ponga el libro de esa edición "
        "[edicion_del_nombre]"
    )


def test_year_columns_up_to_the_edition_year_are_read_and_a_later_one_is_refused(tmp_path):
    edition_year = total_workbook(tmp_path / "a.xlsx", EDITION, years=("2025E/", "2026E/"))  # the boundary
    assert read_workbook(edition_year).anios == (2025, 2026)
    path = total_workbook(tmp_path / "b.xlsx", EDITION, years=("2026E/", "2027E/"))
    with pytest.raises(SourceFileError) as err:
        read_workbook(path)
    assert (err.value.rule, err.value.line) == ("anio_posterior_a_la_edicion", 7)  # the header row
    assert str(err.value).startswith(
        f"{path}, línea 7: hoja cuadro1, columna C: el año 2027 es posterior a la edición «{EDITION}» (2026)"
    )


def test_without_an_edition_line_a_year_in_the_name_has_nothing_to_agree_with(tmp_path):
    c = read_workbook(total_workbook(tmp_path / "pbi_2024.xlsx", "Elaboración: INEI"))
    assert c.edicion is None and c.anios == (2023, 2024)
