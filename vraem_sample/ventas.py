"""Synthetic SUNAT declared annual net sales (``sunat/ventas/<año>/ventas_<año>.txt``,
docs/sources.md#ventas-declaradas).

Pipe-delimited, latin-1, header ``RUC|EJERCICIO|VENTAS_NETAS``, soles with ``.`` and two decimals, empty
when not declared. Amounts are integer cents from start to end, so totals are exact and the text never
shows float noise.

Why amounts look the way they do:

* **Consistent with the stratum.** Each firm has a persistent Ley 30056 stratum and a position inside it;
  a year's amount is that position (with a little yearly noise) mapped into the stratum's band of that
  year's UIT, so a firm never crosses a band edge by accident and the strata the pipeline computes are
  the strata the generator intended (national ≈ 96 % micro).
* **The published total.** The VRAEM formal firms' sales of a calibrated year add up exactly to the
  target of :mod:`.calibration` (the published S/ millions in the published year): the large firms, the
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

from .amounts import POSITION_NOISE, cents_bounds, cents_by_stratum, loose_amounts
from .calibration import published_pbi, rounds_to
from .padron import ABSENT, ACTIVE, ROLE_INACTIVE, V_EMPTY, V_NONE, V_POSITIVE, V_ZERO, Universe, reserved_rucs
from .pbi import UNGUARANTEED_SCALES, departmental_vab

HEADER = "RUC|EJERCICIO|VENTAS_NETAS"

#: Ventas-file dirt per year by scale.
VENTAS_DIRT = {
    "national": {"ruc_fuera_padron_pct": 0.4, "ejercicio_anterior": 20, "campos_errados": 2, "importe_no_numerico": 2},
    "small": {"ruc_fuera_padron_pct": 0.4, "ejercicio_anterior": 3, "campos_errados": 1, "importe_no_numerico": 1},
}


def sales_cents(uni: Universe, anio: int) -> np.ndarray:
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
    u = np.clip(uni.position + POSITION_NOISE * rng.standard_normal(len(uni.position)), 1e-4, 1 - 1e-4)
    cents = cents_by_stratum(uni.estrato, u, uit, uni.vraem)
    cents[uni.ventas[:, t] != V_POSITIVE] = 0
    target = uni.cal.vraem_sales_cents.get(anio)
    if target is not None:
        f = uni.formal(anio) & uni.vraem
        g = f & (uni.estrato == 3)
        ng = int(g.sum())
        floor_cents = int(cents_bounds(uit)[3, 0])
        rest = int(target) - int(cents[f & ~g].sum())
        excess = rest - ng * floor_cents
        if ng == 0 or excess < 0:
            raise ValueError(
                f"{anio}: ventas VRAEM objetivo S/ {target / 1e8:,.2f} M inalcanzable "
                f"({ng} grandes, resto S/ {rest / 1e8:,.2f} M)"
            )
        w = (cents[g] - floor_cents + 1).astype(float)
        split = np.floor(excess * (w / w.sum())).astype(np.int64)
        split[np.argmax(w)] += excess - int(split.sum())
        cents[g] = floor_cents + split
        assert int(cents[f].sum()) == int(target)
    adjust_sales_outside_territory(uni, anio, cents)  # outside the territory only: its total stays exact
    return cents


def _amount_text(cents: np.ndarray) -> pa.Array:
    entero = pc.cast(pa.array(cents // 100), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(cents % 100), pa.string()), width=2, padding="0")
    return pc.binary_join_element_wise(entero, frac, ".")


def write_ventas(uni: Universe, raw_dir: Path, anio: int) -> Path:
    """Write ``raw_dir/sunat/ventas/<anio>/ventas_<anio>.txt``; returns its path.

    One line per taxpayer of the December cut whose ventas status is positive, zero or empty (the others
    have no line), plus the planted Padrón RUCs (positive, so skipping the check digit would count them),
    RUCs absent from the Padrón, a few lines of the previous EJERCICIO and a few broken lines.
    """
    t = uni.t(anio)
    uit = uni.cal.uit[anio]
    cents = sales_cents(uni, anio)
    estado = uni.estado[:, t]
    sales_status = uni.ventas[:, t]
    with_line = (estado != ABSENT) & (sales_status != V_NONE)
    rng = np.random.default_rng([uni.seed, anio, 9])
    how_many = VENTAS_DIRT[uni.cal.scale_name]
    block = (anio - 2000) * 40 + 12 * 3 + 2

    ruc = [uni.ruc[with_line]]
    ejercicio = [np.full(int(with_line.sum()), anio, dtype=np.int64)]
    monto = [cents[with_line]]
    is_empty = [sales_status[with_line] == V_EMPTY]
    assert np.all(monto[0][sales_status[with_line] == V_ZERO] == 0)
    line_counts = {
        "positivas": int((sales_status[with_line] == V_POSITIVE).sum()),
        "cero": int((sales_status[with_line] == V_ZERO).sum()),
        "vacias": int(is_empty[0].sum()),
    }

    # Planted Padrón RUCs (bad check digit, malformed lines) with positive sales.
    s = uni.planted_dirt(anio, 12)
    if s.ventas:
        r, c = zip(*s.ventas, strict=True)
        ruc.append(np.array(r, dtype=np.int64))
        ejercicio.append(np.full(len(r), anio, dtype=np.int64))
        monto.append(np.array(c, dtype=np.int64))
        is_empty.append(np.zeros(len(r), dtype=bool))
    line_counts["ruc_suciedad_padron"] = len(s.ventas)

    # RUCs that are not in the Padrón at all.
    k = int(round(how_many["ruc_fuera_padron_pct"] / 100 * line_counts["positivas"]))
    k10 = k * 3 // 4
    outside = np.concatenate([reserved_rucs(10, block, k10, uni.seed), reserved_rucs(20, block, k - k10, uni.seed)])
    ruc.append(outside)
    ejercicio.append(np.full(k, anio, dtype=np.int64))
    monto.append(loose_amounts(rng, uit, k))
    is_empty.append(np.zeros(k, dtype=bool))
    line_counts["ruc_fuera_padron"] = k

    # Lines of the previous EJERCICIO (late or rectified returns) for ACTIVO firms without a line this year.
    if t > 0:
        candidate_rows = np.flatnonzero((estado == ACTIVE) & (uni.role == ROLE_INACTIVE) & (sales_status == V_NONE))
        k = min(how_many["ejercicio_anterior"], len(candidate_rows))
        chosen = np.sort(rng.choice(candidate_rows, size=k, replace=False))
        ruc.append(uni.ruc[chosen])
        ejercicio.append(np.full(k, anio - 1, dtype=np.int64))
        monto.append(loose_amounts(rng, uni.cal.uit[anio - 1], k))
        is_empty.append(np.zeros(k, dtype=bool))
        line_counts["ejercicio_anterior"] = k

    ruc_a = np.concatenate(ruc)
    orden = np.argsort(ruc_a, kind="stable")
    ruc_a = ruc_a[orden]
    fiscal_year_a = np.concatenate(ejercicio)[orden]
    amount_a = np.concatenate(monto)[orden]
    is_empty_a = np.concatenate(is_empty)[orden]
    amount = pc.if_else(pa.array(is_empty_a), pa.scalar(""), _amount_text(amount_a))
    amount = pc.binary_join_element_wise(amount, pa.scalar("\n"), "")
    lineas = pc.binary_join_element_wise(
        pc.cast(pa.array(ruc_a), pa.string()), pc.cast(pa.array(fiscal_year_a), pa.string()), amount, "|"
    ).cast(pa.large_string())

    # Broken lines on RUCs outside the Padrón: wrong field count, amounts that are not numbers.
    broken = reserved_rucs(20, block + 1, how_many["campos_errados"] + how_many["importe_no_numerico"], uni.seed)
    inserts: list[tuple[int, bytes, str]] = []
    for j, r in enumerate(broken):
        if j < how_many["campos_errados"]:
            texto = f"{r}|{anio}" if j % 2 == 0 else f"{r}|{anio}|1520.00|RECTIFICATORIA"
            tipo = "campos_errados"
        else:
            texto = f"{r}|{anio}|1,234.50" if j % 2 == 0 else f"{r}|{anio}|S/ 850.00"
            tipo = "importe_no_numerico"
        inserts.append((int(rng.integers(0, len(lineas) + 1)), texto.encode("latin-1"), tipo))
        line_counts[tipo] = line_counts.get(tipo, 0) + 1
    inserts.sort(key=lambda x: x[0])

    folder_path = Path(raw_dir) / "sunat" / "ventas" / str(anio)
    folder_path.mkdir(parents=True, exist_ok=True)
    path = folder_path / f"ventas_{anio}.txt"
    body = lineas
    offsets = np.frombuffer(body.buffers()[1], dtype=np.int64)[body.offset : body.offset + len(body) + 1]
    datos = memoryview(body.buffers()[2])
    with open(path, "wb") as f:
        f.write((HEADER + "\n").encode("latin-1"))
        previo = 0
        for pos, linea, _ in [*inserts, (len(body), None, "")]:
            f.write(datos[int(offsets[previo]) : int(offsets[pos])])
            if linea is not None:
                f.write(linea + b"\n")
            previo = pos
    line_counts["lineas_datos"] = len(body) + len(inserts)
    uni._dirt[("ventas", anio)] = line_counts
    return path


def tally_ventas(uni: Universe, anio: int) -> dict[str, int]:
    """Kinds of lines in the ventas file written for ``anio`` by this population (after :func:`escribir_ventas`)."""
    return dict(uni._dirt[("ventas", anio)])


__all__ = [
    "HEADER",
    "VENTAS_DIRT",
    "adjust_sales_outside_territory",
    "tally_ventas",
    "write_ventas",
    "sales_cents",
    "share_values",
    "published_shares",
    "territory_value",
]


# --- the GDP allocation's calibration (the sample's GDP lands on the published figure) ------------------------


def territory_departments(uni) -> list[str]:
    """Departments of the sample's territory (the shipped district list the population was built on)."""
    return sorted({str(d) for d in uni.cat.geo_department[uni.cat.geo_vraem]})


def _department_of(uni) -> np.ndarray:
    """Department of each taxpayer's domicile as an integer code (5 = Ayacucho), -1 for an ubigeo ``-``."""
    codes = uni.cat.geo_department.astype(int)
    return np.where(uni.geo >= 0, codes[np.maximum(uni.geo, 0)], -1)


_CACHE: list = [None, None]  # (weak reference to the population, shares of the published year)


def published_shares(uni) -> dict[str, Fraction]:
    """The territory's share of each of its departments' declared sales in the published year, after the
    calibration of that year (the shares every other year's target uses)."""
    ref, shares = _CACHE
    if ref is not None and ref() is uni:
        return shares
    anio = published_pbi()[0]
    shares = share_values(uni, anio, sales_cents(uni, anio))
    _CACHE[:] = [weakref.ref(uni), shares]
    return shares


def share_values(uni, anio: int, cents: np.ndarray) -> dict[str, Fraction]:
    """Share of the territory's formal firms in each territory department's formal-firm sales (exact)."""
    f = uni.formal(anio)
    dept = _department_of(uni)
    out = {}
    for d in territory_departments(uni):
        en = int(cents[f & uni.vraem & (dept == int(d))].sum())
        whole = int(cents[f & (dept == int(d))].sum())
        if whole == 0:
            raise ValueError(
                f"{anio}: el departamento {d} no tiene ventas de empresas formales: la asignación del "
                "PBI no tendría participación"
            )
        out[d] = Fraction(en, whole)
    return out


def territory_value(vab: dict[str, Fraction], shares: dict[str, Fraction]) -> Fraction:
    """Σ_d VAB_d × share_d, in miles de soles (the pipeline's default allocation, exactly)."""
    return sum((vab[d] * s for d, s in shares.items()), Fraction(0))


def adjust_sales_outside_territory(uni, anio: int, cents: np.ndarray) -> None:
    """Scale (in place) the sales of the large formal firms outside the territory, in its departments, so that
    the default allocation of ``anio``'s departmental VAB equals the target (module docstring).

    Raises ``ValueError`` when no scaling inside the large-firm band reaches the target (a calibration error).
    """
    vab_year = departmental_vab()[0].get(anio)
    if vab_year is None:
        return
    pub_year, value_pub, pct_pub = published_pbi()
    deps = territory_departments(uni)
    if anio == pub_year:
        target = Fraction(value_pub) * 1000
    else:
        target = territory_value(vab_year, published_shares(uni))
    f = uni.formal(anio)
    dept = _department_of(uni)
    floor_cents, ceiling_cents = (int(x) for x in cents_bounds(uni.cal.uit[anio])[3])
    parts = []
    for d in deps:
        outside = f & ~uni.vraem & (dept == int(d))
        large = np.flatnonzero(outside & (uni.estrato == 3))
        parts.append(
            (
                float(vab_year[d]),
                float(cents[f & uni.vraem & (dept == int(d))].sum()),
                float(cents[outside].sum() - cents[large].sum()),
                large,
            )
        )
    if not any(len(g) for *_, g in parts):
        raise ValueError(f"{anio}: no hay empresas grandes fuera del territorio en sus departamentos")

    def valor(lam: float) -> float:
        total = 0.0
        for v, st, fixed, g in parts:
            other_ones = fixed + float(np.clip(lam * cents[g], floor_cents, ceiling_cents).sum())
            total += v * st / (st + other_ones) if st + other_ones else 0.0
        return total

    meta = float(target)
    exact = True
    lo, hi = -40.0, 40.0  # log λ: every large firm at the floor … at the ceiling
    minimum, max_value = valor(np.exp(hi)), valor(np.exp(lo))
    if not minimum <= meta <= max_value:
        msg = (
            f"{anio}: PBI del territorio {meta / 1000:,.1f} M inalcanzable con las ventas de las empresas "
            f"grandes fuera del territorio ({minimum / 1000:,.1f}–{max_value / 1000:,.1f} M; semilla {uni.seed}, "
            f"escala {uni.cal.scale_name})"
        )
        if anio == pub_year and uni.cal.scale_name not in UNGUARANTEED_SCALES:
            raise ValueError(msg)
        if anio == pub_year:
            warnings.warn(msg + ": se usa el valor alcanzable más cercano; la conciliación lo mostrará", stacklevel=2)
        meta, exact = min(max(meta, minimum), max_value), False
    for _ in range(200):
        mid = (lo + hi) / 2
        if valor(np.exp(mid)) > meta:
            lo = mid
        else:
            hi = mid
    lam = np.exp((lo + hi) / 2)
    for *_, g in parts:
        cents[g] = np.clip(np.round(lam * cents[g]), floor_cents, ceiling_cents).astype(np.int64)
    if anio == pub_year and exact:
        v = territory_value(vab_year, share_values(uni, anio, cents))
        decimal_places = max(0, -value_pub.as_tuple().exponent)
        pct = v / departmental_vab()[1][anio] * 100
        if not (
            rounds_to(v / 1000, value_pub, decimal_places)
            and rounds_to(pct, pct_pub, max(0, -pct_pub.as_tuple().exponent))
        ):
            raise AssertionError(
                f"{anio}: PBI del territorio {float(v) / 1000:,.3f} M ({float(pct):.3f} %) no redondea a lo publicado"
            )
