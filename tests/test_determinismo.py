"""Identical inputs give identical marts, to the last bit, whatever the order of the rows or of the files.

DuckDB adds a DOUBLE column in whatever order its threads hand the rows over, and floating-point addition is not
associative (0.1 + 0.2 + 0.3 ≠ 0.3 + 0.2 + 0.1): two refreshes of the same files used to give a
`ventas_millones_soles` that differed in the last digit. Every such sum is now taken over DECIMAL
(`vraem_exacto`, `marts.DECIMALES_SUMA_EXACTA`). The unit tests feed each fixed SQL file the same rows in two
orders — rows for which a DOUBLE sum differs between the orders — and compare the results as bit patterns with
the hand-worked answer; the last test refreshes the small sample twice, the second time from a copy whose files
were written in reverse order with other mtimes, and compares every `marts` table exactly.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.conftest import entorno_de_refresco, vraem
from vraem_pipeline.core.marts import build_mart, growth_rows, mart_names, register_macros, sql_text
from vraem_pipeline.core.databases import ensure_schemas

#: The three terms of every fixture: their DOUBLE sum depends on the order, their exact sum is 0.6.
TERMINOS = (0.1, 0.2, 0.3)


def test_los_terminos_elegidos_si_dependen_del_orden():
    assert TERMINOS[0] + TERMINOS[1] + TERMINOS[2] != TERMINOS[2] + TERMINOS[1] + TERMINOS[0]


def _bits(valor):
    """A value as compared here: floats by their bit pattern (float.hex), everything else as is."""
    return valor.hex() if isinstance(valor, float) else valor


def filas_exactas(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> list[tuple]:
    filas = con.execute(f"FROM ({sql}) ORDER BY ALL", params or {}).fetchall()
    return [tuple(_bits(v) for v in fila) for fila in filas]


def contenido_marts(path: Path) -> dict[str, list[tuple]]:
    """Every `marts` table of a DuckDB file, rows sorted, floats as bit patterns: equal means identical."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tablas = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' "
                                            "ORDER BY table_name").fetchall()]
        return {t: filas_exactas(con, f"FROM marts.{t}") for t in tablas}
    finally:
        con.close()


def _base(tablas: dict[str, tuple[str, list[tuple]]], invertir: bool) -> duckdb.DuckDBPyConnection:
    """An in-memory operator database holding only `tablas` (name → (columns, rows)), rows inserted in the
    given order or reversed."""
    con = duckdb.connect()
    ensure_schemas(con)
    register_macros(con)
    for tabla, (columnas, filas) in tablas.items():
        con.execute(f"CREATE OR REPLACE TABLE {tabla} ({columnas})")
        for fila in filas[::-1] if invertir else filas:
            con.execute(f"INSERT INTO {tabla} VALUES ({', '.join('?' * len(fila))})", list(fila))
    return con


def _en_dos_ordenes(tablas, consulta) -> list:
    """`consulta(con)` on the rows in the given order and reversed; both must be bit-identical."""
    resultados = []
    for invertir in (False, True):
        con = _base(tablas, invertir)
        try:
            resultados.append(consulta(con))
        finally:
            con.close()
    assert resultados[0] == resultados[1]
    return resultados[0]


_TERRITORIO = {"referencia.territorio": ("ubigeo VARCHAR", [("050401",), ("030101",), ("120101",)]),
               "referencia.territorio_departamentos": ("ubigeo_departamento VARCHAR", [("05",), ("03",), ("12",)])}
_DEPARTAMENTOS = {"referencia.departamentos": ("ubigeo_departamento VARCHAR, departamento VARCHAR",
                                               [("03", "Apurímac"), ("05", "Ayacucho"), ("12", "Junín")])}


def test_ventas_declaradas_suman_igual_en_cualquier_orden():
    # three formal firms of the territory (S/ 0.1, 0.2, 0.3) and one of Ayacucho outside it (S/ 0.7)
    firmas = [(2024, "05", "050401", "4721", v) for v in TERMINOS] + [(2024, "05", "050101", "4721", 0.7)]
    tablas = {
        "intermedio.empresas_formales": ("anio INTEGER, ubigeo_departamento VARCHAR, ubigeo VARCHAR, "
                                         "ciiu_clase VARCHAR, ventas_netas DOUBLE", firmas),
        **_TERRITORIO,
        "referencia.ciiu_division_actividad_inei": ("division VARCHAR, actividad VARCHAR", [("47", "comercio")]),
    }
    indicadores = _en_dos_ordenes(tablas, lambda con: filas_exactas(
        con, f"SELECT indicador, valor FROM ({sql_text('indicadores/empresas.sql')})", {"fuente": "f"}))
    assert ("ventas_millones_soles", (0.6 / 1e6).hex()) in indicadores  # the defect of issue 11
    ventas = _en_dos_ordenes(tablas, lambda con: filas_exactas(con, sql_text("intermedio/pbi_ventas.sql")))
    assert ventas == [(2024, "05", "comercio", (0.6).hex(), (1.3).hex()),
                      (2024, "05", "total", (0.6).hex(), (1.3).hex())]


def test_credito_suma_saldos_igual_en_cualquier_orden():
    tablas = {
        "intermedio.credito_empresarial": ("anio INTEGER, ubigeo VARCHAR, ubigeo_departamento VARCHAR, "
                                           "tipo_credito VARCHAR, saldo_soles DOUBLE",
                                           [(2024, "050401", "05", "06", v) for v in TERMINOS]
                                           + [(2024, "030101", "03", "07", 0.9)]),
        "meta.fuentes": ("fuente VARCHAR, anio INTEGER", [("sbs_deudores", 2024)]),
        "referencia.tipos_credito": ("codigo VARCHAR, clave VARCHAR, credito_empresarial BOOLEAN",
                                     [("06", "corporativo", True), ("07", "grandes_empresas", True)]),
        **_TERRITORIO, **_DEPARTAMENTOS,
    }

    def marts(con):
        return {m: (build_mart(con, m), filas_exactas(con, f"FROM marts.{m}"))[1]
                for m in ("credito_evolucion", "credito_por_departamento", "credito_por_tipo")}

    m = _en_dos_ordenes(tablas, marts)
    # S/ 0.6 of type 06 in Ayacucho and S/ 0.9 of type 07 in Apurímac: 1.5 in all, shares 40 % and 60 %
    assert m["credito_evolucion"] == [(2024, (1.5 / 1e6).hex(), None)]
    assert m["credito_por_tipo"] == [(2024, "corporativo", (0.6 / 1e6).hex(), (100.0 * 0.6 / 1.5).hex()),
                                     (2024, "grandes_empresas", (0.9 / 1e6).hex(), (100.0 * 0.9 / 1.5).hex())]
    assert [(f[1], f[3], f[4]) for f in m["credito_por_departamento"]] == [
        ("03", (0.9 / 1e6).hex(), (100.0 * 0.9 / 1.5).hex()), ("05", (0.6 / 1e6).hex(), (100.0 * 0.6 / 1.5).hex()),
        ("12", (0.0).hex(), (0.0).hex())]


def test_exportaciones_participaciones_iguales_en_cualquier_orden():
    # three lines of US$ 0.10, 0.20 and 0.30, each from another territory department, country and product
    lineas = [(2024, d, d, p, c, v) for d, p, c, v in
              zip(("05", "03", "12"), ("US", "CN", "DE"), ("0710", "0810", "1010"), TERMINOS)]
    tablas = {
        "intermedio.exportaciones": ("anio INTEGER, ubigeo_departamento VARCHAR, ubigeo_departamento_fiscal VARCHAR, "
                                     "pais_iso2 VARCHAR, ciiu_clase VARCHAR, fob_usd DECIMAL(18, 2)", lineas),
        "referencia.paises": ("pais_iso2 VARCHAR, pais VARCHAR",
                              [("US", "EE. UU."), ("CN", "China"), ("DE", "Alemania")]),
        "referencia.ciiu_clases": ("clase VARCHAR, titulo VARCHAR", [("0710", "a"), ("0810", "b"), ("1010", "c")]),
        **_TERRITORIO, **_DEPARTAMENTOS,
    }
    nombres = ("exportaciones_por_departamento", "exportaciones_por_departamento_domicilio_fiscal",
               "exportaciones_por_destino", "exportaciones_por_producto")

    def marts(con):
        return {m: (build_mart(con, m),
                    filas_exactas(con, f"SELECT fob_millones_usd, participacion_pct FROM marts.{m}"))[1]
                for m in nombres}

    esperado = sorted(((v / 1e6).hex(), (100.0 * v / 0.6).hex()) for v in TERMINOS)
    for nombre, filas in _en_dos_ordenes(tablas, marts).items():
        assert sorted(filas) == esperado, nombre


def test_pbi_por_departamento_suma_actividades_igual_en_cualquier_orden():
    # Ayacucho's VAB in three activities (0.1, 0.2, 0.3 miles), the territory's part half of each
    celdas = [(2024, "05", a, v, v / 2, "preliminar") for a, v in zip(("agro", "mineria", "comercio"), TERMINOS)]
    tablas = {
        "intermedio.pbi_asignacion": ("anio INTEGER, ubigeo_departamento VARCHAR, actividad VARCHAR, "
                                      "vab_departamento_miles_soles DOUBLE, vab_territorio_miles_soles DOUBLE, "
                                      "estado_cifra VARCHAR", celdas),
        "intermedio.pbi_territorio": ("anio INTEGER", [(2024,)]),
        **_DEPARTAMENTOS,
    }
    [fila] = _en_dos_ordenes(tablas, lambda con: (build_mart(con, "pbi_por_departamento"),
                                                  filas_exactas(con, "FROM marts.pbi_por_departamento"))[1])
    assert fila == (2024, "05", "Ayacucho", (0.6 / 1000.0).hex(), (100.0 * 0.3 / 0.6).hex(), (0.3 / 1000.0).hex(),
                    "preliminar")


def test_promedio_de_variaciones_igual_en_cualquier_orden():
    # 100 → 110 → 121 → 133.1: three changes of 10 % (in DOUBLE, each a hair off 10)
    serie = [(2019, 100.0), (2020, 110.0), (2021, 121.0), (2022, 133.1)]

    def codigos(con):
        g = growth_rows(con, "SELECT anio, valor FROM s", "t", "f")
        return sorted(tuple(_bits(v) for v in r) for r in g[["anio", "indicador", "valor"]].itertuples(index=False))

    filas = _en_dos_ordenes({"main.s": ("anio INTEGER, valor DOUBLE", serie)}, codigos)
    promedio = {r[0]: float.fromhex(r[2]) for r in filas if r[1] == "t_var_promedio_anual_pct"}
    assert promedio == pytest.approx({2020: 10.0, 2021: 10.0, 2022: 10.0}, abs=1e-9)


# --- whole refreshes ---------------------------------------------------------------------------------------

#: Every wait on a refresh is bounded.
REFRESCO_MAX = 600
#: mtimes of the reversed copy: an arbitrary old date, one hour apart in the reverse order.
MTIME_COPIA = 1_000_000_000


def _refresco(raw: Path, carpeta: Path) -> Path:
    proceso = vraem("refresh", "--raw", str(raw), env=entorno_de_refresco(carpeta), timeout=REFRESCO_MAX)
    assert proceso.returncode == 0, proceso.stdout + proceso.stderr
    return carpeta / "w" / "v.duckdb"


def _copia_invertida(origen: Path, destino: Path) -> None:
    """The same files, created in reverse order (so listed in another order where the filesystem keeps it) and
    with other mtimes."""
    archivos = sorted(p for p in origen.rglob("*") if p.is_file())
    for i, p in enumerate(reversed(archivos)):
        q = destino / p.relative_to(origen)
        q.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, q)
        os.utime(q, (MTIME_COPIA + 3600 * i, MTIME_COPIA + 3600 * i))


@pytest.mark.slow
def test_dos_refrescos_de_los_mismos_archivos_dan_marts_identicos(muestra_2024, publicado_2024, tmp_path):
    """The first refresh is the session's of the sample's 2024 folders (conftest.publicado_2024, the same
    `vraem refresh` as `_refresco`); the second reads the reversed copy."""
    raw = muestra_2024  # one year keeps it fast; 2024 has weekly customs files and a pipe delivery
    otra = tmp_path / "raw_invertida"
    _copia_invertida(raw, otra)
    assert sorted(p.relative_to(otra) for p in otra.rglob("*")) == sorted(p.relative_to(raw) for p in raw.rglob("*"))

    primero = contenido_marts(publicado_2024.almacen)
    segundo = contenido_marts(_refresco(otra, tmp_path / "b"))
    assert sorted(primero) == mart_names() and all(primero.values()), {t: len(f) for t, f in primero.items()}
    assert primero.keys() == segundo.keys()
    for tabla in primero:
        assert primero[tabla] == segundo[tabla], tabla
