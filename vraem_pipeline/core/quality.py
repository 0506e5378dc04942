"""Turn pandera's lazily collected failures into quarantine rows, so that no source row is lost silently.

Every source goes through `split_valid`: rows that break a row-level rule leave the frame with the file, line,
rule and raw values; what is left must then pass the whole schema, or the file itself is wrong and the asset
fails naming it. The same schema later guards the written table as a blocking asset check (`schema_failures`).

National files never come here: their rules run in DuckDB (`sqlrules`), translated from the same schemas.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from vraem_pipeline.core.errors import SourceFileError

#: Columns of every `quarantine.<fuente>` table (one row per rejected source row).
QUARANTINE_COLUMNS = ["anio", "archivo", "linea", "regla", "columna", "valor", "registro_crudo"]

# A coercion failure hides the value checks of its column until the bad rows are gone: one pass removes the
# rows with bad types, the next finds every other rule; more passes only happen for pathological schemas.
_MAX_PASSES = 4


@dataclass
class Split:
    accepted: pd.DataFrame
    rejected: pd.DataFrame  # QUARANTINE_COLUMNS

    @property
    def n_accepted(self) -> int:
        return len(self.accepted)

    @property
    def n_rejected(self) -> int:
        return len(self.rejected)


def quarantine_frame(
    rows: pd.DataFrame,
    *,
    anio: int,
    rule_table: pd.Series | str,
    column_names: pd.Series | str = "",
    vals: pd.Series | str = "",
    file_col: str = "archivo",
    line_col: str = "linea",
) -> pd.DataFrame:
    """Quarantine rows for `rows` (raw values serialized as JSON so any source fits one table layout)."""
    raw_cols = [c for c in rows.columns if c not in (file_col, line_col, "anio")]
    values = rows[raw_cols].astype(object)
    values = values.where(values.notna(), None)
    raw = [json.dumps(rec, ensure_ascii=False, default=str) for rec in values.to_dict("records")]
    return pd.DataFrame(
        {
            "anio": anio,
            "archivo": rows[file_col].astype(str).to_numpy(),
            "linea": rows[line_col].astype("int64").to_numpy(),
            "regla": rule_table if isinstance(rule_table, str) else rule_table.to_numpy(),
            "columna": column_names if isinstance(column_names, str) else column_names.to_numpy(),
            "valor": vals if isinstance(vals, str) else vals.to_numpy(),
            "registro_crudo": raw,
        },
        index=rows.index,
    )[QUARANTINE_COLUMNS]


def empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("anio", "linea") else "str") for c in QUARANTINE_COLUMNS})


def _rule_name(check: str) -> str:
    """pandera's built-in check labels → the rule names a data engineer reads in quarantine."""
    if check in ("multiple_fields_uniqueness", "field_uniqueness"):
        return "clave_duplicada"
    if check.startswith(("coerce_dtype", "dtype(")):
        return "tipo_de_dato"
    if check == "not_nullable":
        return "valor_obligatorio"
    return check


def _failure_table(err: SchemaErrors) -> pd.DataFrame:
    fc = err.failure_cases.copy()
    fc["check"] = fc["check"].astype(str).map(_rule_name)
    fc["column"] = fc["column"].astype(str)
    # pandas 3 keeps a missing value missing through astype(str): a null that breaks `nullable=False` has no text
    fc["failure_case"] = fc["failure_case"].astype(str).fillna("")
    return fc


def _quarantine_pass(original: pd.DataFrame, row_level: pd.DataFrame, anio: int) -> tuple[pd.DataFrame, pd.Index]:
    """One quarantine row per failing source row (its rules, columns and values joined), and their index labels."""
    per_row = (
        row_level.assign(index=row_level["index"].astype("int64"))
        .groupby("index", sort=True)
        .agg(
            regla=("check", lambda s: "; ".join(dict.fromkeys(s))),
            columna=("column", lambda s: "; ".join(dict.fromkeys(s))),
            valor=("failure_case", lambda s: "; ".join(dict.fromkeys(s))),
        )
    )
    bad = original.loc[per_row.index]
    return quarantine_frame(
        bad, anio=anio, rule_table=per_row["regla"], column_names=per_row["columna"], vals=per_row["valor"]
    ), per_row.index


def split_valid(df: pd.DataFrame, schema: pa.DataFrameSchema, *, anio: int, source: str) -> Split:
    """Validate lazily; send every row with a row-level failure to quarantine and return the rest, validated.

    `df` must carry `archivo` and `linea`. Failures without a row index (a missing column, a wrong type for the
    whole column) are the file's fault, not a row's: they raise SourceFileError with the rule. A column that
    fails to coerce hides its value checks from pandera until its bad rows are gone, so those rows leave first
    and the next pass sees every rule for everyone else. (Only small sources come here — ENAHO, ~90 k rows a
    year; national files are validated in DuckDB by `sqlrules`.)
    """
    original = df
    rejected: list[pd.DataFrame] = []
    current = df
    for _ in range(_MAX_PASSES):
        try:
            validated = schema.validate(current, lazy=True)
        except SchemaErrors as err:
            fc = _failure_table(err)
            row_level = fc[fc["index"].notna()]
            if row_level.empty:
                problems = "; ".join(sorted(set(fc["column"] + ": " + fc["check"] + " → " + fc["failure_case"])))[:2000]
                raise SourceFileError(source, f"el archivo no cumple el esquema: {problems}", rule="esquema") from None
            typed = row_level[row_level["check"] == "tipo_de_dato"]["index"]
            if len(typed):
                row_level = row_level[row_level["index"].isin(set(typed))]
            frame, labels = _quarantine_pass(original, row_level, anio)
            rejected.append(frame)
            current = current.drop(index=labels)
            continue
        quarantined = pd.concat(rejected) if rejected else empty_quarantine()
        return Split(accepted=validated, rejected=quarantined.reset_index(drop=True))
    raise SourceFileError(source, "la validación no converge: quedan fallas tras varias pasadas", rule="esquema")


def schema_failures(df: pd.DataFrame, schema: pa.DataFrameSchema) -> pd.DataFrame:
    """All failure cases of `df` (empty when it passes): what a blocking check reports."""
    try:
        schema.validate(df, lazy=True)
    except SchemaErrors as err:
        return _failure_table(err)[["column", "check", "failure_case", "index"]]
    return pd.DataFrame(columns=["column", "check", "failure_case", "index"])
