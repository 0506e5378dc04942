"""The SBS debtor file of a year (its December balances), ready to stage."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from vraem_pipeline.core.ingest import TextSource
from vraem_pipeline.sources import sbs

FOLDER = "sbs/deudores"


def find_deudores_year(raw_dir: Path, anio: int) -> list[TextSource]:
    found = sbs.find_file(raw_dir / FOLDER / str(anio), anio)
    if found is None:
        return []
    return [TextSource(found.path, partial(sbs.load_file, path=found.path), found.nota)]
