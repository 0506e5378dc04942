"""INEI's real departmental GDP workbook in the sample, and the sales that make its allocation land on the report.

The sample's GDP input is not synthetic: it is INEI's own workbook (`datos/inei/pbi_peru_17.xlsx`, provenance
in `datos/README.md`), copied as it is to ``raw/inei/vab/``. What the pipeline computes from it is an allocation
(`vraem_pipeline.pbi.allocation`): the territory's part of each department's value added, in proportion to the
territory's part of the department's declared sales of formal firms. So the published figures (the zones' value in
S/ millones of 2007 and its share of national GDP, read at run time from ``publicado_vraem_2024.csv``) are reproduced by
choosing the one thing the publication does not fix: the declared sales of the formal firms **outside** the
territory's districts but inside its departments. Nothing else moves — the territory's firms, their sales (the
published total), every stratum and count stay as :mod:`.ventas` and :mod:`.padron` made them.

How (:func:`.ventas.adjust_sales_outside_territory`, called by :func:`.ventas.sales_cents` for every year):

* The lever is the **large** firms outside the territory in the territory's departments — the only stratum
  without an upper edge, as in the territory's own calibration. Their drawn sales are all scaled by one factor
  λ (each kept inside the large-firm band), the same λ in every department, so the departments keep the
  relative sizes the draws gave them; λ is found by bisection so that Σ_d VAB_d × share_d equals the target.
* The published year's target is the published figure (its centre); if the firms cannot reach it, the
  national sample fails to build (``UNGUARANTEED_SCALES`` for the small one). Other years are not published:
  their target is the published year's department shares applied to that year's departmental VAB (the territory's
  value follows its departments' real GDP), or the nearest value the firms can reach.

The workbook is read here with a few lines of openpyxl, independently of the pipeline's reader, so that the
sample is not calibrated with the code it is meant to test.
"""

from __future__ import annotations

import shutil
import unicodedata
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

from .calibration import read_reference

#: INEI's departmental GDP workbook, 2026 edition, exactly as published (see datos/README.md).
WORKBOOK = Path(__file__).resolve().parent / "datos" / "inei" / "pbi_peru_17.xlsx"
SHEET = "cuadro1"
#: Scales where the published year may be out of reach: at ``small`` a department of the territory may have no
#: large firm outside the territory's districts (seed 1: Huancavelica), so nothing can lower its share. The
#: sample is then written with the nearest reachable value and a warning (the reconciliation check shows the
#: difference); at national scale every department has hundreds of such firms and failing to reach is an error.
UNGUARANTEED_SCALES = ("small",)
PBI_LABEL = "producto bruto interno"


def write_pbi(raw_dir: Path) -> Path:
    """Copy INEI's workbook to ``raw_dir/inei/vab/``, byte for byte; returns its path."""
    folder_path = Path(raw_dir) / "inei" / "vab"
    folder_path.mkdir(parents=True, exist_ok=True)
    path = folder_path / WORKBOOK.name
    shutil.copyfile(WORKBOOK, path)
    return path


def _key(texto: object) -> str:
    s = unicodedata.normalize("NFKD", str(texto).strip().lower())
    return "".join(c for c in s if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def departmental_vab() -> tuple[dict[int, dict[str, Fraction]], dict[int, Fraction]]:
    """({year: {department code: VAB in miles de soles}}, {year: national PBI in miles}) from the workbook.

    Only rows whose label is exactly an INEI department name (accents ignored) and the PBI row are taken:
    the territory's departments are never Lima or Callao, so Lima's layout does not matter here."""
    import openpyxl

    names = read_reference("ubigeo_inei.csv")
    codigo = {_key(n): u[:2] for u, n in zip(names["ubigeo"], names["departamento"], strict=True)}
    workbook = openpyxl.load_workbook(WORKBOOK, read_only=True, data_only=True)
    try:
        filas = list(workbook[SHEET].iter_rows(values_only=True))
    finally:
        workbook.close()
    i = next(k for k, f in enumerate(filas) if f and _key(f[0]) == "departamentos")
    anios = {j: int(str(v).strip()[:4]) for j, v in enumerate(filas[i]) if j and v is not None}
    vab: dict[int, dict[str, Fraction]] = {a: {} for a in anios.values()}
    pbi: dict[int, Fraction] = {}
    for f in filas[i + 1 :]:
        if not f or f[0] is None:
            continue
        k = _key(f[0])
        for j, a in anios.items():
            if k in codigo:
                vab[a][codigo[k]] = Fraction(f[j])
            elif k == PBI_LABEL:
                pbi[a] = Fraction(f[j])
    return vab, pbi


__all__ = ["WORKBOOK", "write_pbi", "departmental_vab"]
