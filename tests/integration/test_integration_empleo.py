"""Materialize the employment assets in-process on ENAHO files written the way INEI publishes them."""

import json

import pytest

from tests.support.runs import materialize, operator, query

pytestmark = pytest.mark.slow


def test_employment_marts_with_cvs(enaho_scenario_published):
    """ENAHO small 2023 and 2024 (beside the firm scenario) materialized once for the session
    (conftest.escenario_enaho_publicado)."""
    warehouse = enaho_scenario_published.almacen
    fuentes = query(warehouse, "SELECT * FROM meta.fuentes WHERE fuente LIKE 'enaho%' ORDER BY fuente, anio")
    assert len(fuentes) == 4
    assert (fuentes["filas_leidas"] == fuentes["filas_aceptadas"] + fuentes["filas_rechazadas"]).all()
    assert (fuentes.loc[fuentes["fuente"] == "enaho_personas", "filas_rechazadas"] > 0).all()  # planted dirt

    evo = query(warehouse, "SELECT * FROM marts.empleo_evolucion ORDER BY anio")
    sexo = query(warehouse, "SELECT * FROM marts.empleo_por_sexo ORDER BY anio, sexo")
    tipo = query(warehouse, "SELECT * FROM marts.empleo_por_tipo ORDER BY anio, tipo_empleo")
    for table in (evo, sexo, tipo):
        assert table["cv_pct"].between(0, 100).all()
        assert (table["referencial"] == (table["cv_pct"] > 15)).all()
    by_year = sexo.groupby("anio")
    assert by_year["participacion_pct"].sum().tolist() == pytest.approx([100.0, 100.0])
    assert by_year["trabajadores"].sum().tolist() == pytest.approx(evo["pea_ocupada"].tolist())
    assert evo.loc[1, "var_pct"] == pytest.approx(100 * (evo.loc[1, "pea_ocupada"] / evo.loc[0, "pea_ocupada"] - 1))

    key = query(warehouse, "SELECT anio, indicador FROM marts.indicadores_clave WHERE indicador LIKE 'empleo%'")
    codes_2024 = set(key.loc[key["anio"] == 2024, "indicador"])
    assert {
        "empleo_pea_ocupada",
        "empleo_participacion_nacional_pct",
        "empleo_informal_pct",
        "empleo_mujeres_pct",
        "empleo_informal_mype_pct",
        "empleo_var_anual_pct",
        "empleo_tcpa_pct",
        "empleo_var_promedio_anual_pct",
    } <= codes_2024
    precision = query(warehouse, "SELECT * FROM marts.empleo_precision WHERE indicador = 'empleo_pea_ocupada'")
    assert precision["cv_pct"].notna().all()

    params = query(warehouse, "SELECT nombre, valor, descripcion FROM meta.parametros WHERE tema = 'empleo'").set_index(
        "nombre"
    )
    assert json.loads(params.loc["fuente_informalidad", "valor"]) == {"2023": "oficial", "2024": "reconstruido"}
    assert json.loads(params.loc["variante_mype", "valor"]) == "A"
    dic = query(warehouse, "SELECT * FROM meta.diccionario WHERE tabla = 'empleo_precision'")
    assert len(dic) == 8  # table row + 7 columns
    mype = query(warehouse, "SELECT descripcion FROM meta.diccionario WHERE columna = 'empleo.variante_mype'")
    assert 'Valor usado: "A"' in mype["descripcion"][0] and "p512a" in mype["descripcion"][0]

    cmp = query(operator(warehouse), "SELECT * FROM intermedio.informalidad_comparacion")
    assert cmp["anio"].tolist() == [2023, 2023]  # 2024 has no official flag to compare with
    checks = enaho_scenario_published.checks
    assert checks[("intermedio/informalidad_comparacion", "reconstruccion_dentro_de_tolerancia")].passed
    assert checks[("staging/enaho_personas", "esquema")].passed


def test_a_missing_required_column_fails_naming_the_file(enaho_scenario_published, env, tmp_path):
    import shutil

    raw = tmp_path / "raw"
    shutil.copytree(enaho_scenario_published.raw / "enaho", raw / "enaho")  # the ENAHO files alone
    year_dir = raw / "enaho" / "2024"
    for f in year_dir.iterdir():
        if "Modulo05" in f.name:
            f.unlink()
    import pandas as pd
    import pyreadstat

    pd.DataFrame({"conglome": ["000001"], "fac500a": [1.0]}).pipe(
        lambda df: pyreadstat.write_dta(df, str(year_dir / "enaho01a-2024-500.dta"))
    )
    env(raw)
    result = materialize((2024, 2024))
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = str(failure.event_specific_data.error.cause or failure.event_specific_data.error)
    assert "enaho01a-2024-500.dta" in message
