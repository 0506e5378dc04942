"""What a file says about its own period must agree with its name (and its name with its folder).

A delivery saved under the wrong name is the costliest mistake a refresh can make quietly: SUNAT's 2023 Padrón
cut saved as `PadronRUC_202412.zip` loads, validates and publishes 2023's firms as 2024's. Each finder checks the
name against the folder; this module checks the rows against the name, on the rows DuckDB has just loaded
(one GROUP BY over one column: no row enters Python).

A few stray rows of another period are not the file's problem but theirs: the schema quarantines them one by
one with their line (`periodo_publicacion_del_anio`, `ejercicio_del_anio`, `periodo_del_anio`). Only when the
*bulk* of the rows say another period is the file itself refused, naming the file, the name's period and the
rows' period — never published as the name's.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from vraem_pipeline.core.errors import SourceFileError
from vraem_pipeline.core.sqlrules import glob_sql
from vraem_pipeline.core.sqltext import sql_identifier, sql_literal
from vraem_pipeline.sources.textfiles import TextLoad

#: Spanish month names as INEI and SUNAT print them (setiembre), January first.
MONTHS = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "setiembre",
    "octubre",
    "noviembre",
    "diciembre",
)

#: A file is refused as another period's when MORE than this share of its rows that state a well-formed period
#: state one other than its name's. A half: a misnamed delivery has (nearly) all its rows of one other period,
#: while a file of its own period with stray rows has a minority of them, which the schema quarantines row by
#: row. Exactly half is still accepted (the boundary): the file's own period is then as common as any other,
#: and its other-period rows go to quarantine with their line. Rows with no period, or one that is not well
#: formed, do not count either way: they say nothing about the file's period (the schema judges their format).
OTHER_PERIOD_FRACTION = 0.5

#: Rule of the refusal, one for every source (the message names the source's own column).
RULE = "periodo_de_las_filas"


@dataclass(frozen=True)
class RowPeriods:
    """How the rows of a loaded file state their period, against the period its name gives."""

    expected_period: str
    with_period: int  # rows stating a well-formed period
    other_period_rows: int  # of those, rows stating another period than `esperado`
    dominant: str | None  # the other period stated most often (ties: the lowest)
    other_ones: int  # how many distinct other periods

    @property
    def other_period_fraction(self) -> float:
        return self.other_period_rows / self.with_period if self.with_period else 0.0

    @property
    def rejected(self) -> bool:
        return self.other_period_fraction > OTHER_PERIOD_FRACTION


def row_periods(
    con: duckdb.DuckDBPyConnection, load: TextLoad, *, column: str, pattern: str, expected: str
) -> RowPeriods:
    """Count the load's rows by the period they state in `column` (only values fully matching `pattern`)."""
    col = sql_identifier(column)
    # length and GLOB tests where the pattern allows (`sqlrules.glob_sql`): a fifth of RE2's time per row
    formed = glob_sql(f"^{pattern}$", col) or f"regexp_full_match({col}, {sql_literal(pattern)})"
    rows = con.execute(
        f"""SELECT {col} AS periodo, count(*) AS n FROM {load.view}
            WHERE {formed} GROUP BY ALL ORDER BY n DESC, periodo"""
    ).fetchall()
    others = [(p, n) for p, n in rows if p != expected]
    return RowPeriods(
        expected_period=expected,
        with_period=sum(n for _, n in rows),
        other_period_rows=sum(n for _, n in others),
        dominant=others[0][0] if others else None,
        other_ones=len(others),
    )


def check_rows_period(
    con: duckdb.DuckDBPyConnection, load: TextLoad, *, column: str, header: str, pattern: str, expected: str, what: str
) -> RowPeriods:
    """Refuse the loaded file (its scratch tables dropped) when the bulk of its rows state another period than
    `expected`, the one its name gives; `header` is the source's column name and `what` the kind of period
    ("el corte", "el ejercicio", "el periodo"), both for the message."""
    found = row_periods(con, load, column=column, pattern=pattern, expected=expected)
    if found.rejected:
        load.drop(con)
        others = f" (y {found.other_ones - 1} periodo(s) más)" if found.other_ones > 1 else ""
        raise SourceFileError(
            load.path,
            f"el nombre dice {what} {expected} pero sus filas dicen {found.dominant}{others}: "
            f"{found.other_period_rows:,} de {found.with_period:,} filas con {header} "
            f"({100 * found.other_period_fraction:.1f} %) son de otro periodo "
            f"(se rechaza el archivo si pasan del {100 * OTHER_PERIOD_FRACTION:.0f} %); renómbrelo con su periodo "
            "o cambie el archivo",
            rule=RULE,
        )
    return found
