"""Generate national-scale synthetic ENAHO files and check that the employment indicators land on the published
figures (at the rounding the report prints them), with timings.

    uv run python benchmarks/enaho_calibration.py [--seed N] [--keep DIR]

Runs the same path as the pipeline: find → read → validate (pandera, rejected rows dropped) → rebuild `ocupinf`
→ indicators. The targets are read from vraem_pipeline/reference/publicado_vraem_2024.csv. Exit status 1 if
any figure misses.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from vraem_pipeline.core.references import load_territory, territory_departments
from vraem_pipeline.empleo.estimates import compute_employment, rebuild_validation
from vraem_pipeline.empleo.informality import INPUTS_M400, PERSON_KEY, add_rebuilt_flag
from vraem_pipeline.empleo.schema import COLUMNS_M500, OPTIONAL_M500, schema_for_year
from vraem_pipeline.sources.enaho import find_module_file, read_module
from vraem_sample.calibration import read_published
from vraem_sample.enaho import write_enaho

YEARS = range(2019, 2025)


def stage_year(raw: Path, year: int) -> tuple[pd.DataFrame, int]:
    """One year of staging.enaho_personas: accepted module-500 rows plus the rebuilt flag; and the rejected count."""
    year_dir = raw / "enaho" / str(year)
    m500 = read_module(find_module_file(year_dir, year, "500"), year, "500", COLUMNS_M500, optional=OPTIONAL_M500)
    m400 = read_module(find_module_file(year_dir, year, "400"), year, "400", PERSON_KEY + INPUTS_M400)
    schema = schema_for_year(year)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            valid = schema.validate(m500, lazy=True)
            rejected = 0
        except pa.errors.SchemaErrors as errors:
            bad = errors.failure_cases["index"].dropna().unique()
            valid = schema.validate(m500.drop(index=bad), lazy=True)
            rejected = len(bad)
    return add_rebuilt_flag(valid, m400), rejected


def published_checks(tables) -> list[tuple[str, str, float, bool]]:
    """(figure, published text, computed, lands) for every employment figure of the published edition."""
    published = read_published()
    published = published[published["indicador"].str.startswith("empleo_")]
    figures = tables.indicadores.set_index(["anio", "indicador"])["valor"]
    rows = []
    for _, row in published.iterrows():
        key = (int(row["anio"]), row["indicador"])
        computed = float(figures.get(key, float("nan")))
        target = Decimal(row["valor"])
        if "redondeado" in row["texto_publicado"]:
            # "2.4 millones", "8 de cada 10": one significant figure of the printed wording.
            lands = _rounded_like(computed, target)
        else:
            decimals = max(0, -target.as_tuple().exponent)
            lands = round(computed, decimals) == float(target)
        rows.append((f"{key[1]} {key[0]}", f"{row['valor']} ({row['texto_publicado'][:60]})", computed, lands))
    return rows


def _rounded_like(computed: float, target: Decimal) -> bool:
    """Round to the target's last significant digit: 2400000 → to 100,000; 80 → to 10."""
    unit = Decimal(1).scaleb(target.normalize().as_tuple().exponent)
    return Decimal(str(computed)).quantize(unit, rounding="ROUND_HALF_EVEN") == target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=20240)
    parser.add_argument("--keep", type=Path, help="write the files here instead of a temporary folder")
    args = parser.parse_args()
    departments = territory_departments(load_territory())  # the shipped VRAEM list (contract §1)
    print(f"territorio VRAEM → departamentos {departments}")

    with tempfile.TemporaryDirectory(prefix="enaho_bench_") as tmp:
        raw = args.keep or Path(tmp)
        staged, timings = [], []
        for year in YEARS:
            start = time.perf_counter()
            paths = write_enaho(raw, years=[year], seed=args.seed, scale="national", departments=departments)
            generated = time.perf_counter() - start
            frame, rejected = stage_year(raw, year)
            staged.append(frame)
            timings.append((year, generated, time.perf_counter() - start - generated, len(frame), rejected, paths))
        persons = pd.concat(staged, ignore_index=True)
        start = time.perf_counter()
        tables = compute_employment(persons, departments)
        computed_in = time.perf_counter() - start
        validation = rebuild_validation(persons, departments)

    print("\naño  generar_s  leer+validar+reconstruir_s  filas_aceptadas  rechazadas  archivos")
    for year, gen, stage, rows, rejected, paths in timings:
        print(f"{year}  {gen:9.2f}  {stage:26.2f}  {rows:15,d}  {rejected:10d}  {', '.join(p.name for p in paths)}")
    print(f"indicadores (6 años, con CV): {computed_in:.2f} s")

    print("\nempleo_evolucion\n", tables.evolucion.to_string(index=False))
    print("\nempleo_por_tipo\n", tables.by_kind_table.to_string(index=False))
    print("\nempleo_por_sexo\n", tables.by_sex_table.to_string(index=False))
    print("\nfuente de la informalidad\n", tables.informality_source.to_string(index=False))
    print("\nreconstrucción vs ocupinf oficial\n", validation.to_string(index=False))
    key = tables.indicadores[tables.indicadores["anio"] == 2024][["indicador", "valor", "cv_pct", "referencial"]]
    print("\nindicadores_clave 2024\n", key.to_string(index=False))

    print("\ncifra publicada vs calculada")
    misses = 0
    for name, target, computed, lands in published_checks(tables):
        misses += not lands
        print(f"  {'OK ' if lands else 'NO '} {name:42s} publicado {target:75s} calculado {computed:,.4f}")
    print("todas las cifras coinciden al redondeo publicado" if not misses else f"{misses} cifras no coinciden")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
