"""split_valid: row-level failures to quarantine, file-level failures to a clear error."""

import json

import pandas as pd
import pytest

from vraem_pipeline.errors import SourceFileError
from vraem_pipeline.quality import QUARANTINE_COLUMNS, split_valid
from vraem_pipeline.schemas.empresas import VENTAS


def _frame(rows):
    return pd.DataFrame([{"anio": 2024, "archivo": "ventas_2024.txt", "linea": i + 2, **r} for i, r in enumerate(rows)])


def test_each_failing_row_goes_to_quarantine_once_with_all_its_rules():
    df = _frame([
        {"ruc": "20512333797", "ejercicio": "2024", "ventas_netas": "10.5"},   # ok
        {"ruc": "20512333798", "ejercicio": "2024", "ventas_netas": "-3"},     # check digit + negative
        {"ruc": "20512333797", "ejercicio": "2024", "ventas_netas": "1"},      # duplicate key
        {"ruc": "20100070970", "ejercicio": "2024", "ventas_netas": "1,5"},    # not a number
        {"ruc": "20512201611", "ejercicio": "2024", "ventas_netas": None},     # ok: not declared
    ])
    split = split_valid(df, VENTAS, anio=2024, source="ventas_2024.txt")
    assert split.accepted["linea"].tolist() == [2, 6]
    assert split.rejected.columns.tolist() == QUARANTINE_COLUMNS
    rules = dict(zip(split.rejected["linea"], split.rejected["regla"]))
    assert rules == {3: "ruc_digito_verificador; ventas_no_negativas", 4: "clave_duplicada", 5: "tipo_de_dato"}
    raw = json.loads(split.rejected.set_index("linea").loc[5, "registro_crudo"])
    assert raw == {"ruc": "20100070970", "ejercicio": "2024", "ventas_netas": "1,5"}  # values as read, not coerced
    assert split.n_accepted + split.n_rejected == len(df)


def test_a_missing_column_is_the_files_fault():
    df = _frame([{"ruc": "20512333797", "ejercicio": "2024"}])
    with pytest.raises(SourceFileError) as err:
        split_valid(df, VENTAS, anio=2024, source="ventas_2024.txt")
    assert "ventas_2024.txt" in str(err.value) and "[esquema]" in str(err.value)


# ------------------------------------------------- type pre-check: bad numbers found before pandera, same result

def _pandera_only(monkeypatch):
    """split_valid without the pre-check: pandera's own multi-pass path, the reference for the result."""
    import numpy as np

    import vraem_pipeline.quality as q

    monkeypatch.setattr(q, "_type_failures", lambda df, schema: (np.zeros(len(df), dtype=bool), {}))


def _both(df, monkeypatch):
    fast = split_valid(df.copy(), VENTAS, anio=2024, source="ventas_2024.txt")
    with monkeypatch.context() as m:
        _pandera_only(m)
        ref = split_valid(df.copy(), VENTAS, anio=2024, source="ventas_2024.txt")
    pd.testing.assert_frame_equal(fast.accepted, ref.accepted)
    pd.testing.assert_frame_equal(fast.rejected, ref.rejected)
    return fast


def test_float_column_precheck_quarantines_non_numbers_with_rule_column_and_raw_value(monkeypatch):
    df = _frame([
        {"ruc": "20512333797", "ejercicio": "2024", "ventas_netas": "1,5"},       # decimal comma
        {"ruc": "20100070970", "ejercicio": "2024", "ventas_netas": "S/ 20"},     # currency
        {"ruc": "20512201611", "ejercicio": "2024", "ventas_netas": ""},          # empty text is not a number
        {"ruc": "20100047218", "ejercicio": "2024", "ventas_netas": " 12.5 "},    # float() accepts it: kept
        {"ruc": "20131312955", "ejercicio": "2024", "ventas_netas": "1e3"},       # kept
        {"ruc": "20100017491", "ejercicio": "2024", "ventas_netas": None},        # not declared: kept
    ])
    split = _both(df, monkeypatch)
    got = split.rejected.set_index("linea")[["regla", "columna", "valor"]].to_dict("index")
    assert got == {
        2: {"regla": "tipo_de_dato", "columna": "ventas_netas", "valor": "1,5"},
        3: {"regla": "tipo_de_dato", "columna": "ventas_netas", "valor": "S/ 20"},
        4: {"regla": "tipo_de_dato", "columna": "ventas_netas", "valor": ""},
    }
    assert split.accepted["ventas_netas"].tolist()[:2] == [12.5, 1000.0]
    assert split.accepted["ventas_netas"].dtype == "float64"


def test_int_column_precheck_and_a_row_failing_two_columns_is_one_quarantine_row(monkeypatch):
    df = _frame([
        {"ruc": "20512333797", "ejercicio": "2024.0", "ventas_netas": "1"},       # int64 takes no decimals
        {"ruc": "20100070970", "ejercicio": "dos mil", "ventas_netas": "x"},      # two bad columns: one row
        {"ruc": "20512201611", "ejercicio": "2024", "ventas_netas": "5"},         # ok
    ])
    split = _both(df, monkeypatch)
    rows = split.rejected.set_index("linea")
    # an ejercicio that is not a number cannot equal the year either: pandera reports both, as it always did
    assert set(rows.loc[2, "regla"].split("; ")) == {"tipo_de_dato", "ejercicio_del_anio"}
    assert "ejercicio" in rows.loc[2, "columna"].split("; ") and "2024.0" in rows.loc[2, "valor"].split("; ")
    assert set(rows.loc[3, "regla"].split("; ")) == {"tipo_de_dato", "ejercicio_del_anio"}
    assert {"ejercicio", "ventas_netas"} <= set(rows.loc[3, "columna"].split("; "))
    assert {"dos mil", "x"} <= set(rows.loc[3, "valor"].split("; "))
    assert split.accepted["linea"].tolist() == [4] and split.accepted["ejercicio"].dtype == "int64"


def test_a_bad_type_row_keeps_its_other_rules_and_its_duplicates_are_judged_as_before(monkeypatch):
    df = _frame([
        {"ruc": "20512333798", "ejercicio": "2024", "ventas_netas": "1,5"},   # bad check digit and bad amount
        {"ruc": "20100070970", "ejercicio": "2024", "ventas_netas": "abc"},   # first of a key, bad amount
        {"ruc": "20100070970", "ejercicio": "2024", "ventas_netas": "7"},     # its duplicate
        {"ruc": "20512201611", "ejercicio": "2024", "ventas_netas": "3"},
        {"ruc": "20512201611", "ejercicio": "2024", "ventas_netas": "?"},     # a bad amount on a duplicate key
    ])
    split = _both(df, monkeypatch)
    rules = {line: set(r.split("; ")) for line, r in zip(split.rejected["linea"], split.rejected["regla"])}
    assert rules[2] == {"ruc_digito_verificador", "tipo_de_dato"}
    assert rules[3] == {"tipo_de_dato"}
    assert rules[6] == {"tipo_de_dato", "clave_duplicada"}
    # the row whose first occurrence left for its type is no longer a duplicate (as in pandera's own passes)
    assert split.accepted["linea"].tolist() == [4, 5]


def test_pandera_does_not_search_bad_values_over_the_whole_column(monkeypatch):
    """The slow path (pandera trying every value of a column that failed to coerce) only sees the few bad rows."""
    import pandera.engines.utils as pu

    from tests.builders import ruc

    sizes = []
    original = pu.numpy_pandas_coerce_failure_cases

    def spy(data, type_):
        sizes.append(len(data))
        return original(data, type_)

    monkeypatch.setattr(pu, "numpy_pandas_coerce_failure_cases", spy)
    n = 20_000
    rucs = [ruc("20", i) for i in range(n)]
    df = pd.DataFrame({"ruc": pd.array(rucs, dtype="str"), "ejercicio": pd.array(["2024"] * n, dtype="str"),
                       "ventas_netas": pd.array([f"{i}.5" for i in range(n)], dtype="str")})
    df.loc[[10, 15_000], "ventas_netas"] = ["1,5", "N/D"]
    df["anio"], df["archivo"], df["linea"] = 2024, "ventas_2024.txt", range(2, n + 2)
    split = split_valid(df, VENTAS, anio=2024, source="ventas_2024.txt")
    typed = split.rejected[split.rejected["regla"].str.contains("tipo_de_dato")]
    assert typed["linea"].tolist() == [12, 15_002] and typed["valor"].tolist() == ["1,5", "N/D"]
    assert sizes and max(sizes) <= 2  # only the two bad rows (and their key partners, none here)


def test_type_failures_follow_pandera_verdict_per_value():
    import numpy as np

    from vraem_pipeline.quality import _type_failures

    df = _frame([{"ruc": "20512333797", "ejercicio": e, "ventas_netas": v} for e, v in [
        ("2024", "10"), ("+2024", "-3"), (" 2024", "nan"), ("2_024", "1_0"), ("2024.0", "1e400"), (None, None),
        ("", ""), ("x", ".5"),
    ]])
    bad, coerced = _type_failures(df, VENTAS)
    # int64: no decimals, no missing, no empty, no text; float64: missing is NaN, empty and text are not numbers
    assert bad.tolist() == [False, False, False, False, True, True, True, True]
    assert coerced == {}  # both numeric columns fail to coerce as a whole; nothing handed over pre-coerced
    assert np.flatnonzero(bad).tolist() == [4, 5, 6, 7]
