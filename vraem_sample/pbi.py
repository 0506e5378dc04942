"""INEI's real departmental GDP workbook in the sample, and the sales that make its allocation land on the report.

The sample's GDP input is not synthetic: it is INEI's own workbook (`datos/inei/pbi_peru_17.xlsx`, provenance
in `datos/README.md`), copied as it is to ``raw/inei/vab/``. What the pipeline computes from it is an allocation
(`vraem_pipeline.pbi.allocation`): the territory's part of each department's value added, in proportion to the territory's
part of the department's declared sales of formal firms. So the published figures (the zones' value in S/ millones
of 2007 and its share of national GDP, read at run time from ``publicado_vraem_2024.csv``) are reproduced by
choosing the one thing the publication does not fix: the declared sales of the formal firms **outside** the
territory's districts but inside its departments. Nothing else moves — the territory's firms, their sales (the
published total), every stratum and count stay as :mod:`.ventas` and :mod:`.padron` made them.

How (:func:`ajustar_ventas_fuera_del_territorio`, called by :func:`.ventas.importes` for every year):

* The lever is the **large** firms outside the territory in the territory's departments — the only stratum
  without an upper edge, as in the territory's own calibration. Their drawn sales are all scaled by one factor
  λ (each kept inside the large-firm band), the same λ in every department, so the departments keep the
  relative sizes the draws gave them; λ is found by bisection so that Σ_d VAB_d × share_d equals the target.
* The published year's target is the published figure (its centre); if the firms cannot reach it, the
  national sample fails to build (``ESCALAS_SIN_GARANTIA`` for the small one). Other years are not published: their target is the published year's department
  shares applied to that year's departmental VAB (the territory's value follows its departments' real GDP),
  or the nearest value the firms can reach.

The workbook is read here with a few lines of openpyxl, independently of the pipeline's reader, so that the
sample is not calibrated with the code it is meant to test.
"""

from __future__ import annotations

import shutil
import unicodedata
import warnings
import weakref
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import numpy as np

from .calibracion import leer_referencia, pbi_publicado, redondea_a

#: INEI's departmental GDP workbook, 2026 edition, exactly as published (see datos/README.md).
LIBRO = Path(__file__).resolve().parent / "datos" / "inei" / "pbi_peru_17.xlsx"
HOJA = "cuadro1"
#: Scales where the published year may be out of reach: at ``small`` a department of the territory may have no
#: large firm outside the territory's districts (seed 1: Huancavelica), so nothing can lower its share. The
#: sample is then written with the nearest reachable value and a warning (the reconciliation check shows the
#: difference); at national scale every department has hundreds of such firms and failing to reach is an error.
ESCALAS_SIN_GARANTIA = ("small",)
PBI_ETIQUETA = "producto bruto interno"


def escribir_pbi(raw_dir: Path) -> Path:
    """Copy INEI's workbook to ``raw_dir/inei/vab/``, byte for byte; returns its path."""
    carpeta = Path(raw_dir) / "inei" / "vab"
    carpeta.mkdir(parents=True, exist_ok=True)
    ruta = carpeta / LIBRO.name
    shutil.copyfile(LIBRO, ruta)
    return ruta


def _clave(texto: object) -> str:
    s = unicodedata.normalize("NFKD", str(texto).strip().lower())
    return "".join(c for c in s if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def vab_departamental() -> tuple[dict[int, dict[str, Fraction]], dict[int, Fraction]]:
    """({year: {department code: VAB in miles de soles}}, {year: national PBI in miles}) from the workbook.

    Only rows whose label is exactly an INEI department name (accents ignored) and the PBI row are taken:
    the territory's departments are never Lima or Callao, so Lima's layout does not matter here."""
    import openpyxl

    nombres = leer_referencia("ubigeo_inei.csv")
    codigo = {_clave(n): u[:2] for u, n in zip(nombres["ubigeo"], nombres["departamento"], strict=True)}
    libro = openpyxl.load_workbook(LIBRO, read_only=True, data_only=True)
    try:
        filas = list(libro[HOJA].iter_rows(values_only=True))
    finally:
        libro.close()
    i = next(k for k, f in enumerate(filas) if f and _clave(f[0]) == "departamentos")
    anios = {j: int(str(v).strip()[:4]) for j, v in enumerate(filas[i]) if j and v is not None}
    vab: dict[int, dict[str, Fraction]] = {a: {} for a in anios.values()}
    pbi: dict[int, Fraction] = {}
    for f in filas[i + 1:]:
        if not f or f[0] is None:
            continue
        k = _clave(f[0])
        for j, a in anios.items():
            if k in codigo:
                vab[a][codigo[k]] = Fraction(f[j])
            elif k == PBI_ETIQUETA:
                pbi[a] = Fraction(f[j])
    return vab, pbi


def departamentos_territorio(uni) -> list[str]:
    """Departments of the sample's territory (the shipped district list the population was built on)."""
    return sorted({str(d) for d in uni.cat.geo_departamento[uni.cat.geo_vraem]})


def _departamento_de(uni) -> np.ndarray:
    """Department of each taxpayer's domicile as an integer code (5 = Ayacucho), -1 for an ubigeo ``-``."""
    codigos = uni.cat.geo_departamento.astype(int)
    return np.where(uni.geo >= 0, codigos[np.maximum(uni.geo, 0)], -1)


_CACHE: list = [None, None]  # (weak reference to the population, shares of the published year)


def participaciones_publicadas(uni) -> dict[str, Fraction]:
    """The territory's share of each of its departments' declared sales in the published year, after the
    calibration of that year (the shares every other year's target uses)."""
    ref, shares = _CACHE
    if ref is not None and ref() is uni:
        return shares
    from .ventas import importes

    anio = pbi_publicado()[0]
    shares = participaciones(uni, anio, importes(uni, anio))
    _CACHE[:] = [weakref.ref(uni), shares]
    return shares


def participaciones(uni, anio: int, cents: np.ndarray) -> dict[str, Fraction]:
    """Share of the territory's formal firms in each territory department's formal-firm sales (exact)."""
    f = uni.formal(anio)
    dep = _departamento_de(uni)
    out = {}
    for d in departamentos_territorio(uni):
        en = int(cents[f & uni.vraem & (dep == int(d))].sum())
        todo = int(cents[f & (dep == int(d))].sum())
        if todo == 0:
            raise ValueError(f"{anio}: el departamento {d} no tiene ventas de empresas formales: la asignación del "
                             "PBI no tendría participación")
        out[d] = Fraction(en, todo)
    return out


def valor_territorio(vab: dict[str, Fraction], shares: dict[str, Fraction]) -> Fraction:
    """Σ_d VAB_d × share_d, in miles de soles (the pipeline's default allocation, exactly)."""
    return sum((vab[d] * s for d, s in shares.items()), Fraction(0))


def ajustar_ventas_fuera_del_territorio(uni, anio: int, cents: np.ndarray) -> None:
    """Scale (in place) the sales of the large formal firms outside the territory, in its departments, so that
    the default allocation of ``anio``'s departmental VAB equals the target (module docstring).

    Raises ``ValueError`` when no scaling inside the large-firm band reaches the target (a calibration error).
    """
    from .ventas import limites_centimos

    vab_anio = vab_departamental()[0].get(anio)
    if vab_anio is None:
        return
    anio_pub, valor_pub, pct_pub = pbi_publicado()
    deps = departamentos_territorio(uni)
    if anio == anio_pub:
        objetivo = Fraction(valor_pub) * 1000
    else:
        objetivo = valor_territorio(vab_anio, participaciones_publicadas(uni))
    f = uni.formal(anio)
    dep = _departamento_de(uni)
    piso, techo = (int(x) for x in limites_centimos(uni.cal.uit[anio])[3])
    partes = []
    for d in deps:
        fuera = f & ~uni.vraem & (dep == int(d))
        grandes = np.flatnonzero(fuera & (uni.estrato == 3))
        partes.append((float(vab_anio[d]), float(cents[f & uni.vraem & (dep == int(d))].sum()),
                       float(cents[fuera].sum() - cents[grandes].sum()), grandes))
    if not any(len(g) for *_, g in partes):
        raise ValueError(f"{anio}: no hay empresas grandes fuera del territorio en sus departamentos")

    def valor(lam: float) -> float:
        total = 0.0
        for v, st, fijo, g in partes:
            otros = fijo + float(np.clip(lam * cents[g], piso, techo).sum())
            total += v * st / (st + otros) if st + otros else 0.0
        return total

    meta = float(objetivo)
    exacto = True
    lo, hi = -40.0, 40.0  # log λ: every large firm at the floor … at the ceiling
    minimo, maximo = valor(np.exp(hi)), valor(np.exp(lo))
    if not minimo <= meta <= maximo:
        mensaje = (f"{anio}: PBI del territorio {meta / 1000:,.1f} M inalcanzable con las ventas de las empresas "
                   f"grandes fuera del territorio ({minimo / 1000:,.1f}–{maximo / 1000:,.1f} M; semilla {uni.seed}, "
                   f"escala {uni.cal.escala})")
        if anio == anio_pub and uni.cal.escala not in ESCALAS_SIN_GARANTIA:
            raise ValueError(mensaje)
        if anio == anio_pub:
            warnings.warn(mensaje + ": se usa el valor alcanzable más cercano; la conciliación lo mostrará",
                          stacklevel=2)
        meta, exacto = min(max(meta, minimo), maximo), False
    for _ in range(200):
        mid = (lo + hi) / 2
        if valor(np.exp(mid)) > meta:
            lo = mid
        else:
            hi = mid
    lam = np.exp((lo + hi) / 2)
    for *_, g in partes:
        cents[g] = np.clip(np.round(lam * cents[g]), piso, techo).astype(np.int64)
    if anio == anio_pub and exacto:
        v = valor_territorio(vab_anio, participaciones(uni, anio, cents))
        decimales = max(0, -valor_pub.as_tuple().exponent)
        pct = v / vab_departamental()[1][anio] * 100
        if not (redondea_a(v / 1000, valor_pub, decimales) and redondea_a(pct, pct_pub, max(0, -pct_pub.as_tuple().exponent))):
            raise AssertionError(f"{anio}: PBI del territorio {float(v) / 1000:,.3f} M ({float(pct):.3f} %) no "
                                 f"redondea a lo publicado")


__all__ = ["LIBRO", "ajustar_ventas_fuera_del_territorio", "escribir_pbi",
           "participaciones", "participaciones_publicadas", "vab_departamental", "valor_territorio"]
