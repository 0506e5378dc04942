"""Which files under `raw/` the sources read: one list, built from each source's own finder.

A file a source does not recognise is silently not read — a cut named `PadronRUC_2023-12.zip` would simply leave
2023 without firms. So `vraem refresh` scans `raw/` with the very functions the sources use to discover their
files (no second copy of the patterns) and reports every other file: printed as a warning, logged in the Dagster
run and recorded in `meta.archivos_no_reconocidos` of the published warehouse.

The same list says which requested years have no file at all, so that `vraem refresh --years` refuses a year
that would be emptied (`anios_sin_archivos`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from vraem_pipeline.pbi import allocation as pbi
from vraem_pipeline.core.errors import SourceFileError
from vraem_pipeline.sources import aduanas, enaho, inei_vab, padron, sbs, ventas

_YEAR = re.compile(r"^(19|20)\d\d$")

#: Files never reported: the folders' own documentation (`raw/README.md`, any folder, any case).
NOMBRES_ESPERADOS_SIEMPRE = ("readme.md",)

ARCHIVOS_NO_RECONOCIDOS = "meta.archivos_no_reconocidos"


@dataclass(frozen=True)
class CarpetaFuente:
    """Where a source's files sit under raw/ and how the source itself finds them.

    `encontrar(carpeta, anio)` returns every file of the folder the source recognises as its own (also those it
    then leaves aside, like an older Padrón cut, which `meta.fuentes.nota` names); `anio` is None for a folder
    that is not split by year.
    """

    fuente: str  # as in meta.fuentes
    carpeta: str  # relative to raw/
    por_anio: bool
    esperado: str  # the expected names, for the message
    encontrar: Callable[[Path, int | None], Iterable[Path]]


def _enaho(module: str):
    return lambda folder, anio: [f.path for f in enaho.module_candidates(folder, anio, module)]


def _share_table(folder: Path, anio: int | None) -> list[Path]:
    found = pbi.find_share_table(folder)
    return [found] if found else []


FUENTES: tuple[CarpetaFuente, ...] = (
    CarpetaFuente("padron_ruc", "sunat/padron", True, padron.NOMBRE_ESPERADO,
                  lambda folder, anio: [c.path for c in padron.find_cuts(folder)]),
    CarpetaFuente("ventas_declaradas", "sunat/ventas", True, ventas.NOMBRE_ESPERADO, ventas.matching_files),
    CarpetaFuente("enaho_personas", "enaho", True, enaho.NOMBRE_ESPERADO, _enaho("500")),
    CarpetaFuente("enaho_salud", "enaho", True, enaho.NOMBRE_ESPERADO, _enaho("400")),
    CarpetaFuente("exportaciones", "aduanas", True, aduanas.NOMBRE_ESPERADO,
                  lambda folder, anio: [f.path for f in aduanas.find_files(folder)[0]]),
    CarpetaFuente("sbs_deudores", "sbs/deudores", True, sbs.NOMBRE_ESPERADO, lambda folder, anio: sbs.matching_files(folder)),
    CarpetaFuente("inei_vab", "inei/vab", False, inei_vab.NOMBRE_ESPERADO,
                  lambda folder, anio: inei_vab.find_workbooks(folder)[0]),
    CarpetaFuente("inei_participaciones", "inei", False, pbi.ARCHIVO_PARTICIPACIONES, _share_table),
)


def _recognised(spec: CarpetaFuente, folder: Path, anio: int | None) -> set[Path]:
    """The source's files in `folder`; a folder its finder cannot even list (a damaged zip) counts as recognised
    whole, because the refresh itself stops on it naming the file."""
    try:
        return set(spec.encontrar(folder, anio))
    except SourceFileError:
        return {p for p in folder.rglob("*") if p.is_file()}


def _folders(raw_dir: Path, spec: CarpetaFuente) -> list[tuple[Path, int | None]]:
    base = raw_dir / spec.carpeta
    if not base.is_dir():
        return []
    if not spec.por_anio:
        return [(base, None)]
    return [(d, int(d.name)) for d in sorted(base.iterdir()) if d.is_dir() and _YEAR.match(d.name)]


def _where_expected(raw_dir: Path, path: Path) -> str:
    """The expected names of the deepest source folder holding `path`, for the message."""
    relative = path.relative_to(raw_dir).parts[:-1]
    best = None
    for spec in FUENTES:
        parts = tuple(spec.carpeta.split("/"))
        depth = len(parts) + spec.por_anio
        if relative[:len(parts)] == parts and (not spec.por_anio or len(relative) > len(parts)) \
                and (best is None or depth > best[0]):
            best = (depth, spec)
    if best is None:
        return "no está en ninguna carpeta de fuente (" + ", ".join(
            sorted({s.carpeta + ("/<año>/" if s.por_anio else "/") for s in FUENTES})) + ")"
    specs = [s for s in FUENTES if s.carpeta == best[1].carpeta]
    folder = best[1].carpeta + ("/<año>/" if best[1].por_anio else "/")
    return f"en {folder} se espera {' o '.join(sorted({s.esperado for s in specs}))}"


def archivos_no_reconocidos(raw_dir: Path) -> pd.DataFrame:
    """Every file under `raw_dir` that no source recognises: `archivo` (relative to raw/), `bytes`, `nota` (what
    its folder expects). README files and hidden files (`.DS_Store`, editors' swap files) are not reported."""
    raw_dir = Path(raw_dir)
    expected: set[Path] = set()
    for spec in FUENTES:
        for folder, anio in _folders(raw_dir, spec):
            expected |= _recognised(spec, folder, anio)
    rows = []
    for path in sorted(raw_dir.rglob("*")) if raw_dir.is_dir() else []:
        if (not path.is_file() or path in expected or path.name.lower() in NOMBRES_ESPERADOS_SIEMPRE
                or any(part.startswith(".") for part in path.relative_to(raw_dir).parts)):
            continue
        rows.append({"archivo": path.relative_to(raw_dir).as_posix(), "bytes": path.stat().st_size,
                     "nota": _where_expected(raw_dir, path)})
    return pd.DataFrame(rows, columns=["archivo", "bytes", "nota"]).astype({"bytes": "int64"})


def mensajes_no_reconocidos(table: pd.DataFrame) -> list[str]:
    """One line per unrecognised file, as `vraem refresh` prints it and the Dagster run logs it."""
    return [f"archivo no reconocido, no se lee: raw/{r.archivo} ({r.nota})" for r in table.itertuples()]


def anios_sin_archivos(raw_dir: Path, years: Iterable[int]) -> list[int]:
    """The years among `years` for which no yearly source has a single recognised file: refreshing them would
    only delete what the operator database and the warehouse hold of those years."""
    empty = []
    for anio in years:
        specs = [s for s in FUENTES if s.por_anio]
        if not any((raw_dir / s.carpeta / str(anio)).is_dir() and _recognised(s, raw_dir / s.carpeta / str(anio), anio)
                   for s in specs):
            empty.append(anio)
    return empty


def record_unrecognised(con, table: pd.DataFrame) -> None:
    """`meta.archivos_no_reconocidos`: the scan of this refresh, replacing the previous one."""
    con.register("_vraem_no_reconocidos", table)
    con.execute(f"CREATE OR REPLACE TABLE {ARCHIVOS_NO_RECONOCIDOS} AS SELECT * FROM _vraem_no_reconocidos")
    con.unregister("_vraem_no_reconocidos")
    con.execute(f"COMMENT ON TABLE {ARCHIVOS_NO_RECONOCIDOS} IS 'Archivos bajo raw/ que ninguna fuente reconoce por "
                "su nombre o carpeta (no se leyeron) en el último refresco: ruta relativa a raw/, bytes y qué nombres "
                "espera su carpeta'")
