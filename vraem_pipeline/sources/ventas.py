"""SUNAT's delivery of declared annual net sales (docs/sources.md#ventas-declaradas):
`sunat/ventas/<año>/ventas_<año>.txt`.

Pipe-delimited latin-1 as delivered; a zip of it stands in for the file. Amounts stay text here: a malformed
amount is a row to quarantine, decided by the schema, not by the reader.

The name gives the fiscal year (`ventas_<año>`, that of its folder); the rows' `EJERCICIO` must agree. A row of
another year is quarantined by the schema (`ejercicio_del_anio`); a file whose rows are mostly of another year
(`ventas_2024.txt` holding 2023's declarations) is refused naming both years (`periods.check_rows_period`):
staged, it would publish a year with no sales at all.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from vraem_pipeline.core.errors import SourceFileError
from vraem_pipeline.sources.periods import check_rows_period
from vraem_pipeline.sources.textfiles import ParsedText, TextLoad, load_delimited, parse_delimited, require_rows

HEADER = ["RUC", "EJERCICIO", "VENTAS_NETAS"]
COLUMNS = {"RUC": "ruc", "EJERCICIO": "ejercicio", "VENTAS_NETAS": "ventas_netas"}


#: What `vraem refresh` says it expects in `sunat/ventas/<año>/` when a file there matches nothing.
EXPECTED_NAME = "ventas_<año>.txt|zip"


def matching_files(year_dir: Path, anio: int) -> list[Path]:
    """Files of the folder named as the year's delivery (any case); the raw/ scan (`archivos.py`) uses it too."""
    pattern = re.compile(rf"^ventas_{anio}\.(txt|zip)$", re.IGNORECASE)
    return sorted(p for p in year_dir.iterdir() if p.is_file() and pattern.match(p.name)) if year_dir.is_dir() else []


def find_file(year_dir: Path, anio: int) -> Path | None:
    found = matching_files(year_dir, anio)
    if len(found) > 1:
        raise SourceFileError(
            year_dir, f"más de un archivo de ventas para {anio}: {[p.name for p in found]}", rule="archivo_unico"
        )
    return found[0] if found else None


#: Spaces stripped (`strip`); an empty amount is "not declared" (missing), not zero.
NORMALIZE = {"ventas_netas": "nullif({c}, '')"}


_YEAR_OF_NAME = re.compile(r"^ventas_(\d{4})\.", re.IGNORECASE)


def load_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    table: str,
    workdir: Path | None = None,
    derived: dict[str, str] | None = None,
    anio: int | None = None,
) -> TextLoad:
    """Load the file into DuckDB (`table`); a changed layout or a file without rows fails naming the file, and so
    does a file whose rows are mostly of another fiscal year than `anio` (default: the year of its name)."""
    load = require_rows(
        load_delimited(
            con,
            path,
            table=table,
            expected_header=HEADER,
            columns=COLUMNS,
            normalize=NORMALIZE,
            member_pattern=r"\.txt$",
            workdir=workdir,
            derived=derived,
            strip=True,
        ),
        con,
    )
    if anio is None:
        m = _YEAR_OF_NAME.match(Path(path).name)
        anio = int(m.group(1)) if m else None
    if anio is not None:
        check_rows_period(
            con,
            load,
            column="ejercicio",
            header="EJERCICIO",
            pattern="[0-9]{4}",
            expected=str(anio),
            what="el ejercicio",
        )
    return load


def read_file(path: Path) -> ParsedText:
    """The file as a frame (small files and tests): the same reading and normalization as `load_file`."""
    parsed = parse_delimited(path, HEADER, member_pattern=r"\.txt$", columns=COLUMNS, normalize=NORMALIZE, strip=True)
    parsed.frame["archivo"] = parsed.label
    return parsed
