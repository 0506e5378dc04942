"""Synthetic SBS debtor balances (``sbs/deudores/<año>/deudores_<año>12.txt``, docs/sources.md#sbs-deudores), 2019–2024.

Pipe-delimited, latin-1, header ``PERIODO|TIPO_DOCUMENTO|NUMERO_DOCUMENTO|CODIGO_ENTIDAD|TIPO_CREDITO|SALDO_SOLES``,
one row per debtor, entity and SBS credit type, balances at December in soles with two decimals.

Why the file looks the way it does:

* **The same taxpayers as the Padrón.** Debtors are drawn from the firm generator's population
  (:class:`.padron.Universe`, rebuilt from the same seed and scale), so a RUC or the RUC 10 of a DNI finds its
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
  every quarantine rule (:data:`DEUDORES_DIRT`, on territory business rows, so a reader that skipped a
  rule would change the figures).
* **National size, in seconds.** Most lines are persons with consumer or mortgage credit and no RUC, as in the
  real file. Columns are integer codes turned into text by ``pyarrow`` and joined element-wise; no Python
  loop touches a row.

What the publication does not say and has to be chosen: :data:`CREDIT_VAR_PROFILE` (the shape of the annual
changes; scaled and shifted so that the mean and the endpoints are the published ones), :data:`LEFTOVER_KIND_SPLIT`
(the 1 % the printed types leave), :data:`KIND_DEPARTMENTS` (departments where the rare types are), the sizes in
:data:`SIZES` and the amounts of debtors outside the territory.
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

from .calibration import CALIBRATION_SCALE, calibrate, read_published, read_reference, rounds_to
from .padron import ABSENT, Universe, _bodies, build_universe, reserved_rucs, with_wrong_digit, write_zip

HEADER = "PERIODO|TIPO_DOCUMENTO|NUMERO_DOCUMENTO|CODIGO_ENTIDAD|TIPO_CREDITO|SALDO_SOLES"

#: TIPO_DOCUMENTO codes written: DNI, RUC, carné de extranjería, pasaporte.
DNI, RUC, RESIDENT_CARD, PASSPORT = 1, 6, 4, 7

#: Shape of the annual changes of territory business credit, in %: the Reactiva Perú boom of 2020, a smaller
#: rise in 2021, the repayments of 2022, then recovery. Only the shape is chosen: the changes are scaled and
#: shifted so that their mean is the published mean and their compound product the published endpoints.
CREDIT_VAR_PROFILE: dict[int, float] = {2020: 40.0, 2021: 10.0, 2022: -15.0, 2023: 5.0, 2024: 15.0}

#: How the share that the printed types leave (100 − 82 − 16 − 1) splits between the unprinted ones.
LEFTOVER_KIND_SPLIT: dict[str, float] = {"grandes_empresas": 0.7, "corporativos": 0.3}

#: Departments where the rare types have debtors (every other type is in every department with credit): a
#: few larger borrowers, not one in every valley.
KIND_DEPARTMENTS: dict[str, tuple[str, ...]] = {
    "corporativos": ("03",),
    "grandes_empresas": ("03", "12"),
    "medianas_empresas": ("03", "12", "05"),
}

#: Relative number of territory debtors per type inside a department (micro loans are many and small).
DEBTORS_BY_KIND: dict[str, float] = {
    "microempresas": 6.0,
    "pequenas_empresas": 4.0,
    "medianas_empresas": 0.4,
    "grandes_empresas": 0.15,
    "corporativos": 0.05,
}

#: Supervised entities (SBS codes, 5 digits) and their weight: a few banks hold most debts, many cajas and
#: financieras the rest.
ENTITIES: tuple[tuple[str, float], ...] = (
    ("00001", 9.0),
    ("00002", 14.0),
    ("00003", 6.0),
    ("00007", 3.0),
    ("00009", 2.0),
    ("00011", 5.0),
    ("00023", 1.0),
    ("00035", 1.5),
    ("00038", 1.0),
    ("00053", 2.0),
    ("00056", 1.0),
    ("00058", 4.0),
    ("00081", 3.0),
    ("00095", 1.0),
    ("00101", 3.0),
    ("00102", 1.5),
    ("00103", 2.5),
    ("00104", 1.0),
    ("00105", 2.0),
    ("00106", 1.0),
    ("00107", 1.5),
    ("00109", 1.0),
    ("00112", 1.0),
    ("00241", 2.0),
    ("00242", 1.0),
    ("00245", 1.0),
    ("00301", 1.5),
    ("00302", 1.0),
    ("00305", 0.5),
    ("00308", 0.5),
)
#: Entity codes only the planted bad lines use: a bad line never shares its key with a good one.
DIRT_ENTITIES = tuple(f"009{i:02d}" for i in range(60))

#: Types of the business credit outside the territory (probability, median balance in soles): unpublished,
#: close to the national mix of the SBS (micro loans many, corporate ones few and large).
REST_KINDS: dict[str, tuple[float, float]] = {
    "10": (0.62, 6_000.0),
    "09": (0.30, 60_000.0),
    "08": (0.06, 700_000.0),
    "07": (0.015, 6_000_000.0),
    "06": (0.005, 40_000_000.0),
}
#: Consumer and mortgage credit per row (probability, median balance in soles).
CONSUMER_KINDS: dict[str, tuple[float, float]] = {
    "11": (0.35, 3_000.0),
    "12": (0.55, 12_000.0),
    "13": (0.10, 150_000.0),
}


@dataclass(frozen=True)
class Size:
    """Sizes of one scale (shares are of the taxpayers present in the year's cut)."""

    consumer_persons: int  # persons without RUC with consumer credit in the first year
    consumer_growth: float  # yearly growth of that number
    p_territory: float  # territory taxpayers with business credit (departments with credit)
    p_rest: float  # other taxpayers with business credit
    p_consumer_padron: float  # RUC 10 persons of the cut with consumer or mortgage credit
    without_ruc10: float  # business debtors by DNI with no RUC 10, per debtor with business credit
    ruc_outside: float  # business debtors whose RUC is in no cut, per debtor
    other_document: float  # business debtors with a carné de extranjería, per debtor
    foreigners_consumer: int  # carné and passport holders with consumer credit


SIZES = {
    "national": Size(140_000, 0.04, 0.35, 0.02, 0.035, 0.004, 0.003, 0.001, 4_000),
    "small": Size(3_000, 0.04, 0.35, 0.08, 0.20, 0.004, 0.003, 0.001, 30),
}

#: Bad lines planted per year, by kind; each breaks exactly one rule (:data:`DIRT_RULE`).
DEUDORES_DIRT_KINDS = (
    "periodo_otro_mes",
    "tipo_documento_invalido",
    "dni_7_digitos",
    "ruc_digito_errado",
    "ruc_10_digitos",
    "entidad_vacia",
    "tipo_credito_invalido",
    "saldo_no_numerico",
    "saldo_negativo",
    "saldo_no_finito",
    "saldo_vacio",
    "campos_de_mas",
    "campos_de_menos",
    "duplicado",
)
DEUDORES_DIRT = {"national": dict.fromkeys(DEUDORES_DIRT_KINDS, 3), "small": dict.fromkeys(DEUDORES_DIRT_KINDS, 1)}
#: (regla, columna) of quarantine.sbs_deudores each kind of bad line must land on.
DIRT_RULE = {
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
ZIP_YEARS = (2021,)
CRLF_YEARS = (2023,)

#: First index of the RUC-10 body permutation used for DNIs that have no RUC 10: above every index the
#: population, the reserved blocks and the fillers of ``scale="real"`` use (padron._BASE_*), so such a DNI
#: is never the DNI of a Padrón RUC 10.
_BASE_DNI_WITHOUT_RUC = 75_000_000
#: DNIs of the persons without RUC: 80,000,000–99,999,999, a range no Padrón RUC 10 body reaches (< 80 M).
_DNI_CONSUMER_START, _DNI_CONSUMER_RANGE = 80_000_000, 20_000_000
_MULTIPLIER = 7_919_113  # coprime with the range: distinct persons get distinct DNIs


# --------------------------------------------------------------------------------------------------------
# Targets from the published figures
# --------------------------------------------------------------------------------------------------------


def _kinds() -> dict[str, str]:
    """Business credit-type code → key (sbs_tipo_credito.csv, credito_empresarial = si)."""
    df = read_reference("sbs_tipo_credito.csv")
    df = df[df["credito_empresarial"] == "si"]
    return dict(zip(df["codigo"], df["clave"], strict=True))


def _published_values(indicador: str) -> list[tuple[int, str, Decimal]]:
    df = read_published()
    df = df[df["indicador"] == indicador]
    if df.empty:
        raise KeyError(f"publicado_vraem_2024.csv: no hay filas para {indicador}")
    return [(int(a), c, Decimal(v)) for a, c, v in zip(df["anio"], df["categoria"], df["valor"], strict=True)]


def credit_series() -> dict[int, int]:
    """Territory business credit per year, in cents, 2019–2024.

    The endpoints are the published totals (the centre of their rounding interval). The changes in between
    take the shape of :data:`CREDIT_VAR_PROFILE`, ``g = b + a·perfil``: ``b`` makes their mean the published
    mean, ``a`` (found by bisection) makes their compound product the ratio of the endpoints — a mean of
    changes above the compound rate needs changes that vary, which the shape provides. Levels are rounded to
    cents and the result checked against the printed precision.
    """
    levels = {a: v for a, c, v in _published_values("credito_millones_soles") if not c}
    ((a_pub, mean_var),) = [(a, v) for a, c, v in _published_values("credito_var_promedio_anual_pct") if not c]
    first, last = min(levels), max(levels)
    if last != a_pub or sorted(CREDIT_VAR_PROFILE) != list(range(first + 1, last + 1)):
        raise ValueError("PERFIL_VAR_CREDITO debe cubrir los años entre los totales publicados")
    anios = sorted(CREDIT_VAR_PROFILE)
    profile = np.array([CREDIT_VAR_PROFILE[a] for a in anios])
    m = float(mean_var)
    target = math.log(float(levels[last] / levels[first]))

    def changes(scale_name: float) -> np.ndarray:
        return m + scale_name * (profile - profile.mean())

    def excess(scale_name: float) -> float:
        return float(np.log1p(changes(scale_name) / 100).sum()) - target

    if excess(0.0) < 0:
        raise ValueError("la media publicada es menor que la tasa compuesta de los extremos: no hay serie")
    height = 1.0
    while excess(height) > 0:
        height *= 2
        if changes(height).min() <= -99:
            raise ValueError("PERFIL_VAR_CREDITO no alcanza la media publicada")
    low = 0.0
    for _ in range(200):
        middle = (low + height) / 2
        low, height = (middle, height) if excess(middle) > 0 else (low, middle)
    g = changes((low + height) / 2)

    amount_cents = {first: int(levels[first] * 100_000_000)}
    for a, cambio in zip(anios[:-1], g[:-1], strict=True):
        amount_cents[a] = round(amount_cents[a - 1] * (1 + cambio / 100))
    amount_cents[last] = int(levels[last] * 100_000_000)
    actual_mean = sum(Fraction(amount_cents[a], amount_cents[a - 1]) - 1 for a in anios) * 100 / len(anios)
    if not (rounds_to(actual_mean, mean_var, 1) and abs(actual_mean - Fraction(mean_var)) < Fraction(1, 100)):
        raise AssertionError(f"media de variaciones {float(actual_mean):.4f} ≠ {mean_var}")
    return amount_cents


def share_values() -> tuple[dict[str, Fraction], dict[str, Fraction]]:
    """(type key → %, department → %) of the territory's business credit: the published 2024 split, the
    unprinted types sharing what the printed ones leave (:data:`LEFTOVER_KIND_SPLIT`)."""
    tipo = {c: Fraction(v) for _, c, v in _published_values("credito_por_tipo_pct")}
    rest = 100 - sum(tipo.values())
    if rest < 0:
        raise ValueError("las participaciones publicadas por tipo suman más de 100")
    weight = sum(Fraction(str(w)) for w in LEFTOVER_KIND_SPLIT.values())
    for clave, w in LEFTOVER_KIND_SPLIT.items():
        tipo[clave] = tipo.get(clave, Fraction(0)) + rest * Fraction(str(w)) / weight
    missing = set(_kinds().values()) - set(tipo)
    if missing:
        raise ValueError(f"tipos sin participación: {sorted(missing)}")
    dept = {c: Fraction(v) for _, c, v in _published_values("credito_por_departamento_pct")}
    return tipo, dept


def cell_frame(total: int, tipo: dict[str, Fraction], dept: dict[str, Fraction]) -> dict[tuple[str, str], int]:
    """Cents per (department, type key) summing to ``total``, with the given margins.

    Iterative proportional fitting from a seed that allows every type in every department with credit,
    except the rare types (:data:`KIND_DEPARTMENTS`); cents by largest remainder, so the cells add up exactly and
    the margins are right to a few cents.
    """
    ds = [d for d in sorted(dept) if dept[d] > 0]
    ts = [t for t in tipo if tipo[t] > 0]
    seed_table = np.array([[1.0 if d in KIND_DEPARTMENTS.get(t, ds) else 0.0 for t in ts] for d in ds])
    filas = np.array([float(dept[d]) for d in ds]) / float(sum(dept[d] for d in ds)) * total
    cols = np.array([float(tipo[t]) for t in ts]) / float(sum(tipo[t] for t in ts)) * total
    x = seed_table.copy()
    for _ in range(500):
        x *= (filas / x.sum(axis=1))[:, None]
        x *= cols / x.sum(axis=0)
        if np.abs(x.sum(axis=1) - filas).max() < 1e-3:
            break
    else:
        raise AssertionError("IPF no converge: CELDAS_TIPO incompatible con las participaciones")
    cent = _split_total(total, x.ravel()).reshape(x.shape)
    return {(d, t): int(cent[i, j]) for i, d in enumerate(ds) for j, t in enumerate(ts) if cent[i, j] > 0}


def _split_total(total: int, weight_values: np.ndarray) -> np.ndarray:
    """Integers summing to ``total`` in proportion to ``pesos`` (largest remainder)."""
    quota = total * (weight_values / weight_values.sum())
    base = np.floor(quota).astype(np.int64)
    rest = int(total - base.sum())
    if rest:
        base[np.argsort(-(quota - base), kind="stable")[:rest]] += 1
    return base


# --------------------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------------------


@dataclass
class _Rows:
    """Rows of a debtor file as integer columns; ``numero`` is the document as a number (its text is built
    from the document type: 8 digits for a DNI, 11 for a RUC, 9 for a carné, P + 8 for a passport)."""

    doc_type: list[np.ndarray]
    numero: list[np.ndarray]
    entity: list[np.ndarray]
    tipo: list[np.ndarray]
    amount_cents: list[np.ndarray]

    @classmethod
    def new_empty(cls) -> _Rows:
        return cls([], [], [], [], [])

    def add(self, doc_type, numero, entity, tipo, amount_cents) -> None:
        n = len(amount_cents)
        for listing, valor, dtype in (
            (self.doc_type, doc_type, np.int8),
            (self.numero, numero, np.int64),
            (self.entity, entity, np.int16),
            (self.tipo, tipo, np.int8),
            (self.amount_cents, amount_cents, np.int64),
        ):
            listing.append(np.broadcast_to(np.asarray(valor, dtype=dtype), (n,)).copy())

    def join_columns(self) -> dict[str, np.ndarray]:
        """The columns keyed as the debtor file's fields (what `_lines` writes)."""
        fields = {
            "tipo_doc": self.doc_type,
            "numero": self.numero,
            "entidad": self.entity,
            "tipo": self.tipo,
            "centimos": self.amount_cents,
        }
        return {k: np.concatenate(v) for k, v in fields.items()}


def _lognormal(rng: np.random.Generator, median: np.ndarray, sigma: float = 0.9) -> np.ndarray:
    """Balances in cents around ``mediana`` soles (at least S/ 50)."""
    soles = np.asarray(median) * np.exp(sigma * rng.standard_normal(len(median)))
    return np.maximum(np.round(soles * 100), 5_000).astype(np.int64)


def _split_into_entities(
    rng: np.random.Generator, amount_cents: np.ndarray, weights_ent: np.ndarray, max_ent: int = 3
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spread each debt over 1–3 distinct entities: (debt index, entity index, cents) per row, each debt's
    rows adding up to it exactly."""
    n = len(amount_cents)
    k = np.minimum(rng.choice([1, 2, 3], size=n, p=[0.62, 0.28, 0.10]), max_ent)
    grupo = np.repeat(np.arange(n), k)
    j = np.arange(len(grupo)) - np.repeat(np.cumsum(k) - k, k)
    e0 = rng.choice(len(weights_ent), size=n, p=weights_ent)
    entity = (e0[grupo] + 7 * j) % len(weights_ent)  # 7 is coprime with 30 entities: distinct within a debt
    w = rng.random(len(grupo)) + 0.25
    part = np.floor(amount_cents[grupo] * (w / np.bincount(grupo, weights=w)[grupo])).astype(np.int64)
    last = j == k[grupo] - 1
    other_ones = np.bincount(grupo, weights=np.where(last, 0, part), minlength=n).astype(np.int64)
    part[last] = amount_cents - other_ones
    return grupo, entity, part


def _document(uni: Universe, filas: np.ndarray, uses_dni: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(TIPO_DOCUMENTO, number) of taxpayers: a person (RUC 10) reports his DNI when ``usa_dni``."""
    ruc = uni.ruc[filas]
    dni = (ruc // 1_000_000_000 == 10) & uses_dni[filas]
    return np.where(dni, DNI, RUC), np.where(dni, (ruc // 10) % 100_000_000, ruc)


@dataclass(frozen=True)
class _Context:
    uni: Universe
    sizing: Size
    key_list: dict[str, str]  # type key -> code
    weights_ent: np.ndarray
    propensity: np.ndarray  # per taxpayer, fixed across years
    uses_dni: np.ndarray  # per taxpayer, fixed across years
    consumer: np.ndarray  # per taxpayer, fixed across years
    dept: np.ndarray  # 2-digit department per taxpayer ('' for "-")


def _context(uni: Universe, scale_name: str) -> _Context:
    rng = np.random.default_rng([uni.seed, 4101])
    n = len(uni.ruc)
    dept = np.full(n, "", dtype="<U2")
    with_geo = uni.geo >= 0
    dept[with_geo] = uni.cat.geo_department[uni.geo[with_geo]]
    w = np.array([p for _, p in ENTITIES])
    return _Context(
        uni=uni,
        sizing=SIZES[scale_name],
        key_list={v: k for k, v in _kinds().items()},
        weights_ent=w / w.sum(),
        propensity=rng.random(n),
        uses_dni=rng.random(n) < 0.6,
        consumer=rng.random(n),
        dept=dept,
    )


def _territory(ctx: _Context, anio: int, target: dict[tuple[str, str], int], rng, filas: _Rows) -> np.ndarray:
    """Business debts of the territory's debtors: exactly ``objetivo`` cents per (department, type).

    Returns the taxpayers used (the planted bad lines copy them)."""
    uni = ctx.uni
    present = uni.estado[:, uni.t(anio)] != ABSENT
    used = []
    for d in sorted({d for d, _ in target}):
        cand = np.flatnonzero(uni.vraem & present & (ctx.dept == d))
        if len(cand) == 0:
            raise AssertionError(f"{anio}: ningún contribuyente del territorio en el departamento {d}")
        cand = cand[np.argsort(ctx.propensity[cand], kind="stable")]
        debtors = cand[ctx.propensity[cand] < ctx.sizing.p_territory]
        if len(debtors) == 0:
            debtors = cand[:1]
        debtors = rng.permutation(debtors)
        tipos = [t for (dd, t) in sorted(target) if dd == d]
        if len(debtors) >= len(tipos):
            extra = _split_total(len(debtors) - len(tipos), np.array([DEBTORS_BY_KIND[t] for t in tipos]))
            cortes = np.cumsum(1 + extra)[:-1]
            groups = np.split(debtors, cortes)
        else:  # fewer taxpayers than types (small scale): some debtors hold two types
            groups = [debtors[[i % len(debtors)]] for i in range(len(tipos))]
        for t, grupo in zip(tipos, groups, strict=True):
            cent = _split_total(target[(d, t)], np.exp(rng.standard_normal(len(grupo))))
            idx, ent, part = _split_into_entities(rng, cent, ctx.weights_ent)
            doc_type, numero = _document(uni, grupo[idx], ctx.uses_dni)
            filas.add(doc_type, numero, ent, int(ctx.key_list[t]), part)
            used.append(grupo)
    return np.unique(np.concatenate(used))


def _outside_territory(ctx: _Context, anio: int, rng, filas: _Rows) -> int:
    """Business debts of other taxpayers of the cut (some without UBIGEO: unlocated); returns the debtors."""
    uni = ctx.uni
    present = uni.estado[:, uni.t(anio)] != ABSENT
    debtors = np.flatnonzero(present & ~uni.vraem & (ctx.propensity < ctx.sizing.p_rest))
    codes = list(REST_KINDS)
    tipo = rng.choice(len(codes), size=len(debtors), p=[REST_KINDS[c][0] for c in codes])
    medians = np.array([REST_KINDS[c][1] for c in codes])[tipo]
    idx, ent, part = _split_into_entities(rng, _lognormal(rng, medians), ctx.weights_ent)
    doc_type, numero = _document(uni, debtors[idx], ctx.uses_dni)
    filas.add(doc_type, numero, ent, np.array(codes, dtype=np.int8)[tipo[idx]], part)
    return len(debtors)


def _unlocated(ctx: _Context, anio: int, n_deudores: int, rng, filas: _Rows) -> dict[str, int]:
    """Business debts that no Padrón row can place: DNIs without RUC 10, RUCs in no cut, carnés."""
    uni, sizing = ctx.uni, ctx.sizing
    k_dni = max(1, round(sizing.without_ruc10 * n_deudores))
    k_ruc = max(1, round(sizing.ruc_outside * n_deudores))
    k_other = max(1, round(sizing.other_document * n_deudores))
    dni = _bodies(10, _BASE_DNI_WITHOUT_RUC + np.arange(k_dni), uni.seed)
    ruc = reserved_rucs(20, (anio - 2000) * 40 + 8, k_ruc, uni.seed)
    resident_card = 100_000_000 + np.arange(k_other) * 37
    for doc_type, numero in ((DNI, dni), (RUC, ruc), (RESIDENT_CARD, resident_card)):
        tipo = rng.choice(np.array([10, 9], dtype=np.int8), size=len(numero), p=[0.6, 0.4])
        cent = _lognormal(rng, np.where(tipo == 10, 6_000.0, 60_000.0))
        idx, ent, part = _split_into_entities(rng, cent, ctx.weights_ent)
        filas.add(doc_type, numero[idx], ent, tipo[idx], part)
    return {"dni_sin_ruc10": k_dni, "ruc_fuera_del_padron": k_ruc, "carne_empresarial": k_other}


def _consumer_credit(ctx: _Context, anio: int, rng, filas: _Rows) -> int:
    """Consumer and mortgage credit: persons of the cut (by DNI, the territory's too) and, most of the file,
    persons with no RUC at all; a few foreigners. Returns the persons without RUC."""
    uni, sizing = ctx.uni, ctx.sizing
    codes = list(CONSUMER_KINDS)
    p = [CONSUMER_KINDS[c][0] for c in codes]
    kind_medians = np.array([CONSUMER_KINDS[c][1] for c in codes])

    def add(doc_type: int, numero: np.ndarray) -> None:
        n = len(numero)
        k = rng.choice([1, 2, 3], size=n, p=[0.70, 0.25, 0.05])
        grupo = np.repeat(np.arange(n), k)
        j = np.arange(len(grupo)) - np.repeat(np.cumsum(k) - k, k)
        e0 = rng.choice(len(ctx.weights_ent), size=n, p=ctx.weights_ent)
        ent = (e0[grupo] + 7 * j) % len(ctx.weights_ent)
        tipo = rng.choice(len(codes), size=len(grupo), p=p)
        filas.add(
            doc_type, numero[grupo], ent, np.array(codes, dtype=np.int8)[tipo], _lognormal(rng, kind_medians[tipo])
        )

    present = uni.estado[:, uni.t(anio)] != ABSENT
    persons = np.flatnonzero(present & (uni.ruc // 1_000_000_000 == 10) & (ctx.consumer < sizing.p_consumer_padron))
    add(DNI, (uni.ruc[persons] // 10) % 100_000_000)
    n = round(sizing.consumer_persons * (1 + sizing.consumer_growth) ** (anio - uni.cal.anios[0]))
    i = np.arange(n, dtype=np.int64)
    shift = (uni.seed * 104_729) % _DNI_CONSUMER_RANGE
    add(DNI, _DNI_CONSUMER_START + (i * _MULTIPLIER + shift) % _DNI_CONSUMER_RANGE)
    k = sizing.foreigners_consumer
    add(RESIDENT_CARD, 200_000_000 + np.arange(k) * 53)
    add(PASSPORT, 10_000_000 + np.arange(k // 2) * 97)
    return n


# --------------------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------------------


def _number_text(doc_type: np.ndarray, numero: np.ndarray) -> pa.Array:
    """Documents as text: one left-pad to 8 digits serves every type (a DNI is 8 digits with its leading
    zeros; carnés are numbered from 100,000,000 and RUCs have 11 digits, so the pad never touches them)."""
    texto = pc.utf8_lpad(pc.cast(pa.array(numero), pa.string()), width=8, padding="0")
    passport = doc_type == PASSPORT
    if not passport.any():
        return texto
    return pc.if_else(pa.array(passport), pc.binary_join_element_wise(pa.scalar("P"), texto, ""), texto)


def _amount_text(cents: np.ndarray) -> pa.Array:
    entero = pc.cast(pa.array(cents // 100), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(cents % 100), pa.string()), width=2, padding="0")
    return pc.binary_join_element_wise(entero, frac, ".")


def _lines(anio: int, cols: dict[str, np.ndarray], fin: str) -> pa.Array:
    ent_txt = pa.array([e for e, _ in ENTITIES], pa.string()).take(pa.array(cols["entidad"].astype(np.int32)))
    kind_txt = pc.utf8_lpad(pc.cast(pa.array(cols["tipo"]), pa.string()), width=2, padding="0")
    doc_txt = pc.cast(pa.array(cols["tipo_doc"]), pa.string())
    balance = pc.binary_join_element_wise(_amount_text(cols["centimos"]), pa.scalar(fin), "")
    return pc.binary_join_element_wise(
        pa.scalar(f"{anio}12"), doc_txt, _number_text(cols["tipo_doc"], cols["numero"]), ent_txt, kind_txt, balance, "|"
    ).cast(pa.large_string())


def _dirt(
    ctx: _Context, anio: int, cols: dict[str, np.ndarray], territorio: np.ndarray, rng, n_lines: int
) -> list[tuple[int, bytes, str]]:
    """Bad lines (position in the sorted good lines, bytes without end of line, kind).

    Each copies a territory business debtor under an entity code no good line uses, so that accepted it would
    move the territory's figures; the duplicate repeats a good territory line later in the file with another
    balance (keeping the last line instead of the first would change the figures)."""
    how_many = DEUDORES_DIRT[ctx.uni.cal.scale_name]
    ruc = ctx.uni.ruc[territorio]
    persons = ruc[ruc // 1_000_000_000 == 10]
    empresas = ruc[ruc // 1_000_000_000 == 20]
    if len(empresas) == 0:
        empresas = ruc
    ents = iter(DIRT_ENTITIES)
    out: list[tuple[int, bytes, str]] = []
    en_territorio = None

    def linea(*fields) -> bytes:
        return "|".join(str(c) for c in fields).encode("latin-1")

    for tipo, k in how_many.items():
        for _ in range(k):
            r = int(rng.choice(empresas))
            dni = f"{(int(rng.choice(persons)) // 10) % 100_000_000:08d}" if len(persons) else "41234567"
            e = next(ents)
            pos = int(rng.integers(0, n_lines + 1))
            base = [f"{anio}12", RUC, r, e, "09", "15000.00"]
            if tipo == "periodo_otro_mes":
                base[0] = f"{anio}11"
            elif tipo == "tipo_documento_invalido":
                base[1] = "D"
            elif tipo == "dni_7_digitos":
                base[1], base[2] = DNI, dni[1:]
            elif tipo == "ruc_digito_errado":
                base[2] = int(with_wrong_digit(np.array([r]))[0])
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
                    en_territorio = np.flatnonzero(
                        (cols["tipo_doc"] == RUC) & (cols["tipo"] <= 10) & np.isin(cols["numero"], ruc)
                    )
                i = int(rng.choice(en_territorio))
                base = [
                    f"{anio}12",
                    RUC,
                    int(cols["numero"][i]),
                    ENTITIES[int(cols["entidad"][i])][0],
                    f"{int(cols['tipo'][i]):02d}",
                    f"{(int(cols['centimos'][i]) * 10 + 100) / 100:.2f}",
                ]
                pos = int(rng.integers(i + 1, n_lines + 1))
            out.append((pos, linea(*base), tipo))
    return sorted(out, key=lambda x: x[0])


# --------------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------------


def write_deudores(ctx: _Context, raw_dir: Path, anio: int, target: dict[tuple[str, str], int]) -> tuple[Path, dict]:
    """Write ``raw_dir/sbs/deudores/<anio>/deudores_<anio>12.txt`` (or ``.zip``); returns it and its line counts."""
    rng = np.random.default_rng([ctx.uni.seed, anio, 41])
    filas = _Rows.new_empty()
    territorio = _territory(ctx, anio, target, rng, filas)
    n_terr = sum(len(x) for x in filas.amount_cents)
    n_rest = _outside_territory(ctx, anio, rng, filas)
    line_counts = {"filas_territorio": n_terr, **_unlocated(ctx, anio, n_rest + len(territorio), rng, filas)}
    n_business = sum(len(x) for x in filas.amount_cents)
    line_counts["personas_sin_ruc"] = _consumer_credit(ctx, anio, rng, filas)
    cols = filas.join_columns()
    line_counts["filas_empresariales"] = n_business
    orden = np.lexsort((cols["tipo"], cols["numero"], cols["tipo_doc"], cols["entidad"]))
    cols = {k: v[orden] for k, v in cols.items()}
    # sorted by the whole key: a repeated key would be two neighbours
    igual = np.ones(len(orden) - 1, dtype=bool)
    for k in ("entidad", "tipo_doc", "numero", "tipo"):
        igual &= cols[k][1:] == cols[k][:-1]
    if igual.any():
        raise AssertionError(f"{anio}: clave repetida entre las líneas buenas")
    fin = "\r\n" if anio in CRLF_YEARS else "\n"
    lineas = _lines(anio, cols, fin)
    inserts = _dirt(ctx, anio, cols, territorio, rng, len(lineas))
    line_counts.update(lineas_datos=len(lineas) + len(inserts), lineas_buenas=len(lineas))
    for _, _, tipo in inserts:
        line_counts[tipo] = line_counts.get(tipo, 0) + 1

    folder_path = Path(raw_dir) / "sbs" / "deudores" / str(anio)
    folder_path.mkdir(parents=True, exist_ok=True)
    nombre = f"deudores_{anio}12"
    offsets = np.frombuffer(lineas.buffers()[1], dtype=np.int64)[lineas.offset : lineas.offset + len(lineas) + 1]
    datos = memoryview(lineas.buffers()[2])

    def dump(f) -> None:
        f.write((HEADER + fin).encode("latin-1"))
        previo = 0
        for pos, texto, _ in [*inserts, (len(lineas), None, "")]:
            f.write(datos[int(offsets[previo]) : int(offsets[pos])])
            if texto is not None:
                f.write(texto + fin.encode())
            previo = pos

    if anio in ZIP_YEARS:
        path = folder_path / f"{nombre}.zip"
        write_zip(path, f"{nombre}.txt", (anio + 1, 1, 15, 0, 0, 0), dump)
    else:
        path = folder_path / f"{nombre}.txt"
        with open(path, "wb") as f:
            dump(f)
    return path, line_counts


def targets_by_year(anios) -> dict[int, dict[tuple[str, str], int]]:
    """Cents of territory business credit per year and (department, type key): the calibration."""
    serie = credit_series()
    tipo, dept = share_values()
    return {a: cell_frame(serie[a], tipo, dept) for a in anios}


def write_credito(
    out_dir: Path,
    seed: int = 2024,
    scale: str = "national",
    years=range(2019, 2025),
    counts: dict | None = None,
    built_universe=None,
) -> list[Path]:
    """Write the debtor files of ``years`` under ``out_dir`` (the raw folder); returns their paths.

    The population is the firm generator's for the same ``seed`` and ``scale`` (rebuilt here: a DNI or RUC of
    the file is a row of the Padrón cuts ``escribir_empresas`` wrote). ``conteos``, if given, receives each
    year's line counts (kinds of lines and planted bad lines) for tests and benchmarks. ``universo``: that
    population when the caller already built it (``write_sample`` does), instead of building it again.
    """
    anios = sorted(set(int(a) for a in years))
    scale_name = CALIBRATION_SCALE.get(scale, scale)
    uni = built_universe if built_universe is not None else build_universe(calibrate(scale, anios), seed)
    ctx = _context(uni, scale_name)
    year_targets = targets_by_year(anios)
    paths = []
    for anio in anios:
        path, line_counts = write_deudores(ctx, Path(out_dir), anio, year_targets[anio])
        paths.append(path)
        if counts is not None:
            counts[anio] = line_counts
    return paths


__all__ = [
    "HEADER",
    "DIRT_RULE",
    "DEUDORES_DIRT",
    "SIZES",
    "cell_frame",
    "write_credito",
    "targets_by_year",
    "share_values",
    "credit_series",
]
