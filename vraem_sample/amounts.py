"""Declared amounts in cents for the Ley 30056 strata: the draws the Padrón's planted RUCs and the sales file share.

A module of its own so that the population (`padron`) and the sales file (`ventas`) use one rule without
importing each other.
"""

from __future__ import annotations

import numpy as np

#: Bands of the Ley 30056 strata in UIT (upper bounds inclusive; "grande" is open above, capped here at
#: 2 million UIT ≈ S/ 10 billion, the order of Peru's largest firms).
UIT_BANDS = ((0.0, 150.0), (150.0, 1700.0), (1700.0, 2300.0), (2300.0, 2_000_000.0))
#: Smallest declared amount of a micro firm, soles.
MIN_SALE = 300.0
#: Micro firms: log-logistic sales (median soles, shape), truncated to the band. VRAEM firms are smaller.
MICRO_MEDIAN = {True: 14_000.0, False: 22_000.0}
MICRO_SHAPE = 1.4
#: Bounded-Pareto tail index of the small and large bands (most firms near the lower edge).
ALPHA_SMALL = 1.3
ALPHA_LARGE = 1.1
#: Yearly noise of a firm's position inside its band.
POSITION_NOISE = 0.05


def _loglogistic(u: np.ndarray, median: float, shape: float, lo: float, hi: float) -> np.ndarray:
    """Quantile of a log-logistic truncated to [lo, hi]: closed form, no scipy needed."""
    f_lo = 1.0 / (1.0 + (lo / median) ** -shape)
    f_hi = 1.0 / (1.0 + (hi / median) ** -shape)
    q = f_lo + u * (f_hi - f_lo)
    return median * (q / (1.0 - q)) ** (1.0 / shape)


def _bounded_pareto(u: np.ndarray, lo: float, hi: float, alpha: float) -> np.ndarray:
    """Quantile of a Pareto truncated to [lo, hi]."""
    return lo * (1.0 - u * (1.0 - (lo / hi) ** alpha)) ** (-1.0 / alpha)


def cents_bounds(uit: int) -> np.ndarray:
    """(4, 2) array: smallest and largest cents of each stratum for a year's UIT (bounds inclusive)."""
    lim = np.empty((4, 2), dtype=np.int64)
    for i, (a, b) in enumerate(UIT_BANDS):
        lim[i, 0] = int(round(MIN_SALE * 100)) if i == 0 else int(round(a * uit * 100)) + 1
        lim[i, 1] = int(round(b * uit * 100))
    return lim


def cents_by_stratum(estrato: np.ndarray, u: np.ndarray, uit: int, vraem: np.ndarray) -> np.ndarray:
    """Sales in cents for stratum codes 0–3 at band positions ``u`` ∈ (0, 1), within the year's bands."""
    soles = np.empty(len(estrato), dtype=float)
    for i, (a, b) in enumerate(UIT_BANDS):
        m = estrato == i
        if not m.any():
            continue
        lo, hi = a * uit, b * uit
        if i == 0:
            for seg in (True, False):
                mm = m & (vraem == seg)
                soles[mm] = _loglogistic(u[mm], MICRO_MEDIAN[seg], MICRO_SHAPE, MIN_SALE, hi)
        elif i == 1:
            soles[m] = _bounded_pareto(u[m], lo, hi, ALPHA_SMALL)
        elif i == 2:
            soles[m] = lo + u[m] * (hi - lo)
        else:
            soles[m] = _bounded_pareto(u[m], lo, hi, ALPHA_LARGE)
    cents = np.round(soles * 100).astype(np.int64)
    lim = cents_bounds(uit)
    return np.clip(cents, lim[estrato, 0], lim[estrato, 1])


def loose_amounts(rng: np.random.Generator, uit: int, k: int) -> np.ndarray:
    """Cents of ``k`` micro-sized amounts, for planted and ventas-only RUCs."""
    return cents_by_stratum(np.zeros(k, dtype=np.int8), rng.random(k), uit, np.zeros(k, dtype=bool))


def loose_amount(rng: np.random.Generator, uit: int) -> int:
    """Cents of one micro-sized amount."""
    return int(loose_amounts(rng, uit, 1)[0])
