"""SUNAT open-data Padrón RUC (`PadronRUC_AAAAMM.zip|csv`, source note §3): the firm register of a year.

A year's folder may hold several monthly cuts; the latest AAAAMM closes the year and is the only one read
(an older cut silently mixed in would double firms). The layout is checked against the published 16-column
header so that a SUNAT schema change fails the asset instead of shifting columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


import duckdb

from vraem_pipeline.errors import SourceFileError
from vraem_pipeline.sources.textfiles import ParsedText, TextLoad, load_delimited, parse_delimited, require_rows

HEADER = [
    "RUC", "Estado", "Condicion", "Tipo", "Actividad_Economica_CIIU_revision3_Principal",
    "Actividad_Economica_CIIU_revision3_Secundaria", "Actividad_Economica_CIIU_revision4_Principal", "NroTrab",
    "TipoFacturacion", "TipoContabilidad", "ComercioExterior", "UBIGEO", "Departamento", "Provincia", "Distrito",
    "PERIODO_PUBLICACION",
]

#: source header → staging column (the columns the indicators and later sources need)
COLUMNS = {
    "RUC": "ruc",
    "Estado": "estado",
    "Condicion": "condicion",
    "Tipo": "tipo",
    "Actividad_Economica_CIIU_revision4_Principal": "actividad_ciiu4",
    "NroTrab": "nro_trab",
    "ComercioExterior": "comercio_exterior",
    "UBIGEO": "ubigeo",
    "PERIODO_PUBLICACION": "periodo_publicacion",
}

_CUT = re.compile(r"^padronruc_(\d{4})(\d{2})\.(zip|csv|txt)$", re.IGNORECASE)
#: What `vraem refresh` says it expects in `sunat/padron/<año>/` when a file there matches nothing (`_CUT`).
NOMBRE_ESPERADO = "PadronRUC_<año><mes>.zip|csv|txt"


@dataclass(frozen=True)
class Cut:
    path: Path
    periodo: str  # AAAAMM

    @property
    def anio(self) -> int:
        return int(self.periodo[:4])


def find_cuts(year_dir: Path) -> list[Cut]:
    cuts = []
    for path in sorted(year_dir.iterdir()) if year_dir.is_dir() else []:
        m = _CUT.match(path.name)
        if m and path.is_file():
            cuts.append(Cut(path, m.group(1) + m.group(2)))
    return cuts


def latest_cut(year_dir: Path) -> Cut | None:
    """The cut that closes the year: the highest AAAAMM (a zip wins over its own extracted csv)."""
    cuts = find_cuts(year_dir)
    if not cuts:
        return None
    top = max(c.periodo for c in cuts)
    same = [c for c in cuts if c.periodo == top]
    return sorted(same, key=lambda c: (c.path.suffix.lower() != ".zip", c.path.name))[0]


_NULL_SQL = "CASE WHEN {c} IN ('', '-', '----', 'NO DISPONIBLE') THEN NULL ELSE {c} END"

#: Normalization of each staged column, in SQL over the field's text `{c}` (spaces already stripped): SUNAT's
#: null markers (`-`, `NO DISPONIBLE`…) made missing, codes upper-cased, and a 5-digit UBIGEO given back the
#: leading zero a spreadsheet took (030202 saved as 30202 is a lost zero, not a typo).
NORMALIZE = {
    **{col: _NULL_SQL for col in ("condicion", "comercio_exterior", "nro_trab", "actividad_ciiu4")},
    "tipo": f"upper({_NULL_SQL})",
    "estado": "upper({c})",
    "ubigeo": "CASE WHEN length({c}) = 5 AND {c} GLOB '[0-9][0-9][0-9][0-9][0-9]' THEN '0' || {c} ELSE "
              + _NULL_SQL + " END",
}


def load_cut(con: duckdb.DuckDBPyConnection, cut: Cut, *, table: str, workdir: Path | None = None,
             derived: dict[str, str] | None = None) -> TextLoad:
    """Load the cut into DuckDB (`table`, normalized); a changed layout or a cut without rows fails naming the file
    and line 1."""
    return require_rows(load_delimited(con, cut.path, table=table, expected_header=HEADER, columns=COLUMNS,
                                       normalize=NORMALIZE, member_pattern=r"\.(csv|txt)$", workdir=workdir,
                                       derived=derived, strip=True))


def read_cut(cut: Cut) -> ParsedText:
    """The cut as a frame (small files and tests): the same reading and normalization as `load_cut`."""
    parsed = parse_delimited(cut.path, HEADER, member_pattern=r"\.(csv|txt)$", columns=COLUMNS, normalize=NORMALIZE,
                             strip=True)
    parsed.frame["archivo"] = parsed.label
    return parsed


def check_cut_matches_year(cut: Cut, anio: int) -> None:
    if cut.anio != anio:
        raise SourceFileError(cut.path, f"el corte {cut.periodo} no pertenece al año {anio} de la carpeta", rule="corte_del_anio")
