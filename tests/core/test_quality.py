"""split_valid: row-level failures to quarantine, file-level failures to a clear error."""

import json

import pandas as pd
import pytest

from vraem_pipeline.core.errors import SourceFileError
from vraem_pipeline.core.quality import QUARANTINE_COLUMNS, split_valid
from vraem_pipeline.empresas.schema import VENTAS


def _frame(rows):
    return pd.DataFrame([{"anio": 2024, "archivo": "ventas_2024.txt", "linea": i + 2, **r} for i, r in enumerate(rows)])


def test_each_failing_row_goes_to_quarantine_once_with_all_its_rules():
    df = _frame(
        [
            {"ruc": "20512333797", "ejercicio": "2024", "ventas_netas": "10.5"},  # ok
            {"ruc": "20512333798", "ejercicio": "2024", "ventas_netas": "-3"},  # check digit + negative
            {"ruc": "20512333797", "ejercicio": "2024", "ventas_netas": "1"},  # duplicate key
            {"ruc": "20100070970", "ejercicio": "2024", "ventas_netas": "1,5"},  # not a number
            {"ruc": "20512201611", "ejercicio": "2024", "ventas_netas": None},  # ok: not declared
        ]
    )
    split = split_valid(df, VENTAS, anio=2024, source="ventas_2024.txt")
    assert split.accepted["linea"].tolist() == [2, 6]
    assert split.rejected.columns.tolist() == QUARANTINE_COLUMNS
    rules = dict(zip(split.rejected["linea"], split.rejected["regla"], strict=False))
    assert rules == {3: "ruc_digito_verificador; ventas_no_negativas", 4: "clave_duplicada", 5: "tipo_de_dato"}
    raw = json.loads(split.rejected.set_index("linea").loc[5, "registro_crudo"])
    assert raw == {"ruc": "20100070970", "ejercicio": "2024", "ventas_netas": "1,5"}  # values as read, not coerced
    assert split.n_accepted + split.n_rejected == len(df)


def test_a_missing_column_is_the_files_fault():
    df = _frame([{"ruc": "20512333797", "ejercicio": "2024"}])
    with pytest.raises(SourceFileError) as err:
        split_valid(df, VENTAS, anio=2024, source="ventas_2024.txt")
    assert "ventas_2024.txt" in str(err.value) and "[esquema]" in str(err.value)


def test_a_row_failing_two_columns_is_one_quarantine_row_and_bad_types_do_not_hide_other_rules():
    df = _frame(
        [
            {"ruc": "20512333797", "ejercicio": "2024.0", "ventas_netas": "1"},  # int64 takes no decimals
            {"ruc": "20100070970", "ejercicio": "dos mil", "ventas_netas": "x"},  # two bad columns: one row
            {"ruc": "20512201611", "ejercicio": "2024", "ventas_netas": "5"},  # ok
            {"ruc": "20512201612", "ejercicio": "2024", "ventas_netas": "-5"},  # found once the bad types are out
        ]
    )
    split = split_valid(df, VENTAS, anio=2024, source="ventas_2024.txt")
    rows = split.rejected.set_index("linea")
    assert set(rows.loc[2, "regla"].split("; ")) == {"tipo_de_dato", "ejercicio_del_anio"}
    assert set(rows.loc[3, "regla"].split("; ")) == {"tipo_de_dato", "ejercicio_del_anio"}
    assert {"dos mil", "x"} <= set(rows.loc[3, "valor"].split("; "))
    assert set(rows.loc[5, "regla"].split("; ")) == {"ruc_digito_verificador", "ventas_no_negativas"}
    assert split.accepted["linea"].tolist() == [4] and split.accepted["ejercicio"].dtype == "int64"
