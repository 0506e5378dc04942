"""The source pattern, written once: parsed file → bad lines and schema failures to quarantine → staging.

Every source module hands back `ParsedText`-like frames; this module decides nothing about formats or
indicators. It guarantees the row accounting (read = accepted + rejected, per file) and that a year is
replaced as a whole — staging, quarantine and meta.fuentes in step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pandera.pandas as pa

from vraem_pipeline.core.databases import (
    SourceRead,
    create_table_from_schema,
    ensure_quarantine_table,
    record_sources,
    replace_quarantine,
    replace_years,
)
from vraem_pipeline.core.quality import QUARANTINE_COLUMNS, empty_quarantine, split_valid
from vraem_pipeline.core.settings import pause_for_test
from vraem_pipeline.core.sqlrules import BAD_LINE_RULES, per_file_counts, register_macros, row_verdict, stage_text_load
from vraem_pipeline.sources.textfiles import ParsedText, TextLoad


@dataclass
class YearLoad:
    anio: int
    accepted: pd.DataFrame
    rejected: pd.DataFrame
    reads: list[SourceRead] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, int]:
        return {
            "leidas": sum(r.read_rows for r in self.reads),
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
            "valor": [
                f"{e[0]}: {e[1]}" if e else f"{b[1]} campos, se esperaban {width}"
                for b, e in zip(parsed.bad_lines, errors, strict=False)
            ],
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
    read = SourceRead(
        fuente=fuente,
        anio=anio,
        path=parsed.path,
        read_rows=parsed.rows_read,
        accepted_rows=split.n_accepted,
        rejected_rows=len(rejected),
        nota=nota,
    )
    return YearLoad(anio=anio, accepted=split.accepted, rejected=rejected, reads=[read])


def stage_years(
    con: duckdb.DuckDBPyConnection,
    fuente: str,
    table: str,
    schema: pa.DataFrameSchema,
    years: list[int],
    loads: list[YearLoad],
    raw_dir: Path | None = None,
) -> None:
    """Replace `years` in staging, quarantine and meta.fuentes; a year without files ends up with no rows."""
    accepted = pd.concat([load.accepted for load in loads], ignore_index=True) if loads else schema_empty(schema)
    rejected = pd.concat([load.rejected for load in loads], ignore_index=True) if loads else empty_quarantine()
    replace_years(con, table, years, accepted, schema)
    replace_quarantine(con, fuente, years, rejected)
    record_sources(con, fuente, years, [r for load in loads for r in load.reads], raw_dir)


def schema_empty(schema: pa.DataFrameSchema) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=str(col.dtype)) for name, col in schema.columns.items()})


# --- national text files (DuckDB) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TextSource:
    """One national text file of a year: where it is, how its reader loads it into DuckDB, and a note."""

    path: Path
    load: Callable[..., TextLoad]  # load(con, table=…, workdir=…, derived=…) → TextLoad
    nota: str = ""


TextYearFinder = Callable[[Path, int], list[TextSource]]


def _file_reads(con, fuente: str, table: str, anio: int, source: TextSource, load, staged) -> list[SourceRead]:
    """meta.fuentes rows of a load: one file, or each file of a load that staged several (`load.archivos`)."""
    if not hasattr(load, "archivos"):
        return [
            SourceRead(
                fuente=fuente,
                anio=anio,
                path=source.path,
                read_rows=load.rows_read,
                accepted_rows=staged.accepted_rows,
                rejected_rows=staged.rejected_rows,
                nota=source.nota,
            )
        ]
    counts = per_file_counts(con, table, fuente, anio)
    reads = []
    for f in load.archivos:
        acc, rej, dup = counts.get(f.label, (0, 0, 0))
        nota = "; ".join(
            x for x in (source.nota, f.nota, f"{dup:,} líneas ya leídas en otro archivo" if dup else "") if x
        )
        reads.append(
            SourceRead(
                fuente=fuente,
                anio=anio,
                path=f.path,
                read_rows=f.rows + f.n_bad,
                accepted_rows=acc,
                rejected_rows=rej,
                nota=nota,
                duplicate_rows=dup,
            )
        )
    return reads


def stage_text_year(
    con,
    *,
    fuente: str,
    schema: pa.DataFrameSchema,
    anio: int,
    find_year: TextYearFinder,
    raw_dir: Path,
    workdir: Path,
    log: Callable[[str, float], None] = lambda m, t0: None,
) -> dict:
    """One year of a national text source, as its staging asset does it (and the bad-input corpus, so that the two
    cannot drift): find the year's files, load each into a scratch table, validate with the schema's SQL, replace
    the year in staging and quarantine, record meta.fuentes (read = accepted + rejected per file). A year without
    files ends up with no rows, never with stale ones. Returns the year's counts and timings."""
    table = f"staging.{fuente}"
    create_table_from_schema(con, table, schema)  # later assets read it even when no year has files
    quarantine = ensure_quarantine_table(con, fuente)
    t0 = time.perf_counter()
    files = find_year(raw_dir, anio)
    summary = {"leidas": 0, "aceptadas": 0, "rechazadas": 0}
    if not files:
        log(f"{fuente} {anio}: sin archivos en raw/ (el año queda sin filas)", t0)
        for t in (table, quarantine):
            con.execute(f"DELETE FROM {t} WHERE anio = {anio}")
    reads = []
    for source in files:
        register_macros(con)
        load = source.load(con, table=f"trabajo.{fuente}", workdir=workdir, derived=row_verdict(schema, anio))
        t_read = time.perf_counter() - t0
        pause_for_test("lectura")
        staged = stage_text_load(con, load, fuente=fuente, schema=schema, table=table, anio=anio)
        reads.extend(_file_reads(con, fuente, table, anio, source, load, staged))
        load.drop(con)
        summary = {
            "leidas": summary["leidas"] + load.rows_read,
            "aceptadas": summary["aceptadas"] + staged.accepted_rows,
            "rechazadas": summary["rechazadas"] + staged.rejected_rows,
            "via": load.via,
            "lectura_s": round(t_read, 2),
            **staged.step_seconds,
        }
        log(
            f"{fuente} {anio}: {load.label} leídas={load.rows_read:,} aceptadas={staged.accepted_rows:,} "
            f"rechazadas={staged.rejected_rows:,}",
            t0,
        )
    record_sources(con, fuente, [anio], reads, raw_dir)
    return summary
