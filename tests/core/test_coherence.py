"""Cross-source warning checks on tiny hand-built marts: one row per branch, the answer worked out by hand."""

import duckdb
import pytest

from vraem_pipeline.core import coherence as coherence
from vraem_pipeline.defs.indicators import year_on_year_jumps as jumps_check

KEY = "CREATE TABLE marts.indicadores_clave (anio INT, indicador VARCHAR, valor DOUBLE, unidad VARCHAR)"


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts; CREATE SCHEMA intermedio")
    yield con
    con.close()


def key_figures(con, rows):
    con.execute(KEY)
    con.executemany("INSERT INTO marts.indicadores_clave VALUES (?, ?, ?, ?)", rows)


def test_territory_above_peru_is_named_for_each_figure_with_a_national_total(con):
    con.execute(
        "CREATE TABLE intermedio.empresas_formales AS "
        "SELECT * FROM (VALUES (2024, 1e6), (2024, 2e6)) t(anio, ventas_netas)"
    )  # Peru: 2 firms, S/ 3 M
    con.execute("CREATE TABLE intermedio.credito_empresarial AS SELECT 2024 AS anio, 4e6 AS saldo_soles")  # S/ 4 M
    con.execute("CREATE TABLE intermedio.pbi_territorio AS SELECT 2024 AS anio, 1000.0 AS vab_nacional_miles_soles")
    key_figures(
        con,
        [
            (2024, "empresas_formales", 2, "empresas"),  # = Peru: fine
            (2023, "empresas_formales", 5, "empresas"),  # no national rows that year: not compared
            (2024, "ventas_millones_soles", 3.5, "millones S/"),  # 3.5 > 3.0: named
            (2024, "credito_millones_soles", 4.1, "millones S/"),  # 4.1 > 4.0: named
            (2024, "pbi_vraem_millones_soles_2007", 0.9, "millones S/ de 2007"),  # below Peru's 1.0: fine
            (2024, "exportaciones_millones_usd", 1e9, "millones US$ FOB"),  # no intermedio.exportaciones: not compared
            (2024, "empleo_participacion_nacional_pct", 100.5, "%"),  # a share of Peru above 100: named
            (2024, "empresas_participacion_nacional_pct", 99.0, "%"),  # fine
            (2024, "empleo_pea_ocupada", 1e9, "trabajadores"),  # no national total: its share speaks
        ],
    )
    bad = coherence.territory_above_national(con)
    assert list(bad.itertuples(index=False, name=None)) == [
        ("credito_millones_soles", 2024, 4.1, 4.0),
        ("empleo_participacion_nacional_pct", 2024, 100.5, 100.0),
        ("ventas_millones_soles", 2024, 3.5, 3.0),
    ]


def test_every_share_block_of_every_marts_table_sums_to_100(con):
    con.execute("CREATE TABLE marts.a (anio INT, categoria VARCHAR, participacion_pct DOUBLE)")
    con.executemany(
        "INSERT INTO marts.a VALUES (?, ?, ?)",
        [
            (2023, "x", 60),
            (2023, "y", 40),  # 100: fine
            (2024, "x", 60),
            (2024, "y", 30),  # 90: named
        ],
    )
    con.execute("CREATE TABLE marts.b (anio INT, participacion_pct DOUBLE)")
    con.executemany(
        "INSERT INTO marts.b VALUES (?, ?)",
        [
            (2024, 100 + 1e-9),  # floating-point error only: fine
            (2022, 0),
            (2022, 0),  # nothing to share that year: not a block
            (2021, None),  # shares undefined (total 0): not a block
            (2020, 100.5),  # named
        ],
    )
    con.execute("CREATE TABLE marts.c (anio INT, participacion_territorio_pct DOUBLE)")  # not a block column
    con.execute("INSERT INTO marts.c VALUES (2024, 12.5)")
    bad = coherence.shares_not_summing_to_100(con)
    assert list(bad.itertuples(index=False, name=None)) == [("a", 2024, 90.0), ("b", 2020, 100.5)]


JUMPS = [
    (2022, "empresas_formales", 100, "empresas"),
    (2023, "empresas_formales", 150, "empresas"),  # +50 %: at the bound
    (2024, "empresas_formales", 226, "empresas"),  # +50.67 %: counts bound 50 %
    (2023, "empleo_pea_ocupada", 100, "trabajadores"),
    (2024, "empleo_pea_ocupada", 40, "trabajadores"),  # −60 %
    (2023, "credito_millones_soles", 10, "millones S/"),
    (2024, "credito_millones_soles", 20, "millones S/"),  # +100 %
    (2023, "exportaciones_millones_usd", 0, "millones US$ FOB"),
    (2024, "exportaciones_millones_usd", 5, "millones US$ FOB"),  # from 0: named
    (2021, "pbi_vraem_millones_soles_2007", 10, "millones S/ de 2007"),
    (2023, "pbi_vraem_millones_soles_2007", 1000, "millones S/ de 2007"),  # 2022 missing: not year on year
    (2023, "empleo_informal_pct", 80, "%"),
    (2024, "empleo_informal_pct", 69, "%"),  # −11 pp: bound 10 pp
    (2023, "empresas_participacion_nacional_pct", 1, "%"),
    (2024, "empresas_participacion_nacional_pct", 3, "%"),  # +2 pp (+200 % relative): fine
    (2023, "empresas_var_anual_pct", 5, "%"),
    (2024, "empresas_var_anual_pct", 80, "%"),  # a growth code: skipped
    (2023, "otro_indice", 1, "índice"),
    (2024, "otro_indice", 100, "índice"),  # no family: not judged
]


def test_year_on_year_jumps_beyond_the_family_bound_name_the_figure_and_years(con):
    key_figures(con, JUMPS)
    bad = coherence.year_on_year_jumps(con)
    assert [(r.indicador, r.anio_anterior, r.anio, r.familia) for r in bad.itertuples()] == [
        ("empleo_informal_pct", 2023, 2024, "porcentajes"),
        ("empleo_pea_ocupada", 2023, 2024, "conteos"),
        ("empresas_formales", 2023, 2024, "conteos"),
        ("exportaciones_millones_usd", 2023, 2024, "montos"),
    ]
    assert coherence.describe_jumps(bad) == [
        "empleo_informal_pct 2023→2024: 80.00 → 69.00 (-11.0 pp; límite ±10 pp, porcentajes)",
        "empleo_pea_ocupada 2023→2024: 100.00 → 40.00 (-60.0 %; límite ±50 %, conteos)",
        "empresas_formales 2023→2024: 150.00 → 226.00 (+50.7 %; límite ±50 %, conteos)",
        "exportaciones_millones_usd 2023→2024: 0.00 → 5.00 (desde 0; límite ±100 %, montos)",
    ]


def test_the_jump_check_warns_without_blocking_and_names_the_figures(tmp_path):
    path = tmp_path / "op.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    key_figures(con, JUMPS[:3])
    try:
        result = jumps_check(con)
    finally:
        con.close()
    assert not result.passed and result.severity.value == "WARN"
    assert result.metadata["cifras"].value == [
        "empresas_formales 2023→2024: 150.00 → 226.00 (+50.7 %; límite ±50 %, conteos)"
    ]


def test_without_key_figures_nothing_is_compared(con):
    assert coherence.territory_above_national(con).empty and coherence.year_on_year_jumps(con).empty
    assert coherence.shares_not_summing_to_100(con).empty
