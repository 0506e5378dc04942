"""The analysts' workbook: every marts table, for the report's year and the series before it, one sheet each,
with its description, units and number formats, and the data dictionary — what today is copied by hand from
the spreadsheets into the printed edition's annex.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import xlsxwriter

#: Excel's limit on a sheet name; longer table names are shortened word by word, the full name is in the index.
MAX_SHEET = 31
_SHORT = (("exportaciones", "export"), ("departamento", "depto"), ("domicilio_fiscal", "dom_fiscal"))

#: Number format by the unit `meta.diccionario` gives a column.
FORMATS = {
    "empresas": "#,##0",
    "trabajadores": "#,##0",
    "%": "0.0",
    "millones US$": "#,##0.0",
    "millones S/": "#,##0.0",
    "millones S/ de 2007": "#,##0.0",
    "año": "0",
}


def sheet_name(table: str) -> str:
    name = table
    for long, short in _SHORT:
        if len(name) <= MAX_SHEET:
            break
        name = name.replace(long, short)
    return name[:MAX_SHEET]


def _units(con, table: str) -> dict[str, tuple[str | None, str | None]]:
    return {
        c: (d, u)
        for c, d, u in con.execute(
            "SELECT columna, descripcion, unidad FROM meta.diccionario WHERE esquema = 'marts' AND tabla = ? "
            "AND columna IS NOT NULL",
            [table],
        ).fetchall()
    }


def write_workbook(warehouse: Path | str, anio: int, path: Path, territorio: str) -> list[str]:
    """Writes the workbook and returns its sheet names: index, one per marts table, fuentes, parametros,
    diccionario."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' ORDER BY table_name"
            ).fetchall()
        ]
        book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "nan_inf_to_errors": True})
        title = book.add_format({"bold": True, "font_size": 13, "font_color": "#1f4e79"})
        header = book.add_format(
            {
                "bold": True,
                "bg_color": "#1f4e79",
                "font_color": "#ffffff",
                "text_wrap": True,
                "valign": "top",
                "border": 1,
            }
        )
        unit = book.add_format({"italic": True, "font_color": "#555555", "bg_color": "#dde7f1", "border": 1})
        note = book.add_format({"font_color": "#555555"})
        number_formats = {u: book.add_format({"num_format": f}) for u, f in FORMATS.items()}

        index = book.add_worksheet("indice")
        index.write(0, 0, f"Desempeño económico del {territorio} {anio}: cuadros del almacén publicado", title)
        index.write_row(2, 0, ["hoja", "tabla", "contenido"], header)
        sheets = ["indice"]
        for n, table in enumerate(tables):
            name = sheet_name(table)
            description = con.execute(
                "SELECT descripcion FROM meta.diccionario WHERE esquema = 'marts' AND tabla = ? AND columna IS NULL",
                [table],
            ).fetchone()
            description = description[0] if description else ""
            index.write_url(3 + n, 0, f"internal:'{name}'!A1", string=name)
            index.write_row(3 + n, 1, [f"marts.{table}", description])

            cur = con.execute(f'SELECT * FROM marts."{table}" WHERE anio <= ? ORDER BY anio DESC, 2', [anio])
            columns = [d[0] for d in cur.description]
            rows = cur.fetchall()
            units = _units(con, table)
            ws = book.add_worksheet(name)
            ws.write(0, 0, f"marts.{table}: {description}", title)
            ws.write(
                1,
                0,
                f"{territorio}, años hasta {anio}. Fuente y parámetros: hojas de meta.fuentes y "
                "meta.parametros del almacén; descripción de cada columna en la hoja diccionario.",
                note,
            )
            ws.write_row(3, 0, columns, header)
            ws.write_row(4, 0, [units.get(c, (None, None))[1] or "" for c in columns], unit)
            for r, row in enumerate(rows, start=5):
                for c, (column, value) in enumerate(zip(columns, row, strict=True)):
                    fmt = number_formats.get(units.get(column, (None, None))[1] or "")
                    if isinstance(value, bool) or value is None:
                        ws.write(r, c, "sí" if value is True else "no" if value is False else "")
                    elif isinstance(value, int | float):
                        ws.write_number(r, c, value, fmt)
                    else:
                        ws.write_string(r, c, str(value))
            ws.freeze_panes(5, 0)
            ws.autofilter(3, 0, 4 + len(rows), len(columns) - 1)
            for c, column in enumerate(columns):
                ws.set_column(c, c, max(10, min(45, len(column) + 2)))
            sheets.append(name)
        index.set_column(0, 0, 30)
        index.set_column(1, 1, 50)
        index.set_column(2, 2, 90)

        for name, heading, sql, params, widths in (
            (
                "fuentes",
                f"Archivos leídos para {anio} (meta.fuentes)",
                "SELECT fuente, anio, regexp_extract(archivo, '[^/\\\\]+$') AS archivo, sha256, bytes, filas_leidas, "
                "filas_aceptadas, filas_rechazadas, filas_duplicadas, nota FROM meta.fuentes "
                "WHERE anio = ? OR anio IS NULL ORDER BY fuente, archivo",
                [anio],
                (18, 8, 36, 20, 12, 14, 14, 14, 14, 60),
            ),
            (
                "parametros",
                "Parámetros de las reglas (meta.parametros)",
                "SELECT tema, nombre, valor, descripcion FROM meta.parametros ORDER BY ALL",
                [],
                (14, 32, 50, 90),
            ),
            (
                "diccionario",
                "Diccionario de datos del almacén publicado (meta.diccionario)",
                "SELECT esquema, tabla, columna, descripcion, unidad, fuente FROM meta.diccionario ORDER BY ALL",
                [],
                (10, 40, 28, 90, 16, 40),
            ),
        ):
            cur = con.execute(sql, params)
            ws = book.add_worksheet(name)
            ws.write(0, 0, heading, title)
            ws.write_row(2, 0, [d[0] for d in cur.description], header)
            for r, row in enumerate(cur.fetchall(), start=3):
                ws.write_row(r, 0, ["" if v is None else v for v in row])
            ws.freeze_panes(3, 0)
            for c, width in enumerate(widths):
                ws.set_column(c, c, width)
            sheets.append(name)
        book.close()
    return sheets
