"""Growth codes shared by every topic (sql/indicadores/_crecimiento.sql), on a series worked out by hand."""

import math

import duckdb
import pytest

from vraem_pipeline.core.marts import growth_rows


def _growth(series: dict[int, float]) -> dict[tuple[int, str], float]:
    con = duckdb.connect()
    con.execute("CREATE TABLE s (anio INTEGER, valor DOUBLE)")
    con.executemany("INSERT INTO s VALUES (?, ?)", list(series.items()))
    df = growth_rows(con, "SELECT anio, valor FROM s", "tema", "fuente")
    assert set(df["unidad"]) <= {"%"} and set(df["fuente"]) <= {"fuente"}
    return {(int(a), i): v for a, i, v in zip(df["anio"], df["indicador"], df["valor"], strict=False)}


def test_three_codes_from_a_hand_worked_series():
    g = _growth({2022: 100.0, 2023: 120.0, 2024: 108.0})
    assert g[(2023, "tema_var_anual_pct")] == pytest.approx(20.0)
    assert g[(2024, "tema_var_anual_pct")] == pytest.approx(-10.0)
    assert g[(2023, "tema_tcpa_pct")] == pytest.approx(20.0)
    assert g[(2024, "tema_tcpa_pct")] == pytest.approx(100 * (math.sqrt(1.08) - 1))  # 3.92 %
    assert g[(2024, "tema_var_promedio_anual_pct")] == pytest.approx(5.0)  # (20 − 10) / 2
    assert not any(anio == 2022 for anio, _ in g)  # the first year has no change


def test_a_missing_year_removes_the_changes_that_need_it():
    g = _growth({2022: 100.0, 2024: 108.0})
    assert (2024, "tema_var_anual_pct") not in g
    assert (2024, "tema_var_promedio_anual_pct") not in g  # a mean that skipped a change would be wrong
    assert g[(2024, "tema_tcpa_pct")] == pytest.approx(100 * (math.sqrt(1.08) - 1))


def test_published_windows_mean_and_compound_differ():
    # docs/methodology/README.md#key-figures: both are kept because a dip makes the mean of annual changes exceed the
    # compound rate.
    g = _growth({2019: 600.0, 2020: 500.0, 2021: 700.0, 2022: 760.0, 2023: 900.0, 2024: 1000.0})
    assert g[(2024, "tema_tcpa_pct")] == pytest.approx(100 * ((1000 / 600) ** 0.2 - 1))
    changes = [500 / 600 - 1, 700 / 500 - 1, 760 / 700 - 1, 900 / 760 - 1, 1000 / 900 - 1]
    assert g[(2024, "tema_var_promedio_anual_pct")] == pytest.approx(100 * sum(changes) / 5)
