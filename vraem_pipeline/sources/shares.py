"""The user's share table for the GDP allocation: `raw/inei/participaciones_territorio.csv` (a person's CSV,
decoded like the territory file: `small_text`). The reader gives its rows as text with their line; their rules
are the table's schema, in the GDP topic (`pbi/allocation.leer_tabla_participaciones`)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from vraem_pipeline.core.errors import SourceFileError
from vraem_pipeline.sources import small_text

SHARES_FILE = "participaciones_territorio.csv"
COLUMNS = ("ubigeo_departamento", "actividad", "anio", "participacion_pct")


def find_share_table(inei_dir: Path) -> Path | None:
    """`raw/inei/participaciones_territorio.csv`, name matched case-insensitively (the raw/ scan uses it too)."""
    if not inei_dir.is_dir():
        return None
    hits = [p for p in inei_dir.iterdir() if p.is_file() and p.name.lower() == SHARES_FILE]
    return hits[0] if hits else None


def read_share_table(path: Path) -> tuple[pd.DataFrame, str]:
    """The table's rows as text (`COLUMNS` + `linea`, blank lines skipped) and its delimiter; a wrong header or a
    row with the wrong number of fields fails naming its line."""
    texto = small_text.decode(path, what="la tabla de participaciones", rule="participaciones")
    delim = small_text.delimiter(texto)
    filas = list(csv.reader(io.StringIO(texto, newline=""), delimiter=delim))
    if not filas:
        raise SourceFileError(path, "la tabla de participaciones está vacía", line=1, rule="participaciones.vacia")
    header_row = [h.strip().lower() for h in filas[0]]
    required = [c for c in COLUMNS if c != "anio"]
    if any(c not in header_row for c in required) or any(c not in COLUMNS for c in header_row):
        raise SourceFileError(
            path,
            f"cabecera {filas[0]}: se esperaba {','.join(COLUMNS)} (anio opcional)",
            line=1,
            rule="participaciones.cabecera",
        )
    datos = []
    for n, row in enumerate(filas[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header_row):
            raise SourceFileError(
                path,
                f"la fila tiene {len(row)} campos y la cabecera {len(header_row)}",
                line=n,
                rule="participaciones.campos",
            )
        datos.append({**{c: v.strip() for c, v in zip(header_row, row, strict=True)}, "linea": n})
    return pd.DataFrame(datos, columns=[*header_row, "linea"]).reindex(columns=[*COLUMNS, "linea"]), delim
