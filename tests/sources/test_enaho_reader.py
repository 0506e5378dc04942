"""The ENAHO reader on every published variant: Stata, SPSS, upper-case latin-1 CSV, zips with and without an
inner folder; INEI's real module-85 zips for the quirks synthetic files can only imitate; and the staging schema
the rows it returns are validated with."""

from __future__ import annotations

import re
import shutil
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyreadstat
import pytest

from vraem_pipeline.core.errors import SourceFileError
from vraem_pipeline.empleo.schema import COLUMNS_M500, SCHEMA_PERSONS, schema_for_year
from vraem_pipeline.sources.enaho import ModuleFile, find_module_file, module_pattern, read_module

REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata" / "enaho"
COLUMNS = ["conglome", "vivienda", "hogar", "codperso", "ubigeo", "ocu500", "p207", "fac500a"]

# Three persons; keys with leading zeros that CSV files lose.
PERSONS = pd.DataFrame(
    {
        "conglome": ["005030", "005030", "120011"],
        "vivienda": ["002", "002", "105"],
        "hogar": ["11", "11", "11"],
        "codperso": ["01", "02", "01"],
        "ubigeo": ["030101", "030101", "120601"],
        "ocu500": [1.0, 4.0, 0.0],
        "p207": [1.0, 2.0, np.nan],
        "fac500a": [150.5, 80.25, np.nan],
    }
)


def _write_dta(path: Path, frame: pd.DataFrame = PERSONS) -> Path:
    pyreadstat.write_dta(frame, str(path), version=12)  # release 115, as INEI's 2014–2024 files
    return path


def _write_sav(path: Path, frame: pd.DataFrame = PERSONS) -> Path:
    out = frame.rename(columns=str.upper)
    out.insert(0, "AÑO", "2024")
    pyreadstat.write_sav(out, str(path))
    return path


def _csv_text(frame: pd.DataFrame = PERSONS, *, year: str = "2024") -> str:
    """INEI's CSV style: AÑO first, upper-case names, keys without zeros, a space for missing, CRLF."""
    lines = ["AÑO," + ",".join(c.upper() for c in frame.columns)]
    for _, row in frame.iterrows():
        cells = [year]
        for name, value in row.items():
            if name in ("conglome", "vivienda", "hogar", "codperso", "ubigeo"):
                cells.append(str(int(value)))
            elif pd.isna(value):
                cells.append(" ")
            else:
                cells.append(f"{value:g}")
        lines.append(",".join(cells))
    return "\r\n".join(lines) + "\r\n"


def _write_csv(path: Path, frame: pd.DataFrame = PERSONS, *, encoding: str = "latin-1", year: str = "2024") -> Path:
    path.write_bytes(_csv_text(frame, year=year).encode(encoding))
    return path


WRITERS = {"dta": _write_dta, "sav": _write_sav, "csv": _write_csv}
NAMES = {"dta": "enaho01a-2024-500.dta", "sav": "Enaho01A-2024-500.sav", "csv": "Enaho01a-2024-500.csv"}


def _year_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "enaho" / "2024"
    folder.mkdir(parents=True)
    return folder


def _assert_normalised(frame: pd.DataFrame, archivo: str) -> None:
    assert list(frame.columns) == ["anio"] + COLUMNS + ["archivo", "registro"]
    assert frame["conglome"].tolist() == ["005030", "005030", "120011"]
    assert frame["vivienda"].tolist() == ["002", "002", "105"]
    assert frame["hogar"].tolist() == ["11", "11", "11"]
    assert frame["codperso"].tolist() == ["01", "02", "01"]
    assert frame["ubigeo"].tolist() == ["030101", "030101", "120601"]
    assert str(frame["ocu500"].dtype) == "Int64" and frame["ocu500"].tolist() == [1, 4, 0]
    assert frame["p207"].isna().tolist() == [False, False, True]
    assert str(frame["fac500a"].dtype) == "Float64"
    assert frame["fac500a"].iloc[:2].tolist() == [150.5, 80.25] and pd.isna(frame["fac500a"].iloc[2])
    assert frame["anio"].tolist() == [2024] * 3
    assert frame["archivo"].tolist() == [archivo] * 3
    assert frame["registro"].tolist() == [1, 2, 3]


@pytest.mark.parametrize("fmt", ["dta", "sav", "csv"])
def test_loose_file_of_each_format_reads_to_the_same_frame(tmp_path, fmt):
    year_dir = _year_dir(tmp_path)
    WRITERS[fmt](year_dir / NAMES[fmt])
    source = find_module_file(year_dir, 2024, "500")
    assert source == ModuleFile(year_dir / NAMES[fmt])
    _assert_normalised(read_module(source, 2024, "500", COLUMNS), NAMES[fmt])


@pytest.mark.parametrize("folder", ["966-Modulo05/", ""])
@pytest.mark.parametrize("fmt", ["dta", "csv"])
def test_zip_with_or_without_inner_folder(tmp_path, folder, fmt):
    year_dir = _year_dir(tmp_path)
    data = WRITERS[fmt](tmp_path / NAMES[fmt]).read_bytes()
    with zipfile.ZipFile(year_dir / "966-Modulo05.zip", "w") as archive:
        archive.writestr(f"{folder}{NAMES[fmt]}", data)
        archive.writestr(f"{folder}enaho_tabla_ciiu_rev4.dta", b"not data")
        archive.writestr(f"{folder}Diccionario2024.pdf", b"%PDF-1.4")
    source = find_module_file(year_dir, 2024, "500")
    assert source.member == f"{folder}{NAMES[fmt]}"
    _assert_normalised(read_module(source, 2024, "500", COLUMNS), f"966-Modulo05.zip!{folder}{NAMES[fmt]}")


def test_pattern_is_case_insensitive_and_skips_tables_panels_and_the_2015_duplicate():
    pattern = module_pattern(2024, "500")
    for name in ["966-Modulo05/ENAHO01A-2024-500.DTA", "Enaho01-2024-500.csv", "enaho01a-2024-500.sav"]:
        assert pattern.search(name), name
    for name in [
        "966-Modulo05/enaho_tabla_ciiu_rev4.dta",
        "Diccionario2024.pdf",
        "enaho01a-2024_500.dta",
        "enaho01a-2019-2023-500-panel.dta",
        "enaho01a-2024-500.dta.bak",
        "enaho01a-2024-5001.dta",
        "xenaho01a-2024-500.dta",
    ]:
        assert not pattern.search(name), name


def test_no_module_file_names_the_folder_and_the_pattern(tmp_path):
    year_dir = _year_dir(tmp_path)
    _write_dta(year_dir / "enaho01a-2024-400.dta")
    with pytest.raises(SourceFileError, match="no se encontró el módulo 500 de 2024") as info:
        find_module_file(year_dir, 2024, "500")
    assert info.value.path == year_dir and info.value.rule == "enaho_modulo_presente"


def test_zip_and_its_extracted_copy_are_ambiguous(tmp_path):
    year_dir = _year_dir(tmp_path)
    _write_dta(year_dir / "enaho01a-2024-500.dta")
    with zipfile.ZipFile(year_dir / "966-Modulo05.zip", "w") as archive:
        archive.write(year_dir / "enaho01a-2024-500.dta", "966-Modulo05/enaho01a-2024-500.dta")
    with pytest.raises(SourceFileError, match="aparece 2 veces") as info:
        find_module_file(year_dir, 2024, "500")
    assert "966-Modulo05.zip!966-Modulo05/enaho01a-2024-500.dta" in str(info.value)
    assert "enaho01a-2024-500.dta," in str(info.value)


def test_unreadable_zip_is_a_source_file_error(tmp_path):
    year_dir = _year_dir(tmp_path)
    (year_dir / "966-Modulo05.zip").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(SourceFileError, match="el zip no se puede abrir"):
        find_module_file(year_dir, 2024, "500")


@pytest.mark.parametrize("fmt", ["dta", "sav", "csv"])
def test_missing_required_column_lists_what_the_file_has(tmp_path, fmt):
    path = WRITERS[fmt](tmp_path / NAMES[fmt], PERSONS.drop(columns=["p207"]))
    with pytest.raises(SourceFileError, match=r"faltan las columnas requeridas \['p207'\]") as info:
        read_module(path, 2024, "500", COLUMNS)
    assert "conglome" in str(info.value).lower() and info.value.rule == "enaho_columnas_requeridas"


@pytest.mark.parametrize("fmt", ["dta", "csv"])
def test_module_500_with_another_factor_fails_naming_it(tmp_path, fmt):
    path = WRITERS[fmt](tmp_path / NAMES[fmt], PERSONS.rename(columns={"fac500a": "fac500"}))
    with pytest.raises(SourceFileError, match="fac500a") as info:
        read_module(path, 2024, "500", [c for c in COLUMNS if c != "fac500a"])
    assert "trae ['fac500'] en su lugar" in str(info.value).lower()
    assert info.value.rule == "enaho_factor_fac500a"


def test_module_500_without_any_factor_fails(tmp_path):
    path = _write_dta(tmp_path / NAMES["dta"], PERSONS.drop(columns=["fac500a"]))
    with pytest.raises(SourceFileError, match="no trae ningún factor"):
        read_module(path, 2024, "500", COLUMNS[:-1])


def test_module_400_does_not_need_fac500a(tmp_path):
    path = _write_dta(tmp_path / "enaho01a-2024-400.dta", PERSONS.drop(columns=["fac500a"]))
    assert len(read_module(path, 2024, "400", ["conglome", "ocu500"])) == 3


def test_optional_columns_are_read_only_when_present(tmp_path):
    path = _write_dta(tmp_path / NAMES["dta"], PERSONS.assign(ocupinf=[1.0, np.nan, np.nan]))
    assert read_module(path, 2024, "500", COLUMNS, optional=["ocupinf"])["ocupinf"].tolist()[0] == 1
    without = _write_dta(tmp_path / "other.dta")
    assert "ocupinf" not in read_module(without, 2024, "500", COLUMNS, optional=["ocupinf"]).columns


def test_value_labels_instead_of_codes_are_refused_with_the_line(tmp_path):
    text = _csv_text().split("\r\n")
    text[2] = text[2].replace(",4,", ",no pea,")  # second data row, line 3
    path = tmp_path / NAMES["csv"]
    path.write_bytes("\r\n".join(text).encode("latin-1"))
    with pytest.raises(SourceFileError, match="no numéricos") as info:
        read_module(path, 2024, "500", COLUMNS)
    assert info.value.line == 3 and "ocu500" in str(info.value)


def test_file_of_another_year_is_refused(tmp_path):
    path = _write_csv(tmp_path / "Enaho01a-2024-500.csv", year="2023")
    with pytest.raises(SourceFileError, match="es de \\['2023'\\] y está en la carpeta de 2024"):
        read_module(path, 2024, "500", COLUMNS)


def test_utf8_csv_and_semicolon_csv_with_decimal_comma(tmp_path):
    utf8 = _write_csv(tmp_path / "a.csv", encoding="utf-8")
    _assert_normalised(read_module(utf8, 2024, "500", COLUMNS), "a.csv")
    semicolon = tmp_path / "b.csv"
    text = _csv_text().replace(",", ";").replace("150.5", "150,5").replace("80.25", "80,25")
    semicolon.write_bytes(text.encode("latin-1"))
    _assert_normalised(read_module(semicolon, 2024, "500", COLUMNS), "b.csv")


def test_stata_118_is_read_as_utf8(tmp_path):
    frame = PERSONS.copy()
    frame.insert(0, "aÑo", "2024")
    path = tmp_path / "enaho01a-2024-500.dta"
    pyreadstat.write_dta(frame, str(path), version=14)  # release 118, UTF-8 (as ENAHO 2025)
    assert path.read_bytes().startswith(b"<stata_dta>")
    _assert_normalised(read_module(path, 2024, "500", COLUMNS), path.name)
    with pytest.raises(SourceFileError, match="carpeta de 2025"):  # `aÑo` was decoded and checked
        read_module(path, 2025, "500", COLUMNS)


# --- INEI's real files -------------------------------------------------------------------------------------------

needs_realdata = pytest.mark.skipif(
    not (REALDATA / "283-Modulo85.zip").exists(), reason=f"INEI's real zips are not in {REALDATA}"
)


@needs_realdata
def test_real_stata_110_zip_without_inner_folder(tmp_path):
    # 2007 module 85: two Stata format-110 files at the zip's root, first variable `aÑo` in latin-1, PDFs beside.
    shutil.copy(REALDATA / "283-Modulo85.zip", tmp_path)
    source = find_module_file(tmp_path, 2007, "1", prefix="enaho01b")
    assert source.archivo == "283-Modulo85.zip!enaho01b-2007-1.dta"
    frame = read_module(source, 2007, "1", ["conglome", "vivienda", "hogar", "codperso", "ubigeo", "estrato"])
    assert len(frame) == 22_204
    first = frame.iloc[0]
    # As stored in the .dta: string keys keep their zeros (conglome had 4 digits before 2015).
    assert (first["conglome"], first["vivienda"], first["hogar"], first["codperso"], first["ubigeo"]) == (
        "0060",
        "024",
        "11",
        "01",
        "010701",
    )
    assert str(frame["estrato"].dtype) == "Int64"
    with pytest.raises(SourceFileError, match="carpeta de 2008"):  # `aÑo` decoded from latin-1 and checked
        read_module(source, 2008, "1", ["conglome"])


@needs_realdata
def test_real_latin1_crlf_csv_in_an_inner_folder(tmp_path):
    # 2011 module 85: CSVs under `291-Modulo85/`, latin-1 `AÑO`, CRLF, `P40$1`, a single space for missing.
    shutil.copy(REALDATA / "291-Modulo85.zip", tmp_path)
    source = find_module_file(tmp_path, 2011, "2", prefix="enaho01b")
    assert source.member == "291-Modulo85/Enaho01B-2011-2.csv"
    frame = read_module(source, 2011, "2", ["CONGLOME", "vivienda", "hogar", "codperso", "ubigeo", "p40$1", "factor07"])
    assert list(frame.columns[1:-2]) == ["conglome", "vivienda", "hogar", "codperso", "ubigeo", "p40$1", "factor07"]
    assert frame["conglome"].str.len().eq(6).all() and frame["ubigeo"].str.match(r"^\d{6}$").all()
    assert frame.loc[0, "ubigeo"] == "010101"
    assert str(frame["p40$1"].dtype) == "Int64" and frame["p40$1"].isna().any()  # " " → missing
    assert str(frame["factor07"].dtype) == "Float64" and frame.loc[0, "factor07"] == pytest.approx(223.87)
    assert frame["registro"].iloc[-1] == len(frame)
    with pytest.raises(SourceFileError, match="carpeta de 2012"):
        read_module(source, 2012, "2", ["conglome"])


# --- the staging schema of the rows the reader returns ----------------------------------------------------------

GOOD = {
    "anio": 2024,
    "archivo": "966-Modulo05.zip!966-Modulo05/enaho01a-2024-500.dta",
    "registro": 1,
    "conglome": "005030",
    "vivienda": "002",
    "hogar": "11",
    "codperso": "01",
    "ubigeo": "030101",
    "dominio": 6,
    "estrato": 7,
    "p204": 1,
    "p205": 2,
    "p206": None,
    "p207": 2,
    "p208a": 40,
    "ocu500": 1,
    "p506r4": 111,
    "p507": 2,
    "p510": None,
    "p510a1": 3,
    "p512a": 1,
    "p512b": 1,
    "fac500a": 150.5,
}
# one row per rule; the expected failing check of each
BROKEN = {
    "conglome_6_digitos": {"conglome": "5030"},
    "vivienda_3_digitos": {"vivienda": "2"},
    "ubigeo_6_digitos": {"ubigeo": "30101"},
    "ubigeo_departamento_01_25": {"ubigeo": "260101"},
    "estrato_1_8": {"estrato": 9},
    "ocu500_0_4": {"ocu500": 7},
    "p207_1_2": {"p207": 3},
    "p204_1_2": {"p204": 0},
    "p510_en_dominio": {"p510": 4},
    "p512a_1_5": {"p512a": 6},
    "fac500a_positivo": {"fac500a": -1.0},
    "fac500a_presente_en_ocupados": {"fac500a": None},
}


def _staging(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for name in frame.columns:
        if name not in ("archivo", "conglome", "vivienda", "hogar", "codperso", "ubigeo", "fac500a"):
            frame[name] = frame[name].astype("Int64")
    frame["fac500a"] = frame["fac500a"].astype("Float64")
    return frame


def test_schema_documents_every_column_and_names_every_rule():
    for name, column in SCHEMA_PERSONS.columns.items():
        assert column.description and column.metadata.get("unidad"), name
        for check in column.checks:
            assert check.name and re.fullmatch(r"[a-z0-9_]+", check.name), (name, check.name)
    assert all(re.fullmatch(r"[a-z0-9_]+", check.name) for check in SCHEMA_PERSONS.checks)
    assert set(COLUMNS_M500) < set(SCHEMA_PERSONS.columns)


def test_schema_rejects_one_row_per_rule_and_keeps_the_first_of_a_duplicated_person():
    rows = [dict(GOOD, registro=1)]
    for i, change in enumerate(BROKEN.values(), start=2):
        rows.append({**GOOD, "registro": i, "codperso": f"{i:02d}", **change})
    rows.append(dict(GOOD, registro=99))  # same person as row 0: the duplicate, not the first, is rejected
    rows.append(dict(GOOD, registro=100, codperso="50", p208a=12))  # under 14: a warning only
    frame = _staging(rows)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(pa.errors.SchemaErrors) as info:
            SCHEMA_PERSONS.validate(frame, lazy=True)
    failures = info.value.failure_cases.dropna(subset=["index"])
    by_row = failures.groupby("index")["check"].agg(set)
    for i, rule in enumerate(BROKEN, start=1):
        assert rule in by_row[i], rule
    assert "multiple_fields_uniqueness" in by_row[len(BROKEN) + 1]
    assert 0 not in by_row.index and len(BROKEN) + 2 not in by_row.index
    assert any("edad_14_o_mas" in str(w.message) for w in caught)


def test_ocupinf_required_until_2023_and_watched_from_2024():
    frame = _staging([GOOD])
    with pytest.raises(pa.errors.SchemaErrors, match="ocupinf"):
        schema_for_year(2023).validate(frame, lazy=True)
    assert len(schema_for_year(2024).validate(frame)) == 1
    with pytest.warns(UserWarning, match="ocupinf_ausente_desde_2024"):
        schema_for_year(2024).validate(frame.assign(ocupinf=pd.array([1], dtype="Int64")))
