"""A second territory end to end: the shipped Ayacucho file (one whole department, 124 districts) over the small
sample, from `vraem sample-data` to the published warehouse. Every figure is checked against a fact derivable by
hand from the operator database: a whole department is its own only department, with every firm located in it.
The sample is the session's (`conftest.small_sample`, written by `vraem sample-data`)."""

from pathlib import Path

import pytest

from tests.support.runs import materialize, operator, query
from vraem_pipeline import cli
from vraem_pipeline.core.references import territory_name

pytestmark = pytest.mark.slow

AYACUCHO = Path(cli.__file__).parent / "reference" / "ayacucho_distritos.csv"


def test_ayacucho_refreshed_end_to_end_from_the_small_sample(small_sample, env):
    warehouse = env(small_sample, territory=AYACUCHO)
    result = materialize((2019, 2024))
    assert result.success
    assert territory_name(AYACUCHO) == "Ayacucho"

    assert query(warehouse, "SELECT count(*) AS n FROM referencia.territorio")["n"][0] == 124
    assert query(warehouse, "SELECT territorio FROM meta.ejecuciones")["territorio"].tolist() == [str(AYACUCHO)]

    by_dept = query(warehouse, "SELECT * FROM marts.empresas_por_departamento ORDER BY anio")
    assert set(by_dept["ubigeo_departamento"]) == {"05"} and by_dept["anio"].tolist() == list(range(2019, 2025))
    assert by_dept["participacion_pct"].tolist() == pytest.approx([100.0] * 6)

    # the whole department: every formal firm whose ubigeo starts with 05, counted in the operator database
    formal_05 = query(
        operator(warehouse),
        "SELECT anio, count(*) AS n FROM intermedio.empresas_formales "
        "WHERE ubigeo LIKE '05%' GROUP BY anio ORDER BY anio",
    )
    evolucion = query(warehouse, "SELECT anio, n_empresas FROM marts.empresas_evolucion ORDER BY anio")
    assert evolucion["n_empresas"].tolist() == formal_05["n"].tolist() and min(formal_05["n"]) > 0
    assert by_dept["n_empresas"].tolist() == formal_05["n"].tolist()
    clave = query(
        warehouse, "SELECT anio, valor FROM marts.indicadores_clave WHERE indicador = 'empresas_formales' ORDER BY anio"
    )
    assert clave["valor"].tolist() == formal_05["n"].tolist()

    # the cross-source warnings hold on a real run, and their bounds are published with the figures
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["coherencia_territorio_no_supera_nacional"] and checks["coherencia_participaciones_suman_100"]
    bounds = query(warehouse, "SELECT nombre, valor FROM meta.parametros WHERE tema = 'coherencia'")
    assert dict(zip(bounds["nombre"], bounds["valor"], strict=False))["salto_maximo_montos"] == "100.0"
