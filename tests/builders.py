"""Tiny source files in the real published formats, written by hand for tests (independent of sample_data)."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from vraem_pipeline.sources.padron import HEADER as PADRON_HEADER

WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)

COMERCIO = "VENTA AL POR MENOR DE ALIMENTOS EN COMERCIOS ESPECIALIZADOS"  # 4721
SERVICIOS = "ACTIVIDADES DE RESTAURANTES Y DE SERVICIO MOVIL DE COMIDAS"  # 5610
CONSTRUCCION = "CONSTRUCCION DE EDIFICIOS"  # 4100


def ruc(prefix: str, body: int) -> str:
    """A valid RUC: prefix + 8 digits + SUNAT check digit."""
    base = f"{prefix}{body:08d}"
    dv = (11 - sum(w * int(d) for w, d in zip(WEIGHTS, base)) % 11) % 10
    return base + str(dv)


def bad_ruc(prefix: str, body: int) -> str:
    good = ruc(prefix, body)
    return good[:-1] + str((int(good[-1]) + 1) % 10)


def padron_row(ruc: str, *, estado="ACTIVO", tipo="SOCIEDAD ANONIMA CERRADA", actividad=COMERCIO,
               ubigeo="050401", periodo="202412", nro_trab="NO DISPONIBLE") -> list[str]:
    return [ruc, estado, "HABIDO", tipo, "NO DISPONIBLE", "NO DISPONIBLE", actividad, nro_trab,
            "MANUAL/COMPUTARIZADO", "COMPUTARIZADO", "SIN ACTIVIDAD", ubigeo, "AYACUCHO", "HUANTA", "HUANTA", periodo]


def padron_bytes(rows: list[list[str]], dialect: str = "pipe", extra_lines: dict[int, list[str]] | None = None) -> bytes:
    """`pipe`: `|`, latin-1, no quoting, CRLF; `comma`: `,`, UTF-8 with BOM, fields quoted when needed.

    `extra_lines` inserts (malformed) rows before the data row with that 0-based index.
    """
    extra_lines = extra_lines or {}
    out = io.StringIO()
    if dialect == "pipe":
        lines = ["|".join(PADRON_HEADER)]
        for i, row in enumerate(rows):
            if i in extra_lines:
                lines.append("|".join(extra_lines[i]))
            lines.append("|".join(row))
        return ("\r\n".join(lines) + "\r\n").encode("latin-1")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PADRON_HEADER)
    for i, row in enumerate(rows):
        if i in extra_lines:
            writer.writerow(extra_lines[i])
        writer.writerow(row)
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def write_padron(raw: Path, year: int, month: int, rows, *, dialect="pipe", zipped=True, extra_lines=None) -> Path:
    folder = raw / "sunat" / "padron" / str(year)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"PadronRUC_{year}{month:02d}"
    data = padron_bytes(rows, dialect, extra_lines)
    if zipped:
        path = folder / f"{name}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(f"{name}.csv", data)
    else:
        path = folder / f"{name}.csv"
        path.write_bytes(data)
    return path


def write_ventas(raw: Path, year: int, rows: list[tuple[str, object, object]], extra_lines: list[str] = ()) -> Path:
    folder = raw / "sunat" / "ventas" / str(year)
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["RUC|EJERCICIO|VENTAS_NETAS"]
    lines += [f"{r}|{e}|{'' if v is None else v}" for r, e, v in rows]
    lines += list(extra_lines)
    path = folder / f"ventas_{year}.txt"
    path.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    return path
