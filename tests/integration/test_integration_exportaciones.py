"""Materialize the real export assets in-process on hand-built Aduanet DBFs and pipe deliveries.

Hand-worked scenario (territory = the VRAEM's departments 03, 05, 08, 09, 12):

2024 — two overlapping weekly zips and December's pipe delivery, all present:
  pipe   l2  DAM 118-2024-000001/1 copper ore 2603000000 → CN, ubigeo 030601 (Apurímac), US$ 1,000, exporter R7 (Lima)
         l3  DAM 019-2024-000008/1 (customs office written `19`) zinc ore → KR, ubigeo 091001 (Huancavelica), US$ 300
         l4  wrong number of fields                                   → quarantine numero_de_campos
         l5  régimen Importación Definitiva                          → quarantine regimen_exportacion_definitiva
  x01070324 (older week)  r1 = pipe l2 (repeat: the pipe delivery wins) → quarantine clave_duplicada
         r2  gold 7108120000 → CH, ubigeo 120101 (Junín), US$ 500, exporter R4 (domicile 120604, Junín)
         r3  = x05110324 r1 (repeat: the newer week wins)           → quarantine clave_duplicada
         r4  deleted record                                            (skipped, not a row)
         r5  FOB −5                                                    → quarantine fob_no_negativo
         r6  numbered 2024-02-31                                       → quarantine tipo_de_dato
  x05110324 (newer week)  r1 avocados 804400000 (zero lost) → AN (= NL), ubigeo 080101 (Cusco), US$ 250
         r2  coffee → US, ubigeo 999999 (none), US$ 100               (Peru only)
         r3  cacao → 99 (= ZZ), ubigeo 050101 (Ayacucho), US$ 50
         r4  NANDINA 9999999999 (no CIIU class) → CN, ubigeo 150101 (Lima), US$ 400   (Peru only)
  territory = 1000 + 500 + 250 + 50 + 300 = 2,100; Peru = 2,100 + 100 + 400 = 2,600
  destinations CN 1000, CH 500, KR 300, NL 250, ZZ 50; classes 0729 1300, 2420 500, 0122 250, 0127 50
  departments 03 1000, 12 500, 09 300, 08 250, 05 50; by fiscal domicile only 12 (R4): 500
2023 — the pipe delivery: l2 copper US$ 2,000 Apurímac; l3 FOB `abc`; l4 NANDINA `0804.4A.00.00`;
  l5 blank ubigeo US$ 500; l6 ubigeo `30601` (zero lost) US$ 0 → territory 2,000, Peru 2,500; 2024 change +5 %.
"""

import duckdb
import pytest

from tests.support.builders import export_pipe_row, export_record, write_export_pipe, write_export_week
from tests.support.runs import materialize, operator, query
from tests.support.scenario import R, write_scenario
from vraem_pipeline.core.reconciliation import ranking, reconcile_rankings

pytestmark = pytest.mark.slow


def write_exports(raw):
    write_export_pipe(
        raw,
        2024,
        [
            export_pipe_row(1, fano="2024", date_value="20240305", ruc_=R[7]),
            export_pipe_row(
                8,
                cadu="19",
                fano="2024",
                date_value="20241203",
                cnan="2608.00.00.10",
                pais="KR",
                ubigeo="091001",
                fob="300.00",
            ),
            export_pipe_row(9, fano="2024", date_value="20241203")[:-1],
            export_pipe_row(10, fano="2024", date_value="20241203", regimen="Importación Definitiva"),
        ],
        name="exportaciones_2024_12.txt",
    )
    write_export_week(
        raw,
        2024,
        "x01070324",
        [
            export_record(1, date_value="20240305", ruc_=R[7]),
            export_record(2, nandina="7108120000", pais="CH", ubigeo="120101", fob="500.00", ruc_=R[4]),
            export_record(3, nandina="0804400000", pais="AN", ubigeo="080101", fob="250.00", date_value="20240306"),
            export_record(3, fob="9999.00"),
            export_record(4, fob="-5.00"),
            export_record(5, date_value="20240231"),
        ],
        deleted={3},
    )
    write_export_week(
        raw,
        2024,
        "x05110324",
        [
            export_record(3, nandina="0804400000", pais="AN", ubigeo="080101", fob="250.00", date_value="20240306"),
            export_record(6, nandina="0901119000", pais="US", ubigeo="999999", fob="100.00"),
            export_record(7, nandina="1801001900", pais="99", ubigeo="050101", fob="50.00"),
            export_record(11, nandina="9999999999", pais="CN", ubigeo="150101", fob="400.00"),
        ],
    )
    write_export_pipe(
        raw,
        2023,
        [
            export_pipe_row(1, fob="2000.00"),
            export_pipe_row(2, fob="abc"),
            export_pipe_row(3, cnan="0804.4A.00.00"),
            export_pipe_row(4, ubigeo="      ", fob="500.00"),
            export_pipe_row(5, ubigeo="30601", fob="0"),
        ],
    )


def by(df, key, value="fob_millones_usd"):
    return {k: round(v * 1e6, 2) for k, v in zip(df[key], df[value], strict=False)}


def test_exports_from_weekly_dbfs_and_pipe_deliveries(tmp_path, env):
    raw = tmp_path / "raw"
    write_scenario(raw)
    write_exports(raw)
    warehouse = env(raw)
    result = materialize((2023, 2024))
    assert result.success

    ev = query(warehouse, "SELECT * FROM marts.exportaciones_evolucion ORDER BY anio")
    assert [round(v * 1e6, 2) for v in ev["fob_millones_usd"]] == [2000.0, 2100.0]
    assert ev["var_pct"].iloc[1] == pytest.approx(5.0)

    def mart(name, key):
        return by(query(warehouse, f"SELECT * FROM marts.{name} WHERE anio = 2024"), key)

    assert mart("exportaciones_por_destino", "pais_iso2") == {"CN": 1000, "CH": 500, "KR": 300, "NL": 250, "ZZ": 50}
    assert mart("exportaciones_por_producto", "ciiu_clase") == {"0729": 1300, "2420": 500, "0122": 250, "0127": 50}
    assert mart("exportaciones_por_departamento", "ubigeo_departamento") == {
        "03": 1000,
        "12": 500,
        "09": 300,
        "08": 250,
        "05": 50,
    }
    assert mart("exportaciones_por_departamento_domicilio_fiscal", "ubigeo_departamento") == {
        "12": 500,
        "03": 0,
        "05": 0,
        "08": 0,
        "09": 0,
    }
    names = query(warehouse, "SELECT pais_iso2, pais FROM marts.exportaciones_por_destino WHERE anio = 2024")
    assert dict(zip(names["pais_iso2"], names["pais"], strict=False))["CH"] == "Suiza"
    share = query(
        warehouse,
        "SELECT participacion_pct FROM marts.exportaciones_por_destino WHERE anio = 2024 AND pais_iso2 = 'CN'",
    )
    assert share.iloc[0, 0] == pytest.approx(100 * 1000 / 2100)

    key = (
        query(
            warehouse,
            "SELECT indicador, valor FROM marts.indicadores_clave WHERE anio = 2024 "
            "AND indicador LIKE 'exportaciones%'",
        )
        .set_index("indicador")["valor"]
        .to_dict()
    )
    assert key == pytest.approx(
        {
            "exportaciones_millones_usd": 0.0021,
            "exportaciones_var_anual_pct": 5.0,
            "exportaciones_participacion_nacional_pct": 100 * 2100 / 2600,
        }
    )

    fuentes = query(
        warehouse,
        "SELECT archivo, filas_leidas, filas_aceptadas, filas_rechazadas, filas_duplicadas, nota "
        "FROM meta.fuentes WHERE fuente = 'exportaciones' ORDER BY anio, archivo",
    )
    got = {f.split("/")[-1]: (n, a, r, d) for f, n, a, r, d in fuentes.iloc[:, :5].itertuples(index=False)}
    assert got == {
        "exportaciones_2023.txt": (5, 3, 2, 0),
        "exportaciones_2024_12.txt": (4, 2, 2, 0),
        "x01070324.zip": (5, 1, 4, 2),
        "x05110324.zip": (4, 4, 0, 0),
    }
    assert (
        "1 registros borrados"
        in fuentes.set_index(fuentes["archivo"].str.split("/").str[-1]).loc["x01070324.zip", "nota"]
    )

    q = query(
        operator(warehouse),
        "SELECT anio, regexp_extract(archivo, '[^/]+$') AS f, linea, regla "
        "FROM quarantine.exportaciones ORDER BY anio, f, linea",
    )
    assert q.values.tolist() == [
        [2023, "exportaciones_2023.txt", 3, "tipo_de_dato"],
        [2023, "exportaciones_2023.txt", 4, "nandina_10_digitos"],
        [2024, "exportaciones_2024_12.txt", 4, "numero_de_campos"],
        [2024, "exportaciones_2024_12.txt", 5, "regimen_exportacion_definitiva"],
        [2024, "x01070324.zip!X01070324.DBF", 1, "clave_duplicada"],
        [2024, "x01070324.zip!X01070324.DBF", 3, "clave_duplicada"],
        [2024, "x01070324.zip!X01070324.DBF", 5, "fob_no_negativo"],
        [2024, "x01070324.zip!X01070324.DBF", 6, "tipo_de_dato; tipo_de_dato"],  # both dates
    ]
    staged = query(
        operator(warehouse),
        "SELECT cadu, nandina, ubigeo FROM staging.exportaciones WHERE anio = 2024 "
        "AND ndcl IN ('000003', '000008') ORDER BY ndcl",
    )
    assert staged.values.tolist() == [["118", "0804400000", "080101"], ["019", "2608000010", "091001"]]
    lost_zero = query(
        operator(warehouse), "SELECT ubigeo FROM staging.exportaciones WHERE anio = 2023 AND ndcl = '000005'"
    )
    assert lost_zero.iloc[0, 0] == "030601"

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert ranking(con, 2024, "exportaciones_destinos_principales_orden", 5) == "CN,CH,KR,NL,ZZ"
        order = reconcile_rankings(con).set_index("indicador").loc["exportaciones_destinos_principales_orden"]
        assert (order["publicado"], order["calculado"], order["coincide"]) == (
            "CN,CH,IN,KR,JP",
            "CN,CH,KR,NL,ZZ",
            False,
        )
    finally:
        con.close()

    checks = {e.asset_check_key.name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["fob_destino_desconocido"] is False  # ZZ = 50 / 2,600 > 0.1 %
    assert checks["fob_sin_clasificar"] is False  # 400 / 2,600 of Peru's FOB
    assert checks["fob_sin_ubigeo"] is False  # 2023: 500 / 2,500
    assert checks["participaciones_suman_100"] is True


def test_a_year_with_only_the_delivery_without_line_key(tmp_path, env):
    """2023 holds only PRODUCE's delivery with exactly the columns of docs/sources.md#aduanas-entrega-produce (no fano,
    ndcl, nser), which failed the whole refresh before (`faltan columnas ['fano', 'ndcl', 'nser']`). Hand-worked:
      l2  copper 2603.00.00.00 → CN, ubigeo 030601 (Apurímac), US$ 1,000
      l3  the same line again: counted (no key tells a repeat from a second shipment)
      l4  gold 7108.12.00.00 → CH, ubigeo 120101 (Junín), US$ 500
      l5  coffee 0901.11.90.00 → US, no ubigeo, US$ 100 (Peru only)
      l6  FOB −5                                                     → quarantine fob_no_negativo
    territory = 1,000 + 1,000 + 500 = 2,500; Peru = 2,600; CN 2,000, CH 500; 0729 2,000, 2420 500; 03 2,000,
    12 500 (05, 08, 09: 0).
    """
    import dagster as dg

    from tests.support.builders import EXPORT_PIPE_HEADER_WITHOUT_KEY, export_pipe_row_without_key

    raw = tmp_path / "raw"
    copper = export_pipe_row_without_key()
    write_export_pipe(
        raw,
        2023,
        [
            copper,
            copper,
            export_pipe_row_without_key(cnan="7108.12.00.00", pais="CH", ubigeo="120101", fob="500.00"),
            export_pipe_row_without_key(cnan="0901.11.90.00", pais="US", ubigeo="      ", fob="100.00"),
            export_pipe_row_without_key(fob="-5"),
        ],
        name="entrega_2023.txt",
        header=EXPORT_PIPE_HEADER_WITHOUT_KEY,
    )
    warehouse = env(raw)
    # with the publish: a run changes the operator database only when it publishes (write-audit-publish)
    selection = dg.AssetSelection.groups("exportaciones", "referencia") | dg.AssetSelection.assets(
        dg.AssetKey(["staging", "padron_ruc"]), dg.AssetKey(["almacen", "publicado"])
    )
    result = materialize((2023, 2023), selection=selection)
    assert result.success
    op = operator(warehouse)

    def mart(name, key):
        return by(query(op, f"SELECT * FROM marts.{name} WHERE anio = 2023"), key)

    assert mart("exportaciones_evolucion", "anio") == {2023: 2500}
    assert mart("exportaciones_por_destino", "pais_iso2") == {"CN": 2000, "CH": 500}
    assert mart("exportaciones_por_producto", "ciiu_clase") == {"0729": 2000, "2420": 500}
    # every department of the territory has a row
    assert mart("exportaciones_por_departamento", "ubigeo_departamento") == {
        "03": 2000,
        "12": 500,
        "05": 0,
        "08": 0,
        "09": 0,
    }
    peru = query(op, "SELECT sum(fob_usd)::DOUBLE AS fob FROM intermedio.exportaciones WHERE anio = 2023")
    assert peru["fob"].iloc[0] == 2600
    staged = query(op, "SELECT linea, fano, ndcl, nser FROM staging.exportaciones ORDER BY linea")
    assert staged["linea"].tolist() == [2, 3, 4, 5] and staged[["fano", "ndcl", "nser"]].isna().all().all()
    q = query(op, "SELECT linea, regla FROM quarantine.exportaciones")
    assert q.values.tolist() == [[6, "fob_no_negativo"]]
    fuentes = query(
        op,
        "SELECT filas_leidas, filas_aceptadas, filas_rechazadas, filas_duplicadas, nota "
        "FROM meta.fuentes WHERE fuente = 'exportaciones'",
    )
    assert fuentes.iloc[:, :4].values.tolist() == [[5, 4, 1, 0]]
    assert "sin clave de línea (fano, ndcl, nser)" in fuentes["nota"].iloc[0]
    param = query(
        op,
        "SELECT valor FROM meta.parametros WHERE tema = 'exportaciones' AND nombre = 'max_fraccion_lineas_otro_anio'",
    )
    assert param["valor"].tolist() == ["0.5"]
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["esquema"] is True and checks["participaciones_suman_100"] is True
