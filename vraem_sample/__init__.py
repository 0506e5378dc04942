"""Synthetic source files in the real formats, calibrated to the published edition
(docs/settings-and-cli.md#command-line, docs/methodology/README.md#published-edition).

``write_sample`` is what ``vraem sample-data`` runs: the SUNAT firm files (Padrón RUC cuts and declared
sales, :mod:`.padron`, :mod:`.ventas`, targets from :mod:`.calibration`), the SUNAT customs export files of
2021–2024 (:mod:`.aduanas`, exporters taken from the same firm population), INEI's real departmental GDP
workbook (:mod:`.pbi`: copied as published; the firms' sales are calibrated so that its allocation lands on
the report) and, when that generator is present, the INEI ENAHO files (:mod:`.enaho`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from . import enaho
from .aduanas import write_aduanas
from .calibration import CALIBRATION_SCALE, calibrate
from .credito import write_credito
from .padron import REAL_CUT_LINES, Universe, build_universe, write_padron
from .pbi import write_pbi
from .ventas import write_ventas

#: Month of the superseded mid-year cut written next to the December cut of the published year.
SUPERSEDED_CUT_MONTH = 6


def write_empresas(
    out_dir: Path,
    seed: int = 2024,
    scale: str = "national",
    years: Iterable[int] = range(2019, 2025),
    progress: Callable[[str, float], None] | None = None,
    built_universe: Universe | None = None,
) -> list[Path]:
    """Write the SUNAT firm files of ``years`` under ``out_dir`` (the raw folder); returns their paths.

    ``progreso(etapa, segundos)`` is called after the population is built and after each year, so that a
    benchmark can time the stages without re-implementing the loop. The superseded June cut of the
    published year is written after its December cut and given a newer modification time: a reader that
    picks the newest file instead of the latest AAAAMM gets it wrong.

    ``scale="real"`` is the national sample (same calibration, population, dirt and ventas files) with
    each December cut padded to SUNAT's real number of lines (``REAL_CUT_LINES``). The June cut stays
    national-size: it is never read (the refresh takes the latest AAAAMM), so padding it would only cost
    minutes and gigabytes.

    ``universo``: a population already built for this ``seed`` and ``scale`` (``write_sample`` builds it
    once and hands it to the export generator too); built here when not given.
    """
    anios = sorted(set(int(a) for a in years))
    out_dir = Path(out_dir)
    t0 = time.perf_counter()
    cal = calibrate(scale, anios)
    cut_lines = REAL_CUT_LINES if scale == "real" else {}
    if built_universe is not None and (built_universe.seed != seed or built_universe.cal.scale_name != cal.scale_name):
        raise ValueError("el universo dado no es el de esta semilla y escala")
    uni = built_universe if built_universe is not None else build_universe(cal, seed)
    if progress:
        progress("poblacion", time.perf_counter() - t0)
    paths: list[Path] = []
    # Sequential on purpose: writing a year's files on two threads was measured slower (2024: 29 s vs
    # 17 s at national scale), the deflate and the joins compete for the same two cores and memory bus.
    for anio in anios:
        t0 = time.perf_counter()
        december = write_padron(uni, out_dir, anio, 12, total_lines=cut_lines.get(anio))
        paths.append(december)
        if anio == cal.published_year:
            june = write_padron(uni, out_dir, anio, SUPERSEDED_CUT_MONTH)
            st = december.stat()
            os.utime(june, (st.st_atime + 3600, st.st_mtime + 3600))
            paths.append(june)
        paths.append(write_ventas(uni, out_dir, anio))
        if progress:
            progress(str(anio), time.perf_counter() - t0)
    return paths


def write_sample(
    out_dir: Path, seed: int = 2024, scale: str = "national", years: Iterable[int] = range(2019, 2025)
) -> list[Path]:
    """Write every synthetic source file for ``years`` under ``out_dir`` (the folder ``VRAEM_RAW_DIR``
    points to: ``out_dir/sunat/padron/<año>/…``, ``out_dir/aduanas/<año>/…``, ``out_dir/inei/vab/…``);
    deterministic for a given ``seed`` and ``scale``.

    The ENAHO generator is another module, written separately: it is called when it exists, and its
    absence (only its absence) is not an error. A padded scale (``real``) only pads the Padrón: its ENAHO
    files are those of the scale it pads.
    """
    anios = list(years)
    uni = build_universe(calibrate(scale, sorted(set(int(a) for a in anios))), seed)
    paths = write_empresas(Path(out_dir), seed=seed, scale=scale, years=anios, built_universe=uni)
    paths.extend(write_aduanas(uni, Path(out_dir), anios))  # only the years of 2021–2024 asked for
    paths += write_credito(Path(out_dir), seed=seed, scale=scale, years=anios, built_universe=uni)
    paths.append(write_pbi(Path(out_dir)))  # INEI's real workbook: all years in one edition
    extra = enaho.write_enaho(Path(out_dir), years=anios, seed=seed, scale=CALIBRATION_SCALE.get(scale, scale))
    paths.extend(Path(p) for p in extra or [])
    return paths


__all__ = ["write_empresas", "write_sample"]
