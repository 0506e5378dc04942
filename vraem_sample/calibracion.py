"""Every count the firm generator needs, derived at run time from the published edition.

The synthetic SUNAT files exist so that a refresh on them lands on the figures that PRODUCE printed in
*Desempeño económico del VRAEM 2024*. Those figures live in one place only,
``vraem_pipeline/reference/publicado_vraem_2024.csv``; this module reads them and turns them into integer
targets (firms per year, per stratum, sector and department, total declared sales). Nothing published is
typed here: when the CSV changes, the targets follow.

What the publication does not say has to be chosen. Each such choice is a named constant below with the
reason for it, so that a reader can tell a published number from a plausible one:

* ``PERFIL_VAR_VRAEM``: the shape of the 2020–2023 annual changes (a 2020 dip, then recovery). Only its
  shape is a choice: it is shifted so that the mean of the five annual changes equals the published
  "promedio anual" and the last year is pinned by the published annual change.
* ``VAR_NACIONAL``: national formal-firm changes 2020–2024; the 2024 level itself is the published VRAEM
  count divided by the published VRAEM share.
* ``SECTOR_VRAEM_OTROS``: how the share left by commerce and services splits over the five other sectors.
* ``ESTRATO_NACIONAL``, ``SECTOR_NACIONAL``, ``PESO_DEPARTAMENTO_NACIONAL``: the national mix (only totals
  are calibrated nationally).
* ``TASA_SALIDA``, ``FONDO_*``: firm exits and the non-formal rows of the Padrón.
* sales of earlier years: the 2024 total scaled by the firm count and the UIT (see ``_ventas_objetivo``).

``--scale small`` divides every count by 100 and uses largest-remainder apportionment instead of the exact
published rounding (which is impossible at ~170 firms: 0.1 % of 172 firms is 0.17 firms).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import pandas as pd

from vraem_pipeline.core.settings import PACKAGE_REFERENCE, REPO_ROOT

# --------------------------------------------------------------------------------------------------------
# Reference files
# --------------------------------------------------------------------------------------------------------

_PAQUETE_REFERENCIA = PACKAGE_REFERENCE  # the pipeline's shipped reference tables
_REPO = REPO_ROOT
#: Where a reference table is looked for, in order. The package copy wins; the shared folder beside the
#: repository is only a fallback while a copy is missing. Dropping the fallback is deleting one line.
_CARPETAS_REFERENCIA = (
    _PAQUETE_REFERENCIA,
    _REPO.parent / "shared" / "reference",
)


def ruta_referencia(nombre: str) -> Path:
    """Path of a reference CSV (``uit.csv``, ``ubigeo_inei.csv``…): the package copy, else the shared one.

    One function so that every generator module reads reference data the same way, and switching the
    source is a one-line change of ``_CARPETAS_REFERENCIA``.
    """
    for carpeta in _CARPETAS_REFERENCIA:
        ruta = carpeta / nombre
        if ruta.is_file():
            return ruta
    raise FileNotFoundError(f"tabla de referencia {nombre!r} no encontrada en {[str(c) for c in _CARPETAS_REFERENCIA]}")


def leer_referencia(nombre: str) -> pd.DataFrame:
    """A reference CSV with every column as string: codes keep their leading zeros (``050401``, ``0111``)."""
    return pd.read_csv(ruta_referencia(nombre), dtype=str, keep_default_na=False)


@lru_cache(maxsize=1)
def _publicado_cache() -> pd.DataFrame:
    return leer_referencia("publicado_vraem_2024.csv")


def leer_publicado() -> pd.DataFrame:
    """The published figures (``publicado_vraem_2024.csv``), every column as text (exact decimals).

    A fresh copy each call: callers may edit it (tests do) without touching anyone else's targets.
    """
    return _publicado_cache().copy()


def _publicado(indicador: str, categoria: str = "") -> tuple[int, Decimal]:
    """(year, value) of one published figure; the value as a Decimal so that a printed 0.1 stays exactly 1/10."""
    df = _publicado_cache()
    fila = df[(df["indicador"] == indicador) & (df["categoria"] == categoria)]
    if len(fila) != 1:
        raise KeyError(
            f"publicado_vraem_2024.csv: se esperaba una fila para {indicador}/{categoria!r}, hay {len(fila)}"
        )
    return int(fila["anio"].iloc[0]), Decimal(fila["valor"].iloc[0])


def _publicado_por_categoria(indicador: str) -> dict[str, Decimal]:
    df = _publicado_cache()
    filas = df[df["indicador"] == indicador]
    if filas.empty:
        raise KeyError(f"publicado_vraem_2024.csv: no hay filas para {indicador}")
    return {c: Decimal(v) for c, v in zip(filas["categoria"], filas["valor"], strict=True)}


@lru_cache(maxsize=1)
def uit_por_anio() -> dict[int, int]:
    """UIT in soles by year (``uit.csv``): the Ley 30056 strata are multiples of the year's UIT."""
    df = leer_referencia("uit.csv")
    return {int(a): int(u) for a, u in zip(df["anio"], df["uit_soles"], strict=True)}


# --------------------------------------------------------------------------------------------------------
# Integer allocation
# --------------------------------------------------------------------------------------------------------


def _fraccion(x: float | int | str | Decimal) -> Fraction:
    """Exact value of a printed percentage: 45.1 means 451/10, not the nearest binary float."""
    return Fraction(Decimal(str(x)))


def allocate(total: int, pcts, decimals: int = 1):
    """Integer counts summing to ``total`` whose percentages each round to the given published value.

    A publication rounds every share on its own, so the shares may add to 100.1 (the VRAEM departments do)
    or 99.9, and the naive ``round(total * pct / 100)`` counts then miss ``total`` by a few. Here every count is
    kept strictly inside its rounding interval ``(pct - h, pct + h)`` with ``h`` half a unit of the last
    decimal — strictly, so the count rounds to the published value under half-up and half-even alike — and
    the counts are moved one at a time from the nearest integers to ``total * pct / 100`` until they sum to
    ``total``. Each move is the one that increases ``sum((count - ideal)**2 / ideal)`` least, so a surplus
    such as 100.1 % is taken from the categories in proportion to their size (as if the shares were scaled
    by 100/100.1) instead of pushing one category to the edge of its interval; ties go to the larger share,
    then to the earlier position.

    Hand-worked: ``allocate(3000, [45.1, 35.0, 20.0])``. The ideals are 1353, 1050, 600 (sum 3003) and
    each count may move by one (45.1 % of 3000 allows 1352–1354). Three units must go; the cheapest cut is
    on the largest (cost 1/1353), then 1050 (1/1050 < 3/1353), then 600 (1/600 < 3/1353): the answer is
    [1352, 1049, 599].

    ``pcts`` is a sequence (a list comes back) or a mapping (a dict with the same keys comes back).
    Raises ``ValueError`` when no such counts exist, e.g. ``allocate(1000, [45.1, 35.0, 20.0])``: at 1,000
    units each share pins a single count and those add to 1,001.
    """
    if total < 0:
        raise ValueError(f"total negativo: {total}")
    claves = list(pcts.keys()) if isinstance(pcts, Mapping) else None
    valores = [_fraccion(p) for p in (pcts.values() if claves is not None else pcts)]
    h = Fraction(1, 2 * 10**decimals)
    lo: list[int] = []
    hi: list[int] = []
    ideal: list[Fraction] = []
    for p in valores:
        x = p * total / 100
        ideal.append(x)
        inferior = (p - h) * total / 100
        superior = (p + h) * total / 100
        a = 0 if p - h < 0 else math.floor(inferior) + 1
        b = math.ceil(superior) - 1
        a, b = max(a, 0), min(b, total)
        if a > b:
            raise ValueError(
                f"allocate: con total={total} ningún entero redondea a {float(p)} % con {decimals} decimales"
            )
        lo.append(a)
        hi.append(b)
    if not (sum(lo) <= total <= sum(hi)):
        raise ValueError(
            f"allocate: no hay conteos que sumen {total} y redondeen a {[float(p) for p in valores]} "
            f"(posibles: {sum(lo)}..{sum(hi)})"
        )
    cuentas = [min(max(round(x), a), b) for x, a, b in zip(ideal, lo, hi, strict=True)]
    diferencia = total - sum(cuentas)
    paso = 1 if diferencia > 0 else -1
    while diferencia != 0:
        mejor = None
        for i, (c, x) in enumerate(zip(cuentas, ideal, strict=True)):
            nuevo = c + paso
            if not (lo[i] <= nuevo <= hi[i]):
                continue
            escala = x if x > 0 else Fraction(1, 10**6)
            costo = ((nuevo - x) ** 2 - (c - x) ** 2) / escala
            clave = (costo, -valores[i], i)
            if mejor is None or clave < mejor[0]:
                mejor = (clave, i)
        assert mejor is not None  # guaranteed by the sum(lo)..sum(hi) check above
        cuentas[mejor[1]] += paso
        diferencia -= paso
    return dict(zip(claves, cuentas, strict=True)) if claves is not None else cuentas


def apportion(total: int, pesos):
    """Largest-remainder (Hamilton) apportionment of ``total`` by non-negative weights.

    Used where the published rounding cannot be met (``--scale small``) or is not required (plausible mixes):
    the counts sum to ``total`` and each is within one unit of its exact quota. Same container rules as
    :func:`allocate`.
    """
    claves = list(pesos.keys()) if isinstance(pesos, Mapping) else None
    w = [_fraccion(p) for p in (pesos.values() if claves is not None else pesos)]
    suma = sum(w)
    if suma <= 0 or any(x < 0 for x in w):
        raise ValueError("apportion: pesos no negativos con suma positiva")
    cuotas = [x * total / suma for x in w]
    cuentas = [math.floor(q) for q in cuotas]
    resto = total - sum(cuentas)
    orden = sorted(range(len(w)), key=lambda i: (-(cuotas[i] - cuentas[i]), -w[i], i))
    for i in orden[:resto]:
        cuentas[i] += 1
    return dict(zip(claves, cuentas, strict=True)) if claves is not None else cuentas


def redondea_a(valor: Fraction | float, publicado: Decimal | float, decimals: int = 1) -> bool:
    """True when ``valor`` lies strictly inside the rounding interval of the published ``publicado``."""
    p = _fraccion(publicado)
    h = Fraction(1, 2 * 10**decimals)
    v = valor if isinstance(valor, Fraction) else _fraccion(valor)
    return p - h < v < p + h


# --------------------------------------------------------------------------------------------------------
# Derived (non-published) choices
# --------------------------------------------------------------------------------------------------------

#: Shape of the VRAEM annual changes 2020–2023, in %: a 2020 fall (the pandemic year closed or suspended
#: many micro firms), a 2021 rebound and a slower 2022–2023. Only the shape is chosen: every value is
#: shifted by the same amount so that the mean of the five changes 2020–2024 equals the published mean.
PERFIL_VAR_VRAEM: dict[int, float] = {2020: -4.0, 2021: 5.0, 2022: 3.5, 2023: 3.0}

#: National formal-firm annual changes, in %: a milder 2020 fall than the VRAEM's and a steadier growth
#: afterwards. Chosen so that the VRAEM share rounds to the published share in every year 2019–2024
#: (checked in :func:`calibrar`), not only in 2024.
VAR_NACIONAL: dict[int, float] = {2020: -2.0, 2021: 6.0, 2022: 4.5, 2023: 4.0, 2024: 5.0}

#: Split of the VRAEM firms that are neither commerce nor services (the publication gives only
#: those two). The VRAEM is a coffee/cocoa valley: agriculture and small food/wood manufacturing lead,
#: construction follows public works, mining is small, fishing is fish farming (trout, tilapia).
#: The five values are only relative weights: the remainder is apportioned with them and then ``allocate``
#: checks that every share rounds to the one decimal derived here.
SECTOR_VRAEM_OTROS: dict[str, float] = {
    "agropecuario": 4.1,
    "manufactura": 4.5,
    "construccion": 3.2,
    "mineria": 1.1,
    "pesca": 0.5,
}

#: National stratum mix (%), close to PRODUCE's national tables (~96 % micro, ~0.5 % large).
ESTRATO_NACIONAL: dict[str, float] = {"micro": 96.0, "pequena": 3.4, "mediana": 0.1, "grande": 0.5}

#: National sector mix (%), close to PRODUCE's "Mipyme formales según sector económico".
SECTOR_NACIONAL: dict[str, float] = {
    "comercio": 46.0,
    "servicios": 41.5,
    "manufactura": 8.0,
    "construccion": 2.6,
    "agropecuario": 1.1,
    "mineria": 0.6,
    "pesca": 0.2,
}

#: Relative weight of each department in the national count of formal firms outside the VRAEM districts
#: (Lima concentrates close to half of Peru's formal firms). Only the distribution of synthetic rows
#: depends on it; no published figure does.
PESO_DEPARTAMENTO_NACIONAL: dict[str, float] = {
    "15": 44.0, "04": 6.0, "13": 5.5, "20": 4.5, "14": 3.5, "08": 3.5, "12": 3.5, "07": 3.5, "11": 2.5,
    "02": 2.5, "06": 2.3, "21": 2.3, "22": 2.0, "16": 1.8, "05": 1.3, "23": 1.5, "10": 1.4, "25": 1.3,
    "03": 0.8, "18": 0.7, "24": 0.7, "01": 0.8, "09": 0.5, "19": 0.6, "17": 0.6,
}

#: Share of the previous year's formal firms that stop being formal (baja, suspension, no more sales).
#: 2020 is high (pandemic); the exits make room for entrants, so that firms keep their RUC across years
#: while the stock moves along the calibrated path.
TASA_SALIDA: dict[int, float] = {2020: 0.055, 2021: 0.015, 2022: 0.015, 2023: 0.015, 2024: 0.015}

#: Non-formal rows present from the first year, as a share of the first year's formal firms:
#: old bajas, dormant ACTIVO firms (zero or no declared sales), suspended ones, and taxpayers of
#: non-business types (persona natural sin negocio, asociaciones, public bodies…). Together with the
#: exits and the pre-entry rows they make the Padrón ~21 % (2019) to ~30 % (2024) larger than the count of
#: formal firms, the range asked for in the brief.
FONDO_INICIAL: dict[str, float] = {"baja_antigua": 0.10, "inactivo": 0.04, "suspendido": 0.01, "excluido": 0.06}
#: New non-business registrations each year, as a share of that year's formal firms.
FONDO_EXCLUIDO_NUEVO = 0.004
#: Share of a year's entrants whose RUC already shows, ACTIVO without sales, in the previous year's cut.
PRE_INSCRITOS = 0.30

ESCALAS = {"national": 1, "small": 100}
#: Scales that are another scale's sample with only the Padrón cuts made bigger: ``real`` is the national
#: sample whose December cuts are padded with filler lines (never formal firms) up to SUNAT's real size
#: (``padron.LINEAS_CORTE_REAL``). They have no targets of their own, so they get the other's calibration
#: and every figure computed from them is the other scale's.
ESCALA_DE_CALIBRACION = {"real": "national"}
ESTRATOS = ("micro", "pequena", "mediana", "grande")
SECTORES = ("agropecuario", "pesca", "mineria", "manufactura", "construccion", "comercio", "servicios")


# --------------------------------------------------------------------------------------------------------
# Calibration
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flujo:
    """Formal-firm flows of one segment (VRAEM districts, or the rest of the country) per year."""

    formales: dict[int, int]
    salidas: dict[int, int]
    entradas: dict[int, int]


@dataclass(frozen=True)
class Calibracion:
    """Integer targets for the firm generator; see the module docstring for which are published."""

    escala: str
    anios: tuple[int, ...]
    anio_publicado: int
    vraem_formales: dict[int, int]
    nacional_formales: dict[int, int]
    #: exact counts of the VRAEM formal firms of ``anio_publicado`` (published rounding at national scale)
    vraem_por_estrato: dict[str, int]
    vraem_por_sector: dict[str, int]
    vraem_por_departamento: dict[str, int]
    #: shares used to draw the attributes of every other firm (VRAEM firms of other years, national firms)
    estrato_pct_vraem: dict[str, float]
    sector_pct_vraem: dict[str, float]
    departamento_pct_vraem: dict[str, float]
    estrato_pct_nacional: dict[str, float]
    sector_pct_nacional: dict[str, float]
    #: total declared sales of the VRAEM formal firms, in cents; ``None`` = no target (small scale)
    vraem_ventas_centimos: dict[int, int | None]
    uit: dict[int, int]
    flujo_vraem: Flujo
    flujo_resto: Flujo
    fondo: dict[str, dict[str, int]] = field(default_factory=dict)
    fondo_excluido_nuevo: dict[str, dict[int, int]] = field(default_factory=dict)


def _var_pct(nuevo: int, viejo: int) -> Fraction:
    return (Fraction(nuevo, viejo) - 1) * 100


def _serie_vraem(n_final: int, anio_final: int, var_final: Decimal, media: Decimal) -> dict[int, int]:
    """VRAEM formal firms 2019…anio_final from the published level, last change and mean change.

    The year before the last is the integer nearest to ``n_final / (1 + var/100)`` whose change rounds to
    the published one. The earlier changes take the shape of ``PERFIL_VAR_VRAEM`` shifted so that the mean
    of all changes equals the published mean exactly; levels are rounded going backwards and the result is
    checked (and the first level nudged by one firm at a time if rounding pushed the mean out).
    """
    anios_perfil = sorted(PERFIL_VAR_VRAEM)
    primero = anios_perfil[0] - 1
    if anios_perfil[-1] != anio_final - 1:
        raise ValueError("PERFIL_VAR_VRAEM debe cubrir los años anteriores al publicado")
    n_prev = round(Fraction(n_final) / (1 + _fraccion(var_final) / 100))
    for delta in (0, 1, -1, 2, -2):
        if redondea_a(_var_pct(n_final, n_prev + delta), var_final):
            n_prev += delta
            break
    else:
        raise ValueError("no hay un nivel previo cuyo cambio redondee al publicado")
    serie = {anio_final: n_final, anio_final - 1: n_prev}
    n_cambios = anio_final - primero
    resto = _fraccion(media) * n_cambios - _var_pct(n_final, n_prev)
    perfil = {a: _fraccion(PERFIL_VAR_VRAEM[a]) for a in anios_perfil}
    ajuste = (resto - sum(perfil.values())) / len(perfil)
    for a in sorted(anios_perfil[1:], reverse=True):  # changes of years primero+2 … anio_final-1
        serie[a - 1] = round(Fraction(serie[a]) / (1 + (perfil[a] + ajuste) / 100))
    serie[primero] = round(Fraction(serie[primero + 1]) / (1 + (perfil[primero + 1] + ajuste) / 100))

    def media_de(s: dict[int, int]) -> Fraction:
        return sum(_var_pct(s[a], s[a - 1]) for a in range(primero + 1, anio_final + 1)) / n_cambios

    for _paso in range(200):
        m = media_de(serie)
        if redondea_a(m, media, 1) and abs(m - _fraccion(media)) < Fraction(1, 100):
            return dict(sorted(serie.items()))
        serie[primero] += 1 if m > _fraccion(media) else -1
    raise ValueError("no se pudo ajustar la serie VRAEM a la media publicada")


def _ventas_objetivo(
    vraem: dict[int, int], uit: dict[int, int], anio_publicado: int, ventas_millones: Decimal
) -> dict[int, int]:
    """Target total sales (cents) of the VRAEM formal firms per year.

    The published year gets the published S/ millions exactly (the centre of its rounding interval).
    Earlier years are not published: they scale the published total by the firm count and by the UIT,
    i.e. the average firm's nominal sales move with the UIT (which tracks prices). Plausible, documented,
    and it keeps every year's total far from the stratum bounds that the generator must respect.
    """
    base = int(ventas_millones * 1_000_000 * 100)
    return {
        a: round(Fraction(base) * Fraction(vraem[a], vraem[anio_publicado]) * Fraction(uit[a], uit[anio_publicado]))
        for a in vraem
    }


def _flujo(formales: dict[int, int]) -> Flujo:
    """Exits and entries that carry one segment's formal firms along their path (entries never negative)."""
    anios = sorted(formales)
    salidas = {anios[0]: 0}
    entradas = {anios[0]: formales[anios[0]]}
    for a in anios[1:]:
        s = round(TASA_SALIDA[a] * formales[a - 1])
        e = formales[a] - formales[a - 1] + s
        if e < 0:
            raise ValueError(f"TASA_SALIDA[{a}] demasiado baja: entradas negativas ({e})")
        salidas[a], entradas[a] = s, e
    return Flujo(dict(formales), salidas, entradas)


def calibrar(scale: str = "national", years=range(2019, 2025)) -> Calibracion:
    """Integer targets for ``scale`` ("national", "small", or "real" = national's); the path always covers
    2019–2024.

    ``years`` only validates what the caller wants written: the simulation runs over the report's whole
    window so that a firm keeps its RUC, location and activity whatever years are written.
    """
    if scale not in ESCALAS and scale not in ESCALA_DE_CALIBRACION:
        raise ValueError(f"escala desconocida {scale!r}: use una de {sorted(ESCALAS | ESCALA_DE_CALIBRACION)}")
    scale = ESCALA_DE_CALIBRACION.get(scale, scale)
    divisor = ESCALAS[scale]
    anio_pub, n_pub = _publicado("empresas_formales")
    _, var_pub = _publicado("empresas_var_anual_pct")
    _, media_pub = _publicado("empresas_var_promedio_anual_pct")
    _, share_pub = _publicado("empresas_participacion_nacional_pct")
    _, ventas_pub = _publicado("ventas_millones_soles")
    estrato_pub = _publicado_por_categoria("empresas_por_estrato_pct")
    sector_pub = _publicado_por_categoria("empresas_por_sector_pct")
    depto_pub = _publicado_por_categoria("empresas_por_departamento_pct")

    primero = min(PERFIL_VAR_VRAEM) - 1
    anios_sim = tuple(range(primero, anio_pub + 1))
    pedidos = tuple(years)
    if not pedidos or not set(pedidos) <= set(anios_sim):
        raise ValueError(f"años {pedidos} fuera de la ventana calibrada {anios_sim[0]}–{anios_sim[-1]}")

    vraem = _serie_vraem(int(n_pub), anio_pub, var_pub, media_pub)
    nacional = {anio_pub: round(Fraction(int(n_pub)) / (_fraccion(share_pub) / 100))}
    for a in range(anio_pub, primero, -1):
        nacional[a - 1] = round(Fraction(nacional[a]) / (1 + _fraccion(VAR_NACIONAL[a]) / 100))
    nacional = dict(sorted(nacional.items()))
    for a in anios_sim:
        share = Fraction(vraem[a], nacional[a]) * 100
        if not redondea_a(share, share_pub):
            raise ValueError(f"{a}: participación VRAEM {float(share):.3f} % no redondea a {share_pub} %")
    uit = uit_por_anio()
    ventas = _ventas_objetivo(vraem, uit, anio_pub, ventas_pub)

    # Sector shares: the published two plus the derived split of what they leave.
    resto_pct = Decimal(100) - sum(sector_pub.values())
    otros = apportion(int(resto_pct * 10), SECTOR_VRAEM_OTROS)
    sector_pct = {k: Decimal(v) / 10 for k, v in otros.items()} | dict(sector_pub)
    sector_pct = {s: sector_pct[s] for s in SECTORES}
    estrato_pct = {e: estrato_pub[e] for e in ESTRATOS}
    depto_pct = dict(depto_pub)

    if divisor == 1:
        por_estrato = allocate(vraem[anio_pub], estrato_pct, 1)
        por_sector = allocate(vraem[anio_pub], sector_pct, 1)
        por_depto = allocate(vraem[anio_pub], depto_pct, 1)
        ventas_obj: dict[int, int | None] = dict(ventas)
    else:
        vraem = {a: round(Fraction(v, divisor)) for a, v in vraem.items()}
        nacional = {a: round(Fraction(v, divisor)) for a, v in nacional.items()}
        por_estrato = apportion(vraem[anio_pub], estrato_pct)
        por_sector = apportion(vraem[anio_pub], sector_pct)
        por_depto = apportion(vraem[anio_pub], depto_pct)
        ventas_obj = {a: None for a in vraem}

    flujo_v = _flujo(vraem)
    flujo_r = _flujo({a: nacional[a] - vraem[a] for a in anios_sim})
    fondo = {}
    nuevos = {}
    for nombre, flujo in (("vraem", flujo_v), ("resto", flujo_r)):
        f0 = flujo.formales[primero]
        fondo[nombre] = {k: round(v * f0) for k, v in FONDO_INICIAL.items()}
        nuevos[nombre] = {a: round(FONDO_EXCLUIDO_NUEVO * flujo.formales[a]) for a in anios_sim[1:]}

    return Calibracion(
        escala=scale,
        anios=anios_sim,
        anio_publicado=anio_pub,
        vraem_formales=vraem,
        nacional_formales=nacional,
        vraem_por_estrato=por_estrato,
        vraem_por_sector=por_sector,
        vraem_por_departamento=por_depto,
        estrato_pct_vraem={k: float(v) for k, v in estrato_pct.items()},
        sector_pct_vraem={k: float(v) for k, v in sector_pct.items()},
        departamento_pct_vraem={k: float(v) for k, v in depto_pct.items()},
        estrato_pct_nacional=dict(ESTRATO_NACIONAL),
        sector_pct_nacional=dict(SECTOR_NACIONAL),
        vraem_ventas_centimos=ventas_obj,
        uit={a: uit[a] for a in anios_sim},
        flujo_vraem=flujo_v,
        flujo_resto=flujo_r,
        fondo=fondo,
        fondo_excluido_nuevo=nuevos,
    )


def pbi_publicado() -> tuple[int, Decimal, Decimal]:
    """(year, the territory's value added in S/ millones de 2007, its % of national GDP) as printed: the targets
    of the sales outside the territory (:mod:`.pbi`), which the GDP allocation turns into those figures."""
    anio, valor = _publicado("pbi_vraem_millones_soles_2007")
    _, pct = _publicado("pbi_participacion_nacional_pct")
    return anio, valor, pct


def resumen(cal: Calibracion) -> str:
    """One-screen text of the derived targets, for the benchmark and for a curious reader."""
    filas = [f"escala={cal.escala} año publicado={cal.anio_publicado}"]
    for a in cal.anios:
        v, n = cal.vraem_formales[a], cal.nacional_formales[a]
        var = "" if a == cal.anios[0] else f" var={float(_var_pct(v, cal.vraem_formales[a - 1])):+.2f}%"
        ventas = cal.vraem_ventas_centimos[a]
        vt = "" if ventas is None else f" ventas=S/{ventas / 1e8:,.2f} M"
        filas.append(f"  {a}: VRAEM={v:,} nacional={n:,} share={100 * v / n:.3f}%{var}{vt}")
    filas.append(f"  estrato {cal.vraem_por_estrato}")
    filas.append(f"  sector {cal.vraem_por_sector}")
    filas.append(f"  departamento {cal.vraem_por_departamento}")
    return "\n".join(filas)


__all__ = [
    "ESCALA_DE_CALIBRACION",
    "Calibracion",
    "Flujo",
    "allocate",
    "apportion",
    "calibrar",
    "leer_publicado",
    "leer_referencia",
    "pbi_publicado",
    "redondea_a",
    "resumen",
    "ruta_referencia",
    "uit_por_anio",
]

