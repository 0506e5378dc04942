"""SUNAT open-data Padrón RUC (`PadronRUC_AAAAMM.zip|csv`, source note §3): the firm register of a year.

A year's folder may hold several monthly cuts; the latest AAAAMM closes the year and is the only one read
(an older cut silently mixed in would double firms). The layout is checked against the published 16-column
header so that a SUNAT schema change fails the asset instead of shifting columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


from vraem_pipeline.errors import SourceFileError
from vraem_pipeline.sources.textfiles import ParsedText, parse_delimited

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
_NULLS = {"", "-", "----", "NO DISPONIBLE"}


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


def read_cut(cut: Cut) -> ParsedText:
    """Parse the cut; normalize values (strip, SUNAT null markers, lost leading zeros of UBIGEO)."""
    parsed = parse_delimited(cut.path, HEADER, member_pattern=r"\.(csv|txt)$", columns=COLUMNS)
    df = parsed.frame
    for col in COLUMNS.values():
        df[col] = df[col].str.strip()
    for col in ("condicion", "tipo", "actividad_ciiu4", "comercio_exterior", "nro_trab"):
        df[col] = df[col].where(~df[col].isin(_NULLS))
    df["ubigeo"] = df["ubigeo"].where(~df["ubigeo"].isin(_NULLS))
    # Saved through a spreadsheet, 030202 becomes 30202: a 5-digit code is a lost zero, not a typo.
    df["ubigeo"] = df["ubigeo"].mask(df["ubigeo"].str.fullmatch(r"\d{5}").fillna(False), "0" + df["ubigeo"])
    df["estado"] = df["estado"].str.upper()
    df["tipo"] = df["tipo"].str.upper()
    df["archivo"] = parsed.label
    return parsed


def check_cut_matches_year(cut: Cut, anio: int) -> None:
    if cut.anio != anio:
        raise SourceFileError(cut.path, f"el corte {cut.periodo} no pertenece al año {anio} de la carpeta", rule="corte_del_anio")
