"""Synthetic SBS debtor balances (``sbs/deudores/<año>/deudores_<año>12.txt``, contract §3.2), 2019–2024.

Pipe-delimited, latin-1, header ``PERIODO|TIPO_DOCUMENTO|NUMERO_DOCUMENTO|CODIGO_ENTIDAD|TIPO_CREDITO|SALDO_SOLES``,
one row per debtor, entity and SBS credit type, balances at December in soles with two decimals.

Why the file looks the way it does:

* **The same taxpayers as the Padrón.** Debtors are drawn from the firm generator's population
  (:class:`.padron.Universo`, rebuilt from the same seed and scale), so a RUC or the RUC 10 of a DNI finds its
  row — and its district — in the year's cut. A debtor's propensity to borrow and whether a person reports
  his DNI or his RUC 10 are fixed per taxpayer, so most debtors are the same from year to year.
* **Exact by construction.** The balance of the business credit (types 06–10) of debtors in the territory's
  districts is an exact number of cents per year, department and type: the published 2019 and 2024 totals,
  the published mean of annual changes, and the published 2024 split by type and by department (the same
  split every year). Only the published figures are read (``publicado_vraem_2024.csv``); every other number
  is a named choice below.
* **Traps, counted.** Business credit of taxpayers outside the territory's districts (also in its
  departments: Huancayo, Andahuaylas…), consumer and mortgage credit of territory persons (Huancavelica has
  only that, so its business credit is 0 as printed), debtors who cannot be placed (a DNI with no RUC 10, a
  RUC absent from the cut, a cut row with ``-`` as UBIGEO, a carné de extranjería) and a few bad lines of
  every quarantine rule (:data:`SUCIEDAD_DEUDORES`, on territory business rows, so a reader that skipped a
  rule would change the figures).
* **National size, in seconds.** Most lines are persons with consumer or mortgage credit and no RUC, as in the
  real file. Columns are integer codes turned into text by ``pyarrow`` and joined element-wise; no Python
  loop touches a row.

What the publication does not say and has to be chosen: :data:`PERFIL_VAR_CREDITO` (the shape of the annual
changes; scaled and shifted so that the mean and the endpoints are the published ones), :data:`TIPO_RESTO`
(the 1 % the printed types leave), :data:`CELDAS_TIPO` (departments where the rare types are), the sizes in
:data:`TAMANOS` and the amounts of debtors outside the territory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .calibracion import ESCALA_DE_CALIBRACION, calibrar, leer_publicado, leer_referencia, redondea_a
from .padron import AUSENTE, Universo, _cuerpos, con_digito_errado, construir_universo, escribir_zip, ruc_reservados

CABECERA = "PERIODO|TIPO_DOCUMENTO|NUMERO_DOCUMENTO|CODIGO_ENTIDAD|TIPO_CREDITO|SALDO_SOLES"

#: TIPO_DOCUMENTO codes written: DNI, RUC, carné de extranjería, pasaporte.
DNI, RUC, CARNE, PASAPORTE = 1, 6, 4, 7

#: Shape of the annual changes of territory business credit, in %: the Reactiva Perú boom of 2020, a smaller
#: rise in 2021, the repayments of 2022, then recovery. Only the shape is chosen: the changes are scaled and
#: shifted so that their mean is the published mean and their compound product the published endpoints.
PERFIL_VAR_CREDITO: dict[int, float] = {2020: 40.0, 2021: 10.0, 2022: -15.0, 2023: 5.0, 2024: 15.0}

#: How the share that the printed types leave (100 − 82 − 16 − 1) splits between the unprinted ones.
TIPO_RESTO: dict[str, float] = {"grandes_empresas": 0.7, "corporativos": 0.3}

#: Departments where the rare types have debtors (every other type is in every department with credit): a
#: few larger borrowers, not one in every valley.
CELDAS_TIPO: dict[str, tuple[str, ...]] = {
    "corporativos": ("03",),
    "grandes_empresas": ("03", "12"),
    "medianas_empresas": ("03", "12", "05"),
}

#: Relative number of territory debtors per type inside a department (micro loans are many and small).
DEUDORES_POR_TIPO: dict[str, float] = {"microempresas": 6.0, "pequenas_empresas": 4.0, "medianas_empresas": 0.4,
                                       "grandes_empresas": 0.15, "corporativos": 0.05}

#: Supervised entities (SBS codes, 5 digits) and their weight: a few banks hold most debts, many cajas and
#: financieras the rest.
ENTIDADES: tuple[tuple[str, float], ...] = (
    ("00001", 9.0), ("00002", 14.0), ("00003", 6.0), ("00007", 3.0), ("00009", 2.0), ("00011", 5.0),
    ("00023", 1.0), ("00035", 1.5), ("00038", 1.0), ("00053", 2.0), ("00056", 1.0), ("00058", 4.0),
    ("00081", 3.0), ("00095", 1.0), ("00101", 3.0), ("00102", 1.5), ("00103", 2.5), ("00104", 1.0),
    ("00105", 2.0), ("00106", 1.0), ("00107", 1.5), ("00109", 1.0), ("00112", 1.0), ("00241", 2.0),
    ("00242", 1.0), ("00245", 1.0), ("00301", 1.5), ("00302", 1.0), ("00305", 0.5), ("00308", 0.5),
)
#: Entity codes only the planted bad lines use: a bad line never shares its key with a good one.
ENTIDADES_SUCIEDAD = tuple(f"009{i:02d}" for i in range(60))

#: Types of the business credit outside the territory (probability, median balance in soles): unpublished,
#: close to the national mix of the SBS (micro loans many, corporate ones few and large).
TIPOS_RESTO: dict[str, tuple[float, float]] = {
    "10": (0.62, 6_000.0), "09": (0.30, 60_000.0), "08": (0.06, 700_000.0), "07": (0.015, 6_000_000.0),
    "06": (0.005, 40_000_000.0),
}
#: Consumer and mortgage credit per row (probability, median balance in soles).
TIPOS_CONSUMO: dict[str, tuple[float, float]] = {"11": (0.35, 3_000.0), "12": (0.55, 12_000.0),
                                                  "13": (0.10, 150_000.0)}


@dataclass(frozen=True)
class Tamano:
    """Sizes of one scale (shares are of the taxpayers present in the year's cut)."""

    personas_consumo: int  # persons without RUC with consumer credit in the first year
    crecimiento_consumo: float  # yearly growth of that number
    p_territorio: float  # territory taxpayers with business credit (departments with credit)
    p_resto: float  # other taxpayers with business credit
    p_consumo_padron: float  # RUC 10 persons of the cut with consumer or mortgage credit
    sin_ruc10: float  # business debtors by DNI with no RUC 10, per debtor with business credit
    ruc_fuera: float  # business debtors whose RUC is in no cut, per debtor
    otro_documento: float  # business debtors with a carné de extranjería, per debtor
    extranjeros_consumo: int  # carné and passport holders with consumer credit


TAMANOS = {
    "national": Tamano(140_000, 0.04, 0.35, 0.02, 0.035, 0.004, 0.003, 0.001, 4_000),
    "small": Tamano(3_000, 0.04, 0.35, 0.08, 0.20, 0.004, 0.003, 0.001, 30),
}

#: Bad lines planted per year, by kind; each breaks exactly one rule (:data:`REGLA_DE_SUCIEDAD`).
SUCIEDAD_DEUDORES = {
    "national": {k: 3 for k in ("periodo_otro_mes", "tipo_documento_invalido", "dni_7_digitos", "ruc_digito_errado",
                                "ruc_10_digitos", "entidad_vacia", "tipo_credito_invalido", "saldo_no_numerico",
                                "saldo_negativo", "saldo_no_finito", "saldo_vacio", "campos_de_mas",
                                "campos_de_menos", "duplicado")},
    "small": {k: 1 for k in ("periodo_otro_mes", "tipo_documento_invalido", "dni_7_digitos", "ruc_digito_errado",
                             "ruc_10_digitos", "entidad_vacia", "tipo_credito_invalido", "saldo_no_numerico",
                             "saldo_negativo", "saldo_no_finito", "saldo_vacio", "campos_de_mas",
                             "campos_de_menos", "duplicado")},
}
#: (regla, columna) of quarantine.sbs_deudores each kind of bad line must land on.
REGLA_DE_SUCIEDAD = {
    "periodo_otro_mes": ("periodo_del_anio", "periodo, anio"),
    "tipo_documento_invalido": ("tipo_documento_formato", "tipo_documento"),
    "dni_7_digitos": ("dni_8_digitos", "tipo_documento, numero_documento"),
    "ruc_digito_errado": ("ruc_digito_verificador", "tipo_documento, numero_documento"),
    "ruc_10_digitos": ("ruc_formato", "tipo_documento, numero_documento"),
    "entidad_vacia": ("valor_obligatorio", "codigo_entidad"),
    "tipo_credito_invalido": ("tipo_credito_sbs", "tipo_credito"),
    "saldo_no_numerico": ("tipo_de_dato", "saldo_soles"),
    "saldo_negativo": ("saldo_no_negativo", "saldo_soles"),
    "saldo_no_finito": ("valor_finito", "saldo_soles"),
    "saldo_vacio": ("valor_obligatorio", "saldo_soles"),
    "campos_de_mas": ("numero_de_campos", ""),
    "campos_de_menos": ("numero_de_campos", ""),
    "duplicado": ("clave_duplicada", "tipo_documento, numero_documento, codigo_entidad, tipo_credito"),
}

#: Year written zipped (a zip stands in for the file) and years with CRLF line ends: the reader's variants.
ANIOS_ZIP = (2021,)
ANIOS_CRLF = (2023,)

#: First index of the RUC-10 body permutation used for DNIs that have no RUC 10: above every index the
#: population, the reserved blocks and the fillers of ``scale="real"`` use (padron._BASE_*), so such a DNI
#: is never the DNI of a Padrón RUC 10.
_BASE_DNI_SIN_RUC = 75_000_000
#: DNIs of the persons without RUC: 80,000,000–99,999,999, a range no Padrón RUC 10 body reaches (< 80 M).
_DNI_CONSUMO_INICIO, _DNI_CONSUMO_RANGO = 80_000_000, 20_000_000
_MULTIPLICADOR = 7_919_113  # coprime with the range: distinct persons get distinct DNIs


# --------------------------------------------------------------------------------------------------------
# Targets from the published figures
# --------------------------------------------------------------------------------------------------------


def _tipos() -> dict[str, str]:
    """Business credit-type code → key (sbs_tipo_credito.csv, credito_empresarial = si)."""
    df = leer_referencia("sbs_tipo_credito.csv")
    df = df[df["credito_empresarial"] == "si"]
    return dict(zip(df["codigo"], df["clave"], strict=True))


def _publicados(indicador: str) -> list[tuple[int, str, Decimal]]:
    df = leer_publicado()
    df = df[df["indicador"] == indicador]
    if df.empty:
        raise KeyError(f"publicado_vraem_2024.csv: no hay filas para {indicador}")
    return [(int(a), c, Decimal(v)) for a, c, v in zip(df["anio"], df["categoria"], df["valor"], strict=True)]


def serie_credito() -> dict[int, int]:
    """Territory business credit per year, in cents, 2019–2024.

    The endpoints are the published totals (the centre of their rounding interval). The changes in between
    take the shape of :data:`PERFIL_VAR_CREDITO`, ``g = b + a·perfil``: ``b`` makes their mean the published
    mean, ``a`` (found by bisection) makes their compound product the ratio of the endpoints — a mean of
    changes above the compound rate needs changes that vary, which the shape provides. Levels are rounded to
    cents and the result checked against the printed precision.
    """
    niveles = {a: v for a, c, v in _publicados("credito_millones_soles") if not c}
    (a_pub, media), = [(a, v) for a, c, v in _publicados("credito_var_promedio_anual_pct") if not c]
    primero, ultimo = min(niveles), max(niveles)
    if ultimo != a_pub or sorted(PERFIL_VAR_CREDITO) != list(range(primero + 1, ultimo + 1)):
        raise ValueError("PERFIL_VAR_CREDITO debe cubrir los años entre los totales publicados")
    anios = sorted(PERFIL_VAR_CREDITO)
    perfil = np.array([PERFIL_VAR_CREDITO[a] for a in anios])
    m = float(media)
    objetivo = math.log(float(niveles[ultimo] / niveles[primero]))

    def cambios(escala: float) -> np.ndarray:
        return m + escala * (perfil - perfil.mean())

    def exceso(escala: float) -> float:
        return float(np.log1p(cambios(escala) / 100).sum()) - objetivo

    if exceso(0.0) < 0:
        raise ValueError("la media publicada es menor que la tasa compuesta de los extremos: no hay serie")
    alto = 1.0
    while exceso(alto) > 0:
        alto *= 2
        if cambios(alto).min() <= -99:
            raise ValueError("PERFIL_VAR_CREDITO no alcanza la media publicada")
    bajo = 0.0
    for _ in range(200):
        medio = (bajo + alto) / 2
        bajo, alto = (medio, alto) if exceso(medio) > 0 else (bajo, medio)
    g = cambios((bajo + alto) / 2)

    centimos = {primero: int(niveles[primero] * 100_000_000)}
    for a, cambio in zip(anios[:-1], g[:-1], strict=True):
        centimos[a] = round(centimos[a - 1] * (1 + cambio / 100))
    centimos[ultimo] = int(niveles[ultimo] * 100_000_000)
    media_real = sum(Fraction(centimos[a], centimos[a - 1]) - 1 for a in anios) * 100 / len(anios)
    if not (redondea_a(media_real, media, 1) and abs(media_real - Fraction(media)) < Fraction(1, 100)):
        raise AssertionError(f"media de variaciones {float(media_real):.4f} ≠ {media}")
    return centimos


def participaciones() -> tuple[dict[str, Fraction], dict[str, Fraction]]:
    """(type key → %, department → %) of the territory's business credit: the published 2024 split, the
    unprinted types sharing what the printed ones leave (:data:`TIPO_RESTO`)."""
    tipo = {c: Fraction(v) for _, c, v in _publicados("credito_por_tipo_pct")}
    resto = 100 - sum(tipo.values())
    if resto < 0:
        raise ValueError("las participaciones publicadas por tipo suman más de 100")
    peso = sum(Fraction(str(w)) for w in TIPO_RESTO.values())
    for clave, w in TIPO_RESTO.items():
        tipo[clave] = tipo.get(clave, Fraction(0)) + resto * Fraction(str(w)) / peso
    faltan = set(_tipos().values()) - set(tipo)
    if faltan:
        raise ValueError(f"tipos sin participación: {sorted(faltan)}")
    depto = {c: Fraction(v) for _, c, v in _publicados("credito_por_departamento_pct")}
    return tipo, depto


def celdas(total: int, tipo: dict[str, Fraction], depto: dict[str, Fraction]) -> dict[tuple[str, str], int]:
    """Cents per (department, type key) summing to ``total``, with the given margins.

    Iterative proportional fitting from a seed that allows every type in every department with credit,
    except the rare types (:data:`CELDAS_TIPO`); cents by largest remainder, so the cells add up exactly and
    the margins are right to a few cents.
    """
    ds = [d for d in sorted(depto) if depto[d] > 0]
    ts = [t for t in tipo if tipo[t] > 0]
    semilla = np.array([[1.0 if d in CELDAS_TIPO.get(t, ds) else 0.0 for t in ts] for d in ds])
    filas = np.array([float(depto[d]) for d in ds]) / float(sum(depto[d] for d in ds)) * total
    cols = np.array([float(tipo[t]) for t in ts]) / float(sum(tipo[t] for t in ts)) * total
    x = semilla.copy()
    for _ in range(500):
        x *= (filas / x.sum(axis=1))[:, None]
        x *= cols / x.sum(axis=0)
        if np.abs(x.sum(axis=1) - filas).max() < 1e-3:
            break
    else:
        raise AssertionError("IPF no converge: CELDAS_TIPO incompatible con las participaciones")
    cent = _repartir(total, x.ravel()).reshape(x.shape)
    return {(d, t): int(cent[i, j]) for i, d in enumerate(ds) for j, t in enumerate(ts) if cent[i, j] > 0}


def _repartir(total: int, pesos: np.ndarray) -> np.ndarray:
    """Integers summing to ``total`` in proportion to ``pesos`` (largest remainder)."""
    cuota = total * (pesos / pesos.sum())
    base = np.floor(cuota).astype(np.int64)
    resto = int(total - base.sum())
    if resto:
        base[np.argsort(-(cuota - base), kind="stable")[:resto]] += 1
    return base


# --------------------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------------------


@dataclass
class _Filas:
    """Rows of a debtor file as integer columns; ``numero`` is the document as a number (its text is built
    from the document type: 8 digits for a DNI, 11 for a RUC, 9 for a carné, P + 8 for a passport)."""

    tipo_doc: list[np.ndarray]
    numero: list[np.ndarray]
    entidad: list[np.ndarray]
    tipo: list[np.ndarray]
    centimos: list[np.ndarray]

    @classmethod
    def vacias(cls) -> _Filas:
        return cls([], [], [], [], [])

    def agregar(self, tipo_doc, numero, entidad, tipo, centimos) -> None:
        n = len(centimos)
        for lista, valor, dtype in ((self.tipo_doc, tipo_doc, np.int8), (self.numero, numero, np.int64),
                                    (self.entidad, entidad, np.int16), (self.tipo, tipo, np.int8),
                                    (self.centimos, centimos, np.int64)):
            lista.append(np.broadcast_to(np.asarray(valor, dtype=dtype), (n,)).copy())

    def unir(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate(getattr(self, k)) for k in ("tipo_doc", "numero", "entidad", "tipo", "centimos")}


def _lognormal(rng: np.random.Generator, mediana: np.ndarray, sigma: float = 0.9) -> np.ndarray:
    """Balances in cents around ``mediana`` soles (at least S/ 50)."""
    soles = np.asarray(mediana) * np.exp(sigma * rng.standard_normal(len(mediana)))
    return np.maximum(np.round(soles * 100), 5_000).astype(np.int64)


def _en_entidades(rng: np.random.Generator, centimos: np.ndarray, pesos_ent: np.ndarray,
                  max_ent: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spread each debt over 1–3 distinct entities: (debt index, entity index, cents) per row, each debt's
    rows adding up to it exactly."""
    n = len(centimos)
    k = np.minimum(rng.choice([1, 2, 3], size=n, p=[0.62, 0.28, 0.10]), max_ent)
    grupo = np.repeat(np.arange(n), k)
    j = np.arange(len(grupo)) - np.repeat(np.cumsum(k) - k, k)
    e0 = rng.choice(len(pesos_ent), size=n, p=pesos_ent)
    entidad = (e0[grupo] + 7 * j) % len(pesos_ent)  # 7 is coprime with 30 entities: distinct within a debt
    w = rng.random(len(grupo)) + 0.25
    parte = np.floor(centimos[grupo] * (w / np.bincount(grupo, weights=w)[grupo])).astype(np.int64)
    ultimo = j == k[grupo] - 1
    otros = np.bincount(grupo, weights=np.where(ultimo, 0, parte), minlength=n).astype(np.int64)
    parte[ultimo] = centimos - otros
    return grupo, entidad, parte


def _documento(uni: Universo, filas: np.ndarray, usa_dni: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(TIPO_DOCUMENTO, number) of taxpayers: a person (RUC 10) reports his DNI when ``usa_dni``."""
    ruc = uni.ruc[filas]
    dni = (ruc // 1_000_000_000 == 10) & usa_dni[filas]
    return np.where(dni, DNI, RUC), np.where(dni, (ruc // 10) % 100_000_000, ruc)


@dataclass(frozen=True)
class _Contexto:
    uni: Universo
    tam: Tamano
    claves: dict[str, str]  # type key -> code
    pesos_ent: np.ndarray
    propension: np.ndarray  # per taxpayer, fixed across years
    usa_dni: np.ndarray  # per taxpayer, fixed across years
    consumo: np.ndarray  # per taxpayer, fixed across years
    depto: np.ndarray  # 2-digit department per taxpayer ('' for "-")


def _contexto(uni: Universo, escala: str) -> _Contexto:
    rng = np.random.default_rng([uni.seed, 4101])
    n = len(uni.ruc)
    depto = np.full(n, "", dtype="<U2")
    con_geo = uni.geo >= 0
    depto[con_geo] = uni.cat.geo_departamento[uni.geo[con_geo]]
    w = np.array([p for _, p in ENTIDADES])
    return _Contexto(uni=uni, tam=TAMANOS[escala], claves={v: k for k, v in _tipos().items()},
                     pesos_ent=w / w.sum(), propension=rng.random(n), usa_dni=rng.random(n) < 0.6,
                     consumo=rng.random(n), depto=depto)


def _territorio(ctx: _Contexto, anio: int, objetivo: dict[tuple[str, str], int], rng, filas: _Filas) -> np.ndarray:
    """Business debts of the territory's debtors: exactly ``objetivo`` cents per (department, type).

    Returns the taxpayers used (the planted bad lines copy them)."""
    uni = ctx.uni
    presente = uni.estado[:, uni.t(anio)] != AUSENTE
    usados = []
    for d in sorted({d for d, _ in objetivo}):
        cand = np.flatnonzero(uni.vraem & presente & (ctx.depto == d))
        if len(cand) == 0:
            raise AssertionError(f"{anio}: ningún contribuyente del territorio en el departamento {d}")
        cand = cand[np.argsort(ctx.propension[cand], kind="stable")]
        deudores = cand[ctx.propension[cand] < ctx.tam.p_territorio]
        if len(deudores) == 0:
            deudores = cand[:1]
        deudores = rng.permutation(deudores)
        tipos = [t for (dd, t) in sorted(objetivo) if dd == d]
        if len(deudores) >= len(tipos):
            extra = _repartir(len(deudores) - len(tipos), np.array([DEUDORES_POR_TIPO[t] for t in tipos]))
            cortes = np.cumsum(1 + extra)[:-1]
            grupos = np.split(deudores, cortes)
        else:  # fewer taxpayers than types (small scale): some debtors hold two types
            grupos = [deudores[[i % len(deudores)]] for i in range(len(tipos))]
        for t, grupo in zip(tipos, grupos, strict=True):
            cent = _repartir(objetivo[(d, t)], np.exp(rng.standard_normal(len(grupo))))
            idx, ent, parte = _en_entidades(rng, cent, ctx.pesos_ent)
            tipo_doc, numero = _documento(uni, grupo[idx], ctx.usa_dni)
            filas.agregar(tipo_doc, numero, ent, int(ctx.claves[t]), parte)
            usados.append(grupo)
    return np.unique(np.concatenate(usados))


def _fuera_del_territorio(ctx: _Contexto, anio: int, rng, filas: _Filas) -> int:
    """Business debts of other taxpayers of the cut (some without UBIGEO: unlocated); returns the debtors."""
    uni = ctx.uni
    presente = uni.estado[:, uni.t(anio)] != AUSENTE
    deudores = np.flatnonzero(presente & ~uni.vraem & (ctx.propension < ctx.tam.p_resto))
    codigos = list(TIPOS_RESTO)
    tipo = rng.choice(len(codigos), size=len(deudores), p=[TIPOS_RESTO[c][0] for c in codigos])
    medianas = np.array([TIPOS_RESTO[c][1] for c in codigos])[tipo]
    idx, ent, parte = _en_entidades(rng, _lognormal(rng, medianas), ctx.pesos_ent)
    tipo_doc, numero = _documento(uni, deudores[idx], ctx.usa_dni)
    filas.agregar(tipo_doc, numero, ent, np.array(codigos, dtype=np.int8)[tipo[idx]], parte)
    return len(deudores)


def _sin_ubicar(ctx: _Contexto, anio: int, n_deudores: int, rng, filas: _Filas) -> dict[str, int]:
    """Business debts that no Padrón row can place: DNIs without RUC 10, RUCs in no cut, carnés."""
    uni, tam = ctx.uni, ctx.tam
    k_dni = max(1, round(tam.sin_ruc10 * n_deudores))
    k_ruc = max(1, round(tam.ruc_fuera * n_deudores))
    k_otro = max(1, round(tam.otro_documento * n_deudores))
    dni = _cuerpos(10, _BASE_DNI_SIN_RUC + np.arange(k_dni), uni.seed)
    ruc = ruc_reservados(20, (anio - 2000) * 40 + 8, k_ruc, uni.seed)
    carne = 100_000_000 + np.arange(k_otro) * 37
    for tipo_doc, numero in ((DNI, dni), (RUC, ruc), (CARNE, carne)):
        tipo = rng.choice(np.array([10, 9], dtype=np.int8), size=len(numero), p=[0.6, 0.4])
        cent = _lognormal(rng, np.where(tipo == 10, 6_000.0, 60_000.0))
        idx, ent, parte = _en_entidades(rng, cent, ctx.pesos_ent)
        filas.agregar(tipo_doc, numero[idx], ent, tipo[idx], parte)
    return {"dni_sin_ruc10": k_dni, "ruc_fuera_del_padron": k_ruc, "carne_empresarial": k_otro}


def _consumo(ctx: _Contexto, anio: int, rng, filas: _Filas) -> int:
    """Consumer and mortgage credit: persons of the cut (by DNI, the territory's too) and, most of the file,
    persons with no RUC at all; a few foreigners. Returns the persons without RUC."""
    uni, tam = ctx.uni, ctx.tam
    codigos = list(TIPOS_CONSUMO)
    p = [TIPOS_CONSUMO[c][0] for c in codigos]
    medianas_tipo = np.array([TIPOS_CONSUMO[c][1] for c in codigos])

    def agregar(tipo_doc: int, numero: np.ndarray) -> None:
        n = len(numero)
        k = rng.choice([1, 2, 3], size=n, p=[0.70, 0.25, 0.05])
        grupo = np.repeat(np.arange(n), k)
        j = np.arange(len(grupo)) - np.repeat(np.cumsum(k) - k, k)
        e0 = rng.choice(len(ctx.pesos_ent), size=n, p=ctx.pesos_ent)
        ent = (e0[grupo] + 7 * j) % len(ctx.pesos_ent)
        tipo = rng.choice(len(codigos), size=len(grupo), p=p)
        filas.agregar(tipo_doc, numero[grupo], ent, np.array(codigos, dtype=np.int8)[tipo],
                      _lognormal(rng, medianas_tipo[tipo]))

    presente = uni.estado[:, uni.t(anio)] != AUSENTE
    personas = np.flatnonzero(presente & (uni.ruc // 1_000_000_000 == 10) & (ctx.consumo < tam.p_consumo_padron))
    agregar(DNI, (uni.ruc[personas] // 10) % 100_000_000)
    n = round(tam.personas_consumo * (1 + tam.crecimiento_consumo) ** (anio - uni.cal.anios[0]))
    i = np.arange(n, dtype=np.int64)
    desplazamiento = (uni.seed * 104_729) % _DNI_CONSUMO_RANGO
    agregar(DNI, _DNI_CONSUMO_INICIO + (i * _MULTIPLICADOR + desplazamiento) % _DNI_CONSUMO_RANGO)
    k = tam.extranjeros_consumo
    agregar(CARNE, 200_000_000 + np.arange(k) * 53)
    agregar(PASAPORTE, 10_000_000 + np.arange(k // 2) * 97)
    return n


# --------------------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------------------


def _texto_numero(tipo_doc: np.ndarray, numero: np.ndarray) -> pa.Array:
    """Documents as text: one left-pad to 8 digits serves every type (a DNI is 8 digits with its leading
    zeros; carnés are numbered from 100,000,000 and RUCs have 11 digits, so the pad never touches them)."""
    texto = pc.utf8_lpad(pc.cast(pa.array(numero), pa.string()), width=8, padding="0")
    pasaporte = tipo_doc == PASAPORTE
    if not pasaporte.any():
        return texto
    return pc.if_else(pa.array(pasaporte), pc.binary_join_element_wise(pa.scalar("P"), texto, ""), texto)


def _texto_importe(cents: np.ndarray) -> pa.Array:
    entero = pc.cast(pa.array(cents // 100), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(cents % 100), pa.string()), width=2, padding="0")
    return pc.binary_join_element_wise(entero, frac, ".")


def _lineas(anio: int, cols: dict[str, np.ndarray], fin: str) -> pa.Array:
    ent_txt = pa.array([e for e, _ in ENTIDADES], pa.string()).take(pa.array(cols["entidad"].astype(np.int32)))
    tipo_txt = pc.utf8_lpad(pc.cast(pa.array(cols["tipo"]), pa.string()), width=2, padding="0")
    doc_txt = pc.cast(pa.array(cols["tipo_doc"]), pa.string())
    saldo = pc.binary_join_element_wise(_texto_importe(cols["centimos"]), pa.scalar(fin), "")
    return pc.binary_join_element_wise(pa.scalar(f"{anio}12"), doc_txt, _texto_numero(cols["tipo_doc"], cols["numero"]),
                                       ent_txt, tipo_txt, saldo, "|").cast(pa.large_string())


def _suciedad(ctx: _Contexto, anio: int, cols: dict[str, np.ndarray], territorio: np.ndarray, rng,
              n_lineas: int) -> list[tuple[int, bytes, str]]:
    """Bad lines (position in the sorted good lines, bytes without end of line, kind).

    Each copies a territory business debtor under an entity code no good line uses, so that accepted it would
    move the territory's figures; the duplicate repeats a good territory line later in the file with another
    balance (keeping the last line instead of the first would change the figures)."""
    cuantos = SUCIEDAD_DEUDORES[ctx.uni.cal.escala]
    ruc = ctx.uni.ruc[territorio]
    personas = ruc[ruc // 1_000_000_000 == 10]
    empresas = ruc[ruc // 1_000_000_000 == 20]
    if len(empresas) == 0:
        empresas = ruc
    ents = iter(ENTIDADES_SUCIEDAD)
    out: list[tuple[int, bytes, str]] = []
    en_territorio = None

    def linea(*campos) -> bytes:
        return "|".join(str(c) for c in campos).encode("latin-1")

    for tipo, k in cuantos.items():
        for _ in range(k):
            r = int(rng.choice(empresas))
            dni = f"{(int(rng.choice(personas)) // 10) % 100_000_000:08d}" if len(personas) else "41234567"
            e = next(ents)
            pos = int(rng.integers(0, n_lineas + 1))
            base = [f"{anio}12", RUC, r, e, "09", "15000.00"]
            if tipo == "periodo_otro_mes":
                base[0] = f"{anio}11"
            elif tipo == "tipo_documento_invalido":
                base[1] = "D"
            elif tipo == "dni_7_digitos":
                base[1], base[2] = DNI, dni[1:]
            elif tipo == "ruc_digito_errado":
                base[2] = int(con_digito_errado(np.array([r]))[0])
            elif tipo == "ruc_10_digitos":
                base[2] = r // 10
            elif tipo == "entidad_vacia":
                base[3] = ""
            elif tipo == "tipo_credito_invalido":
                base[4] = "05"
            elif tipo == "saldo_no_numerico":
                base[5] = "15,000.00"
            elif tipo == "saldo_negativo":
                base[5] = "-1500.00"
            elif tipo == "saldo_no_finito":
                base[5] = "1e999"
            elif tipo == "saldo_vacio":
                base[5] = ""
            elif tipo == "campos_de_mas":
                base.append("REPROGRAMADO")
            elif tipo == "campos_de_menos":
                base = base[:5]
            elif tipo == "duplicado":
                if en_territorio is None:
                    en_territorio = np.flatnonzero((cols["tipo_doc"] == RUC) & (cols["tipo"] <= 10)
                                                   & np.isin(cols["numero"], ruc))
                i = int(rng.choice(en_territorio))
                base = [f"{anio}12", RUC, int(cols["numero"][i]), ENTIDADES[int(cols["entidad"][i])][0],
                        f"{int(cols['tipo'][i]):02d}", f"{(int(cols['centimos'][i]) * 10 + 100) / 100:.2f}"]
                pos = int(rng.integers(i + 1, n_lineas + 1))
            out.append((pos, linea(*base), tipo))
    return sorted(out, key=lambda x: x[0])


# --------------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------------


def escribir_deudores(ctx: _Contexto, raw_dir: Path, anio: int, objetivo: dict[tuple[str, str], int]) -> tuple[Path, dict]:
    """Write ``raw_dir/sbs/deudores/<anio>/deudores_<anio>12.txt`` (or ``.zip``); returns it and its line counts."""
    rng = np.random.default_rng([ctx.uni.seed, anio, 41])
    filas = _Filas.vacias()
    territorio = _territorio(ctx, anio, objetivo, rng, filas)
    n_terr = sum(len(x) for x in filas.centimos)
    n_resto = _fuera_del_territorio(ctx, anio, rng, filas)
    conteo = {"filas_territorio": n_terr, **_sin_ubicar(ctx, anio, n_resto + len(territorio), rng, filas)}
    n_empresarial = sum(len(x) for x in filas.centimos)
    conteo["personas_sin_ruc"] = _consumo(ctx, anio, rng, filas)
    cols = filas.unir()
    conteo["filas_empresariales"] = n_empresarial
    orden = np.lexsort((cols["tipo"], cols["numero"], cols["tipo_doc"], cols["entidad"]))
    cols = {k: v[orden] for k, v in cols.items()}
    # sorted by the whole key: a repeated key would be two neighbours
    igual = np.ones(len(orden) - 1, dtype=bool)
    for k in ("entidad", "tipo_doc", "numero", "tipo"):
        igual &= cols[k][1:] == cols[k][:-1]
    if igual.any():
        raise AssertionError(f"{anio}: clave repetida entre las líneas buenas")
    fin = "\r\n" if anio in ANIOS_CRLF else "\n"
    lineas = _lineas(anio, cols, fin)
    insertos = _suciedad(ctx, anio, cols, territorio, rng, len(lineas))
    conteo.update(lineas_datos=len(lineas) + len(insertos), lineas_buenas=len(lineas))
    for _, _, tipo in insertos:
        conteo[tipo] = conteo.get(tipo, 0) + 1

    carpeta = Path(raw_dir) / "sbs" / "deudores" / str(anio)
    carpeta.mkdir(parents=True, exist_ok=True)
    nombre = f"deudores_{anio}12"
    offsets = np.frombuffer(lineas.buffers()[1], dtype=np.int64)[lineas.offset: lineas.offset + len(lineas) + 1]
    datos = memoryview(lineas.buffers()[2])

    def volcar(f) -> None:
        f.write((CABECERA + fin).encode("latin-1"))
        previo = 0
        for pos, texto, _ in [*insertos, (len(lineas), None, "")]:
            f.write(datos[int(offsets[previo]): int(offsets[pos])])
            if texto is not None:
                f.write(texto + fin.encode())
            previo = pos

    if anio in ANIOS_ZIP:
        ruta = carpeta / f"{nombre}.zip"
        escribir_zip(ruta, f"{nombre}.txt", (anio + 1, 1, 15, 0, 0, 0), volcar)
    else:
        ruta = carpeta / f"{nombre}.txt"
        with open(ruta, "wb") as f:
            volcar(f)
    return ruta, conteo


def objetivos(anios) -> dict[int, dict[tuple[str, str], int]]:
    """Cents of territory business credit per year and (department, type key): the calibration."""
    serie = serie_credito()
    tipo, depto = participaciones()
    return {a: celdas(serie[a], tipo, depto) for a in anios}


def escribir_credito(out_dir: Path, seed: int = 2024, scale: str = "national", years=range(2019, 2025),
                     conteos: dict | None = None, universo=None) -> list[Path]:
    """Write the debtor files of ``years`` under ``out_dir`` (the raw folder); returns their paths.

    The population is the firm generator's for the same ``seed`` and ``scale`` (rebuilt here: a DNI or RUC of
    the file is a row of the Padrón cuts ``escribir_empresas`` wrote). ``conteos``, if given, receives each
    year's line counts (kinds of lines and planted bad lines) for tests and benchmarks. ``universo``: that
    population when the caller already built it (``write_sample`` does), instead of building it again.
    """
    anios = sorted(set(int(a) for a in years))
    escala = ESCALA_DE_CALIBRACION.get(scale, scale)
    uni = universo if universo is not None else construir_universo(calibrar(scale, anios), seed)
    ctx = _contexto(uni, escala)
    metas = objetivos(anios)
    rutas = []
    for anio in anios:
        ruta, conteo = escribir_deudores(ctx, Path(out_dir), anio, metas[anio])
        rutas.append(ruta)
        if conteos is not None:
            conteos[anio] = conteo
    return rutas


__all__ = [
    "CABECERA",
    "REGLA_DE_SUCIEDAD",
    "SUCIEDAD_DEUDORES",
    "TAMANOS",
    "celdas",
    "escribir_credito",
    "objetivos",
    "participaciones",
    "serie_credito",
]
