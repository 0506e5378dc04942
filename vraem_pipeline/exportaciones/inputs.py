"""A year's export files as one load (a line repeated across weekly files must be seen in one pass)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from vraem_pipeline.core.ingest import TextSource
from vraem_pipeline.sources import aduanas

FOLDER = "aduanas"


def find_exportaciones_year(raw_dir: Path, anio: int) -> list[TextSource]:
    """The year's files as one load: a line repeated across weekly files must be seen in one pass."""
    year_dir = raw_dir / FOLDER / str(anio)
    files, others = aduanas.find_files(year_dir)
    if not files:
        return []
    nota = f"{len(files)} archivos" + (
        f"; ignorados (no son .DBF, .txt ni .zip): {[p.name for p in others]}" if others else ""
    )
    return [TextSource(year_dir, partial(aduanas.load_year, files=files, anio=anio, label=str(year_dir)), nota)]
