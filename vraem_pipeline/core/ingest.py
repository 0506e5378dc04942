"""The source pattern, written once: parsed file → bad lines and schema failures to quarantine → staging.

Every source module hands back `ParsedText`-like frames; this module decides nothing about formats or
indicators. It guarantees the row accounting (read = accepted + rejected, per file) and that a year is
replaced as a whole — staging, quarantine and meta.fuentes in step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pandera.pandas as pa

from vraem_pipeline.core.quality import QUARANTINE_COLUMNS, empty_quarantine, split_valid
from vraem_pipeline.sources.textfiles import ParsedText
from vraem_pipeline.core.sqlrules import BAD_LINE_RULES
from vraem_pipeline.core.databases import SourceRead, record_sources, replace_quarantine, replace_years


@dataclass
class YearLoad:
    anio: int
    accepted: pd.DataFrame
    rejected: pd.DataFrame
    reads: list[SourceRead] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, int]:
        return {
            "leidas": sum(r.leidas for r in self.reads),
            "aceptadas": len(self.accepted),
            "rechazadas": len(self.rejected),
        }


def bad_lines_frame(parsed: ParsedText, anio: int) -> pd.DataFrame:
    """Lines that could not be rows (the header's number of fields, or e.g. their encoding): quarantined with
    their raw text, under the same rules as the lines DuckDB rejects in national files (`BAD_LINE_RULES`)."""
    if not parsed.bad_lines:
        return empty_quarantine()
    width = len(parsed.header)
    errors = [parsed.bad_errors.get(b[0]) for b in parsed.bad_lines]
    return pd.DataFrame(
        {
            "anio": anio,
            "archivo": parsed.label,
            "linea": [b[0] for b in parsed.bad_lines],
            "regla": [BAD_LINE_RULES.get(e[0], "linea_malformada") if e else "numero_de_campos" for e in errors],
            "columna": "",
            "valor": [f"{e[0]}: {e[1]}" if e else f"{b[1]} campos, se esperaban {width}"
                      for b, e in zip(parsed.bad_lines, errors)],
            "registro_crudo": [b[2] for b in parsed.bad_lines],
        }
    )[QUARANTINE_COLUMNS]


def validate_file(fuente: str, parsed: ParsedText, schema: pa.DataFrameSchema, anio: int, nota: str = "") -> YearLoad:
    frame = parsed.frame
    frame["anio"] = anio
    frame["archivo"] = parsed.label
    if "linea" not in frame.columns and "registro" in frame.columns:
        # SPSS/Stata files have records, not lines: quarantine reports the record number in `linea`.
        frame["linea"] = frame["registro"]
    split = split_valid(frame, schema, anio=anio, source=parsed.label)
    rejected = pd.concat([bad_lines_frame(parsed, anio), split.rejected], ignore_index=True)
    read = SourceRead(fuente=fuente, anio=anio, path=parsed.path, leidas=parsed.rows_read,
                      aceptadas=split.n_accepted, rechazadas=len(rejected), nota=nota)
    return YearLoad(anio=anio, accepted=split.accepted, rejected=rejected, reads=[read])


def stage_years(
    con: duckdb.DuckDBPyConnection, fuente: str, table: str, schema: pa.DataFrameSchema,
    years: list[int], loads: list[YearLoad], raw_dir: Path | None = None,
) -> None:
    """Replace `years` in staging, quarantine and meta.fuentes; a year without files ends up with no rows."""
    accepted = pd.concat([l.accepted for l in loads], ignore_index=True) if loads else schema_empty(schema)
    rejected = pd.concat([l.rejected for l in loads], ignore_index=True) if loads else empty_quarantine()
    replace_years(con, table, years, accepted, schema)
    replace_quarantine(con, fuente, years, rejected)
    record_sources(con, fuente, years, [r for l in loads for r in l.reads], raw_dir)


def schema_empty(schema: pa.DataFrameSchema) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=str(col.dtype)) for name, col in schema.columns.items()})
