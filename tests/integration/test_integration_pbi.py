"""Materialize the real GDP assets in-process: INEI's real workbook, hand-built firms, and the small sample.

Hand-worked scenario (territory = the shipped VRAEM list; departments 03, 05, 08, 09, 12):

2024 formal firms, declared sales in soles —
  in the territory:   Huanta 050401 200,000 · Pichari 080910 300,000 · Pampas 090701 100,000 ·
                      Mazamari 120604 400,000 · Andarapa 030202 50,000
  outside it, in the same departments (capitals): Huamanga 800,000 · Cusco 2,700,000 · Huancavelica 400,000 ·
                      Huancayo 3,600,000 · Abancay 450,000;   Lima 10,000,000 (no territory district: share 0)
  shares: Ayacucho 200/1,000 = 0.2 · Cusco 300/3,000 = 0.1 · Huancavelica 100/500 = 0.2 · Junín 400/4,000 = 0.1 ·
          Apurímac 50/500 = 0.1
  INEI 2024 (miles): 03 7,219,959 · 05 6,212,319 · 08 22,767,865 · 09 3,912,627 · 12 15,992,658
  zone = 721,995.9 + 1,242,463.8 + 2,276,786.5 + 782,525.4 + 1,599,265.8 = 6,623,037.4 miles = S/ 6,623.0374 M
  share of PBI 585,617,509 = 1.1309 %; of VAB 533,152,582 = 1.2422 %
2023: formal firms only in Ayacucho → Apurímac, Cusco, Huancavelica and Junín have no share: 2023 is left out
  (intermedio.pbi_omitidos, warning check), never allocated as a smaller zone.
"""

import dagster as dg
import duckdb
import openpyxl
import pytest

from tests.support.builders import padron_row, ruc, write_padron, write_ventas
from tests.support.inei_workbooks import total_workbook
from tests.support.reconciliation import misses
from tests.support.runs import materialize, operator, query
from vraem_pipeline.core.reconciliation import reconcile
from vraem_pipeline.core.run_copy import failed_build_path
from vraem_sample.pbi import write_pbi

pytestmark = pytest.mark.slow

FIRMS_2024 = [
    ("050401", 200_000),
    ("080910", 300_000),
    ("090701", 100_000),
    ("120604", 400_000),
    ("030202", 50_000),
    ("050101", 800_000),
    ("080101", 2_700_000),
    ("090101", 400_000),
    ("120101", 3_600_000),
    ("030101", 450_000),
    ("150101", 10_000_000),
]
ZONE_2024_THOUSANDS = 0.1 * 7_219_959 + 0.2 * 6_212_319 + 0.1 * 22_767_865 + 0.2 * 3_912_627 + 0.1 * 15_992_658


def write_firms(raw):
    rucs = [ruc("20", 30_000_000 + i) for i in range(len(FIRMS_2024))]
    write_padron(raw, 2024, 12, [padron_row(r, ubigeo=u) for r, (u, _) in zip(rucs, FIRMS_2024, strict=False)])
    write_ventas(raw, 2024, [(r, 2024, f"{v}.00") for r, (_, v) in zip(rucs, FIRMS_2024, strict=False)])
    write_padron(
        raw,
        2023,
        12,
        [
            padron_row(rucs[0], ubigeo="050401", periodo="202312"),
            padron_row(rucs[5], ubigeo="050101", periodo="202312"),
        ],
    )
    write_ventas(raw, 2023, [(rucs[0], 2023, "100.00"), (rucs[5], 2023, "300.00")])


def test_gdp_from_inei_real_workbook_and_declared_sales(tmp_path, env):
    raw = tmp_path / "raw"
    write_firms(raw)
    write_pbi(raw)
    total_workbook(raw / "inei" / "vab" / "pbi_2025.xlsx", "Con información disponible a marzo del 2025")
    warehouse = env(raw)
    result = materialize((2023, 2024))
    assert result.success

    ev = query(warehouse, "SELECT * FROM marts.pbi_evolucion ORDER BY anio")
    assert ev["anio"].tolist() == [2024]
    assert (
        ev["vab_millones_soles_2007"].iloc[0] == pytest.approx(ZONE_2024_THOUSANDS / 1000) == pytest.approx(6623.0374)
    )
    assert ev["participacion_nacional_pct"].iloc[0] == pytest.approx(100 * ZONE_2024_THOUSANDS / 585_617_509)
    dept = query(warehouse, "SELECT * FROM marts.pbi_por_departamento WHERE anio = 2024 ORDER BY ubigeo_departamento")
    assert dict(zip(dept["ubigeo_departamento"], dept["participacion_territorio_pct"].round(9), strict=False)) == {
        "03": 10.0,
        "05": 20.0,
        "08": 10.0,
        "09": 20.0,
        "12": 10.0,
    }
    assert dept["departamento"].tolist() == ["Apurímac", "Ayacucho", "Cusco", "Huancavelica", "Junín"]
    assert set(dept["estado_cifra"]) == {"preliminar"}
    assert dept["vab_territorio_millones_soles_2007"].sum() == pytest.approx(ev["vab_millones_soles_2007"].iloc[0])

    key = query(warehouse, "SELECT * FROM marts.indicadores_clave WHERE indicador LIKE 'pbi%' ORDER BY indicador")
    assert key[["anio", "indicador", "unidad"]].values.tolist() == [
        [2024, "pbi_participacion_nacional_pct", "%"],
        [2024, "pbi_vraem_millones_soles_2007", "millones S/ de 2007"],
    ]
    assert key["valor"].tolist() == pytest.approx([100 * ZONE_2024_THOUSANDS / 585_617_509, ZONE_2024_THOUSANDS / 1000])
    assert all("preliminar (P/)" in d for d in key["descripcion"])
    assert "PBI nacional" in key["descripcion"].iloc[0] and "junio del 2026" in key["fuente"].iloc[0]

    fuentes = query(warehouse, "SELECT * FROM meta.fuentes WHERE fuente = 'inei_vab'")
    assert (
        len(fuentes) == 1 and fuentes["archivo"].iloc[0].endswith("pbi_peru_17.xlsx") and fuentes["anio"].isna().all()
    )
    assert fuentes[["filas_leidas", "filas_aceptadas", "filas_rechazadas"]].values.tolist() == [[589, 589, 0]]
    nota = fuentes["nota"].iloc[0]
    assert "Con información disponible a junio del 2026" in nota
    assert "pbi_2025.xlsx (edición anterior (Con información disponible a marzo del 2025))" in nota

    dic = query(warehouse, "SELECT columna, descripcion FROM meta.diccionario WHERE esquema = 'meta'")
    dic = dict(zip(dic["columna"], dic["descripcion"], strict=False))
    assert 'Valor usado: "ventas_declaradas"' in dic["pbi.metodo_participacion"]
    assert 'Valor usado: "pbi"' in dic["pbi.denominador"] and "impuestos a los productos" in dic["pbi.denominador"]
    assert "marts" in set(
        query(warehouse, "SELECT esquema FROM meta.diccionario WHERE tabla = 'pbi_evolucion'")["esquema"]
    )
    assert len(query(warehouse, "SELECT * FROM referencia.ciiu_division_actividad_inei")) == 88

    omitted = query(operator(warehouse), "SELECT anio, ubigeo_departamento FROM intermedio.pbi_omitidos ORDER BY ALL")
    assert omitted.values.tolist() == [[2023, "03"], [2023, "08"], [2023, "09"], [2023, "12"]]
    checks = {(e.asset_key.path[-1], e.check_name): e.passed for e in result.get_asset_check_evaluations()}
    assert checks[("inei_vab", "esquema")] and checks[("inei_vab", "consistencia")]
    assert checks[("pbi_asignacion", "asignacion_coherente")]
    assert checks[("pbi_asignacion", "participaciones_completas")] is False  # 2023 left out, and said so


def test_share_table_and_vab_denominator(tmp_path, env):
    """The user's table replaces declared sales: Ayacucho 12.5 % for every year, the others 0 except Cusco
    agriculture… (no per-activity GDP here, so Cusco's total row of 2024, 1 %, is used)."""
    raw = tmp_path / "raw"
    write_firms(raw)
    write_pbi(raw)
    (raw / "inei" / "participaciones_territorio.csv").write_text(
        "ubigeo_departamento,actividad,anio,participacion_pct\n05,total,,12.5\n08,total,2024,1\n08,total,,0\n"
        "03,total,,0\n09,total,,0\n12,total,,0\n",
        encoding="utf-8",
    )
    warehouse = env(raw)
    from vraem_pipeline.definitions import defs

    d = defs()
    result = dg.materialize(
        [*d.assets, *d.asset_checks],
        resources=d.resources,
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
        tags={"dagster/asset_partition_range_start": "2023", "dagster/asset_partition_range_end": "2024"},
        run_config={"ops": {"pbi": {"config": {"denominador": "vab"}}}},
    )
    assert result.success
    ev = query(warehouse, "SELECT * FROM marts.pbi_evolucion WHERE anio IN (2023, 2024) ORDER BY anio")
    # 2024: 0.125 × 6,212,319 + 0.01 × 22,767,865 = 776,539.875 + 227,678.65 = 1,004,218.525 miles
    # 2023: 0.125 × 5,913,691 = 739,211.375 miles (Cusco's every-year row says 0)
    assert ev["vab_millones_soles_2007"].tolist() == pytest.approx([739.211375, 1004.218525])
    assert ev["participacion_nacional_pct"].tolist() == pytest.approx(
        [100 * 739_211.375 / 515_116_322, 100 * 1_004_218.525 / 533_152_582]
    )
    years = query(warehouse, "SELECT min(anio) AS a, max(anio) AS b FROM marts.pbi_evolucion")
    assert (years["a"][0], years["b"][0]) == (2007, 2025)  # a table without years applies to the whole series
    params = query(warehouse, "SELECT nombre, valor FROM meta.parametros WHERE tema = 'pbi'")
    params = dict(zip(params["nombre"], params["valor"], strict=False))
    assert (params["metodo_participacion"], params["denominador"]) == ('"tabla"', '"vab"')
    f = query(warehouse, "SELECT archivo, filas_leidas FROM meta.fuentes WHERE fuente = 'inei_participaciones'")
    assert f["archivo"].iloc[0].endswith("participaciones_territorio.csv") and f["filas_leidas"].iloc[0] == 6


def test_an_inconsistent_workbook_blocks_publication(tmp_path, env):
    """Ayacucho 2024 written as 'n.d.': the cell goes to quarantine with its row and year, the table no longer
    has 25 departments in 2024, the blocking check fails and nothing is published."""
    raw = tmp_path / "raw"
    write_firms(raw)
    path = write_pbi(raw)
    wb = openpyxl.load_workbook(path)
    wb["cuadro1"]["S13"] = "n.d."  # row 13 = Ayacucho, column S = 2024P/
    wb.save(path)
    warehouse = env(raw)
    result = materialize((2024, 2024))
    assert not warehouse.exists()
    checks = {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}
    assert checks[("inei_vab", "consistencia")].passed is False
    assert "departamentos_25" in str(checks[("inei_vab", "consistencia")].metadata["detalle"].value)
    # the operator database did not change (the run did not publish); the failed build is kept beside it
    assert not operator(warehouse).exists()
    failed = failed_build_path(operator(warehouse))
    q = query(failed, "SELECT anio, linea, regla, registro_crudo FROM quarantine.inei_vab")
    assert q[["anio", "linea", "regla"]].values.tolist() == [[2024, 13, "tipo_de_dato"]]
    assert '"columna": "S"' in q["registro_crudo"].iloc[0] and "n.d." in q["registro_crudo"].iloc[0]
    f = query(
        failed, "SELECT filas_leidas, filas_aceptadas, filas_rechazadas FROM meta.fuentes WHERE fuente = 'inei_vab'"
    )
    assert f.values.tolist() == [[589, 588, 1]]


def test_small_sample_reconciles_the_published_gdp(small_published):
    """`vraem sample-data --scale small` (default seed): firm files and INEI's workbook among the rest; its refresh
    (`conftest.small_published`) lands on the published S/ 1,093 millones and 0.2 % at print precision."""
    con = duckdb.connect(str(small_published.operator), read_only=True)
    try:
        table = reconcile(con)
        years = [r[0] for r in con.execute("SELECT anio FROM marts.pbi_evolucion ORDER BY anio").fetchall()]
    finally:
        con.close()
    gdp = table[table["indicador"].str.startswith("pbi_")]
    assert sorted(gdp["indicador"]) == ["pbi_participacion_nacional_pct", "pbi_vraem_millones_soles_2007"]
    assert misses(gdp) == [], "\n".join(misses(gdp))  # a figure never computed is a miss, not a skip
    assert abs(gdp.set_index("indicador").loc["pbi_vraem_millones_soles_2007", "diferencia"]) < 1e-6  # the centre
    assert years == list(range(2019, 2025))
