"""Tiny source files in the real published formats, written by hand for tests (independent of sample_data)."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from vraem_pipeline.sources.padron import HEADER as PADRON_HEADER

WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)

COMMERCE = "VENTA AL POR MENOR DE ALIMENTOS EN COMERCIOS ESPECIALIZADOS"  # 4721
SERVICES = "ACTIVIDADES DE RESTAURANTES Y DE SERVICIO MOVIL DE COMIDAS"  # 5610
CONSTRUCTION = "CONSTRUCCION DE EDIFICIOS"  # 4100


def ruc(prefix: str, body: int) -> str:
    """A valid RUC: prefix + 8 digits + SUNAT check digit."""
    base = f"{prefix}{body:08d}"
    check_digit = (11 - sum(w * int(d) for w, d in zip(WEIGHTS, base, strict=False)) % 11) % 10
    return base + str(check_digit)


def bad_ruc(prefix: str, body: int) -> str:
    good = ruc(prefix, body)
    return good[:-1] + str((int(good[-1]) + 1) % 10)


def padron_row(
    ruc: str,
    *,
    estado="ACTIVO",
    tipo="SOCIEDAD ANONIMA CERRADA",
    actividad=COMMERCE,
    ubigeo="050401",
    periodo="202412",
    nro_trab="NO DISPONIBLE",
) -> list[str]:
    return [
        ruc,
        estado,
        "HABIDO",
        tipo,
        "NO DISPONIBLE",
        "NO DISPONIBLE",
        actividad,
        nro_trab,
        "MANUAL/COMPUTARIZADO",
        "COMPUTARIZADO",
        "SIN ACTIVIDAD",
        ubigeo,
        "AYACUCHO",
        "HUANTA",
        "HUANTA",
        periodo,
    ]


def padron_bytes(
    rows: list[list[str]], dialect: str = "pipe", extra_lines: dict[int, list[str]] | None = None
) -> bytes:
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


def write_delivery(folder: Path, name: str, member: str, data: bytes, zipped: bool) -> Path:
    """A source file as published: `folder/member`, or `folder/name.zip` holding it (deflated)."""
    folder.mkdir(parents=True, exist_ok=True)
    if not zipped:
        path = folder / member
        path.write_bytes(data)
        return path
    path = folder / f"{name}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(member, data)
    return path


def write_padron(raw: Path, year: int, month: int, rows, *, dialect="pipe", zipped=True, extra_lines=None) -> Path:
    name = f"PadronRUC_{year}{month:02d}"
    return write_delivery(
        raw / "sunat" / "padron" / str(year), name, f"{name}.csv", padron_bytes(rows, dialect, extra_lines), zipped
    )


def write_ventas(raw: Path, year: int, rows: list[tuple[str, object, object]], extra_lines: list[str] = ()) -> Path:
    folder = raw / "sunat" / "ventas" / str(year)
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["RUC|EJERCICIO|VENTAS_NETAS"]
    lines += [f"{r}|{e}|{'' if v is None else v}" for r, e, v in rows]
    lines += list(extra_lines)
    path = folder / f"ventas_{year}.txt"
    path.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    return path


# --- customs exports (docs/sources.md#aduanas) ----------------------------------------------------------------

#: Aduanet's export DBF fields the reader uses, plus one it ignores (CPUEDES), as (name, type, length, decimals).
EXPORT_DBF_FIELDS = [
    ("CADU", "C", 3, 0),
    ("FANO", "C", 4, 0),
    ("NDCL", "C", 6, 0),
    ("NSER", "N", 4, 0),
    ("FNUM", "D", 8, 0),
    ("FEMB", "D", 8, 0),
    ("NDOC", "C", 11, 0),
    ("DNOMBRE", "C", 30, 0),
    ("UBIGEO", "C", 6, 0),
    ("PART_NANDI", "N", 10, 0),
    ("CPAIDES", "C", 2, 0),
    ("CPUEDES", "C", 5, 0),
    ("VFOBSERDOL", "N", 15, 2),
    ("VPESNET", "N", 15, 3),
]


def dbf_bytes(
    records: list[dict],
    fields=EXPORT_DBF_FIELDS,
    deleted: set[int] = frozenset(),
    encoding: str = "cp850",
    language_driver: int = 0,
) -> bytes:
    """A dBase III file, one record per dict (missing fields blank); `deleted`: 0-based records flagged `*`.
    Aduanet's are cp850 and declare no code page (language driver 0)."""
    import struct

    reclen = 1 + sum(f[2] for f in fields)
    header = struct.pack(
        "<B3BIHH17xB2x", 3, 124, 12, 1, len(records), 32 + 32 * len(fields) + 1, reclen, language_driver
    )
    for name, kind, length, dec in fields:
        header += struct.pack("<11sc4xBB14x", name.encode("ascii"), kind.encode("ascii"), length, dec)
    body = b""
    for i, rec in enumerate(records):
        body += b"*" if i in deleted else b" "
        for name, kind, length, _ in fields:
            value = str(rec.get(name, "")).encode(encoding)[:length]
            body += value.rjust(length) if kind == "N" else value.ljust(length)
    return header + b"\r" + body + b"\x1a"


def export_record(
    ndcl: int,
    nser: int = 1,
    *,
    fob="1000.00",
    nandina="2603000000",
    pais="CN",
    ubigeo="030601",
    ruc_: str = "",
    cadu="118",
    fano="2024",
    date_value="20240315",
    nombre="MINERA ÑAHUI S.A.",
) -> dict:
    return {
        "CADU": cadu,
        "FANO": fano,
        "NDCL": f"{ndcl:06d}",
        "NSER": str(nser),
        "FNUM": date_value,
        "FEMB": date_value,
        "NDOC": ruc_,
        "DNOMBRE": nombre,
        "UBIGEO": ubigeo,
        "PART_NANDI": str(int(nandina)) if nandina.isdigit() else nandina,
        "CPAIDES": pais,
        "CPUEDES": "CNSHA",
        "VFOBSERDOL": fob,
        "VPESNET": "10.000",
    }


def write_export_week(
    raw: Path, year: int, name: str, records: list[dict], deleted: set[int] = frozenset(), zipped: bool = True
) -> Path:
    return write_delivery(
        raw / "aduanas" / str(year), name, f"{name.upper()}.DBF", dbf_bytes(records, deleted=deleted), zipped
    )


EXPORT_PIPE_HEADER = [
    "regimen",
    "cadu",
    "fano",
    "ndcl",
    "nser",
    "fnum",
    "femb",
    "freg",
    "ndoc",
    "dnombre",
    "ubigeo",
    "cnan",
    "cpaides",
    "vfobserdol",
    "vpesnet",
    "tunifis",
    "qunifis",
]


def export_pipe_row(
    ndcl: int,
    nser: int = 1,
    *,
    fob="1000.00",
    cnan="2603.00.00.00",
    pais="CN",
    ubigeo="030601",
    ruc_="",
    cadu="118",
    fano="2023",
    date_value="20230315",
    regimen="Exportación Definitiva",
) -> list[str]:
    return [
        regimen,
        cadu,
        fano,
        str(ndcl),
        str(nser),
        date_value,
        date_value,
        date_value,
        ruc_,
        "AGRO ÑUÑOA S.A.C.",
        ubigeo,
        cnan,
        pais,
        fob,
        "10.000",
        "KG",
        "10.000",
    ]


def write_export_pipe(
    raw: Path,
    year: int,
    rows: list[list[str]],
    name: str | None = None,
    header=EXPORT_PIPE_HEADER,
    extra_lines: list[str] = (),
) -> Path:
    folder = raw / "aduanas" / str(year)
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["|".join(header)] + ["|".join(r) for r in rows] + list(extra_lines)
    path = folder / (name or f"exportaciones_{year}.txt")
    path.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    return path


#: PRODUCE's delivery with exactly the columns of docs/sources.md#aduanas-entrega-produce, in its order: no line key
#: (fano, ndcl, nser), no numbering date, no exporter.
EXPORT_PIPE_HEADER_WITHOUT_KEY = [
    "regimen",
    "cadu",
    "cpaides",
    "femb",
    "freg",
    "cnan",
    "vfobserdol",
    "vpesnet",
    "tunifis",
    "qunifis",
    "ubigeo",
]


def export_pipe_row_without_key(
    *,
    fob="1000.00",
    cnan="2603.00.00.00",
    pais="CN",
    ubigeo="030601",
    cadu="118",
    femb="20230315",
    freg="20230402",
    regimen="Exportación Definitiva",
) -> list[str]:
    return [regimen, cadu, pais, femb, freg, cnan, fob, "10.000", "KG", "10.000", ubigeo]
