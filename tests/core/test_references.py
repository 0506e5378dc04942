"""Reference loaders: the territory fails at load naming file, line and rule; shipped tables are complete."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from vraem_pipeline.core import references as referencia
from vraem_pipeline.core.errors import ReferenceDataError
from vraem_pipeline.core.references import (
    SECTORS,
    MissingUITError,
    ciiu_classes,
    countries,
    department_names,
    load_territory,
    sector_by_division,
    taxpayer_types,
    territory_departments,
    ubigeo_table,
    uit_for_year,
    uit_table,
)

HEADER = "ubigeo,departamento,provincia,distrito,ambito,fuente"


def write(tmp_path: Path, *lines: str, name: str = "territorio.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def load_error(path: Path) -> ReferenceDataError:
    with pytest.raises(ReferenceDataError) as info:
        load_territory(path)
    return info.value


# --- the shipped VRAEM list -------------------------------------------------------------------------------


def test_shipped_territory_is_the_79_vraem_districts():
    territory = load_territory()
    assert list(territory.columns) == list(referencia.TERRITORY_COLUMNS)
    assert len(territory) == 79 and territory["ubigeo"].is_unique
    assert territory["ubigeo"].str.fullmatch(r"\d{6}").all()
    assert territory["ambito"].value_counts().to_dict() == {
        "por_confirmar": 49,
        "intervencion_directa": 16,
        "influencia": 14,
    }
    assert "080910" in set(territory["ubigeo"])  # Pichari is Cusco 08, not 090806
    assert territory_departments(territory) == ["03", "05", "08", "09", "12"]


def test_shipped_territory_copies_are_independent():
    first = load_territory()
    first["ubigeo"] = "000000"
    assert load_territory()["ubigeo"].iloc[0] == "030202"
    assert len(load_territory(referencia.SHIPPED_TERRITORY)) == 79


# --- territory rules: each error names the file, the line and the rule ----------------------------------


def test_unknown_ubigeo_names_line_and_rule(tmp_path):
    path = write(
        tmp_path,
        HEADER,
        "050401,Ayacucho,Huanta,Huanta,influencia,x",
        "059999,Ayacucho,Huanta,Inventado,por_confirmar,x",
    )
    error = load_error(path)
    assert error.line == 3 and error.rule == "territorio.ubigeo_inei"
    assert str(error).startswith(f"{path}, línea 3: ubigeo 059999 no es un distrito")
    assert "[territorio.ubigeo_inei]" in str(error)


def test_stale_ubigeo_points_to_the_current_code(tmp_path):
    path = write(tmp_path, HEADER, "090708,Huancavelica,Tayacaja,Huaribamba,influencia,x")
    error = load_error(path)
    assert (error.line, error.rule) == (2, "territorio.ubigeo_inei")
    assert "090709" in str(error)


def test_duplicate_ubigeo_names_both_lines(tmp_path):
    path = write(
        tmp_path,
        HEADER,
        "050401,Ayacucho,Huanta,Huanta,influencia,x",
        "050402,Ayacucho,Huanta,Ayahuanco,por_confirmar,x",
        "050401,Ayacucho,Huanta,Huanta,influencia,x",
    )
    error = load_error(path)
    assert (error.line, error.rule) == (4, "territorio.ubigeo_duplicado")
    assert "ya está en la línea 2" in str(error)


def test_duplicate_after_restoring_a_lost_zero_is_still_a_duplicate(tmp_path):
    path = write(tmp_path, HEADER, "030202,Apurímac,Andahuaylas,Andarapa,,", "30202,Apurímac,Andahuaylas,Andarapa,,")
    assert (load_error(path).line, load_error(path).rule) == (3, "territorio.ubigeo_duplicado")


def test_wrong_header_names_expected_and_found(tmp_path):
    path = write(tmp_path, "codigo,departamento,provincia,distrito", "050401,Ayacucho,Huanta,Huanta")
    error = load_error(path)
    assert (error.line, error.rule) == (1, "territorio.cabecera")
    assert f"se esperaba '{HEADER}'" in str(error)
    assert "se encontró 'codigo,departamento,provincia,distrito'" in str(error)
    assert "faltan ubigeo" in str(error)


def test_misspelt_optional_column_is_rejected_not_ignored(tmp_path):
    path = write(tmp_path, "ubigeo,departamento,provincia,distrito,ambitos", "050401,Ayacucho,Huanta,Huanta,influencia")
    error = load_error(path)
    assert (error.line, error.rule) == (1, "territorio.cabecera")
    assert "'ambitos'" in str(error)


def test_malformed_ubigeo(tmp_path):
    path = write(tmp_path, HEADER, "050401,Ayacucho,Huanta,Huanta,,", "5040A1,Ayacucho,Huanta,Ayahuanco,,")
    error = load_error(path)
    assert (error.line, error.rule) == (3, "territorio.ubigeo_formato")
    assert "'5040A1'" in str(error)


def test_wrong_field_count(tmp_path):
    path = write(tmp_path, HEADER, "050401,Ayacucho,Huanta")
    assert (load_error(path).line, load_error(path).rule) == (2, "territorio.campos")


def test_blank_lines_are_skipped_but_still_counted(tmp_path):
    path = write(tmp_path, HEADER, "050401,Ayacucho,Huanta,Huanta,,", "", ",,,,,", "999999,X,X,X,,")
    assert load_error(path).line == 5


def test_header_only_is_an_empty_territory(tmp_path):
    error = load_error(write(tmp_path, HEADER))
    assert error.rule == "territorio.vacio"


def test_five_digit_ubigeo_from_excel_gets_its_zero_back(tmp_path):
    path = write(tmp_path, HEADER, "30202,Apurímac,Andahuaylas,Andarapa,por_confirmar,excel")
    territory = load_territory(path)
    assert territory["ubigeo"].tolist() == ["030202"]
    assert territory_departments(territory) == ["03"]


def test_excel_semicolon_cp1252_file(tmp_path):
    path = write(
        tmp_path,
        "ubigeo;departamento;provincia;distrito",
        "90710;Huancavelica;Tayacaja;Ñahuimpuquio",
        encoding="cp1252",
    )
    territory = load_territory(path)
    assert territory.loc[0, "ubigeo"] == "090710"
    assert territory.loc[0, "distrito"] == "Ñahuimpuquio"


def test_another_district_list_one_department(tmp_path):
    """A plain list of Ayacucho's districts (no ambito/fuente) is a valid territory."""
    ayacucho = ubigeo_table().query("ubigeo.str.startswith('05')")
    path = tmp_path / "ayacucho.csv"
    ayacucho[["ubigeo", "departamento", "provincia", "distrito"]].to_csv(path, index=False)
    territory = load_territory(str(path))
    assert len(territory) == len(ayacucho) == 124
    assert list(territory.columns) == list(referencia.TERRITORY_COLUMNS)
    assert (territory["ambito"] == "").all() and (territory["fuente"] == "").all()
    assert territory_departments(territory) == ["05"]


def test_columns_in_another_order_and_ambito_kept_as_given(tmp_path):
    path = write(
        tmp_path, "distrito,ubigeo,provincia,departamento,ambito", "Pichari,080910,La Convención,Cusco,corredor_sur"
    )
    row = load_territory(path).iloc[0]
    assert (row["ubigeo"], row["distrito"], row["ambito"], row["fuente"]) == ("080910", "Pichari", "corredor_sur", "")


# --- shipped tables ------------------------------------------------------------------------------------


def test_ubigeo_table_and_department_names():
    table = ubigeo_table()
    assert len(table) == 1891 and table["ubigeo"].is_unique
    names = department_names()
    assert len(names) == 25
    assert names["05"] == "Ayacucho" and names["07"] == "Callao" and names["15"] == "Lima"
    assert list(names) == sorted(names)


def test_uit_lookups():
    assert uit_for_year(2024) == 5150.0
    assert uit_for_year(2019) == 4200.0
    assert uit_for_year(2026) == 5500.0
    table = uit_table()
    assert table["anio"].dtype.kind == "i" and table["uit_soles"].dtype.kind == "f"
    assert table["anio"].tolist() == list(range(2015, 2027))


def test_uit_for_a_year_without_decree_is_a_clear_key_error():
    with pytest.raises(KeyError) as info:
        uit_for_year(2031)
    assert isinstance(info.value, MissingUITError)
    assert "2031" in str(info.value) and "uit.csv" in str(info.value) and "2015–2026" in str(info.value)


def test_every_division_maps_to_exactly_one_sector():
    mapping = sector_by_division()
    shipped = referencia.reference_csv("ciiu_division_sector_produce.csv")
    assert shipped["division"].is_unique and len(shipped) == 88
    levels = referencia.reference_csv("ciiu_rev4_niveles.csv")
    assert set(mapping) == set(levels.loc[levels["nivel"] == "division", "codigo"])
    assert set(mapping.values()) == set(SECTORS)
    expected = {
        "01": "agropecuario", "02": "agropecuario", "03": "pesca", "05": "mineria", "06": "mineria",
        "09": "mineria", "10": "manufactura", "33": "manufactura", "35": "servicios", "39": "servicios",
        "41": "construccion", "43": "construccion", "45": "comercio", "47": "comercio", "49": "servicios",
        "84": "servicios", "99": "servicios",
    }  # fmt: skip
    assert {d: mapping[d] for d in expected} == expected


def test_every_class_gets_a_sector():
    classes = ciiu_classes()
    assert len(classes) == 419 and classes["clase"].is_unique
    assert classes["sector"].isin(SECTORS).all()
    assert (classes["clase"].str[:3] == classes["grupo"]).all()
    assert (classes["grupo"].str[:2] == classes["division"]).all()
    assert classes.set_index("clase").loc["0729", "sector"] == "mineria"


def test_taxpayer_types_and_countries():
    types = taxpayer_types()
    assert types["es_negocio"].dtype == bool and types["tipo"].is_unique
    by_type = dict(zip(types["tipo"], types["es_negocio"], strict=True))
    assert by_type["PERSONA NATURAL CON NEGOCIO"] and by_type["SOCIEDAD ANONIMA"]
    assert not by_type["PERSONA NATURAL SIN NEGOCIO"] and not by_type["ASOCIACION"]
    iso = countries()
    assert len(iso) == 249 and iso["iso2"].is_unique
    assert iso.set_index("iso2").loc["PE", "numerico"] == "604"


def test_reference_csv_keeps_codes_as_strings_and_returns_copies():
    table = referencia.reference_csv("sbs_tipo_credito.csv")
    assert table["codigo"].tolist() == ["06", "07", "08", "09", "10", "11", "12", "13"]
    table.loc[0, "codigo"] = "XX"
    assert referencia.reference_csv("sbs_tipo_credito.csv").loc[0, "codigo"] == "06"
    assert isinstance(referencia.reference_csv("uit.csv"), pd.DataFrame)


@pytest.mark.parametrize(
    ("file", "name"),
    [
        ("vraem_distritos.csv", "VRAEM"),  # an acronym: capitals
        ("ayacucho_distritos.csv", "Ayacucho"),  # a department: INEI's spelling
        ("JUNIN.csv", "Junín"),  # accents restored, case ignored
        ("corredor_minero_sur.csv", "CORREDOR MINERO SUR"),  # anything else: capitals, `_` as spaces
    ],
)
def test_territory_name_from_its_file_name(file, name):
    assert referencia.territory_name(f"/x/{file}") == name


def test_shipped_example_territory_is_one_whole_department():
    example = referencia.load_territory(referencia.REFERENCE_DIR / "ayacucho_distritos.csv")
    every = referencia.ubigeo_table()
    assert set(example["ubigeo"]) == set(every.loc[every["ubigeo"].str.startswith("05"), "ubigeo"])
