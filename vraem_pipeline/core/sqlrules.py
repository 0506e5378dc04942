"""A pandera schema's rules, run as SQL where national files live (DuckDB), so no row leaves the database.

The pandera schema stays the one statement of each staging table's columns, types, rules and descriptions:
this module translates it (types, `nullable`, the built-in checks, uniqueness) into SQL conditions, and a
custom check carries its own SQL in `statistics={"sql": …}` (`{col}` stands for the column) — a check this
module cannot translate is an error, never skipped. pandera's pandas backend runs the same schema on the
small sources (ENAHO) and in the unit tests; pandera's Ibis backend was measured slower and loses the
column and row of several failures.

Semantics follow the pandas backend: a value that does not convert to the column's type fails `tipo_de_dato`
and is not checked further; checks ignore missing values; of the rows sharing a unique key, the first line
among those with well-typed values is kept and the later ones fail `clave_duplicada`.

One departure, deliberate: uniqueness has SQL `UNIQUE` semantics — a row with any key column NULL is never a
duplicate, of any row — both at staging (`stage_text_load`) and in the blocking check (`table_failures`).
pandera's pandas backend treats NaN as equal (two rows with the same missing key part are duplicates there). It
matters only for a key column that is `nullable`: the customs lines of a delivery without the line key
(`schemas/exportaciones.py`), each a line of its own. No other schema run through this module has one (ENAHO
persons and health, Padrón, sales, SBS debtors: every key column is required); the GDP share table's key has a
nullable `anio` (a row for every year) but it is validated by the pandas backend, where two such rows for one
department and activity are duplicates, as they should be.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass

import duckdb
import pandas as pd
import pandera.pandas as pa

from vraem_pipeline.core.databases import create_table_from_schema, duckdb_type, ensure_quarantine_table, transaction
from vraem_pipeline.core.ruc import SQL_MACROS as RUC_MACROS
from vraem_pipeline.core.settings import pause_for_test
from vraem_pipeline.sources.textfiles import Destination, TextLoad

LINEAGE = ("anio", "archivo", "linea")

#: DuckDB macros the schemas' custom checks call.
MACROS = [*RUC_MACROS]

#: quarantine rule of each kind of line DuckDB's reader could not make a row of
BAD_LINE_RULES = {
    "MISSING COLUMNS": "numero_de_campos",
    "TOO MANY COLUMNS": "numero_de_campos",
    "LINEA VACIA": "numero_de_campos",
    "UNQUOTED VALUE": "comillas",
    "INVALID ENCODING": "codificacion",
    "LINE SIZE OVER MAXIMUM": "linea_demasiado_larga",
    "INVALID STATE": "linea_malformada",
    "CAST": "linea_malformada",
    "REGISTRO DBF": "registro_dbf_malformado",
    "CLAVE VACIA": "clave_incompleta",  # a customs line without its key in a file that has one (sources/aduanas.py)
}


@dataclass(frozen=True)
class Rule:
    regla: str
    columna: str  # for a table-level check, the columns it reads, comma-separated
    ok: str  # SQL, true when the row passes
    valor: str  # SQL text of the offending value(s)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


#: One item of a pattern `_glob_sql` can translate: a character class (`\d` or `[0-9A-Za-z…]` of ASCII letters,
#: digits and ranges), a literal, or a group of literal alternatives of one length; then a quantifier.
_GLOB_ITEM = re.compile(
    r"(\\d|\[(?:[0-9A-Za-z](?:-[0-9A-Za-z])?)+\]|[0-9A-Za-z_]|\((?:[0-9A-Za-z]+\|)*[0-9A-Za-z]+\))"
    r"(\{\d+\}|\{\d+,\d*\}|\+)?"
)


def glob_sql(pattern: str, c: str) -> str | None:
    r"""A `str_matches` pattern as `length`/`GLOB`/`IN` tests where it is one of the simple shapes the schemas use
    (`^\d{6}$`, `^\d+$`, `^[0-9A-Za-z]{1,20}$`, `^(10|15|17|20)\d{9}$`): RE2 costs ~5× a GLOB per value, and
    these run on every row of every national file, at the read and in the blocking check. The translation
    accepts exactly the strings RE2 does (`\d` is ASCII in RE2; `test_sqlrules` compares both on hand-picked and
    random strings); None for any other pattern, which stays a regular expression."""
    if not (pattern.startswith("^") and pattern.endswith("$")) or pattern.endswith("\\$"):
        return None
    body, items, pos = pattern[1:-1], [], 0
    while pos < len(body):
        m = _GLOB_ITEM.match(body, pos)
        if not m:
            return None
        items.append((m.group(1), m.group(2) or ""))
        pos = m.end()
    if len(items) == 1 and items[0][1] and items[0][0][0] in "\\[":  # one class, repeated: bounds on the length
        atom, q = items[0]
        cls = "0-9" if atom == "\\d" else atom[1:-1]
        lo, hi = (1, None) if q == "+" else (int(q[1:-1].split(",")[0]), q[1:-1].split(",")[1] if "," in q else q[1:-1])
        hi = int(hi) if hi not in (None, "") else None
        if lo == hi:  # one GLOB position per character: the fastest form
            return f"(length({c}) = {lo} AND {c} GLOB '{f'[{cls}]' * lo}')"
        parts = [f"length({c}) >= {lo}"] if lo else []
        parts += [f"length({c}) <= {hi}"] if hi is not None else []
        return "(" + " AND ".join(parts + [f"NOT {c} GLOB '*[!{cls}]*'"]) + ")"
    glob, tests, length = "", [], 0
    for atom, q in items:  # a fixed length: one GLOB position per character, groups tested by substring
        if q and not (q.startswith("{") and "," not in q):
            return None
        n = int(q[1:-1]) if q else 1
        if atom.startswith("("):
            alts = atom[1:-1].split("|")
            if len({len(a) for a in alts}) != 1:
                return None
            for _ in range(n):
                if length == 0:  # a prefix test compares bytes; substr would count characters first
                    tests.append("(" + " OR ".join(f"prefix({c}, {_lit(a)})" for a in alts) + ")")
                else:
                    tests.append(f"substr({c}, {length + 1}, {len(alts[0])}) IN ({', '.join(_lit(a) for a in alts)})")
                glob += "?" * len(alts[0])
                length += len(alts[0])
        else:
            glob += ("[0-9]" if atom == "\\d" else atom) * n
            length += n
    return "(" + " AND ".join([f"length({c}) = {length}", f"{c} GLOB '{glob}'", *tests]) + ")"


def _check_sql(check: pa.Check, c: str) -> str:
    """SQL for one check on the expression `c` (a typed column)."""
    st = check.statistics or {}
    if "sql" in st:
        return st["sql"].format(col=c)
    name = check.name
    if name == "str_matches":
        return glob_sql(st["pattern"], c) or f"regexp_matches({c}, {_lit('^(?:' + st['pattern'] + ')')})"
    if name == "str_length":
        parts = []
        if st.get("exact_value") is not None:
            parts.append(f"length({c}) = {st['exact_value']}")
        if st.get("min_value") is not None:
            parts.append(f"length({c}) >= {st['min_value']}")
        if st.get("max_value") is not None:
            parts.append(f"length({c}) <= {st['max_value']}")
        return " AND ".join(parts) or "true"
    if name == "in_range":
        lo = ">=" if st.get("include_min", True) else ">"
        hi = "<=" if st.get("include_max", True) else "<"
        return f"{c} {lo} {_lit(st['min_value'])} AND {c} {hi} {_lit(st['max_value'])}"
    ops = {
        "greater_than_or_equal_to": (">=", "min_value"),
        "greater_than": (">", "min_value"),
        "less_than_or_equal_to": ("<=", "max_value"),
        "less_than": ("<", "max_value"),
        "equal_to": ("=", "value"),
        "not_equal_to": ("<>", "value"),
    }
    if name in ops:
        op, key = ops[name]
        return f"{c} {op} {_lit(st[key])}"
    if name in ("isin", "notin"):
        values = st["allowed_values" if name == "isin" else "forbidden_values"]
        return f"{c} {'IN' if name == 'isin' else 'NOT IN'} ({', '.join(_lit(v) for v in values)})"
    raise TypeError(f"el control {check.name!r} no tiene traducción a SQL: agregue statistics={{'sql': …}}")


def _rule_name(check: pa.Check) -> str:
    return check.error or check.name


def _is_text(col: pa.Column) -> bool:
    return duckdb_type(col) == "VARCHAR"


def typed_expr(
    name: str, col: pa.Column, schema: pa.DataFrameSchema, *, from_text: bool, base: str | None = None
) -> str:
    base = base or _q(name)
    if from_text and not _is_text(col) and (col.coerce or schema.coerce):
        return f"TRY_CAST({base} AS {duckdb_type(col)})"
    return base


def rules(
    schema: pa.DataFrameSchema, *, from_text: bool, known: dict[str, str] | None = None, skip: tuple[str, ...] = ()
) -> tuple[list[Rule], list[Rule]]:
    """(type rules, value rules) of the schema; `from_text`: the columns are still the text as read;
    `known`: SQL standing for a column that is a constant of the load (the year); `skip`: columns not there yet."""
    known = known or {}
    typing, values = [], []
    for name, col in schema.columns.items():
        if name in skip:
            continue
        c = typed_expr(name, col, schema, from_text=from_text, base=known.get(name))
        raw = f"{known.get(name, _q(name))}::VARCHAR"
        if c != known.get(name, _q(name)):
            typing.append(Rule("tipo_de_dato", name, f"({known.get(name, _q(name))} IS NULL OR {c} IS NOT NULL)", raw))
        if not col.nullable:  # a value that is there but of the wrong type fails tipo_de_dato, not this
            values.append(Rule("valor_obligatorio", name, f"({known.get(name, _q(name))} IS NOT NULL)", raw))
        for check in col.checks:
            values.append(
                Rule(_rule_name(check), name, f"({c} IS NULL OR coalesce({_check_sql(check, c)}, false))", raw)
            )
    typed = {
        name: typed_expr(name, col, schema, from_text=from_text, base=known.get(name))
        for name, col in schema.columns.items()
    }
    for check in schema.checks:
        st = check.statistics or {}
        if "sql" not in st:
            raise TypeError(f"el control de tabla {check.name!r} no tiene traducción a SQL (statistics['sql'])")
        cols = st.get("columnas", [])
        sql = st["sql"].format(**typed)
        valor = " || ', ' || ".join(f"'{c}=' || coalesce({_q(c)}::VARCHAR, '')" for c in cols) or "''"
        values.append(Rule(_rule_name(check), ", ".join(cols), f"coalesce({sql}, false)", valor))
    return typing, values


def unique_key(schema: pa.DataFrameSchema) -> list[str]:
    if not schema.unique:
        return []
    return [schema.unique] if isinstance(schema.unique, str) else list(schema.unique)


def _key_present(key: list[str]) -> str:
    """SQL `UNIQUE` semantics (module docstring): only rows with every key column present can be duplicates."""
    return " AND ".join(f"{_q(c)} IS NOT NULL" for c in key) or "true"


class RowVerdict(dict):
    """The derived columns of a load (`_ok`: the row passes every row-level rule; `_tipado`: every value converts
    to its column's type), and where the loader writes the rows: straight into the staging table
    (`destination`), once (see `textfiles.Destination`)."""

    destination: Destination | None = None


def hidden_year(anio: int) -> int:
    """The year under which a load's rows wait in staging until `stage_text_load` moves them to `anio`."""
    return -int(anio)


#: First character of an `archivo` holding a row's text instead of its file while the load's transaction is open:
#: `\x01` then a flag — `0` passes but a value's text would not come back from its type ("1500.00" as a DOUBLE),
#: `1` fails a rule, `2` fails a type, `x` a filled trailing field (a bad line) — then the row's JSON as the
#: quarantine keeps it (`registro_crudo`). `stage_text_load` puts the file back or moves the row out.
STASH = "chr(1)"


def row_verdict(schema: pa.DataFrameSchema, anio: int) -> RowVerdict:
    """Columns a reader can compute while it loads (`load_delimited(derived=…)`): whether the row, as text,
    passes every row-level rule. The reasons are spelled out later, for the failing rows only. The lineage is
    not there yet: the year is the load's constant, file and line are the loader's (the line is ≥ 2 by
    construction).

    The loader appends the rows to the schema's staging table (its name), typed, under the hidden year
    `-anio` (`hidden_year`) that `stage_text_load` turns into `anio` in the transaction that replaces the year: a
    failing row, or one whose text would not come back from its typed value, keeps its text in `archivo`
    meanwhile (`STASH`), so that the quarantine and the period checks read exactly the text the scratch table
    would have held. A hidden year is outside the schema's `anio` range: one left behind fails the blocking
    check."""
    typing, values = rules(schema, from_text=True, known={"anio": f"{int(anio)}::BIGINT"}, skip=("archivo", "linea"))
    verdict = RowVerdict({"_ok": _all(typing + values), "_tipado": _all(typing)})
    table = schema.name or ""
    if not table.startswith("staging.") or not all(n in schema.columns for n in LINEAGE):
        return verdict
    source_cols = [n for n in schema.columns if n not in LINEAGE]
    typed = {n: typed_expr(n, c, schema, from_text=True) for n, c in schema.columns.items() if n in source_cols}
    cast = [n for n in source_cols if typed[n] != _q(n)]
    raw_json = "to_json(struct_pack(" + ", ".join(f"{_q(n)} := {_q(n)}" for n in source_cols) + "))::VARCHAR"
    # NULL text gives NULL: both sides NULL compare as equal (the row's text comes back)
    back = " AND ".join(f"({typed[n]}::VARCHAR IS NOT DISTINCT FROM {_q(n)})" for n in cast) or "true"
    archivo = (
        f"CASE WHEN _extra <> '' THEN {STASH} || 'x' "
        f"WHEN NOT _ok THEN {STASH} || CASE WHEN _tipado THEN '1' ELSE '2' END || {raw_json} "
        f"WHEN NOT ({back}) THEN {STASH} || '0' || {raw_json} ELSE _archivo END"
    )
    stashed = f"starts_with(archivo, {STASH})"
    text = [
        f"CASE WHEN {stashed} THEN json_extract_string(archivo[3:], {_lit('$.' + json.dumps(n))}) "
        f"ELSE {_q(n)}::VARCHAR END AS {_q(n)}"
        if n in cast
        else _q(n)
        for n in source_cols
    ]
    text += [f"NOT ({stashed} AND archivo[2] IN ('1', '2')) AS _ok", f"NOT ({stashed} AND archivo[2] = '2') AS _tipado"]
    cols = ", ".join(f'"{name}" {duckdb_type(col)}' for name, col in schema.columns.items())
    verdict.destination = Destination(
        table=table,
        create=f"CREATE SCHEMA IF NOT EXISTS {table.split('.')[0]}; CREATE TABLE IF NOT EXISTS {table} ({cols})",
        columns=", ".join(f"{typed[n]} AS {_q(n)}" for n in source_cols)
        + f", {hidden_year(anio)}::BIGINT AS anio, {archivo} AS archivo",
        rows=f"anio = {hidden_year(anio)}",
        text=", ".join(text),
        extra=f"archivo = {STASH} || 'x'",
    )
    return verdict


def register_macros(con: duckdb.DuckDBPyConnection) -> None:
    for macro in MACROS:
        con.execute(macro)


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE {relation}").fetchall()]


def _all(rules_: list[Rule]) -> str:
    return " AND ".join(r.ok for r in rules_) or "true"


def _reasons(rules_: list[Rule]) -> str:
    """regla, columna and valor of a failing row: every rule it breaks, in the schema's order."""

    def joined(pick) -> str:
        return "concat_ws('; ', " + ", ".join(f"CASE WHEN NOT {r.ok} THEN {pick(r)} END" for r in rules_) + ")"

    rule = joined(lambda r: _lit(r.regla))
    column = joined(lambda r: _lit(r.columna))
    value = joined(lambda r: r.valor)
    return f"{rule} AS regla, {column} AS columna, {value} AS valor"


@dataclass
class Staged:
    accepted_rows: int
    rejected_rows: int
    step_seconds: dict[str, float]


def stage_text_load(
    con: duckdb.DuckDBPyConnection,
    load: TextLoad,
    *,
    fuente: str,
    schema: pa.DataFrameSchema,
    table: str,
    anio: int,
    scratch: str = "trabajo",
) -> Staged:
    """Validate a loaded file with the schema's SQL and write its year: accepted rows to `table` (replacing the
    year), every other line to `quarantine.<fuente>`; one transaction, so a failure leaves both as they were.

    Only rows are moved, never pulled into Python: the failing rows are found in one scan, the duplicate keys
    in one aggregation, and the reasons are spelled out for the (few) failing rows alone.
    """
    if getattr(load, "destination", None) is not None:
        return _stage_in_destination(con, load, fuente=fuente, schema=schema, table=table, anio=anio, scratch=scratch)
    t = {"inicio": time.perf_counter()}
    register_macros(con)
    create_table_from_schema(con, table, schema)
    q_table = ensure_quarantine_table(con, fuente)
    src = f"{scratch}.{fuente}_fuente"
    source_cols = [n for n in schema.columns if n not in LINEAGE]
    select = ", ".join(_q(n) for n in source_cols)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {scratch}")
    view_cols = _columns(con, load.view)
    verdict_col = ", _ok" if "_ok" in view_cols else ""
    # A load of several files (a year of weekly customs files) names each row's file; one file is the load's label.
    archivo = "archivo" if "archivo" in view_cols else _lit(load.label)
    con.execute(
        f"CREATE OR REPLACE VIEW {src} AS SELECT {select}, {anio}::BIGINT AS anio, {archivo} AS archivo, "
        f"linea, _fila{verdict_col} FROM {load.view}"
    )
    typing, values = rules(schema, from_text=True)
    key = [k for k in unique_key(schema) if k not in ("anio", "archivo")]
    failed, dups = f"{scratch}.{fuente}_fallidas", f"{scratch}.{fuente}_duplicadas"
    verdict = "_ok" if verdict_col else f"({_all(typing + values)})"
    con.execute(f"CREATE OR REPLACE TABLE {failed} AS SELECT _fila FROM {src} WHERE NOT {verdict}")
    t["reglas"] = time.perf_counter()
    if key:
        k = ", ".join(_q(c) for c in key)
        # the first well-typed line of a key wins; a later one is a duplicate whatever else is wrong with it
        con.execute(
            f"""CREATE OR REPLACE TABLE {dups} AS
                WITH primeras AS (SELECT {k}, min(_fila) AS primera FROM {src} WHERE {_all(typing)}
                                  AND {_key_present(key)} GROUP BY {k} HAVING count(*) > 1)
                SELECT _fila FROM {src} JOIN primeras USING ({k}) WHERE _fila > primera AND {_all(typing)}"""
        )
    else:
        con.execute(f"CREATE OR REPLACE TABLE {dups} AS SELECT _fila FROM {failed} WHERE false")
    t["duplicados"] = time.perf_counter()
    excluded = f"{scratch}.{fuente}_excluidas"
    duplicate = _exclusions(con, excluded, failed, dups, key)
    typed_cols = ", ".join(f"{typed_expr(n, c, schema, from_text=True)} AS {_q(n)}" for n, c in schema.columns.items())
    with transaction(con):
        con.execute(f"DELETE FROM {table} WHERE anio = {anio}")
        con.execute(
            f"INSERT INTO {table} BY NAME SELECT {typed_cols} FROM {src} "
            f"WHERE _fila NOT IN (SELECT _fila FROM {excluded})"
        )
        pause_for_test("staging")
        con.execute(f"DELETE FROM {q_table} WHERE anio = {anio}")
        _quarantine_rows(con, q_table, anio, src, source_cols, typing + values + [duplicate], excluded)
        _insert_bad_lines(con, load, q_table, anio)
    t["escritura"] = time.perf_counter()
    accepted = load.rows - con.execute(f"SELECT count(*) FROM {excluded}").fetchone()[0]
    for name in (failed, dups, excluded):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    con.execute(f"DROP VIEW IF EXISTS {src}")
    marks = list(t.items())
    return Staged(
        accepted_rows=accepted,
        rejected_rows=load.rows_read - accepted,
        step_seconds={k: round(v - marks[i][1], 2) for i, (k, v) in enumerate(marks[1:])},
    )


def _stage_in_destination(
    con: duckdb.DuckDBPyConnection,
    load: TextLoad,
    *,
    fuente: str,
    schema: pa.DataFrameSchema,
    table: str,
    anio: int,
    scratch: str,
) -> Staged:
    """`stage_text_load` for a load the reader already wrote into `table` under the hidden year (`row_verdict`):
    the same failing rows and duplicates as from a scratch table, found from the verdict flags and moved to
    quarantine with the same reasons and text; in one transaction the year's old rows go, the rest of the load
    takes the year and its file back. Nothing is written twice."""
    t = {"inicio": time.perf_counter()}
    dest = load.destination
    hidden = f"anio = {hidden_year(anio)}"
    if dest.table != table or dest.rows != hidden:
        raise ValueError(f"la carga se escribió en {dest.table} ({dest.rows}), no en {table} ({hidden})")
    try:
        register_macros(con)
        create_table_from_schema(con, table, schema)
        q_table = ensure_quarantine_table(con, fuente)
        src = f"{scratch}.{fuente}_fuente"
        source_cols = [n for n in schema.columns if n not in LINEAGE]
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {scratch}")
        con.execute(
            f"CREATE OR REPLACE VIEW {src} AS SELECT {', '.join(_q(n) for n in source_cols)}, "
            f"{anio}::BIGINT AS anio, {_lit(load.label)} AS archivo, linea, _fila, _ok, _tipado FROM {load.view}"
        )
        typing, values = rules(schema, from_text=True)
        key = [k for k in unique_key(schema) if k not in ("anio", "archivo")]
        failed, dups = f"{scratch}.{fuente}_fallidas", f"{scratch}.{fuente}_duplicadas"
        con.execute(f"CREATE OR REPLACE TABLE {failed} AS SELECT _fila FROM {src} WHERE NOT _ok")
        t["reglas"] = time.perf_counter()
        if key:
            k = ", ".join(_q(c) for c in key)
            # the first well-typed line of a key wins; a later one is a duplicate whatever else is wrong with it.
            # The repeated keys first (a plain count per key), then the lines of those few keys only: half the
            # time of carrying every line's number through the aggregation of 12.5 M keys.
            con.execute(
                f"""CREATE OR REPLACE TABLE {dups} AS
                    WITH claves AS (SELECT {k} FROM {src} WHERE _tipado AND {_key_present(key)}
                                    GROUP BY {k} HAVING count(*) > 1),
                         filas AS (SELECT {k}, _fila FROM {src} SEMI JOIN claves USING ({k}) WHERE _tipado),
                         primeras AS (SELECT {k}, min(_fila) AS primera FROM filas GROUP BY {k})
                    SELECT _fila FROM filas JOIN primeras USING ({k}) WHERE _fila > primera"""
            )
        else:
            con.execute(f"CREATE OR REPLACE TABLE {dups} AS SELECT _fila FROM {failed} WHERE false")
        t["duplicados"] = time.perf_counter()
        excluded = f"{scratch}.{fuente}_excluidas"
        duplicate = _exclusions(con, excluded, failed, dups, key)
        with transaction(con):
            con.execute(f"DELETE FROM {q_table} WHERE anio = {anio}")
            _quarantine_rows(con, q_table, anio, src, source_cols, typing + values + [duplicate], excluded)
            _insert_bad_lines(con, load, q_table, anio)
            con.execute(f"DELETE FROM {table} WHERE anio = {anio}")
            # out: the rows just quarantined (`_fila` is their line) and the bad lines of a filled trailing field
            con.execute(
                f"DELETE FROM {table} WHERE {hidden} AND (linea IN (SELECT _fila FROM {excluded}) OR {dest.extra})"
            )
            con.execute(
                f"UPDATE {table} SET archivo = {_lit(load.label)} WHERE {hidden} AND starts_with(archivo, {STASH})"
            )
            con.execute(f"UPDATE {table} SET anio = {anio} WHERE {hidden}")
            pause_for_test("staging")
        accepted = load.rows - con.execute(f"SELECT count(*) FROM {excluded}").fetchone()[0]
        for name in (failed, dups, excluded):
            con.execute(f"DROP TABLE IF EXISTS {name}")
        con.execute(f"DROP VIEW IF EXISTS {src}")
    except BaseException:
        load.drop(con)  # the hidden rows deleted: staging and quarantine as they were
        raise
    load.destination = None
    t["escritura"] = time.perf_counter()
    marks = list(t.items())
    return Staged(
        accepted_rows=accepted,
        rejected_rows=load.rows_read - accepted,
        step_seconds={k: round(v - marks[i][1], 2) for i, (k, v) in enumerate(marks[1:])},
    )


def _exclusions(con: duckdb.DuckDBPyConnection, excluded: str, failed: str, dups: str, key: list[str]) -> Rule:
    """Writes the load's rows that leave for quarantine (failing a rule, or repeating a key) as table `excluded`;
    returns the duplicate-key rule that names the second reason."""
    con.execute(f"CREATE OR REPLACE TABLE {excluded} AS SELECT _fila FROM {failed} UNION SELECT _fila FROM {dups}")
    duplicate = Rule(
        "clave_duplicada",
        ", ".join(key),
        f"_fila NOT IN (SELECT _fila FROM {dups})",
        " || ', ' || ".join(f"coalesce({_q(c)}::VARCHAR, '')" for c in key) or "''",
    )
    return duplicate


def _quarantine_rows(
    con: duckdb.DuckDBPyConnection,
    q_table: str,
    anio: int,
    src: str,
    source_cols: list[str],
    rules_: list[Rule],
    excluded: str,
) -> None:
    """The excluded rows into quarantine, each with every rule it breaks and its values as read (JSON)."""
    raw_json = "to_json(struct_pack(" + ", ".join(f"{_q(n)} := {_q(n)}" for n in source_cols) + "))::VARCHAR"
    con.execute(
        f"""INSERT INTO {q_table} BY NAME
            SELECT {anio} AS anio, archivo, linea, {_reasons(rules_)}, {raw_json} AS registro_crudo
            FROM {src} WHERE _fila IN (SELECT _fila FROM {excluded})"""
    )


def _insert_bad_lines(con: duckdb.DuckDBPyConnection, load: TextLoad, q_table: str, anio: int) -> None:
    """The lines that could not be rows, each under its rule (`BAD_LINE_RULES`), with their text as published."""
    bad_cols = _columns(con, load.bad)
    bad_file = "archivo" if "archivo" in bad_cols else _lit(load.label)
    width = "' || esperados || '" if "esperados" in bad_cols else str(len(load.header))
    rules_case = " ".join(f"WHEN {_lit(k)} THEN {_lit(v)}" for k, v in BAD_LINE_RULES.items())
    con.execute(
        f"""INSERT INTO {q_table} BY NAME
            SELECT {anio} AS anio, {bad_file} AS archivo, linea,
                   CASE error {rules_case} ELSE 'linea_malformada' END AS regla, '' AS columna,
                   CASE WHEN campos IS NULL THEN error || coalesce(': ' || nullif(mensaje, ''), '')
                        ELSE campos || ' campos, se esperaban {width}' END AS valor,
                   texto AS registro_crudo
            FROM {load.bad}"""
    )


def per_file_counts(
    con: duckdb.DuckDBPyConnection, table: str, fuente: str, anio: int
) -> dict[str, tuple[int, int, int]]:
    """Accepted, rejected and duplicate rows of each file of a year staged from several files at once."""
    q_table = f"quarantine.{fuente}"
    rows = con.execute(
        f"""WITH a AS (SELECT archivo, count(*) AS n FROM {table} WHERE anio = $anio GROUP BY archivo),
                 r AS (SELECT archivo, count(*) AS n, count(*) FILTER (WHERE regla LIKE '%clave_duplicada%') AS d
                       FROM {q_table} WHERE anio = $anio GROUP BY archivo)
            SELECT coalesce(a.archivo, r.archivo), coalesce(a.n, 0), coalesce(r.n, 0), coalesce(r.d, 0)
            FROM a FULL JOIN r USING (archivo)""",
        {"anio": anio},
    ).fetchall()
    return {archivo: (int(acc), int(rej), int(dup)) for archivo, acc, rej, dup in rows}


def table_failures(
    con: duckdb.DuckDBPyConnection, table: str, schema: pa.DataFrameSchema, years: list[int] | None
) -> pd.DataFrame:
    """What the blocking check reports: per rule, the failing rows of `table` in `years` (none when it passes)
    and a few of their lines; columns whose type is not the schema's are failures too, and so are years whose
    staged and quarantined rows are not what `meta.fuentes` counted (`_count_failures`).

    It is a second validation of what was staged, independent of the verdict the loader computed while reading:
    every rule again on the staged values, uniqueness, types, counts. It costs about a sixth of a cut's load
    (one scan of the rule columns and one hash of the key; 1.8 s of CPU for the rules on 3.2 M rows), and it is
    what catches a loader that changed a value after judging it, lost or doubled a row, or left rows under the
    hidden year (`anio_valido`)."""
    register_macros(con)
    where = f"WHERE anio IN ({', '.join(map(str, years))})" if years else ""
    out = []
    schema_name, name = table.split(".")
    actual = dict(
        con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
            [schema_name, name],
        ).fetchall()
    )
    for col_name, col in schema.columns.items():
        if actual.get(col_name) != duckdb_type(col):
            out.append(
                {
                    "regla": "tipo_de_columna",
                    "columna": col_name,
                    "filas": None,
                    "ejemplo": f"{actual.get(col_name)} ≠ {duckdb_type(col)}",
                }
            )
    if out:
        return pd.DataFrame(out)
    _, values = rules(schema, from_text=False)
    key = unique_key(schema)
    k = ", ".join(_q(c) for c in key)
    # one scan: every rule's failures and, for the key, rows minus distinct keys (cheaper than grouping; the
    # duplicated keys are grouped only when there are some, to name one)
    aggregates = [f"count(*) FILTER (WHERE NOT {r.ok})" for r in values]
    group = ""
    if key:
        # per year when the year is part of the key: the distinct values of the rest of it hash faster than a
        # struct with the year (2.7 s against 4.8 s of CPU on 12.5 M RUCs)
        rest = [c for c in key if c != "anio"] if "anio" in key and len(key) > 1 else key
        group = " GROUP BY anio" if rest != key else ""
        distinct = _q(rest[0]) if len(rest) == 1 else "(" + ", ".join(_q(c) for c in rest) + ")"
        aggregates.append(
            f"count(*) FILTER (WHERE {_key_present(key)}) - "
            f"count(DISTINCT {distinct}) FILTER (WHERE {_key_present(key)})"
        )
    per_group = con.execute(f"SELECT {', '.join(aggregates) or '0'} FROM {table} {where}{group}").fetchall()
    counts = [sum(g[i] for g in per_group) for i in range(len(aggregates) or 1)]
    for r, n in zip(values, counts, strict=False):
        if n:
            lines = con.execute(
                f"SELECT linea FROM {table} {where} {'AND' if where else 'WHERE'} NOT {r.ok} "
                "ORDER BY anio, linea LIMIT 5"
            ).fetchall()
            out.append(
                {"regla": r.regla, "columna": r.columna, "filas": n, "ejemplo": json.dumps([x[0] for x in lines])}
            )
    if key and counts[-1]:
        present = f"{'AND' if where else 'WHERE'} {_key_present(key)}"
        dup = con.execute(
            f"SELECT count(*), any_value(concat_ws(', ', {k})) FROM (SELECT {k} FROM {table} {where} "
            f"{present} GROUP BY {k} HAVING count(*) > 1)"
        ).fetchone()
        out.append({"regla": "clave_duplicada", "columna": ", ".join(key), "filas": dup[0], "ejemplo": dup[1]})
    out.extend(_count_failures(con, table, years))
    return pd.DataFrame(out, columns=["regla", "columna", "filas", "ejemplo"])


def _count_failures(con: duckdb.DuckDBPyConnection, table: str, years: list[int] | None) -> list[dict]:
    """Years whose staged and quarantined rows are not the accepted and rejected rows `meta.fuentes` recorded for
    them (`filas_contadas`): a row lost or written twice after the load counted it. Only years `meta.fuentes`
    has for the source (`staging.<fuente>`): a table staged by hand has nothing to compare with."""
    fuente = table.split(".", 1)[1]
    q_table = f"quarantine.{fuente}"
    present = {
        f"{s}.{t}"
        for s, t in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN ('meta', 'quarantine')"
        ).fetchall()
    }
    if "meta.fuentes" not in present:
        return []
    in_years = f"AND anio IN ({', '.join(map(str, years))})" if years else ""
    quarantined = (
        f"(SELECT anio, count(*) AS n FROM {q_table} WHERE true {in_years} GROUP BY anio)"
        if q_table in present
        else "(SELECT NULL::BIGINT AS anio, 0 AS n WHERE false)"
    )
    rows = con.execute(
        f"""WITH m AS (SELECT anio, sum(filas_aceptadas) AS aceptadas, sum(filas_rechazadas) AS rechazadas
                       FROM meta.fuentes WHERE fuente = ? {in_years} GROUP BY anio),
                 s AS (SELECT anio, count(*) AS n FROM {table} WHERE true {in_years} GROUP BY anio)
            SELECT m.anio, m.aceptadas, coalesce(s.n, 0), m.rechazadas, coalesce(q.n, 0)
            FROM m LEFT JOIN s USING (anio) LEFT JOIN {quarantined} AS q USING (anio)
            WHERE m.aceptadas <> coalesce(s.n, 0) OR m.rechazadas <> coalesce(q.n, 0) ORDER BY m.anio""",
        [fuente],
    ).fetchall()
    return [
        {
            "regla": "filas_contadas",
            "columna": "",
            "filas": abs(acc - n_s) + abs(rej - n_q),
            "ejemplo": f"{anio}: {table} tiene {n_s:,} filas y {q_table} {n_q:,}; meta.fuentes registró "
            f"{acc:,} aceptadas y {rej:,} rechazadas",
        }
        for anio, acc, n_s, rej, n_q in rows
    ]


def check_translatable(schema: pa.DataFrameSchema) -> None:
    """Fail when the definitions load, not in the middle of a refresh, if a schema has a check without SQL."""
    rules(schema, from_text=True)
