"""The lineage columns every staged source table carries: the year folder, the file and the line a row came from.

One statement of their rules and descriptions (they become `meta.diccionario` and the quarantine's rules), shared by
every topic's schema; a source whose rows are numbered otherwise (dBase records from 1) says so in the arguments.
"""

from __future__ import annotations

import pandera.pandas as pa

HEADER_LINE_DESCRIPTION = "Número de línea física en el archivo fuente (la cabecera es la 1)"


def lineage(
    *, first_line: int = 2, line_rule: str = "linea_tras_cabecera", line_description: str = HEADER_LINE_DESCRIPTION
) -> dict[str, pa.Column]:
    """`anio`, `archivo` and `linea`; by default a text file's physical line, the header being line 1."""
    return {
        "anio": pa.Column(
            "int64",
            pa.Check.in_range(2000, 2100, error="anio_valido"),
            description="Año de referencia (carpeta del año en raw/)",
            metadata={"unidad": "año"},
        ),
        "archivo": pa.Column(
            str, description="Archivo fuente (zip!miembro si venía comprimido)", metadata={"unidad": "ruta"}
        ),
        "linea": pa.Column(
            "int64",
            pa.Check.ge(first_line, error=line_rule),
            description=line_description,
            metadata={"unidad": "línea"},
        ),
    }
