"""SUNAT open-data Padrón RUC (`PadronRUC_AAAAMM.zip|csv`, docs/sources.md#padron-ruc): the firm register of a year.

A year's folder may hold several monthly cuts; the latest AAAAMM closes the year and is the only one read
(an older cut silently mixed in would double firms). The layout is checked against the published 16-column
header so that a SUNAT schema change fails the asset instead of shifting columns.

What a cut says about its period must agree with where it sits: every cut in a year folder must be of that
year by its name (`check_cuts_match_year`: a 2023 cut beside 2024's would otherwise be filed silently as an
"earlier cut"), and its rows' `PERIODO_PUBLICACION` must be its name's AAAAMM (`load_cut`, through
`periods.check_rows_period`: the 2023 cut saved as `PadronRUC_202412.zip` is refused naming both periods).
A cut that is not December's can close a year, but it says so (`cut_note`, the warning check
`corte_de_diciembre`, the report's source line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from vraem_pipeline.core.errors import SourceFileError
from vraem_pipeline.sources.periods import MONTHS, check_rows_period
from vraem_pipeline.sources.textfiles import ParsedText, TextLoad, load_delimited, parse_delimited, require_rows

HEADER = [
    "RUC",
    "Estado",
    "Condicion",
    "Tipo",
    "Actividad_Economica_CIIU_revision3_Principal",
    "Actividad_Economica_CIIU_revision3_Secundaria",
    "Actividad_Economica_CIIU_revision4_Principal",
    "NroTrab",
    "TipoFacturacion",
    "TipoContabilidad",
    "ComercioExterior",
    "UBIGEO",
    "Departamento",
    "Provincia",
    "Distrito",
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

_CUT = re.compile(r"^padronruc_(\d{4})(0[1-9]|1[0-2])\.(zip|csv|txt)$", re.IGNORECASE)
#: What `vraem refresh` says it expects in `sunat/padron/<año>/` when a file there matches nothing (`_CUT`).
EXPECTED_NAME = "PadronRUC_<año><mes>.zip|csv|txt"


@dataclass(frozen=True)
class Cut:
    path: Path
    periodo: str  # AAAAMM

    @property
    def anio(self) -> int:
        return int(self.periodo[:4])


#: The month that closes a year; a year closed by another month's cut is flagged, never refused.
CLOSING_MONTH = 12


def cut_of_name(name: str) -> str | None:
    """The AAAAMM a file name gives a cut (`PadronRUC_202406.zip` → 202406), None for any other name; the warning
    check and the report read the period of the cut a year was built from through it."""
    m = _CUT.match(Path(str(name)).name)
    return m.group(1) + m.group(2) if m else None


def month_label(periodo: str) -> str:
    """`202406` → "junio de 2024"."""
    return f"{MONTHS[int(periodo[4:]) - 1]} de {periodo[:4]}"


def is_year_close(periodo: str) -> bool:
    return int(periodo[4:]) == CLOSING_MONTH


def close_phrase(periodo: str) -> str | None:
    """What the report says of a year whose figures come from a cut that is not December's; None for December."""
    if is_year_close(periodo):
        return None
    return f"cifras del corte de {month_label(periodo)}, no del cierre de diciembre"


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
#: leading zero a spreadsheet took (030202 saved as 30202 is a lost zero, not a typo). A `PERIODO_PUBLICACION`
#: of `-` is missing like any other SUNAT field: the row is kept (its period is its cut's, given by the name
#: and the folder) and it counts neither for nor against the cut's period.
NORMALIZE = {
    **{
        col: _NULL_SQL
        for col in ("condicion", "comercio_exterior", "nro_trab", "actividad_ciiu4", "periodo_publicacion")
    },
    "tipo": f"upper({_NULL_SQL})",
    "estado": "upper({c})",
    "ubigeo": "CASE WHEN length({c}) = 5 AND {c} GLOB '[0-9][0-9][0-9][0-9][0-9]' THEN '0' || {c} ELSE "
    + _NULL_SQL
    + " END",
}


def load_cut(
    con: duckdb.DuckDBPyConnection,
    cut: Cut,
    *,
    table: str,
    workdir: Path | None = None,
    derived: dict[str, str] | None = None,
) -> TextLoad:
    """Load the cut into DuckDB (`table`, normalized); a changed layout or a cut without rows fails naming the file
    and line 1, a cut whose rows are of another period than its name fails naming both periods."""
    load = require_rows(
        load_delimited(
            con,
            cut.path,
            table=table,
            expected_header=HEADER,
            columns=COLUMNS,
            normalize=NORMALIZE,
            member_pattern=r"\.(csv|txt)$",
            workdir=workdir,
            derived=derived,
            strip=True,
        ),
        con,
    )
    check_rows_period(
        con,
        load,
        column="periodo_publicacion",
        header="PERIODO_PUBLICACION",
        pattern="[0-9]{6}",
        expected=cut.periodo,
        what="el corte",
    )
    return load


def read_cut(cut: Cut) -> ParsedText:
    """The cut as a frame (small files and tests): the same reading and normalization as `load_cut`."""
    parsed = parse_delimited(
        cut.path, HEADER, member_pattern=r"\.(csv|txt)$", columns=COLUMNS, normalize=NORMALIZE, strip=True
    )
    parsed.frame["archivo"] = parsed.label
    return parsed


def check_cuts_match_year(cuts: list[Cut], anio: int) -> None:
    """Every cut in the folder, not only the one read, must be of the folder's year: a 2023 cut beside the June
    2024 cut would otherwise pass as an earlier cut of 2024 and let June close 2024 without a word. The first
    stray cut is named as the file, the others in the message."""
    stray = [c for c in cuts if c.anio != anio]
    if stray:
        others = f" (también {', '.join(c.path.name for c in stray[1:])})" if len(stray) > 1 else ""
        raise SourceFileError(
            stray[0].path,
            f"el corte {stray[0].periodo} no pertenece al año {anio} de la carpeta"
            f"{others}: muévalo a la carpeta de su año",
            rule="corte_del_anio",
        )


def cut_note(cut: Cut, ignored: list[str]) -> str:
    """meta.fuentes.nota of the cut read: its AAAAMM, whether it is not the December close, the cuts left aside."""
    nota = f"corte {cut.periodo}" + ("" if is_year_close(cut.periodo) else ", no el cierre de diciembre")
    return nota + (f"; cortes anteriores ignorados: {', '.join(ignored)}" if ignored else "")
