"""Materialize the real firm assets in-process on hand-built files in the published formats."""

import pytest

from tests.support.runs import materialize, operator, query
from tests.support.scenario import EXPECTED_2023, EXPECTED_2024

pytestmark = pytest.mark.slow


def _marts_snapshot(path, raws=()):
    """The firm marts and the rows of staging and quarantine, as sorted CSV lines; each folder of `raws` written
    as `raw` (a row names its file by absolute path: a copy's rows name the copy's)."""
    marts = [
        "marts.empresas_evolucion",
        "marts.empresas_por_sector",
        "marts.empresas_por_departamento",
        "marts.empresas_por_estrato",
        "marts.indicadores_clave",
    ]
    rows = ["staging.padron_ruc", "staging.ventas_declaradas", "quarantine.padron_ruc", "quarantine.ventas_declaradas"]

    def lines(db, table):
        text = query(db, f"SELECT * FROM {table}").to_csv(index=False)
        for raw in raws:
            text = text.replace(str(raw), "raw")
        header, *body = text.splitlines()
        return [header, *sorted(body)]

    return {**{t: lines(path, t) for t in marts}, **{t: lines(operator(path), t) for t in rows}}


def test_two_years_then_rerun_one_is_identical(scenario_published, scenario_copy):
    raw, warehouse = scenario_copy  # the two years materialized once for the session (conftest.scenario_published)
    ev = query(warehouse, "SELECT anio, n_empresas, var_pct FROM marts.empresas_evolucion ORDER BY anio")
    assert ev["n_empresas"].tolist() == [EXPECTED_2023["territorio"], EXPECTED_2024["territorio"]]
    assert ev["var_pct"].iloc[1] == pytest.approx(75.0)

    for block, col in [("estrato", "estrato"), ("sector", "sector"), ("departamento", "ubigeo_departamento")]:
        got = query(
            warehouse, f"SELECT {col}, n_empresas FROM marts.empresas_por_{block} WHERE anio = 2024 AND n_empresas > 0"
        )
        assert dict(zip(got[col], got["n_empresas"], strict=False)) == EXPECTED_2024[block]

    key = query(warehouse, "SELECT indicador, valor FROM marts.indicadores_clave WHERE anio = 2024").set_index(
        "indicador"
    )["valor"]
    assert key["empresas_formales"] == 7
    assert key["empresas_participacion_nacional_pct"] == pytest.approx(100 * 7 / 9)
    assert key["ventas_millones_soles"] == pytest.approx(EXPECTED_2024["ventas_millones"])
    assert key["empresas_var_anual_pct"] == pytest.approx(75.0)
    assert key["empresas_tcpa_pct"] == pytest.approx(75.0)

    fuentes = query(warehouse, "SELECT * FROM meta.fuentes WHERE anio = 2024").set_index("fuente")
    for fuente, label in [("padron_ruc", "padron"), ("ventas_declaradas", "ventas")]:
        exp = EXPECTED_2024[label]
        got = fuentes.loc[fuente]
        assert (got["filas_leidas"], got["filas_aceptadas"], got["filas_rechazadas"]) == (
            exp["leidas"],
            exp["aceptadas"],
            exp["rechazadas"],
        )
        assert got["filas_leidas"] == got["filas_aceptadas"] + got["filas_rechazadas"]
    assert "202406" in fuentes.loc["padron_ruc", "nota"]  # the superseded cut is named as ignored

    q = query(operator(warehouse), "SELECT linea, regla FROM quarantine.padron_ruc WHERE anio = 2024 ORDER BY linea")
    assert q.values.tolist() == [[5, "numero_de_campos"], [16, "ruc_digito_verificador"], [17, "clave_duplicada"]]

    raws = (scenario_published.raw, raw)  # the rerun reads the copy's files, which are the session's
    before = _marts_snapshot(warehouse, raws)
    again = materialize((2024, 2024))
    assert again.success
    assert _marts_snapshot(warehouse, raws) == before


def test_another_territory_changes_marts_not_staging(scenario_raw, env, tmp_path):
    territory = tmp_path / "solo_ayacucho.csv"
    territory.write_text(
        "ubigeo,departamento,provincia,distrito\n050401,Ayacucho,Huanta,Huanta\n"
        "050402,Ayacucho,Huanta,Ayahuanco\n050501,Ayacucho,La Mar,San Miguel\n",
        encoding="utf-8",
    )
    warehouse = env(scenario_raw, territory=territory)
    assert materialize((2023, 2024)).success
    got = query(
        warehouse, "SELECT ubigeo_departamento, n_empresas FROM marts.empresas_por_departamento WHERE anio = 2024"
    )
    assert got.values.tolist() == [["05", 3]]
    assert query(operator(warehouse), "SELECT count(*) n FROM staging.padron_ruc WHERE anio = 2024")["n"][0] == 15


def test_blocking_check_results_are_recorded(scenario_published):
    """The checks' results of the session's run of the scenario (2023, 2024: conftest.scenario_published)."""
    evaluations = {key: e.passed for key, e in scenario_published.checks.items()}
    assert evaluations[("staging/padron_ruc", "esquema")] is True
    assert evaluations[("staging/ventas_declaradas", "esquema")] is True
    assert evaluations[("marts/empresas_por_estrato", "participaciones_suman_100")] is True
    assert evaluations[("intermedio/empresas_formales", "sector_sin_clasificar")] is False  # 1 of 9 = 11 %
    unclassified = scenario_published.checks[("intermedio/empresas_formales", "sector_sin_clasificar")]
    assert unclassified.metadata["max_pct"].value == pytest.approx(100 / 9, abs=1e-3)  # 2024's; 2023 has none


def test_firms_without_sales_get_their_own_stratum_when_the_rule_admits_them(scenario_raw, env):
    import dagster as dg

    from vraem_pipeline.definitions import defs

    warehouse = env(scenario_raw)
    d = defs()
    result = dg.materialize(
        [*d.assets, *d.asset_checks],
        resources=d.resources,
        instance=dg.DagsterInstance.ephemeral(),
        partition_key="2024",
        raise_on_error=False,
        run_config={"ops": {"empresas_anual": {"config": {"exigir_ventas_positivas": False}}}},
    )
    assert result.success
    got = query(warehouse, "SELECT estrato, n_empresas FROM marts.empresas_por_estrato WHERE anio = 2024")
    # R11 (sales 0), R12 (not declared) and R13 (no sales row) are now formal, in Ayacucho, without a stratum.
    assert dict(zip(got["estrato"], got["n_empresas"], strict=False)) == {
        "micro": 3,
        "pequena": 2,
        "mediana": 1,
        "grande": 1,
        "sin_ventas": 3,
    }
    params = query(warehouse, "SELECT valor FROM meta.parametros WHERE nombre = 'exigir_ventas_positivas'")
    assert params["valor"][0] == "false"
