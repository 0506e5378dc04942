"""Identical inputs give identical marts, to the last bit, whatever the order of the rows or of the files.

DuckDB adds a DOUBLE column in whatever order its threads hand the rows over, and floating-point addition is not
associative (0.1 + 0.2 + 0.3 ≠ 0.3 + 0.2 + 0.1): two refreshes of the same files used to give a
`ventas_millones_soles` that differed in the last digit. Every such sum is now taken over DECIMAL
(`vraem_exacto`, `marts.EXACT_SUM_DECIMALS`). The unit tests feed each fixed SQL file the same rows in two
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

from tests.support.runs import bits, exact_rows, marts_content, refresh_env, vraem
from vraem_pipeline.core.databases import ensure_schemas
from vraem_pipeline.core.marts import build_mart, growth_rows, mart_names, register_macros, sql_text

#: The three terms of every fixture: their DOUBLE sum depends on the order, their exact sum is 0.6.
TERMS = (0.1, 0.2, 0.3)


def test_the_chosen_terms_do_depend_on_the_order():
    assert TERMS[0] + TERMS[1] + TERMS[2] != TERMS[2] + TERMS[1] + TERMS[0]


def _base(tablas: dict[str, tuple[str, list[tuple]]], reverse: bool) -> duckdb.DuckDBPyConnection:
    """An in-memory operator database holding only `tablas` (name → (columns, rows)), rows inserted in the
    given order or reversed."""
    con = duckdb.connect()
    ensure_schemas(con)
    register_macros(con)
    for tabla, (column_names, filas) in tablas.items():
        con.execute(f"CREATE OR REPLACE TABLE {tabla} ({column_names})")
        for row in filas[::-1] if reverse else filas:
            con.execute(f"INSERT INTO {tabla} VALUES ({', '.join('?' * len(row))})", list(row))
    return con


def _in_both_orders(tablas, query) -> list:
    """`consulta(con)` on the rows in the given order and reversed; both must be bit-identical."""
    results = []
    for reverse in (False, True):
        con = _base(tablas, reverse)
        try:
            results.append(query(con))
        finally:
            con.close()
    assert results[0] == results[1]
    return results[0]


_TERRITORY = {
    "referencia.territorio": ("ubigeo VARCHAR", [("050401",), ("030101",), ("120101",)]),
    "referencia.territorio_departamentos": ("ubigeo_departamento VARCHAR", [("05",), ("03",), ("12",)]),
}
_DEPARTMENTS = {
    "referencia.departamentos": (
        "ubigeo_departamento VARCHAR, departamento VARCHAR",
        [("03", "Apurímac"), ("05", "Ayacucho"), ("12", "Junín")],
    )
}


def test_declared_sales_sum_the_same_in_any_order():
    # three formal firms of the territory (S/ 0.1, 0.2, 0.3) and one of Ayacucho outside it (S/ 0.7)
    firms = [(2024, "05", "050401", "4721", v) for v in TERMS] + [(2024, "05", "050101", "4721", 0.7)]
    tablas = {
        "intermedio.empresas_formales": (
            "anio INTEGER, ubigeo_departamento VARCHAR, ubigeo VARCHAR, ciiu_clase VARCHAR, ventas_netas DOUBLE",
            firms,
        ),
        **_TERRITORY,
        "referencia.ciiu_division_actividad_inei": ("division VARCHAR, actividad VARCHAR", [("47", "comercio")]),
    }
    indicadores = _in_both_orders(
        tablas,
        lambda con: exact_rows(
            con, f"SELECT indicador, valor FROM ({sql_text('indicadores/empresas.sql')})", {"fuente": "f"}
        ),
    )
    # the defect fixed: the sum no longer depends on the row order
    assert ("ventas_millones_soles", (0.6 / 1e6).hex()) in indicadores
    ventas = _in_both_orders(tablas, lambda con: exact_rows(con, sql_text("intermedio/pbi_ventas.sql")))
    assert ventas == [
        (2024, "05", "comercio", (0.6).hex(), (1.3).hex()),
        (2024, "05", "total", (0.6).hex(), (1.3).hex()),
    ]


def test_credito_sums_balances_the_same_in_any_order():
    tablas = {
        "intermedio.credito_empresarial": (
            "anio INTEGER, ubigeo VARCHAR, ubigeo_departamento VARCHAR, tipo_credito VARCHAR, saldo_soles DOUBLE",
            [(2024, "050401", "05", "06", v) for v in TERMS] + [(2024, "030101", "03", "07", 0.9)],
        ),
        "meta.fuentes": ("fuente VARCHAR, anio INTEGER", [("sbs_deudores", 2024)]),
        "referencia.tipos_credito": (
            "codigo VARCHAR, clave VARCHAR, credito_empresarial BOOLEAN",
            [("06", "corporativo", True), ("07", "grandes_empresas", True)],
        ),
        **_TERRITORY,
        **_DEPARTMENTS,
    }

    def marts(con):
        return {
            m: (build_mart(con, m), exact_rows(con, f"FROM marts.{m}"))[1]
            for m in ("credito_evolucion", "credito_por_departamento", "credito_por_tipo")
        }

    m = _in_both_orders(tablas, marts)
    # S/ 0.6 of type 06 in Ayacucho and S/ 0.9 of type 07 in Apurímac: 1.5 in all, shares 40 % and 60 %
    assert m["credito_evolucion"] == [(2024, (1.5 / 1e6).hex(), None)]
    assert m["credito_por_tipo"] == [
        (2024, "corporativo", (0.6 / 1e6).hex(), (100.0 * 0.6 / 1.5).hex()),
        (2024, "grandes_empresas", (0.9 / 1e6).hex(), (100.0 * 0.9 / 1.5).hex()),
    ]
    assert [(f[1], f[3], f[4]) for f in m["credito_por_departamento"]] == [
        ("03", (0.9 / 1e6).hex(), (100.0 * 0.9 / 1.5).hex()),
        ("05", (0.6 / 1e6).hex(), (100.0 * 0.6 / 1.5).hex()),
        ("12", (0.0).hex(), (0.0).hex()),
    ]


def test_exportaciones_shares_are_equal_in_any_order():
    # three lines of US$ 0.10, 0.20 and 0.30, each from another territory department, country and product
    lineas = [
        (2024, d, d, p, c, v)
        for d, p, c, v in zip(("05", "03", "12"), ("US", "CN", "DE"), ("0710", "0810", "1010"), TERMS, strict=False)
    ]
    tablas = {
        "intermedio.exportaciones": (
            "anio INTEGER, ubigeo_departamento VARCHAR, ubigeo_departamento_fiscal VARCHAR, "
            "pais_iso2 VARCHAR, ciiu_clase VARCHAR, fob_usd DECIMAL(18, 2)",
            lineas,
        ),
        "referencia.paises": (
            "pais_iso2 VARCHAR, pais VARCHAR",
            [("US", "EE. UU."), ("CN", "China"), ("DE", "Alemania")],
        ),
        "referencia.ciiu_clases": ("clase VARCHAR, titulo VARCHAR", [("0710", "a"), ("0810", "b"), ("1010", "c")]),
        **_TERRITORY,
        **_DEPARTMENTS,
    }
    names = (
        "exportaciones_por_departamento",
        "exportaciones_por_departamento_domicilio_fiscal",
        "exportaciones_por_destino",
        "exportaciones_por_producto",
    )

    def marts(con):
        return {
            m: (build_mart(con, m), exact_rows(con, f"SELECT fob_millones_usd, participacion_pct FROM marts.{m}"))[1]
            for m in names
        }

    expected_period = sorted(((v / 1e6).hex(), (100.0 * v / 0.6).hex()) for v in TERMS)
    for nombre, filas in _in_both_orders(tablas, marts).items():
        assert sorted(filas) == expected_period, nombre


def test_pbi_by_department_sums_activities_the_same_in_any_order():
    # Ayacucho's VAB in three activities (0.1, 0.2, 0.3 miles), the territory's part half of each
    cell_frame = [
        (2024, "05", a, v, v / 2, "preliminar") for a, v in zip(("agro", "mineria", "comercio"), TERMS, strict=False)
    ]
    tablas = {
        "intermedio.pbi_asignacion": (
            "anio INTEGER, ubigeo_departamento VARCHAR, actividad VARCHAR, "
            "vab_departamento_miles_soles DOUBLE, vab_territorio_miles_soles DOUBLE, "
            "estado_cifra VARCHAR",
            cell_frame,
        ),
        "intermedio.pbi_territorio": ("anio INTEGER", [(2024,)]),
        **_DEPARTMENTS,
    }
    [row] = _in_both_orders(
        tablas,
        lambda con: (build_mart(con, "pbi_por_departamento"), exact_rows(con, "FROM marts.pbi_por_departamento"))[1],
    )
    assert row == (
        2024,
        "05",
        "Ayacucho",
        (0.6 / 1000.0).hex(),
        (100.0 * 0.3 / 0.6).hex(),
        (0.3 / 1000.0).hex(),
        "preliminar",
    )


def test_mean_of_changes_is_the_same_in_any_order():
    # 100 → 110 → 121 → 133.1: three changes of 10 % (in DOUBLE, each a hair off 10)
    serie = [(2019, 100.0), (2020, 110.0), (2021, 121.0), (2022, 133.1)]

    def codes(con):
        g = growth_rows(con, "SELECT anio, valor FROM s", "t", "f")
        return sorted(tuple(bits(v) for v in r) for r in g[["anio", "indicador", "valor"]].itertuples(index=False))

    filas = _in_both_orders({"main.s": ("anio INTEGER, valor DOUBLE", serie)}, codes)
    promedio = {r[0]: float.fromhex(r[2]) for r in filas if r[1] == "t_var_promedio_anual_pct"}
    assert promedio == pytest.approx({2020: 10.0, 2021: 10.0, 2022: 10.0}, abs=1e-9)


# --- whole refreshes ---------------------------------------------------------------------------------------

#: Every wait on a refresh is bounded.
REFRESH_MAX = 600
#: mtimes of the reversed copy: an arbitrary old date, one hour apart in the reverse order.
COPY_MTIME = 1_000_000_000


def _refresh(raw: Path, folder_path: Path) -> Path:
    process = vraem("refresh", "--raw", str(raw), env=refresh_env(folder_path), timeout=REFRESH_MAX)
    assert process.returncode == 0, process.stdout + process.stderr
    return folder_path / "w" / "v.duckdb"


def _reversed_copy(origin: Path, destination: Path) -> None:
    """The same files, created in reverse order (so listed in another order where the filesystem keeps it) and
    with other mtimes."""
    archivos = sorted(p for p in origin.rglob("*") if p.is_file())
    for i, p in enumerate(reversed(archivos)):
        q = destination / p.relative_to(origin)
        q.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, q)
        os.utime(q, (COPY_MTIME + 3600 * i, COPY_MTIME + 3600 * i))


@pytest.mark.slow
def test_two_refreshes_of_the_same_files_give_identical_marts(sample_2024, published_2024, tmp_path):
    """The first refresh is the session's of the sample's 2024 folders (conftest.published_2024, the same
    `vraem refresh` as `_refresh`); the second reads the reversed copy."""
    raw = sample_2024  # one year keeps it fast; 2024 has weekly customs files and a pipe delivery
    reversed_raw = tmp_path / "raw_invertida"
    _reversed_copy(raw, reversed_raw)
    assert sorted(p.relative_to(reversed_raw) for p in reversed_raw.rglob("*")) == sorted(
        p.relative_to(raw) for p in raw.rglob("*")
    )

    first = marts_content(published_2024.almacen)
    second = marts_content(_refresh(reversed_raw, tmp_path / "b"))
    assert sorted(first) == mart_names() and all(first.values()), {t: len(f) for t, f in first.items()}
    assert first.keys() == second.keys()
    for tabla in first:
        assert first[tabla] == second[tabla], tabla
