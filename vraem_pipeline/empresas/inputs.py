"""The firm sources' files of a year, ready to stage: the Padrón cut that closes the year and the sales file."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pandas as pd

from vraem_pipeline.core.ingest import TextSource
from vraem_pipeline.sources import padron, ventas

PADRON_FOLDER = "sunat/padron"
VENTAS_FOLDER = "sunat/ventas"


def find_padron_year(raw_dir: Path, anio: int) -> list[TextSource]:
    """The latest cut of the year folder (every cut there must be of that year; older ones named in the nota)."""
    folder = raw_dir / PADRON_FOLDER / str(anio)
    cuts = padron.find_cuts(folder)
    if not cuts:
        return []
    padron.check_cuts_match_year(cuts, anio)
    cut = padron.latest_cut(folder)
    ignored = sorted(c.path.name for c in cuts if c.path != cut.path)
    return [TextSource(cut.path, partial(padron.load_cut, cut=cut), padron.cut_note(cut, ignored))]


def find_ventas_year(raw_dir: Path, anio: int) -> list[TextSource]:
    path = ventas.find_file(raw_dir / VENTAS_FOLDER / str(anio), anio)
    return [TextSource(path, partial(ventas.load_file, path=path, anio=anio))] if path else []


def cuts_read(con, years: list[int] | None, fuente: str = "padron_ruc") -> pd.DataFrame:
    """The Padrón cut each year was staged from, as the staging step recorded it (meta.fuentes): `anio`,
    `archivo` (its name), `corte` (AAAAMM, from the name, as the reader took it) and `cierre` (December)."""
    where = f"AND anio IN ({','.join(map(str, years))})" if years else ""
    rows = con.execute(
        f"SELECT anio, archivo FROM meta.fuentes WHERE fuente = ? {where} ORDER BY anio, archivo", [fuente]
    ).fetchall()
    out = []
    for anio, archivo in rows:
        padron_cut = padron.cut_of_name(archivo)
        out.append(
            {
                "anio": int(anio),
                "archivo": Path(archivo).name,
                "corte": padron_cut,
                "cierre": padron_cut is not None and padron.is_year_close(padron_cut),
            }
        )
    return pd.DataFrame(out, columns=["anio", "archivo", "corte", "cierre"])
