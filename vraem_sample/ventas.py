"""Synthetic SUNAT declared annual net sales (``sunat/ventas/<año>/ventas_<año>.txt``, contract §3.1).

Pipe-delimited, latin-1, header ``RUC|EJERCICIO|VENTAS_NETAS``, soles with ``.`` and two decimals, empty
when not declared. Amounts are integer cents from start to end, so totals are exact and the text never
shows float noise.

Why amounts look the way they do:

* **Consistent with the stratum.** Each firm has a persistent Ley 30056 stratum and a position inside it;
  a year's amount is that position (with a little yearly noise) mapped into the stratum's band of that
  year's UIT, so a firm never crosses a band edge by accident and the strata the pipeline computes are
  the strata the generator intended (national ≈ 96 % micro).
* **The published total.** The VRAEM formal firms' sales of a calibrated year add up exactly to the
  target of :mod:`.calibracion` (the published S/ millions in the published year): the large firms, the
  only band without an upper edge, absorb the difference, each staying above 2,300 UIT.
* **The published GDP.** The formal firms outside the territory but in its departments are scaled last
  (their large firms only, :func:`ajustar_ventas_fuera_del_territorio`), so that the pipeline's
  default GDP allocation on INEI's real workbook gives the published S/ millions of 2007 and share.
* **Dirt, counted** (:func:`suciedad_ventas`): RUCs not in the Padrón, lines of the previous EJERCICIO,
  lines with a wrong field count and amounts that are not numbers — all on RUCs that no rule could turn
  into a formal firm, so they change no figure whatever a reader does with them.
"""

from __future__ import annotations

import warnings
import weakref
from fractions import Fraction
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .calibracion import pbi_publicado, redondea_a
from .importes import RUIDO_POSICION, centimos_por_estrato, importes_sueltos, limites_centimos
from .pbi import ESCALAS_SIN_GARANTIA, vab_departamental
from .padron import ACTIVO, AUSENTE, ROL_INACTIVO, V_CERO, V_NINGUNA, V_POSITIVA, V_VACIA, Universo, ruc_reservados

CABECERA = "RUC|EJERCICIO|VENTAS_NETAS"

#: Ventas-file dirt per year by scale.
SUCIEDAD_VENTAS = {
    "national": {"ruc_fuera_padron_pct": 0.4, "ejercicio_anterior": 20, "campos_errados": 2, "importe_no_numerico": 2},
    "small": {"ruc_fuera_padron_pct": 0.4, "ejercicio_anterior": 3, "campos_errados": 1, "importe_no_numerico": 1},
}


def importes(uni: Universo, anio: int) -> np.ndarray:
    """Declared sales (cents) of every taxpayer in ``anio``; 0 where the ventas status is not positive.

    The VRAEM formal firms of a year with a target are then adjusted so that their total is exact: the
    large firms share the difference in proportion to their own draws, each kept above the large-firm
    floor. Then the large firms outside the VRAEM districts in the VRAEM departments are scaled so that the
    GDP allocation lands on its target (:mod:`.pbi`). Raises if a target cannot be met inside the bands (a
    calibration error, not a data one).
    """
    t = uni.t(anio)
    uit = uni.cal.uit[anio]
    rng = np.random.default_rng([uni.seed, anio, 5])
    u = np.clip(uni.posicion + RUIDO_POSICION * rng.standard_normal(len(uni.posicion)), 1e-4, 1 - 1e-4)
    cents = centimos_por_estrato(uni.estrato, u, uit, uni.vraem)
    cents[uni.ventas[:, t] != V_POSITIVA] = 0
    objetivo = uni.cal.vraem_ventas_centimos.get(anio)
    if objetivo is not None:
        f = uni.formal(anio) & uni.vraem
        g = f & (uni.estrato == 3)
        ng = int(g.sum())
        piso = int(limites_centimos(uit)[3, 0])
        resto = int(objetivo) - int(cents[f & ~g].sum())
        exceso = resto - ng * piso
        if ng == 0 or exceso < 0:
            raise ValueError(
                f"{anio}: ventas VRAEM objetivo S/ {objetivo / 1e8:,.2f} M inalcanzable "
                f"({ng} grandes, resto S/ {resto / 1e8:,.2f} M)"
            )
        w = (cents[g] - piso + 1).astype(float)
        reparto = np.floor(exceso * (w / w.sum())).astype(np.int64)
        reparto[np.argmax(w)] += exceso - int(reparto.sum())
        cents[g] = piso + reparto
        assert int(cents[f].sum()) == int(objetivo)
    ajustar_ventas_fuera_del_territorio(uni, anio, cents)  # outside the territory only: its total stays exact
    return cents


def _texto_importe(cents: np.ndarray) -> pa.Array:
    entero = pc.cast(pa.array(cents // 100), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(cents % 100), pa.string()), width=2, padding="0")
    return pc.binary_join_element_wise(entero, frac, ".")


def escribir_ventas(uni: Universo, raw_dir: Path, anio: int) -> Path:
    """Write ``raw_dir/sunat/ventas/<anio>/ventas_<anio>.txt``; returns its path.

    One line per taxpayer of the December cut whose ventas status is positive, zero or empty (the others
    have no line), plus the planted Padrón RUCs (positive, so skipping the check digit would count them),
    RUCs absent from the Padrón, a few lines of the previous EJERCICIO and a few broken lines.
    """
    t = uni.t(anio)
    uit = uni.cal.uit[anio]
    cents = importes(uni, anio)
    estado = uni.estado[:, t]
    estatus = uni.ventas[:, t]
    con_linea = (estado != AUSENTE) & (estatus != V_NINGUNA)
    rng = np.random.default_rng([uni.seed, anio, 9])
    cuantos = SUCIEDAD_VENTAS[uni.cal.escala]
    bloque = (anio - 2000) * 40 + 12 * 3 + 2

    ruc = [uni.ruc[con_linea]]
    ejercicio = [np.full(int(con_linea.sum()), anio, dtype=np.int64)]
    monto = [cents[con_linea]]
    vacio = [estatus[con_linea] == V_VACIA]
    assert np.all(monto[0][estatus[con_linea] == V_CERO] == 0)
    conteo = {
        "positivas": int((estatus[con_linea] == V_POSITIVA).sum()),
        "cero": int((estatus[con_linea] == V_CERO).sum()),
        "vacias": int(vacio[0].sum()),
    }

    # Planted Padrón RUCs (bad check digit, malformed lines) with positive sales.
    s = uni.suciedad(anio, 12)
    if s.ventas:
        r, c = zip(*s.ventas, strict=True)
        ruc.append(np.array(r, dtype=np.int64))
        ejercicio.append(np.full(len(r), anio, dtype=np.int64))
        monto.append(np.array(c, dtype=np.int64))
        vacio.append(np.zeros(len(r), dtype=bool))
    conteo["ruc_suciedad_padron"] = len(s.ventas)

    # RUCs that are not in the Padrón at all.
    k = int(round(cuantos["ruc_fuera_padron_pct"] / 100 * conteo["positivas"]))
    k10 = k * 3 // 4
    fuera = np.concatenate([ruc_reservados(10, bloque, k10, uni.seed), ruc_reservados(20, bloque, k - k10, uni.seed)])
    ruc.append(fuera)
    ejercicio.append(np.full(k, anio, dtype=np.int64))
    monto.append(importes_sueltos(rng, uit, k))
    vacio.append(np.zeros(k, dtype=bool))
    conteo["ruc_fuera_padron"] = k

    # Lines of the previous EJERCICIO (late or rectified returns) for ACTIVO firms without a line this year.
    if t > 0:
        candidatas = np.flatnonzero((estado == ACTIVO) & (uni.rol == ROL_INACTIVO) & (estatus == V_NINGUNA))
        k = min(cuantos["ejercicio_anterior"], len(candidatas))
        elegidas = np.sort(rng.choice(candidatas, size=k, replace=False))
        ruc.append(uni.ruc[elegidas])
        ejercicio.append(np.full(k, anio - 1, dtype=np.int64))
        monto.append(importes_sueltos(rng, uni.cal.uit[anio - 1], k))
        vacio.append(np.zeros(k, dtype=bool))
        conteo["ejercicio_anterior"] = k

    ruc_a = np.concatenate(ruc)
    orden = np.argsort(ruc_a, kind="stable")
    ruc_a = ruc_a[orden]
    ej_a = np.concatenate(ejercicio)[orden]
    monto_a = np.concatenate(monto)[orden]
    vacio_a = np.concatenate(vacio)[orden]
    importe = pc.if_else(pa.array(vacio_a), pa.scalar(""), _texto_importe(monto_a))
    importe = pc.binary_join_element_wise(importe, pa.scalar("\n"), "")
    lineas = pc.binary_join_element_wise(
        pc.cast(pa.array(ruc_a), pa.string()), pc.cast(pa.array(ej_a), pa.string()), importe, "|"
    ).cast(pa.large_string())

    # Broken lines on RUCs outside the Padrón: wrong field count, amounts that are not numbers.
    rotos = ruc_reservados(20, bloque + 1, cuantos["campos_errados"] + cuantos["importe_no_numerico"], uni.seed)
    insertos: list[tuple[int, bytes, str]] = []
    for j, r in enumerate(rotos):
        if j < cuantos["campos_errados"]:
            texto = f"{r}|{anio}" if j % 2 == 0 else f"{r}|{anio}|1520.00|RECTIFICATORIA"
            tipo = "campos_errados"
        else:
            texto = f"{r}|{anio}|1,234.50" if j % 2 == 0 else f"{r}|{anio}|S/ 850.00"
            tipo = "importe_no_numerico"
        insertos.append((int(rng.integers(0, len(lineas) + 1)), texto.encode("latin-1"), tipo))
        conteo[tipo] = conteo.get(tipo, 0) + 1
    insertos.sort(key=lambda x: x[0])

    carpeta = Path(raw_dir) / "sunat" / "ventas" / str(anio)
    carpeta.mkdir(parents=True, exist_ok=True)
    ruta = carpeta / f"ventas_{anio}.txt"
    cuerpo = lineas
    offsets = np.frombuffer(cuerpo.buffers()[1], dtype=np.int64)[cuerpo.offset : cuerpo.offset + len(cuerpo) + 1]
    datos = memoryview(cuerpo.buffers()[2])
    with open(ruta, "wb") as f:
        f.write((CABECERA + "\n").encode("latin-1"))
        previo = 0
        for pos, linea, _ in [*insertos, (len(cuerpo), None, "")]:
            f.write(datos[int(offsets[previo]) : int(offsets[pos])])
            if linea is not None:
                f.write(linea + b"\n")
            previo = pos
    conteo["lineas_datos"] = len(cuerpo) + len(insertos)
    uni._suciedad[("ventas", anio)] = conteo
    return ruta


def conteo_ventas(uni: Universo, anio: int) -> dict[str, int]:
    """Kinds of lines in the ventas file written for ``anio`` by this population (after :func:`escribir_ventas`)."""
    return dict(uni._suciedad[("ventas", anio)])


__all__ = [
    "CABECERA",
    "SUCIEDAD_VENTAS",
    "ajustar_ventas_fuera_del_territorio",
    "conteo_ventas",
    "escribir_ventas",
    "importes",
    "participaciones",
    "participaciones_publicadas",
    "valor_territorio",
]


# --- the GDP allocation's calibration (the sample's GDP lands on the published figure) ------------------------

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


