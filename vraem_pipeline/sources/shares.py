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

ARCHIVO_PARTICIPACIONES = "participaciones_territorio.csv"
COLUMNAS = ("ubigeo_departamento", "actividad", "anio", "participacion_pct")


def find_share_table(inei_dir: Path) -> Path | None:
    """`raw/inei/participaciones_territorio.csv`, name matched case-insensitively (the raw/ scan uses it too)."""
    if not inei_dir.is_dir():
        return None
    hits = [p for p in inei_dir.iterdir() if p.is_file() and p.name.lower() == ARCHIVO_PARTICIPACIONES]
    return hits[0] if hits else None


def read_share_table(path: Path) -> tuple[pd.DataFrame, str]:
    """The table's rows as text (`COLUMNAS` + `linea`, blank lines skipped) and its delimiter; a wrong header or a
    row with the wrong number of fields fails naming its line."""
    texto = small_text.decode(path, what="la tabla de participaciones", rule="participaciones")
    delim = small_text.delimiter(texto)
    filas = list(csv.reader(io.StringIO(texto, newline=""), delimiter=delim))
    if not filas:
        raise SourceFileError(path, "la tabla de participaciones está vacía", line=1, rule="participaciones.vacia")
    cabecera = [h.strip().lower() for h in filas[0]]
    obligatorias = [c for c in COLUMNAS if c != "anio"]
    if any(c not in cabecera for c in obligatorias) or any(c not in COLUMNAS for c in cabecera):
        raise SourceFileError(path, f"cabecera {filas[0]}: se esperaba {','.join(COLUMNAS)} (anio opcional)",
                              line=1, rule="participaciones.cabecera")
    datos = []
    for n, fila in enumerate(filas[1:], start=2):
        if not any(c.strip() for c in fila):
            continue
        if len(fila) != len(cabecera):
            raise SourceFileError(path, f"la fila tiene {len(fila)} campos y la cabecera {len(cabecera)}",
                                  line=n, rule="participaciones.campos")
        datos.append({**{c: v.strip() for c, v in zip(cabecera, fila, strict=True)}, "linea": n})
    return pd.DataFrame(datos, columns=[*cabecera, "linea"]).reindex(columns=[*COLUMNAS, "linea"]), delim
