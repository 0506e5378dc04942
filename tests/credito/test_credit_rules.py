"""Business credit, rule by rule on hand-built fixtures: the debtor schema (SQL and pandas), the file finder,
DNI → RUC 10 and RUC location, unlocated debtors, credit types in and out, a department with zero credit and
both growth definitions."""

import math
import re

import duckdb
import pandas as pd
import pytest

from tests.support.builders import bad_ruc, ruc
from tests.support.scenario_credit import DEUDORES_2024, EXPECTED_QUARANTINE_2024, write_deudores
from vraem_pipeline.core.databases import ensure_schemas
from vraem_pipeline.core.errors import SourceFileError
from vraem_pipeline.core.marts import build_mart, growth_rows
from vraem_pipeline.core.sqlrules import register_macros, row_verdict, rules, stage_text_load, table_failures
from vraem_pipeline.credito.rules import CreditRule, build_business_credit, credit_types, unlocated_by_reason
from vraem_pipeline.credito.schema import DEUDORES
from vraem_pipeline.sources import sbs

A = ruc("20", 30_000_001)
COLUMNS = ["periodo", "tipo_documento", "numero_documento", "codigo_entidad", "tipo_credito", "saldo_soles"]

# (periodo, tipo_documento, numero_documento, codigo_entidad, tipo_credito, saldo_soles) → rules broken, by hand
ROWS = [
    (("202412", "6", A, "00002", "09", "1500.25"), set()),
    (("202412", "1", "05414828", "00002", "13", "0"), set()),  # leading zero, mortgage, zero balance
    (("202412", "4", "001234567", "00002", "12", "10"), set()),  # other document types are kept
    (("202412", "7", "AB123456", "00002", "11", "10"), set()),
    (("202411", "6", A, "00002", "09", "1"), {"periodo_del_anio"}),  # November, not December
    (("202312", "6", A, "00002", "09", "1"), {"periodo_del_anio"}),  # another year
    (("2024-12", "6", A, "00002", "09", "1"), {"periodo_del_anio"}),
    (("202412", "X", A, "00002", "09", "1"), {"tipo_documento_formato"}),
    (("202412", "1", "4521594", "00002", "09", "1"), {"dni_8_digitos"}),  # 7 digits
    (("202412", "1", "452159421", "00002", "09", "1"), {"dni_8_digitos"}),
    (("202412", "6", bad_ruc("20", 30_000_001), "00002", "09", "1"), {"ruc_digito_verificador"}),
    (("202412", "6", A[:10], "00002", "09", "1"), {"ruc_formato"}),
    (("202412", "6", "99" + A[2:], "00002", "09", "1"), {"ruc_formato", "ruc_digito_verificador"}),
    (("202412", "6", ruc("30", 30_000_001), "00002", "09", "1"), {"ruc_formato"}),  # valid digit, unknown prefix
    (("202412", "1", "4521-942", "00002", "09", "1"), {"documento_formato", "dni_8_digitos"}),
    (("202412", "6", A, None, "09", "1"), {"valor_obligatorio"}),  # entity code missing
    (("202412", "6", A, "00002", "05", "1"), {"tipo_credito_sbs"}),
    (("202412", "6", A, "00002", "14", "1"), {"tipo_credito_sbs"}),
    (("202412", "6", A, "00002", "9", "1"), {"tipo_credito_sbs"}),  # the code has two digits
    (("202412", "6", A, "00002", "09", "1,250.00"), {"tipo_de_dato"}),
    (("202412", "6", A, "00002", "09", "-0.01"), {"saldo_no_negativo"}),
    (("202412", "6", A, "00002", "09", "1e400"), {"valor_finito"}),
    (("202412", "6", A, "00002", "09", None), {"valor_obligatorio"}),
]


def _frame() -> pd.DataFrame:
    """The rows, each under its own entity code: the rules of one row, not the uniqueness across them."""
    frame = pd.DataFrame([r for r, _ in ROWS], columns=COLUMNS, dtype=object)
    frame["codigo_entidad"] = [None if e is None else f"{i:05d}" for i, e in enumerate(frame["codigo_entidad"])]
    frame["anio"], frame["archivo"], frame["linea"] = "2024", "f", range(2, len(ROWS) + 2)
    return frame


def _sql_verdicts() -> list[set[str]]:
    con = duckdb.connect()
    register_macros(con)
    con.register("filas", _frame())
    typing, values = rules(DEUDORES, from_text=True)
    checks = typing + values
    out = []
    for row in con.execute("SELECT " + ", ".join(f"NOT {r.ok}" for r in checks) + " FROM filas").fetchall():
        out.append({r.regla for r, failed in zip(checks, row, strict=False) if failed})
    return out


def test_every_quarantine_rule_gives_the_hand_worked_verdict_in_sql():
    assert _sql_verdicts() == [expected for _, expected in ROWS]


def test_sql_and_pandera_pandas_backend_agree_row_by_row():
    from vraem_pipeline.core.quality import split_valid

    frame = _frame()
    rejected = split_valid(frame, DEUDORES, anio=2024, source="f").rejected.set_index("linea")["regla"]
    pandas = [set(rejected[line].split("; ")) if line in rejected.index else set() for line in frame["linea"]]
    assert pandas == _sql_verdicts()


def test_row_verdict_computed_while_reading_agrees_with_the_rules():
    con = duckdb.connect()
    register_macros(con)
    frame = _frame().drop(columns=["anio", "archivo", "linea"])
    con.register("filas", frame)
    got = [r[0] for r in con.execute(f"SELECT {row_verdict(DEUDORES, 2024)['_ok']} FROM filas").fetchall()]
    assert got == [not expected for _, expected in ROWS]


def test_ruc10_of_a_dni_in_sql_matches_the_python_check_digit():
    from vraem_pipeline.core.ruc import is_valid

    dnis = [f"{n:08d}" for n in range(0, 99_999_999, 1_234_567)] + ["05414828", "45215942"]
    con = duckdb.connect()
    register_macros(con)
    con.register("d", pd.DataFrame({"dni": dnis}))
    got = [
        r[0]
        for r in con.execute(
            "SELECT '10' || dni || vraem_ruc_digito(TRY_CAST('10' || dni AS BIGINT))::VARCHAR FROM d"
        ).fetchall()
    ]
    assert got[-2:] == ["10054148289", "10452159428"]  # test vectors of docs/sources.md#ruc-digito
    assert all(is_valid(r) and r[2:10] == d for r, d in zip(got, dnis, strict=False))


# --- the file of a year ---------------------------------------------------------------------------------------


def test_finder_takes_december_and_names_the_other_months(tmp_path):
    write_deudores(tmp_path, 2024, DEUDORES_2024[:1], month=6)
    path = write_deudores(tmp_path, 2024, DEUDORES_2024[:1], zipped=True)
    found = sbs.find_file(tmp_path / "sbs" / "deudores" / "2024", 2024)
    assert found.path == path and "deudores_202406.txt" in found.nota
    assert sbs.find_file(tmp_path / "sbs" / "deudores" / "2023", 2023) is None


@pytest.mark.parametrize(
    "files, rule",
    [
        ([(2024, 6)], "saldo_diciembre"),  # no December balance: the report's amount is missing
        ([(2023, 12)], "periodo_del_archivo"),  # a file of another year in the 2024 folder
        ([(2024, 12), (2024, 12, "zip")], "archivo_unico"),
    ],
)
def test_finder_fails_naming_the_file_and_rule(tmp_path, files, rule):
    folder = tmp_path / "sbs" / "deudores" / "2024"
    for spec in files:
        year, month = spec[:2]
        folder.mkdir(parents=True, exist_ok=True)
        name = folder / f"deudores_{year}{month:02d}.{spec[2] if len(spec) > 2 else 'txt'}"
        name.write_bytes(b"PERIODO|TIPO_DOCUMENTO|NUMERO_DOCUMENTO|CODIGO_ENTIDAD|TIPO_CREDITO|SALDO_SOLES\n")
    with pytest.raises(SourceFileError, match=rf"^{re.escape(str(folder))}.*: .* \[{rule}\]$") as err:
        sbs.find_file(folder, 2024)
    assert err.value.rule == rule


def test_a_changed_header_fails_the_file_at_line_1(tmp_path):
    path = tmp_path / "deudores_202412.txt"
    path.write_bytes(b"PERIODO|TIPO_DOC|NUMERO_DOCUMENTO|CODIGO_ENTIDAD|TIPO_CREDITO|SALDO_SOLES\n202412|6|x|1|09|1\n")
    with pytest.raises(SourceFileError) as err:
        sbs.read_file(path)
    assert (err.value.line, err.value.rule) == (1, "cabecera")


def test_every_line_ends_in_staging_or_quarantine_with_its_line_and_rule(tmp_path):
    path = write_deudores(tmp_path, 2024, DEUDORES_2024, crlf=True)
    con = duckdb.connect(str(tmp_path / "op.duckdb"))
    ensure_schemas(con)
    register_macros(con)
    load = sbs.load_file(con, path, table="trabajo.sbs_deudores", derived=row_verdict(DEUDORES, 2024))
    staged = stage_text_load(con, load, fuente="sbs_deudores", schema=DEUDORES, table="staging.sbs_deudores", anio=2024)
    assert (load.rows_read, staged.accepted_rows, staged.rejected_rows) == (30, 16, 14)
    got = con.execute("SELECT linea, regla FROM quarantine.sbs_deudores ORDER BY linea").fetchall()
    assert got == EXPECTED_QUARANTINE_2024
    lines = [r[0] for r in con.execute("SELECT linea FROM staging.sbs_deudores ORDER BY linea").fetchall()]
    assert lines == list(range(2, 18))
    # the first line of a repeated key wins: line 2's balance, not line 29's
    assert con.execute(
        f"SELECT saldo_soles FROM staging.sbs_deudores WHERE numero_documento = '{A}' "
        "AND codigo_entidad = '00002' AND tipo_credito = '09'"
    ).fetchall() == [(100_000.0,)]
    assert table_failures(con, "staging.sbs_deudores", DEUDORES, [2024]).empty


# --- locating debtors ---------------------------------------------------------------------------------------


def _operator(padron: list[tuple], debtors: list[tuple], territory: list[str]) -> duckdb.DuckDBPyConnection:
    """An operator database with just the tables the credit SQL reads, filled by hand."""
    con = duckdb.connect()
    ensure_schemas(con)
    con.execute(
        "CREATE TABLE staging.padron_ruc (anio BIGINT, ruc VARCHAR, estado VARCHAR, tipo VARCHAR, ubigeo VARCHAR)"
    )
    if padron:
        con.executemany("INSERT INTO staging.padron_ruc VALUES (?, ?, ?, ?, ?)", padron)
    con.execute("""CREATE TABLE staging.sbs_deudores (periodo VARCHAR, tipo_documento VARCHAR, numero_documento VARCHAR,
                   codigo_entidad VARCHAR, tipo_credito VARCHAR, saldo_soles DOUBLE, anio BIGINT, archivo VARCHAR,
                   linea BIGINT)""")
    if debtors:
        con.executemany(
            "INSERT INTO staging.sbs_deudores VALUES (?, ?, ?, ?, ?, ?, ?, 'f', ?)",
            [(f"{d[0]}12", *d[1:], d[0], i + 2) for i, d in enumerate(debtors)],
        )
    con.register("_t", credit_types())
    con.execute("CREATE TABLE referencia.tipos_credito AS SELECT * FROM _t")
    con.execute("CREATE TABLE referencia.territorio AS SELECT unnest(?) AS ubigeo", [territory])
    con.execute(
        "CREATE TABLE referencia.territorio_departamentos AS "
        "SELECT DISTINCT substr(ubigeo, 1, 2) AS ubigeo_departamento FROM referencia.territorio"
    )
    con.execute(
        "CREATE TABLE referencia.departamentos AS SELECT * FROM (VALUES ('05', 'Ayacucho'), "
        "('09', 'Huancavelica'), ('12', 'Junín')) AS t(ubigeo_departamento, departamento)"
    )
    return con


P10 = ruc("10", 45_215_942)
LOCATE_PADRON = [
    (2024, A, "ACTIVO", "SOCIEDAD ANONIMA", "050401"),
    (2024, P10, "BAJA DEFINITIVA", "PERSONA NATURAL SIN NEGOCIO", "120604"),  # Estado and Tipo do not matter
    (2024, ruc("20", 7), "ACTIVO", "SOCIEDAD ANONIMA", None),  # no UBIGEO
    (2023, ruc("20", 8), "ACTIVO", "SOCIEDAD ANONIMA", "050401"),  # only in the 2023 cut
]
LOCATE_DEUDORES = [
    # (anio, tipo_documento, numero, entidad, tipo_credito, saldo)
    (2024, "6", A, "00002", "09", 100.0),  # RUC → its own ubigeo
    (2024, "1", "45215942", "00002", "10", 50.0),  # DNI → RUC 10 10452159428 → 120604
    (2024, "6", P10, "00003", "08", 25.0),  # the same person by RUC 10 → 120604
    (2024, "1", "12345678", "00002", "09", 7.0),  # DNI whose RUC 10 is in no cut
    (2024, "6", ruc("20", 7), "00002", "09", 3.0),  # RUC without UBIGEO
    (2024, "6", ruc("20", 8), "00002", "09", 2.0),  # RUC of another year's cut only
    (2024, "4", "001234567", "00002", "10", 1.0),  # carné: cannot be located
    (2024, "1", "45215942", "00002", "12", 999.0),  # consumer credit: not business credit
    (2024, "6", A, "00002", "13", 999.0),  # mortgage: not business credit
]


def test_debtors_are_located_by_ruc_and_by_the_ruc10_of_their_dni():
    con = _operator(LOCATE_PADRON, LOCATE_DEUDORES, ["050401", "120604"])
    summary = build_business_credit(con, [2024], CreditRule())
    got = con.execute("""SELECT numero_documento, tipo_credito, ruc_ubicacion, ubigeo, motivo_sin_ubicar
                         FROM intermedio.credito_empresarial ORDER BY linea""").fetchall()
    assert got == [
        (A, "09", A, "050401", None),
        ("45215942", "10", "10452159428", "120604", None),  # DNI → its RUC 10
        (P10, "08", P10, "120604", None),
        ("12345678", "09", ruc("10", 12_345_678), None, "fuera_del_padron"),
        (ruc("20", 7), "09", ruc("20", 7), None, "sin_ubigeo_en_padron"),
        (ruc("20", 8), "09", ruc("20", 8), None, "fuera_del_padron"),
        ("001234567", "10", None, None, "documento_no_ubicable"),
    ]
    # 7 business rows of 7 debtors (a debtor is a document: the person counts once by DNI, once by RUC 10);
    # unlocated: 4 debtors, 7 + 3 + 2 + 1 = 13 soles of 188
    row = summary.iloc[0]
    assert (row["filas"], row["deudores"], row["deudores_sin_ubicar"]) == (7, 7, 4)
    assert row["saldo_sin_ubicar_pct"] == pytest.approx(round(100 * 13 / 188, 3))
    reasons = unlocated_by_reason(con, [2024]).set_index("motivo_sin_ubicar")["deudores"].to_dict()
    assert reasons == {"documento_no_ubicable": 1, "fuera_del_padron": 2, "sin_ubigeo_en_padron": 1}


@pytest.mark.parametrize(
    "code, business",
    [("06", True), ("07", True), ("08", True), ("09", True), ("10", True), ("11", False), ("12", False), ("13", False)],
)
def test_each_credit_type_is_in_or_out_of_business_credit(code, business):
    con = _operator(LOCATE_PADRON[:1], [(2024, "6", A, "00002", code, 10.0)], ["050401"])
    build_business_credit(con, [2024], CreditRule())
    assert con.execute("SELECT count(*) FROM intermedio.credito_empresarial").fetchone()[0] == int(business)


def test_rebuilding_a_year_leaves_the_others():
    con = _operator(
        LOCATE_PADRON, LOCATE_DEUDORES + [(2023, "6", ruc("20", 8), "00002", "09", 5.0)], ["050401", "120604"]
    )
    build_business_credit(con, [2023, 2024], CreditRule())
    con.execute("DELETE FROM staging.sbs_deudores WHERE anio = 2024 AND tipo_credito = '09'")
    build_business_credit(con, [2024], CreditRule())
    got = con.execute(
        "SELECT anio, count(*) FROM intermedio.credito_empresarial GROUP BY anio ORDER BY anio"
    ).fetchall()
    assert got == [(2023, 1), (2024, 3)]


def test_a_table_left_by_an_older_layout_is_rebuilt_for_every_staged_year():
    con = _operator(
        LOCATE_PADRON, LOCATE_DEUDORES + [(2023, "6", ruc("20", 8), "00002", "09", 5.0)], ["050401", "120604"]
    )
    con.execute("CREATE TABLE intermedio.credito_empresarial AS SELECT 2023::BIGINT AS anio, 'viejo' AS columna_vieja")
    build_business_credit(con, [2024], CreditRule())
    cols = [r[0] for r in con.execute("DESCRIBE intermedio.credito_empresarial").fetchall()]
    assert "columna_vieja" not in cols and "motivo_sin_ubicar" in cols
    got = con.execute(
        "SELECT anio, count(*) FROM intermedio.credito_empresarial GROUP BY anio ORDER BY anio"
    ).fetchall()
    assert got == [(2023, 1), (2024, 7)]


# --- marts and growth -------------------------------------------------------------------------------------------


def _marts(con) -> dict[str, pd.DataFrame]:
    return {
        name: (build_mart(con, name), con.execute(f"FROM marts.{name}").df())[1]
        for name in ("credito_evolucion", "credito_por_tipo", "credito_por_departamento")
    }


def test_a_territory_department_without_credit_appears_with_zero():
    # territory: Huanta (Ayacucho), Mazamari (Junín), Pampas (Huancavelica: nobody located there)
    con = _operator(LOCATE_PADRON, LOCATE_DEUDORES, ["050401", "120604", "090701"])
    con.execute("INSERT INTO meta.fuentes (fuente, anio) VALUES ('sbs_deudores', 2024)")
    build_business_credit(con, [2024], CreditRule())
    m = _marts(con)
    # territory = A 100 (Ayacucho) + DNI 50 + RUC 10 25 (Junín) = 175 soles
    assert m["credito_evolucion"]["credito_millones_soles"].tolist() == pytest.approx([175 / 1e6])
    dept = m["credito_por_departamento"].set_index("ubigeo_departamento")
    assert dept["credito_millones_soles"].to_dict() == pytest.approx({"05": 100 / 1e6, "12": 75 / 1e6, "09": 0.0})
    assert dept["participacion_pct"].to_dict() == pytest.approx(
        {"05": 100 * 100 / 175, "12": 100 * 75 / 175, "09": 0.0}
    )
    assert dept.loc["09", "departamento"] == "Huancavelica"
    tipo = m["credito_por_tipo"].set_index("tipo_credito")["credito_millones_soles"].to_dict()
    assert tipo == pytest.approx(
        {
            "corporativos": 0.0,
            "grandes_empresas": 0.0,
            "medianas_empresas": 25 / 1e6,
            "pequenas_empresas": 100 / 1e6,
            "microempresas": 50 / 1e6,
        }
    )
    assert list(tipo) == ["corporativos", "grandes_empresas", "medianas_empresas", "pequenas_empresas", "microempresas"]


def test_a_year_without_a_debtor_file_has_no_row_and_one_without_territory_credit_has_zero():
    con = _operator(LOCATE_PADRON, LOCATE_DEUDORES, ["090701"])
    con.execute("INSERT INTO meta.fuentes (fuente, anio) VALUES ('sbs_deudores', 2024)")
    build_business_credit(con, [2024], CreditRule())
    m = _marts(con)
    assert m["credito_evolucion"][["anio", "credito_millones_soles"]].values.tolist() == [[2024, 0.0]]
    assert m["credito_por_tipo"]["participacion_pct"].isna().all()  # no share of nothing


def test_both_growth_definitions_on_a_worked_example():
    # 100 → 150 → 120 → 138 (S/ millions): changes +50 %, −20 %, +15 %.
    # mean of annual changes = (50 − 20 + 15) / 3 = 15 %; compound = (138 / 100)^(1/3) − 1 = 11.3336 %.
    con = _operator([], [], ["050401"])
    con.execute("""CREATE TABLE intermedio.credito_empresarial (anio BIGINT, ubigeo VARCHAR,
                   ubigeo_departamento VARCHAR, tipo_credito VARCHAR, saldo_soles DOUBLE)""")
    for anio, millones in {2021: 100, 2022: 150, 2023: 120, 2024: 138}.items():
        con.execute("INSERT INTO meta.fuentes (fuente, anio) VALUES ('sbs_deudores', ?)", [anio])
        con.execute(
            "INSERT INTO intermedio.credito_empresarial VALUES (?, '050401', '05', '09', ?)", [anio, millones * 1e6]
        )
    evol = _marts(con)["credito_evolucion"]
    assert evol["var_pct"].tolist()[1:] == pytest.approx([50.0, -20.0, 15.0])
    g = growth_rows(con, "SELECT anio, credito_millones_soles AS valor FROM marts.credito_evolucion", "credito", "f")
    g = {(int(a), i): v for a, i, v in zip(g["anio"], g["indicador"], g["valor"], strict=False)}
    assert g[(2024, "credito_var_promedio_anual_pct")] == pytest.approx(15.0)
    assert g[(2024, "credito_tcpa_pct")] == pytest.approx(100 * (1.38 ** (1 / 3) - 1))
    assert g[(2024, "credito_tcpa_pct")] == pytest.approx(11.3336, abs=1e-4)
    assert g[(2023, "credito_var_anual_pct")] == pytest.approx(-20.0)
    assert not math.isclose(g[(2024, "credito_tcpa_pct")], g[(2024, "credito_var_promedio_anual_pct")])


def test_credit_types_reference_marks_06_to_10_as_business():
    t = credit_types()
    assert t.query("credito_empresarial")["clave"].tolist() == [
        "corporativos",
        "grandes_empresas",
        "medianas_empresas",
        "pequenas_empresas",
        "microempresas",
    ]
    assert CreditRule().business_credit_kinds == ("06", "07", "08", "09", "10")
