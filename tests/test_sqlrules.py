"""The pandera schema run as SQL: the same verdicts as pandera's pandas backend, rule by rule, and the staging,
quarantine and blocking check built on it."""

import json

import duckdb
import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from tests.builders import bad_ruc, ruc, write_ventas
from vraem_pipeline.empresas.schema import PADRON, VENTAS
from vraem_pipeline.sources import ventas
from vraem_pipeline.core.sqlrules import register_macros, row_verdict, rules, stage_text_load, table_failures
from vraem_pipeline.core.databases import ensure_schemas

#: One column per kind of check the translator knows, plus a custom check and a table-level one with their SQL.
SCHEMA = pa.DataFrameSchema(
    {
        "texto": pa.Column(str, [pa.Check.str_matches(r"\d{2}[A-Z]", error="patron"),
                                 pa.Check.str_length(2, 4, error="largo")], nullable=True),
        "entero": pa.Column("int64", [pa.Check.in_range(1, 10, error="rango"), pa.Check.ne(5, error="no_cinco")],
                            coerce=True),
        "decimal": pa.Column("float64", [pa.Check.ge(0, error="no_negativo"), pa.Check.lt(100, error="menor_100"),
                                         pa.Check(lambda s: np.isfinite(s), name="finito", error="finito",
                                                  statistics={"sql": "isfinite({col})"})],
                             coerce=True, nullable=True),
        "cat": pa.Column(str, [pa.Check.isin(["a", "b"], error="cat_valida"), pa.Check.notin(["b"], error="no_b")]),
        "otro": pa.Column("Int64", [pa.Check.gt(0, error="positivo"), pa.Check.le(3, error="max_3"),
                                    pa.Check.eq(2, error="igual_2")], coerce=True, nullable=True),
    },
    checks=[pa.Check(lambda df: df["entero"] >= df["otro"].fillna(0), name="entero_ge_otro", error="entero_ge_otro",
                     statistics={"sql": "{entero} >= coalesce({otro}, 0)", "columnas": ["entero", "otro"]})],
)

# One row per branch: (texto, entero, decimal, cat, otro) → the rules it breaks (worked out by hand).
ROWS = [
    (("12A", "3", "1.5", "a", "2"), set()),
    ((None, "3", None, "a", None), set()),                        # missing values are not checked
    (("1A", "3", "1", "a", "2"), {"patron"}),                      # pattern anchored at the start
    (("12AB5", "3", "1", "a", "2"), {"largo"}),                    # matches at the start, but 5 characters long
    (("12A", "11", "1", "a", "2"), {"rango"}),
    (("12A", "5", "1", "a", "2"), {"no_cinco"}),
    (("12A", "x", "1", "a", "2"), {"tipo_de_dato", "entero_ge_otro"}),  # no value check on it; the table check fails
    (("12A", "3", "-1", "a", "2"), {"no_negativo"}),
    (("12A", "3", "100", "a", "2"), {"menor_100"}),
    (("12A", "3", "inf", "a", "2"), {"finito", "menor_100"}),
    (("12A", "3", "1,5", "a", "2"), {"tipo_de_dato"}),
    (("12A", "3", "1", "c", "2"), {"cat_valida"}),
    (("12A", "3", "1", "b", "2"), {"no_b"}),
    (("12A", "3", "1", "a", "0"), {"positivo", "igual_2"}),
    (("12A", "3", "1", "a", "4"), {"max_3", "igual_2", "entero_ge_otro"}),  # and 3 < 4
    (("12A", "1", "1", "a", "2"), {"entero_ge_otro"}),
]


def _sql_verdicts() -> list[set[str]]:
    con = duckdb.connect()
    frame = pd.DataFrame([r for r, _ in ROWS], columns=list(SCHEMA.columns), dtype=object)
    con.register("filas", frame)
    typing, values = rules(SCHEMA, from_text=True)
    out = []
    for row in con.execute("SELECT " + ", ".join(f"NOT {r.ok}" for r in typing + values) + " FROM filas").fetchall():
        out.append({r.regla for r, failed in zip(typing + values, row) if failed})
    return out


def _pandas_verdicts() -> list[set[str]]:
    """The project's pandas path (pandera's pandas backend, passes until no coercion failure hides a rule)."""
    from vraem_pipeline.core.quality import split_valid

    frame = pd.DataFrame([r for r, _ in ROWS], columns=list(SCHEMA.columns), dtype=object)
    frame["archivo"], frame["linea"] = "f", range(2, len(frame) + 2)
    rejected = split_valid(frame, SCHEMA, anio=2024, source="f").rejected.set_index("linea")["regla"]
    return [set(rejected[line].split("; ")) if line in rejected.index else set() for line in frame["linea"]]


def test_every_check_kind_gives_the_hand_worked_verdict_in_sql():
    assert _sql_verdicts() == [expected for _, expected in ROWS]


def test_sql_and_pandera_pandas_backend_agree_row_by_row():
    sql, pandas = _sql_verdicts(), _pandas_verdicts()
    # Row 6 aside: on a value of the wrong type a table check that raises (pandas compares "x" >= 2) is not a row
    # failure for pandera, while one that returns False is (test_quality); SQL fails it in both cases.
    assert [v for i, v in enumerate(sql) if i != 6] == [v for i, v in enumerate(pandas) if i != 6]
    assert sql[6] - pandas[6] == {"entero_ge_otro"}


def test_a_check_without_sql_is_an_error_not_skipped():
    schema = pa.DataFrameSchema({"x": pa.Column(str, pa.Check(lambda s: s != "", name="sin_sql"))})
    with pytest.raises(TypeError, match="sin_sql"):
        rules(schema, from_text=True)


def test_ruc_check_digit_macro_matches_the_python_rule():
    from vraem_pipeline.core.ruc import check_digit_ok

    values = [ruc(p, b) for p in ("10", "15", "17", "20") for b in range(0, 4000, 37)]
    values += [bad_ruc("20", b) for b in range(0, 4000, 41)] + ["2051233379", "30512333797", "", "2051233379X"]
    con = duckdb.connect()
    register_macros(con)
    con.register("r", pd.DataFrame({"ruc": values}))
    got = [bool(x) for (x,) in con.execute("SELECT coalesce(vraem_ruc_valido(ruc), false) FROM r").fetchall()]
    assert got == check_digit_ok(pd.Series(values)).tolist()
    assert any(got) and not all(got)


def _stage_ventas(tmp_path, rows, extra_lines=()):
    path = write_ventas(tmp_path, 2024, rows, extra_lines)
    con = duckdb.connect(str(tmp_path / "op.duckdb"))
    ensure_schemas(con)
    register_macros(con)
    load = ventas.load_file(con, path, table="trabajo.ventas", derived=row_verdict(VENTAS, 2024))
    staged = stage_text_load(con, load, fuente="ventas_declaradas", schema=VENTAS, table="staging.ventas_declaradas",
                             anio=2024)
    return con, load, staged


def test_staging_and_quarantine_of_a_file_one_row_per_rule(tmp_path):
    a, b, c, d = ruc("20", 1), ruc("20", 2), ruc("20", 3), ruc("20", 4)
    rows = [
        (a, 2024, "10.5"),             # line 2: accepted
        (bad_ruc("20", 9), 2024, "-3"),  # line 3: check digit and negative
        (a, 2024, "1"),                # line 4: duplicate of line 2
        (b, 2024, "1,5"),              # line 5: not a number
        (c, 2023, "7"),                # line 6: another fiscal year
        (d, 2024, "1e400"),            # line 7: infinite
        (b, 2024, None),               # line 8: accepted (not declared); line 5 was not well typed, so not "first"
    ]
    con, load, staged = _stage_ventas(tmp_path, rows, extra_lines=["20100000017|2024"])
    assert (load.rows_read, staged.aceptadas, staged.rechazadas) == (8, 2, 6)
    got = con.execute("SELECT linea, regla, columna, valor FROM quarantine.ventas_declaradas ORDER BY linea").fetchall()
    assert got == [
        (3, "ruc_digito_verificador; ventas_no_negativas", "ruc; ventas_netas", f"{bad_ruc('20', 9)}; -3"),
        (4, "clave_duplicada", "ruc", a),
        (5, "tipo_de_dato", "ventas_netas", "1,5"),
        (6, "ejercicio_del_anio", "ejercicio, anio", "ejercicio=2023, anio=2024"),
        (7, "valor_finito", "ventas_netas", "1e400"),
        (9, "numero_de_campos", "", "2 campos, se esperaban 3"),
    ]
    raw = json.loads(con.execute("SELECT registro_crudo FROM quarantine.ventas_declaradas WHERE linea = 5").fetchone()[0])
    assert raw == {"ruc": b, "ejercicio": "2024", "ventas_netas": "1,5"}  # the text as read, not converted
    staged_rows = con.execute("SELECT linea, ruc, ventas_netas FROM staging.ventas_declaradas ORDER BY linea").fetchall()
    assert staged_rows == [(2, a, 10.5), (8, b, None)]
    assert table_failures(con, "staging.ventas_declaradas", VENTAS, [2024]).empty


def test_restaging_a_year_replaces_it_and_leaves_other_years(tmp_path):
    con, _, _ = _stage_ventas(tmp_path, [(ruc("20", 1), 2024, "1")])
    con.execute("INSERT INTO staging.ventas_declaradas VALUES (?, 2023, 5.0, 2023, 'otro', 2)", [ruc("20", 7)])
    con.close()
    con, _, staged = _stage_ventas(tmp_path, [(ruc("20", 2), 2024, "1"), (ruc("20", 3), 2024, "2")])
    assert staged.aceptadas == 2
    assert con.execute("SELECT anio, count(*) FROM staging.ventas_declaradas GROUP BY anio ORDER BY anio").fetchall() == [
        (2023, 1), (2024, 2)]


def test_blocking_check_finds_rows_that_break_the_schema_in_the_staged_table(tmp_path):
    con, _, _ = _stage_ventas(tmp_path, [(ruc("20", 1), 2024, "1"), (ruc("20", 2), 2024, "2")])
    assert table_failures(con, "staging.ventas_declaradas", VENTAS, [2024]).empty
    con.execute("INSERT INTO staging.ventas_declaradas VALUES (?, 2024, -1.0, 2024, 'a mano', 9)", [bad_ruc("20", 3)])
    con.execute("INSERT INTO staging.ventas_declaradas VALUES (?, 2024, 1.0, 2024, 'a mano', 10)", [ruc("20", 1)])
    failed = table_failures(con, "staging.ventas_declaradas", VENTAS, [2024]).set_index("regla")
    assert set(failed.index) == {"ruc_digito_verificador", "ventas_no_negativas", "clave_duplicada"}
    assert json.loads(failed.loc["ruc_digito_verificador", "ejemplo"]) == [9]
    assert table_failures(con, "staging.ventas_declaradas", VENTAS, [2023]).empty  # only the years asked for


def test_blocking_check_reports_a_column_of_the_wrong_type(tmp_path):
    con = duckdb.connect()
    ensure_schemas(con)
    con.execute("CREATE TABLE staging.padron_ruc AS SELECT '20100000017' AS ruc, 1 AS estado")
    failed = table_failures(con, "staging.padron_ruc", PADRON, None)
    assert "tipo_de_columna" in set(failed["regla"])


#: A key with a nullable part (the customs lines of a delivery without the line key).
NULLABLE_KEY = pa.DataFrameSchema(
    {"a": pa.Column(str), "b": pa.Column(str, nullable=True), "v": pa.Column(str, nullable=True),
     "anio": pa.Column("int64"), "archivo": pa.Column(str), "linea": pa.Column("int64")},
    unique=["anio", "a", "b"], report_duplicates="exclude_first", coerce=True, name="prueba")


def test_uniqueness_has_sql_unique_semantics_a_null_key_part_is_never_a_duplicate(tmp_path):
    from types import SimpleNamespace

    rows = [  # (line, a, b) → hand-worked verdict
        (2, "x", "1"),   # accepted: first of key (x, 1)
        (3, "x", "1"),   # clave_duplicada of line 2
        (4, "x", None),  # accepted: b missing, no key to repeat
        (5, "x", None),  # accepted too (pandas' backend would call it a duplicate of line 4)
        (6, None, None),  # a is required: valor_obligatorio, never a duplicate
        (7, "y", "2"),   # accepted
    ]
    con = duckdb.connect()
    ensure_schemas(con)
    con.execute("CREATE TABLE trabajo.prueba_v (a VARCHAR, b VARCHAR, v VARCHAR, linea BIGINT, _fila BIGINT)")
    con.executemany("INSERT INTO trabajo.prueba_v VALUES (?, ?, 'z', ?, ?)", [(a, b, n, n) for n, a, b in rows])
    con.execute("CREATE TABLE trabajo.prueba_malas (linea BIGINT, campos BIGINT, error VARCHAR, mensaje VARCHAR, "
                "texto VARCHAR)")
    load = SimpleNamespace(view="trabajo.prueba_v", bad="trabajo.prueba_malas", label="f.txt", header=["a", "b", "v"],
                           rows=len(rows), rows_read=len(rows))
    staged = stage_text_load(con, load, fuente="prueba", schema=NULLABLE_KEY, table="staging.prueba", anio=2024)
    assert (staged.aceptadas, staged.rechazadas) == (4, 2)
    assert con.execute("SELECT linea, regla FROM quarantine.prueba ORDER BY linea").fetchall() == [
        (3, "clave_duplicada"), (6, "valor_obligatorio")]
    assert con.execute("SELECT linea FROM staging.prueba ORDER BY linea").fetchall() == [(2,), (4,), (5,), (7,)]
    assert table_failures(con, "staging.prueba", NULLABLE_KEY, [2024]).empty  # (x, NULL) twice is no duplicate
    con.execute("INSERT INTO staging.prueba VALUES ('x', NULL, 'z', 2024, 'a mano', 8), ('y', '2', 'z', 2024, 'a mano', 9)")
    failed = table_failures(con, "staging.prueba", NULLABLE_KEY, [2024])
    assert failed[["regla", "filas", "ejemplo"]].values.tolist() == [["clave_duplicada", 1, "2024, y, 2"]]
    # the pandas backend differs on purpose (sqlrules' docstring): there NaN equals NaN, lines 4 and 5 collide
    frame = pd.DataFrame({"a": ["x", "x"], "b": [None, None], "v": ["z", "z"], "anio": [2024, 2024],
                          "archivo": ["f", "f"], "linea": [4, 5]})
    with pytest.raises(pa.errors.SchemaError, match=r"not unique:\n +anio +a +b\n1 +2024 +x +NaN"):
        NULLABLE_KEY.validate(frame)
