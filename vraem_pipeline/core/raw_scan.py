"""Which files under `raw/` the sources read, by the sources' own finders (the registry's `Source.find`).

A file a source does not recognise is silently not read — a cut named `PadronRUC_2023-12.zip` would simply leave
2023 without firms. So `vraem refresh` scans `raw/` with the very functions the sources use to discover their
files (no second copy of the patterns) and reports every other file: printed as a warning, logged in the Dagster
run and recorded in `meta.archivos_no_reconocidos` of the published warehouse.

The same scan says which requested years have no file at all, so that `vraem refresh --years` refuses a year
that would be emptied (`years_without_files`). Every function takes the registry's sources as an argument: the
machinery knows no source of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from vraem_pipeline.core.catalog import Source
from vraem_pipeline.core.errors import SourceFileError
from vraem_pipeline.core.settings import is_year_folder

#: Files never reported: the folders' own documentation (`raw/README.md`, any folder, any case).
ALWAYS_EXPECTED = ("readme.md",)

TABLE = "meta.archivos_no_reconocidos"


def _recognised(source: Source, folder: Path, year: int | None) -> set[Path]:
    """The source's files in `folder`; a folder its finder cannot even list (a damaged zip) counts as recognised
    whole, because the refresh itself stops on it naming the file."""
    try:
        return set(source.find(folder, year))
    except SourceFileError:
        return {p for p in folder.rglob("*") if p.is_file()}


def _folders(raw_dir: Path, source: Source) -> list[tuple[Path, int | None]]:
    base = raw_dir / source.folder
    if not base.is_dir():
        return []
    if not source.yearly:
        return [(base, None)]
    return [(d, int(d.name)) for d in sorted(base.iterdir()) if d.is_dir() and is_year_folder(d.name)]


def folder_label(source: Source, year: int | None = None) -> str:
    """`sunat/padron/<año>/` (or with the year), `inei/vab/`: how messages name a source's folder."""
    if not source.yearly:
        return f"{source.folder}/"
    return f"{source.folder}/{year if year is not None else '<año>'}/"


def _where_expected(raw_dir: Path, path: Path, sources: Sequence[Source]) -> str:
    """The expected names of the deepest source folder holding `path`, for the message."""
    relative = path.relative_to(raw_dir).parts[:-1]
    best = None
    for source in sources:
        parts = tuple(source.folder.split("/"))
        depth = len(parts) + source.yearly
        if (
            relative[: len(parts)] == parts
            and (not source.yearly or len(relative) > len(parts))
            and (best is None or depth > best[0])
        ):
            best = (depth, source)
    if best is None:
        return "no está en ninguna carpeta de fuente (" + ", ".join(sorted({folder_label(s) for s in sources})) + ")"
    same_folder = [s for s in sources if s.folder == best[1].folder]
    return f"en {folder_label(best[1])} se espera {' o '.join(sorted({s.expected for s in same_folder}))}"


def unrecognised_files(raw_dir: Path, sources: Sequence[Source]) -> pd.DataFrame:
    """Every file under `raw_dir` that no source recognises: `archivo` (relative to raw/), `bytes`, `nota` (what
    its folder expects). README files and hidden files (`.DS_Store`, editors' swap files) are not reported."""
    raw_dir = Path(raw_dir)
    expected: set[Path] = set()
    for source in sources:
        for folder, year in _folders(raw_dir, source):
            expected |= _recognised(source, folder, year)
    rows = []
    for path in sorted(raw_dir.rglob("*")) if raw_dir.is_dir() else []:
        if (
            not path.is_file()
            or path in expected
            or path.name.lower() in ALWAYS_EXPECTED
            or any(part.startswith(".") for part in path.relative_to(raw_dir).parts)
        ):
            continue
        rows.append(
            {
                "archivo": path.relative_to(raw_dir).as_posix(),
                "bytes": path.stat().st_size,
                "nota": _where_expected(raw_dir, path, sources),
            }
        )
    return pd.DataFrame(rows, columns=["archivo", "bytes", "nota"]).astype({"bytes": "int64"})


def unrecognised_messages(table: pd.DataFrame) -> list[str]:
    """One line per unrecognised file, as `vraem refresh` prints it and the Dagster run logs it."""
    return [f"archivo no reconocido, no se lee: raw/{r.archivo} ({r.nota})" for r in table.itertuples()]


def years_without_files(raw_dir: Path, years: Iterable[int], sources: Sequence[Source]) -> list[int]:
    """The years among `years` for which no yearly source has a single recognised file: refreshing them would
    only delete what the operator database and the warehouse hold of those years."""
    yearly = [s for s in sources if s.yearly]
    return [
        year
        for year in years
        if not any(
            (raw_dir / s.folder / str(year)).is_dir() and _recognised(s, raw_dir / s.folder / str(year), year)
            for s in yearly
        )
    ]


def record_unrecognised(con, table: pd.DataFrame) -> None:
    """`meta.archivos_no_reconocidos`: the scan of this refresh, replacing the previous one."""
    con.register("_vraem_no_reconocidos", table)
    con.execute(f"CREATE OR REPLACE TABLE {TABLE} AS SELECT * FROM _vraem_no_reconocidos")
    con.unregister("_vraem_no_reconocidos")
    con.execute(
        f"COMMENT ON TABLE {TABLE} IS 'Archivos bajo raw/ que ninguna fuente reconoce por su nombre o carpeta "
        "(no se leyeron) en el último refresco: ruta relativa a raw/, bytes y qué nombres espera su carpeta'"
    )
