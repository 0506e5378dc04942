"""Turn pandera's lazily collected failures into quarantine rows, so that no source row is lost silently.

Every source goes through `split_valid`: rows that break a row-level rule leave the frame with the file, line,
rule and raw values; what is left must then pass the whole schema, or the file itself is wrong and the asset
fails naming it. The same schema later guards the written table as a blocking asset check (`schema_failures`).

Values that do not coerce to a numeric column's type are found before pandera sees the frame (`_type_failures`):
when a column's coercion fails, pandera looks for the failing values one by one over the whole column, which on
a national file takes longer than the whole validation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.engines import pandas_engine
from pandera.errors import SchemaErrors

from vraem_pipeline.errors import SourceFileError

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
    rows: pd.DataFrame, *, anio: int, reglas: pd.Series | str, columnas: pd.Series | str = "",
    valores: pd.Series | str = "", archivo_col: str = "archivo", linea_col: str = "linea",
) -> pd.DataFrame:
    """Quarantine rows for `rows` (raw values serialized as JSON so any source fits one table layout)."""
    raw_cols = [c for c in rows.columns if c not in (archivo_col, linea_col, "anio")]
    values = rows[raw_cols].astype(object)
    values = values.where(values.notna(), None)
    raw = [json.dumps(rec, ensure_ascii=False, default=str) for rec in values.to_dict("records")]
    return pd.DataFrame(
        {
            "anio": anio,
            "archivo": rows[archivo_col].astype(str).to_numpy(),
            "linea": rows[linea_col].astype("int64").to_numpy(),
            "regla": reglas if isinstance(reglas, str) else reglas.to_numpy(),
            "columna": columnas if isinstance(columnas, str) else columnas.to_numpy(),
            "valor": valores if isinstance(valores, str) else valores.to_numpy(),
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
    fc["failure_case"] = fc["failure_case"].astype(str)
    return fc


#: Text that numpy's float64() / int64() surely accepts (ASCII digits; int64: at most 18 of them). Values that do
#: not match are not rejected for it: pandera's own per-value coercion judges them.
_PLAIN_FLOAT = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_PLAIN_INT = r"[+-]?\d{1,18}"


def _coerced_columns(df: pd.DataFrame, schema: pa.DataFrameSchema) -> dict[str, pa.Column]:
    """The columns pandera coerces before checking (the same conditions as its pandas backend)."""
    if schema.dtype is not None:
        return {}
    return {
        name: col for name, col in schema.columns.items()
        if (col.coerce or schema.coerce) and col.dtype is not None and not col.regex and not col.parsers
        and name in df.columns
    }


def _numeric_type(col: pa.Column):
    """pandera's data type of `col` if it is a numpy float or int64 (the types `_PLAIN_*` are written for)."""
    dtype = pandas_engine.Engine.dtype(col.dtype)
    np_type = getattr(dtype.type, "numpy_dtype", dtype.type)
    if isinstance(np_type, np.dtype) and (np_type.kind == "f" or (np_type.kind == "i" and np_type.itemsize == 8)):
        return dtype, np_type
    return None, None


def _type_failures(df: pd.DataFrame, schema: pa.DataFrameSchema) -> tuple[np.ndarray, dict[str, pd.Series]]:
    """Rows holding a value that pandera's coercion of a numeric column will reject (a boolean mask), and the
    numeric columns already coerced where their coercion succeeded on the whole frame.

    The verdict is pandera's own: a column is in trouble only if its `coerce` (an `astype`) raises, and then a
    value fails if the column type's `coerce_value` rejects it — what pandera computes for every value, one by
    one. Here text that is plainly a number is accepted in one vectorized match, the missing values get the
    verdict of one of them, and only the rest (usually a handful: "1,5", "", "S/ 20") go through
    `coerce_value`. So an empty string in any numeric column and a missing value in an integer column are
    failures too, as pandera has them.
    """
    bad = np.zeros(len(df), dtype=bool)
    coerced: dict[str, pd.Series] = {}
    for name, col in _coerced_columns(df, schema).items():
        dtype, np_type = _numeric_type(col)
        if dtype is None:
            continue
        series = df[name]
        if not (isinstance(series.dtype, pd.StringDtype) or series.dtype == object):
            continue  # already typed: pandera judges it (a float with NaN into an integer, say)
        try:
            coerced[name] = dtype.coerce(series)
            continue
        except Exception:
            pass
        missing = series.isna().to_numpy(dtype=bool)
        plain = series.str.fullmatch(_PLAIN_FLOAT if np_type.kind == "f" else _PLAIN_INT)
        plain = plain.fillna(False).to_numpy(dtype=bool)
        if missing.any():
            first = series.iat[int(np.flatnonzero(missing)[0])]
            if not _coerces(dtype, first):
                bad |= missing
        for pos in np.flatnonzero(~plain & ~missing):
            if not _coerces(dtype, series.iat[pos]):
                bad[pos] = True
    return bad, coerced


def _coerces(dtype, value) -> bool:
    try:
        dtype.coerce_value(value)
    except Exception:
        return False
    return True


def _unique_keys(schema: pa.DataFrameSchema) -> list[list[str]]:
    keys = []
    if schema.unique:
        keys.append([schema.unique] if isinstance(schema.unique, str) else list(schema.unique))
    keys.extend([name] for name, col in schema.columns.items() if col.unique)
    return keys


def _with_key_partners(df: pd.DataFrame, schema: pa.DataFrameSchema, rows: np.ndarray,
                       coerced: dict[str, pd.Series]) -> np.ndarray:
    """`rows` plus (at least) every row sharing a uniqueness key with one of them, compared as pandera compares
    them: coerced where the column's coercion succeeded, as read otherwise. Extra rows do no harm: a row only
    changes another's verdict through a shared key."""
    out = rows.copy()
    for key in _unique_keys(schema):
        if not all(k in df.columns for k in key):
            continue
        partners = np.ones(len(df), dtype=bool)
        for k in key:
            values = coerced.get(k, df[k])
            partners &= values.isin(values[rows].unique()).to_numpy(dtype=bool)
        out |= partners
    return out


#: Up to this many removed rows, `_drop_rows` rebuilds the frame from slices (no copy of string data).
_SLICE_DROP_MAX = 1000


def _drop_rows(frame: pd.DataFrame, labels: pd.Index) -> pd.DataFrame:
    """`frame.drop(index=labels)`, fast for a few rows: `drop` copies every column (a second or two on a
    national Padrón cut); the slices between the dropped rows are views, and their concatenation only chains
    the Arrow chunks of the string columns."""
    positions = np.flatnonzero(frame.index.isin(labels))
    if len(positions) == 0 or len(positions) > _SLICE_DROP_MAX:
        return frame.drop(index=labels)
    bounds = np.concatenate([[-1], positions, [len(frame)]])
    pieces = [frame.iloc[start + 1:end] for start, end in zip(bounds[:-1].tolist(), bounds[1:].tolist()) if end > start + 1]
    return pd.concat(pieces) if pieces else frame.iloc[0:0]


def _quarantine_pass(original: pd.DataFrame, row_level: pd.DataFrame, anio: int) -> tuple[pd.DataFrame, pd.Index]:
    """One quarantine row per failing source row (its rules, columns and values joined), and their index labels."""
    per_row = (
        row_level.assign(index=row_level["index"].astype("int64"))
        .groupby("index", sort=True)
        .agg(regla=("check", lambda s: "; ".join(dict.fromkeys(s))),
             columna=("column", lambda s: "; ".join(dict.fromkeys(s))),
             valor=("failure_case", lambda s: "; ".join(dict.fromkeys(s))))
    )
    bad = original.loc[per_row.index]
    return quarantine_frame(bad, anio=anio, reglas=per_row["regla"], columnas=per_row["columna"],
                            valores=per_row["valor"]), per_row.index


def split_valid(df: pd.DataFrame, schema: pa.DataFrameSchema, *, anio: int, source: str) -> Split:
    """Validate lazily; send every row with a row-level failure to quarantine and return the rest, validated.

    `df` must carry `archivo` and `linea`. Failures without a row index (a missing column, a wrong type for the
    whole column) are the file's fault, not a row's: they raise SourceFileError with the rule.

    Rows with a value of the wrong type leave first, with every rule they break (as pandera reports them when
    the whole frame is validated): pandera validates only those rows and the rows sharing a uniqueness key with
    them — the other checks of these schemas look at one row at a time. Then pandera sees only clean types.
    """
    original = df
    rejected: list[pd.DataFrame] = []
    current = df
    passes = _MAX_PASSES
    if df.index.is_unique:
        typed_rows, coerced = _type_failures(df, schema)
    else:  # rows told apart by position only: leave everything to pandera's passes, as before
        typed_rows, coerced = np.zeros(len(df), dtype=bool), {}
    if typed_rows.any():
        passes -= 1
        subset = df[_with_key_partners(df, schema, typed_rows, coerced)]
        try:
            schema.validate(subset, lazy=True)
        except SchemaErrors as err:
            fc = _failure_table(err)
            row_level = fc[fc["index"].notna()]
            typed = set(row_level.loc[row_level["check"] == "tipo_de_dato", "index"])
            row_level = row_level[row_level["index"].isin(typed)]
            if len(row_level):
                frame, labels = _quarantine_pass(original, row_level, anio)
                rejected.append(frame)
                current = _drop_rows(current, labels)
    # Hand pandera the numeric columns already coerced (its own `coerce`, so the same values; coercing them again
    # is a no-op): a national file is then coerced once, not once per pass.
    if df.index.is_unique:
        for name, col in _coerced_columns(current, schema).items():
            dtype = _numeric_type(col)[0]
            if name in coerced:
                coerced[name] = coerced[name].reindex(current.index)  # the rows left (none, maybe)
            elif dtype is not None and (isinstance(current[name].dtype, pd.StringDtype) or current[name].dtype == object):
                try:
                    coerced[name] = dtype.coerce(current[name])
                except Exception:
                    pass  # pandera will find out which values, as before
        if coerced:
            current = current.assign(**coerced)
    for _ in range(passes):
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
                # A column that failed to coerce skipped its value checks this pass: take out only the rows
                # with bad types, so that the next pass sees every rule for everyone else.
                row_level = row_level[row_level["index"].isin(set(typed))]
            frame, labels = _quarantine_pass(original, row_level, anio)
            rejected.append(frame)
            current = _drop_rows(current, labels)
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
