"""Materialize the real credit assets in-process on the hand-worked scenario; and the small sample refreshed by the
CLI (the session's, `conftest.small_published`), which must reproduce the published credit figures."""

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.support.reconciliation import misses
from tests.support.runs import materialize, materialize_once, materialized_copy, operator, query
from tests.support.scenario_credit import (
    DNI_H,
    DNI_P,
    DNI_WITHOUT_RUC,
    DNI_Z,
    EXPECTED_2023,
    EXPECTED_2024,
    EXPECTED_QUARANTINE_2024,
    H10,
    P10,
    Z10,
    Q,
    write_credit_scenario,
)

pytestmark = pytest.mark.slow

#: A RUC 10 or a DNI standing alone in a text value (the analysts' file must have none).
PERSONAL_ID = r"(^|[^0-9A-Za-z])(10[0-9]{9}|[0-9]{8})([^0-9A-Za-z]|$)"


@pytest.fixture(scope="module")
def credit_published(tmp_path_factory):
    """The credit scenario (2023, 2024) materialized and published once; read it, or work on a copy."""
    base = tmp_path_factory.mktemp("credito")
    write_credit_scenario(base / "raw")
    return materialize_once(base, (2023, 2024))


def _credit_marts(path: Path) -> dict[str, str]:
    tables = [
        "marts.credito_evolucion",
        "marts.credito_por_tipo",
        "marts.credito_por_departamento",
        "marts.indicadores_clave",
    ]
    return {t: query(path, f"SELECT * FROM {t} ORDER BY ALL").to_csv(index=False) for t in tables}


def test_scenario_figures_quarantine_and_rerun(credit_published, tmp_path, env):
    raw, warehouse = materialized_copy(credit_published, tmp_path)
    env(raw, warehouse)

    ev = query(warehouse, "SELECT anio, credito_millones_soles, var_pct FROM marts.credito_evolucion ORDER BY anio")
    assert ev["credito_millones_soles"].tolist() == pytest.approx(
        [EXPECTED_2023["total"] / 1e6, EXPECTED_2024["total"] / 1e6]
    )
    assert ev["var_pct"].iloc[1] == pytest.approx(100 * (EXPECTED_2024["total"] / EXPECTED_2023["total"] - 1))
    tipo = query(warehouse, "SELECT tipo_credito, credito_millones_soles FROM marts.credito_por_tipo WHERE anio = 2024")
    assert dict(zip(tipo["tipo_credito"], tipo["credito_millones_soles"] * 1e6, strict=False)) == pytest.approx(
        EXPECTED_2024["tipo"]
    )
    dept = query(
        warehouse,
        "SELECT ubigeo_departamento, credito_millones_soles, participacion_pct "
        "FROM marts.credito_por_departamento WHERE anio = 2024",
    )
    assert dict(zip(dept["ubigeo_departamento"], dept["credito_millones_soles"] * 1e6, strict=False)) == pytest.approx(
        EXPECTED_2024["departamento"]
    )
    assert dept.set_index("ubigeo_departamento").loc["09", "participacion_pct"] == 0.0  # Huancavelica, printed 0

    key = (
        query(
            warehouse,
            "SELECT indicador, valor FROM marts.indicadores_clave WHERE anio = 2024 AND indicador LIKE 'credito%'",
        )
        .set_index("indicador")["valor"]
        .to_dict()
    )
    change = 100 * (EXPECTED_2024["total"] / EXPECTED_2023["total"] - 1)
    assert key == pytest.approx(
        {
            "credito_millones_soles": EXPECTED_2024["total"] / 1e6,
            "credito_var_anual_pct": change,
            "credito_tcpa_pct": change,
            "credito_var_promedio_anual_pct": change,
        }
    )

    fuentes = query(warehouse, "SELECT * FROM meta.fuentes WHERE fuente = 'sbs_deudores' ORDER BY anio")
    assert fuentes[["filas_leidas", "filas_aceptadas", "filas_rechazadas"]].values.tolist() == [
        [4, 4, 0],
        list(EXPECTED_2024["lineas"].values()),
    ]
    assert fuentes["archivo"].iloc[0].endswith("deudores_202312.zip")
    q = query(operator(warehouse), "SELECT linea, regla FROM quarantine.sbs_deudores WHERE anio = 2024 ORDER BY linea")
    assert [tuple(r) for r in q.values.tolist()] == EXPECTED_QUARANTINE_2024

    checks = credit_published.checks
    assert checks[("staging/sbs_deudores", "esquema")].passed
    assert checks[("marts/credito_por_tipo", "participaciones_suman_100")].passed
    unlocated = checks[("intermedio/credito_empresarial", "deudores_sin_ubicar")]
    assert not unlocated.passed and unlocated.severity == dg.AssetCheckSeverity.WARN  # 2023: 66.7 % unlocated
    assert unlocated.metadata["deudores_sin_ubicar"].value == 1 + EXPECTED_2024["sin_ubicar"]["deudores"]
    assert unlocated.metadata["max_saldo_sin_ubicar_pct"].value == pytest.approx(
        EXPECTED_2023["sin_ubicar_pct"], abs=1e-3
    )
    assert "fuera_del_padron" in unlocated.metadata["por_motivo"].value

    params = query(warehouse, "SELECT nombre, valor FROM meta.parametros WHERE tema = 'credito'")
    assert set(params["nombre"]) >= {"tipos_credito_empresarial", "monto", "ubicacion", "ubicacion_por_documento"}
    assert '"06", "07", "08", "09", "10"' in params.set_index("nombre").loc["tipos_credito_empresarial", "valor"]
    dic = query(warehouse, "SELECT tabla, columna, descripcion FROM meta.diccionario")
    assert {"credito_evolucion", "credito_por_tipo", "credito_por_departamento", "sbs_deudores"} <= set(dic["tabla"])
    assert dic["descripcion"].str.contains("otorgado").any() and dic["descripcion"].str.contains("diciembre").any()
    ref = query(warehouse, "SELECT codigo, clave, credito_empresarial FROM referencia.tipos_credito ORDER BY codigo")
    assert ref["credito_empresarial"].tolist() == [True] * 5 + [False] * 3

    before = _credit_marts(warehouse)
    assert materialize((2024, 2024)).success  # one year again: same marts, 2023 left in place
    assert _credit_marts(warehouse) == before


def test_no_dni_or_ruc10_reaches_the_analysts_file(credit_published):
    """Debtors' DNIs and RUC 10 are personal data under banking secrecy: they stay in the operator database."""
    warehouse = credit_published.almacen
    assert set(query(warehouse, "SELECT DISTINCT schema_name FROM duckdb_tables()")["schema_name"]) == {
        "marts",
        "meta",
        "referencia",
    }
    personal = [DNI_P, DNI_Z, DNI_H, DNI_WITHOUT_RUC, P10, Z10, H10, Q]
    texts = query(
        warehouse, "SELECT schema_name, table_name, column_name FROM duckdb_columns() WHERE data_type = 'VARCHAR'"
    )
    found = []
    con = duckdb.connect(str(warehouse), read_only=True)  # one connection for the whole scan
    try:
        for schema, table, column in texts.itertuples(index=False):
            # a run id is a random UUID: its first group is 8 digits now and then, and it identifies nobody
            pattern = (
                "false"
                if (table, column) == ("ejecuciones", "run_id")
                else f"regexp_matches(\"{column}\", '{PERSONAL_ID}')"
            )
            exact = " OR ".join(f"contains(\"{column}\", '{p}')" for p in personal)
            n = con.execute(f"SELECT count(*) AS n FROM {schema}.{table} WHERE {pattern} OR {exact}").fetchone()[0]
            if n:
                found.append((schema, table, column))
    finally:
        con.close()
    assert found == []
    # ... while the operator database does hold them, row by row
    op = query(
        operator(warehouse),
        f"SELECT count(*) AS n FROM intermedio.credito_empresarial "
        f"WHERE numero_documento = '{DNI_P}' AND ruc_ubicacion = '{P10}'",
    )
    assert op["n"][0] == 2  # 2023 and 2024


def test_small_sample_reproduces_the_published_credit_figures(small_published, tmp_path):
    """The session's small sample refreshed by `vraem refresh` (`conftest.small_published`); its debtor files are
    the credit generator's, byte for byte, whose line counts the generator reports here."""
    from vraem_pipeline.core.reconciliation import reconcile
    from vraem_sample.credito import DEUDORES_DIRT, DIRT_RULE, write_credito

    counts: dict = {}
    for path in write_credito(tmp_path / "raw", scale="small", counts=counts):
        shared = small_published.raw / path.relative_to(tmp_path / "raw")
        assert shared.read_bytes() == path.read_bytes(), shared

    con = duckdb.connect(str(small_published.operator), read_only=True)
    try:
        table = reconcile(con)
        quarantined = con.execute(
            "SELECT anio, regla, columna, count(*) FROM quarantine.sbs_deudores GROUP BY ALL"
        ).fetchall()
        fuentes = con.execute(
            "SELECT anio, filas_leidas, filas_aceptadas, filas_rechazadas FROM meta.fuentes "
            "WHERE fuente = 'sbs_deudores' ORDER BY anio"
        ).fetchall()
    finally:
        con.close()
    credit = table[table["indicador"].str.startswith("credito")]
    assert len(credit) == 11, credit.drop(columns="texto_publicado").to_string()
    assert misses(credit) == [], "\n".join(misses(credit))  # a figure never computed is a miss, not a skip

    expected: dict = {}
    for anio in range(2019, 2025):
        for kind, n in DEUDORES_DIRT["small"].items():
            regla, columna = DIRT_RULE[kind]
            expected[(anio, regla, columna)] = expected.get((anio, regla, columna), 0) + n
    assert {(a, r, c): n for a, r, c, n in quarantined} == expected
    for anio, read_rows, accepted_rows, rejected_rows in fuentes:
        assert read_rows == counts[anio]["lineas_datos"] == accepted_rows + rejected_rows
        assert rejected_rows == sum(DEUDORES_DIRT["small"].values())
    unlocated = small_published.checks[("intermedio/credito_empresarial", "deudores_sin_ubicar")]
    assert unlocated.passed and unlocated.metadata["deudores_sin_ubicar"].value > 0  # present, and reported
